"""Many small calls: python benchmarks/sweep.py [--planes N]

Studies in the style of Hanin & Rolnick count regions on many planes (planes x depths x widths x
epochs). This times ``count_regions`` on ``N`` planes through three digit images each (the
bundled trained digits classifier, 64-64-64 ReLU, restricted to each plane by
:class:`regionenum.Slice`), in one process after a warm-up, and reports:

- calls per second and the median seconds and regions per call;
- the per-call overhead: the median seconds of ``count_regions`` on a network of one unit on a
  square (argument checks, setting up, assembling a result, with almost no splitting), and of
  the same call on the plane of a Slice;
- the first calls in a fresh process with the kernels already cached: seconds to import
  regionenum, then seconds of the first ``count_regions`` on the digits plane, and after it of
  the first ``enumerate_regions``, ``faces()`` and ``adjacency_graph()`` there (each loads
  kernels of its own; the graph imports networkx).

Writes the run on top of ``results/sweep.md``, the runs before it kept below. Run by hand, not
in tests; needs scikit-learn (the digits).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from results_file import write_run  # beside this script

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

FIRST_CALL = r"""
import json, time
start = time.perf_counter()
import regionenum as rn
seconds = dict(import_s=time.perf_counter() - start)
net, box = rn.load(rn.__path__[0] + "/data/digits_plane.npz")
def first(name, call):
    start = time.perf_counter()
    out = call()
    seconds[name] = time.perf_counter() - start
    return out
n = first("first_call_s", lambda: rn.count_regions(net, box))
regions = first("first_enumerate_s", lambda: rn.enumerate_regions(net, box))
first("first_faces_s", regions.faces)
first("first_graph_s", regions.adjacency_graph)
print(json.dumps(dict(seconds, regions=int(n))))
"""


def _timed(call, repeats: int) -> list:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--planes", type=int, default=1000, help="planes to count on (default 1000)")
    parser.add_argument("--fresh", type=int, default=5, help="fresh processes for the first call (default 5)")
    args = parser.parse_args()

    import regionenum as rn
    sys.path.insert(0, str(HERE))
    from nets import digits_nets
    from sklearn.datasets import load_digits

    full = digits_nets()["digits_full"]
    k = sum(1 for key in full if key.startswith("W"))
    net = rn.Network.from_layers([(full[f"W{i}"], full[f"b{i}"]) for i in range(k)])
    X = load_digits().data / 16.0
    rng = np.random.default_rng(0)
    triples = [rng.choice(len(X), 3, replace=False) for _ in range(args.planes)]

    tiny = rn.Network.from_layers([(np.array([[1.0, 1.0]]), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    square = rn.Box([-1.0, -1.0], [1.0, 1.0])
    plane = rn.Slice.through(X[0], X[1], X[2])
    rn.count_regions(net, plane)  # warm-up: kernels loaded
    rn.count_regions(tiny, square)

    start = time.perf_counter()
    per_call, regions = [], []
    for a, b, c in triples:
        t0 = time.perf_counter()
        regions.append(int(rn.count_regions(net, rn.Slice.through(X[a], X[b], X[c]))))
        per_call.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    overhead = statistics.median(_timed(lambda: rn.count_regions(tiny, square), 200))
    tiny64 = rn.Network.from_layers([(np.ones((1, 64)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    overhead_slice = statistics.median(_timed(lambda: rn.count_regions(tiny64, plane), 200))

    fresh = []
    for _ in range(args.fresh):
        out = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
        fresh.append(json.loads(out.stdout))
    import_s = statistics.median(f["import_s"] for f in fresh)
    first_s = statistics.median(f["first_call_s"] for f in fresh)
    after = {key: statistics.median(f[key] for f in fresh) for key in ("first_enumerate_s", "first_faces_s",
                                                                       "first_graph_s")}

    lines = ["# Many small calls", "",
             f"`python benchmarks/sweep.py --planes {args.planes}`: `count_regions` of the digits classifier "
             "(64-64-64 ReLU) on planes through three random digit images, one process after a warm-up.", "",
             "| figure | value |", "|---|---|",
             f"| planes | {args.planes} |",
             f"| calls per second | {args.planes / total:.1f} |",
             f"| median seconds per call | {statistics.median(per_call):.4f} |",
             f"| median regions per call | {statistics.median(regions):.0f} |",
             f"| overhead: one unit on a square, median seconds per call | {overhead:.5f} |",
             f"| overhead: one unit on a Slice of 64 inputs, median seconds per call | {overhead_slice:.5f} |",
             f"| fresh process: import regionenum, median seconds | {import_s:.3f} |",
             f"| fresh process: first count on the digits plane, median seconds | {first_s:.3f} |",
             f"| then its first enumeration, median seconds | {after['first_enumerate_s']:.3f} |",
             f"| then its first faces, median seconds | {after['first_faces_s']:.3f} |",
             f"| then its first adjacency graph (imports networkx), median seconds "
             f"| {after['first_graph_s']:.3f} |"]
    print("\n".join(lines))
    write_run(RESULTS / "sweep.md", lines)


if __name__ == "__main__":
    main()
