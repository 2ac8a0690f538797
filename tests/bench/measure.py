#!/usr/bin/python3
"""Runs a command N times through the small C runner tests/bench/spawn.c
(built on first use) and prints one line:
   <name> <median ms> <p90 ms> <peak RSS KiB>
Usage: measure.py NAME RUNS STDIN-FILE|- CMD [ARGS...]"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def runner():
    out = os.path.join(ROOT, "build", "bench-spawn")
    src = os.path.join(HERE, "spawn.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.check_call(["cc", "-O2", "-std=c11", "-D_DEFAULT_SOURCE",
                               "-Wall", "-Werror", "-o", out, src])
    return out


def main():
    name, runs, stdin_path, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    r = subprocess.run([runner(), runs, stdin_path] + argv,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"measure: {name}: {r.stderr.strip()}")
    print(f"{name} {r.stdout.strip()}")


if __name__ == "__main__":
    main()
