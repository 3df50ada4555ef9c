"""The enumeration engine: push cells through the network layer by layer, depth first.

Python orchestrates; the kernels split. A batch of cells at layer ``l`` carries, per cell, the
matrix ``J`` whose columns are the layer's pre-activations as rows over ``(t, x)``; after the
split, the children's matrices for layer ``l + 1`` come from one GEMM:
``J' = (mask * J[parent]) @ W'^T``, plus the bias on the ``t`` row. Children go back on a stack,
so memory stays bounded by a few batches per layer, and finished cells are either kept
(:func:`enumerate_regions`) or only counted (:func:`count_regions`).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from ._kernels import gather_masked
from .argmax import split_by_argmax
from .cells import CellSet, kernel_array, root_cells, set_bits, split
from .domain import Polytope
from .errors import InvalidDomainError, RegionEnumError
from .exact import ExactNetwork, ExactOracle
from .network import Network
from .threads import AdaptiveBlas

__all__ = ["DEFAULT_TOL", "enumerate_regions", "count_regions", "RegionCount", "Progress"]

#: Signs with ``|value| <= DEFAULT_TOL * sum_k |g_k h_k|`` are settled in exact arithmetic.
DEFAULT_TOL = 1e-9
#: Hyperplanes per stage when a few cells are split by many (see ``_Run._split``).
STAGE = 64


@dataclass
class Progress:
    """What a progress callback receives after each batch."""

    regions: int        # finished regions (pieces, for unbounded domains) so far
    pending_cells: int  # cells waiting on the stack
    layer: int          # the layer just processed
    elapsed: float      # seconds since the start
    exact_calls: int    # signs settled exactly so far


@dataclass
class RunStats:
    seconds: float = 0.0
    exact_calls: int = 0
    complete: bool = True
    stop_reason: str | None = None
    finished: list = field(default_factory=list)  # (CellSet, output J) batches
    count: int = 0
    truncated: bool = False  # finished cells were dropped to honour max_regions
    bounded_count: int = 0
    patterns: dict | None = None  # packed pattern -> bounded, when pieces must be merged


class RegionCount(int):
    """The number of regions, with ``complete``, ``bounded`` (bounded regions), ``seconds``,
    ``stop_reason`` and ``exact_calls`` attached. Compares and computes as a plain ``int``."""

    def __new__(cls, count, *, bounded, complete, seconds, stop_reason, exact_calls):
        obj = super().__new__(cls, count)
        obj.bounded = bounded
        obj.complete = complete
        obj.seconds = seconds
        obj.stop_reason = stop_reason
        obj.exact_calls = exact_calls
        return obj

    def __getnewargs_ex__(self):
        """What pickle and copy pass back to ``__new__``: the count and its keyword arguments."""
        return (int(self),), dict(bounded=self.bounded, complete=self.complete, seconds=self.seconds,
                                  stop_reason=self.stop_reason, exact_calls=self.exact_calls)

    def __repr__(self) -> str:
        tail = "" if self.complete else f", incomplete: {self.stop_reason}"
        return f"RegionCount({int(self)}, bounded={self.bounded}{tail})"


def enumerate_regions(network: Network, domain: Polytope, *, tol: float = DEFAULT_TOL,
                      max_regions: int | None = None, time_limit: float | None = None,
                      batch_size: int = 1024, progress=None, workers: int = 1, client=None):
    """Every activation region of ``network`` on ``domain``, as a :class:`~regionenum.Regions`.

    ``max_regions`` and ``time_limit`` (seconds) stop the run early; the result then says
    ``complete = False`` and why (``stop_reason``); Ctrl-C does the same. ``domain`` may be a
    :class:`~regionenum.Slice`: the result is then about the network restricted to it, in the
    slice's coordinates. On an unbounded domain
    ``max_regions`` counts pieces (a region meeting several orthants around the domain's interior
    point is one piece per orthant until merged). ``progress`` is called
    with a :class:`Progress` after every batch. ``tol`` is the relative width of the band of
    float64 signs re-decided exactly (see the README's "Exactness" section). ``workers > 1``
    enumerates in that many local processes, ``client`` (a ``dask.distributed.Client``) on a
    Dask cluster; the result is the same as the serial one (see :mod:`regionenum.parallel`).
    """
    from .result import Regions
    network, domain = _unslice(network, domain)
    run = _Run(network, domain, tol, max_regions, time_limit, batch_size, progress, keep=True)
    stats = _execute(run, workers, client)
    return Regions.build(network, domain, run.roots, stats)


def count_regions(network: Network, domain: Polytope, *, tol: float = DEFAULT_TOL,
                  max_regions: int | None = None, time_limit: float | None = None,
                  batch_size: int = 1024, progress=None, workers: int = 1, client=None) -> RegionCount:
    """The number of activation regions, keeping only the frontier of cells in memory.

    Same arguments as :func:`enumerate_regions`; returns a :class:`RegionCount`. On one input
    (a bounded interval, a network without max layers) and without ``client``, the count runs in
    this process with the line engine (:mod:`regionenum.line`), whatever ``workers`` says: its
    matrix products already use every core.
    """
    network, domain = _unslice(network, domain)
    from .line import LineRun, applies
    on_line = client is None and isinstance(network, Network) and isinstance(domain, Polytope) \
        and applies(network, domain)
    run = (LineRun if on_line else _Run)(network, domain, tol, max_regions, time_limit, batch_size,
                                         progress, keep=False)
    s = _execute(run, workers, client)
    if s.patterns is not None:
        count, bounded = len(s.patterns), sum(s.patterns.values())
    else:
        count, bounded = s.count, s.bounded_count
    return RegionCount(count, bounded=bounded, complete=s.complete, seconds=s.seconds,
                       stop_reason=s.stop_reason, exact_calls=s.exact_calls)


class _Run:
    """One enumeration: validation, the layer stack, budgets and bookkeeping."""

    distributable = True  # whether workers or a Dask client may share it (regionenum.parallel)

    def __init__(self, network, domain, tol, max_regions, time_limit, batch_size, progress, keep):
        _validate(network, domain, tol, max_regions, time_limit, batch_size)
        self.net = network
        self.domain = domain
        self.tol = float(tol)
        self.max_regions = max_regions
        self.time_limit = time_limit
        self.batch_size = int(batch_size)
        self.progress = progress
        self.keep = keep
        self.exact_net = ExactNetwork(network)
        self.roots = None

    def execute(self, stack=None) -> RunStats:
        """Run the layer stack to the end (or a budget). ``stack`` holds ``(layer, cells,
        maps)`` entries to start from (with ``self.roots`` set); by default the domain's roots."""
        start = time.perf_counter()
        if stack is None:
            stats = self.begin()
            stack = self.initial_stack()
        else:
            stats = self._new_stats()
        with AdaptiveBlas() as blas:
            try:
                while stack:
                    blas.refresh()
                    layer, cells, maps = stack.pop()
                    self._process(layer, cells, *maps(), stack, stats)
                    elapsed = time.perf_counter() - start
                    if self.progress is not None:
                        self.progress(Progress(stats.count, sum(len(s[1]) for s in stack), layer,
                                               elapsed, stats.exact_calls))
                    if self.max_regions is not None and stats.count >= self.max_regions:
                        if stack or stats.truncated:
                            stats.complete, stats.stop_reason = False, "max_regions"
                        break
                    if self.time_limit is not None and elapsed > self.time_limit and stack:
                        stats.complete, stats.stop_reason = False, "time_limit"
                        break
            except KeyboardInterrupt:
                stats.complete, stats.stop_reason = False, "interrupted"
        stats.seconds = time.perf_counter() - start
        return stats

    def begin(self) -> RunStats:
        """Cut the domain into root cells; the run's bookkeeping, counting the exact signs the
        cut took."""
        self.roots = root_cells(self.domain, self.net.n_units, self.tol, self.net.n_ties)
        return self._new_stats(self.roots.exact_calls)

    def initial_stack(self) -> list:
        """The root cells, to split by layer 0. Each entry of the stack: the layer to split by
        next, the cells, and how to get their hyperplane rows (computed only when popped, so
        waiting cells hold no rows of their own)."""
        return [(0, self.roots.cells, self.first_layer_maps)]

    def _new_stats(self, exact_calls: int = 0) -> RunStats:
        stats = RunStats(exact_calls=exact_calls)
        if self.roots.merge_pieces:
            stats.patterns = {}  # pieces of one region are merged by pattern
        return stats

    def first_layer_maps(self):
        """The first layer's hyperplane rows, the same for every root cell, and their magnitudes."""
        first = self.net.layers[0]
        J0 = np.concatenate([first.b[None, :], first.W.T], axis=0)  # (d + 1, width_0)
        abs0 = np.abs(J0).sum(axis=0, keepdims=True).astype(np.float32)
        n = len(self.roots.cells)
        return (kernel_array(np.broadcast_to(J0, (n,) + J0.shape), np.float64),
                kernel_array(np.broadcast_to(abs0, (n,) + abs0.shape), np.float32))

    def _process(self, l, cells: CellSet, J, Jabs, stack, stats: RunStats):
        """Split ``cells`` by layer ``l`` (hyperplane rows ``J``), then push the children, in
        batches, for layer ``l + 1``, or finish them after the last layer."""
        net = self.net
        layer = net.layers[l]
        if len(net.split_units[l]):
            children, parent, bits, zero = self._split(l, cells, J, Jabs, stats)
            o = net.unit_offsets[l]
            set_bits(children.packed, o, bits)
            if zero.any():
                set_bits(children.zero, o, zero)
        else:
            children, parent, bits = cells, np.arange(len(cells)), None
        if not self.keep and l >= max(net.split_layers, default=0):
            self._finish(children, None, stats)  # no later layer splits: the cells are regions
            return
        if l == len(net.layers) - 1:
            mask = self._slopes(l, bits, len(children))
            self._finish(children, layer.activation.collect(gather_masked(J, parent, mask), axis=2),
                         stats)
            return
        # waiting children keep their state bits, not float slopes: an eighth of the memory
        chunks = []
        for lo in range(0, len(children), self.batch_size):
            hi = min(lo + self.batch_size, len(children))
            part = children.take(np.arange(lo, hi)) if (lo, hi) != (0, len(children)) else children
            chunks.append((l + 1, part, functools.partial(
                self._next_layer_maps, l + 1, J, Jabs, parent=parent[lo:hi],
                bits=None if bits is None else bits[lo:hi])))
        stack.extend(reversed(chunks))  # the first chunk is popped first

    def _slopes(self, l, bits, n):
        """Each unit's slope of layer ``l`` on ``n`` cells with state ``bits`` (None: one state)."""
        layer = self.net.layers[l]
        units = self.net.split_units[l]
        if bits is None:
            return np.ones((n, layer.width))
        slopes = np.where(bits, 1.0, layer.activation.off_slope)
        if len(units) == layer.width:
            return slopes
        mask = np.ones((n, layer.width))  # linear units keep slope 1
        mask[:, units] = slopes
        return mask

    def _split(self, l, cells: CellSet, J, Jabs, stats: RunStats):
        """Split ``cells`` by the units of layer ``l``: the pieces, each one's parent cell, the
        units' state bits on it and which units are identically zero (for a max group: tied
        with its winner) on it."""
        layer = self.net.layers[l]
        ids = self.roots.ids
        o = self.net.unit_offsets[l]

        def oracle(sub, hyp_ids, winner=None):
            return ExactOracle(ids, self.roots.exact_rows, self.exact_net, hyp_ids, prefixes=sub.packed)

        if layer.activation.kind != "max":
            units = self.net.split_units[l]
            if len(units) < layer.width:
                J, Jabs = J[:, :, units], Jabs[:, :, units]
            hyp_ids = ids.unit_start + o + np.arange(len(units))
            # a few cells cut by many hyperplanes (the domain by the first layer) go in stages of
            # STAGE hyperplanes: one cell's table of values at its vertices would be huge
            stages = range(0, len(units), STAGE if len(cells) * STAGE < len(units) else len(units))
            parent, bits, zero = np.arange(len(cells)), None, None
            for lo in stages:
                cols = slice(lo, lo + stages.step)
                Jc, Ac = (J, Jabs) if len(stages) == 1 else (J[parent, :, cols], Jabs[parent, :, cols])
                cells, sub_parent, on, zr, n_exact = split(cells, Jc, Ac, self.roots.ref, hyp_ids[cols],
                                                           self.tol, oracle(cells, hyp_ids[cols]),
                                                           want_cons=self.keep)
                stats.exact_calls += n_exact
                parent = parent[sub_parent]
                if bits is None:
                    bits, zero = on, zr
                else:  # later stages: the earlier states follow each piece from its parent
                    bits = np.concatenate([bits[sub_parent], on], axis=1)
                    zero = np.concatenate([zero[sub_parent], zr], axis=1)
            return cells, parent, bits, zero
        # one group after another: each piece gets the winner of every group
        parent = np.arange(len(cells))
        bits = np.zeros((len(cells), layer.width), bool)
        zero = np.zeros_like(bits)
        act = layer.activation
        for g, (start, k) in enumerate(zip(act.group_starts, act.groups)):
            cols = slice(start, start + k)
            cells, sub_parent, winner, tied, n_exact = split_by_argmax(
                cells, J[parent, :, cols], Jabs[parent, :, cols], self.roots.ref, self.tol,
                lambda w, g=g: ids.tie_start + self.net.ties_of(l, g, w), oracle, self.keep)
            stats.exact_calls += n_exact
            parent, bits, zero = parent[sub_parent], bits[sub_parent], zero[sub_parent]
            bits[np.arange(len(cells)), start + winner] = True
            zero[:, cols] = tied
        return cells, parent, bits, zero

    def _next_layer_maps(self, l, J, Jabs, parent, bits):
        """Hyperplane rows of layer ``l`` for children of cells with rows ``J`` of layer ``l - 1``
        (``parent`` and state ``bits`` per child), and their magnitude bounds from ``Jabs`` (the
        same product on absolute values, summed over the rows)."""
        mask = self._slopes(l - 1, bits, len(parent))
        collect = self.net.layers[l - 1].activation.collect
        M = collect(gather_masked(J, parent, mask), axis=2)
        Mabs = collect(gather_masked(Jabs, parent, np.abs(mask).astype(np.float32)), axis=2)
        layer = self.net.layers[l]
        n, D, width = M.shape
        J = (M.reshape(n * D, width) @ layer.W.T).reshape(n, D, layer.width)
        J[:, 0, :] += layer.b
        # magnitudes only bound rounding, so single precision is plenty (and twice as fast); and
        # their sum over the rows obeys the same recursion, at a third of the work
        abs_W, abs_b = self._magnitude_layers[l]
        Jabs = (Mabs.reshape(n, -1) @ abs_W.T).reshape(n, 1, layer.width)
        Jabs[:, 0, :] += abs_b
        return J, Jabs

    @functools.cached_property
    def _magnitude_layers(self):
        """Each layer's ``|W|`` and ``|b|`` in single precision, for the magnitude bounds."""
        return [(np.abs(layer.W).astype(np.float32), np.abs(layer.b).astype(np.float32))
                for layer in self.net.layers]

    def _finish(self, cells: CellSet, J_out, stats: RunStats):
        """Count (and when keeping them, store with their output maps ``J_out``) finished cells."""
        if self.max_regions is not None and stats.count + len(cells) > self.max_regions:
            keep = self.max_regions - stats.count
            cells = cells.take(np.arange(keep))
            J_out = None if J_out is None else J_out[:keep]
            stats.truncated = True
        has_ray = ~cells.bounded()
        if stats.patterns is not None:
            for row, ray in zip(cells.packed, has_ray):
                key = row.tobytes()
                stats.patterns[key] = stats.patterns.get(key, True) and not ray
        stats.count += len(cells)
        stats.bounded_count += int(np.count_nonzero(~has_ray))
        if self.keep:
            stats.finished.append((cells, np.ascontiguousarray(J_out)))


def _execute(run, workers, client) -> RunStats:
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise RegionEnumError(f"workers must be a positive integer, got {workers!r}")
    if (workers == 1 and client is None) or not run.distributable:
        return run.execute()
    from .parallel import run_parallel
    return run_parallel(run, int(workers), client)


def _unslice(network, domain):
    """On a :class:`~regionenum.Slice`, the network restricted to it and its own domain."""
    from .slices import Slice
    if isinstance(domain, Slice):
        if not isinstance(network, Network):
            raise RegionEnumError(f"network must be a regionenum.Network, got {type(network).__name__}")
        if len(domain.origin) != network.input_dim:
            raise InvalidDomainError(f"the slice lives in {len(domain.origin)} inputs but the network "
                                     f"takes {network.input_dim}")
        return domain.restrict(network), domain.domain
    return network, domain


def _validate(network, domain, tol, max_regions, time_limit, batch_size):
    if not isinstance(network, Network):
        raise RegionEnumError(f"network must be a regionenum.Network, got {type(network).__name__}")
    if not isinstance(domain, Polytope):
        raise InvalidDomainError(f"domain must be a regionenum Box or Polytope, got {type(domain).__name__}")
    if domain.dim != network.input_dim:
        raise InvalidDomainError(
            f"the domain has dimension {domain.dim} but the network takes {network.input_dim} inputs")
    if not (0 < tol < 1e-3):
        raise RegionEnumError(f"tol must be in (0, 1e-3), got {tol}")
    if max_regions is not None and (int(max_regions) != max_regions or max_regions < 1):
        raise RegionEnumError(f"max_regions must be a positive integer, got {max_regions}")
    if time_limit is not None and not (time_limit > 0):
        raise RegionEnumError(f"time_limit must be positive seconds, got {time_limit}")
    if int(batch_size) < 1:
        raise RegionEnumError(f"batch_size must be at least 1, got {batch_size}")
