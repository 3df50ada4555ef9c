"""Command line: ``regionenum {demo,count,enumerate,estimate,plot,verify,reach,bench} ...`` (``--help``
on each).

Every command checks its arguments, the model and the domain (dimensions, output folders and
formats) before any work. Exit codes: 0 success, also for a run stopped by a budget or Ctrl-C
(the output then says ``complete: false`` and why, with what was found so far); 2 bad arguments
or input files; 1 an unexpected failure.

Ctrl-C stops the work at any moment and the command reports what it has: an engine run ends
with the regions found so far, and an interrupt between runs (loading, analysing, drawing)
stops the command before its next step. Writing files and the report itself are never cut
short. A second Ctrl-C quits at once, without a report.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
from numba.core import event

from .core.domain import Box
from .core.paths import writable
from .core.slices import Slice
from .core.tolerances import DEFAULT_TOL
from .counting import bounds, estimators
from .engine import count_regions, enumerate_regions, kernels
from .engine.driver import DeferredInterrupts
from .engine.kernels import KernelClock
from .engine.polytope_step import MAX_DIM
from .errors import (FileFormatError, IncompleteResultError, InvalidArgumentError, InvalidDomainError,
                     MissingFileError, RegionEnumError)
from .io import save_regions, write_graph
from .io.models import load_input, load_model
from .io.networks import npz_arrays
from .progress import ProgressBar

EXAMPLES = ("digits_plane",)
PICTURE_SUFFIXES = (".png", ".pdf", ".svg", ".eps", ".jpg", ".jpeg")
#: Said once, on standard error, when a process starts compiling the kernels (a machine's first
#: run; measured on 2 cores with an empty cache: 19 s for count, 36 s for enumerate, 46 s for the demo).
COMPILING = ("regionenum: compiling the kernels for this machine (once per machine: usually under a "
             "minute; later runs load them in about a second) ...")


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    with _Session(quiet=getattr(args, "quiet", False)) as session:
        report = _Report(session, as_json=getattr(args, "json", False))
        try:
            _check_distinct_files(args)
            with KernelClock() as clock:
                args.func(args, report)
                session.check()  # Ctrl-C during the last step: say so (what it made is whole)
        except (KeyboardInterrupt, _InterruptedCompiling):  # a safe point after Ctrl-C, or a compile
            report.interrupted()
        except RegionEnumError as err:
            if not (session.interrupts and isinstance(err, IncompleteResultError)):
                print(f"regionenum: error: {err}", file=sys.stderr)
                return 2
            report.interrupted()  # an analysis refused the result Ctrl-C left incomplete
        report.out["kernel_seconds"] = round(clock.seconds, 3)
        report.print()
    return 0


# -- process-wide setup -----------------------------------------------------------------------
class _Session(DeferredInterrupts):
    """What one command sets up for the whole process: Ctrl-C and the one-time message when the
    kernels start compiling.

    Ctrl-C is the engine's deferred interrupt (:class:`~regionenum.engine.driver.DeferredInterrupts`,
    entered here for the whole command, so that every run shares it): it raises a flag, which a
    run looks at between kernel calls and then ends with what it found, and which :meth:`check`
    turns into a KeyboardInterrupt between the steps of a command (raised while a compiled
    kernel returns its results, a KeyboardInterrupt can crash Numba). While Numba compiles
    (plain Python code, up to a minute on a machine's first run) it raises
    :class:`_InterruptedCompiling` at once, which ends the command. A second Ctrl-C quits at
    once, without a report (exit status 130).
    """

    def __init__(self, quiet: bool):
        super().__init__()
        self.quiet = quiet
        self.interrupts = 0
        self._delivered = 0
        self._compiling = _CompileDepth()
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "_Session":
        stack = self._stack
        stack.enter_context(event.install_listener("numba:compile", self._compiling))
        stack.callback(setattr, kernels, "on_first_compile", kernels.on_first_compile)
        if not self.quiet:
            kernels.on_first_compile = _say_compiling
        super().__enter__()
        stack.push(super().__exit__)
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _handler(self, signum, frame) -> None:
        self.interrupts += 1
        if self.interrupts > 1:
            os.write(2, b"\nregionenum: interrupted again: quitting without a report\n")
            os._exit(130)
        # os.write: the interrupted code may be inside a print
        os.write(2, b"\nregionenum: stopping with what was found so far (Ctrl-C again to quit at once, "
                    b"without a report)\n")
        self.raised = True  # runs stop at their next check
        if self._compiling.depth:
            self._delivered = self.interrupts
            raise _InterruptedCompiling

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C came and no run has stopped for it yet."""
        if self.interrupts > self._delivered:
            self._delivered = self.interrupts
            raise KeyboardInterrupt

    def stopped(self, result) -> None:
        """Note that an engine run ended because of Ctrl-C (its ``stop_reason`` says so): the
        command goes on to report what the run found."""
        if result.stop_reason == "interrupted":
            self._delivered = self.interrupts


class _InterruptedCompiling(BaseException):
    """Ctrl-C that came while Numba compiled a kernel. It may have cut Numba's compiler anywhere,
    for example half way through loading its typing registries, after which every later
    compilation in the process fails; so it is not a KeyboardInterrupt, which an engine run
    catches to end with what it found and then goes on (assembling the regions compiles more
    kernels). It goes straight up to :func:`main`, which reports the command as interrupted
    with what it had so far, and nothing is compiled after it."""


class _CompileDepth(event.Listener):
    """How many Numba compilations are under way in this process (nested ones count)."""

    def __init__(self):
        self.depth = 0

    def on_start(self, ev):
        self.depth += 1

    def on_end(self, ev):
        self.depth -= 1


def _say_compiling() -> None:
    print(COMPILING, file=sys.stderr, flush=True)


class _Report:
    """What a command prints: ``out`` (the JSON object) and, for text, ``text(out)`` (a list of
    lines). Commands fill ``out`` as they go, so that a command stopped at any moment still
    reports what it has; :meth:`begin` names each step (reported if interrupted) and is a safe
    point for Ctrl-C; ``progress`` is the engine's progress bar (how far a run got)."""

    def __init__(self, session: _Session, as_json: bool):
        self.session = session
        self.as_json = as_json
        self.out = {}
        self.text = None
        self.step = self.next_step = "loading the model"
        self.progress = None

    def begin(self, step: str) -> None:
        """Start ``step``, after stopping here if Ctrl-C came during the previous one."""
        self.next_step = step
        self.session.check()
        self.step = step

    def interrupted(self) -> None:
        """Note that Ctrl-C stopped the command during ``step``, before ``next_step``. A result the
        engine finished stays complete (only the steps after it were skipped); without one, the
        output is incomplete, with the regions found so far if the engine was running."""
        out = self.out
        out["interrupted_while"] = self.step
        if self.next_step != self.step:
            out["skipped_from"] = self.next_step
        if "complete" not in out:
            out["complete"], out["stop_reason"] = False, "interrupted"
            last = self.progress.last if self.progress is not None else None
            if "regions" not in out and last is not None:
                out["regions"] = last.regions

    def print(self) -> None:
        lines = self.text(self.out) if self.text is not None else []
        if "interrupted_while" in self.out:
            skipped = self.out.get("skipped_from")
            lines.append(f"  Ctrl-C while {self.out['interrupted_while']}"
                         + (f": stopped before {skipped}" if skipped else ""))
        try:
            print(json.dumps(self.out) if self.as_json else "\n".join(lines), flush=True)
        except BrokenPipeError:  # the reader went away (| head): say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# -- arguments --------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse's parser, taking a negative number in any notation Python reads (``-1e-3``,
    ``-2.``, ``-inf``) as a value: argparse's own pattern takes ``-1`` and ``-.5`` only, and
    ``--lo -1e-3 -1`` failed with "expected at least one argument" (``--lo=-1e-3`` was the
    way round). The sub-commands' parsers are of the same class."""

    NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^-inf(inity)?$", re.IGNORECASE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = self.NEGATIVE_NUMBER


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="regionenum", description=(
        "Exact enumeration of the activation regions of ReLU-type networks. Networks are .npz "
        "files (W0, b0, W1, b1, ..., and the box lo, hi) or .onnx/.pt models (with --lo/--hi); "
        "--example uses one shipped with regionenum. Ctrl-C stops any command with what it has "
        "found (exit status 0)."))
    p.add_argument("--version", action="version",
                   version=f"regionenum {importlib.metadata.version('regionenum')}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("demo", help="a tour on a bundled trained classifier, with a picture",
                       description="Enumerate the regions of a trained digits classifier on the "
                                   "plane through three of its training images; print activation, "
                                   "linear and decision regions, bounds, the Lipschitz constant and "
                                   "estimators against the exact count; draw the partition.")
    c.add_argument("--example", choices=EXAMPLES, default=EXAMPLES[0],
                   help="the bundled network to tour (default %(default)s)")
    c.add_argument("-o", "--output", type=Path, default=Path("regionenum_demo.png"),
                   help=f"picture to write (default %(default)s; {'/'.join(PICTURE_SUFFIXES)}; "
                        "needs matplotlib)")
    _json(c)
    c.set_defaults(func=_demo)

    c = sub.add_parser("count", help="count the activation regions",
                       description="Count the activation regions of a network on its box (or a "
                                   "slice or plane of it), exactly.")
    _source(c)
    _domain(c)
    _budgets(c)
    c.add_argument("--full", action="store_true",
                   help="enumerate all region geometry too and check that the volumes add up")
    c.add_argument("--certify", action="store_true",
                   help="re-check the regions in exact rational arithmetic (interiors, distinct patterns, "
                        "exact volumes summing to the domain's, consistent facets); slower than the count")
    _json(c)
    c.set_defaults(func=_count)

    c = sub.add_parser("enumerate", help="enumerate the regions and save them",
                       description="Enumerate every region and write the result (.npz or .json, "
                                   "loadable with regionenum.load_regions) and/or the adjacency "
                                   "graph (.graphml or .json).")
    _source(c)
    _domain(c)
    _budgets(c)
    c.add_argument("-o", "--output", type=Path, help="result file: .npz or .json")
    c.add_argument("--graph", type=Path, help="adjacency graph file: .graphml or .json")
    _json(c)
    c.set_defaults(func=_enumerate)

    c = sub.add_parser("estimate", help="sampling estimators against the exact count",
                       description="Run the sampling estimators (random and grid patterns, Chao1) "
                                   "at several budgets and the Hanin-Rolnick prediction against "
                                   "the exact count.")
    _source(c)
    _domain(c)
    _budgets(c)
    c.add_argument("--budgets", type=_positive(int), nargs="+", default=[100, 1000, 10000, 100000],
                   help="sample budgets (default %(default)s)")
    c.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    _json(c)
    c.set_defaults(func=_estimate)

    c = sub.add_parser("plot", help="draw the regions (1-D or 2-D, or a slice or plane)",
                       description="Draw the partition into regions (or, in 1-D, the function "
                                   "with its breakpoints) to an image file. Needs matplotlib.")
    _source(c)
    _domain(c)
    _budgets(c)
    c.add_argument("-o", "--output", type=Path, required=True,
                   help=f"image file ({', '.join(PICTURE_SUFFIXES)})")
    c.add_argument("--color-by", choices=["region", "linear", "output", "class"], default="region",
                   help="region: neighbours differ; linear: linear regions, touching ones differ; "
                        "output: one output, shaded continuously; class: decision regions "
                        "(default %(default)s)")
    c.add_argument("--output-index", type=int, default=0, help="which output to show (default 0)")
    c.add_argument("--no-edges", action="store_true", help="do not draw region edges")
    _json(c)
    c.set_defaults(func=_plot)

    c = sub.add_parser("verify", help="decide a VNN-LIB property exactly",
                       usage="regionenum verify [-h] (NET | --example NAME) [PROPERTY] [options]",
                       description="Decide a VNN-LIB property (input constraints, and output "
                                   "constraints whose satisfaction is a violation) for a network, "
                                   "exactly, by a property-directed search that splits a cell only "
                                   "while the property is undecided on it. Prints sat (violated, "
                                   "with a counterexample checked in exact arithmetic), unsat (holds, "
                                   "with a proof) or unknown (a budget ran out, with the reason). "
                                   "With --example and no property file, the example's own property "
                                   "(regionenum/data/NAME.vnnlib) is decided.")
    c.add_argument("files", nargs="*", type=Path, metavar="NET PROPERTY",
                   help="network file (.onnx, .pt or .npz) and property file (.vnnlib)")
    c.add_argument("--example", choices=EXAMPLES, help="use a network shipped with regionenum")
    _input_shape(c)
    _domain(c, box=False)
    _budgets(c, regions=False)
    _json(c)
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
    _input_shape(c)
    _budgets(c, regions=False)
    _json(c)
    c.set_defaults(func=_reach)

    c = sub.add_parser("bench", help="time counting and enumerating networks",
                       description="Time count_regions and enumerate_regions on each network in "
                                   "this process; report regions per second and the process's peak "
                                   "memory. Loading (on a machine's first run, compiling) the "
                                   "kernels is timed apart.")
    c.add_argument("nets", nargs="*", type=Path, help="network files (.npz with lo, hi; .onnx or .pt "
                                                      "with --lo/--hi)")
    c.add_argument("--example", choices=EXAMPLES, action="append", default=[],
                   help="also time a network shipped with regionenum (repeatable)")
    _input_shape(c)
    _box(c)
    _budgets(c, progress=False)
    _json(c)
    c.set_defaults(func=_bench)
    return p


