"""The driver: runs a stack of cells through a network's layers, depth first, to the end or a
budget. It knows no geometry.

A *step* (:class:`~regionenum.engine.polytope_step.PolytopeStep` for cells given by their
vertices, :class:`~regionenum.engine.hrep_step.HrepStep` for cells given by their inequalities)
knows how to make the first stack entries (:meth:`start`) and how to cut one entry's cells by
its layer (:meth:`process`), returning the children for the next layer and recording finished
regions in the :class:`Tally`, and estimates how long assembling the regions it keeps will take
(:meth:`assembly_seconds`). The driver pops entries, pushes children (first child popped first,
so memory stays bounded by a few batches per layer), reports progress, watches the budgets
(``max_regions``, ``time_limit`` less the assembly's estimate, Ctrl-C) and keeps the BLAS
thread count fair on a busy machine. Reported seconds leave out the time spent compiling or
loading kernels, which is reported apart.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from ..core.memory import keep_freed_memory, small_pages_where_freed_memory_is_reported
from ..core.threads import AdaptiveBlas
from .kernels import KernelClock
from .split import SIGN_STAGES

__all__ = ["Budget", "DeferredInterrupts", "Driver", "Entry", "Interrupted", "Progress", "Tally", "TimeUp",
           "is_interrupt", "memory_settings", "stopped_by_budgets"]


class TimeUp(Exception):
    """Raised by :meth:`Tally.check` inside a step when the run's ``time_limit`` has passed."""


class Interrupted(Exception):
    """Raised by :meth:`Tally.check` inside a step after Ctrl-C (see :class:`DeferredInterrupts`)."""


class DeferredInterrupts:
    """Context manager: while a run is on, Ctrl-C (SIGINT) only raises a flag, which the run
    looks at between kernel calls and between exact answers (:meth:`Tally.check`) and then stops
    cleanly. Letting ``KeyboardInterrupt`` be raised instead can land inside a compiled kernel,
    where Numba turns it into a ``SystemError`` and may leave the process unusable. Nested uses
    share one flag (the outermost installs the handler). Only the main thread can take signals;
    elsewhere this does nothing."""

    _active = None  # the outermost instance in force

    def __init__(self):
        self.raised = False
        self._previous = None
        self._outer = None

    def _handler(self, signum, frame):
        self.raised = True

    def __enter__(self) -> "DeferredInterrupts":
        if DeferredInterrupts._active is not None:
            self._outer = DeferredInterrupts._active
            return self._outer
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            DeferredInterrupts._active = self
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
            DeferredInterrupts._active = None


def is_interrupt(err: BaseException) -> bool:
    """Whether ``err`` is Ctrl-C: a ``KeyboardInterrupt``, or the ``SystemError`` Numba raises
    when the interrupt arrives inside a compiled kernel (the ``KeyboardInterrupt`` is then
    further down its chain of causes)."""
    seen = 0
    while err is not None and seen < 100_000:
        if isinstance(err, KeyboardInterrupt):
            return True
        if not isinstance(err, SystemError):
            return False
        err = err.__cause__ or err.__context__
        seen += 1
    return False


class Entry(NamedTuple):
    """One batch of cells waiting on the stack: the layer that cuts it next, the cells (in the
    step's own representation), a callable giving that layer's inputs for them, computed only
    when the entry is popped (so waiting cells hold no rows of their own), the share of the
    whole run's work the batch stands for (the driver sets it: a batch's share is divided among
    its pieces, so finished pieces add up to the part of the domain that is done), and how many
    of the layer's units have cut the cells already (a step may leave the rest of a layer to
    wait on the stack)."""

    layer: int
    cells: object
    rows: Callable
    share: float = 1.0
    units_done: int = 0


