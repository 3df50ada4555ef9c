"""Enumeration over several processes, local or on a Dask cluster.

The first layer is split here; its pieces are cut into chunks, and each chunk's subtree is
enumerated by a worker running the ordinary engine (:class:`regionenum.engine._Run`) from layer
1. A chunk carries its cells' parents and first-layer states, not their second-layer
hyperplane rows: the worker computes those (all first-layer cells' rows at once can take
gigabytes). Subtrees are disjoint, so the results are the
serial one's cells; :meth:`Regions.build` sorts them by pattern, so the result is exactly the
serial result, in the same order.
"""
from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
from threadpoolctl import threadpool_limits

from .cells import CellSet
from .engine import Progress, RunStats, _Run
from .errors import RegionEnumError

__all__ = ["run_parallel"]

#: Chunks per worker: more than one, so that a fast worker takes over a slow one's share.
CHUNKS_PER_WORKER = 4


def run_parallel(run: _Run, workers: int, client=None) -> RunStats:
    """Execute ``run`` with ``workers`` local processes, or on a Dask ``client``."""
    if run.max_regions is not None:
        raise RegionEnumError("max_regions needs a serial run (workers=1, no client)")
    start = time.perf_counter()
    stats = run.begin()
    roots = run.roots
    entries = []
    run._process(0, roots.cells, *run.first_layer_maps(), entries, stats)
    n_workers = len(client.scheduler_info()["workers"]) if client is not None else workers
    chunks = _chunks([(cells, maps.keywords["parent"], maps.keywords["bits"]) for _, cells, maps in entries],
                     CHUNKS_PER_WORKER * max(n_workers, 1))
    job = dict(network=run.net, domain=run.domain, tol=run.tol, keep=run.keep, roots=roots,
               time_limit=run.time_limit, batch_size=run.batch_size)
    done = {}
    waiting = sum(len(c[0]) for c in chunks)
    try:
        for index, n_cells, part in _submit(chunks, job, workers, client):
            done[index] = part
            _merge(stats, part)
            waiting -= n_cells
            if run.progress is not None:
                run.progress(Progress(stats.count, waiting, 1, time.perf_counter() - start,
                                      stats.exact_calls))
    except KeyboardInterrupt:
        stats.complete, stats.stop_reason = False, "interrupted"
    if len(done) < len(chunks) and stats.complete:
        stats.complete, stats.stop_reason = False, "interrupted"
    # chunk order, not completion order, so that equal inputs give equal cell lists
    stats.finished += [f for i in sorted(done) for f in done[i].finished]
    stats.seconds = time.perf_counter() - start
    return stats


def _chunks(pieces, n):
    """The first layer's pieces as ``n`` chunks of about equal numbers of cells:
    ``(cells, parent root cells, first-layer state bits or None)`` each."""
    if not pieces:
        return []
    cells = CellSet.concat([p[0] for p in pieces])
    parent = np.concatenate([p[1] for p in pieces])
    bits = None if pieces[0][2] is None else np.concatenate([p[2] for p in pieces])
    bounds = np.linspace(0, len(cells), min(n, len(cells)) + 1).astype(np.int64)
    return [(cells.take(np.arange(a, b)), parent[a:b], None if bits is None else bits[a:b])
            for a, b in zip(bounds[:-1], bounds[1:])]


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
    """A worker: enumerate one chunk's subtree from layer 1 with the serial engine; returns
    ``(index, cells in the chunk, RunStats)``."""
    run = _Run(job["network"], job["domain"], job["tol"], None, job["time_limit"], job["batch_size"],
               None, job["keep"])
    run.roots = job["roots"]
    cells, parent, bits = chunk
    J0, Jabs0 = run.first_layer_maps()

    def maps():
        return run._next_layer_maps(1, J0, Jabs0, parent, bits)

    with threadpool_limits(limits=1, user_api="blas"):  # the workers are the parallelism
        return index, len(cells), run.execute([(1, cells, maps)])


def _merge(total: RunStats, part: RunStats) -> None:
    total.count += part.count
    total.bounded_count += part.bounded_count
    total.exact_calls += part.exact_calls
    if total.patterns is not None:
        for key, bounded in part.patterns.items():
            total.patterns[key] = total.patterns.get(key, True) and bounded
    if not part.complete and total.complete:
        total.complete, total.stop_reason = False, part.stop_reason