def _positive(kind):
    """An argparse type: a positive ``kind`` (int or float)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be positive and finite, got {text}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _source(c):
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("net", nargs="?", help="network file (.npz, or .onnx/.pt with --lo/--hi)")
    src.add_argument("--example", choices=EXAMPLES, help="use a network shipped with regionenum")
    _input_shape(c)


def _input_shape(c):
    c.add_argument("--input-shape", type=_positive(int), nargs="+", metavar="N",
                   help="shape of one input of a .pt model, without the batch dimension, e.g. 1 8 8 "
                        "(needed unless the model starts with Linear, or Flatten then Linear)")


def _box(c):
    c.add_argument("--lo", type=float, nargs="+", help="lower corner of the box (overrides the file's)")
    c.add_argument("--hi", type=float, nargs="+", help="upper corner of the box (overrides the file's)")


def _domain(c, box: bool = True):
    if box:
        _box(c)
    c.add_argument("--slice", action="append", default=[], metavar="AXIS=VALUE",
                   help="fix input AXIS at VALUE (repeatable; the other inputs stay free)")
    c.add_argument("--through", type=Path, nargs="+", metavar="X.npy",
                   help="work on the line through two inputs or the plane through three (.npy files "
                        "of one input each); coordinates t put them at 0, 1 (line) or (0, 0), (1, 0), "
                        "(0, 1) (plane)" + ("; --lo/--hi then bound t (default -0.25 .. 1.25)" if box else ""))


def _budgets(c, progress: bool = True, regions: bool = True):
    """``--time-limit``; for commands that enumerate regions (``regions``) also ``--max-regions``
    and ``--tol``; with ``progress``, ``--quiet``."""
    if regions:
        c.add_argument("--max-regions", type=_positive(int), help="stop after this many regions")
    c.add_argument("--time-limit", type=_positive(float), help="stop after about this many seconds")
    if regions:
        c.add_argument("--tol", type=float, default=DEFAULT_TOL,
                       help="relative band of float signs re-decided exactly (default %(default)g)")
    if progress:
        c.add_argument("--quiet", action="store_true",
                       help="no progress report and no compiling message on the terminal")


def _json(c):
    c.add_argument("--json", action="store_true", help="print one JSON object")


# -- the model and the domain -------------------------------------------------------------------
@dataclass
class _Source:
    """A model as named on the command line: ``name`` (for reports), ``short`` (for titles), the
    network and the box its file stores (or None)."""

    name: str
    short: str
    network: object
    box: Box | None


def _example(name: str, suffix: str) -> Path:
    return Path(str(resources.files("regionenum") / "data" / f"{name}{suffix}"))


def _load_source(path, example, input_shape) -> _Source:
    if example:
        if input_shape:
            raise InvalidArgumentError("--input-shape is for .pt models; the example is a .npz network")
        return _Source(f"{example} (bundled example)", example, *load_model(_example(example, ".npz")))
    return _Source(str(path), Path(path).name, *load_model(path, tuple(input_shape) if input_shape else None))


@dataclass
class _Where:
    """Where a command works, for the engine and for people: ``domain`` (a Box, or a Slice of
    the inputs), the names of the result's coordinates, a description, its JSON form, a short
    one for titles, and the points to mark in pictures (in the result's coordinates)."""

    domain: object
    coords: tuple
    text: str
    json: dict
    title: str = ""
    points: dict = field(default_factory=dict)

    @property
    def region_domain(self):
        """The domain in the result's coordinates (a Slice's own box)."""
        return self.domain.domain if isinstance(self.domain, Slice) else self.domain


def _where(args, source: _Source) -> _Where:
    """The domain asked for by ``--lo/--hi``, ``--slice`` and ``--through`` (or the file's box),
    checked against the model before any work."""
    d = source.network.input_dim
    lo, hi = getattr(args, "lo", None), getattr(args, "hi", None)
    if (lo is None) != (hi is None):
        raise InvalidArgumentError("give both --lo and --hi")
    through, fixes = getattr(args, "through", None), getattr(args, "slice", [])
    if through and fixes:
        raise InvalidArgumentError("--through and --slice both choose where to work: give one")
    if through:
        return _through(through, source, lo, hi)
    if lo is not None:
        for flag, values in (("--lo", lo), ("--hi", hi)):
            if len(values) != d:
                raise InvalidDomainError(
                    f"{flag} has {len(values)} value{'s' * (len(values) != 1)} but {source.name} takes {d} "
                    f"inputs: give one per input (or work on a plane: --slice AXIS=VALUE, --through)")
        box = Box(lo, hi)
    elif source.box is not None:
        box = source.box
        if box.dim != d:
            raise InvalidDomainError(f"{source.name}: its box has {box.dim} coordinates but the network "
                                     f"takes {d} inputs")
    else:
        raise InvalidArgumentError(f"{source.name} has no box (lo, hi): pass --lo and --hi")
    where = _sliced(fixes, box) if fixes else _Where(box, tuple(f"x{i}" for i in range(d)),
                                                      f"box {_box_text(box.lo, box.hi)}",
                                                      dict(kind="box", lo=box.lo.tolist(), hi=box.hi.tolist()))
    k = len(where.coords)
    if k > MAX_DIM:
        raise InvalidDomainError(
            f"{source.name}: the domain has {k} dimensions; regionenum enumerates regions on up to {MAX_DIM} "
            f"inputs (its cells start from the 2^{k} corners of a box): work on the plane through three inputs "
            "(--through A.npy B.npy C.npy) or fix inputs (--slice AXIS=VALUE)")
    return where


def _sliced(fixes, box: Box) -> _Where:
    """The inputs fixed by ``AXIS=VALUE`` strings: a Slice over the others."""
    d = box.dim
    fixed = {}
    for text in fixes:
        axis, sep, value = text.partition("=")
        try:
            axis, value = int(axis), float(value)
        except ValueError:
            sep = ""
        if not sep or not 0 <= axis < d:
            raise InvalidArgumentError(f"--slice {text!r}: expected AXIS=VALUE with AXIS in 0..{d - 1}")
        if axis in fixed:
            raise InvalidArgumentError(f"--slice fixes input {axis} twice")
        if not box.lo[axis] <= value <= box.hi[axis]:
            raise InvalidDomainError(f"--slice {text!r}: {value} is outside the box on input {axis} "
                                     f"({box.lo[axis]:g} .. {box.hi[axis]:g})")
        fixed[axis] = value
    free = [i for i in range(d) if i not in fixed]
    if not free:
        raise InvalidArgumentError("--slice fixes every input: leave at least one free")
    origin = box.lo.copy()
    for axis, value in fixed.items():
        origin[axis] = value
    origin[free] = 0.0
    where = Slice(origin, np.eye(d)[:, free], Box(box.lo[free], box.hi[free]))
    fixed_text = ", ".join(f"x{a} = {v:g}" for a, v in sorted(fixed.items()))
    return _Where(where, tuple(f"x{i}" for i in free),
                  f"slice {fixed_text} of the box {_box_text(box.lo, box.hi)}",
                  dict(kind="slice", fixed={str(a): v for a, v in sorted(fixed.items())}, free=free,
                       lo=box.lo[free].tolist(), hi=box.hi[free].tolist()), f"slice {fixed_text}")


def _through(paths, source: _Source, lo, hi) -> _Where:
    """The line through two inputs or the plane through three, read from ``.npy`` files; ``lo``,
    ``hi`` bound its coordinates (default -0.25 .. 1.25)."""
    plane = _plane_through(paths, source)
    k = plane.dim
    names = ("t1", "t2") if k == 2 else ("t",)
    if lo is not None:
        for flag, values in (("--lo", lo), ("--hi", hi)):
            if len(values) != k:
                raise InvalidDomainError(f"with --through, {flag} bounds the {'plane' if k == 2 else 'line'}'s "
                                         f"coordinates {', '.join(names)}: give {k} value{'s' * (k > 1)}")
        plane = Slice(plane.origin, plane.basis, Box(lo, hi))
    at = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] if k == 2 else [(0.0,), (1.0,)]
    marks = {f"{Path(p).name} ({', '.join(names)} = {', '.join(f'{c:g}' for c in t)})": t
             for p, t in zip(paths, at)}
    box = plane.domain
    title = f"{'plane' if k == 2 else 'line'} through {', '.join(Path(p).name for p in paths)}"
    return _Where(plane, names, f"{title} ({', '.join(names)} in {_box_text(box.lo, box.hi)})",
                  dict(kind="through", points=[str(p) for p in paths], lo=box.lo.tolist(), hi=box.hi.tolist()),
                  title, marks)


