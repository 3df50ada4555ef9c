"""Numba kernels of the line engine (:mod:`regionenum.line`): signs at breakpoints, the order of
the roots inside each interval, and the values a layer passes on to the next.

A run of consecutive intervals is given by its ``n + 1`` breakpoints; row ``rows[p]`` of ``Z``
holds a layer's pre-activations at breakpoint ``p``, and row ``bounds[i]`` of ``M`` bounds, per
unit, the magnitudes behind them anywhere on interval ``i`` (the same products on absolute
values), which bound their rounding errors. Signs have a column per unit of the layer; units
without states (linear units) are always on.
"""
from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

__all__ = ["LineRule", "LineValues", "RootCorrections", "RootGroups", "RootOrder", "UNKNOWN", "activations", "group_inputs",
           "live_units", "order_roots", "point_signs", "refine", "root_values", "transposed_rows"]

_JIT = {"cache": True, "nogil": True}

#: The sign rule on a line: the domain's scale ``ref``, the relative band ``tol`` and the
#: rounding band ``noise`` (see ``_doubtful``).
LineRule = namedtuple("LineRule", "ref tol noise")
#: A layer's values on consecutive intervals: pre-activations ``Z`` (row ``rows[p]`` at
#: breakpoint ``x[p]``) and magnitude bounds ``M`` (row ``bounds[i]`` on interval ``i``).
LineValues = namedtuple("LineValues", "Z M rows bounds x")
#: Roots crossing each interval, sorted (CSR ``off``), the ``units`` crossing and the fraction
#: ``t`` of the interval where each does, and per interval whether float64 did not prove the order.
RootOrder = namedtuple("RootOrder", "off units t unsure")
#: Groups of roots (a root and the units vanishing there): group ``g`` of interval ``i`` for
#: ``g`` in ``off[i]:off[i+1]``, at fraction ``t[g]``, units ``units[unit_off[g]:unit_off[g+1]]``.
RootGroups = namedtuple("RootGroups", "off t unit_off units")
#: How the next layer's values at roots are corrected (see :func:`root_values`): per unit its
#: ``column`` in the activations; per root its ``interval``, fraction ``t``, whether its row comes
#: from a product instead (``dense``), and its crossing units ``cols[col_off[g]:col_off[g+1]]``.
RootCorrections = namedtuple("RootCorrections", "column interval t dense cols col_off")

#: the sign of a value too close to zero to trust in float64
UNKNOWN = 2


@nb.njit(inline="always", **_JIT)
def _doubtful(value, rise, run, mag, noise, k):
    """Whether a value's sign is not trusted in float64 on an interval over which the unit
    rises by ``rise``: not beyond ``tol`` times the unit's size (its value plus twice its slope
    at the domain's scale ``ref``, which bounds ``|intercept| + |slope| max(|x|, ref)``) and
    ``noise`` times the magnitudes ``mag`` behind it. A value exactly 0.0 where the magnitudes
    are zero (a sum of exact zeros) is trusted. ``run`` is the interval's length times
    ``1 - tol`` and ``k`` is ``2 tol ref`` (see ``_factors``). Branch-free, for SIMD."""
    a = abs(value)
    return ((a <= noise * mag) | (a * run <= k * abs(rise))) & ((a != 0.0) | (mag != 0.0))


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
    breakpoint (see ``_doubtful``; the domain's ends have one)."""
    Z, M, rows, bounds, x = values
    ref, tol, noise = rule
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
        ml, mr = M[bounds[left]], M[bounds[right]]
        run_l, run_r = shrink * (x[left + 1] - x[left]), shrink * (x[right + 1] - x[right])
        count = 0
        for u in range(w):
            h = has_states[u]
            d = (_doubtful(z[u], zr[u] - zl[u], run_l, ml[u], noise, k)
                 | _doubtful(z[u], yr[u] - yl[u], run_r, mr[u], noise, k)) & (h != 0.0)
            sign = (np.float64(z[u] > 0) - np.float64(z[u] < 0)) * h + (1.0 - h)
            s[u] = np.int8(UNKNOWN if d else sign)
            count += d
        unknown += count
    return S, unknown


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


@nb.njit(**_JIT)
def order_roots(S, values, rule):
    """The units crossing each interval (strictly opposite signs ``S`` at its ends), sorted by
    where they cross, with the float fraction of the interval at which each does: a
    :data:`RootOrder`. Two consecutive roots are proven apart in float64 when the second unit's
    value at the first root is trusted by ``rule`` (see ``_doubtful``) and still has its
    left-end sign; otherwise the interval is ``unsure``."""
    Z, M, rows, bounds, x = values
    ref, tol, noise = rule
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
    unsure = np.zeros(n, np.bool_)
    shrink, k = _factors(tol, ref)
    for i in range(n):
        a = off[i]
        if off[i + 1] == a:
            continue
        c = 0
        ra, rb = rows[i], rows[i + 1]
        for u in range(w):
            if S[i, u] * S[i + 1, u] == -1:
                us[a + c] = u
                ts[a + c] = Z[ra, u] / (Z[ra, u] - Z[rb, u])
                c += 1
        if c < 2:
            continue
        order = np.argsort(ts[a: a + c])
        us[a: a + c] = us[a: a + c][order]
        ts[a: a + c] = ts[a: a + c][order]
        run = shrink * (x[i + 1] - x[i])
        for q in range(c - 1):
            t = ts[a + q]
            v = us[a + q + 1]
            value = (1.0 - t) * Z[ra, v] + t * Z[rb, v]
            if _doubtful(value, Z[rb, v] - Z[ra, v], run, M[bounds[i], v], noise, k) \
                    or (value > 0) != (S[i, v] > 0):
                unsure[i] = True
                break
    return RootOrder(off, us, ts, unsure)


@nb.njit(**_JIT)
def group_inputs(M, bounds, states, off_slope, group):
    """For each group of ``group`` neighbouring intervals, a bound on the magnitudes of the
    layer's activations anywhere on them: the largest bound ``M[bounds[j]]`` of its intervals
    ``j``, times each unit's largest slope in any state (``states[j]``, None: one state) they
    have; and a last column of ones. The next layer's bounds are these times its weights' and
    bias's magnitudes."""
    n = bounds.shape[0]
    n_groups = (n + group - 1) // group
    w = M.shape[1]
    out = np.ones((n_groups, w + 1))
    on = np.empty(w, np.bool_)
    off = np.empty(w, np.bool_)
    for g in range(n_groups):
        lo = g * group
        hi = min(lo + group, n)
        out[g, :w] = M[bounds[lo]]
        for j in range(lo + 1, hi):
            if bounds[j] != bounds[j - 1]:
                for h in range(w):
                    out[g, h] = max(out[g, h], M[bounds[j], h])
        if states is None:
            continue
        on[:] = False
        off[:] = False
        for j in range(lo, hi):
            for u in range(w):
                on[u] |= states[j, u]
                off[u] |= not states[j, u]
        for u in range(w):
            out[g, u] *= max(1.0 if on[u] else 0.0, abs(off_slope) if off[u] else 0.0)
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
