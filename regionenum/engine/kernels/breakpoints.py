"""Numba kernels of the count on one input (:mod:`~regionenum.engine.line_step`): signs at
breakpoints proven by their error bounds, the roots found between them, the roots' values, and
the next layer's inputs. One pass over a run's values each, where array expressions made a
dozen (the rank-one error bounds are formed on the fly)."""
from __future__ import annotations

import numba as nb
import numpy as np

from ...core.tolerances import ETA, U

__all__ = ["SLACK", "UP", "interpolate", "layer_inputs", "prove_roots", "prove_signs"]

#: Bounds computed in float64 from non-negative terms, a few operations each, are raised by this
#: factor (each operation rounds by at most ``1 + u``) and by ``SLACK`` (products that underflow).
UP, SLACK = 1.0 + 32.0 * U, 64.0 * ETA


@nb.njit(cache=True, nogil=True)
def prove_signs(Z, alpha, c, rn, beta, splits, band_h, band_b):
    """Each unit's state (value > 0) at the breakpoints, whether every unit with several states
    (``splits``) has a proven sign at every breakpoint, beyond the tolerance band too
    (``|Z[i, v]| > (rn[v] (alpha[i] + c[i] + band_h[i]) + beta[v] + band_b[v]) UP``), and the
    roots: for each ``(at[j], unit[j])``, a unit whose states at breakpoints ``at[j]`` and
    ``at[j] + 1`` differ, by interval then unit."""
    n, w = Z.shape
    states = np.empty((n, w), np.bool_)
    unproven = False
    for i in range(n):
        e = alpha[i] + c[i] + band_h[i]
        for v in range(w):  # no branch: the loop vectorises
            z = Z[i, v]
            states[i, v] = z > 0.0
            bound = (rn[v] * e + beta[v] + band_b[v]) * UP
            unproven |= splits[v] & ~(np.inf > abs(z) > bound)  # NaN and infinities unproven
    count = 0
    for i in range(n - 1):
        for v in range(w):
            count += splits[v] & (states[i, v] != states[i + 1, v])
    at = np.empty(count, np.int64)
    unit = np.empty(count, np.int64)
    j = 0
    for i in range(n - 1):
        for v in range(w):
            if splits[v] and states[i, v] != states[i + 1, v]:
                at[j] = i
                unit[j] = v
                j += 1
    return states, not unproven, at, unit


@nb.njit(cache=True, nogil=True)
def interpolate(Z, at, unit):
    """The values at the roots: for root ``j`` of ``unit[j]`` between breakpoints ``i = at[j]``
    and ``i + 1``, ``t = Z[i, u] / (Z[i, u] - Z[i + 1, u])`` clipped to ``[0, 1]`` and
    ``Z[i] + t (Z[i + 1] - Z[i])``; with the sums of squares of the steps ``Z[i + 1] - Z[i]`` and
    of the ends' values."""
    m, w = at.shape[0], Z.shape[1]
    out = np.empty((m, w))
    t = np.empty(m)
    steps = np.zeros(m)
    ends = np.zeros(m)
    for j in range(m):
        i, u = at[j], unit[j]
        p, r = Z[i, u], Z[i + 1, u]
        tj = min(max(p / (p - r), 0.0), 1.0)
        t[j] = tj
        s = 0.0
        e = 0.0
        for v in range(w):
            d = Z[i + 1, v] - Z[i, v]
            s += d * d
            e += abs(Z[i, v]) * abs(Z[i, v]) + abs(Z[i + 1, v]) * abs(Z[i + 1, v])
            out[j, v] = Z[i, v] + tj * d
        steps[j] = s
        ends[j] = e
    return out, t, steps, ends