def _plane_through(paths, source: _Source) -> Slice:
    """The Slice through the inputs in ``paths`` (2 or 3 ``.npy`` files)."""
    if len(paths) not in (2, 3):
        raise InvalidArgumentError(f"--through takes 2 inputs (a line) or 3 (a plane), got {len(paths)}")
    return Slice.through(*[load_input(p, source.network.input_dim) for p in paths])


def _box_text(lo, hi) -> str:
    return f"{_vector(lo)} .. {_vector(hi)}"


def _vector(v) -> str:
    v = [float(x) for x in v]
    if len(v) > 4 and len(set(v)) == 1:
        return f"[{v[0]:g}] * {len(v)}"
    shown = [f"{x:g}" for x in (v if len(v) <= 6 else v[:3])]
    return "[" + ", ".join(shown) + (f", ... ({len(v)} values)]" if len(v) > 6 else "]")


#: The options that name files a command writes, by their flags; the arguments that name files
#: it reads.
OUTPUT_OPTIONS = {"output": "-o", "graph": "--graph", "answer": "--answer"}
INPUT_ARGUMENTS = ("net", "nets", "files", "controller", "plant", "through")


def _check_distinct_files(args) -> None:
    """Refuse, before any work, a file to write that is also a file read or another file to
    write: the command would overwrite its own input, or one of its results with another."""
    inputs = []
    for name in INPUT_ARGUMENTS:
        value = getattr(args, name, None)
        inputs += [] if value is None else [Path(v) for v in (value if isinstance(value, list) else [value])]
    outputs = [(flag, Path(getattr(args, name))) for name, flag in OUTPUT_OPTIONS.items()
               if getattr(args, name, None) is not None]
    for i, (flag, path) in enumerate(outputs):
        if any(_same_file(path, source) for source in inputs):
            raise InvalidArgumentError(f"{flag} {path} is also a file this command reads: it would be overwritten")
        for other_flag, other in outputs[:i]:
            if _same_file(path, other):
                raise InvalidArgumentError(f"{other_flag} and {flag} name the same file, {path}")


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same file where both exist (links included), else
    the same absolute path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return a.resolve() == b.resolve()


