"""A run cut into subtrees after its first layer, enumerated side by side on idle cores.

The first layer cuts the domain's root cells into pieces, here, in the calling thread
(:func:`first_layer`). Where what follows is large enough (:func:`subtree_count`), the pieces are
cut into a fixed number of runs of consecutive pieces (:func:`runs_of_pieces`), and each run's
subtree is enumerated from layer 1 by the ordinary driver with a step of its own
(:meth:`~regionenum.engine.polytope_step.PolytopeStep.fork`); the threads of idle cores take the
subtrees in order (:func:`~regionenum.core.threads.map_in_threads`). The splitting kernel and the
matrix products release the GIL, so two subtrees run side by side at about 1.8 times the rate of
one (``benchmarks/README.md``, "Subtrees on idle cores").

The cut does not depend on how many cores are idle, and the subtrees' tallies are put together
in their order, so a run gives the same cells in the same order and the same sign counts on one
core as on several. The process pool and Dask clusters (:mod:`regionenum.engine.parallel`) cut
the same way for their workers.

Not cut: runs with a ``max_regions`` budget (the subtrees would race for it), networks of one
input or of four and more (there each batch's split is shared among the threads instead, see
:data:`~regionenum.engine.split.SHARED_DIM`), and small runs (see :func:`subtree_count`).
"""
from __future__ import annotations

import itertools
import threading
import time

import numpy as np

from ..core.arrays import batches
from ..core.threads import blas_on_one_thread, idle_cpus, map_in_threads
from .cells import CellSet
from .driver import (
    Budget,
    DeferredInterrupts,
    Driver,
    Entry,
    Interrupted,
    Progress,
    Tally,
    TimeUp,
    is_interrupt,
    memory_settings,
)
from .kernels import KernelClock
from .polytope_step import PendingRows, PolytopeStep
from .split import SHARED_DIM

__all__ = ["SUBTREES", "SUBTREE_CELLS", "SUBTREE_WORK", "first_layer", "run_subtrees", "runs_of_pieces",
           "subtree_count", "subtree_stack"]

#: Subtrees a large run is cut into at most: more than the cores, so that a thread that is done
#: early takes over work the others would do last. The number depends on the network and the
#: first layer's pieces only (:func:`subtree_count`), so that the cut, and with it the batches
#: and their sign counts, is the same however many cores are idle.
SUBTREES = 16

#: First-layer pieces per subtree at least (but two subtrees always): smaller subtrees split
#: their later layers in batches too small to run at full speed. On the suite's nets of 472 and
#: 482 pieces (r2_deep, r1_deep), two subtrees were fastest and sixteen 10-30% slower; on r2_big
#: (7,359 pieces) sixteen were fastest.
SUBTREE_CELLS = 256

#: Work after the first layer (its pieces times the units of the later layers that split) from
#: which a run is cut into subtrees. Below it a run takes a few hundredths of a second at most,
#: and a subtree's fixed costs (its first batch of every layer, a thread's wake-up) outweigh the
#: second core: the suite's r2_small (487 pieces times 64 units) and the digits plane (190 times
#: 128) ran twice as long cut into subtrees; r2_deep (472 times 352) gained a third.
SUBTREE_WORK = 100_000


def first_layer(step: PolytopeStep, tally: Tally) -> list:
    """The domain's root cells split by the first layer (into ``tally``): the stack entries of
    the pieces for layer 1 (none where the first layer finished them). A budget or Ctrl-C
    marks ``tally`` incomplete and returns no entries."""
    entries = []
    with KernelClock() as clock:
        try:
            for entry in step.start(tally):
                entries += step.process(entry, tally)
        except TimeUp:
            tally.stop("time_limit")
            entries = []
        except Interrupted:
            tally.stop("interrupted")
            entries = []
        except (KeyboardInterrupt, SystemError) as err:
            if not is_interrupt(err):
                raise
            tally.stop("interrupted")
            entries = []
    tally.kernel_seconds += clock.seconds
    return entries


