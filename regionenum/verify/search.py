"""Property-directed search: decide a property without enumerating every region.

A *cell* is a part of the input box on which the units of layers ``0 .. l - 1`` have fixed
states (some fixed by a split, the others because their sign is proven on the cell), so that
the pre-activations of layer ``l`` are an affine map ``E`` of the inputs; it is given by its
rows (the input set's extra rows and the split units' hyperplanes, each ``<= 0``), a box that
contains it, and the states it has fixed. The search keeps a stack of cells and, for the one on
top:

1. tightens its box by linear programmes when it has new rows, and bounds layer ``l``'s units
   (over the box, then by linear programmes for those the box leaves open): units proven on or
   off are fixed, and while all are, the cell moves on to the next layer;
2. relaxes the remaining layers (:class:`~regionenum.verify.relaxation.Relaxation`) into linear
   lower bounds ``L_i(x)`` of every output row, and asks a linear programme whether some point
   of the cell could meet every row of an output set; where a rigorous bound says no for every
   output set (:func:`~regionenum.engine.lp_bounds.emptiness`), the cell is decided;
3. otherwise tries the programme's point as a counterexample, and splits the cell: by the
   hyperplane of an undecided unit of layer ``l`` (each side fixes its state; the unit whose
   range is most balanced goes first), or, while more than :data:`BISECT_ABOVE` are undecided,
   by halving the box along the input that matters most to the bounds.

Past the last layer a cell's outputs are affine and the same test is exact up to rounding;
what rounding cannot settle is decided in rational arithmetic (:mod:`regionenum.engine.exact_lp`).
Counterexamples are hunted first by sampling and local search, then at the programmes' points
(the most promising side of each split is searched first), and each is checked exactly before
``sat`` is returned. ``unsat`` comes with a :class:`~regionenum.verify.proof.Proof` of every
claim the search relied on; replaying it (:func:`replay_case`, with the search's own code
driven by the proof instead of by its choices) re-checks them.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..core.arrays import checked_instance
from ..core.domain import Box, Polytope
from ..core.network import Network
from ..engine.driver import DeferredInterrupts, Progress
from ..engine.exact_lp import exact_lp
from ..core.tolerances import U
from ..engine.lp_bounds import box_max, box_min, emptiness, safe_lower_bounds
from ..errors import InternalError, InvalidArgumentError, InvalidDomainError, InvalidNetworkError
from .counterexamples import exact_outputs, exact_violation, local_search, margins
from .proof import ExactRows, Proof, ProofBuilder, RowSet, exact_box_min, settled_min, settled_mins
from .relaxation import Relaxation, SearchNetwork
from .spec import Case, LinearSet, output_rows

__all__ = ["BISECT_ABOVE", "SearchResult", "replay_case", "search", "verify_property"]

#: A cell whose layer has more undecided units than this is halved along an input instead of split
#: by one unit's hyperplane, while it has width and fewer than :data:`MAX_HALVINGS` times the
#: number of free inputs halvings above it (halving stops paying where many hyperplanes meet).
BISECT_ABOVE = 10
MAX_HALVINGS = 2
#: Cells waiting in best-first order at most (see ``_Frontier``).
BEST_FIRST = 20000


@dataclass
class SearchResult:
    """The answer for one or several cases.

    Attributes
    ----------
    status : str
        ``"sat"`` (violated: ``counterexample``), ``"unsat"`` (holds: ``proof``) or
        ``"unknown"`` (a budget ran out: ``reason``).
    counterexample : ndarray or None
        The violating input (float64 nearest the exact input ``counterexample_exact``).
    counterexample_exact : list of Fraction or None
    outputs : ndarray or None
        The network's outputs there (float64 nearest the exact values).
    case, output_set : int or None
        Which case and which of its output sets the counterexample meets.
    proof : Proof or None
        For ``unsat``: what :func:`regionenum.certify` re-checks.
    reason : str
        Why the answer is ``unknown``.
    stop_reason : str or None
        ``"time_limit"`` or ``"interrupted"`` (Ctrl-C) where a budget stopped the search.
    cells : int
        Cells the search processed; ``leaves`` of them were decided without a split.
    seconds : float
    stats : dict
        Linear programmes, splits by units and by halving the box, cells settled exactly.
    """

    status: str
    counterexample: np.ndarray | None = None
    counterexample_exact: list | None = None
    outputs: np.ndarray | None = None
    case: int | None = None
    output_set: int | None = None
    proof: Proof | None = None
    reason: str = ""
    cells: int = 0
    leaves: int = 0
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)
    stop_reason: str | None = None

    @property
    def holds(self):
        """For :func:`verify_property`: True (proven), False (violated) or None (unknown)."""
        return {"unsat": True, "sat": False}.get(self.status)


class _Cell:
    """One cell of the search (see the module's description)."""

    __slots__ = ("id", "layer", "E", "lo", "hi", "rows", "row_err", "row_bits", "bits", "bounds",
                 "share", "new_rows", "point", "halvings")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


class _Frontier:
    """The cells waiting: the most promising first (lowest programme optimum ``t`` of their
    parent, the side of its point first among siblings), while at most :data:`BEST_FIRST` wait;
    beyond that new cells go depth first, which keeps memory to a few cells per level."""

    def __init__(self):
        self.heap, self.stack, self.seq = [], [], 0

    def __len__(self):
        return len(self.heap) + len(self.stack)

    def push(self, cells, priority):
        for cell in cells:  # the last is taken first
            self.seq += 1
            if self.stack or len(self.heap) >= BEST_FIRST:
                self.stack.append(cell)
            else:
                heapq.heappush(self.heap, (priority, -self.seq, cell))

    def pop(self):
        return self.stack.pop() if self.stack else heapq.heappop(self.heap)[2]


class _Found(Exception):
    """A counterexample, checked exactly."""

    def __init__(self, x, index):
        self.x, self.index = x, index


class _OutOfTime(Exception):
    pass


class _Interrupted(Exception):
    pass


def search(network, cases, *, time_limit: float | None = None, progress=None, seed: int = 0) -> SearchResult:
    """Decide whether some input of some case meets one of its output sets.

    Parameters
    ----------
    network : Network
        ReLU, LeakyReLU and identity layers.
    cases : list of Case
        The property's input sets with their output sets (:mod:`regionenum.verify.spec`).
    time_limit : float, optional
        Seconds; past it the answer is ``unknown`` (checked between cells, as is Ctrl-C, which
        also answers ``unknown``).
    progress : callable, optional
        Called with a :class:`~regionenum.Progress` now and then (``regions``: decided cells,
        ``done``: the share of the input volume decided).
    seed : int
        Of the sampling.

    Returns
    -------
    SearchResult

    Raises
    ------
    InvalidArgumentError
        A bad ``time_limit``.
    InvalidNetworkError
        The cases' dimensions are not the network's, or it has max layers.
    """
    if time_limit is not None and not (time_limit > 0):
        raise InvalidArgumentError(f"time_limit must be positive seconds, got {time_limit}")
    for case in cases:
        if case.n_inputs != network.input_dim or (case.outputs and case.n_outputs != network.output_dim):
            raise InvalidNetworkError(f"the property has {case.n_inputs} inputs and {case.n_outputs} outputs; "
                                      f"the network {network.input_dim} and {network.output_dim}")
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    trees, cells, leaves = [], 0, 0
    stats = {}
    for index, case in enumerate(cases):
        run = _Search(network, case, ProofBuilder(), deadline=deadline, progress=progress, seed=seed,
                      start=start, share=(index / len(cases), 1 / len(cases)))
        try:
            with DeferredInterrupts() as interrupts:  # Ctrl-C stops between cells
                run.interrupts = interrupts
                run.run()
        except _Found as found:
            x = found.x
            y = np.array([float(v) for v in exact_outputs(network, x)])
            return SearchResult("sat", np.array([float(v) for v in x]), x, y, index, found.index,
                                cells=cells + run.count, leaves=leaves + run.leaves,
                                seconds=time.perf_counter() - start, stats=_add(stats, run.stats))
        except (_OutOfTime, _Interrupted) as stop:
            what = (f"the time limit of {time_limit:g} s ran out" if isinstance(stop, _OutOfTime)
                    else "interrupted (Ctrl-C)")
            return SearchResult("unknown", reason=f"{what} with {len(run.stack)} cells of case {index + 1} of "
                                f"{len(cases)} undecided", cells=cells + run.count, leaves=leaves + run.leaves,
                                seconds=time.perf_counter() - start, stats=_add(stats, run.stats),
                                stop_reason="time_limit" if isinstance(stop, _OutOfTime) else "interrupted")
        trees.append(run.ledger.finish())
        cells += run.count
        leaves += run.leaves
        stats = _add(stats, run.stats)
    return SearchResult("unsat", proof=Proof(network, list(cases), trees), cells=cells, leaves=leaves,
                        seconds=time.perf_counter() - start, stats=stats)


def verify_property(network, domain, C, e, *, time_limit: float | None = None, progress=None) -> SearchResult:
    """Decide whether ``C y(x) + e <= 0`` for every input ``x`` of ``domain``, by the
    property-directed search: no region is enumerated that the property does not need.

    Parameters
    ----------
    network : Network
    domain : Box, Polytope or (lo, hi)
        A bounded input set; a pair of arrays may fix inputs (``lo[i] == hi[i]``), which then
        drop out of the search.
    C : array_like, shape (m, k)
    e : array_like, shape (m,)
    time_limit : float, optional
    progress : callable, optional
        As for :func:`search`.

    Returns
    -------
    SearchResult
        ``holds`` is True with a ``proof`` (``rn.certify`` re-checks it), False with a
        ``counterexample`` where some row is exactly positive, or None when the time ran out.

    Raises
    ------
    InvalidArgumentError
        ``C`` or ``e`` of the wrong shape or not finite.
    InvalidDomainError
        An unbounded or empty domain.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.zeros(1))])   # |x|
    >>> rn.verify.verify_property(net, rn.Box([-1.0], [0.5]), [[1.0]], [-1.0]).holds    # |x| <= 1
    True
    >>> r = rn.verify.verify_property(net, rn.Box([-1.0], [0.5]), [[1.0]], [-0.75])
    >>> r.holds, float(r.outputs[0]) > 0.75
    (False, True)
    """
    checked_instance(network, Network, "network", "a regionenum.Network")
    C, e = output_rows(C, e, network.output_dim)
    lo, hi, rows = _domain_box(domain, network.input_dim)
    # violated where some row is positive: one strict output set -c_i y - e_i < 0 per row
    outputs = [LinearSet.from_arrays(-C[i:i + 1], -e[i:i + 1], network.output_dim, "C, e", strict=True) for i in range(len(C))]
    case = Case(lo, hi, rows, tuple(outputs))
    return search(network, [case], time_limit=time_limit, progress=progress)


def _domain_box(domain, d):
    """Exact box bounds and extra rows of a domain: a Box, a pair (lo, hi), or a Polytope
    (its rows kept, its box from exact linear programmes)."""
    if isinstance(domain, Box):
        lo = tuple(Fraction(float(v)) for v in domain.lo)
        hi = tuple(Fraction(float(v)) for v in domain.hi)
        rows = LinearSet((), (), d)
    elif isinstance(domain, Polytope):
        rows = LinearSet.from_arrays(domain.A, domain.b, domain.dim, "domain")
        lo, hi = _exact_extent(rows)
    elif isinstance(domain, (tuple, list)) and len(domain) == 2:
        lo = tuple(Fraction(float(v)) for v in np.ravel(domain[0]))
        hi = tuple(Fraction(float(v)) for v in np.ravel(domain[1]))
        rows = LinearSet((), (), d)
    else:
        raise InvalidDomainError(f"domain must be a Box, a Polytope or a pair (lo, hi), got {type(domain).__name__}")
    if len(lo) != d or len(hi) != d:
        raise InvalidDomainError(f"the domain has dimension {len(lo)} but the network takes {d} inputs")
    return lo, hi, rows


def _exact_extent(rows):
    """The exact bounding box of ``{x : A x + b <= 0}`` (linear programmes in Fractions over a
    box found in float64 and widened until the exact answers lie inside it)."""
    P = Polytope(rows.A_f, rows.b_f)
    if not P.is_bounded:
        raise InvalidDomainError("the domain must be bounded")
    flo, fhi = P.bounds
    pad = 1.0 + np.abs(flo) + np.abs(fhi)
    d = rows.dim
    G = [list(r) for r in rows.A]
    h = [-v for v in rows.b]
    while True:
        box_lo = [Fraction(float(v)) for v in flo - pad]
        box_hi = [Fraction(float(v)) for v in fhi + pad]
        lo, hi = [], []
        for j in range(d):
            c = [Fraction(int(i == j)) for i in range(d)]
            _, x, _ = exact_lp(G, h, box_lo, box_hi, c)
            lo.append(x[j])
            _, x, _ = exact_lp(G, h, box_lo, box_hi, [-v for v in c])
            hi.append(x[j])
        if all(a > b for a, b in zip(lo, box_lo)) and all(a < b for a, b in zip(hi, box_hi)):
            return tuple(lo), tuple(hi)
        pad = 4 * pad


def replay_case(network, case, ledger):
    """Replay the search of one case as its proof recorded it, checking every claim
    (:func:`regionenum.verify.proof.check_proof` calls this)."""
    _Search(network, case, ledger).run()


def _add(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


class _Search:
    """The search on one case, recording its claims in ``ledger``, or, when the ledger is a
    replay, following the recorded choices and checking the recorded claims."""

    def __init__(self, network, case, ledger, deadline=None, progress=None, seed=0, start=None, share=(0.0, 1.0)):
        self.network, self.case, self.ledger = network, case, ledger
        self.replay = ledger.replay
        self.deadline, self.progress = deadline, progress
        self.start = time.perf_counter() if start is None else start
        self.rng = np.random.default_rng(seed)
        self.share = share
        lo, hi = case.float_box()
        self.net = SearchNetwork(network, lo, hi)
        self.free = self.net.free
        self.count = self.leaves = 0
        self.done = 0.0
        self.stack = []
        self.stats = dict(lps=0, bisections=0, unit_splits=0, exact_cells=0)
        self._last_report = 0.0
        self._descents = 0.0
        self.interrupts = None
        self._exact = None
        # the case's extra input rows over (1, x_free), with their rounding bounds
        rows = case.rows
        fixed = self.net.fixed
        self.in_rows = np.concatenate([(rows.b_f + rows.A_f[:, fixed] @ lo[fixed])[:, None],
                                       rows.A_f[:, self.free]], axis=1)
        reach = np.maximum(np.abs(lo), np.abs(hi))
        self.in_err = 4 * (len(lo) + 4) * U * (np.abs(rows.A_f) @ reach + np.abs(rows.b_f))
        self.outputs = [(out.A_f, out.b_f) for out in case.outputs]

    @property
    def exact(self) -> ExactRows:
        """Exact rows of the case's cells (made when first needed)."""
        if self._exact is None:
            self._exact = ExactRows(self.network, self.net, self.case)
        return self._exact

    # -- the loop ------------------------------------------------------------------------------
    def run(self):
        if not self.case.outputs:
            return  # no output set: nothing can violate the property
        if not self.replay:
            self._falsify()
        net = self.net
        lo, hi = net.lo[self.free], net.hi[self.free]
        n_rows = len(self.in_rows)
        root = _Cell(id=self.ledger.new_cell(-1, ("root",)), layer=0, E=net.E0, lo=lo, hi=hi,
                     rows=self.in_rows, row_err=self.in_err, row_bits=np.full(n_rows, -1, np.int64),
                     bits=np.zeros(self.network.n_units, bool), bounds=self._no_bounds(0), share=1.0,
                     new_rows=n_rows > 0, point=None, halvings=0)
        self.stack = _Frontier()
        self.stack.push([root], -np.inf)
        while self.stack:
            if self.deadline is not None and time.perf_counter() > self.deadline:
                raise _OutOfTime
            if self.interrupts is not None and self.interrupts.raised:
                raise _Interrupted
            cell = self.stack.pop()
            self.count += 1
            children, priority = self._process(cell)
            if not children:
                self.leaves += 1
                self.done += cell.share
            self.stack.push(children, priority)
            self._report(cell.layer)
        self._report(net.n_layers - 1, force=True)

    def _report(self, layer, force=False):
        if self.progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._last_report < 0.1:
            return
        self._last_report = now
        base, part = self.share
        self.progress(Progress(self.leaves, len(self.stack), layer, now - self.start, self.stats["exact_cells"],
                               min(1.0, base + self.done * part)))

    def _no_bounds(self, l):
        net = self.net
        return [(np.full(len(b), -np.inf), np.full(len(b), np.inf)) for b in net.bs[l:net.n_layers - 1]]

    # -- counterexamples -----------------------------------------------------------------------
    def _falsify(self):
        """Sampling (uniform, and on the box's faces, edges and corners: each coordinate at a
        bound with probability one half), then local search from the best samples."""
        net = self.net
        lo, hi = net.lo[self.free], net.hi[self.free]
        n = 256 * max(1, net.dim)
        X = lo + (hi - lo) * self.rng.random((2 * n, net.dim))
        snap = self.rng.random((n, net.dim)) < 0.5
        X[n:] = np.where(snap, np.where(self.rng.random((n, net.dim)) < 0.5, lo, hi), X[n:])
        m = margins(self.case, self.network(net.full_input(X)))
        order = np.argsort(m)
        X2, m2 = local_search(net, self.case, X[order[:16]])
        self._try(np.vstack([X[order[:4]], X2]), np.concatenate([m[order[:4]], m2]))

    def _descend(self, x, cell):
        """Local search from ``x`` and from a few random points of the cell's box (a tenth of
        the time at most); the best margin reached."""
        start = time.perf_counter()
        starts = np.vstack([x[None], cell.lo + (cell.hi - cell.lo) * self.rng.random((3, len(x)))])
        X, m = local_search(self.net, self.case, starts, steps=20)
        best = self._try(X, m)
        self._descents += time.perf_counter() - start
        return best

    def _try(self, X, m=None):
        """Check the points ``X`` (free inputs) exactly where their float margin is not clearly
        positive; raise :class:`_Found` at the first violation. Returns the smallest margin."""
        if self.replay:
            return 0.0
        if m is None:
            m = margins(self.case, self.network(self.net.full_input(X)))
        for i in np.argsort(m):
            if m[i] > 1e-9 * (1 + abs(m[i])):
                break
            x = self._snap(self.net.full_input(X[i:i + 1])[0])
            k = exact_violation(self.network, self.case, x)
            if k is not None:
                raise _Found(x, k)
        return float(m.min())

    def _snap(self, x):
        """A float input as exact Fractions inside the case's box (fixed inputs exact)."""
        out = []
        for v, lo, hi in zip(x, self.case.lo, self.case.hi):
            q = Fraction(float(v))
            out.append(lo if q < lo else hi if q > hi else q)
        return out

    # -- claims: made and recorded, or read back and checked exactly ---------------------------------
    def _bounds(self, cell, obj, exact_obj):
        """Rigorous lower bounds of the objective rows ``obj`` on the cell (``+inf``: the cell is
        empty); ``exact_obj()`` gives their exact rows (for the replay's check)."""
        if not self.replay:
            low, _, W = safe_lower_bounds(obj, cell.rows, cell.row_err, cell.lo, cell.hi)
            self.stats["lps"] += len(obj)
            self.ledger.record(cell, "bounds", low, W)
            return low
        low, W = self.ledger.next_event(cell, "bounds")
        rows = self.exact.cell_rows(cell.row_bits, cell.bits)
        empty, finite = np.isposinf(low), np.isfinite(low)
        # the rows alone positive on the box: the cell is empty; else objective + rows >= bound
        ok_empty = settled_mins(W[empty], None, rows, cell.lo, cell.hi, np.zeros(empty.sum()), strict=True)[0]
        ok_bound = settled_mins(W[finite], exact_obj().take(np.flatnonzero(finite)), rows, cell.lo, cell.hi,
                                [Fraction(float(v)) for v in low[finite]], strict=False)[0]
        self.ledger.claims += int(empty.sum() + finite.sum())
        if not (ok_empty.all() and W[empty].any(axis=1).all() and ok_bound.all()):
            self.ledger.fail(cell.id, "a bound does not follow from its multipliers")
        return low

    def _excluded(self, cell, k, L, exact_L):
        """Whether output set ``k`` is proven out of reach on the cell, given lower bounds ``L``
        of its rows (already lowered by their rounding); ``exact_L()`` gives rows to check the
        replayed claim with. Returns the verdict and the programme's (t, x)."""
        if not self.replay:
            proven, _, t, x, mu, w = emptiness(L, np.zeros(len(L)), cell.rows, cell.row_err, cell.lo, cell.hi)
            self.stats["lps"] += 1
            self.ledger.record(cell, "empty", k, proven, mu, w)
            return proven, t, x
        k_, proven, mu, w = self.ledger.next_event(cell, "empty")
        if k_ != k:
            self.ledger.fail(cell.id, f"expected the test of output set {k}, the proof has {k_}")
        if proven:
            rows = self.exact.cell_rows(cell.row_bits, cell.bits)
            self.ledger.claims += 1
            if not settled_min(np.concatenate([mu, w]), exact_L() + rows, cell.lo, cell.hi, 0, strict=True)[0]:
                self.ledger.fail(cell.id, f"the multipliers do not exclude output set {k}")
        return proven, -np.inf, None

    def _choose(self, cell, proposal):
        """Record (or read back) how the cell goes on: ``("leaf",)``, ``("unit", j)`` or
        ``("bisect", k)``."""
        if not self.replay:
            self.ledger.record(cell, "choice", proposal)
            return proposal
        return self.ledger.next_event(cell, "choice")[0]

    # -- one cell ------------------------------------------------------------------------------
    def _process(self, cell):
        net = self.net
        while True:
            if cell.new_rows and not self._tighten_box(cell):
                return [], 0.0
            l = cell.layer
            if l == net.n_layers - 1:
                return self._decide_affine(cell), 0.0
            zlo, zhi = self._layer_bounds(cell)
            open_ = np.flatnonzero(net.two_state[l] & (zlo < 0) & (zhi > 0))
            cell.bounds[0] = (zlo, zhi)
            if len(open_):
                return self._bound_or_split(cell, open_)
            on = zlo >= 0
            two = net.two_state[l]
            if self.replay:
                (claimed,) = self.ledger.next_event(cell, "fix")
                if not np.array_equal(claimed[two], on[two]):
                    self.ledger.fail(cell.id, f"the states of layer {l} differ from the replay's")
            else:
                self.ledger.record(cell, "fix", on)
            cell.bits = cell.bits.copy()
            cell.bits[net.bit[l][two]] = on[two]
            cell.E = net.next_map(l, cell.E, on)
            cell.layer = l + 1
            cell.bounds = cell.bounds[1:]

    def _tighten_box(self, cell) -> bool:
        """Shrink the cell's box to the rows' extent; False when the rows leave nothing."""
        d = self.net.dim
        obj = np.zeros((2 * d, d + 1))
        obj[:d, 1:] = np.eye(d)
        obj[d:, 1:] = -np.eye(d)

        low = self._bounds(cell, obj, lambda: RowSet.floats(obj))
        cell.new_rows = False
        lo = np.maximum(cell.lo, low[:d])
        hi = np.minimum(cell.hi, -low[d:])
        if np.isposinf(low).any() or np.any(lo > hi):
            return False
        cell.lo, cell.hi = lo, hi
        return True

    def _layer_bounds(self, cell):
        """Bounds of layer ``l``'s pre-activations on the cell: over its box, then by linear
        programmes for the units the box leaves open (when the cell has rows)."""
        net, l, E = self.net, cell.layer, cell.E
        err = net.err[l]
        zlo = np.maximum(box_min(E[:, 1:], E[:, 0], cell.lo, cell.hi) - err, cell.bounds[0][0])
        zhi = np.minimum(box_max(E[:, 1:], E[:, 0], cell.lo, cell.hi) + err, cell.bounds[0][1])
        open_ = np.flatnonzero(net.two_state[l] & (zlo < 0) & (zhi > 0))
        if len(open_) and len(cell.rows):
            obj = np.concatenate([E[open_], -E[open_]])

            def exact_obj():
                rows = self.exact.units(l, open_, cell.bits)
                return rows + rows.negated()

            low = self._bounds(cell, obj, exact_obj)
            n = len(open_)
            zlo[open_] = np.maximum(zlo[open_], low[:n] - err[open_])
            zhi[open_] = np.minimum(zhi[open_], -low[n:] + err[open_])
        return zlo, zhi

    def _bound_or_split(self, cell, open_):
        net, l = self.net, cell.layer
        relax = Relaxation(net, l, cell.E, cell.lo, cell.hi, cell.bounds)
        points, scores, undecided = [], np.zeros(net.dim), False
        for k, (C, e) in enumerate(self.outputs):
            A, c, _ = relax.output_rows(C, e)
            L = np.concatenate([c[:, None], A], axis=1)
            proven, t, x = self._excluded(cell, k, L, lambda L=L: RowSet.floats(L))
            if not proven:
                undecided = True
                if x is not None:
                    points.append((t, x))
                scores += np.abs(A).sum(axis=0)
        proposal = ("leaf",)
        if undecided:
            points.sort(key=lambda p: p[0])
            if points:
                self._try(np.array([p[1] for p in points]))
                cell.point = points[0][1]
                if points[0][0] < 0 and not self.replay and self._descents < 0.1 * (time.perf_counter() - self.start):
                    self._descend(points[0][1], cell)  # the relaxation allows a violation here
            width = cell.hi - cell.lo
            p = cell.point
            if len(open_) > BISECT_ABOVE and width.max() > 0 and cell.halvings < MAX_HALVINGS * net.dim:
                k = int(np.argmax(scores * width))
                # the half holding the most promising point is searched first (pushed last)
                proposal = ("bisect", k, p is not None and p[k] <= 0.5 * (cell.lo[k] + cell.hi[k]))
            else:
                zlo, zhi = cell.bounds[0]
                j = int(open_[np.argmax(np.minimum(-zlo[open_], zhi[open_]))])
                proposal = ("unit", j, p is not None and cell.E[j, 0] + cell.E[j, 1:] @ p <= 0)
            proposal += (float(points[0][0]) if points else 0.0,)
        choice = self._choose(cell, proposal)
        if choice[0] == "leaf":
            if undecided:
                self.ledger.fail(cell.id, "the proof decides a cell its replay leaves open")
            return [], 0.0
        children = (self._bisect(cell, choice[1], relax.bounds) if choice[0] == "bisect"
                    else self._split_unit(cell, relax, choice[1]))
        # the last child is searched first: the side of the most promising point
        return (children[::-1] if choice[2] else children), choice[3]

    def _bisect(self, cell, k, bounds):
        self.stats["bisections"] += 1
        mid = 0.5 * (cell.lo[k] + cell.hi[k])
        out = []
        for side in (0, 1):
            lo, hi = cell.lo.copy(), cell.hi.copy()
            if side == 0:
                hi[k] = mid
            else:
                lo[k] = mid
            out.append(_Cell(id=self.ledger.new_cell(cell.id, ("bisect", k, float(mid), side)), layer=cell.layer,
                             E=cell.E, lo=lo, hi=hi, rows=cell.rows, row_err=cell.row_err, row_bits=cell.row_bits,
                             bits=cell.bits, bounds=[(a.copy(), b.copy()) for a, b in bounds],
                             share=cell.share / 2, new_rows=len(cell.rows) > 0, point=None,
                             halvings=cell.halvings + 1))
        return out

    def _split_unit(self, cell, relax, j):
        self.stats["unit_splits"] += 1
        net, l = self.net, cell.layer
        b = int(net.bit[l][j])
        row = cell.E[j]
        out = []
        for state in (False, True):
            bits = cell.bits.copy()
            bits[b] = state
            bounds = [(a.copy(), c.copy()) for a, c in relax.bounds]
            if state:
                bounds[0][0][j] = max(bounds[0][0][j], 0.0)
            else:
                bounds[0][1][j] = min(bounds[0][1][j], 0.0)
            out.append(_Cell(id=self.ledger.new_cell(cell.id, ("split", b, state)), layer=l, E=cell.E, lo=cell.lo,
                             hi=cell.hi, rows=np.vstack([cell.rows, (-row if state else row)]),
                             row_err=np.append(cell.row_err, net.err[l][j]), row_bits=np.append(cell.row_bits, b),
                             bits=bits, bounds=bounds, share=cell.share / 2, new_rows=True, point=None,
                             halvings=cell.halvings))
        return out

    def _decide_affine(self, cell):
        """A cell past every two-state layer: its outputs are ``E x``; decide each output set,
        in rational arithmetic where rounding cannot."""
        last = self.net.n_layers - 1
        for k, (C, e) in enumerate(self.outputs):
            L = np.concatenate([(C @ cell.E[:, 0] + e)[:, None], C @ cell.E[:, 1:]], axis=1)
            L[:, 0] -= self.net.ERR * (np.abs(C) @ self.net.mag[last] + np.abs(e))
            proven, t, x = self._excluded(cell, k, L, lambda k=k: self._exact_output_rows(cell, k))
            if proven:
                continue
            if x is not None:
                self._try(x[None])
            self._decide_exactly(cell, k)
        self._choose(cell, ("leaf",))
        return []

    def _exact_output_rows(self, cell, k) -> RowSet:
        """The rows of output set ``k`` on an affine cell, exactly: ``C y(x) + e``."""
        out = self.case.outputs[k]
        Y = self.exact.outputs(cell.bits).q
        rows = [tuple(sum((a * r[i] for a, r in zip(row, Y)), Fraction(0)) + (b if i == 0 else 0)
                      for i in range(len(Y[0]))) for row, b in zip(out.A, out.b)]
        return RowSet.exact(rows, self.exact.reach)

    def _decide_exactly(self, cell, k):
        """Settle output set ``k`` on an affine cell in rational arithmetic: raise
        :class:`_Found` with an exact counterexample, or record exact multipliers."""
        if self.replay:
            mu, w = self.ledger.next_event(cell, "exact")[1:]
            self._check_exact_exclusion(cell, k, mu, w)
            return
        self.stats["exact_cells"] += 1
        L = self._exact_output_rows(cell, k).q
        rows = self.exact.cell_rows(cell.row_bits, cell.bits).q
        d = self.net.dim
        lo, hi = self._exact_box(cell)
        # min t subject to L_i(x) <= t, rows <= 0, x in the box, t in [t_lo, t_hi]
        t_lo = min(exact_box_min(r, lo, hi) for r in L) - 1
        t_hi = -min(exact_box_min(tuple(-v for v in r), lo, hi) for r in L) + 1
        G = [list(r[1:]) + [Fraction(-1)] for r in L] + [list(r[1:]) + [Fraction(0)] for r in rows]
        h = [-r[0] for r in L] + [-r[0] for r in rows]
        status, x, mult = exact_lp(G, h, lo + [t_lo], hi + [t_hi], [Fraction(0)] * d + [Fraction(1)])
        m = len(L)
        strict = self.case.outputs[k].strict
        if status == "optimal" and (x[d] < 0 if strict else x[d] <= 0):
            full = self._snap_exact(x[:d])
            index = exact_violation(self.network, self.case, full)
            if index is None:
                raise InternalError("an exact point of an affine cell does not violate its output set")
            raise _Found(full, index)
        mu = [mult.get(i, Fraction(0)) for i in range(m)]
        w = [mult.get(m + i, Fraction(0)) for i in range(len(rows))]
        self._check_exact_exclusion(cell, k, mu, w)
        self.ledger.record(cell, "exact", k, mu, w)

    def _exact_box(self, cell):
        """The cell's box intersected with the case's exact box (Fractions, free inputs)."""
        lo = [max(Fraction(float(v)), self.case.lo[int(i)]) for v, i in zip(cell.lo, self.free)]
        hi = [min(Fraction(float(v)), self.case.hi[int(i)]) for v, i in zip(cell.hi, self.free)]
        return lo, hi

    def _check_exact_exclusion(self, cell, k, mu, w):
        """Exact multipliers ``mu`` (output rows) and ``w`` (cell rows) must combine into a
        function positive on the box (for a strict output set: nonnegative, with some ``mu > 0``,
        since the combination is at most ``sum mu_i L_i < 0`` where the set is met)."""
        rows = self._exact_output_rows(cell, k) + self.exact.cell_rows(cell.row_bits, cell.bits)
        lo, hi = self._exact_box(cell)
        weights = list(mu) + list(w)
        if self.case.outputs[k].strict:
            ok = any(q > 0 for q in mu) and settled_min(weights, rows, lo, hi, 0, strict=False)[0]
        else:
            ok = settled_min(weights, rows, lo, hi, 0, strict=True)[0]
        if self.replay:
            self.ledger.claims += 1
            if not ok:
                self.ledger.fail(cell.id, f"the exact multipliers do not exclude output set {k}")
        elif not ok:
            raise InternalError("the exact programme's multipliers do not exclude the output set")

    def _snap_exact(self, x_free):
        """Free inputs (Fractions) completed by the fixed inputs' exact values."""
        out = list(self.case.lo)
        for i, v in zip(self.free, x_free):
            out[int(i)] = v
        return out
