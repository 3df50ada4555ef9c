"""Dask scaling: python benchmarks/dask_scaling.py [--width W] [--repeats R]

Counts the regions of the scaling suite's net of width ``W`` (``benchmarks/scaling.py``; 384
gives about a million regions) serially, with ``workers=2`` local processes, and on a Dask
``LocalCluster`` of 1 and 2 worker processes (one thread each), every run in a fresh process,
the configurations alternating, ``R`` rounds; prints each run and the medians, with the
speed-up of 2 Dask workers over 1 and the overheads that are not the count itself (starting the
cluster, which a real cluster pays once, and the parent's first layer and shipping). Writes
``results/dask_scaling.md``. Run by hand; needs ``pip install ".[distributed]"``.

The same job on a real cluster: start a scheduler and workers (``dask scheduler``, ``dask
worker tcp://HOST:8786 --nthreads 1`` on each machine, one worker process per core), then pass
``client=Client("tcp://HOST:8786")`` to ``count_regions`` or ``enumerate_regions``; the
workers need regionenum installed, and the network travels with the job.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results_file import write_run  # noqa: E402
from scaling import write_net  # noqa: E402

CONFIGS = ["serial", "processes2", "dask1", "dask2"]


def run_one(name: str, config: str) -> dict:
    """One count of net ``name`` under ``config``, in this process."""
    import numpy as np
    import regionenum as rn

    warm = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    rn.count_regions(warm, rn.Box([-1, -1], [1, 1]))
    net, box = rn.load(HERE / "nets" / f"{name}.npz")
    startup = 0.0
    if config.startswith("dask"):
        from distributed import Client, LocalCluster
        start = time.perf_counter()
        cluster = LocalCluster(n_workers=int(config[4:]), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        client.run(lambda: rn.count_regions(warm, rn.Box([-1, -1], [1, 1])))  # workers import and load kernels
        startup = time.perf_counter() - start
        start = time.perf_counter()
        found = rn.count_regions(net, box, client=client)
        seconds = time.perf_counter() - start
        client.close()
        cluster.close()
    else:
        start = time.perf_counter()
        found = rn.count_regions(net, box, workers=2 if config == "processes2" else 1)
        seconds = time.perf_counter() - start
    return {"config": config, "regions": int(found), "seconds": seconds, "startup": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    name = write_net(args.width)
    rows = []
    for r in range(args.repeats):
        order = CONFIGS if r % 2 == 0 else CONFIGS[::-1]
        for config in order:
            out = subprocess.run([sys.executable, __file__, "--one", name, config], capture_output=True,
                                 text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{config:11s} {row['regions']:9d} regions  {row['seconds']:7.2f} s  "
                  f"(cluster start {row['startup']:.1f} s)", flush=True)
    medians = {c: statistics.median(r["seconds"] for r in rows if r["config"] == c) for c in CONFIGS}
    starts = {c: statistics.median(r["startup"] for r in rows if r["config"] == c) for c in CONFIGS}
    lines = ["# Dask scaling", "",
             f"`python benchmarks/dask_scaling.py --width {args.width} --repeats {args.repeats}` "
             f": `count_regions` on `{name}` "
             f"({rows[0]['regions']:,} regions), each run in a fresh process, configurations "
             "alternating; medians.", "",
             "| configuration | seconds | speed-up over 1 Dask worker | cluster start (s, not counted) |",
             "|---|---|---|---|"]
    for c in CONFIGS:
        lines.append(f"| {c} | {medians[c]:.2f} | {medians['dask1'] / medians[c]:.2f} | "
                     f"{starts[c]:.1f} |")
    write_run(HERE / "results" / "dask_scaling.md", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