def subtree_count(step: PolytopeStep, entries: list) -> int:
    """How many subtrees the run of ``step`` is cut into after its first layer (``entries``): 1
    (not cut) for small work (:data:`SUBTREE_WORK`), on one input (cells are intervals, cut at
    almost no cost: the work is the rows' matrix products, which BLAS already shares among the
    cores; the suite's r1_deep, eight layers of 512 units, took 1.03-1.10 times as long cut)
    and from four inputs on; else one per :data:`SUBTREE_CELLS` pieces, at least two and at most
    :data:`SUBTREES`. Depends on the network and the pieces only."""
    pieces = sum(len(e.cells) for e in entries)
    later = sum(len(units) for units in step.net.split_units[1:])
    d = step.net.input_dim
    if d < 2 or d >= SHARED_DIM or pieces < 2 or pieces * later < SUBTREE_WORK:
        return 1
    return min(SUBTREES, max(2, pieces // SUBTREE_CELLS))


def runs_of_pieces(entries: list, n: int, total: int) -> list:
    """The pieces of ``entries`` (layer 1, from :func:`first_layer`) as ``n`` runs of consecutive
    pieces, of about equal numbers of cells: ``(cells, parent root cells, first-layer state bits
    or None, share of the run)`` each, of ``total`` pieces in the run (finished ones included)."""
    if not entries:
        return []
    cells = CellSet.concat([e.cells for e in entries])
    parent = np.concatenate([e.rows.parent for e in entries])
    bits = None if entries[0].rows.bits is None else np.concatenate([e.rows.bits for e in entries])
    bounds = np.linspace(0, len(cells), min(n, len(cells)) + 1).astype(np.int64)
    return [(cells.take(np.arange(a, b)), parent[a:b], None if bits is None else bits[a:b], (b - a) / total)
            for a, b in itertools.pairwise(bounds)]


def subtree_stack(step: PolytopeStep, run) -> list:
    """The stack of one run of pieces (from :func:`runs_of_pieces`) for ``step``: batches of at
    most the step's batch size, the first on top, as the driver pushes a layer's batches (a
    run's rows for the next layer at once would take as much memory as the run is long)."""
    cells, parent, bits, share = run
    J0, E0, N0 = step.first_layer_rows()
    n = len(cells)
    return [Entry(1, cells if (lo, hi) == (0, n) else cells.take(np.arange(lo, hi)),
                  PendingRows(step, 1, J0, E0, N0, parent[lo:hi], None if bits is None else bits[lo:hi]),
                  share * (hi - lo) / n)
            for lo, hi in reversed(batches(n, step.batch_size))]


def run_subtrees(step: PolytopeStep, budget: Budget, progress=None) -> Tally:
    """Run ``step`` (not yet started) under ``budget`` (a time limit at most, no
    ``max_regions``): the first layer here, then its pieces' subtrees on the threads of idle
    cores where the work is large enough (see the module's description), otherwise on in this
    thread with the same step, as the ordinary driver would. ``progress`` is called as by
    :class:`~regionenum.engine.driver.Driver`, from whichever thread finished a batch, one call
    at a time."""
    memory_settings()
    start = time.perf_counter()
    limit = budget.time_limit
    tally = Tally(deadline=None if limit is None else start + limit)

    def remaining() -> Budget:
        return Budget(None, None if limit is None else start + limit - time.perf_counter())

    with DeferredInterrupts() as interrupts:  # the subtrees' drivers share it: Ctrl-C stops them all
        tally.interrupts = interrupts
        entries = first_layer(step, tally)
        pieces = tally.count + sum(len(e.cells) for e in entries)
        tally.done = tally.count / pieces if pieces else 1.0
        reports = _Reports(progress, tally, start)
        reports.report(None, None, sum(len(e.cells) for e in entries))
        n = subtree_count(step, entries)
        if n == 1 and entries:  # on in this thread, the stack as the driver would have left it
            stack = [e._replace(share=len(e.cells) / pieces) for e in reversed(entries)]
            Driver(step, remaining(), progress).run(stack, tally)
        elif entries:
            runs = runs_of_pieces(entries, n, pieces)
            del entries  # the runs hold the pieces now
            threads = min(idle_cpus(), len(runs))
            reports.unstarted = {i: len(run[0]) for i, run in enumerate(runs)}

            step.fork(threads)  # the tables the subtrees share, made once, here
            local = threading.local()  # each thread's temporary buffers, for its subtrees in turn
            kept = _Kept(threads)

            def subtree(i):
                if not hasattr(local, "buffers"):
                    local.buffers = {}
                before = kept.before()
                sub = step.fork(threads, local.buffers, before)
                part = Driver(sub, remaining(), reports.of_run(i)).run(subtree_stack(sub, runs[i]))
                kept.add(sub.kept_generators - before)
                return part

            if threads > 1:  # one BLAS thread per subtree: the subtrees are the parallelism
                with blas_on_one_thread():
                    parts = map_in_threads(subtree, list(range(len(runs))))
            else:
                parts = [subtree(i) for i in range(len(runs))]
            for part in parts:  # in the runs' order: the cells come in the order of one thread's
                tally.merge(part)
                tally.finished += part.finished
        tally.interrupts = None
    tally.seconds = time.perf_counter() - start - tally.kernel_seconds
    return tally


class _Kept:
    """The generators kept by the finished subtrees of a run on ``threads`` threads, for the
    estimate of the result's assembly (a time limit leaves room for it): a subtree's step
    starts its count at :meth:`before`, a share of them, which its ``keepers`` (the threads)
    multiply back, so that it estimates the finished subtrees' cells plus its own for every
    thread still running."""

    def __init__(self, threads: int):
        self.threads, self.total = threads, 0.0
        self.lock = threading.Lock()

    def before(self) -> float:
        """The count a subtree's step starts from."""
        with self.lock:
            return self.total / self.threads

    def add(self, generators: float) -> None:
        """Add the generators a finished subtree kept."""
        with self.lock:
            self.total += generators


class _Reports:
    """Where a cut run stands, put together from its subtrees' own reports, for one
    ``progress`` callback (called one report at a time, under a lock, from any thread)."""

    def __init__(self, progress, tally: Tally, start: float):
        self.progress, self.tally, self.start = progress, tally, start
        self.lock = threading.Lock()
        self.parts = {}  # run -> its driver's last Progress
        self.unstarted = {}  # run -> its cells, until its driver first reports

    def of_run(self, i: int):
        """The callback for the driver of run ``i`` (None without a ``progress``)."""
        return None if self.progress is None else (lambda p: self.report(i, p))

    def report(self, i, p, pending: int = 0) -> None:
        """Record run ``i``'s report ``p`` (None, None: the first layer's, with ``pending``
        cells) and report the whole."""
        if self.progress is None:
            return
        with self.lock:
            if i is not None:
                self.parts[i] = p
                self.unstarted.pop(i, None)
                pending = sum(q.pending_cells for q in self.parts.values()) + sum(self.unstarted.values())
            t, parts = self.tally, self.parts.values()
            self.progress(Progress(t.count + sum(q.regions for q in parts), pending, 0 if p is None else p.layer,
                                   time.perf_counter() - self.start, t.exact_calls + sum(q.exact_calls for q in parts),
                                   min(t.done + sum(q.done or 0.0 for q in parts), 1.0)))
