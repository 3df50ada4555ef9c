"""Command line: ``regionenum {demo,count,enumerate,estimate,plot,verify,reach,bench} ...`` (``--help``
on each).

Exit codes: 0 success (also for a run stopped by a budget or Ctrl-C, whose output says
``complete: false`` and why), 2 bad arguments or input files, 1 an unexpected failure.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from .core.domain import Box
from .core.network import Network
from .core.tolerances import DEFAULT_TOL
from .counting import bounds, estimators
from .engine import count_regions, enumerate_regions
from .errors import RegionEnumError
from .io import load, save_regions, write_graph
from .progress import ProgressBar

EXAMPLES = ("digits_plane",)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except RegionEnumError as err:
        print(f"regionenum: error: {err}", file=sys.stderr)
        return 2


# -- arguments ------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="regionenum", description=(
        "Exact enumeration of the activation regions of ReLU-type networks. Networks are .npz "
        "files (W0, b0, W1, b1, ..., and the box lo, hi) or .onnx/.pt models (with --lo/--hi); "
        "--example uses one shipped with regionenum."))
    p.add_argument("--version", action="version",
                   version=f"regionenum {importlib.metadata.version('regionenum')}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("demo", help="a tour on a bundled trained classifier, with a picture",
                       description="Enumerate the regions of a trained digits classifier on the "
                                   "plane through three of its training images; print activation, "
                                   "linear and decision regions, bounds and estimators against the "
                                   "exact count; draw the partition.")
    c.add_argument("-o", "--output", type=Path, default=Path("regionenum_demo.png"),
                   help="picture to write (default %(default)s; needs matplotlib)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=_demo)

    c = sub.add_parser("count", help="count the activation regions",
                       description="Count the activation regions of a network on its box, exactly.")
    _source(c)
    _budgets(c)
    c.add_argument("--full", action="store_true",
                   help="enumerate all region geometry too (volumes, vertices), not just count")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=_count)

    c = sub.add_parser("enumerate", help="enumerate the regions and save them",
                       description="Enumerate every region and write the result (.npz or .json, "
                                   "loadable with regionenum.load_regions) and/or the adjacency "
                                   "graph (.graphml or .json).")
    _source(c)
    _budgets(c)
    c.add_argument("-o", "--output", type=Path, help="result file: .npz or .json")
    c.add_argument("--graph", type=Path, help="adjacency graph file: .graphml or .json")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=_enumerate)

    c = sub.add_parser("estimate", help="sampling estimators against the exact count",
                       description="Run the sampling estimators (random and grid patterns, Chao1) "
                                   "at several budgets and the Hanin-Rolnick prediction against "
                                   "the exact count.")
    _source(c)
    c.add_argument("--budgets", type=int, nargs="+", default=[100, 1000, 10000, 100000],
                   help="sample budgets (default %(default)s)")
    c.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    c.add_argument("--json", action="store_true", help="print a JSON list of rows")
    c.set_defaults(func=_estimate)

    c = sub.add_parser("plot", help="draw the regions (1-D or 2-D, or a 2-D slice)",
                       description="Draw the partition into regions (or, in 1-D, the function "
                                   "with its breakpoints) to an image file. Needs matplotlib.")
    _source(c)
    c.add_argument("-o", "--output", type=Path, required=True, help="image file (.png, .pdf, .svg)")
    c.add_argument("--color-by", choices=["region", "linear", "output", "class"], default="region",
                   help="what the colours show (default %(default)s)")
    c.add_argument("--output-index", type=int, default=0, help="which output to show (default 0)")
    c.add_argument("--slice", action="append", default=[], metavar="AXIS=VALUE",
                   help="fix input AXIS at VALUE (repeat until two inputs are left)")
    c.add_argument("--no-edges", action="store_true", help="do not draw region edges")
    c.set_defaults(func=_plot)

    c = sub.add_parser("verify", help="decide a VNN-LIB property exactly",
                       description="Decide a VNN-LIB property (input constraints, and output "
                                   "constraints whose satisfaction is a violation) for a network, "
                                   "exactly, by a property-directed search that splits a cell only "
                                   "while the property is undecided on it. Prints sat (violated, "
                                   "with a counterexample checked in exact arithmetic), unsat (holds, "
                                   "with a proof) or unknown (a budget ran out, with the reason).")
    c.add_argument("net", type=Path, help="network file (.onnx, .pt or .npz)")
    c.add_argument("property", type=Path, help="property file (.vnnlib)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--vnncomp", action="store_true",
                   help="print the answer in the VNN competition's format: sat with ((X_i v) ... (Y_j v)), "
                        "unsat, or timeout/unknown")
    c.add_argument("--answer", type=Path, metavar="FILE",
                   help="also write the competition-format answer to FILE")
    c.add_argument("--certify", action="store_true",
                   help="re-check an unsat proof (exact arithmetic where it decides) before answering")
    c.set_defaults(func=_verify)

    c = sub.add_parser("reach", help="exact reachable sets of a controller in closed loop with a plant",
                       description="Unroll a ReLU controller in closed loop with a plant for some steps and "
                                   "compute the exact forward reachable set of a box of initial states at "
                                   "every step (a union of polytopes), optionally whether the box is invariant "
                                   "(exactly, with a proof or a counterexample) and a picture.")
    c.add_argument("controller", type=Path, help="controller network (.onnx, .pt or .npz): state -> input")
    c.add_argument("plant", type=Path,
                   help="the plant: an .npz with arrays A, B (and c) for x' = A x + B u + c, or a network file "
                        "taking (x, u) and giving x' (a piecewise-affine plant)")
    c.add_argument("--steps", type=int, default=5, help="steps to unroll (default %(default)s)")
    c.add_argument("--x0-lo", type=float, nargs="+", required=True, help="lower corner of the initial states")
    c.add_argument("--x0-hi", type=float, nargs="+", required=True, help="upper corner of the initial states")
    c.add_argument("--invariant", action="store_true", help="also decide whether the initial box is invariant")
    c.add_argument("-o", "--output", type=Path, help="picture of the sets (2 states; needs matplotlib)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=_reach)

    c = sub.add_parser("bench", help="time counting and enumerating networks",
                       description="Time count_regions and enumerate_regions on each network in "
                                   "this process, after loading the compiled kernels; report "
                                   "regions per second and the process's peak memory.")
    c.add_argument("nets", nargs="+", type=Path, help="network files (.npz with lo, hi)")
    c.add_argument("--json", action="store_true", help="print a JSON list of rows")
    c.set_defaults(func=_bench)
    return p


def _source(c):
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("net", nargs="?", help="network file (.npz, or .onnx/.pt with --lo/--hi)")
    src.add_argument("--example", choices=EXAMPLES, help="use a network shipped with regionenum")
    c.add_argument("--input-shape", type=int, nargs="+",
                   help="shape of one input of a .pt model, e.g. 1 8 8 (default: its first Linear's)")
    c.add_argument("--lo", type=float, nargs="+", help="lower corner of the box (overrides the file)")
    c.add_argument("--hi", type=float, nargs="+", help="upper corner of the box (overrides the file)")


def _budgets(c):
    c.add_argument("--max-regions", type=int, help="stop after this many regions")
    c.add_argument("--time-limit", type=float, help="stop after this many seconds")
    c.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help="relative band of float signs re-decided exactly (default %(default)g)")
    c.add_argument("--quiet", action="store_true", help="no progress report on the terminal")


def _load_source(args):
    """The network and box named by ``net``/``--example`` and ``--lo``/``--hi``."""
    path = args.net
    if args.example:
        path = resources.files("regionenum") / "data" / f"{args.example}.npz"
    network, box = _load_network(path, args.input_shape)
    if args.lo is not None or args.hi is not None:
        if args.lo is None or args.hi is None:
            raise RegionEnumError("give both --lo and --hi")
        box = Box(args.lo, args.hi)
    if box is None:
        raise RegionEnumError(f"{path} has no box (lo, hi): pass --lo and --hi")
    return str(path), network, box


def _progress(args) -> ProgressBar:
    """Progress on standard error when it is a terminal, unless ``--quiet``."""
    return ProgressBar(enabled=False if args.quiet else None)


def _load_network(path, input_shape=None):
    """A network (and its box, if the file has one) from ``.npz``, ``.onnx`` or ``.pt``."""
    suffix = Path(path).suffix
    if suffix == ".npz":
        return load(path)
    if suffix not in (".onnx", ".pt"):
        raise RegionEnumError(f"{path}: unsupported model format {suffix!r}; networks are .npz files "
                              "(W0, b0, ..., lo, hi; see regionenum.save), .onnx or .pt")
    if not Path(path).exists():
        raise RegionEnumError(f"no such file: {path}")
    if suffix == ".onnx":
        return Network.from_onnx(path), None
    try:
        import torch
    except ImportError:
        raise RegionEnumError(".pt models need PyTorch (pip install torch)") from None
    model = torch.load(path, weights_only=False)  # a whole pickled module: trusted files only
    if not isinstance(model, torch.nn.Module):
        raise RegionEnumError(f"{path} holds a {type(model).__name__}, not a whole torch.nn.Module "
                              "(save the module itself, not its state dict)")
    if input_shape is None:
        first = next((m for m in model.modules() if isinstance(m, torch.nn.Linear)), None)
        if first is None:
            raise RegionEnumError(f"{path}: give --input-shape (the model does not start with Linear)")
        input_shape = (first.in_features,)
    return Network.from_torch(model, input_shape), None


def _run_options(args):
    return dict(max_regions=args.max_regions, time_limit=args.time_limit, tol=args.tol)


def _warm_up(dim: int, full: bool) -> float:
    """Load (or, on the first run, compile) the kernels on a tiny network, so that the reported
    time is the enumeration's own; returns the seconds this took."""
    start = time.perf_counter()
    tiny = Network.from_layers([(np.eye(dim), np.zeros(dim)), (np.ones((1, dim)), np.zeros(1))])
    box = Box(-np.ones(dim), np.ones(dim))
    (enumerate_regions if full else count_regions)(tiny, box)
    return time.perf_counter() - start


