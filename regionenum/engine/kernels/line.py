"""Numba kernels of the line engine (:mod:`regionenum.engine.line_step`): signs at breakpoints,
the order of the roots inside each interval, the values a layer passes on to the next, and the
rigorous bounds that prove the signs.

A run of consecutive intervals is given by its ``n + 1`` breakpoints: float64 positions ``x``,
each within ``delta[p]`` of the exact breakpoint ``x*[p]`` it stands for. Row ``rows[p]`` of
``Z`` holds a layer's pre-activations at breakpoint ``p``, float64 approximations of the exact
values at ``x*[p]``: each within ``E[g] + delta[p] S[g]`` of it, where ``g = bounds[i]`` for
either interval ``i`` next to ``p``. Per unit, ``E[g]`` bounds the errors of rounding and
``S[g]`` the exact slope ``|dz/dx|`` anywhere on the intervals of group ``g``. So an error in a
root's position costs in proportion to the slope at the layer where a sign is asked, and a root
placed poorly (a unit crossing at a shallow angle) costs only at its own breakpoint. Signs have
a column per unit of the layer; units without states (linear units) are always on.
"""
from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

__all__ = ["LineRule", "LineValues", "RootCorrections", "RootGroups", "RootOrder", "U", "UNKNOWN", "activations",
           "group_bounds", "live_units", "order_roots", "point_signs", "refine", "root_delta", "root_values",
           "tightened_slopes", "transposed_rows"]

_JIT = {"cache": True, "nogil": True}

#: The unit roundoff of float64.
U = 2.0 ** -53

#: The sign rule on a line: the domain's scale ``ref`` and the relative band ``tol`` (see
#: ``_doubtful``).
LineRule = namedtuple("LineRule", "ref tol")
#: A layer's values on consecutive intervals: pre-activations ``Z`` (row ``rows[p]`` at
#: breakpoint ``x[p]``, within ``delta[p]`` of the exact one), bounds ``E`` on their rounding
#: errors and ``S`` on their slopes (row ``bounds[i]`` on interval ``i``): see the module's text.
LineValues = namedtuple("LineValues", "Z E S delta rows bounds x")
#: Roots crossing each interval, sorted (CSR ``off``), the ``units`` crossing, the fraction
#: ``t`` of the interval where each does and a bound ``dt`` on its distance from the exact
#: fraction, and per interval whether float64 did not prove the order.
RootOrder = namedtuple("RootOrder", "off units t dt unsure")
#: Groups of roots (a root and the units vanishing there): group ``g`` of interval ``i`` for
#: ``g`` in ``off[i]:off[i+1]``, at fraction ``t[g]``, units ``units[unit_off[g]:unit_off[g+1]]``.
RootGroups = namedtuple("RootGroups", "off t unit_off units")
#: How the next layer's values at roots are corrected (see :func:`root_values`): per unit its
#: ``column`` in the activations; per root its ``interval``, fraction ``t``, whether its row comes
#: from a product instead (``dense``), and its crossing units ``cols[col_off[g]:col_off[g+1]]``.
RootCorrections = namedtuple("RootCorrections", "column interval t dense cols col_off")

#: Roots placed less precisely than this share of their interval are placed exactly instead:
#: a root's error carries into every later value at its breakpoint.
DT_MAX = 1.0

#: the sign of a value too close to zero to trust in float64
UNKNOWN = 2


@nb.njit(inline="always", **_JIT)
def _doubtful(value, rise, run, err, k):
    """Whether a value's sign is not trusted in float64 on an interval over which the unit
    rises by ``rise``: not beyond its error bound ``err``, or not beyond ``tol`` times the
    unit's size (its value plus twice its slope at the domain's scale ``ref``, which bounds
    ``|intercept| + |slope| max(|x|, ref)``), a band settled exactly as a margin of caution. A
    value exactly 0.0 with a zero error bound is exact; a NaN value or bound is never trusted. ``run`` is the interval's length times
    ``1 - tol`` and ``k`` is ``2 tol ref`` (see ``_factors``). Branch-free, for SIMD."""
    a = abs(value)
    return (~(a > err) | (a * run <= k * abs(rise))) & ((a != 0.0) | (err != 0.0))  # NaN: doubtful


