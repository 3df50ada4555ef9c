"""Speed and memory on the standard suite: python benchmarks/bench_suite.py [NET ...]

Writes the suite with ``benchmarks/nets.py`` into benchmarks/nets/ if it is not there, then runs
every net in a fresh process (so peak memory is the net's own) and prints, per net and mode:
regions, seconds, regions per second, peak resident memory, the memory after import and warm-up
(the baseline the count-only path adds to), how many signs each stage decided (the float64
filter, exact zeros, float64 expansions, exact arithmetic: README, "Exactness"), and the timed
call's system time and minor page faults; with ``--workers``, also the largest worker process's
peak. Modes: ``count`` (count_regions, frontier only) and ``enumerate`` (enumerate_regions, full
geometry); ``graph``, ``faces``, ``linear``, ``decision``, ``range``, ``lipschitz`` and
``certify`` time that analysis of an enumerated result (the enumeration's own time in its
column). Run by hand, not in tests.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nets import DEFAULT_DIR as NETS, SUITE as RANDOM_NETS, write_suite  # noqa: E402

SUITE = [*RANDOM_NETS, "digits_plane"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(name: str, mode: str, workers: int = 1) -> dict:
    """Time one net in this process; returns the figures as a dict."""
    import numpy as np
    import regionenum as re

    from regionenum.engine.cells import CellSet
    from regionenum.engine.polytope_step import SHARE_FROM

    # two hidden layers wide enough that siblings share blocks of the next layer's rows
    # (SHARE_FROM units), so that every kernel (first layer, later layers' masked rows and their
    # siblings' own terms, the output's dot products) is loaded
    rng = np.random.default_rng(0)
    w = SHARE_FROM
    warm_net = re.Network.from_layers([(rng.normal(size=(w, 2)), rng.normal(size=w)),
                                       (rng.normal(size=(w, w)) / np.sqrt(w), rng.normal(size=w)),
                                       (np.ones((1, w)), np.zeros(1))])
    line = re.Slice([0, 0], [[1], [1]], re.Box([-1], [1]))  # one input
    re.count_regions(warm_net, re.Box([-1, -1], [1, 1]))
    re.count_regions(warm_net, line)
    re.enumerate_regions(warm_net, line)  # the general step's kernels on one input (for rows of two)
    warm = re.enumerate_regions(warm_net, re.Box([-1, -1], [1, 1]))
    # results of GATHER_FROM bytes of cells and more are gathered block by block, smaller ones
    # taken in one pass: the warm-up's (0.6 MB) loads the second, this the first (a larger
    # warm-up result would raise the smallest nets' peak memory)
    CellSet.gather([warm.complex.cells.run(0, len(warm))], np.arange(len(warm)))
    if mode in ANALYSES:
        ANALYSES[mode](warm)
    baseline = _rss_mb()
    net, box = re.load(NETS / f"{name}.npz")
    before, start = _system_usage(), time.perf_counter()
    if mode == "count":
        found = re.count_regions(net, box, workers=workers)
        n = int(found)
    else:
        found = re.enumerate_regions(net, box, workers=workers)
        n = len(found)
    seconds = time.perf_counter() - start
    enumerate_s = seconds
    if mode in ANALYSES:
        before, start = _system_usage(), time.perf_counter()
        analysed = ANALYSES[mode](found)  # held while timed: freeing a large graph is not the call's
        seconds = time.perf_counter() - start
        del analysed
    system_s, page_faults = np.subtract(_system_usage(), before)
    workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return dict(net=name, mode=mode, regions=n, seconds=seconds, regions_per_s=n / seconds,
                peak_mb=_rss_mb(), baseline_mb=baseline, signs=list(found.sign_stages.values()),
                enumerate_s=enumerate_s, worker_peak_mb=workers_mb, system_s=float(system_s),
                page_faults=int(page_faults))


def _system_usage() -> tuple:
    """This process's system time so far (seconds) and minor page faults: the timed call's share
    is mostly pages touched for the first time (a few microseconds each on a virtual machine),
    which an enumeration's kept cells and their gathering into pattern order cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_stime, usage.ru_minflt


#: Analyses timed on an enumerated result (their seconds exclude the enumeration).
ANALYSES = {
    "graph": lambda r: r.adjacency_graph(),
    "faces": lambda r: r.faces(),
    "linear": lambda r: r.linear_regions(),
    "decision": lambda r: r.decision_regions(),  # classifiers only: fails clearly otherwise
    "range": lambda r: _regionenum().verify.output_range(r),
    "lipschitz": lambda r: _regionenum().verify.lipschitz(r, norm=np.inf),
    "certify": lambda r: _regionenum().certify(r),
    "level": lambda r: r.level_set(0.0),  # bounded domains: the first output's zero level
    "statistics": lambda r: r.statistics(),
}


def _regionenum():
    """The package, imported when a run needs it (so that the baseline memory includes it)."""
    import regionenum
    return regionenum


def ensure_suite() -> None:
    """Write the standard suite into ``benchmarks/nets/`` unless it is there."""
    if not (NETS / "digits_plane.npz").exists():
        write_suite(NETS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nets", nargs="*", default=SUITE)
    parser.add_argument("--modes", nargs="+", default=["count", "enumerate"],
                        choices=["count", "enumerate", *ANALYSES])
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1: serial)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--one", nargs=2, metavar=("NET", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one, workers=args.workers)))
        return
    ensure_suite()
    rows = []
    print(f"{'net':14s} {'mode':9s} {'regions':>9s} {'seconds':>8s} {'regions/s':>10s} "
          f"{'peak MB':>8s} {'base MB':>8s} {'filter':>11s} {'zeros':>6s} {'expans.':>7s} {'exact':>6s} "
          f"{'enum s':>7s} {'sys s':>6s} {'faults':>8s}"
          + (f" {'worker MB':>9s}" if args.workers > 1 else ""))
    for name in args.nets:
        for mode in args.modes:
            out = subprocess.run([sys.executable, __file__, "--one", name, mode, "--workers", str(args.workers)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{name:14s} {mode:9s} failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(out.stdout)
            rows.append(r)
            print(f"{name:14s} {mode:9s} {r['regions']:9d} {r['seconds']:8.3f} "
                  f"{r['regions_per_s']:10.0f} {r['peak_mb']:8.0f} {r['baseline_mb']:8.0f} "
                  f"{r['signs'][0]:11d} {r['signs'][1]:6d} {r['signs'][2]:7d} {r['signs'][3]:6d} "
                  f"{r['enumerate_s']:7.3f} {r['system_s']:6.3f} {r['page_faults']:8d}"
                  + (f" {r['worker_peak_mb']:9.0f}" if args.workers > 1 else ""), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
