"""Counts of random networks of given shapes: python benchmarks/shapes.py SHAPE [SHAPE ...] [--scaled] [--runs R]

Each ``SHAPE`` is the layer widths, input first, as ``2,4,400,1``: weights standard normal
(``numpy.random.default_rng(0)``, layer after layer; ``--scaled`` divides each layer's by the
square root of its fan-in), biases 0.3 times standard normal, on the box ``[-1, 1]^d``. Each
count runs in a fresh process after a warm-up; prints the regions, the seconds of the call and
the process's peak resident memory. For shapes where one part of the engine's work may grow
out of proportion (a wide layer after a narrow one: ``benchmarks/README.md``, "A wide layer
after a narrow one"); compare two checkouts by running it with each on ``PYTHONPATH``.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def count_one(shape: str, scaled: bool) -> dict:
    """One count of the network ``shape``, in this process."""
    import numpy as np

    import regionenum as rn

    rn.count_regions(rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]),
                     rn.Box([-1, -1], [1, 1]))  # warm-up: the kernels loaded
    widths = [int(w) for w in shape.split(",")]
    rng = np.random.default_rng(0)
    layers = [(rng.standard_normal((b, a)) / (np.sqrt(a) if scaled else 1.0), 0.3 * rng.standard_normal(b))
              for a, b in zip(widths, widths[1:])]
    net = rn.Network.from_layers(layers)
    start = time.perf_counter()
    found = rn.count_regions(net, rn.Box([-1.0] * widths[0], [1.0] * widths[0]))
    return {"shape": shape, "regions": int(found), "seconds": time.perf_counter() - start,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="+")
    parser.add_argument("--scaled", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(count_one(args.shapes[0], args.scaled)))
        return
    for shape in args.shapes:
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, __file__, shape, "--one"] + (["--scaled"] if args.scaled else []),
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{shape:>16s} {row['regions']:9d} regions {row['seconds']:8.3f} s {row['peak_mb']:7.0f} MB",
                  flush=True)


if __name__ == "__main__":
    main()
