"""Enumeration over several processes, local or on a Dask cluster.

The domain's root cells are split here, up to the first layer that splits; the pieces are cut
into chunks, and each chunk's subtree is enumerated by a worker running the ordinary driver and
:class:`~regionenum.engine.polytope_step.PolytopeStep` from the next layer (as the threads of
one process do, :mod:`regionenum.engine.subtrees`). A chunk carries its cells' parents and
states (the :class:`~regionenum.engine.polytope_step.PendingRows` of their entry) and the
parents' rows (those of the root cells: few), not the cells' own next-layer rows: the worker
computes those (all first-layer cells' rows at once can take gigabytes). Subtrees are disjoint,
so the results are the serial run's cells; the result is assembled by sorting them by pattern,
so it is exactly the serial result, in the same order.
"""
from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed

from threadpoolctl import threadpool_limits

from .driver import Budget, Driver, Progress, Tally
from .polytope_step import PolytopeStep
from .subtrees import first_split, run_cells, runs_of_pieces, subtree_stack

__all__ = ["run_parallel"]

#: Chunks per worker: more than one, so that a fast worker takes over a slow one's share.
CHUNKS_PER_WORKER = 4

#: In a worker process: ``(run, generators kept)`` for the chunks of the last run it worked on,
#: which the parent assembles together (the estimate of that assembly's time counts them all).
_kept_here = (None, 0)


def run_parallel(step: PolytopeStep, budget: Budget, progress, workers: int, client=None) -> Tally:
    """Run ``step`` (not yet started) with ``workers`` local processes, or on a Dask ``client``;
    ``budget`` may limit the time, not the regions."""
    start = time.perf_counter()
    # one deadline for every chunk, however long it waited for a worker; on the wall clock, which
    # other processes (and machines) share
    deadline = None if budget.time_limit is None else time.time() + budget.time_limit
    tally = Tally(deadline=None if deadline is None else start + budget.time_limit)
    entries = first_split(step, tally)
    n_workers = len(client.scheduler_info()["workers"]) if client is not None else workers
    pieces = tally.count + sum(len(e.cells) for e in entries)
    tally.done = tally.count / pieces if pieces else 1.0
    chunks = runs_of_pieces(entries, CHUNKS_PER_WORKER * max(n_workers, 1), pieces)
    job = dict(network=step.net, domain=step.domain, tol=step.tol, keep=step.keep, roots=step.roots,
               deadline=deadline, batch_size=step.batch_size, keepers=n_workers, run=uuid.uuid4().hex)
    done = {}
    waiting = sum(run_cells(c) for c in chunks)
    try:
        for index, n_cells, layer, part in _submit(chunks, job, workers, client):
            done[index] = part
            tally.merge(part)
            waiting -= n_cells
            if progress is not None:
                progress(Progress(tally.count, waiting, layer, time.perf_counter() - start, tally.exact_calls,
                                  min(tally.done, 1.0)))
    except KeyboardInterrupt:
        tally.stop("interrupted")
    if len(done) < len(chunks):
        tally.stop("interrupted")
    # chunk order, not completion order, so that equal inputs give equal cell lists
    tally.finished += [f for i in sorted(done) for f in done[i].finished]
    tally.seconds = time.perf_counter() - start - tally.kernel_seconds
    return tally


def _submit(chunks, job, workers, client):
    """Run every chunk; yield the results as they complete."""
    if client is not None:
        from distributed import as_completed as dask_completed
        futures = [client.submit(_work, job, i, chunk, pure=False) for i, chunk in enumerate(chunks)]
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_work, job, i, chunk) for i, chunk in enumerate(chunks)]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _work(job, index, chunk):
    """A worker: enumerate one chunk's subtree with the serial driver; returns ``(index, cells
    in the chunk, the layer its driver processed last, Tally)`` (that layer for the run's
    progress reports: the one the serial driver reports after the same batch)."""
    last_layer = chunk[0].layer
    time_limit = None if job["deadline"] is None else job["deadline"] - time.time()
    if time_limit is not None and time_limit <= 0:  # the chunk waited for a worker past the limit
        tally = Tally()
        tally.stop("time_limit")
        return index, run_cells(chunk), last_layer, tally
    global _kept_here
    run, kept = _kept_here
    step = PolytopeStep(job["network"], job["domain"], job["tol"], job["batch_size"], job["keep"],
                        roots=job["roots"], keepers=job["keepers"], kept_before=kept if run == job["run"] else 0)
    def noted(report):  # the driver's progress: only its layer is kept
        nonlocal last_layer
        last_layer = report.layer

    with threadpool_limits(limits=1, user_api="blas"):  # the workers are the parallelism
        tally = Driver(step, Budget(None, time_limit), noted).run(subtree_stack(step, chunk))
    _kept_here = (job["run"], step.kept_generators)
    return index, run_cells(chunk), last_layer, tally