@nb.njit(inline="always", **_JIT)
def _factors(tol, ref):
    """``_doubtful``'s factors: ``1 - tol`` for an interval's length, ``k``."""
    return 1.0 - tol, 2.0 * tol * ref


@nb.njit(**_JIT)
def point_signs(values, split, rule):
    """Each unit's sign at every breakpoint of ``values`` (:data:`LineValues`): -1, 0, 1, or
    ``UNKNOWN``, and how many are unknown. ``split`` says which units have states (the others
    are 1).

    A sign is trusted by ``rule`` (:data:`LineRule`) when it is on both intervals next to the
    breakpoint (see ``_doubtful``; the domain's ends have one), with the smaller of their error
    bounds ``E + delta S`` (each holds at the breakpoint)."""
    Z, E, S_, delta, rows, bounds, x = values
    ref, tol = rule
    n = rows.shape[0]
    w = Z.shape[1]
    shrink, k = _factors(tol, ref)
    S = np.empty((n, w), np.int8)
    has_states = np.empty(w)  # 1.0 or 0.0: the loop below stays in float64 lanes, for SIMD
    for u in range(w):
        has_states[u] = 1.0 if split[u] else 0.0
    unknown = 0
    for p in range(n):
        left, right = max(p - 1, 0), min(p, n - 2)  # its intervals (one at either end, twice)
        z, s = Z[rows[p]], S[p]
        zl, zr = Z[rows[left]], Z[rows[left + 1]]
        yl, yr = Z[rows[right]], Z[rows[right + 1]]
        el, er = E[bounds[left]], E[bounds[right]]
        sl, sr = S_[bounds[left]], S_[bounds[right]]
        dp = delta[p]
        run_l, run_r = shrink * (x[left + 1] - x[left]), shrink * (x[right + 1] - x[right])
        count = 0
        for u in range(w):
            h = has_states[u]
            err = min(el[u] + dp * sl[u], er[u] + dp * sr[u]) * (1.0 + 4.0 * U)
            d = (_doubtful(z[u], zr[u] - zl[u], run_l, err, k)
                 | _doubtful(z[u], yr[u] - yl[u], run_r, err, k)) & (h != 0.0)
            sign = (np.float64(z[u] > 0) - np.float64(z[u] < 0)) * h + (1.0 - h)
            s[u] = np.int8(UNKNOWN if d else sign)
            count += d
        unknown += count
    return S, unknown


@nb.njit(**_JIT)
def tightened_slopes(values):
    """The slope bounds ``S`` made tighter from the values themselves, for the chunk of
    intervals in ``values`` (:data:`LineValues`; its ``bounds`` must start at 0): per unit, the
    largest over each group's intervals of ``(|z_b - z_a| + e_a + e_b) / (len - delta_a -
    delta_b)``, where ``e = E + delta S`` bounds each end's error and the exact interval is at
    least ``len - delta_a - delta_b`` long; the given bound where that length is not positive.
    The unit is affine on each interval, so this bounds its exact slope there, and the given
    bound (propagated through ``|W|``, without the cancellations of the actual slopes) is kept
    where it is smaller."""
    Z, E, S, delta, rows, bounds, x = values
    n = bounds.shape[0]
    w = Z.shape[1]
    out = np.zeros((bounds[n - 1] + 1, w))
    for i in range(n):
        g = bounds[i]
        za, zb = Z[rows[i]], Z[rows[i + 1]]
        da, db = delta[i], delta[i + 1]
        run = (x[i + 1] - x[i]) * (1.0 - 4.0 * U) - (da + db) * (1.0 + 4.0 * U)
        for u in range(w):
            if run > 0.0:
                rise = abs(zb[u] - za[u]) + 2.0 * E[g, u] + (da + db) * S[g, u]
                slope = rise * (1.0 + 8.0 * U) / run
            else:
                slope = S[g, u]
            out[g, u] = max(out[g, u], slope)
    for g in range(out.shape[0]):
        for u in range(w):
            out[g, u] = min(out[g, u], S[g, u])
    return out


