"""A run cut into subtrees after its first layer, enumerated side by side on idle cores.

The first layer (the first that splits, after any linear ones such as a Slice's map) cuts the
domain's root cells into pieces, here, in the calling thread (:func:`first_split`); a wide one
only by its first stage, whose pieces each subtree then cuts by the rest of the layer, batch by
batch (see :data:`~regionenum.engine.polytope_step.FIRST_LAYER_PIECES`). Where what
follows is large enough (:func:`subtree_count`), the pieces are cut into a fixed number of runs
of consecutive pieces (:func:`runs_of_pieces`), and each run's subtree is enumerated by the
ordinary driver with a step of its own (:meth:`~regionenum.engine.polytope_step.PolytopeStep.fork`);
the threads of idle cores take the subtrees in order
(:func:`~regionenum.core.threads.map_in_threads`). The splitting kernel, the rows' kernels and
the matrix products release the GIL, so two subtrees run side by side at about 1.8 times the
rate of one (``benchmarks/README.md``, "Subtrees on idle cores"); 1.6 on a virtual machine whose
two cores behave like hardware threads of one ("The row kernels release the GIL").

The cut does not depend on how many cores are idle, and the subtrees' tallies are put together
in their order, so a run gives the same cells in the same order and the same sign counts on one
core as on several. The process pool and Dask clusters (:mod:`regionenum.engine.parallel`) cut
the same way for their workers.

Not cut: runs with a ``max_regions`` budget (the subtrees would race for it), networks of four
inputs and more (there each batch's split is shared among the threads instead, see
:data:`~regionenum.engine.split.SHARED_DIM`), and small runs (see :func:`subtree_count`).
"""
from __future__ import annotations

import itertools
import threading
import time
from typing import NamedTuple

import numpy as np

from ..core.threads import blas_on_one_thread, map_in_threads, steady_idle_cpus
from .cells import CellSet
from .driver import Budget, DeferredInterrupts, Driver, Progress, Tally, memory_settings, stopped_by_budgets
from .kernels import KernelClock
from .polytope_step import PolytopeStep, Rows
from .split import SHARED_DIM

__all__ = ["LARGE_SUBTREE_WORK", "LINE_SUBTREE_CELLS", "LINE_SUBTREE_WORK", "MOST_SUBTREES", "SUBTREES",
           "SUBTREES_STEP", "SUBTREE_CELLS", "SUBTREE_WORK", "Part", "first_split", "run_cells",
           "run_subtrees", "runs_of_pieces", "subtree_count", "subtree_stack"]

#: Subtrees a run is cut into at most (but see :data:`LARGE_SUBTREE_WORK`): more than the
#: cores, so that a thread that is done early takes over work the others would do last. The
#: number depends on the network and the first layer's pieces only (:func:`subtree_count`), so
#: that the cut, and with it the batches and their sign counts, is the same however many cores
#: are idle.
SUBTREES = 16

#: Large runs are cut finer: one subtree per ``LARGE_SUBTREE_WORK`` of their work (the first
#: layer's pieces times the later layers' units), up to ``MOST_SUBTREES``. The subtrees are of
#: about equal numbers of pieces, not of equal work, and a thread that finishes its last one
#: while the other has started its own waits for it: on the 2-D net of four 1,232-wide layers
#: (ten million regions, 760,000 first-layer pieces) cut into 16, the last 47 s of 401 ran on one
#: core of two. Smaller runs (every net of the standard suite; w = 768 of the scaling nets) stay
#: at ``SUBTREES``.
LARGE_SUBTREE_WORK = 40_000_000
MOST_SUBTREES = 64

#: Subtree counts above two are rounded up to a multiple of this. The threads take subtrees of
#: about equal work in order, so a count that the threads do not divide leaves the last subtree
#: on one core while the others wait: the suite's r1_deep, cut into seven, ran its last 33 ms
#: of 270 on one core of two. A multiple of four divides among two or four threads evenly
#: (three threads share a six made eight less evenly than six). Two stay two: small runs.
SUBTREES_STEP = 4

#: First-layer pieces per subtree at least (but two subtrees always): smaller subtrees split
#: their later layers in batches too small to run at full speed. On the suite's r2_deep (472
#: pieces) two subtrees were fastest and sixteen 10-13% slower; on r2_mid (1,840) four to eight
#: were fastest; on r2_big (7,359) sixteen.
SUBTREE_CELLS = 256

#: Work after the first layer (its pieces times the units of the later layers that split) from
#: which a run is cut into subtrees. Below it a run takes a few hundredths of a second at most,
#: and a subtree's fixed costs (its first batch of every layer, a thread's wake-up) outweigh the
#: second core: the suite's r2_small (487 pieces times 64 units) and the digits plane (190 times
#: 128) ran twice as long cut into subtrees; r2_deep (472 times 352) gained a third.
SUBTREE_WORK = 100_000