def _print(out: dict, as_json: bool, lines) -> None:
    print(json.dumps(out) if as_json else "\n".join(lines))


def _state(out):
    return "" if out["complete"] else f" (incomplete: stopped by {out['stop_reason']})"


# -- commands -------------------------------------------------------------------------------
def _count(args) -> int:
    path, network, box = _load_source(args)
    startup = _warm_up(network.input_dim, args.full)
    with _progress(args) as bar:
        if args.full:
            regions = enumerate_regions(network, box, progress=bar, **_run_options(args))
            out = dict(regions=len(regions), bounded=int(regions.bounded.sum()),
                       complete=regions.complete, stop_reason=regions.stop_reason,
                       seconds=round(regions.seconds, 4), exact_calls=regions.exact_calls,
                       volume_sum=float(np.sum(regions.volumes)), domain_volume=box.volume())
        else:
            n = count_regions(network, box, progress=bar, **_run_options(args))
            out = dict(regions=int(n), bounded=int(n.bounded), complete=n.complete,
                       stop_reason=n.stop_reason, seconds=round(n.seconds, 4),
                       exact_calls=n.exact_calls)
    out.update(network=path, input_dim=network.input_dim, units=network.n_units,
               lo=box.lo.tolist(), hi=box.hi.tolist(), startup_seconds=round(startup, 4))
    _print(out, args.json, [
        f"{out['regions']} activation regions{_state(out)}",
        f"  network: {path} ({network.input_dim} inputs, {network.n_units} units with several states)",
        f"  domain:  box {box.lo.tolist()} .. {box.hi.tolist()}",
        f"  time:    {out['seconds']:.3f} s, {out['exact_calls']} signs settled exactly "
        f"(and {startup:.1f} s to load or compile the kernels)"])
    return 0