def _output_file(path, suffixes, flag) -> Path | None:
    """``path`` checked before any work: a known format, in an existing folder."""
    if path is None:
        return None
    try:
        return writable(path, suffixes)
    except RegionEnumError as err:
        raise type(err)(f"{flag} {err}") from None


# -- running the engine ---------------------------------------------------------------------------
def _run(run, network, where: _Where, report: _Report, step: str, args=None):
    """``run`` (count_regions or enumerate_regions) on ``where`` with the budgets in ``args``
    (none if None), showing progress on a terminal unless ``--quiet`` (or no ``args``)."""
    report.begin(step)
    options = {} if args is None else _run_options(args)
    with ProgressBar(enabled=False if args is None or args.quiet else None) as bar:
        report.progress = bar
        result = run(network, where.domain, progress=bar, **options)
    report.session.stopped(result)
    return result


def _run_options(args) -> dict:
    return dict(max_regions=args.max_regions, time_limit=args.time_limit, tol=args.tol)


_STOPPED_BY = {"interrupted": "Ctrl-C", "time_limit": "--time-limit", "max_regions": "--max-regions"}


def _state(out) -> str:
    if out.get("complete", True):
        return ""
    reason = out.get("stop_reason")
    return f" (incomplete: stopped by {_STOPPED_BY.get(reason, reason)})"


def _kernel_note(out) -> str:
    s = out.get("kernel_seconds")
    return "" if s is None else f", plus {s:.1f} s loading/compiling the kernels"


def _described(out, source: _Source, where: _Where) -> None:
    out.update(network=source.name, input_dim=source.network.input_dim, units=source.network.n_units,
               domain=where.json)


def _head_lines(out, where_text: str) -> list:
    return [f"  network: {out['network']}, {out['input_dim']} inputs, {out['units']} units with several states",
            f"  domain:  {where_text}"]


