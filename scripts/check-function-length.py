#!/usr/bin/env python3
"""Fails when a function or lambda body in api/ or cli/ is longer than 60 lines.

The HTTP layer only decodes, calls and encodes (docs/architecture.md); a long body
there is a rule that belongs in src/app/ or a reader that belongs in src/io/. A body
is counted from the line of its opening brace to the line of its closing brace.
Strings, characters and comments are blanked before braces are matched.
Prints each long body; "functions: N passed, M failed".
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ("api", "cli")
LIMIT = 60
CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\b\s*(\(.*\))?\s*$")


def blank(text):
    """Replaces comments, strings and char literals by spaces, keeping newlines."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_bodies(path):
    with open(path, encoding="utf-8") as f:
        text = blank(f.read())
    stack, found, count = [], [], 0
    line = 1
    for i, c in enumerate(text):
        if c == "\n":
            line += 1
        elif c == "{":
            head = text[text.rfind("\n", 0, i) + 1 : i].rstrip()
            before = text[max(0, i - 400) : i].rstrip()
            is_function = before.endswith((")", "const", "override", "noexcept", "mutable")) or (
                re.search(r"\)\s*->\s*[\w:<>, ]+$", before) is not None
            )
            is_function = is_function and not CONTROL.search(head.strip())
            stack.append((line, is_function, head.strip()))
        elif c == "}" and stack:
            start, is_function, head = stack.pop()
            count += is_function
            if is_function and line - start + 1 > LIMIT:
                found.append((start, line - start + 1, head))
    return found, count


def main():
    failures, bodies = 0, 0
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for name in sorted(files):
                if not name.endswith(".cc"):
                    continue
                path = os.path.join(dirpath, name)
                found, count = long_bodies(path)
                bodies += count
                for start, length, head in found:
                    failures += 1
                    rel = os.path.relpath(path, ROOT)
                    print(f"{rel}:{start}: {length} lines (limit {LIMIT}): {head[:80]}")
    print(f"functions: {bodies - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