def _enumerate(args) -> int:
    path, network, box = _load_source(args)
    if args.output is None and args.graph is None and not args.json:
        raise RegionEnumError("say where the result goes: -o FILE, --graph FILE, or --json")
    for target, kinds in ((args.output, (".npz", ".json")), (args.graph, (".graphml", ".json"))):
        if target is not None and target.suffix not in kinds:
            raise RegionEnumError(f"{target}: use {' or '.join(kinds)}")
    _warm_up(network.input_dim, True)
    with _progress(args) as bar:
        regions = enumerate_regions(network, box, progress=bar, **_run_options(args))
    out = dict(regions=len(regions), bounded=int(regions.bounded.sum()), complete=regions.complete,
               stop_reason=regions.stop_reason, seconds=round(regions.seconds, 4), network=path)
    if regions.complete:
        out["linear_regions"] = regions.linear_regions().count
    if args.output is not None:
        save_regions(regions, args.output)
        out["output"] = str(args.output)
    if args.graph is not None:
        G = regions.adjacency_graph()
        write_graph(G, args.graph)
        out.update(graph=str(args.graph), graph_edges=G.number_of_edges())
    lines = [f"{out['regions']} activation regions{_state(out)} in {out['seconds']:.3f} s"]
    if "linear_regions" in out:
        lines.append(f"  {out['linear_regions']} linear regions")
    lines += [f"  result written to {out['output']}"] if "output" in out else []
    lines += [f"  graph ({out['graph_edges']} edges) written to {out['graph']}"] if "graph" in out else []
    _print(out, args.json, lines)
    return 0