# -- commands -------------------------------------------------------------------------------------
def _count(args, report) -> None:
    source = _load_source(args.net, args.example, args.input_shape)
    where = _where(args, source)
    out = report.out
    _described(out, source, where)
    report.text = lambda out: _count_text(out, where)
    if args.full or args.certify:
        regions = _run(enumerate_regions, source.network, where, report, "enumerating", args)
        result = dict(regions=len(regions), bounded=int(regions.bounded.sum()))
    else:
        regions = _run(count_regions, source.network, where, report, "counting", args)
        result = dict(regions=int(regions), bounded=int(regions.bounded))
    out.update(result, complete=regions.complete, stop_reason=regions.stop_reason,
               seconds=round(regions.seconds, 4), exact_calls=regions.exact_calls,
               sign_stages=regions.sign_stages)
    if args.full:
        out.update(volume_sum=float(np.sum(regions.volumes)), domain_volume=where.region_domain.volume())
    if args.certify and regions.complete:
        from .verify import certify
        report.begin("certifying")
        check = certify(regions)
        out["certified"] = dict(regions=check.regions, facets=check.facets, seconds=round(check.seconds, 4),
                                volume=None if check.volume is None else str(check.volume))


def _count_text(out, where: _Where) -> list:
    if "regions" not in out:
        return [f"no regions counted{_state(out)}"]
    lines = [f"{out['regions']} activation regions{_state(out)}", *_head_lines(out, where.text)]
    if "volume_sum" in out:
        diff = abs(out["volume_sum"] - out["domain_volume"])
        verdict = ("they tile the domain" if out.get("complete") else "the rest of the domain was not reached")
        lines.append(f"  volumes: {out['volume_sum']:.10g} in all, of the domain's {out['domain_volume']:.10g} "
                     f"(difference {diff:.2g}: {verdict})")
    if "seconds" in out:
        lines.append(f"  time:    {out['seconds']:.3f} s{_kernel_note(out)}")
    if out.get("sign_stages"):
        lines.append("  signs:   " + ", ".join(f"{n:,} {stage}" for stage, n in out["sign_stages"].items()))
    if "certified" in out:
        c = out["certified"]
        volume = "" if c["volume"] is None else f", exact volumes summing to the domain's {c['volume']}"
        lines.append(f"  certified in exact arithmetic: {c['regions']} regions with interior and distinct "
                     f"patterns{volume}, {c['facets']} facets consistent ({c['seconds']:.2f} s)")
    return lines


def _enumerate(args, report) -> None:
    if args.output is None and args.graph is None and not args.json:
        raise InvalidArgumentError("say where the result goes: -o FILE, --graph FILE, or --json")
    output = _output_file(args.output, (".npz", ".json"), "-o")
    graph = _output_file(args.graph, (".graphml", ".json"), "--graph")
    source = _load_source(args.net, args.example, args.input_shape)
    where = _where(args, source)
    out = report.out
    _described(out, source, where)
    report.text = lambda out: _enumerate_text(out, where)
    regions = _run(enumerate_regions, source.network, where, report, "enumerating", args)
    out.update(regions=len(regions), bounded=int(regions.bounded.sum()), complete=regions.complete,
               stop_reason=regions.stop_reason, seconds=round(regions.seconds, 4))
    if output is not None:
        report.begin("writing the result")
        save_regions(regions, output)
        out["output"] = str(output)
    if not regions.complete:
        if graph is not None:
            out["graph_skipped"] = "the adjacency graph needs a complete enumeration"
        return
    report.begin("finding the linear regions")
    out["linear_regions"] = regions.linear_regions().count
    if graph is not None:
        report.begin("building the adjacency graph")
        G = regions.adjacency_graph()
        report.begin("writing the graph")
        write_graph(G, graph)
        out.update(graph=str(graph), graph_edges=G.number_of_edges())


def _enumerate_text(out, where: _Where) -> list:
    if "regions" not in out:
        return [f"no regions enumerated{_state(out)}"]
    lines = [f"{out['regions']} activation regions{_state(out)}"
             + (f" in {out['seconds']:.3f} s{_kernel_note(out)}" if "seconds" in out else ""),
             *_head_lines(out, where.text)]
    if "linear_regions" in out:
        lines.append(f"  {out['linear_regions']} linear regions")
    if "output" in out:
        lines.append(f"  result written to {out['output']}" + ("" if out.get("complete") else
                                                               " (marked incomplete)"))
    if "graph" in out:
        lines.append(f"  graph ({out['graph_edges']} edges) written to {out['graph']}")
    if "graph_skipped" in out:
        lines.append(f"  no graph written: {out['graph_skipped']}")
    return lines


def _estimate(args, report) -> None:
    source = _load_source(args.net, args.example, args.input_shape)
    where = _where(args, source)
    estimators.checked_budgets(source.network, args.budgets, args.seed)  # (before the enumeration)
    out = report.out
    _described(out, source, where)
    report.text = _estimate_text
    regions = _run(enumerate_regions, source.network, where, report, "enumerating", args)
    out.update(regions=len(regions), complete=regions.complete, stop_reason=regions.stop_reason,
               seconds=round(regions.seconds, 4))
    if not regions.complete:
        out["rows_skipped"] = "the comparison needs the exact count"
        return
    report.begin("running the estimators")
    out["rows"] = estimators.compare(regions, args.budgets, seed=args.seed)


def _estimate_text(out) -> list:
    if "regions" not in out:
        return [f"no regions enumerated{_state(out)}"]
    lines = [f"{out['network']}: {out['regions']} activation regions"
             + (" (exact)" if out.get("complete") else _state(out))]
    if "rows_skipped" in out:
        return lines + [f"  no estimates: {out['rows_skipped']}"]
    if "rows" not in out:
        return lines
    lines += ["", f"{'method':18s} {'budget':>8s} {'estimate':>10s} {'ratio':>7s} {'seconds':>8s}  "
                  "missed by volume quartile"]
    for r in out["rows"]:
        missed = " ".join(f"{m:.2f}" for m in r.get("missed_by_volume", []))
        lines.append(f"{r['method']:18s} {r['budget']:8d} {r['estimate']:10.0f} {r['ratio']:7.3f} "
                     f"{r['seconds']:8.4f}  {missed}".rstrip())
    return lines


_COLOURING = {"region": "neighbouring regions in different colours",
              "linear": "coloured by linear region (touching ones differ)",
              "output": "output {k}, shaded continuously", "class": "decision regions"}


