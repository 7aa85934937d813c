#!/usr/bin/env python3
"""install.getting_started_excerpts: every cpp, cmake, js and html block of docs/getting-started.md is a
verbatim excerpt of a file of examples/starter (which install.starter builds and runs), so the guide
cannot drift from the code. Shell blocks and untagged blocks (commands, layouts) are not code excerpts.

Usage: excerpts_test.py --source-dir SRC
"""
import argparse
import pathlib
import re
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", type=pathlib.Path, required=True)
    args = parser.parse_args()
    doc = (args.source_dir / "docs/getting-started.md").read_text()
    starter = args.source_dir / "examples/starter"
    files = {p: p.read_text() for p in starter.rglob("*") if p.is_file()}
    blocks = re.findall(r"^```(cpp|cmake|js|html)\n(.*?)^```$", doc, re.M | re.S)
    if len(blocks) < 3:
        print(f"FAIL: docs/getting-started.md has {len(blocks)} code excerpts; expected the starter's", file=sys.stderr)
        return 1
    failed = 0
    for language, block in blocks:
        if not any(block in text for text in files.values()):
            print(f"FAIL: this {language} block of docs/getting-started.md is not in examples/starter:\n{block}",
                  file=sys.stderr)
            failed += 1
    if failed:
        return 1
    print(f"PASS: {len(blocks)} excerpts, each verbatim in examples/starter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
