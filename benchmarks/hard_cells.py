"""Cells float64 cannot settle alone, above five inputs: python benchmarks/hard_cells.py [--runs N]
[--limit S] [--against TREE]

Networks of six inputs are enumerated by cells given by their inequalities
(:mod:`regionenum.engine.hrep_step`), whose splits and facets are found by float linear
programmes and proven; what float64 cannot prove goes to exact rational programmes. These cases
send many there:

- ``random``: a He-initialised ``6-8-4-1`` net on ``[-1, 1]^6`` (the easy case, for scale);
- ``integer``: weights and biases small integers, so that hyperplanes pass through the box's
  corners and edges and many rows only touch their cells;
- ``tiny unit``: the random net with one first-layer unit's weights scaled by ``2^-40``;
- ``stretched 2^k``: the random net on the box stretched by ``2^-k .. 2^k`` (its first layer's
  columns divided back: the same problem), run in the domain's own coordinates (rescaling off,
  as for domains :mod:`regionenum.engine.rescaling` leaves alone).

Each case runs ``N`` times in fresh processes; with ``--against TREE`` (another checkout of the
package, for example ``git worktree add ../old <commit>``) the two alternate, and the table
gives both and their ratio. Reported: median seconds of ``enumerate_regions`` (time limit
``S``) and the exact calls (exact programmes and exact sign checks).

Writes ``results/hard_cells.md``. Run by hand, not in tests.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
from pathlib import Path

from fresh_runs import run_snippet
from results_file import write_run

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

CASES = ["random", "integer", "tiny unit", "stretched 2^20", "stretched 2^30"]

ONE = r"""
import json, sys, time
import numpy as np
import regionenum as rn
from regionenum.engine import rescaling
case, limit = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(5)
widths = [6, 8, 4, 1]
layers = [(rng.normal(0, np.sqrt(2 / a), (b, a)), rng.normal(0, 0.1, b)) for a, b in zip(widths, widths[1:])]
scale = np.ones(6)
if case == "integer":
    rng = np.random.default_rng(0)
    layers = [(rng.integers(-2, 3, (b, a)).astype(float), rng.integers(-1, 2, b).astype(float))
              for a, b in zip(widths, widths[1:])]
elif case == "tiny unit":
    layers[0][0][0] *= 2.0 ** -40
    layers[0][1][0] *= 2.0 ** -40
elif case.startswith("stretched"):
    k = int(case.split("^")[1])
    scale = 2.0 ** np.round(np.linspace(-k, k, 6))
    layers[0] = (layers[0][0] / scale, layers[0][1])
    rescaling.GAIN = float("inf")
net = rn.Network.from_layers(layers)
warm = rn.Network.from_layers([(np.eye(6), np.full(6, 0.1)), (np.ones((1, 6)), np.zeros(1))])
rn.enumerate_regions(warm, rn.Box(-np.ones(6), np.ones(6)))  # the kernels loaded
start = time.perf_counter()
regions = rn.enumerate_regions(net, rn.Box(-scale, scale), time_limit=limit)
print(json.dumps(dict(seconds=time.perf_counter() - start, regions=len(regions), complete=regions.complete,
                      exact=regions.exact_calls)))
"""


def _cell(runs: list) -> str:
    seconds = statistics.median(r["seconds"] for r in runs)
    exact = statistics.median(r["exact"] for r in runs)
    if not all(r["complete"] for r in runs):
        return f"not done in {seconds:.0f} s"
    return f"{seconds:.3g} s ({exact:,.0f} exact)"


def _commit(tree: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True,
                          text=True).stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per case and tree (default 3)")
    parser.add_argument("--limit", type=float, default=300.0, help="time limit per enumeration (default 300 s)")
    parser.add_argument("--against", type=Path, help="another checkout of the package, run alternately")
    args = parser.parse_args()
    trees = {"this": HERE.parent} | ({"against": args.against.resolve()} if args.against else {})
    names = {key: _commit(tree) for key, tree in trees.items()}
    header = ["case", "regions", f"this ({names['this']})"]
    if args.against:
        header += [f"against ({names['against']})", "against / this"]
    lines = ["# Cells float64 cannot settle alone (six inputs)", "",
             f"`python benchmarks/hard_cells.py --runs {args.runs} --limit {args.limit:g}"
             + (" --against TREE`" if args.against else "`")
             + ": fresh processes" + (", the two trees alternating" if args.against else "")
             + "; medians of `enumerate_regions`' seconds, and the exact calls.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for case in CASES:
        runs = {key: [] for key in trees}
        for i in range(args.runs):
            for key in (list(trees) if i % 2 == 0 else list(trees)[::-1]):
                runs[key].append(run_snippet(ONE, case, args.limit, tree=trees[key]))
        cells = [case, f"{max(r['regions'] for r in runs['this']):,}", _cell(runs["this"])]
        if args.against:
            done = all(r["complete"] for rs in runs.values() for r in rs)
            ratio = (statistics.median(r["seconds"] for r in runs["against"])
                     / statistics.median(r["seconds"] for r in runs["this"]))
            cells += [_cell(runs["against"]), f"{ratio:.2f}" if done else f"> {ratio:.2f}"]
        line = "| " + " | ".join(cells) + " |"
        print(line, flush=True)
        lines.append(line)
    write_run(RESULTS / "hard_cells.md", lines)


if __name__ == "__main__":
    main()