def _plot(args, report) -> None:
    from .plotting import _pyplot, plot_regions
    picture = _output_file(args.output, PICTURE_SUFFIXES, "-o")
    plt = _pyplot()
    source = _load_source(args.net, args.example, args.input_shape)
    network = source.network
    if not 0 <= args.output_index < network.output_dim:
        raise InvalidArgumentError(f"--output-index {args.output_index}: the model has {network.output_dim} "
                                   f"outputs (0..{network.output_dim - 1})")
    if args.color_by == "class" and network.output_dim < 2:
        raise InvalidArgumentError("--color-by class needs a classifier (2 or more outputs); this model has 1")
    where = _where(args, source)
    if len(where.coords) not in (1, 2):
        raise InvalidDomainError(
            f"plot draws 1 or 2 inputs; {source.name} has {len(where.coords)} free: fix all but two with "
            "plot --slice AXIS=VALUE, or draw the plane through three inputs with --through A.npy B.npy C.npy")
    out = report.out
    _described(out, source, where)
    report.text = _plot_text
    regions = _run(enumerate_regions, network, where, report, "enumerating", args)
    out.update(regions=len(regions), complete=regions.complete, stop_reason=regions.stop_reason,
               seconds=round(regions.seconds, 4))
    report.begin("drawing")
    fig, ax = plt.subplots(figsize=(7, 6))
    try:
        plot_regions(regions, ax, color_by=args.color_by, output=args.output_index, edges=not args.no_edges,
                     labels=where.coords, points=where.points)
        what = _COLOURING[args.color_by].format(k=args.output_index) if len(where.coords) == 2 else \
            f"output {args.output_index} and its breakpoints"
        ax.set_title(f"{source.short}: {len(regions)} activation regions{_state(out)}\n"
                     f"{where.title or where.text}; {what}", fontsize=10)
        report.begin("writing the picture")
        _save_figure(fig, picture)
        out["picture"] = str(picture)
    except IncompleteResultError as err:  # linear or class colouring of a run a budget stopped
        out["picture_skipped"] = str(err)
    finally:
        plt.close(fig)


def _plot_text(out) -> list:
    if "regions" not in out:
        return [f"no regions enumerated{_state(out)}"]
    lines = [f"{out['regions']} regions{_state(out)}"
             + (f" drawn to {out['picture']}" if "picture" in out else "")]
    if "picture_skipped" in out:
        lines.append(f"  no picture: {out['picture_skipped']}")
    return lines


def _save_figure(fig, path: Path, dpi: int = 130) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")


def _demo(args, report) -> None:
    picture = _output_file(args.output, PICTURE_SUFFIXES, "-o")
    source = _load_source(None, args.example, None)
    network, box = source.network, source.box
    where = _Where(box, ("t1", "t2"), "", {})
    out = report.out
    out["network"] = "digits 64-64-64-10 MLP on the plane through three training images"
    report.text = _demo_text
    regions = _run(enumerate_regions, network, where, report, "enumerating")
    out.update(regions=len(regions), complete=regions.complete, stop_reason=regions.stop_reason,
               seconds=round(regions.seconds, 4))
    if not regions.complete:
        return
    report.begin("analysing")
    start = time.perf_counter()
    with KernelClock() as clock:
        lin = regions.linear_regions()
        out["linear_regions"] = lin.count
        dec = regions.decision_regions()
        out["decision_regions"] = [dict(class_=int(c), area=float(v)) for c, v in zip(dec.classes, dec.volumes)]
        G = regions.adjacency_graph()
        out["graph_edges"] = G.number_of_edges()
        faces = regions.faces()
        out.update(f_vector=faces.f_vector.tolist(), euler_characteristic=faces.euler_characteristic)
        from .verify import lipschitz
        out["lipschitz"] = _exact_number(lipschitz(regions, norm=np.inf).value, norm="inf")
    out["analysis_seconds"] = round(time.perf_counter() - start - clock.seconds, 4)
    hidden = list(network.widths[:-1])
    out["bounds"] = dict(serra=bounds.serra(2, hidden), trivial=bounds.trivial(hidden))
    report.begin("running the estimators")
    rows = estimators.compare(regions, (1000, 10000), seed=0)
    out["estimators"] = [{k: r[k] for k in ("method", "budget", "estimate", "ratio")} for r in rows]
    report.begin("drawing")
    out["picture"] = str(picture) if _demo_picture(regions, picture) else None


def _exact_number(value, **extra) -> dict:
    """A number for the report: its float, and the exact fraction when it is one."""
    out = dict(extra, value=float(value))
    if isinstance(value, Fraction):
        out["exact"] = str(value)
    return out


def _short(number: dict) -> str:
    """A float with 6 significant digits, or the fraction itself when it is short."""
    exact = number.get("exact")
    if exact is not None and len(exact) <= 12:
        return exact
    tail = f" (exact: a fraction of {len(exact)} digits, in --json)" if exact is not None else ""
    return f"{number['value']:.6g}{tail}"


def _demo_text(out) -> list:
    lines = [f"regionenum demo: {out['network']}"]
    if "regions" not in out:
        return lines + [f"  no regions enumerated{_state(out)}"]
    n = out["regions"]
    if not out.get("complete", True) and "linear_regions" not in out:
        return lines + [f"  {n} activation regions{_state(out)}"]
    lines.append(f"  {n} activation regions, {out.get('linear_regions', '?')} linear regions, enumerated "
                 f"exactly in {out['seconds']:.3f} s (analyses {out.get('analysis_seconds', 0):.2f} s)"
                 f"{_kernel_note(out)}")
    if "decision_regions" in out:
        dec = out["decision_regions"]
        lines.append(f"  {len(dec)} decision regions: "
                     + ", ".join(f"class {r['class_']} (area {r['area']:.3f})" for r in dec))
    if "f_vector" in out:
        lines.append(f"  adjacency graph: {out['graph_edges']} shared facets; faces V, E, F = "
                     f"{', '.join(map(str, out['f_vector']))}, V - E + F = {out['euler_characteristic']}")
    if "lipschitz" in out:
        lines.append(f"  Lipschitz constant on the plane (inf-norm, exact): {_short(out['lipschitz'])}")
    if "bounds" in out:
        b = out["bounds"]
        lines.append(f"  bounds for widths [64, 64, 64] on the whole plane: Serra et al. {b['serra']:.3g}, "
                     f"2^N {b['trivial']:.3g}")
    if "estimators" in out:
        lines.append("  estimators against the exact count:")
        for r in out["estimators"]:
            lines.append(f"    {r['method']:16s} budget {r['budget']:6d}: {r['estimate']:9.0f}  "
                         f"({100 * r['ratio']:.1f}% of exact)")
    if "picture" in out:
        lines.append(f"  picture: {out['picture']}" if out["picture"] else
                     "  (no picture: pip install 'regionenum[plot]' for matplotlib)")
    return lines


