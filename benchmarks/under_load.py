"""Counts on a busy machine: python benchmarks/under_load.py [NET ...] [--runs N]

Times ``count_regions`` on nets of the standard suite (``benchmarks/nets.py``), each run in a
fresh process (``bench_suite.py``'s method: import, warm-up, then the timed call), alternating
a quiet run with a run while one competing CPU-bound process (a Python busy loop) holds a core.
Prints per net the median seconds of each and their ratio, the slowdown; on two cores the
competitor takes half the machine, so a fair share is a slowdown of at most 2 (the project's
target: at most 2.5). Writes ``results/under_load.md``. Run by hand, not in tests.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_file import write_run  # beside this script

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT = ["r2_small", "r2_mid", "r2_big", "r2_wide", "r3_small", "r4_small", "r1_deep", "digits_plane"]
BUSY = "while True: pass"


def timed(net: str) -> float:
    """Seconds of one count of ``net`` in a fresh process."""
    out = subprocess.run([sys.executable, str(HERE / "bench_suite.py"), "--one", net, "count"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nets", nargs="*", default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind per net (default 5)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_suite import ensure_suite
    ensure_suite()
    rows = []
    print(f"{'net':14s} {'quiet s':>8s} {'loaded s':>9s} {'slowdown':>9s}")
    for net in args.nets:
        quiet, loaded = [], []
        for _ in range(args.runs):
            quiet.append(timed(net))
            rival = subprocess.Popen([sys.executable, "-c", BUSY])
            try:
                time.sleep(0.5)  # let it settle on a core
                loaded.append(timed(net))
            finally:
                rival.kill()
                rival.wait()
        q, b = statistics.median(quiet), statistics.median(loaded)
        rows.append((net, q, b, b / q, quiet, loaded))
        print(f"{net:14s} {q:8.3f} {b:9.3f} {b / q:9.2f}", flush=True)
    lines = ["# Counts with and without a competing CPU-bound process", "",
             f"`python benchmarks/under_load.py` ({args.runs} runs of each kind per net, fresh processes, "
             "alternating quiet and loaded; medians).", "",
             "| net | quiet s | loaded s | slowdown | quiet runs | loaded runs |", "|---|---|---|---|---|---|"]
    for net, q, b, r, qs, bs in rows:
        lines.append(f"| {net} | {q:.3f} | {b:.3f} | {r:.2f} | {' '.join(f'{x:.3f}' for x in qs)} | "
                     f"{' '.join(f'{x:.3f}' for x in bs)} |")
    write_run(RESULTS / "under_load.md", lines)


if __name__ == "__main__":
    main()
