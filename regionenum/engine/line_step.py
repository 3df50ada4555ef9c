"""Counting on a line: the engine's one-input case, by values at the breakpoints.

On one input a cell is an interval, and the network is continuous, so a layer is known from its
pre-activations at the breakpoints alone: neighbouring intervals share them, and the breakpoints
a layer adds inside an interval (where the earlier layers are affine) get the next layer's values
by interpolation, corrected along the few units crossing there. So only breakpoints that were
already there before the layer pay for a matrix product, one row each, where the general engine
pays ``d + 1`` rows per cell.

Signs follow the general engine's rule (README, "Exactness"): a value is trusted in float64 only
where a rigorous bound on its distance from the exact value at the exact breakpoint proves its
sign, and where it exceeds ``tol`` times the unit's size at the breakpoint (from its slope on
each neighbouring interval), a band settled exactly as a margin of caution. The bound at
breakpoint ``p`` is ``E + delta_p S``: ``delta_p`` bounds the distance of its float position
from the exact one, and, per unit on groups of ``GROUP`` neighbouring intervals (a small share
of the products that bounds at every breakpoint would take), ``E`` bounds the rounding errors
of the products and interpolations behind the values and ``S`` the exact slopes (see
:mod:`regionenum.engine.kernels.line`). Every other sign, and every order of two roots that
float64 does not prove, is settled in exact arithmetic.

:func:`~regionenum.count_regions` uses it on bounded one-input domains of networks without max
layers; :func:`~regionenum.enumerate_regions` keeps the general engine (it builds geometry).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..core.arrays import offsets_of, set_bits
from ..core.domain import Box
from ..core.exact import ExactNetwork
from ..core.tolerances import DEFAULT_TOL
from .driver import Driver, Entry, Tally
from .kernels.line import (
    UNKNOWN,
    LineValues,
    RootCorrections,
    RootGroups,
    RootOrder,
    U,
    LineRule,
    activations,
    group_bounds,
    live_units,
    order_roots,
    point_signs,
    refine,
    root_delta,
    tightened_slopes,
    root_values,
    transposed_rows,
)
from .roots import root_cells

__all__ = ["LineStep", "applies", "line_pieces"]

#: An interval whose crossing units are more than this share of the layer gets the next layer's
#: values at its roots from a matrix product rather than by correcting an interpolation.
DENSE_SHARE = 1 / 16
#: Neighbouring intervals that share one bound on their magnitudes.
GROUP = 32


def applies(network, domain) -> bool:
    """Whether the line engine can count ``network`` on ``domain``: one input, a bounded
    domain, no max layers."""
    return (network.input_dim == 1 and domain.is_bounded
            and all(layer.activation.kind != "max" for layer in network.layers))


def line_pieces(network, domain, tol: float = DEFAULT_TOL, batch_size: int = 1024):
    """The activation regions of a one-input ``network`` on the interval ``domain``, left to
    right: their ends (``n + 1`` increasing floats, the domain's ends first and last; the inner
    ones are float64 approximations of exact roots) and their packed patterns ``(n, bytes)``.
    ``applies(network, domain)`` must hold; ``batch_size`` intervals go through a layer at once."""
    tally = Driver(LineStep(network, domain, tol, batch_size, keep=True)).run()
    xs = [x for x, _ in tally.finished]
    ends = np.concatenate([x[:-1] for x in xs] + [xs[-1][-1:]])  # neighbours share an end
    return ends, np.concatenate([packed for _, packed in tally.finished])


@dataclass
class Line:
    """Consecutive intervals of the domain: breakpoints, what defines them, and patterns."""

    x: np.ndarray         # (n + 1,) increasing breakpoints
    delta: np.ndarray     # (n + 1,) a bound on each one's distance from the exact breakpoint
    defining: np.ndarray  # (n + 1,) id of a constraint tight at each breakpoint
    packed: np.ndarray    # (n, bytes) each interval's pattern bits so far
    rows: np.ndarray      # (n + 1,) each breakpoint's row in the array of the layer's values
    bounds: np.ndarray    # (n,) each interval's row in the array of magnitude bounds

    def __len__(self) -> int:
        return len(self.x) - 1

    def part(self, lo: int, hi: int) -> Line:
        """Intervals ``lo`` to ``hi - 1``."""
        return Line(self.x[lo: hi + 1], self.delta[lo: hi + 1], self.defining[lo: hi + 1], self.packed[lo:hi],
                    self.rows[lo: hi + 1], self.bounds[lo:hi])


class LineStep:
    """A count on one input (see the module's description), one layer of a chunk of intervals at
    a time, under the general engine's :class:`~regionenum.engine.driver.Driver`. It runs in one
    process: its matrix products use every core."""

    def __init__(self, network, domain, tol: float, batch_size: int, keep: bool):
        self.net = network
        self.domain = domain
        self.tol = float(tol)
        self.batch_size = int(batch_size)
        self.keep = keep
        self.exact_net = ExactNetwork(network)
        self._buffers = _Buffers()
        self._split = []  # per layer, which units have states
        for layer, units in zip(network.layers, network.split_units):
            self._split.append(np.zeros(layer.width, bool))
            self._split[-1][units] = True

    def start(self, tally: Tally) -> list:
        """The domain as one interval (its two ends), to cut by layer 0."""
        roots = root_cells(self.domain, self.net.n_units, self.tol, self.net.n_ties, tally.check)
        tally.exact_calls += roots.exact_calls
        self.constraints = roots.constraints
        cells = roots.cells  # one bounded cell: two points
        order = np.argsort(cells.gens[:, 1])
        first_id = cells.inc[cells.inc_off[:-1]]
        ends = cells.gens[order, 1].copy()
        # a box's ends are exact; a polytope's are float64 roots of its rows, within u |x|
        delta = np.zeros(2) if isinstance(self.domain, Box) else 2.0 * U * np.abs(ends)
        self._root = Line(ends, delta, first_id[order].copy(), cells.packed.copy(), np.arange(2),
                          np.zeros(1, np.int64))
        self._rule = LineRule(self.constraints.ref, self.tol)
        self._rows = self.constraints.oracle(self.exact_net, []).row
        return [Entry(0, self._root, self._first_layer_values)]

    def process(self, entry: Entry, tally: Tally) -> list:
        """Cut ``entry``'s intervals by its layer; the chunks for the next layer."""
        Z, E, S = entry.rows()
        return self._process(entry.layer, entry.cells, Z, E, S, tally)

    def _first_layer_values(self):
        """The first layer at the domain's ends, and bounds on its rounding errors (``x w + b``
        rounds twice) and on its slopes, ``|w|``."""
        first = self.net.layers[0]
        w, b = first.W[:, 0], first.b
        Z = self._root.x[:, None] * w + b
        E = (np.abs(Z).max(axis=0) + np.abs(b)) * (4.0 * U)
        return Z, E[None], np.abs(w)[None]

    def _process(self, l, line: Line, Z, E, S, tally: Tally) -> list:
        """Cut ``line`` at the roots of layer ``l`` (values ``Z``, a row per breakpoint; rows of
        ``E`` and ``S`` bound their rounding errors and slopes, see
        :mod:`~regionenum.engine.kernels.line`), then push the pieces for the next layer, or
        count them after the last layer that cuts."""
        net = self.net
        last = l >= max(net.split_layers, default=0)  # no later layer cuts: the pieces are regions
        old = self._chunk_values(line, Z, E, S)
        if len(net.split_units[l]):
            off_slope = net.layers[l].activation.off_slope
            signs, unknown = point_signs(old, self._split[l], self._rule)
            if unknown:
                self._settle_signs(l, line, signs)
                tally.exact_calls += unknown
            order = order_roots(signs, old, self._rule)
            groups, root_errors = self._groups(l, line, signs, order)
            tally.exact_calls += int(order.unsure.sum())
            if last and not self.keep:  # only their number is wanted
                self._finish(len(line) + len(groups.t), None, tally)
                return []
            if not last:  # the next layer's inputs at the old breakpoints
                live = live_units(signs, off_slope)
                A = activations(Z, line.rows, signs, live, off_slope,
                                self._buffers.get("inputs", (len(signs), len(live) + 1)))
            r_A = self._buffers.get("root inputs", (len(groups.t), Z.shape[1] + 1))
            parent, states, r_int = refine(signs, Z, line.rows, off_slope, groups, r_A)
            line = self._cut(line, l, groups, parent, r_int, states, root_errors)
        else:
            A = np.concatenate([Z[line.rows], np.ones((len(line) + 1, 1))], axis=1)
            live = np.arange(Z.shape[1])
            states, r_A, groups = None, None, None
            parent, r_int = np.arange(len(line)), np.zeros(0, np.int64)
            line = Line(line.x, line.delta, line.defining, line.packed, np.arange(len(line) + 1),
                        _grouped(len(line)))
        if last:
            self._finish(len(line), line, tally)
            return []
        live_rows = np.append(live, Z.shape[1])  # and the bias (activations end in a 1)
        Wb_live = self._live_weights(l + 1, live_rows)
        Zn = self._next_values(l + 1, A, live_rows, Wb_live, r_int, r_A, groups)
        En, Sn = self._next_bounds(l, old, parent, states, live_rows, Wb_live)
        step = self.batch_size
        return [Entry(l + 1, line.part(lo, min(lo + step, len(line))), _values(Zn, En, Sn))
                for lo in range(0, len(line), step)]

    @staticmethod
    def _chunk_values(line: Line, Z, E, S) -> LineValues:
        """The chunk's values with its own copy of the bound rows it uses (rows of the
        refined line's groups are shared with its other chunks), slopes tightened from the values
        (:func:`~regionenum.engine.kernels.line.tightened_slopes`)."""
        first, last = int(line.bounds[0]), int(line.bounds[-1]) + 1
        values = LineValues(Z, E[first:last], S[first:last], line.delta, line.rows, line.bounds - first,
                            line.x)
        return values._replace(S=tightened_slopes(values))

    def _live_weights(self, l, live_rows):
        """Layer ``l``'s weights transposed, a row for each of its live inputs, then its bias
        (``live_rows``: the live inputs, then one past the last input). The other inputs are the
        previous layer's units whose activation is zero at every breakpoint of the chunk, hence
        all along it (each unit is affine on each interval), and are left out of every
        product."""
        layer = self.net.layers[l]
        out = self._buffers.get("live weights", (len(live_rows), layer.width))
        return transposed_rows(layer.W, layer.b, live_rows[:-1], out)

    def _next_bounds(self, l, old, parent, states, live_rows, Wb_live):
        """Bounds on layer ``l + 1``'s rounding errors and slopes on each group of ``GROUP``
        intervals of the refined line, from layer ``l``'s values and bounds on the line before
        (``old``, a :data:`~regionenum.engine.kernels.line.LineValues`), each refined interval's
        ``parent`` there, its states (None: one state), and the live weights (see
        :meth:`_live_weights`).

        With ``A``, ``e`` and ``s`` the bounds on the activations' magnitudes, rounding errors
        and slopes (see :func:`~regionenum.engine.kernels.line.group_bounds`): ``S' = s |W'|``
        and ``E' = e |W'| + g (A + e) |W'| + g |b'|``, the errors carried in plus the rounding
        of the product at old breakpoints (``gamma_{n+1}``, ``n`` live inputs) and of the
        interpolation and corrections at roots (``8 gamma_{k+8}`` with ``k`` the corrections,
        at most ``n / 16 + 1``; see :func:`~regionenum.engine.kernels.line.root_values`); each
        times ``1 + 2 gamma`` for its own rounding. A bound that overflows (``inf``, or NaN from
        ``inf * 0``) is ``inf``: it never trusts."""
        layer = self.net.layers[l]
        inputs = group_bounds(old, parent, states, layer.activation.off_slope, GROUP)
        magnitudes = np.abs(Wb_live, out=self._buffers.get("weight magnitudes", Wb_live.shape))
        P = inputs[:, live_rows] @ magnitudes
        g = len(P) // 3
        n = self.net.layers[l + 1].W.shape[1]
        rounding = _gamma(n + 1) + 8.0 * _gamma(int(DENSE_SHARE * (n + 1)) + 9)
        A, En, Sn = P[:g], P[g: 2 * g], P[2 * g:]
        En += rounding * (A + En)
        scale = 1.0 + 2.0 * _gamma(n + 1)
        En *= scale
        Sn *= scale
        En[np.isnan(En)] = np.inf
        Sn[np.isnan(Sn)] = np.inf
        return En, Sn

    def _finish(self, n, line: Line | None, tally: Tally):
        """Count ``n`` finished intervals (keeping their ends and patterns, ``line``, when
        asked)."""
        n = tally.room(n)
        tally.count += n
        tally.bounded += n
        if self.keep:
            tally.finished.append((line.x[: n + 1], line.packed[:n]))

    # ---------------------------------------------------------------- exact arithmetic
    def _exact_x(self, line: Line, p: int, bits) -> Fraction:
        """Breakpoint ``p`` exactly: the root of its defining constraint's exact row on an
        interval next to it (``bits``; the row is the same on both sides)."""
        row = self._rows(0, int(line.defining[p]), bits)
        return Fraction(-int(row[0]), int(row[1]))

    def _exact_rows(self, l, line: Line, i: int):
        """Layer ``l``'s exact rows on interval ``i`` and its pattern bits."""
        bits = np.unpackbits(line.packed[i], count=self.net.n_units).astype(bool)
        return self.exact_net.rows(l, bits)[1:], bits

    def _settle_signs(self, l, line: Line, S):
        """Replace the unknown signs in ``S`` by exact ones."""
        for p in np.flatnonzero((S == UNKNOWN).any(axis=1)):
            E, bits = self._exact_rows(l, line, min(p, len(line) - 1))
            x = self._exact_x(line, p, bits)
            for u in np.flatnonzero(S[p] == UNKNOWN):
                value = int(E[u, 0]) + int(E[u, 1]) * x
                S[p, u] = (value > 0) - (value < 0)

    def _exact_order(self, l, line: Line, i: int, S):
        """The roots inside interval ``i``, exactly: ``[(fraction, [unit, ...]), ...]`` in
        order, units with the same root together."""
        E, bits = self._exact_rows(l, line, i)
        a, b = self._exact_x(line, i, bits), self._exact_x(line, i + 1, bits)
        roots: dict = {}
        for u in np.flatnonzero(S[i].astype(int) * S[i + 1] == -1):
            e0, e1 = int(E[u, 0]), int(E[u, 1])
            roots.setdefault(Fraction(-e0, e1), []).append(int(u))
        return [(float((r - a) / (b - a)), roots[r]) for r in sorted(roots)]

    def _groups(self, l, line: Line, S, order: RootOrder):
        """The roots of layer ``l`` in every interval as groups (one root, the units vanishing
        there): float64's ``order`` where it is proven, exact elsewhere; and per group a bound
        on the distance of its float fraction from the exact one (``u`` for a fraction rounded
        from an exact one)."""
        off, us, ts, dts, unsure = order
        if not unsure.any():
            return RootGroups(off, ts, np.arange(len(us) + 1, dtype=np.int64), us), dts
        counts = np.diff(off)
        exact = {int(i): self._exact_order(l, line, int(i), S) for i in np.flatnonzero(unsure)}
        g_t, g_dt, g_u, sizes = [], [], [], []
        for i in range(len(line)):
            if i in exact:
                for t, members in exact[i]:
                    g_t.append(t)
                    g_dt.append(U)
                    g_u.extend(members)
                    sizes.append(len(members))
                counts[i] = len(exact[i])
            else:
                g_t.extend(ts[off[i]: off[i + 1]])
                g_dt.extend(dts[off[i]: off[i + 1]])
                g_u.extend(us[off[i]: off[i + 1]])
                sizes.extend([1] * int(counts[i]))
        groups = RootGroups(offsets_of(counts), np.array(g_t, np.float64),
                            offsets_of(np.array(sizes, np.int64)), np.array(g_u, np.int64))
        return groups, np.array(g_dt, np.float64)

    # ---------------------------------------------------------------- refinement
    def _cut(self, line: Line, l, groups, parent, r_int, states, dt) -> Line:
        """The intervals after cutting at the groups' roots (``r_int``: each one's interval,
        ``dt``: a bound on its fraction's error), with layer ``l``'s states set."""
        g_off, g_t, g_uoff, g_u = groups
        n = len(line)
        old = np.arange(n + 1) + g_off  # where the old breakpoints go
        root = np.ones(n + 1 + len(g_t), bool)
        root[old] = False
        x = np.empty(len(root))
        defining = np.empty(len(root), np.int64)
        x[old], defining[old] = line.x, line.defining
        x[root] = line.x[r_int] + g_t * (line.x[r_int + 1] - line.x[r_int])
        delta = np.empty(len(root))
        delta[old], delta[root] = line.delta, root_delta(line.x, line.delta, r_int, dt)
        units = self.net.split_units[l]
        first_id = self.constraints.ids.unit_start + self.net.unit_offsets[l]
        defining[root] = first_id + np.searchsorted(units, g_u[g_uoff[:-1]])
        packed = line.packed[parent]
        split_states = states if len(units) == states.shape[1] else states[:, units]
        set_bits(packed, self.net.unit_offsets[l], split_states)
        rows = np.empty(len(root), np.int64)  # the next layer's values: old breakpoints, then roots
        rows[old] = np.arange(n + 1)
        rows[root] = n + 1 + np.arange(len(g_t))
        return Line(x, delta, defining, packed, rows, _grouped(len(root) - 1))

    def _next_values(self, l, A, live_rows, Wb_live, r_int, r_A, groups):
        """Layer ``l``'s values at the old breakpoints (activations ``A`` of layer ``l - 1``'s
        live units, weights ``Wb_live``: see :meth:`_live_weights`), then at the roots
        (``r_int``: each root's interval, ``groups``: see :meth:`_groups`); rows as in
        :meth:`_cut`."""
        n_inputs = self.net.layers[l].W.shape[1]
        n_old, n_roots = len(A), len(r_int)
        Z = self._buffers.get(l, (n_old + n_roots, Wb_live.shape[1]))
        np.matmul(A, Wb_live, out=Z[:n_old])
        if not n_roots:
            return Z
        g_off, g_t, g_uoff, g_u = groups
        # a root's correction runs over its interval's crossing units; many of them: a product
        first = g_uoff[g_off]
        crossing = np.diff(first)[r_int]
        dense = crossing > DENSE_SHARE * (n_inputs + 1)
        if dense.any():
            Z[n_old:][dense] = r_A[np.ix_(np.flatnonzero(dense), live_rows)] @ Wb_live
        n_cols = np.where(dense, 0, crossing)
        c_off = offsets_of(n_cols)
        cols = g_u[np.repeat(first[r_int] - c_off[:-1], n_cols) + np.arange(c_off[-1])]
        column = np.zeros(n_inputs, np.int64)  # a crossing unit is live: on at one end
        column[live_rows[:-1]] = np.arange(len(live_rows) - 1)
        root_values(Z, A, r_A, Wb_live, RootCorrections(column, r_int, g_t, dense, cols, c_off))
        return Z


class _Buffers:
    """Arrays reused through a run, one per key, grown as needed: memory the run has touched
    once is much cheaper to write than fresh pages (a first touch is a page fault, and inside a
    multithreaded matrix product the faults contend).

    The line engine keeps one for each layer's values (depth first, a layer's values are only
    made again once every chunk that reads the previous ones is done), and one each for the
    inputs of a product at the old breakpoints and at the roots, and for the live weights and
    their magnitudes (read in the same step)."""

    def __init__(self):
        self._flat = {}

    def get(self, key, shape) -> np.ndarray:
        """An uninitialised float64 array of ``shape`` under ``key`` (its previous contents are
        given up)."""
        size = int(np.prod(shape))
        flat = self._flat.get(key)
        if flat is None or len(flat) < size:  # grow by a quarter at least: few reallocations
            flat = self._flat[key] = np.empty(max(size, 0 if flat is None else len(flat) * 5 // 4))
        return flat[:size].reshape(shape)


def _grouped(n):
    """The magnitude bound of each of ``n`` intervals: one per ``GROUP`` neighbours."""
    return np.arange(n) // GROUP


def _values(Z, E, S):
    return lambda: (Z, E, S)


def _gamma(n: int) -> float:
    """The bound ``n u / (1 - n u)`` on the relative rounding of ``n`` float64 operations in a
    sum of products (Higham, Accuracy and Stability of Numerical Algorithms, 3.1)."""
    return n * U / (1.0 - n * U)


