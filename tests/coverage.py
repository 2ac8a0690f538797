#!/usr/bin/python3
"""Prints line and branch coverage per folder of the program from the .gcda
files of an instrumented build (make coverage).

    tests/coverage.py BUILD_DIR [--files] [--unit]

gcovr (Debian package gcovr) runs gcov on every object; a folder's figures
count only the files directly in it (plugin/ is plugin/*.c, not
plugin/verify/); "plugin/**" adds up plugin/ and every folder under it.
--files also lists each file, fewest covered lines first. Branches are
gcov's, without those on lines that hold no code (compiler-made). Without
--unit (figures of the unit tests alone), a run in which the program
itself never ran is an error: the tests ran another binary."""
import json
import os
import subprocess
import sys
import tempfile

FOLDERS = ["plugin", "plugin/common", "plugin/verify", "plugin/envelope",
           "plugin/cli", "pkcs11", "kms"]


def gcovr_summary(build):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "summary.json")
        subprocess.run(["gcovr", "--root", ".", "--filter", r"(plugin|pkcs11|kms)/",
                        "--exclude-unreachable-branches", "-j", "2",
                        "--json-summary", out, build], check=True)
        with open(out) as f:
            return json.load(f)["files"]


def pct(covered, total):
    return f"{100.0 * covered / total:5.1f}%" if total else "     -"


def row(name, files):
    lt = sum(f["line_total"] for f in files)
    lc = sum(f["line_covered"] for f in files)
    bt = sum(f["branch_total"] for f in files)
    bc = sum(f["branch_covered"] for f in files)
    return (f"| {name:<16} | {len(files):>5} | {lc:>5}/{lt:<5} | {pct(lc, lt)} "
            f"| {bc:>5}/{bt:<5} | {pct(bc, bt)} |")


def main():
    if len(sys.argv) < 2 or not os.path.isdir(sys.argv[1]):
        print("usage: tests/coverage.py BUILD_DIR [--files] [--unit]", file=sys.stderr)
        return 2
    files = gcovr_summary(sys.argv[1])
    if not files:
        print("coverage: gcovr found no data (no .gcda files?)", file=sys.stderr)
        return 1
    # main() runs only in the program: no count there means the tests ran
    # another binary than the instrumented one.
    main_c = [f for f in files if f["filename"] == "plugin/main.c"]
    if "--unit" not in sys.argv[2:] and (not main_c or main_c[0]["line_covered"] == 0):
        print(f"coverage: plugin/main.c never ran: the tests did not run "
              f"{sys.argv[1]}/notation-keystore", file=sys.stderr)
        return 1
    by_dir = {}
    for f in files:
        by_dir.setdefault(os.path.dirname(f["filename"]), []).append(f)
    unknown = sorted(set(by_dir) - set(FOLDERS))
    print("| folder           | files |       lines |        |    branches |        |")
    print("|------------------|------:|------------:|-------:|------------:|-------:|")
    for d in FOLDERS + unknown:
        print(row(d + "/", by_dir.get(d, [])))
    print(row("plugin/**", [f for f in files if f["filename"].startswith("plugin/")]))
    print(row("total", files))
    if "--files" in sys.argv[2:]:
        print()
        for f in sorted(files, key=lambda f: f["line_covered"] - f["line_total"]):
            print(f"{f['filename']:<34} lines {f['line_covered']:>4}/{f['line_total']:<4} "
                  f"{pct(f['line_covered'], f['line_total'])}  branches "
                  f"{pct(f['branch_covered'], f['branch_total'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
