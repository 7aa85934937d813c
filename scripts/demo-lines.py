#!/usr/bin/env python3
"""Counts the demo's user code the way docs/demo.md states it (issue 15's measure).

Code lines = non-blank lines that are not only a comment, in examples/posts/app.cpp as clang-formatted
(ColumnLimit 110). "handlers" = from the `igniter::procedure(` line (the auth procedure) through the end
of the `realtime().scopes(...)` statement: the auth procedure, the five controllers with their
registration, and the scopes fn. "declarations" = the anonymous namespace before them (described
structs and helpers).

Usage: scripts/demo-lines.py [app.cpp] [--max N]   (exit 1 when handlers > N)
"""
import re
import sys


def code_lines(lines):
    count, in_block = 0, False
    for line in lines:
        s = line.strip()
        if in_block:
            in_block = "*/" not in s
            continue
        if not s or s.startswith("//"):
            continue
        if s.startswith("/*"):
            in_block = "*/" not in s
            continue
        count += 1
    return count


def main(argv):
    path = "examples/posts/app.cpp"
    limit = None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--max":
            limit = int(args.pop(0))
        else:
            path = a
    lines = open(path, encoding="utf-8").read().split("\n")
    first = next(i for i, l in enumerate(lines) if "igniter::procedure(" in l)
    scopes = next(i for i in range(first, len(lines)) if re.search(r"realtime\(\)\.scopes\(", lines[i]))
    last = next(i for i in range(scopes, len(lines)) if re.match(r"^  \}\);", lines[i]))
    ns_start = next(i for i, l in enumerate(lines) if l.startswith("namespace {"))
    ns_end = next(i for i, l in enumerate(lines) if l.startswith("}  // namespace") and i > ns_start)
    structs = 0
    i = ns_start
    while i < ns_end:
        if re.match(r"^struct \w+ \{", lines[i]):
            j = i
            while not lines[j].startswith("BOOST_DESCRIBE_STRUCT"):
                j += 1
            structs += code_lines(lines[i : j + 1])
            i = j
        i += 1
    handlers = code_lines(lines[first : last + 1])
    declarations = code_lines(lines[ns_start + 1 : ns_end])
    print(f"handlers (auth procedure + 5 controllers + scopes fn): {handlers}")
    print(f"described structs: {structs}")
    print(f"other declarations (helpers, usings): {declarations - structs}")
    print(f"handlers + structs: {handlers + structs}")
    if limit is not None and handlers > limit:
        print(f"FAIL: {handlers} lines > {limit}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
