"""An adversarial campaign: python benchmarks/adversarial.py [--nets N] [--seed S]

Draws small networks (1 to 3 inputs, 1 to 3 layers of 2 to 8 units) from families built to
break float64 sign decisions, and checks every one four ways:

- ``certify``: the enumeration re-checked in exact rational arithmetic (every region has
  interior, patterns are distinct, every cell's exact vertices satisfy its region's
  constraints, exact volumes sum to the domain's, facets are consistent) -- an oracle that
  shares no sign decision with the engine;
- ``vertices``: every vertex of every cell is within the error bound it carries of the exact
  vertex (its tight constraints' exact rows, in integers), and that bound is at most
  ``regionenum.engine.exact_vertices.LOOSE`` times the cell's extent;
- ``count``: ``count_regions`` equals the enumeration's length (a second code path: the
  frontier only, no assembly);
- ``rewrites``: the count is unchanged under rewrites that are exact in float64 (a layer scaled
  by ``2^k`` with the next layer's weights divided by it, units permuted, a unit duplicated with
  its outgoing weights halved).

Families: ``mixed`` (entries spanning ten orders of magnitude), ``near_duplicates`` (copies of
units perturbed by about 1e-12 relative), ``concurrent`` (hyperplanes through shared dyadic
points, and repeated ones), ``scaled`` (every layer scaled by a power of two from 2^-200 to
2^200), ``tiny_far`` (boxes of radius 1e-6 to 1e-3 centred up to 1e4 away), ``leaky`` (LeakyReLU
with slopes down to 1e-30), ``far_out`` (boxes of radius 2^10 to 2^400, the first layer's
weights scaled to match and the hidden biases by its square: values up to about 2^800),
``subnormal`` (half of each hidden layer's rows near 2^-1040, below float64's normal range,
next to ordinary ones; layers scaled by 2^-500 to 2^500 with the next scaled back; LeakyReLU
slopes from 1e-30 to 1e30), ``many_inputs`` (six inputs, so the step for many inputs, which
finds regions by inequalities and linear programmes, without vertices: its regions are checked
against the vertex step's on the same network, certified; entries from 2^-1060 to 2^200,
LeakyReLU slopes from 1e-30 to 1e30). Prints
a summary per family and every failure with its seed (to reproduce: ``--seed S --nets 1
--family F``); writes ``results/adversarial.md``. Run by hand.

``--shared-rows`` makes every layer's rows (these networks' layers are narrow) come from matrix
products of blocks shared by all of a parent's consecutive children, whatever they differ on,
each child adding its own terms of those units (``shared_rows_and_bounds`` in
``regionenum/engine/kernels/rows.py``; wide layers take that path for siblings that differ on
few units): it writes ``results/adversarial_shared_rows.md``.

``--norm-bounds-only`` makes every row-error bound the cell's norm bound alone (the bound
carried by ``||W||_2``, see ``regionenum/engine/polytope_step.py``) instead of the smallest of the
engine's bounds, to check it by itself on these networks (it writes
``results/adversarial_norm_bounds.md``); ``--unit-norm-bounds-only`` makes it each unit's row
norm times the carried norm, never the product through ``|W|`` (it writes
``results/adversarial_unit_norm_bounds.md``).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

import regionenum as rn
import regionenum.engine.api as api
from regionenum.engine import line_step
from regionenum.engine.exact_vertices import LOOSE

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository's test helpers
from tests.bounds import (misplaced_vertex, norm_bounds_only, shared_rows_everywhere,  # noqa: E402
                          unit_norm_bounds_only)
from tests.rewrites import (duplicated, is_exact_duplication, is_exact_rescaling, permuted,  # noqa: E402
                            rescaled)

from results_file import write_run  # noqa: E402 (beside this script)

RESULTS = ROOT / "benchmarks" / "results"
FAMILIES = ["mixed", "near_duplicates", "concurrent", "scaled", "tiny_far", "leaky", "far_out", "subnormal",
            "many_inputs"]


def _dyadic(a, bits=24):
    m, e = np.frexp(np.asarray(a, dtype=np.float64))
    return np.ldexp(np.round(m * 2.0 ** bits), e - bits)


def draw(family: str, rng, inputs: int | None = None):
    """A network's layers, activations and a box for ``family``, with ``inputs`` inputs (1 to 3
    at random where None; six for ``many_inputs``)."""
    d = inputs or int(rng.integers(1, 4))
    widths = [d] + [int(rng.integers(2, 9)) for _ in range(int(rng.integers(1, 4)))] + [1]
    layers = [(rng.normal(size=(o, i)), rng.normal(size=o) * 0.5) for i, o in zip(widths[:-1], widths[1:])]
    acts = None
    lo, hi = -np.ones(d), np.ones(d)
    if family == "mixed":
        layers = [(W * 10.0 ** rng.uniform(-5, 5, W.shape), b * 10.0 ** rng.uniform(-5, 5, b.shape))
                  for W, b in layers]
    elif family == "near_duplicates":
        W, b = layers[0]
        k = int(rng.integers(W.shape[0]))
        W = np.vstack([W, W[k] * (1 + 1e-12 * rng.normal(size=d))])
        b = np.r_[b, b[k] * (1 + 1e-12 * rng.normal())]
        V, c = layers[1]
        layers = [(W, b), (np.hstack([V, rng.normal(size=(V.shape[0], 1))]), c)] + layers[2:]
    elif family == "concurrent":
        W, b = layers[0]
        W = _dyadic(W, 8)
        points = _dyadic(rng.uniform(-0.5, 0.5, (2, d)), 6)
        b = -np.einsum("ij,ij->i", W, points[rng.integers(0, 2, W.shape[0])])  # through shared points
        if W.shape[0] > 2:
            W[-1], b[-1] = W[0], b[0]  # a repeated hyperplane
        layers = [(W, b)] + layers[1:]
    elif family == "scaled":
        e = int(rng.integers(-200, 201))
        layers = [(W * 2.0 ** e, b * 2.0 ** (e * (l + 1))) for l, (W, b) in enumerate(layers)]
    elif family == "tiny_far":
        centre = rng.uniform(-1, 1, d) * 10.0 ** rng.uniform(0, 4)
        r = 10.0 ** rng.uniform(-6, -3)
        lo, hi = centre - r, centre + r
        W0, b0 = layers[0]
        x = centre + r * rng.uniform(-0.5, 0.5, (W0.shape[0], d))
        layers[0] = (W0, -np.einsum("ij,ij->i", W0, x))  # hyperplanes through points of the box
    elif family == "leaky":
        alpha = 10.0 ** rng.uniform(-30, -1)
        acts = [("leaky_relu", alpha)] * (len(layers) - 1) + ["identity"]
    elif family == "far_out":  # inputs scaled by 2^e, every pre-activation by 2^(2e)
        e = int(rng.integers(10, 401))
        lo, hi = np.ldexp(lo, e), np.ldexp(hi, e)
        layers = [(np.ldexp(W, e) if l == 0 else W, np.ldexp(b, 2 * e) if l < len(layers) - 1 else b)
                  for l, (W, b) in enumerate(layers)]
    elif family == "many_inputs":  # six inputs: the H-representation step; entries from 2^-1060 to 2^200
        d = 6
        widths = [d] + [int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3)))] + [1]
        layers = []
        for i, o in zip(widths[:-1], widths[1:]):
            W, b = rng.normal(size=(o, i)), rng.normal(size=o) * 0.5
            for a in (W, b):
                pick = rng.random(a.shape)
                tiny, big = pick < 0.15, pick > 0.9
                a[tiny] = np.ldexp(a[tiny], rng.integers(-1060, -1000, size=int(tiny.sum())))
                a[big] = np.ldexp(a[big], rng.integers(-200, 201, size=int(big.sum())))
            layers.append((W, b))
        lo, hi = -np.ones(d), np.ones(d)
        slopes = [1e-30, 0.1, 3.0, 1e30]
        acts = [("leaky_relu", slopes[int(rng.integers(4))]) if rng.random() < 0.4 else "relu"
                for _ in layers[:-1]] + ["identity"]
    elif family == "subnormal":
        layers = [(W.copy(), b.copy()) for W, b in layers]
        for l in range(len(layers) - 1):
            (W, b), (V, c) = layers[l], layers[l + 1]
            rows = rng.random(len(b)) < 0.5
            e = int(rng.integers(-1060, -1000))
            W[rows], b[rows] = np.ldexp(W[rows], e), np.ldexp(b[rows], e)
            if rng.random() < 0.5:  # the layer scaled, the next scaled back (exact where nothing underflows)
                k = int(rng.integers(-500, 501))
                layers[l], layers[l + 1] = (np.ldexp(W, k), np.ldexp(b, k)), (np.ldexp(V, -k), c)
        slopes = [1e-30, 0.1, 3.0, 1e30]
        acts = [("leaky_relu", slopes[int(rng.integers(4))]) if rng.random() < 0.5 else "relu"
                for _ in layers[:-1]] + ["identity"]
    return layers, acts, rn.Box(lo, hi)


def check(family: str, seed: int, inputs: int | None = None) -> str | None:
    """None if the network of ``family`` and ``seed`` (``inputs`` inputs, see :func:`draw`) passes
    every check, else what failed."""
    rng = np.random.default_rng(seed)
    layers, acts, box = draw(family, rng, inputs)

    def net(ls):
        return rn.Network.from_layers(ls, acts)

    regions = rn.enumerate_regions(net(layers), box)
    n = len(regions)
    try:
        if family == "many_inputs":  # regions by inequalities, without vertices: the vertex step's, certified
            reference = _by_vertices(net(layers), box)
            rn.certify(reference, backend="fractions")
            if not np.array_equal(reference.packed_patterns, regions.packed_patterns):
                return f"{n} regions, the vertex step's certified {len(reference)}, or other patterns"
        else:
            rn.certify(regions, backend="fractions")
    except rn.CertificationError as err:
        return f"certify: {err}"
    misplaced = misplaced_vertex(regions, LOOSE) if family != "many_inputs" else None
    if misplaced:
        return f"vertices: {misplaced}"
    counted = int(rn.count_regions(net(layers), box))
    if counted != n:
        return f"count {counted} != enumerate {n}"
    l = int(rng.integers(len(layers) - 1)) if len(layers) > 1 else None
    if l is not None:
        k, perm = int(rng.integers(-60, 61)), rng.permutation(len(layers[l][1]))
        unit = int(rng.integers(len(layers[l][1])))
        rewrites = {"rescaled": rescaled(layers, l, k) if is_exact_rescaling(layers, l, k) else None,
                    "permuted": permuted(layers, l, perm),
                    "duplicated": duplicated(layers, l, unit) if is_exact_duplication(layers, l, unit) else None}
        for name, ls in rewrites.items():
            if ls is None:  # a rewrite that would lose bits (below the normal range) is another network
                continue
            m = len(rn.enumerate_regions(net(ls), box))
            if m != n:
                return f"{name}: {m} regions, {n} before"
            if box.dim == 1 and int(rn.count_regions(net(ls), box)) != n:  # the count's own step on a line
                return f"{name}: counted {int(rn.count_regions(net(ls), box))}, {n} before"
    return None


def _by_vertices(network, box):
    """The regions of ``network`` on ``box`` from the step for few inputs (vertices), whatever the
    number of inputs."""
    applies = api.hrep_applies
    api.hrep_applies = lambda network, domain: False
    try:
        return rn.enumerate_regions(network, box)
    finally:
        api.hrep_applies = applies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", type=int, default=300, help="networks per family (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--family", choices=FAMILIES, action="append", help="only these families")
    parser.add_argument("--inputs", type=int, choices=(1, 2, 3),
                        help="networks of this many inputs only (default: 1 to 3 at random)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--norm-bounds-only", action="store_true",
                      help="every row-error bound is the cell's norm bound alone (checks that bound)")
    only.add_argument("--unit-norm-bounds-only", action="store_true",
                      help="every row-error bound is the unit's row norm times the cell's carried norm")
    parser.add_argument("--shared-rows", action="store_true",
                        help="every layer's rows from blocks shared by all of a parent's consecutive children")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.norm_bounds_only:
            stack.enter_context(norm_bounds_only())
        if args.unit_norm_bounds_only:
            stack.enter_context(unit_norm_bounds_only())
        if args.shared_rows:
            stack.enter_context(shared_rows_everywhere())
        return campaign(args)


def _watch_line_step() -> Counter:
    """Counts of the runs of the step for counts on one input (``runs``) and of those it handed
    to the general step (``handed on``), kept as the campaign goes."""
    seen, start, process = Counter(), line_step.LineStep.start, line_step.LineStep.process

    def counted_start(self, tally):
        seen["runs"] += 1
        return start(self, tally)

    def counted_process(self, entry, tally):
        try:
            return process(self, entry, tally)
        except line_step.Unproven:
            seen["handed on"] += 1
            raise

    line_step.LineStep.start, line_step.LineStep.process = counted_start, counted_process
    return seen


def campaign(args) -> None:
    """Run the families of ``args`` and write the summary."""
    families = args.family or FAMILIES
    summary, failures = {}, []
    lines_seen = _watch_line_step()
    for family in families:
        start, outcome, lines_before = time.perf_counter(), Counter(), Counter(lines_seen)
        for seed in range(args.seed, args.seed + args.nets):
            try:
                problem = check(family, seed, args.inputs)
            except Exception as err:  # a crash is a failure too, with its type
                problem = f"{type(err).__name__}: {err}".splitlines()[0]
                if not isinstance(err, rn.RegionEnumError):
                    problem += " | " + traceback.format_exc().splitlines()[-3].strip()
            outcome["failed" if problem else "passed"] += 1
            if problem:
                failures.append((family, seed, problem))
                print(f"FAIL {family} seed {seed}: {problem}", flush=True)
        runs = lines_seen - lines_before
        summary[family] = (outcome["passed"], outcome["failed"], time.perf_counter() - start,
                           runs["runs"], runs["handed on"])
        print(f"{family:16s} {outcome['passed']:5d} passed {outcome['failed']:4d} failed "
              f"({summary[family][2]:.1f} s)", flush=True)
    flag, title, name = "", "", "adversarial.md"
    if args.norm_bounds_only:
        flag, title, name = " --norm-bounds-only", ": the norm bound alone", "adversarial_norm_bounds.md"
    if args.unit_norm_bounds_only:
        flag, title, name = (" --unit-norm-bounds-only", ": the per-unit norm bound alone",
                             "adversarial_unit_norm_bounds.md")
    for on, option, words, suffix in (
            (args.shared_rows, " --shared-rows", "rows shared by siblings", "_shared_rows"),
            (args.inputs, f" --inputs {args.inputs}", f"{args.inputs} input(s)", f"_{args.inputs}_input")):
        if on:
            flag, title = flag + option, title + (", " if title else ": ") + words
            name = name.replace(".md", suffix + ".md")
    lines = ["# Adversarial campaign" + title, "",
             f"`python benchmarks/adversarial.py --nets {args.nets} --seed {args.seed}{flag}`: each network "
             "enumerated, certified in exact arithmetic, its vertices checked against their error bounds, "
             "counted by `count_regions`, and enumerated again after exact rewrites (see the script's "
             "description).", "",
             "| family | passed | failed | seconds | counts on one input | handed on |", "|---|---|---|---|---|---|"]
    lines += [f"| {f} | {p} | {x} | {s:.1f} | {r} | {h} |" for f, (p, x, s, r, h) in summary.items()]
    lines += ["", ("Counts on one input: the counts run by values at the breakpoints "
                   "(`regionenum/engine/line_step.py`; the network's, its rewrites'), and how many of them it "
                   "handed to the general step (a sign its bounds did not prove).")]
    if failures:
        lines += ["", "Failures (family, seed, what):", ""]
        lines += [f"- {f} {s}: {p}" for f, s, p in failures]
    write_run(RESULTS / name, lines)


if __name__ == "__main__":
    main()
