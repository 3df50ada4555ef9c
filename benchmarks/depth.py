"""Counts against depth: python benchmarks/depth.py [--runs N] [--limit S] [--leaky SLOPE]

Depth studies (Hanin & Rolnick sweep depth at fixed width) count regions of deep, narrow
networks. There the engine's float64 error bounds grow by a bound on each layer's norm while
the rows keep their size, and past some depth the float64 filter leaves signs to exact
arithmetic; rows carried in two parts (``hi + lo``, :mod:`regionenum.engine.two_part`) start
that growth some thirty bits lower. This times ``count_regions`` on He-initialised ReLU networks
(LeakyReLU of that slope with ``--leaky``; biases of standard deviation 0.1, seed 1) of several
widths and depths on ``[-1, 1]^2``, with
rows in one part and in two parts (the run's choice set either way), each in a fresh process,
alternating, ``N`` runs each, and reports the medians, the exact signs, and which way the
engine chooses by itself (:data:`~regionenum.engine.polytope_step.TWO_PARTS_FROM`). A run not
done within ``S`` seconds is reported as such (its count then incomplete).

Writes ``results/depth.md``. Run by hand, not in tests.
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from fresh_runs import run_snippet, seconds_and_exact
from results_file import write_run

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: (width, depth) of the networks timed.
SHAPES = [(32, 10), (32, 15), (32, 18), (32, 20), (32, 25), (32, 30), (64, 15), (64, 20), (24, 30), (16, 40)]

ONE = r"""
import json, sys, time
import numpy as np
import regionenum as rn
from regionenum.engine import polytope_step
width, depth, parts, limit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
act = "relu" if sys.argv[5] == "none" else ("leaky_relu", float(sys.argv[5]))
rng = np.random.default_rng(1)
widths = [2] + [width] * depth + [1]
layers = [(rng.normal(0, np.sqrt(2 / a), size=(b, a)), rng.normal(0, 0.1, size=b))
          for a, b in zip(widths, widths[1:])]
net = rn.Network.from_layers(layers, [act] * depth + ["identity"])
box = rn.Box([-1.0, -1.0], [1.0, 1.0])
rn.count_regions(rn.Network.from_layers(layers[:3] + layers[-1:]), box)  # kernels loaded
step = polytope_step.PolytopeStep(net, box, 1e-9, 64, keep=False)
step.start(__import__("regionenum.engine.driver", fromlist=["Tally"]).Tally())
chosen = step.in_two_parts
polytope_step.TWO_PARTS_FROM = {"one": float("inf"), "two": -1.0}[parts]
start = time.perf_counter()
n = rn.count_regions(net, box, time_limit=limit)
print(json.dumps(dict(seconds=time.perf_counter() - start, regions=int(n), complete=n.complete,
                      exact=int(n.exact_calls), chosen=bool(chosen))))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per way and network (default 3)")
    parser.add_argument("--limit", type=float, default=60.0, help="time limit per count in seconds (default 60)")
    parser.add_argument("--shapes", default=None, help="WxD,WxD,... instead of the default shapes")
    parser.add_argument("--leaky", type=float, default=None, help="LeakyReLU of this slope instead of ReLU")
    args = parser.parse_args()
    shapes = SHAPES if args.shapes is None else [tuple(map(int, s.split("x"))) for s in args.shapes.split(",")]

    lines = ["# Counts against depth", "",
             f"`python benchmarks/depth.py --runs {args.runs} --limit {args.limit:g}"
             + (f" --leaky {args.leaky:g}`: He-initialised LeakyReLU ({args.leaky:g})" if args.leaky is not None
                else "`: He-initialised ReLU"),
             "networks on `[-1, 1]^2`, rows in one part and in two parts, fresh processes alternating,",
             "medians (seconds of `count_regions`, exact signs); the ratio two parts / one part where",
             "both finished; which way the engine chooses by itself.", "",
             "| width x depth | regions | one part | two parts | two / one | chosen |",
             "|---|---|---|---|---|---|"]
    for width, depth in shapes:
        runs = {"one": [], "two": []}
        for _ in range(args.runs):
            for parts in ("one", "two"):
                runs[parts].append(run_snippet(ONE, width, depth, parts, args.limit,
                                                "none" if args.leaky is None else repr(args.leaky)))
        done = all(r["complete"] for rs in runs.values() for r in rs)
        ratio = (statistics.median(r["seconds"] for r in runs["two"])
                 / statistics.median(r["seconds"] for r in runs["one"])) if done else None
        counted = [r["regions"] for rs in runs.values() for r in rs if r["complete"]]
        line = (f"| {width} x {depth} | {f'{max(counted):,}' if counted else '?'} | {seconds_and_exact(runs['one'])} | "
                f"{seconds_and_exact(runs['two'])} | {'' if ratio is None else f'{ratio:.2f}'} | "
                f"{'two' if runs['two'][0]['chosen'] else 'one'} |")
        print(line, flush=True)
        lines.append(line)
    write_run(RESULTS / "depth.md", lines)


if __name__ == "__main__":
    main()
