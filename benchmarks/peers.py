"""regionenum side by side with regioncam: python benchmarks/peers.py [--peer-python PY] [--runs N]

regioncam (``pip install regioncam``; Rust, float32, 2-D planes and 1-D lines) builds the whole
partition of a square or an interval. This script times, on every 1-D and 2-D net of the
standard suite (``benchmarks/nets.py``) and the digits plane:

- regionenum's ``count_regions`` and ``enumerate_regions`` (``bench_suite.py --one``: a fresh
  process, import, warm-up, then the timed call),
- regioncam's construction of the same partition (a fresh process, import, then the timed
  construction; ``--peer-python`` is an interpreter that can import regioncam, by default this
  one),

alternating which tool runs first in each round, and prints per net the median seconds, the
regions each found, peak resident memory of each process and the ratios regioncam / regionenum
(above 1: regionenum is faster or smaller). Writes the run on top of ``results/peers.md``, the
runs before it kept below (with nets named: only some of the default ones,
``results/peers_some.md``, not committed). Run by hand, not in tests.

regioncam's domain is the square ``[-s, s]^2`` (or ``[-s, s]``): a box centred elsewhere, or
not square, is mapped onto it by folding the box's affine map into the first layer (float64,
then float32 inside regioncam), so its count can differ from the exact one by a region or two
where hyperplanes nearly meet; both counts are printed.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_suite import ensure_suite  # noqa: E402
from nets import DEFAULT_DIR as NETS, SUITE  # noqa: E402
from results_file import write_run  # noqa: E402

RESULTS = HERE / "results"
DEFAULT = [name for name, widths in SUITE.items() if widths[0] <= 2] + ["digits_plane"]

#: The peer's run, in its own interpreter: the net's layers folded onto [-s, s]^d, the
#: partition built, its regions counted; one JSON line.
PEER = r"""
import json, resource, sys, time
import numpy as np
import regioncam
data = np.load(sys.argv[1])
k = sum(1 for key in data.files if key.startswith("W"))
layers = [(data[f"W{i}"], data[f"b{i}"]) for i in range(k)]
lo, hi = data["lo"], data["hi"]
centre, half = (lo + hi) / 2, (hi - lo) / 2
s = float(half.max())
W0, b0 = layers[0]
layers[0] = (W0 * (half / s), b0 + W0 @ centre)  # x = centre + (half / s) u, u in [-s, s]^d
start = time.perf_counter()
rc = regioncam.Regioncam(s) if len(lo) == 2 else regioncam.Regioncam1D(s)
for i, (W, b) in enumerate(layers):
    rc.linear(np.ascontiguousarray(W.T, dtype=np.float32), np.asarray(b, dtype=np.float32))
    if i < k - 1:
        rc.relu()
regions = rc.num_faces if len(lo) == 2 else rc.num_edges
seconds = time.perf_counter() - start
print(json.dumps(dict(regions=int(regions), seconds=seconds,
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def ours(net: str, mode: str) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "bench_suite.py"), "--one", net, mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def peer(python: str, net: str) -> dict:
    out = subprocess.run([python, "-c", PEER, str(NETS / f"{net}.npz")], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"regioncam failed on {net} ({python}): {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("nets", nargs="*", default=DEFAULT)
    parser.add_argument("--runs", type=int, default=3, help="rounds per net (default 3)")
    parser.add_argument("--peer-python", default=sys.executable,
                        help="an interpreter that can import regioncam (default: this one)")
    args = parser.parse_args()
    check = subprocess.run([args.peer_python, "-c", "import regioncam"], capture_output=True, text=True)
    if check.returncode:
        raise SystemExit(f"{args.peer_python} cannot import regioncam: pip install regioncam there, "
                         "or name another interpreter with --peer-python")
    ensure_suite()
    rows = []
    print(f"{'net':14s} {'count s':>8s} {'enum s':>8s} {'peer s':>8s} {'peer/count':>10s} {'peer/enum':>9s} "
          f"{'regions':>9s} {'peer reg':>9s} {'MB':>6s} {'peer MB':>8s}", flush=True)
    for net in args.nets:
        runs = {"count": [], "enumerate": [], "peer": []}
        for r in range(args.runs):
            order = ["count", "enumerate", "peer"] if r % 2 == 0 else ["peer", "enumerate", "count"]
            for tool in order:
                runs[tool].append(peer(args.peer_python, net) if tool == "peer" else ours(net, tool))
        med = {tool: statistics.median(x["seconds"] for x in xs) for tool, xs in runs.items()}
        mb = {tool: statistics.median(x["peak_mb"] for x in xs) for tool, xs in runs.items()}
        row = dict(net=net, count_s=med["count"], enumerate_s=med["enumerate"], peer_s=med["peer"],
                   regions=runs["count"][0]["regions"], peer_regions=runs["peer"][0]["regions"],
                   count_mb=mb["count"], enumerate_mb=mb["enumerate"], peer_mb=mb["peer"])
        rows.append(row)
        print(f"{net:14s} {row['count_s']:8.3f} {row['enumerate_s']:8.3f} {row['peer_s']:8.3f} "
              f"{row['peer_s'] / row['count_s']:10.2f} {row['peer_s'] / row['enumerate_s']:9.2f} "
              f"{row['regions']:9d} {row['peer_regions']:9d} {row['enumerate_mb']:6.0f} {row['peer_mb']:8.0f}",
              flush=True)
    lines = ["# regionenum and regioncam side by side", "",
             f"`python benchmarks/peers.py --runs {args.runs}`: every tool in a fresh process per run, "
             "alternating which goes first, medians; seconds of the timed call only (after import and, "
             "for regionenum, a warm-up); peak resident memory of the whole process. Ratios above 1 "
             "mean regionenum is faster.", "",
             "| net | count s | enumerate s | regioncam s | regioncam / count | regioncam / enumerate | "
             "regions | regioncam's | enumerate MB | regioncam MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['net']} | {r['count_s']:.3f} | {r['enumerate_s']:.3f} | {r['peer_s']:.3f} | "
                     f"{r['peer_s'] / r['count_s']:.2f} | {r['peer_s'] / r['enumerate_s']:.2f} | {r['regions']} | "
                     f"{r['peer_regions']} | {r['enumerate_mb']:.0f} | {r['peer_mb']:.0f} |")
    # the committed table holds every net; a run on some of them goes beside it
    out = RESULTS / ("peers.md" if sorted(args.nets) == sorted(DEFAULT) else "peers_some.md")
    write_run(out, lines)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