def _estimate(args) -> int:
    path, network, box = _load_source(args)
    regions = enumerate_regions(network, box)
    rows = estimators.compare(regions, args.budgets, seed=args.seed)
    lines = [f"{path}: {len(regions)} activation regions (exact)", "",
             f"{'method':18s} {'budget':>8s} {'estimate':>10s} {'ratio':>7s} {'seconds':>8s}  "
             "missed by volume quartile"]
    for r in rows:
        missed = " ".join(f"{m:.2f}" for m in r.get("missed_by_volume", []))
        lines.append(f"{r['method']:18s} {r['budget']:8d} {r['estimate']:10.0f} {r['ratio']:7.3f} "
                     f"{r['seconds']:8.4f}  {missed}")
    _print(rows, args.json, lines)
    return 0


def _plot(args) -> int:
    from .plotting import _pyplot, plot_regions
    path, network, box = _load_source(args)
    network, box = _sliced(network, box, args.slice)
    regions = enumerate_regions(network, box)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    plot_regions(regions, ax, color_by=args.color_by, output=args.output_index, edges=not args.no_edges)
    ax.set_title(f"{Path(path).name}: {len(regions)} activation regions")
    fig.tight_layout()
    try:
        fig.savefig(args.output, dpi=130)
    except (ValueError, OSError) as err:
        raise RegionEnumError(f"cannot write {args.output}: {err}") from None
    finally:
        plt.close(fig)
    print(f"{len(regions)} regions drawn to {args.output}")
    return 0


def _sliced(network, box, fixes):
    """Fix the inputs named by ``AXIS=VALUE`` strings: the restricted network and its box."""
    fixed = {}
    for text in fixes:
        axis, sep, value = text.partition("=")
        try:
            axis, value = int(axis), float(value)
        except ValueError:
            sep = ""
        if not sep or not 0 <= axis < network.input_dim:
            raise RegionEnumError(f"--slice {text!r}: expected AXIS=VALUE with AXIS in "
                                  f"0..{network.input_dim - 1}")
        if not box.lo[axis] <= value <= box.hi[axis]:
            raise RegionEnumError(f"--slice {text!r}: {value} is outside the box on axis {axis}")
        fixed[axis] = value
    if not fixed:
        return network, box
    free = [i for i in range(network.input_dim) if i not in fixed]
    origin = np.zeros(network.input_dim)
    for axis, value in fixed.items():
        origin[axis] = value
    return network.restricted(origin, np.eye(network.input_dim)[:, free]), Box(box.lo[free], box.hi[free])