@nb.njit(cache=True, nogil=True)
def prove_roots(Z, new, at, unit, t, states, rn, alpha, c_in, beta, band_h, band_b):
    """Prove what the roots ``(at[j], unit[j])`` need (see :mod:`~regionenum.engine.line_step`):
    per root, ``q``, a bound on its own unit's extension ``|A_u(x)|`` there, and ``reach``, a
    bound on ``|x - r| / (r_(i+1) - r_i)``; then the order of the roots within each interval,
    by ``t`` (ties by index): at each root, the next root's unit has, strictly and beyond the
    tolerance band (the larger of the ends'), the sign of the interval's left end, so the next
    root lies beyond it. The order gives every crossing unit's
    state at every root. Returns the roots' states, ``q``, ``reach`` and 0, or 1 where a root's
    slope, 2 where an order, is not proven."""
    m, w = new.shape
    new_states = np.empty((m, w), np.bool_)
    q = np.empty(m)
    reach = np.empty(m)
    for j in range(m):
        i, v = at[j], unit[j]
        new_states[j, :] = states[i, :]
        q[j] = (abs(new[j, v]) + _root_rounding(Z, i, v, rn, alpha, beta)) * UP
        # |S_v| (r_(i+1) - r_i) from below: the ends' values at the exact breakpoints
        below = ((abs(Z[i, v]) + abs(Z[i + 1, v])) * (1 - 4 * U)
                 - (_error(i, v, rn, alpha, c_in, beta) + _error(i + 1, v, rn, alpha, c_in, beta))
                 * (1 + 4 * U)) * (1 - 4 * U)
        if not below > 0.0:
            return new_states, q, reach, 1
        reach[j] = q[j] / below * UP
    s = 0
    while s < m:
        e = s
        while e < m and at[e] == at[s]:
            e += 1
        i = at[s]
        ranked = s + np.argsort(t[s:e], kind="mergesort")
        for r in range(e - s - 1):  # root j, then root k: z_(unit k)(r_j) on the left end's side
            j, k = ranked[r], ranked[r + 1]
            v = unit[k]
            slope = (abs(Z[i + 1, v] - Z[i, v]) + _error(i, v, rn, alpha, c_in, beta)
                     + _error(i + 1, v, rn, alpha, c_in, beta)) * UP
            error = (_root_rounding(Z, i, v, rn, alpha, beta) + slope * reach[j] * UP
                     + (rn[v] * max(band_h[i], band_h[i + 1]) + band_b[v]) * UP)
            value = new[j, v]
            if not (abs(value) > error and (value > 0.0) == states[i, v]):
                return new_states, q, reach, 2
        for r in range(e - s):  # units whose roots come before root j have crossed at it
            for p in range(r):
                new_states[ranked[r], unit[ranked[p]]] = states[i + 1, unit[ranked[p]]]
        s = e
    return new_states, q, reach, 0


@nb.njit(inline="always")
def _error(i, v, rn, alpha, c_in, beta):
    """Bound on ``|Z[i, v] - z_v(r_i)|``."""
    return (rn[v] * (alpha[i] + c_in[i]) + beta[v]) * UP


@nb.njit(inline="always")
def _root_rounding(Z, i, v, rn, alpha, beta):
    """Bound on ``|Z' - A_v(x)|`` at a root between breakpoints ``i`` and ``i + 1``: the ends'
    rounding bounds and the interpolation's, ``3.2 u (|z| + |z'|) + 2 eta``."""
    return ((rn[v] * max(alpha[i], alpha[i + 1]) + beta[v]) * UP
            + 3.2 * U * (abs(Z[i, v]) + abs(Z[i + 1, v])) + 2 * ETA) * UP


@nb.njit(cache=True, nogil=True)
def layer_inputs(Z, new, order, states, new_states, splits, off, roots):
    """The next layer's inputs at the breakpoints in ``order`` (an index into the old
    breakpoints ``Z``, then the new ones ``new``), with a last column of ones (the bias's
    term): each unit's value times its slope in its proven state (1 on, ``off`` off, 1 for
    units with one state), a root's own unit 0; and the sums of their squares."""
    n, w = Z.shape
    H = np.empty((order.shape[0], w + 1))
    squares = np.zeros(order.shape[0])
    for r in range(order.shape[0]):
        s = order[r]
        for v in range(w):
            if s < n:
                z, on = Z[s, v], states[s, v]
            else:
                z, on = new[s - n, v], new_states[s - n, v]
            H[r, v] = z if (on or not splits[v]) else off * z
        if roots[r] >= 0:
            H[r, roots[r]] = 0.0
        total = 0.0
        for v in range(w):
            total += H[r, v] * H[r, v]
        squares[r] = total
        H[r, w] = 1.0
    return H, squares
