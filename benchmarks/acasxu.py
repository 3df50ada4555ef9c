"""ACAS Xu: python benchmarks/acasxu.py [--data DIR] [--only PATTERN ...] [--peer COMMAND] [--markdown FILE]

Runs the VNN competition's ACAS Xu instances listed in ``expected.csv`` (network, property, time
limit, agreed verdict; see the data folder's README) with ``regionenum``'s property-directed
search, each instance in a fresh process (interpreter start, imports, loading the network and
the property included, like the competition), under the instance's time limit, and prints per
instance the verdict, the wall seconds and whether the verdict agrees with the expected one
(``unknown`` never agrees). A summary follows: verdicts right, wrong and unknown, the median and
total seconds per property, and the peak time.

``--peer COMMAND`` times another verifier side by side: ``COMMAND`` is a shell-style template with
``{net}``, ``{prop}`` (absolute paths) and ``{timeout}`` whose output's last line starts with its
verdict (``sat``, ``unsat``, anything else counts as unknown). Each instance then runs both
tools one after the other in fresh processes, alternating which goes first, under the same
limit (a run past the limit plus ``--grace`` seconds is killed and counts as unknown), and the
summary compares them on the instances both solve. Without ``--peer`` only regionenum runs.

Run by hand, not in tests: the 76 instances take from minutes to an hour.
"""
from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CANDIDATES = [ROOT.parent / "shared" / "acasxu", ROOT.parent.parent / "shared" / "acasxu"]


def _default_data():
    for path in CANDIDATES:
        if (path / "expected.csv").exists():
            return path
    return CANDIDATES[0]


def one(net: str, prop: str, timeout: float, started: float) -> None:
    """Worker: decide one instance in this (fresh) process; print a JSON line."""
    sys.path.insert(0, str(ROOT))
    import regionenum as rn
    network = rn.Network.from_onnx(net)
    prop_ = rn.verify.parse_vnnlib(prop)
    left = max(timeout - (time.time() - started), 0.01)
    res = rn.verify.check_vnnlib(network, prop_, time_limit=left)
    print(json.dumps(dict(status=res.status, search_seconds=res.seconds, cells=res.cells, reason=res.reason,
                          counterexample=None if res.counterexample is None else res.counterexample.tolist())))


def run_ours(net: Path, prop: Path, timeout: float, grace: float):
    """(verdict, wall seconds, details) of one fresh regionenum process."""
    start = time.perf_counter()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(net), str(prop), str(timeout),
           repr(time.time())]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + grace)
    except subprocess.TimeoutExpired:
        return "unknown", time.perf_counter() - start, dict(reason="killed at the time limit")
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        return "error", seconds, dict(reason=(out.stderr.strip().splitlines() or ["?"])[-1])
    info = json.loads(out.stdout.strip().splitlines()[-1])
    return info["status"], seconds, info