#: On one input, :data:`SUBTREE_CELLS` and :data:`SUBTREE_WORK`. A piece there is an interval:
#: cheap to split, its rows two columns of every unit, so the work is the rows' matrix products
#: and the kernels that mask and add up their terms. Cut into subtrees, each thread runs its own
#: products (BLAS on one thread) and kernels, in batches small enough that their buffers are few
#: fresh pages. In fresh processes on a 2-core Intel Xeon (medians of five, alternating, uncut
#: against a piece per 32, 64 and 128): the suite's r1_deep (482 pieces times 3,584 units) took
#: 0.30 s cut per 64 against 0.39 s uncut, random 1-D nets of 2 x 2,048, 3 x 1,024, 3 x 512,
#: 5 x 384 and 8 x 256 units 0.82-0.92 of the time; 4 x 256 (208 pieces times 768) gained
#: nothing and 10 x 128 (97 times 1,152) ran 8% longer, so below 250,000 they are not cut.
LINE_SUBTREE_CELLS = 64
LINE_SUBTREE_WORK = 250_000


def first_split(step: PolytopeStep, tally: Tally) -> list:
    """The domain's root cells through the layers up to the first that splits (the first
    layer, but for linear ones before it, such as a :class:`~regionenum.Slice`'s map), into
    ``tally``: the stack entries of the pieces for the layer after it (none where it finished
    them). A budget or Ctrl-C marks ``tally`` incomplete and returns no entries."""
    entries = []
    with KernelClock() as clock, stopped_by_budgets(tally):
        todo = step.start(tally)
        while todo:
            entry = todo.pop(0)
            children = step.process(entry, tally)
            if entry.layer < step.first_split:
                todo = children + todo
            else:
                entries += children
    tally.kernel_seconds += clock.seconds
    return entries if tally.complete else []