@nb.njit(**_JIT)
def live_units(S, off_slope):
    """The units whose activation is not zero at every breakpoint (signs ``S``)."""
    alive = np.zeros(S.shape[1], np.bool_)
    for p in range(S.shape[0]):
        for u in range(S.shape[1]):
            alive[u] |= (S[p, u] > 0) | ((S[p, u] < 0) & (off_slope != 0.0))
    return np.flatnonzero(alive)


@nb.njit(**_JIT)
def activations(Z, rows, S, live, off_slope, A):
    """Fill ``A`` with the layer's activations at the breakpoints (signs ``S``) in the columns
    of the units ``live`` (the others are zero at all of them), and a last column of ones (for
    the next layer's bias); returns ``A``."""
    slope = np.array([off_slope, 0.0, 1.0])
    for p in range(rows.shape[0]):
        z, s, a = Z[rows[p]], S[p], A[p]
        for c in range(live.shape[0]):
            a[c] = z[live[c]] * slope[s[live[c]] + 1]
        a[live.shape[0]] = 1.0
    return A


@nb.njit(inline="always", **_JIT)
def root_error(za, zb, err):
    """A bound on the distance of the float root ``za / (za - zb)`` from the exact fraction
    ``t*`` where a unit with values ``za`` and ``zb`` (proven of opposite signs, each within
    ``err`` of the exact value) at an interval's ends vanishes: ``t* = |a| / (|a| + |b|)`` lies
    between the quotients of the values' intervals; 8 units of roundoff cover the quotients'
    own rounding. 1.0 (the whole interval) when an end's sign is not proven in float64."""
    a, b = abs(za), abs(zb)
    a_lo, b_lo = a - err, b - err
    if not (a_lo > 0.0 and b_lo > 0.0):
        return 1.0
    t = za / (za - zb)
    lo = a_lo / (a + b + 2.0 * err) * (1.0 - 8.0 * U)
    hi = min((a + err) / (a_lo + b_lo) * (1.0 + 8.0 * U), 1.0)
    dt = max(t - lo, hi - t) + 8.0 * U
    return dt if dt <= DT_MAX else 1.0


@nb.njit(**_JIT)
def order_roots(S, values, rule):
    """The units crossing each interval (strictly opposite signs ``S`` at its ends), sorted by
    where they cross, with the float fraction of the interval at which each does and a bound on
    its error (:func:`root_error`): a :data:`RootOrder`. Two consecutive roots are proven apart
    in float64 when the second unit's value at the first root is trusted by ``rule`` (see
    ``_doubtful``), with an error bound covering the ends' errors, the first root's error and
    the interpolation's rounding, and still has its left-end sign; otherwise, or when a root's
    error is not bounded in float64, the interval is ``unsure``."""
    Z, E, S_, delta, rows, bounds, x = values
    ref, tol = rule
    n = S.shape[0] - 1
    w = S.shape[1]
    off = np.zeros(n + 1, np.int64)
    for i in range(n):
        c = 0
        for u in range(w):
            c += S[i, u] * S[i + 1, u] == -1
        off[i + 1] = off[i] + c
    us = np.empty(off[n], np.int64)
    ts = np.empty(off[n], np.float64)
    dts = np.empty(off[n], np.float64)
    unsure = np.zeros(n, np.bool_)
    ends_error = np.empty(w)
    shrink, k = _factors(tol, ref)
    for i in range(n):
        a = off[i]
        if off[i + 1] == a:
            continue
        c = 0
        ra, rb = rows[i], rows[i + 1]
        e = ends_error[: w]
        dp = max(delta[i], delta[i + 1])
        for u in range(w):
            e[u] = (E[bounds[i], u] + dp * S_[bounds[i], u]) * (1.0 + 4.0 * U)
        for u in range(w):
            if S[i, u] * S[i + 1, u] == -1:
                us[a + c] = u
                ts[a + c] = Z[ra, u] / (Z[ra, u] - Z[rb, u])
                dts[a + c] = root_error(Z[ra, u], Z[rb, u], e[u])
                unsure[i] |= dts[a + c] >= 1.0
                c += 1
        if c < 2:
            continue
        order = np.argsort(ts[a: a + c])
        us[a: a + c] = us[a: a + c][order]
        ts[a: a + c] = ts[a: a + c][order]
        dts[a: a + c] = dts[a: a + c][order]
        run = shrink * (x[i + 1] - x[i])
        for q in range(c - 1):
            t, dt = ts[a + q], dts[a + q]
            v = us[a + q + 1]
            za, zb = Z[ra, v], Z[rb, v]
            value = (1.0 - t) * za + t * zb
            # the exact value at the exact root differs by the ends' errors, the root's error
            # times the rise (of the exact values) and the interpolation's rounding
            err = e[v] + dt * (abs(zb - za) + 2.0 * e[v]) + 4.0 * U * (abs(za) + abs(zb))
            if _doubtful(value, zb - za, run, err * (1.0 + 8.0 * U), k) or (value > 0) != (S[i, v] > 0):
                unsure[i] = True
                break
    return RootOrder(off, us, ts, dts, unsure)


