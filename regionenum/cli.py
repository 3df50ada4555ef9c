"""Command line: ``regionenum count NET.npz [--json]``.

Exit codes: 0 success (also for a run stopped by a budget, which says so), 2 bad arguments or
input, 1 an unexpected failure.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import resources

import numpy as np

from . import __version__
from .domain import Box
from .engine import DEFAULT_TOL, count_regions, enumerate_regions
from .errors import RegionEnumError
from .io import load
from .network import Network

EXAMPLES = ("digits_plane",)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RegionEnumError as err:
        print(f"regionenum: error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="regionenum", description=(
        "Exact enumeration of the activation regions of ReLU-type networks."))
    p.add_argument("--version", action="version", version=f"regionenum {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("count", help="count the activation regions of a network on its box",
                       description="Count the activation regions of a network (.npz: W0, b0, ..., "
                                   "lo, hi) exactly.")
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("net", nargs="?", help="network file (.npz)")
    src.add_argument("--example", choices=EXAMPLES, help="use a network shipped with regionenum")
    c.add_argument("--lo", type=float, nargs="+", help="lower corner of the box (overrides the file)")
    c.add_argument("--hi", type=float, nargs="+", help="upper corner of the box (overrides the file)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--full", action="store_true",
                   help="enumerate all region geometry too (volumes, vertices), not just count")
    c.add_argument("--max-regions", type=int, help="stop after this many regions")
    c.add_argument("--time-limit", type=float, help="stop after this many seconds")
    c.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help="relative band of float signs re-decided exactly (default %(default)g)")
    c.set_defaults(func=_count)
    return p


def _count(args) -> int:
    path = args.net
    if args.example:
        path = resources.files("regionenum") / "data" / f"{args.example}.npz"
    network, box = load(path)
    if args.lo is not None or args.hi is not None:
        if args.lo is None or args.hi is None:
            raise RegionEnumError("give both --lo and --hi")
        box = Box(args.lo, args.hi)
    if box is None:
        raise RegionEnumError(f"{path} has no box (lo, hi): pass --lo and --hi")
    budget = dict(max_regions=args.max_regions, time_limit=args.time_limit, tol=args.tol)
    startup = _warm_up(network.input_dim, args.full)
    if args.full:
        regions = enumerate_regions(network, box, **budget)
        out = dict(regions=len(regions), bounded=int(regions.bounded.sum()),
                   complete=regions.complete, stop_reason=regions.stop_reason,
                   seconds=round(regions.seconds, 4), exact_calls=regions.exact_calls,
                   volume_sum=float(np.sum(regions.volumes)), domain_volume=box.volume())
    else:
        n = count_regions(network, box, **budget)
        out = dict(regions=int(n), bounded=int(n.bounded), complete=n.complete,
                   stop_reason=n.stop_reason, seconds=round(n.seconds, 4),
                   exact_calls=n.exact_calls)
    out.update(network=str(path), input_dim=network.input_dim, units=network.n_units,
               lo=box.lo.tolist(), hi=box.hi.tolist(), startup_seconds=round(startup, 4))
    if args.json:
        print(json.dumps(out))
    else:
        state = "" if out["complete"] else f" (incomplete: stopped by {out['stop_reason']})"
        print(f"{out['regions']} activation regions{state}")
        print(f"  network: {path} ({network.input_dim} inputs, {network.n_units} ReLU-type units)")
        print(f"  domain:  box {box.lo.tolist()} .. {box.hi.tolist()}")
        print(f"  time:    {out['seconds']:.3f} s, {out['exact_calls']} signs settled exactly "
              f"(and {startup:.1f} s to load or compile the kernels)")
    return 0


def _warm_up(dim: int, full: bool) -> float:
    """Load (or, on the first run, compile) the kernels on a tiny network, so that the reported
    time is the enumeration's own; returns the seconds this took."""
    start = time.perf_counter()
    tiny = Network.from_layers([(np.eye(dim), np.zeros(dim)), (np.ones((1, dim)), np.zeros(1))])
    box = Box(-np.ones(dim), np.ones(dim))
    (enumerate_regions if full else count_regions)(tiny, box)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