def _demo(args) -> int:
    path = resources.files("regionenum") / "data" / "digits_plane.npz"
    network, box = load(path)
    startup = _warm_up(2, True)
    start = time.perf_counter()
    regions = enumerate_regions(network, box)
    lin = regions.linear_regions()
    dec = regions.decision_regions()
    G = regions.adjacency_graph()
    faces = regions.faces()
    analysis_s = time.perf_counter() - start - regions.seconds
    hidden = list(network.widths[:-1])
    rows = estimators.compare(regions, (1000, 10000), seed=0)
    out = dict(network="digits 64-64-64-10 MLP on the plane through three training images",
               regions=len(regions), linear_regions=lin.count, seconds=round(regions.seconds, 4),
               analysis_seconds=round(analysis_s, 4), startup_seconds=round(startup, 4),
               decision_regions=[dict(class_=int(c), area=float(v)) for c, v in zip(dec.classes, dec.volumes)],
               graph_edges=G.number_of_edges(), f_vector=faces.f_vector.tolist(),
               euler_characteristic=faces.euler_characteristic,
               bounds=dict(serra=bounds.serra(2, hidden), trivial=bounds.trivial(hidden)),
               estimators=[{k: r[k] for k in ("method", "budget", "estimate", "ratio")} for r in rows])
    picture = _demo_picture(regions, args.output)
    out["picture"] = str(args.output) if picture else None
    lines = [
        f"regionenum demo: {out['network']}",
        f"  {len(regions)} activation regions, {lin.count} linear regions, enumerated exactly in "
        f"{regions.seconds:.3f} s (analyses {analysis_s:.2f} s; loading the kernels {startup:.1f} s)",
        f"  {len(dec)} decision regions: " + ", ".join(
            f"class {c} (area {v:.3f})" for c, v in zip(dec.classes, dec.volumes)),
        f"  adjacency graph: {G.number_of_edges()} shared facets; faces V, E, F = "
        f"{', '.join(map(str, faces.f_vector))}, V - E + F = {faces.euler_characteristic}",
        f"  bounds for widths {hidden} on the whole plane: Serra et al. {out['bounds']['serra']:.3g}, "
        f"2^N {out['bounds']['trivial']:.3g}",
        "  estimators against the exact count:"]
    for r in rows:
        lines.append(f"    {r['method']:16s} budget {r['budget']:6d}: {r['estimate']:9.0f}  "
                     f"({100 * r['ratio']:.1f}% of exact)")
    lines.append(f"  picture: {args.output}" if picture else
                 "  (no picture: pip install 'regionenum[plot]' for matplotlib)")
    _print(out, args.json, lines)
    return 0


def _demo_picture(regions, path) -> bool:
    try:
        from .plotting import _pyplot, plot_regions
        plt = _pyplot()
    except RegionEnumError:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.5))
    plot_regions(regions, left, color_by="linear")
    left.set_title(f"{len(regions)} activation regions, coloured by linear region")
    plot_regions(regions, right, color_by="class")
    right.set_title("decision regions and boundary")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except (ValueError, OSError) as err:
        raise RegionEnumError(f"cannot write {path}: {err}") from None
    finally:
        plt.close(fig)
    return True


def _verify(args) -> int:
    from .verify import certify
    from .verify.vnnlib import check_vnnlib, competition_answer, parse_vnnlib
    network, _ = _load_network(args.net, getattr(args, "input_shape", None))
    prop = parse_vnnlib(args.property)
    with ProgressBar(enabled=False if getattr(args, "quiet", False) or args.vnncomp else None) as bar:
        res = check_vnnlib(network, prop, time_limit=getattr(args, "time_limit", None), progress=bar)
    out = dict(status=res.status, cells=res.cells, seconds=round(res.seconds, 4),
               counterexample=None if res.counterexample is None else res.counterexample.tolist(),
               outputs=None if res.outputs is None else res.outputs.tolist(), reason=res.reason or None)
    lines = [res.status]
    if res.counterexample is not None:
        lines += [f"  counterexample x = {res.counterexample.tolist()}", f"  outputs y = {res.outputs.tolist()}",
                  "  (checked in exact arithmetic)"]
    if res.reason:
        lines.append(f"  {res.reason}")
    if res.proof is not None:
        lines.append(f"  proof: {res.proof.cells} cells, {res.proof.leaves} decided")
        if args.certify:
            check = certify(res.proof)
            out["certified"] = dict(claims=check.claims, seconds=round(check.seconds, 4))
            lines.append(f"  proof re-checked: {check.claims} claims in exact arithmetic, {check.seconds:.3f} s")
    lines.append(f"  ({res.cells} cells, {res.seconds:.3f} s)")
    answer = competition_answer(res)
    if args.answer is not None:
        try:
            args.answer.write_text(answer)
        except OSError as err:
            raise RegionEnumError(f"cannot write {args.answer}: {err}") from None
    if args.vnncomp:
        print(answer, end="")
    else:
        _print(out, args.json, lines)
    return 0


