#!/usr/bin/env python3
"""Checks the include structure that docs/architecture.md describes.

1. Every project include of a file in a layer folder names a folder that the
   layer's row of the table in docs/architecture.md allows (column "may include").
2. No include circle: with foo.h and foo.cc read as one unit (as a reader sees
   them), the graph of units has no cycle.

Prints each violation and exits 1 on any; prints "layers: N passed, 0 failed".
Reads only the repository.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_table():
    """{folder: set of folders it may include} from docs/architecture.md."""
    rows = {}
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = None
    for line in lines:
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|- :"):
            continue
        if "may include" not in header:
            continue
        folder = re.findall(r"`([^`]+)`", cells[0])
        allowed = re.findall(r"`([^`]+)`", cells[header.index("may include")])
        if folder:
            rows[folder[0].rstrip("/")] = {a.rstrip("/") for a in allowed}
    return rows


def resolve(include, including_dir):
    """The repository path an include names, or None (system or generated)."""
    local = os.path.join(including_dir, include)
    if os.path.exists(os.path.join(ROOT, local)):
        return os.path.normpath(local)
    for base in ("", "src"):
        p = os.path.join(base, include)
        if os.path.exists(os.path.join(ROOT, p)):
            return os.path.normpath(p)
    return None


def layer_of(path, layers):
    best = None
    for folder in layers:
        if path == folder or path.startswith(folder + "/"):
            if best is None or len(folder) > len(best):
                best = folder
    return best


def main():
    layers = folder_table()
    if len(layers) < 5:
        print("layers: cannot read the folder table of docs/architecture.md")
        return 1
    failures = []
    edges = {}
    checked = 0
    for folder in sorted(layers):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            if "node_modules" in dirpath:
                continue
            for name in sorted(files):
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), ROOT)
                with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                    text = f.read()
                unit = os.path.splitext(path)[0]
                for inc in INCLUDE.findall(text):
                    target = resolve(inc, os.path.dirname(path))
                    if target is None:
                        continue
                    checked += 1
                    target_unit = os.path.splitext(target)[0]
                    if target_unit != unit:
                        edges.setdefault(unit, set()).add(target_unit)
                    mine, theirs = layer_of(path, layers), layer_of(target, layers)
                    if theirs is None or theirs == mine:
                        continue
                    if theirs not in layers[mine]:
                        failures.append(f"{path}: includes {inc} ({theirs}), which {mine} may not")
    failures += [f"include circle: {' -> '.join(c)}" for c in cycles(edges)]
    for f in failures:
        print(f)
    print(f"layers: {checked} includes in {len(layers)} folders checked")
    print(f"layers: {0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


def cycles(edges):
    """Strongly connected components with more than one unit (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