def run_peer(template: str, net: Path, prop: Path, timeout: float, grace: float):
    """(verdict, wall seconds) of one fresh run of the peer's command."""
    cmd = shlex.split(template.format(net=shlex.quote(str(net)), prop=shlex.quote(str(prop)),
                                      timeout=f"{timeout:g}"))
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + grace,
                             start_new_session=True)
    except subprocess.TimeoutExpired:
        return "unknown", time.perf_counter() - start
    seconds = time.perf_counter() - start
    lines = [line for line in out.stdout.strip().splitlines() if line.strip()]
    word = lines[-1].split()[0].lower() if lines else ""
    return (word if word in ("sat", "unsat") else "unknown"), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_default_data(), help="folder with expected.csv, .onnx, .vnnlib")
    parser.add_argument("--only", nargs="*", default=[],
                        help="instances to run, as NET:PROP patterns (e.g. '*1_1*:prop_3*')")
    parser.add_argument("--peer", help="command template of another verifier (see the description)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds past the limit before a kill")
    parser.add_argument("--markdown", type=Path, help="also write the table and summary to this file")
    parser.add_argument("--json", type=Path, help="also write every row to this JSON file")
    parser.add_argument("--one", nargs=4, metavar=("NET", "PROP", "TIMEOUT", "STARTED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        net, prop, timeout, started = args.one
        return one(net, prop, float(timeout), float(started))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    rows = list(csv.DictReader(open(args.data / "expected.csv")))
    if args.only:
        rows = [r for r in rows if any(fnmatch.fnmatch(f"{r['network']}:{r['property']}", p) for p in args.only)]
        if not rows:
            parser.error(f"--only {' '.join(args.only)}: no instance matches (patterns are "
                         "'NETWORK:PROPERTY' as in expected.csv, e.g. '*_2_9_*:prop_8*')")
    results = []
    head = f"{'instance':28s} {'expected':>8s} {'ours':>8s} {'s':>7s} {'ok':>3s}"
    if args.peer:
        head += f" {'peer':>8s} {'s':>7s} {'ok':>3s}"
    print(head, flush=True)
    for i, r in enumerate(rows):
        net, prop, timeout = args.data / r["network"], args.data / r["property"], float(r["timeout_s"])
        name = r["network"].replace("ACASXU_run2a_", "").replace("_batch_2000.onnx", "") + ":" + \
            r["property"].replace(".vnnlib", "")
        order = ["ours", "peer"] if (i % 2 == 0 or not args.peer) else ["peer", "ours"]
        row = dict(instance=name, expected=r["expected"], timeout=timeout)
        for who in order:
            if who == "ours":
                verdict, seconds, info = run_ours(net, prop, timeout, args.grace)
                row.update(ours=verdict, ours_s=seconds, ours_cells=info.get("cells"),
                           ours_reason=info.get("reason"))
            elif args.peer:
                verdict, seconds = run_peer(args.peer, net, prop, timeout, args.grace)
                row.update(peer=verdict, peer_s=seconds)
        line = f"{name:28s} {r['expected']:>8s} {row['ours']:>8s} {row['ours_s']:7.2f} " \
               f"{'yes' if row['ours'] == r['expected'] else 'NO':>3s}"
        if args.peer:
            line += f" {row['peer']:>8s} {row['peer_s']:7.2f} {'yes' if row['peer'] == r['expected'] else 'NO':>3s}"
        if row["ours"] not in ("sat", "unsat"):
            line += f"  ({row['ours_reason']})"
        print(line, flush=True)
        results.append(row)
    summary = _summary(results, bool(args.peer))
    print("\n".join(summary))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.markdown:
        table = ["| instance | expected | regionenum | s |" + (" peer | s |" if args.peer else ""),
                 "|---|---|---|---:|" + ("---|---:|" if args.peer else "")]
        for row in results:
            line = f"| {row['instance']} | {row['expected']} | {row['ours']} | {row['ours_s']:.2f} |"
            if args.peer:
                line += f" {row['peer']} | {row['peer_s']:.2f} |"
            table.append(line)
        args.markdown.write_text("\n".join(["```", *summary, "```", "", *table, ""]))


def _summary(results, peer: bool):
    tools = [("ours", "regionenum")] + ([("peer", "peer")] if peer else [])
    out = []
    for key, label in tools:
        right = sum(r[key] == r["expected"] for r in results)
        unknown = sum(r[key] not in ("sat", "unsat") for r in results)
        wrong = len(results) - right - unknown
        times = [r[f"{key}_s"] for r in results]
        out.append(f"{label}: {right} right, {wrong} wrong, {unknown} unknown of {len(results)}; "
                   f"total {sum(times):.1f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s")
        for prop in sorted({r["instance"].split(":")[1] for r in results}, key=lambda p: int(p.split("_")[1])):
            sub = [r for r in results if r["instance"].endswith(":" + prop)]
            t = [r[f"{key}_s"] for r in sub]
            ok = sum(r[key] == r["expected"] for r in sub)
            out.append(f"  {prop:8s} {ok:2d}/{len(sub):2d} right  median {statistics.median(t):6.2f} s  "
                       f"max {max(t):6.2f} s  total {sum(t):7.1f} s")
    if peer:
        both = [r for r in results if r["ours"] == r["expected"] and r["peer"] == r["expected"]]
        if both:
            a = statistics.median(r["ours_s"] for r in both)
            b = statistics.median(r["peer_s"] for r in both)
            faster = sum(r["ours_s"] < r["peer_s"] for r in both)
            out.append(f"both right on {len(both)}: median {a:.2f} s (regionenum) vs {b:.2f} s (peer); "
                       f"regionenum faster on {faster}; totals {sum(r['ours_s'] for r in both):.1f} s vs "
                       f"{sum(r['peer_s'] for r in both):.1f} s")
    return out


if __name__ == "__main__":
    main()