def _reach(args) -> int:
    from .verify import closed_loop, forward_reachable, is_invariant, plot_reachable, simulate
    controller, _ = _load_network(args.controller, getattr(args, "input_shape", None))
    A = B = c = plant = None
    if args.plant.suffix == ".npz" and args.plant.exists():
        with np.load(args.plant) as data:
            if "A" in data.files and "B" in data.files:
                A, B = data["A"], data["B"]
                c = data["c"] if "c" in data.files else None
    if A is None:
        plant, _ = _load_network(args.plant)
    step = closed_loop(controller, A=A, B=B, c=c, plant=plant)
    initial = Box(args.x0_lo, args.x0_hi)
    if initial.dim != step.input_dim:
        raise RegionEnumError(f"the initial box has {initial.dim} coordinates but the state has {step.input_dim}")
    start = time.perf_counter()
    sets = forward_reachable(step, initial, args.steps, time_limit=getattr(args, "time_limit", None))
    rows = []
    for reach in sets:
        lo, hi = reach.bounds()
        rows.append(dict(step=reach.step, pieces=len(reach), lo=lo.tolist(), hi=hi.tolist()))
    out = dict(states=step.input_dim, steps=args.steps, sets=rows, seconds=round(time.perf_counter() - start, 4))
    lines = [f"exact reachable sets of {args.steps} steps from the box {initial.lo.tolist()} .. {initial.hi.tolist()}"]
    lines += [f"  step {r['step']:3d}: {r['pieces']:5d} pieces, within "
              + " x ".join(f"[{a:.4g}, {b:.4g}]" for a, b in zip(r["lo"], r["hi"])) for r in rows]
    if args.invariant:
        res = is_invariant(step, initial, time_limit=getattr(args, "time_limit", None))
        out["invariant"] = res.holds
        if res.holds is False:
            out["leaves_from"] = res.counterexample.tolist()
            lines.append(f"  not invariant: the state {res.counterexample.tolist()} steps to "
                         f"{step(res.counterexample[None])[0].tolist()}")
        else:
            lines.append("  invariant (proven)" if res.holds else f"  invariance unknown: {res.reason}")
    if args.output is not None:
        from .plotting import _pyplot
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(7, 5.5))
        X0 = initial.lo + (initial.hi - initial.lo) * np.random.default_rng(0).random((40, initial.dim))
        plot_reachable(sets, ax, initial=initial, trajectories=simulate(step, X0, args.steps))
        fig.tight_layout()
        try:
            fig.savefig(args.output, dpi=110)
        except (ValueError, OSError) as err:
            raise RegionEnumError(f"cannot write {args.output}: {err}") from None
        finally:
            plt.close(fig)
        out["picture"] = str(args.output)
        lines.append(f"  picture: {args.output}")
    lines.append(f"  ({out['seconds']:.3f} s)")
    _print(out, args.json, lines)
    return 0


def _bench(args) -> int:
    rows = []
    warmed = set()
    for path in args.nets:
        network, box = _load_network(path)
        if box is None:
            raise RegionEnumError(f"{path} has no box (lo, hi)")
        if network.input_dim not in warmed:
            _warm_up(network.input_dim, True)
            _warm_up(network.input_dim, False)
            warmed.add(network.input_dim)
        for mode, run in (("count", count_regions), ("enumerate", enumerate_regions)):
            start = time.perf_counter()
            n = len(run(network, box)) if mode == "enumerate" else int(run(network, box))
            s = time.perf_counter() - start
            rows.append(dict(net=str(path), mode=mode, regions=n, seconds=round(s, 4),
                             regions_per_s=round(n / s), peak_mb=_peak_mb()))
    lines = [f"{'net':30s} {'mode':9s} {'regions':>9s} {'seconds':>8s} {'regions/s':>10s} {'peak MB':>8s}"]
    lines += [f"{r['net'][-30:]:30s} {r['mode']:9s} {r['regions']:9d} {r['seconds']:8.3f} "
              f"{r['regions_per_s']:10d} {_mb(r['peak_mb']):>8s}" for r in rows]
    lines.append("(peak MB is this process's so far; benchmarks/bench_suite.py runs each net in a "
                 "fresh process)")
    _print(rows, args.json, lines)
    return 0


def _mb(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def _peak_mb() -> float | None:
    """This process's peak resident memory in MB, where the platform reports it (not on
    Windows, which has no ``resource`` module)."""
    try:
        import resource
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