@nb.njit(**_JIT)
def group_bounds(values, parent, states, off_slope, group):
    """For each group of ``group`` neighbouring intervals of a refined line, bounds on the
    magnitudes of the layer's activations at their breakpoints (rows ``0:g``, as computed, a
    last column of ones for the next layer's bias), on their rounding errors (rows ``g:2g``)
    and on their exact slopes (rows ``2g:3g``; last columns 0). Times the next layer's weights'
    and bias's magnitudes, these bound the magnitudes behind its values, its rounding errors
    and its slopes (see ``LineStep._next_bounds``).

    ``values`` (:data:`LineValues`) are the layer's on the line before refinement; interval
    ``j`` of the refined line lies in interval ``parent[j]`` of it; ``states[j]`` are its
    units' states (None: one state). Each bound is the largest over the group's parents, times
    ``s``, the largest slope of the states the unit has in the group. A value at a root is
    interpolated between its interval's ends, so the ends' magnitudes bound it; its error in
    exact arithmetic is covered by the ends' bounds and the root's ``delta`` (see
    :func:`root_delta`), and its rounding, ``4u`` of the ends' magnitudes, is added here."""
    Z, E, S, delta, rows, bounds, x = values
    n = parent.shape[0]
    n_groups = (n + group - 1) // group
    w = Z.shape[1]
    out = np.ones((3 * n_groups, w + 1))
    on = np.empty(w, np.bool_)
    off = np.empty(w, np.bool_)
    for g in range(n_groups):
        lo = g * group
        hi = min(lo + group, n)
        m, e, sl = out[g], out[n_groups + g], out[2 * n_groups + g]
        m[:w] = 0.0
        e[:w] = E[bounds[parent[lo]]]
        sl[:w] = S[bounds[parent[lo]]]
        e[w] = 0.0
        sl[w] = 0.0
        for j in range(lo, hi):
            i = parent[j]
            if j > lo and i == parent[j - 1]:
                continue
            if j > lo and bounds[i] != bounds[parent[j - 1]]:
                for h in range(w):
                    e[h] = max(e[h], E[bounds[i], h])
                    sl[h] = max(sl[h], S[bounds[i], h])
            za, zb = Z[rows[i]], Z[rows[i + 1]]
            for h in range(w):
                m[h] = max(m[h], abs(za[h]), abs(zb[h]))
        for h in range(w):
            m[h] *= 1.0 + 4.0 * U
            e[h] += 4.0 * U * m[h]
        if states is None:
            continue
        on[:] = False
        off[:] = False
        for j in range(lo, hi):
            for u in range(w):
                on[u] |= states[j, u]
                off[u] |= not states[j, u]
        for u in range(w):
            f = max(1.0 if on[u] else 0.0, abs(off_slope) if off[u] else 0.0)
            m[u] *= f
            e[u] *= f
            sl[u] *= f
    return out


@nb.njit(**_JIT)
def root_delta(x, delta, r_int, dt):
    """Bounds on the distance of each root's float position from the exact root: the float
    position ``x_a + t (x_b - x_a)`` of a root at fraction ``t`` of interval ``r_int[g]``
    (ends ``a``, ``b``), within ``dt[g]`` of the exact fraction, is off by at most
    ``max(delta_a, delta_b) + dt (|x_b - x_a| + delta_a + delta_b)`` plus its own rounding.
    The values at the root are off by at most ``E + delta S`` too: the ends' errors
    interpolate, and ``dt`` times the exact rise is at most ``dt S`` times the exact length."""
    out = np.empty(r_int.shape[0])
    for g in range(r_int.shape[0]):
        i = r_int[g]
        da, db = delta[i], delta[i + 1]
        span = abs(x[i + 1] - x[i]) + da + db
        out[g] = (max(da, db) + dt[g] * span) * (1.0 + 8.0 * U) + 4.0 * U * max(abs(x[i]), abs(x[i + 1]))
    return out


