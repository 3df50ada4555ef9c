"""Domains stretched by powers of two: python benchmarks/stretched.py [--runs N] [--limit S]

Inputs in raw physical units give domains whose coordinates differ in spread by orders. Each
net of the standard suite is enumerated here on a box stretched by ``2^-k .. 2^k`` along its
coordinates, its first layer's columns divided by the same powers (exactly the net on
``[-1, 1]^d``), in rescaled coordinates (the engine's default for such domains,
:mod:`regionenum.engine.rescaling`) and in the domain's own coordinates (rescaling turned off),
each in a fresh process, alternating, ``N`` runs each. Reported: the median seconds of
``enumerate_regions`` (with a time limit of ``S`` seconds), the signs settled in exact
arithmetic, and the largest relative difference of the volumes from the unstretched run's
(scaled by the stretch; the unstretched run is not timed).

Writes ``results/stretched.md``. Run by hand, not in tests.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from fresh_runs import run_snippet, seconds_and_exact
from results_file import write_run

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: (net, k): the suite's nets and the stretches timed.
CASES = [("r2_small", 0), ("r2_small", 10), ("r2_small", 20), ("r2_mid", 10), ("r3_small", 10),
         ("r4_small", 6)]

ONE = r"""
import json, sys, time
import numpy as np
import regionenum as rn
from regionenum.engine import rescaling
name, k, way, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
net, box = rn.load(f"{sys.argv[5]}/{name}.npz")
d = net.input_dim
scale = 2.0 ** np.round(np.linspace(-k, k, d))
first = net.layers[0]
stretched = rn.Network.from_layers([(first.W / scale, first.b), *[(l.W, l.b) for l in net.layers[1:]]])
plain = rn.enumerate_regions(net, box)  # kernels loaded, and the reference volumes
if way == "as given":
    rescaling.GAIN = float("inf")
start = time.perf_counter()
regions = rn.enumerate_regions(stretched, rn.Box(box.lo * scale, box.hi * scale), time_limit=limit)
seconds = time.perf_counter() - start
stages = regions.sign_stages
error = None
if regions.complete:
    error = float(np.max(np.abs(regions.volumes / (plain.volumes * np.prod(scale)) - 1)))
print(json.dumps(dict(seconds=seconds, regions=len(regions), complete=regions.complete, error=error,
                      exact=stages["exact arithmetic"] + stages["float64 expansions"])))
"""

WAYS = ("rescaled", "as given")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per way and case (default 3)")
    parser.add_argument("--limit", type=float, default=60.0, help="time limit per enumeration (default 60 s)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_suite import ensure_suite
    ensure_suite()
    lines = ["# Enumerations on stretched domains", "",
             f"`python benchmarks/stretched.py --runs {args.runs} --limit {args.limit:g}`: each suite net on its",
             "box stretched by `2^-k .. 2^k` (first layer's columns divided back: the same problem), rescaled",
             "(the default) and in the domain's own coordinates, fresh processes alternating, medians of",
             "`enumerate_regions`' seconds; signs settled in exact arithmetic (with float64 expansions);",
             "the largest relative difference of a volume from the unstretched run's.", "",
             "| net | k | regions | rescaled | as given | as given / rescaled | volumes' difference |",
             "|---|---|---|---|---|---|---|"]
    for name, k in CASES:
        runs = {way: [] for way in WAYS}
        for _ in range(args.runs):
            for way in WAYS:
                runs[way].append(run_snippet(ONE, name, k, way, args.limit, HERE / "nets"))
        done = all(r["complete"] for rs in runs.values() for r in rs)
        ratio = (statistics.median(r["seconds"] for r in runs["as given"])
                 / statistics.median(r["seconds"] for r in runs["rescaled"])) if done else None
        errors = [f"{max(r['error'] for r in rs):.0e}" if all(r["complete"] for r in rs) else "?"
                  for rs in runs.values()]
        line = (f"| {name} | {k} | {max(r['regions'] for r in runs['rescaled']):,} | "
                f"{seconds_and_exact(runs['rescaled'])} | {seconds_and_exact(runs['as given'])} | "
                f"{'' if ratio is None else f'{ratio:.2f}'} | {' and '.join(errors)} |")
        print(line, flush=True)
        lines.append(line)
    write_run(RESULTS / "stretched.md", lines)


if __name__ == "__main__":
    main()
