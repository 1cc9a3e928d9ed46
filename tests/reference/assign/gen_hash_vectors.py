#!/usr/bin/env python3
"""Independent reference for causeway::assign hashing (src/assign/hash.h).

Re-implements GrowthBook's hash (packages/sdk-js/src/util.ts, hashFnv32a and
hash) from its definition, in Python, with no code shared with the C++ engine:
  fnv1a32(s):  h = 0x811c9dc5; for each UTF-16 code unit u of s:
               h = ((h ^ u) * 0x01000193) mod 2^32
  v1: (fnv1a32(value + seed) % 1000) / 1000
  v2: (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
  namespace: v1 hash with seed "__" + namespace id
Strings are hashed as UTF-16 code units, as GrowthBook's JavaScript SDK does
(`hval ^= str.charCodeAt(i)`): Python's "utf-16-le" codec gives the units, an
implementation independent of Causeway's UTF-8 decoder. For ASCII a unit is the
byte. (An earlier version hashed UTF-8 bytes, which disagreed with the SDK on
non-ASCII strings; the vectors were regenerated with this definition.)
growthbook_sdk_unicode.json has the SDK's own values for non-ASCII input.

Writes hash_vectors.json next to this script. Deterministic: rerunning it must
produce an identical file.
  python3 tests/reference/assign/gen_hash_vectors.py
"""
import json
import os
import random


def utf16_units(s: str):
    data = s.encode("utf-16-le")
    return [data[i] | (data[i + 1] << 8) for i in range(0, len(data), 2)]


def fnv1a32(s: str) -> int:
    h = 0x811C9DC5
    for u in utf16_units(s):
        h ^= u
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def gb_hash(seed: str, value: str, version: int):
    if version == 2:
        inner = fnv1a32(seed + value)
        return (fnv1a32(str(inner)) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def main():
    rng = random.Random(20261123)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@"
    seeds = ["", "a", "seed", "checkout-button", "exp_2026_pricing", "x" * 100, "实验-种子"]
    values = ["", "1", "user-42", "a@b.example", "9f86d081-884c-4d3c-9d4f-6a1b2c3d4e5f",
              "ÄÖÜ-ユーザー", "y" * 257]
    for _ in range(40):
        n = rng.randint(1, 40)
        values.append("".join(rng.choice(alphabet) for _ in range(n)))
    # Non-ASCII after the random ones, so the ASCII vectors above stay as they were.
    unicode_values = ["用户42", "usuário-7-ñ", "😀-user", "\ufeffbom", "ｆｕｌｌ"]
    values += unicode_values

    fnv = []
    for s in ["", "a", "foobar", "ÄÖÜ"] + values[:20] + unicode_values:
        fnv.append({"input": s, "fnv1a32": fnv1a32(s)})

    hashes = []
    for seed in seeds:
        for value in values:
            for version in (1, 2, 3):
                hashes.append({"seed": seed, "value": value, "version": version,
                               "hash": gb_hash(seed, value, version)})

    namespaces = []
    for ns in ["pricing", "ns-a", "", "命名空间"]:
        for value in values[:25] + unicode_values:
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