def _demo_picture(regions, path: Path) -> bool:
    """The demo's picture: the regions (neighbours in different colours) and the decision regions,
    with the three training images marked; False without matplotlib."""
    try:
        from .plotting import _pyplot, plot_regions
        plt = _pyplot()
    except RegionEnumError:
        return False
    images = {"training image 0, a '0' (t = 0, 0)": (0.0, 0.0), "training image 1, a '1' (t = 1, 0)": (1.0, 0.0),
              "training image 2, a '2' (t = 0, 1)": (0.0, 1.0)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 5.5))
    try:
        plot_regions(regions, left, color_by="region", labels=("t1", "t2"))
        left.set_title(f"{len(regions)} activation regions (neighbours in different colours)", fontsize=10)
        plot_regions(regions, right, color_by="class", labels=("t1", "t2"), points=images)
        right.set_title("decision regions and boundary", fontsize=10)
        fig.suptitle("digits classifier (64-64-64 ReLU) on the plane through three training images", fontsize=11)
        _save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)
    return True


def _verify(args, report) -> None:
    from .verify import certify
    from .verify.vnnlib import check_vnnlib, competition_answer, parse_vnnlib
    net_path, prop_path = _verify_files(args)
    if (args.vnncomp or args.answer is not None) and (args.slice or args.through):
        raise InvalidArgumentError("--vnncomp and --answer give the competition's answer for the whole "
                                   "network: leave out --slice and --through")
    answer_path = _output_file(args.answer, None, "--answer")
    source = _load_source(net_path, args.example, args.input_shape)
    prop = parse_vnnlib(prop_path)
    if prop.n_inputs != source.network.input_dim or prop.n_outputs != source.network.output_dim:
        raise InvalidArgumentError(f"the property has {prop.n_inputs} inputs and {prop.n_outputs} outputs; "
                                   f"{source.name} has {source.network.input_dim} and "
                                   f"{source.network.output_dim}")
    network, plane = source.network, None
    if args.slice or args.through:
        network, prop, plane = _property_on_slice(args, source, prop)
    out = report.out
    out.update(network=source.name, property=str(prop_path))
    if args.through:
        out["domain"] = dict(kind="through", points=[str(p) for p in args.through])
    elif args.slice:
        out["domain"] = dict(kind="slice", fixed=args.slice)
    report.text = _verify_text
    report.begin("deciding")
    with ProgressBar(enabled=False if args.quiet or args.vnncomp else None) as bar:
        report.progress = bar
        res = check_vnnlib(network, prop, time_limit=args.time_limit, progress=bar)
    report.session.stopped(res)
    counterexample = res.counterexample
    if counterexample is not None and plane is not None:
        out["counterexample_t"] = counterexample.tolist()
        counterexample = plane.to_input(counterexample)[0]
    out.update(status=res.status, complete=res.stop_reason is None, stop_reason=res.stop_reason,
               cells=res.cells, seconds=round(res.seconds, 4),
               counterexample=None if counterexample is None else counterexample.tolist(),
               outputs=None if res.outputs is None else res.outputs.tolist(), reason=res.reason or None)
    if res.proof is not None:
        out["proof"] = dict(cells=res.proof.cells, leaves=res.proof.leaves)
        if args.certify:
            report.begin("re-checking the proof")
            check = certify(res.proof)
            out["certified"] = dict(claims=check.claims, seconds=round(check.seconds, 4))
    answer = competition_answer(res)
    if answer_path is not None:
        try:
            answer_path.write_text(answer)
        except OSError as err:
            raise MissingFileError(f"cannot write {answer_path}: {err}") from None
        out["answer"] = str(answer_path)
    if args.vnncomp:
        report.text = lambda _: [answer.rstrip("\n")]


def _reach(args, report) -> None:
    from .verify import closed_loop, forward_reachable, is_invariant, plot_reachable, simulate
    picture = _output_file(args.output, (".png", ".svg", ".pdf"), "-o")
    if args.steps < 1:
        raise InvalidArgumentError(f"--steps must be at least 1, got {args.steps}")
    controller = _load_source(args.controller, None, args.input_shape).network
    A = B = c = plant = None
    if args.plant.suffix == ".npz" and args.plant.is_file():
        arrays = npz_arrays(args.plant)
        if {"A", "B"} <= set(arrays):  # a linear plant (else a network's W0, b0, ...)
            unknown = set(arrays) - {"A", "B", "c"}
            if unknown:
                raise FileFormatError(f"{args.plant}: unknown arrays {sorted(unknown)} beside A and B (a linear "
                                      "plant x' = A x + B u + c has A, B and c)")
            A, B, c = arrays["A"], arrays["B"], arrays.get("c")
    if A is None:
        plant = _load_source(args.plant, None, None).network
    step = closed_loop(controller, A=A, B=B, c=c, plant=plant)
    initial = Box(args.x0_lo, args.x0_hi)
    if initial.dim != step.input_dim:
        raise InvalidDomainError(f"the initial box has {initial.dim} coordinates but the state has "
                                 f"{step.input_dim}")
    if picture is not None and initial.dim != 2:
        raise InvalidArgumentError(f"-o draws 2 states; this loop has {initial.dim}")
    out = report.out
    out.update(states=step.input_dim, steps=args.steps, x0_lo=initial.lo.tolist(), x0_hi=initial.hi.tolist())
    report.text = _reach_text
    report.begin("computing the reachable sets")
    start = time.perf_counter()
    sets = forward_reachable(step, initial, args.steps, time_limit=args.time_limit)
    out["sets"] = []
    for reach in sets:
        lo, hi = reach.bounds()
        out["sets"].append(dict(step=reach.step, pieces=len(reach), lo=lo.tolist(), hi=hi.tolist()))
    out["seconds"] = round(time.perf_counter() - start, 4)
    if args.invariant:
        report.begin("deciding invariance")
        res = is_invariant(step, initial, time_limit=args.time_limit)
        out["invariant"] = res.holds
        if res.holds is False:
            out["leaves_from"] = res.counterexample.tolist()
            out["steps_to"] = step(res.counterexample[None])[0].tolist()
        elif res.holds is None:
            out["invariance_unknown"] = res.reason
    if picture is not None:
        report.begin("drawing")
        from .plotting import _pyplot
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(7, 5.5))
        X0 = initial.lo + (initial.hi - initial.lo) * np.random.default_rng(0).random((40, initial.dim))
        plot_reachable(sets, ax, initial=initial, trajectories=simulate(step, X0, args.steps))
        fig.tight_layout()
        try:
            fig.savefig(picture, dpi=110)
        finally:
            plt.close(fig)
        out["picture"] = str(picture)