@dataclass
class Progress:
    """What a ``progress`` callback receives after each batch.

    Attributes
    ----------
    regions : int
        Finished regions (pieces, on unbounded domains) so far.
    pending_cells : int
        Cells waiting on the stack.
    layer : int
        The layer just processed.
    elapsed : float
        Seconds since the start, compiling included.
    exact_calls : int
        Signs settled in exact arithmetic so far.
    done : float or None
        Share of the work known to be finished, in ``[0, 1]`` (the domain's root cells, weighted
        down the tree: a finished cell adds its share of its parent's), or None where the step
        does not estimate it.
    """

    regions: int
    pending_cells: int
    layer: int
    elapsed: float
    exact_calls: int
    done: float | None = None


@dataclass
class Budget:
    """When to stop early: after ``max_regions`` regions or ``time_limit`` seconds (None: no
    limit)."""

    max_regions: int | None = None
    time_limit: float | None = None


@dataclass
class Tally:
    """What a run found and how it ended.

    ``count`` regions (``bounded`` of them bounded), ``signs`` decided by each of the
    :data:`~regionenum.engine.split.SIGN_STAGES` (the last, ``exact_calls``, in exact arithmetic),
    ``finished`` the kept payloads (when a step keeps geometry), ``patterns`` (packed pattern ->
    bounded) where pieces of one region must be merged; ``complete`` and ``stop_reason``;
    ``seconds`` of work and ``kernel_seconds`` spent compiling or loading kernels;
    ``truncated`` when finished cells were dropped to honour ``max_regions``; ``deadline`` (a
    ``time.perf_counter`` time) after which :meth:`check` stops the run.
    """

    max_regions: int | None = None
    count: int = 0
    bounded: int = 0
    signs: np.ndarray = field(default_factory=lambda: np.zeros(len(SIGN_STAGES), np.int64))
    finished: list = field(default_factory=list)
    patterns: dict | None = None
    complete: bool = True
    stop_reason: str | None = None
    seconds: float = 0.0
    kernel_seconds: float = 0.0
    truncated: bool = False
    done: float = 0.0
    deadline: float | None = None
    interrupts: DeferredInterrupts | None = field(default=None, repr=False, compare=False)

    @property
    def exact_calls(self) -> int:
        """Signs settled in exact arithmetic (the last stage)."""
        return int(self.signs[-1])

    @exact_calls.setter
    def exact_calls(self, n: int) -> None:
        self.signs[-1] = n

    def sign_stages(self) -> dict:
        """How many signs each stage decided, by the stage's name."""
        return dict(zip(SIGN_STAGES, self.signs.tolist()))

    def outcome(self) -> dict:
        """How the run went, as the keyword arguments results take (``complete``,
        ``stop_reason``, ``seconds``, ``kernel_seconds``, ``exact_calls``, ``sign_stages``)."""
        return dict(complete=self.complete, stop_reason=self.stop_reason, seconds=self.seconds,
                    kernel_seconds=self.kernel_seconds, exact_calls=self.exact_calls,
                    sign_stages=self.sign_stages())

    def check(self) -> None:
        """Raise :class:`Interrupted` after Ctrl-C and :class:`TimeUp` past the deadline (steps
        call it inside long work)."""
        if self.interrupts is not None and self.interrupts.raised:
            raise Interrupted
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise TimeUp

    def __getstate__(self):
        """Pickled (a worker's tally travelling back) without the signal handler."""
        return {**self.__dict__, "interrupts": None}

    def room(self, n: int) -> int:
        """How many of ``n`` newly finished regions fit under ``max_regions`` (marking the tally
        truncated when not all do)."""
        if self.max_regions is None or self.count + n <= self.max_regions:
            return n
        self.truncated = True
        return max(self.max_regions - self.count, 0)

    def stop(self, reason: str) -> None:
        """Mark the run incomplete, keeping the first reason given."""
        if self.complete:
            self.complete, self.stop_reason = False, reason

    def merge(self, part: "Tally") -> None:
        """Add a part of the run done elsewhere (a worker's subtree)."""
        self.count += part.count
        self.bounded += part.bounded
        self.signs += part.signs
        self.kernel_seconds += part.kernel_seconds
        self.done += part.done
        if part.patterns is not None:
            if self.patterns is None:
                self.patterns = {}
            for key, bounded in part.patterns.items():
                self.patterns[key] = self.patterns.get(key, True) and bounded
        if not part.complete:
            self.stop(part.stop_reason)


