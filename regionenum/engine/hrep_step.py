"""The engine's step for many inputs: cells given by their inequalities and an interior point.

A cell's vertices grow quickly with the input dimension; its inequalities do not. Here a cell is
the rows that bound it (the domain's rows and the hyperplanes of the units split so far, each
``<= 0`` on it, strictly inside), a point strictly inside it, and the affine map ``E`` from the
inputs to the pre-activations of the layer being split. A layer's units are decided one at a
time, with small linear programmes (:mod:`~regionenum.engine.kernels.simplex`):

1. on reaching a layer, the range of every unit over the cell is bounded; a unit proven positive
   (or negative) on the whole cell is on (off) without a split (the bound holds whatever the
   programme's accuracy: :func:`~regionenum.engine.lp_bounds.safe_lower_bounds`);
2. each remaining unit is tried: the centres of the largest balls inside the cell on either side
   of its hyperplane are points strictly inside each side if the unit cuts the cell; this is
   checked for each point and each row (in float64 where a rigorous rounding bound decides, in
   exact rational arithmetic otherwise: the exact rows come from
   :class:`~regionenum.core.exact.ExactNetwork`); when both hold the cell is split in two, each
   side with its point;
3. a unit that cannot be shown to cut goes to an exact linear programme
   (:mod:`~regionenum.engine.exact_lp`) over the exact rows: its exact range either keeps one
   sign on the cell (no split) or yields exact points strictly on both sides.

So every split is proven by exact interior points and every non-split by a bound proven to hold,
and the count is exact. A cell past the last layer with two-state units is a region. Only
bounded domains and networks without max layers are taken (:func:`applies`); each driver entry
is one cell and one unit, so budgets are checked between a few linear programmes.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..core.arrays import pattern_order
from ..core.exact import ExactNetwork, dyadic_integers
from .assemble import facet_equations
from .driver import Entry, Tally
from .exact_lp import exact_lp
from .kernels.simplex import OPTIMAL, solve_lp
from ..core.tolerances import ETA, U
from .lp_bounds import activation_gains, magnitudes, safe_lower_bounds

__all__ = ["HREP_ABOVE", "HrepComplex", "HrepStep", "applies", "assemble_hrep"]

#: Networks with more inputs than this are enumerated by this step (bounded domains, no max
#: layers); the vertex step is faster below.
HREP_ABOVE = 5


def applies(network, domain) -> bool:
    """Whether this step takes ``network`` on ``domain``: more than :data:`HREP_ABOVE` inputs, a
    bounded domain and no max layers."""
    return (network.input_dim > HREP_ABOVE and domain.is_bounded
            and all(layer.activation.kind != "max" for layer in network.layers))


class HCell:
    """One cell (see the module's description): ``rows`` (``(R, 1 + d)``, ``row . (1, x) <= 0``)
    with rounding bounds ``row_err`` and sources ``row_ids`` (``-1 - i`` for domain row ``i``,
    else a unit's pattern bit), pattern ``bits`` and ``zero`` (units identically zero), an
    interior ``point`` (exact: a float vector, strictly inside), the layer, its map ``E``, and
    the units of the layer still to try (None before the layer's ranges are bounded)."""

    __slots__ = ("rows", "row_err", "row_ids", "bits", "zero", "point", "layer", "E", "pending")

    def __init__(self, rows, row_err, row_ids, bits, zero, point, layer, E, pending):
        self.rows, self.row_err, self.row_ids = rows, row_err, row_ids
        self.bits, self.zero, self.point = bits, zero, point
        self.layer, self.E, self.pending = layer, E, pending

    def __len__(self) -> int:
        return 1


class HrepStep:
    """Split cells given by inequalities (see the module's description). ``keep`` keeps each
    finished region (its pattern, point, rows and output map), with which of its rows are
    facets, in ``tally.finished``."""

    def __init__(self, network, domain, keep: bool):
        self.net, self.domain, self.keep = network, domain, keep
        lo, hi = domain.bounds
        pad = 1e-6 * (1.0 + np.abs(lo) + np.abs(hi))
        self.lo, self.hi = lo - pad, hi + pad  # strictly around the domain: a box for the bounds
        self.layers = [(layer.W, layer.b) for layer in network.layers]
        self.mag, self.err, self.ERR = magnitudes(self.layers, self.lo, self.hi, activation_gains(network))
        self.exact = ExactNetwork(network)
        self.domain_rows = np.concatenate([domain.b[:, None], domain.A], axis=1)
        self.exact_domain = [dyadic_integers(row)[0] for row in self.domain_rows]
        self._last_split = max(network.split_layers, default=-1)
        self.reach = np.maximum(np.abs(self.lo), np.abs(self.hi))
        # float programmes run in the box's units, x = reach * u, where the columns are of one size
        self.lo_units, self.hi_units = self.lo / self.reach, self.hi / self.reach
        self.exact_lo = [Fraction(float(v)) for v in self.lo]  # the box for exact programmes
        self.exact_hi = [Fraction(float(v)) for v in self.hi]
        self._kept = 0

    # -- the driver's interface ---------------------------------------------------------------
    def start(self, tally: Tally) -> list:
        net = self.net
        rows = self.domain_rows.copy()
        point = self.domain.interior_point
        if not self._inside(rows, np.zeros(len(rows)), -1 - np.arange(len(rows)), np.zeros(net.n_units, bool),
                            point, tally):
            point = self._center(rows)
        first = self.layers[0]
        E = np.concatenate([first[1][:, None], first[0]], axis=1)
        if self._last_split < 0:  # no unit ever splits: the domain is the one region, mapped by
            for W, b in self.layers[1:]:  # the layers' product
                E = W @ E
                E[:, 0] += b
        cell = HCell(rows, np.zeros(len(rows)), -1 - np.arange(len(rows)), np.zeros(net.n_units, bool),
                     np.zeros(net.n_units, bool), point, 0, E, None)
        if self._last_split < 0:
            self._finish(cell, tally)
            return []
        return [Entry(0, [cell], _no_rows)]

    def assembly_seconds(self) -> float:
        """A generous estimate of the seconds :func:`assemble_hrep` will take on the regions kept
        so far (about 50 microseconds each were measured on a 6-input net, their facets being
        found as they finish), which a time limit leaves room for."""
        return 1e-4 * self._kept

    def process(self, entry: Entry, tally: Tally) -> list:
        """Decide one unit of the cell's layer (or, on reaching a layer, bound its units)."""
        (cell,) = entry.cells
        net = self.net
        while True:
            l = cell.layer
            if cell.pending is None:
                self._bound_layer(cell, tally)
            if cell.pending is not None and len(cell.pending):
                children = self._try_unit(cell, tally)
                return [Entry(c.layer, [c], _no_rows) for c in children]
            # every unit of the layer decided: on to the next layer, or done
            on = cell.bits[net.unit_offsets[l]: net.unit_offsets[l] + len(net.split_units[l])]
            if l >= self._last_split:
                if not self.keep or l == len(net.layers) - 1:
                    self._finish(cell, tally)
                    return []
            slopes = np.ones(net.layers[l].width)
            slopes[net.split_units[l]] = np.where(on, 1.0, net.layers[l].activation.off_slope)
            W, b = self.layers[l + 1]
            E = (W * slopes) @ cell.E
            E[:, 0] += b
            cell = HCell(cell.rows, cell.row_err, cell.row_ids, cell.bits, cell.zero, cell.point, l + 1, E, None)

    # -- steps ----------------------------------------------------------------------------------
    def _bound_layer(self, cell, tally):
        """Bound the ranges of the layer's two-state units; fix those of one sign, leave the rest
        to try."""
        net, l = self.net, cell.layer
        units = net.split_units[l]
        if not len(units):
            cell.pending = np.zeros(0, np.int64)
            return
        E = cell.E[units]
        low, _, _ = safe_lower_bounds(np.concatenate([E, -E]), cell.rows, cell.row_err, self.lo, self.hi)
        n = len(units)
        err = self.err[l][units]
        zlo, zhi = low[:n] - err, -low[n:] + err
        o = net.unit_offsets[l]
        cell.bits = cell.bits.copy()
        cell.bits[o: o + n] = zlo > 0
        cell.pending = np.flatnonzero(~((zlo > 0) | (zhi < 0)))

    def _try_unit(self, cell, tally) -> list:
        """Split the cell by its first pending unit, or fix that unit's state."""
        net, l = self.net, cell.layer
        i = int(cell.pending[0])
        rest = cell.pending[1:]
        j = int(net.split_units[l][i])
        bit = net.unit_offsets[l] + i
        row, err = cell.E[j], self.err[l][j]
        sides = []
        for state in (True, False):  # on: -z <= 0 (z > 0 inside); off: z <= 0
            rows = np.vstack([cell.rows, -row if state else row])
            errs = np.append(cell.row_err, err)
            ids = np.append(cell.row_ids, bit)
            bits = cell.bits.copy()
            bits[bit] = state
            p = self._center(rows)
            if p is not None and not self._inside(rows, errs, ids, bits, p, tally):
                p = None
            sides.append([rows, errs, ids, bits, p])
        if sides[0][4] is None or sides[1][4] is None:
            fixed = self._one_sign(cell, row, err)
            if fixed is None:
                fixed = self._exact_sides(cell, bit, row, sides, tally)
            if fixed is not None:
                state, zero = fixed
                bits = cell.bits.copy()
                bits[bit] = state
                zeros = cell.zero
                if zero:
                    zeros = zeros.copy()
                    zeros[bit] = True
                return [HCell(cell.rows, cell.row_err, cell.row_ids, bits, zeros, cell.point, l, cell.E, rest)]
        return [HCell(rows, errs, ids, bits, cell.zero, p, l, cell.E, rest) for rows, errs, ids, bits, p in sides]

    def _one_sign(self, cell, row, err):
        """``(state, False)`` when rigorous bounds prove the unit's sign on the whole cell."""
        low, _, _ = safe_lower_bounds(np.stack([row, -row]), cell.rows, cell.row_err, self.lo, self.hi)
        if low[0] - err > 0:
            return True, False
        if low[1] - err > 0:
            return False, False
        return None

    def _exact_sides(self, cell, bit, row, sides, tally):
        """Decide in rational arithmetic whether unit ``bit`` (its float ``row``) cuts the cell.
        Returns ``(state, zero)`` when it does not (its state on the whole cell, and whether it
        is identically zero); otherwise fills in exact interior points of both sides and returns
        None. Each exact programme starts from the float programme's basis."""
        tally.check()  # exact programmes take a while: honour the budgets first
        tally.exact_calls += 1
        G, h = self._exact_rows(cell.row_ids, cell.bits)
        z = self._exact_row(bit, cell.bits)
        if not any(z[1:]):  # constant on the cell: never cuts; zero is off, and marked
            return bool(z[0] > 0), z[0] == 0
        p = [Fraction(v) if isinstance(v, Fraction) else Fraction(float(v)) for v in cell.point]
        A_units = cell.rows[:, 1:] * self.reach
        for k, sign in enumerate((-1, 1)):  # side k holds where sign * z < 0
            guess = solve_lp(A_units, -cell.rows[:, 0], self.lo_units, self.hi_units, sign * row[1:] * self.reach)
            start = guess.active if guess.status == OPTIMAL else None
            _, x, _ = exact_lp(G, h, self.exact_lo, self.exact_hi, [sign * v for v in z[1:]], start)
            if sign * (z[0] + sum(a * v for a, v in zip(z[1:], x))) >= 0:
                return (sign > 0), False  # no point with sign * z < 0: the other state throughout
            # x is on the cell's boundary with sign * z < 0 and p strictly inside: points between
            # them are strictly inside; move towards x until sign * z < 0 there too
            t = Fraction(1, 2)
            while True:
                q = [a + t * (b - a) for a, b in zip(x, p)]
                if sign * (z[0] + sum(a * v for a, v in zip(z[1:], q))) < 0:
                    break
                t /= 2
            qf = np.array([float(v) for v in q])
            rows, errs, ids, bits, _ = sides[k]
            sides[k][4] = qf if self._inside(rows, errs, ids, bits, qf, tally) else ExactPoint(q)
        return None

    # -- geometry -------------------------------------------------------------------------------
    def _center(self, rows):
        """The centre of a large ball inside ``{rows <= 0}`` (a float point; None if the
        programme finds no room)."""
        d = rows.shape[1] - 1
        norms = np.linalg.norm(rows[:, 1:], axis=1)
        G = np.concatenate([rows[:, 1:], norms[:, None]], axis=1)
        cap = float(np.max(self.hi - self.lo))
        c = np.zeros(d + 1)
        c[d] = -1.0
        res = solve_lp(G, -rows[:, 0], np.append(self.lo, 0.0), np.append(self.hi, cap), c)
        if res.status != OPTIMAL or res.x[d] <= 0:
            return None
        return res.x[:d].copy()

    def _inside(self, rows, errs, ids, bits, p, tally, signs=None) -> bool:
        """Whether ``p`` is strictly inside every row: in float64 where the rounding bound
        decides, exactly otherwise. With ``signs`` (``+1`` or ``-1`` per row), ``rows`` are the
        cell rows ``ids`` times their signs: whether ``p`` is strictly inside each row of sign
        ``+1`` and strictly beyond each of sign ``-1``."""
        signs = np.ones(len(ids)) if signs is None else signs
        if isinstance(p, ExactPoint):
            return all(int(sign) * (r[0] + sum(a * v for a, v in zip(r[1:], p))) < 0  # int: Fractions stay exact
                       for sign, r in zip(signs, (self._exact_source(int(i), bits) for i in ids)))
        values = rows[:, 0] + rows[:, 1:] @ p
        bound = _rounding_bound(np.abs(rows[:, 1:]), np.abs(rows[:, 0]), errs, p)
        if (values >= bound).any():
            return False  # some row is clearly violated
        unsure = np.flatnonzero(values > -bound)
        if not len(unsure):
            return True
        tally.exact_calls += len(unsure)
        q = [Fraction(float(v)) for v in p]
        for r in unsure:
            exact = self._exact_source(int(ids[r]), bits)
            if int(signs[r]) * (exact[0] + sum(a * v for a, v in zip(exact[1:], q))) >= 0:
                return False
        return True

    def _exact_source(self, rid, bits):
        """The exact row (over ``(1, x)``, integers, up to a positive factor) of a cell row: a
        domain row, or a unit's hyperplane oriented ``<= 0`` on the cell (an 'on' unit keeps
        ``-z``)."""
        if rid < 0:
            return [int(v) for v in self.exact_domain[-1 - rid]]
        r = self._exact_row(rid, bits)
        return [-v for v in r] if bits[rid] else r

    def _exact_row(self, bit, bits):
        """Unit ``bit``'s pre-activation on a pattern, over ``(1, x)``, as integers up to a
        positive factor (Python's: with Fractions, sums and products stay exact)."""
        return [int(v) for v in self.exact.constraint_row(bit, bits)]

    def _exact_rows(self, ids, bits):
        """All rows of a cell exactly, as ``G x <= h``."""
        G, h = [], []
        for rid in ids:
            r = self._exact_source(int(rid), bits)
            G.append(r[1:])
            h.append(-r[0])
        return G, h

    def _finish(self, cell, tally):
        if not tally.room(1):
            return
        # its facets found first (programmes per row, inside the run's time limit): a budget that
        # stops the run during them leaves the region uncounted, as it is not kept
        facets = self._facets(cell, tally) if self.keep else None
        tally.count += 1
        tally.bounded += 1
        if self.keep:
            tally.finished.append((cell, facets))
            self._kept += 1

    def _facets(self, cell, tally):
        """Which of the cell's rows are facets, proven: a row is one when some point of the box
        meets every other row and violates it (its copies, exact positive multiples, left out:
        see :meth:`_exact_facet`).

        1. Per row, a float linear programme maximises it over the others; where the maximum is
           positive, a point between the maximiser and the cell's interior point is checked
           rigorously: strictly inside the others and strictly violating the row proves a facet.
           The point is halfway to where the row reaches zero, or, where that clearly violates
           another row (the maximiser may violate some by its rounding), midway between where
           the others all hold and where the row reaches zero.
        2. The other rows are bounded over the facets proven so far, in one batch of programmes
           (:func:`~regionenum.engine.lp_bounds.safe_lower_bounds`): the cell's other rows hold
           wherever those facets do, so a rigorous maximum below zero proves a row redundant.
        3. What neither proves (a row that only touches the cell, a margin within rounding) is
           settled by an exact programme over the exact rows."""
        rows, errs, ids, bits, p = cell.rows, cell.row_err, cell.row_ids, cell.bits, cell.point
        facet = np.zeros(len(rows), bool)
        A, c = rows[:, 1:], rows[:, 0]
        abs_A, abs_c = np.abs(A), np.abs(c)
        # row i left out of its own programme: its right-hand side beyond its largest value on the box
        relaxed = abs_A @ self.reach + abs_c + 1.0
        at_p = c + A @ p if not isinstance(p, ExactPoint) else np.zeros(len(rows))
        bases = {}  # row -> the float programme's optimal basis, where it has one
        A_units = A * self.reach

        def signed(q, signs):  # the rows' values at q, times signs, and their rounding bounds
            return signs * (c + A @ q), _rounding_bound(abs_A, abs_c, errs, q)

        for i in np.flatnonzero(at_p < 0):  # (all of them, but for an exact interior point)
            h = -c
            h[i] = relaxed[i]
            res = solve_lp(A_units, h, self.lo_units, self.hi_units, -A_units[i])
            if res.status != OPTIMAL:
                continue
            bases[i] = res.active
            x = res.x * self.reach
            at_x = c[i] + A[i] @ x
            if not at_x > 0:
                continue
            # on the segment from the maximiser (x, t = 0) to the interior point (t = 1), row i
            # stays beyond zero up to t_end: first the middle of that
            t_end = at_x / (at_x - at_p[i])
            signs = np.ones(len(rows))
            signs[i] = -1.0  # inside the others, beyond row i
            q = x + (0.5 * t_end) * (p - x)
            values, bound = signed(q, signs)
            if (values >= bound).any():
                # another row clearly violated there, which x may violate by its rounding: the
                # others hold from t_start on, so the middle of t_start .. t_end
                q = self._past_the_others(c, A, x, at_p, i, t_end, p)
                if q is None:
                    continue
                values, bound = signed(q, signs)
            if (values < -bound).all():
                facet[i] = True
            elif not (values >= bound).any():  # nothing clearly wrong: the rows within rounding, exactly
                facet[i] = self._inside(signs[:, None] * rows, errs, ids, bits, q, tally, signs)
        rest = np.flatnonzero(~facet)
        if not len(rest):
            return facet
        if facet.any():
            low, _, _ = safe_lower_bounds(-rows[rest], rows[facet], errs[facet], self.lo, self.hi)
            rest = rest[errs[rest] - low >= 0]  # the others: below zero wherever the facets hold
        exact = _ExactRows(self, cell)  # made on first need, then shared by the rows' programmes
        for i in rest:
            facet[i] = self._exact_facet(cell, i, bases.get(i), exact, tally)
        return facet

    @staticmethod
    def _past_the_others(c, A, x, at_p, i, t_end, p):
        """The point midway between where, going from ``x`` to ``p``, the rows other than ``i``
        that ``x`` violates all hold (``t_start``) and ``t_end``; None if there is no such
        stretch in float64."""
        at_x = c + A @ x
        out = at_x > 0
        out[i] = False
        gap = at_x[out] - at_p[out]
        if not (gap > 0).all():  # p not clearly inside some row in float64
            return None
        t_start = (at_x[out] / gap).max(initial=0.0)
        return x + (0.5 * (t_start + t_end)) * (p - x) if t_start < t_end else None

    def _exact_facet(self, cell, i, basis, exact, tally) -> bool:
        """Whether the cell's row ``i`` is a facet, by an exact programme maximising it over the
        cell's other rows (exact) and the box, started from the float programme's ``basis``
        (numbered over all the cell's rows; None: none) when row ``i`` is not in it. ``exact``:
        the cell's :class:`_ExactRows`.

        Where that maximum is exactly zero, the row only touches the cell, or other rows are
        copies of it (exact positive multiples: a domain row written twice, units that copy or
        negate each other, a unit on the box's face), which hold it to zero although their
        hyperplane bounds the cell. So the programme is run again without the copies: a facet
        is then reported for each of them, none being a facet alone."""
        tally.check()  # exact programmes take a while: honour the budgets first
        tally.exact_calls += 1
        rows = exact.rows
        z = rows[i]

        def top(kept, start=None):  # the exact maximum of row i over the rows kept and the box
            status, x, _ = exact_lp([rows[k][1:] for k in kept], [-rows[k][0] for k in kept], self.exact_lo,
                                    self.exact_hi, [-v for v in z[1:]], start)
            return z[0] + sum(a * v for a, v in zip(z[1:], x)) if status == "optimal" else None

        others = [k for k in range(len(rows)) if k != i]
        value = top(others, None if basis is None or i in basis else [int(k) - (k > i) for k in basis])
        if value is None or value != 0:
            return value is not None and value > 0
        directions = exact.directions
        kept = [k for k in others if directions[k] != directions[i]]
        if len(kept) == len(others):
            return False
        tally.exact_calls += 1
        value = top(kept)
        return value is not None and value > 0


class _ExactRows:
    """A cell's exact rows (:meth:`HrepStep._exact_source`) and their directions
    (:func:`_direction`), each made once, when first read."""

    def __init__(self, step, cell):
        self._step, self._cell = step, cell

    @cached_property
    def rows(self) -> list:
        return [self._step._exact_source(int(rid), self._cell.bits) for rid in self._cell.row_ids]

    @cached_property
    def directions(self) -> list:
        return [_direction(r) for r in self.rows]


def _direction(r) -> tuple:
    """The exact row ``r`` (Fractions or ints) as the integers of its direction: two rows are
    positive multiples of each other exactly when they have the same."""
    scale = math.lcm(*(v.denominator for v in r))
    ints = [v.numerator * (scale // v.denominator) for v in r]
    g = math.gcd(*ints) or 1  # (a zero row: its own direction)
    return tuple(v // g for v in ints)


def _rounding_bound(abs_A, abs_c, errs, p):
    """A rigorous bound on how far each float value ``c + A . p`` of cell rows is from the exact
    row's value at ``p``: the rows' own bounds ``errs`` and the evaluation's rounding (``ETA``:
    products below the normal range)."""
    return errs + 4 * (abs_A.shape[1] + 3) * (U * (abs_A @ np.abs(p) + abs_c) + ETA)


class ExactPoint(list):
    """A rational point strictly inside a cell, kept where its float64 rounding is not (a cell
    thinner than rounding)."""


def _no_rows():
    return None


class HrepComplex:
    """Stands for the cell complex of a result found with inequalities: regions there have no
    vertices, so the analyses that read vertices (faces, the adjacency graph, linear and decision
    regions, exact re-checks, saving) say so instead of answering."""

    def __init__(self, dim: int):
        self.dim = dim

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        from ..errors import InvalidArgumentError
        raise InvalidArgumentError(
            f"these regions were enumerated by their inequalities ({self.dim} inputs, more than "
            f"{HREP_ABOVE}): they have patterns, interior points, facets and affine maps, but no "
            "vertices, volumes or cell complex, which faces, graphs, linear and decision regions, "
            "certify and save need")


def assemble_hrep(network, domain, tally):
    """The :class:`~regionenum.Regions` of a finished run of :class:`HrepStep` (``keep``): regions
    sorted by pattern, with interior points, facets (proven by ``HrepStep._facets``), output
    maps; volumes are NaN and there are no vertices."""
    from ..result import Regions
    d = network.input_dim
    cells = [cell for cell, _ in tally.finished]
    # a run stopped before its first cell has no patterns to size the rows by: take the network's
    width = len(np.packbits(network.pattern_bits(np.zeros((1, d)))[0]))
    packed = np.array([np.packbits(c.bits) for c in cells], dtype=np.uint8).reshape(len(cells), width)
    order = pattern_order(packed)
    finished = [tally.finished[i] for i in order]  # (region, its facet rows), by pattern
    lo, hi = domain.bounds
    pad = 1e-6 * (1.0 + np.abs(lo) + np.abs(hi))
    points, J, c0, eqs, layers, units, counts = [], [], [], [], [], [], []
    last = network.layers[-1]
    for cell, keep in finished:
        points.append(np.array([float(v) for v in cell.point]))
        E = cell.E
        if last.activation.splits:
            on = cell.bits[network.unit_offsets[-1]:]
            slopes = np.ones(last.width)
            slopes[network.split_units[-1]] = np.where(on, 1.0, last.activation.off_slope)
            E = slopes[:, None] * E
        J.append(E[:, 1:])
        c0.append(E[:, 0])
        rows = cell.rows[keep]
        eqs.append(facet_equations(rows))
        ids = cell.row_ids[keep]
        layer, unit, of_unit = np.full(len(ids), -1), -1 - ids, ids >= 0  # domain rows: layer -1
        layer[of_unit] = network.unit_layer[ids[of_unit]]
        unit[of_unit] = network.unit_index[ids[of_unit]]
        layers.append(layer)
        units.append(unit)
        counts.append(len(rows))
    n = len(cells)
    # the maps' rounding: the rounding model on a box reaching at least 1 in every coordinate
    # bounds the sum of each row's coefficient errors too
    reach = np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)) + pad)
    _, err, _ = magnitudes([(layer.W, layer.b) for layer in network.layers], -reach, reach,
                           activation_gains(network))
    return Regions(network, domain, packed_patterns=packed[order] if n else packed,
                   interior_points=np.array(points).reshape(n, d), bounded=np.ones(n, bool),
                   volumes=np.full(n, np.nan), vertex_offsets=np.zeros(n + 1, np.int64), vertices=np.zeros((0, d)),
                   facet_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   facet_equations=np.concatenate(eqs) if n else np.zeros((0, d + 1)),
                   facet_layers=np.concatenate(layers).astype(np.int64) if n else np.zeros(0, np.int64),
                   facet_units=np.concatenate(units).astype(np.int64) if n else np.zeros(0, np.int64),
                   jacobians=np.array(J).reshape(n, network.output_dim, d),
                   offsets=np.array(c0).reshape(n, network.output_dim),
                   output_errors=np.broadcast_to(err[-1], (n, network.output_dim)).copy(), complex=HrepComplex(d),
                   **tally.outcome())