def subtree_count(step: PolytopeStep, entries: list) -> int:
    """How many subtrees the run of ``step`` is cut into after its first layer that splits
    (``entries``, from :func:`first_split`): 1 (not cut) for small work (:data:`SUBTREE_WORK`;
    :data:`LINE_SUBTREE_WORK` on one input) and from four inputs on; else one per
    :data:`SUBTREE_CELLS` pieces (:data:`LINE_SUBTREE_CELLS`), at least two, more than two
    rounded up to a multiple of :data:`SUBTREES_STEP`, and at most :data:`SUBTREES` (pieces
    waiting for the rest of the layer count as the pieces it will cut them into, but a subtree
    takes one at least). Depends on the network and the pieces only."""
    pieces = sum(len(e.cells) for e in entries)
    foretold = sum(len(e.cells) * (step.rest_growth(e.layer, e.units_done) if e.units_done else 1)
                   for e in entries)
    later = sum(len(units) for units in step.net.split_units[step.first_split + 1:])
    d = step.net.input_dim
    work, cells = (LINE_SUBTREE_WORK, LINE_SUBTREE_CELLS) if d == 1 else (SUBTREE_WORK, SUBTREE_CELLS)
    if d >= SHARED_DIM or pieces < 2 or foretold * later < work:
        return 1
    most = min(MOST_SUBTREES, max(SUBTREES, int(foretold * later) // LARGE_SUBTREE_WORK))
    n = max(2, int(foretold) // cells)
    if n > 2:
        n = -(-n // SUBTREES_STEP) * SUBTREES_STEP
    return min(most, n, pieces)


class Part(NamedTuple):
    """Consecutive pieces of one stack entry, in a run of pieces: the layer that cuts them next,
    the cells, their parents' :class:`~regionenum.engine.polytope_step.Rows` for it (the parents'
    arrays, shared), each piece's parent, whether the pieces' patterns hold the states
    the rows read (see :class:`~regionenum.engine.polytope_step.PendingRows`: false where the
    layer before has one state), their share of the run's work, and how many of the layer's
    units have cut them (where the rest of a wide first layer waits, see
    :data:`~regionenum.engine.polytope_step.FIRST_LAYER_PIECES`; the rows are then the parents'
    of that layer)."""

    layer: int
    cells: CellSet
    rows: Rows
    parent: np.ndarray
    states: bool
    share: float
    units_done: int = 0


def runs_of_pieces(entries: list, n: int, total: int) -> list:
    """The pieces of ``entries`` (from :func:`first_split`) as ``n`` runs of consecutive
    pieces, of about equal numbers of cells, each a list of :class:`Part`; ``total`` pieces in
    the run (finished ones included) set the shares."""
    sizes = [len(e.cells) for e in entries]
    cells = sum(sizes)
    if not cells:
        return []
    bounds = np.linspace(0, cells, min(n, cells) + 1).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    runs = []
    for a, b in itertools.pairwise(bounds):
        run = []
        for e, entry in enumerate(entries):
            lo, hi = max(a - starts[e], 0), min(b - starts[e], sizes[e])
            if lo < hi:
                pending = entry.rows
                run.append(Part(pending.layer, entry.cells.run(lo, hi), pending.rows, pending.parent[lo:hi],
                                pending.children is not None, (hi - lo) / total, entry.units_done))
        runs.append(run)
    return runs


def run_cells(run: list) -> int:
    """The cells of a run of pieces."""
    return sum(len(part.cells) for part in run)


def subtree_stack(step: PolytopeStep, run: list) -> list:
    """The stack of one run of pieces (from :func:`runs_of_pieces`) for ``step``: batches of at
    most the step's batch size, the first on top, as the driver pushes a layer's batches (a
    run's rows for the next layer at once would take as much memory as the run is long)."""
    entries = []
    for part in run:
        entries += step.batch_entries(part.layer, part.cells, part.rows, part.parent, part.states, part.share,
                                      part.units_done)
    return entries[::-1]


def run_subtrees(step: PolytopeStep, budget: Budget, progress=None) -> Tally:
    """Run ``step`` (not yet started) under ``budget`` (a time limit at most, no
    ``max_regions``): up to its first layer that splits here, then the pieces' subtrees on the
    threads of idle cores where the work is large enough (see the module's description),
    otherwise on in this thread with the same step, as the ordinary driver would. ``progress``
    is called as by :class:`~regionenum.engine.driver.Driver`, from whichever thread finished a
    batch, one call at a time, and not again once it has raised."""
    memory_settings()
    start = time.perf_counter()
    limit = budget.time_limit
    tally = Tally(deadline=None if limit is None else start + limit)

    def remaining() -> Budget:
        return Budget(None, None if limit is None else start + limit - time.perf_counter())

    with DeferredInterrupts() as interrupts:  # the subtrees' drivers share it: Ctrl-C stops them all
        tally.interrupts = interrupts
        entries = first_split(step, tally)
        waiting = sum(len(e.cells) for e in entries)
        pieces = tally.count + waiting
        tally.done = tally.count / pieces if pieces else 1.0
        reports = _Reports(progress, tally, start)
        reports.report(None, None, waiting)
        n = subtree_count(step, entries)
        if n == 1 and entries:  # on in this thread, the stack as the driver would have left it
            stack = [e._replace(share=len(e.cells) / pieces) for e in reversed(entries)]
            Driver(step, remaining(), progress).run(stack, tally)
        elif entries:
            runs = runs_of_pieces(entries, n, pieces)
            del entries  # the runs hold the pieces now
            threads = min(steady_idle_cpus(), len(runs))
            reports.unstarted = {i: run_cells(run) for i, run in enumerate(runs)}
            step.share_tables()
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

            first_kernels = tally.kernel_seconds
            if threads > 1:  # one BLAS thread per subtree: the subtrees are the parallelism
                with blas_on_one_thread():
                    parts = map_in_threads(subtree, list(range(len(runs))), threads)
            else:
                parts = [subtree(i) for i in range(len(runs))]
            for part in parts:  # in the runs' order: the cells come in the order of one thread's
                tally.merge(part)
                tally.finished += part.finished
            # the threads load kernels side by side: the longest wait is the run's
            tally.kernel_seconds = first_kernels + max(part.kernel_seconds for part in parts)
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
        self.threads, self.total = threads, 0
        self.lock = threading.Lock()

    def before(self) -> int:
        """The count a subtree's step starts from."""
        with self.lock:
            return self.total // self.threads

    def add(self, generators: int) -> None:
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
        self.failed = False  # the callback raised: not called again

    def of_run(self, i: int):
        """The callback for the driver of run ``i`` (None without a ``progress``)."""
        return None if self.progress is None else (lambda p: self.report(i, p))

    def report(self, i, p, pending: int = 0) -> None:
        """Record run ``i``'s report ``p`` (None, None: the first layer's, with ``pending``
        cells) and report the whole."""
        if self.progress is None:
            return
        with self.lock:
            if self.failed:
                return
            if i is not None:
                self.parts[i] = p
                self.unstarted.pop(i, None)
                pending = sum(q.pending_cells for q in self.parts.values()) + sum(self.unstarted.values())
            t, parts = self.tally, self.parts.values()
            report = Progress(t.count + sum(q.regions for q in parts), pending, 0 if p is None else p.layer,
                              time.perf_counter() - self.start, t.exact_calls + sum(q.exact_calls for q in parts),
                              min(t.done + sum(q.done or 0.0 for q in parts), 1.0))
            try:
                self.progress(report)
            except BaseException as err:  # raised in the caller, once the other threads' subtrees end
                self.failed = True
                if isinstance(err, KeyboardInterrupt) and t.interrupts is not None:
                    t.interrupts.raised = True  # as Ctrl-C: every subtree stops
                raise