@nb.njit(**_JIT)
def refine(S, Z, rows, off_slope, groups, r_A):
    """Cut every interval at its :data:`RootGroups` ``groups``.

    Returns each new interval's parent interval and its units' states (on: > 0), and each root's
    interval; fills ``r_A`` with the activations at the roots (and a last column of ones, for
    the next layer's bias). Values at a root are interpolated (the layer is affine on the
    interval); units vanishing there give exactly 0."""
    g_off, g_t, g_uoff, g_u = groups
    n = S.shape[0] - 1
    w = Z.shape[1]
    G = g_t.shape[0]
    parent = np.empty(n + G, np.int64)
    states = np.empty((n + G, w), np.bool_)
    r_int = np.empty(G, np.int64)
    r_A[:, w] = 1.0
    j = 0
    for i in range(n):
        # the interval's first piece: each unit's sign inside it, from the end where it is not 0
        for u in range(w):
            s = S[i, u] if S[i, u] != 0 else S[i + 1, u]
            states[j, u] = s > 0
        parent[j] = i
        j += 1
        ra, rb = rows[i], rows[i + 1]
        for g in range(g_off[i], g_off[i + 1]):
            t = g_t[g]
            r_int[g] = i
            for u in range(w):  # the piece just left of the root, except the units vanishing there
                slope = 1.0 if states[j - 1, u] else off_slope
                r_A[g, u] = slope * ((1.0 - t) * Z[ra, u] + t * Z[rb, u])
                states[j, u] = states[j - 1, u]
            for q in range(g_uoff[g], g_uoff[g + 1]):
                r_A[g, g_u[q]] = 0.0
                states[j, g_u[q]] = not states[j - 1, g_u[q]]
            parent[j] = i
            j += 1
    return parent, states, r_int


@nb.njit(**_JIT)
def root_values(Z, A, r_A, WT, corrections):
    """Fill the next layer's values at the roots: rows ``n_old + g`` of ``Z``, whose first
    ``n_old`` rows hold them at the old breakpoints, in order. A root's values interpolate those
    at its interval's ends, corrected along the interval's crossing units (``corrections``, a
    :data:`RootCorrections`), the only ones whose activation is not affine on it: unit ``u``'s
    activations at the old breakpoints are column ``column[u]`` of ``A`` (at the roots: column
    ``u`` of ``r_A``), and its weights row ``column[u]`` of ``WT``, the transposed weights.
    ``dense`` roots are left alone (their rows come from a product)."""
    column, r_int, r_t, dense, cols, c_off = corrections
    n_old = A.shape[0]
    w = Z.shape[1]
    for g in range(r_int.shape[0]):
        if dense[g]:
            continue
        i = r_int[g]
        t = r_t[g]
        row = n_old + g
        for h in range(w):
            Z[row, h] = (1.0 - t) * Z[i, h] + t * Z[i + 1, h]
        for q in range(c_off[g], c_off[g + 1]):
            c = column[cols[q]]
            correction = r_A[g, cols[q]] - ((1.0 - t) * A[i, c] + t * A[i + 1, c])
            for h in range(w):
                Z[row, h] += correction * WT[c, h]


@nb.njit(**_JIT)
def transposed_rows(W, b, rows, out):
    """Fill ``out`` with the columns ``rows`` of ``W`` as rows, then ``b`` as a last row; returns
    ``out``. Blocks of 8 rows of ``W`` at a time (the fastest here), so the reads stay in cache."""
    block = 8
    for h0 in range(0, W.shape[0], block):
        h1 = min(h0 + block, W.shape[0])
        for c in range(rows.shape[0]):
            u = rows[c]
            for h in range(h0, h1):
                out[c, h] = W[h, u]
    out[rows.shape[0]] = b
    return out