class Driver:
    """Run ``step`` under ``budget``, calling ``progress`` (if given) with a :class:`Progress`
    after every batch."""

    def __init__(self, step, budget: Budget | None = None, progress=None):
        self.step = step
        self.budget = budget or Budget()
        self.progress = progress

    def run(self, stack: list | None = None, tally: Tally | None = None) -> Tally:
        """Process ``stack`` (by default the step's first entries) to the end or a budget."""
        memory_settings()
        if tally is None:
            tally = Tally(max_regions=self.budget.max_regions)
        start = time.perf_counter()
        layer, reported = -1, False
        with KernelClock() as clock, AdaptiveBlas() as blas, DeferredInterrupts() as interrupts:
            tally.interrupts = interrupts
            try:
                with stopped_by_budgets(tally):
                    self._set_deadline(tally, start)
                    if stack is None:
                        stack = self.step.start(tally)
                    while stack:  # a run whose last batch ends late is complete all the same
                        self._set_deadline(tally, start)
                        tally.check()
                        blas.refresh()
                        entry = stack.pop()
                        layer, before, reported = entry.layer, tally.count, False
                        children = self.step.process(entry, tally)
                        stack.extend(reversed(_shared(entry, children, tally.count - before, tally)))
                        reported = True  # (before the call: a callback that raises is not called again)
                        self._report(stack, tally, start, layer)
                        if self._out_of_regions(stack, tally):
                            break
            finally:
                tally.interrupts = None
                if not reported:  # a budget stopped the run inside a batch: report where it stands
                    self._report(stack or [], tally, start, layer)
        tally.kernel_seconds += clock.seconds
        tally.seconds = time.perf_counter() - start - clock.seconds
        return tally

    def _set_deadline(self, tally: Tally, start: float) -> None:
        """The time limit's deadline, less the step's estimate of the time its kept regions will
        take to assemble (more cells kept, an earlier stop)."""
        if self.budget.time_limit is not None:
            tally.deadline = start + self.budget.time_limit - self.step.assembly_seconds()

    def _report(self, stack, tally: Tally, start: float, layer: int) -> None:
        """Call ``progress`` (if any) with where the run stands."""
        if self.progress is not None:
            self.progress(Progress(tally.count, sum(len(e.cells) for e in stack), layer,
                                   time.perf_counter() - start, tally.exact_calls, min(tally.done, 1.0)))

    def _out_of_regions(self, stack, tally: Tally) -> bool:
        limit = self.budget.max_regions
        if limit is not None and tally.count >= limit:
            if stack or tally.truncated:
                tally.stop("max_regions")
            return True
        return False


@contextlib.contextmanager
def stopped_by_budgets(tally: Tally):
    """Context manager: a time limit (:class:`TimeUp`) or Ctrl-C (:class:`Interrupted`, or
    Numba's form of ``KeyboardInterrupt``, see :func:`is_interrupt`) raised inside ends the block
    and marks ``tally`` incomplete with its reason, instead of going on up."""
    try:
        yield
    except TimeUp:
        tally.stop("time_limit")
    except Interrupted:
        tally.stop("interrupted")
    except (KeyboardInterrupt, SystemError) as err:  # outside the main thread
        if not is_interrupt(err):
            raise
        tally.stop("interrupted")


def memory_settings() -> None:
    """The process's memory settings for runs (each made once per process): freed memory kept
    for reuse, since batch after batch frees and allocates arrays of the same sizes; small pages
    where the host is told of free memory (:mod:`~regionenum.core.memory`)."""
    keep_freed_memory()
    small_pages_where_freed_memory_is_reported()


def _shared(entry: Entry, children: list, finished: int, tally: Tally) -> list:
    """``children`` with their shares of ``entry``'s; the ``finished`` pieces' share is done."""
    pieces = finished + sum(len(c.cells) for c in children)
    if not pieces:
        tally.done += entry.share
        return children
    tally.done += entry.share * finished / pieces
    return [c._replace(share=entry.share * len(c.cells) / pieces) for c in children]
