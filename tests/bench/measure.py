#!/usr/bin/python3
"""Runs a command N times and prints one line:
   <name> <median ms> <p90 ms> <peak RSS KiB>
Wall time per run from a monotonic clock around fork/exec/wait; peak RSS
from wait4's rusage of that child. Usage:
   measure.py NAME RUNS STDIN-FILE|- CMD [ARGS...]"""
import os
import statistics
import sys
import time


def run_once(argv, stdin_path):
    fd_in = os.open(stdin_path if stdin_path != "-" else os.devnull, os.O_RDONLY)
    fd_null = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(fd_in, 0)
        os.dup2(fd_null, 1)
        os.dup2(fd_null, 2)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    ms = (time.perf_counter() - t0) * 1000.0
    os.close(fd_in)
    os.close(fd_null)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"measure: {' '.join(argv)} failed with status {status}")
    return ms, ru.ru_maxrss


def main():
    name, runs, stdin_path, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    run_once(argv, stdin_path)  # warm the page cache
    times, rss = [], 0
    for _ in range(runs):
        ms, kb = run_once(argv, stdin_path)
        times.append(ms)
        rss = max(rss, kb)
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"{name} {statistics.median(times):.2f} {p90:.2f} {rss}")


if __name__ == "__main__":
    main()
