#!/usr/bin/env python3
"""Independent reference for causeway::assign hashing (src/assign/hash.h).

Re-implements GrowthBook's hash (packages/sdk-js/src/util.ts, hashFnv32a and
hash) from its definition, in Python, with no code shared with the C++ engine:
  fnv1a32(s):  h = 0x811c9dc5; for each byte b: h = ((h ^ b) * 0x01000193) mod 2^32
  v1: (fnv1a32(value + seed) % 1000) / 1000
  v2: (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
  namespace: v1 hash with seed "__" + namespace id
Strings are hashed as UTF-8 bytes (Causeway's contract; equal to GrowthBook's
UTF-16 code units for ASCII input).

Writes hash_vectors.json next to this script. Deterministic: rerunning it must
produce an identical file.
  python3 tests/reference/assign/gen_hash_vectors.py
"""
import json
import os
import random


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def gb_hash(seed: str, value: str, version: int):
    if version == 2:
        inner = fnv1a32((seed + value).encode("utf-8"))
        return (fnv1a32(str(inner).encode("ascii")) % 10000) / 10000
    if version == 1:
        return (fnv1a32((value + seed).encode("utf-8")) % 1000) / 1000
    return None


def main():
    rng = random.Random(20261123)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@"
    seeds = ["", "a", "seed", "checkout-button", "exp_2026_pricing", "x" * 100]
    values = ["", "1", "user-42", "a@b.example", "9f86d081-884c-4d3c-9d4f-6a1b2c3d4e5f",
              "ÄÖÜ-ユーザー", "y" * 257]
    for _ in range(40):
        n = rng.randint(1, 40)
        values.append("".join(rng.choice(alphabet) for _ in range(n)))

    fnv = []
    for s in ["", "a", "foobar", "ÄÖÜ"] + values[:20]:
        fnv.append({"input": s, "fnv1a32": fnv1a32(s.encode("utf-8"))})

    hashes = []
    for seed in seeds:
        for value in values:
            for version in (1, 2, 3):
                hashes.append({"seed": seed, "value": value, "version": version,
                               "hash": gb_hash(seed, value, version)})

    namespaces = []
    for ns in ["pricing", "ns-a", ""]:
        for value in values[:25]:
            namespaces.append({"user": value, "namespace": ns,
                               "hash": gb_hash("__" + ns, value, 1)})

    out = {
        "generator": "tests/reference/assign/gen_hash_vectors.py",
        "fnv1a32": fnv,
        "hash": hashes,
        "namespace_hash": namespaces,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hash_vectors.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