def _reach_text(out) -> list:
    lines = [f"exact reachable sets of {out['steps']} steps from the box {out['x0_lo']} .. {out['x0_hi']}"]
    lines += [f"  step {r['step']:3d}: {r['pieces']:5d} pieces, within "
              + " x ".join(f"[{a:.4g}, {b:.4g}]" for a, b in zip(r["lo"], r["hi"])) for r in out.get("sets", [])]
    if out.get("invariant") is True:
        lines.append("  invariant (proven)")
    elif out.get("invariant") is False:
        lines.append(f"  not invariant: the state {out['leaves_from']} steps to {out['steps_to']}")
    elif "invariance_unknown" in out:
        lines.append(f"  invariance unknown: {out['invariance_unknown']}")
    if out.get("picture"):
        lines.append(f"  picture: {out['picture']}")
    if "seconds" in out:
        lines.append(f"  ({out['seconds']:.3f} s{_kernel_note(out)})")
    return lines


def _verify_files(args):
    """The network and property files named by ``verify``'s positional arguments and ``--example``."""
    files = list(args.files)
    if args.example:
        if len(files) > 1:
            raise InvalidArgumentError("with --example, give at most the property file (the network is the "
                                       "example's)")
        return None, files[0] if files else _example(args.example, ".vnnlib")
    if len(files) != 2:
        raise InvalidArgumentError("give a network and a property file (verify NET PROPERTY), or "
                                   "--example NAME [PROPERTY]")
    return files[0], files[1]


def _property_on_slice(args, source: _Source, prop):
    """The network and the property restricted to ``--slice`` or ``--through``: each case's input
    set within that line or plane, in its coordinates ``t`` (the box on ``t`` and, as exact rows,
    the case's box and rows on ``origin + basis t``). Returns them and the Slice."""
    from fractions import Fraction

    from .verify.spec import Case, LinearSet
    from .verify.vnnlib import Property
    if args.through:
        plane = _plane_through(args.through, source)
    else:
        boxes = [case.float_box() for case in prop.cases]
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        plane = _sliced(args.slice, Box(lo, hi)).domain
    t_lo, t_hi = plane.domain.bounds
    origin = [Fraction(float(v)) for v in plane.origin]
    basis = [[Fraction(float(v)) for v in row] for row in plane.basis]
    k = plane.dim
    cases = []
    for case in prop.cases:
        rows, consts, met = [], [], True
        # the case's box and rows on origin + basis t, as rows over t: a . t + const <= 0
        A = [tuple(Fraction(int(i == j)) for j in range(case.n_inputs)) for i in range(case.n_inputs)]
        box_rows = [(a, -h) for a, h in zip(A, case.hi)] + [(tuple(-v for v in a), lo) for a, lo in zip(A, case.lo)]
        for a, const in box_rows + list(zip(case.rows.A, case.rows.b)):
            row = tuple(sum(a[i] * basis[i][j] for i in range(case.n_inputs)) for j in range(k))
            value = const + sum(a[i] * origin[i] for i in range(case.n_inputs))
            if any(row):
                rows.append(row)
                consts.append(value)
            elif value > 0:  # a constraint the plane does not move, and never meets
                met = False
        if met:
            cases.append(Case(tuple(Fraction(float(v)) for v in t_lo), tuple(Fraction(float(v)) for v in t_hi),
                              LinearSet(tuple(rows), tuple(consts), k), case.outputs))
    if not cases:
        raise InvalidDomainError("the slice or plane misses the property's input set")
    return plane.restrict(source.network), Property(k, prop.n_outputs, cases), plane


def _verify_text(out) -> list:
    if "status" not in out:
        return [f"unknown{_state(out)}"]
    lines = [out["status"] + _state(out)]
    if out.get("counterexample") is not None:
        lines += [f"  counterexample x = {out['counterexample']}", f"  outputs y = {out['outputs']}",
                  "  (checked in exact arithmetic)"]
    if out.get("reason"):
        lines.append(f"  {out['reason']}")
    if out.get("proof"):
        lines.append(f"  proof: {out['proof']['cells']} cells, {out['proof']['leaves']} decided")
    if out.get("certified"):
        c = out["certified"]
        lines.append(f"  proof re-checked: {c['claims']} claims in exact arithmetic, {c['seconds']:.3f} s")
    if out.get("answer"):
        lines.append(f"  competition answer written to {out['answer']}")
    lines.append(f"  ({out['cells']} cells, {out['seconds']:.3f} s{_kernel_note(out)})")
    return lines


def _bench(args, report) -> None:
    paths = [(p, None) for p in args.nets] + [(None, name) for name in args.example]
    if not paths:
        raise InvalidArgumentError("give network files to time, or --example NAME")
    jobs = []
    for path, example in paths:  # every file and box checked before any timing
        source = _load_source(path, example, args.input_shape)
        jobs.append((source, _where(args, source)))
    out = report.out
    out["rows"] = []  # complete once every row is timed (a Ctrl-C before that marks it incomplete)
    report.text = _bench_text
    for source, where in jobs:
        for mode, run in (("count", count_regions), ("enumerate", enumerate_regions)):
            report.begin(f"timing {mode} on {source.name}")
            with KernelClock() as clock:
                start = time.perf_counter()
                result = run(source.network, where.domain, **_run_options(args))
                seconds = time.perf_counter() - start
            seconds -= clock.seconds
            report.session.stopped(result)
            n = len(result) if mode == "enumerate" else int(result)
            out["rows"].append(dict(net=source.name, mode=mode, regions=n, complete=result.complete,
                                    stop_reason=result.stop_reason, seconds=round(seconds, 4),
                                    regions_per_s=round(n / seconds) if seconds > 0 else None,
                                    peak_mb=_peak_mb()))
            if result.stop_reason == "interrupted":
                out.update(complete=False, stop_reason="interrupted", interrupted_while=report.step)
                return
    out.update(complete=True, stop_reason=None)


def _bench_text(out) -> list:
    lines = [f"{'net':30s} {'mode':9s} {'regions':>9s} {'seconds':>8s} {'regions/s':>10s} {'peak MB':>8s}"]
    for r in out.get("rows", []):
        lines.append(f"{r['net'][-30:]:30s} {r['mode']:9s} {r['regions']:9d} {r['seconds']:8.3f} "
                     f"{r['regions_per_s'] or 0:10d} {_mb(r['peak_mb']):>8s}"
                     + ("" if r["complete"] else f"  (incomplete: {r['stop_reason']})"))
    if "kernel_seconds" in out:
        lines.append(f"(loading/compiling the kernels: {out['kernel_seconds']:.1f} s, not included; peak MB is "
                     "this process's so far; benchmarks/bench_suite.py runs each net in a fresh process)")
    return lines


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
