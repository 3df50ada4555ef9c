"""Numba kernel: small linear programmes over a box, by the dual simplex method on active sets.

The programmes the H-representation cells and the property-directed search ask are small in
the variables (the input dimension, plus one) and moderate in the rows (the constraints a cell
has collected)::

    minimise  c . x   subject to   G x <= h,   lo <= x <= hi   (every bound finite).

A basis is a set of ``n`` active constraints (rows of ``G`` or bounds) whose matrix is
nonsingular; the vertex it defines solves them as equalities, and its multipliers ``lam >= 0``
satisfy ``c + sum_i lam_i g_i = 0`` over the active rows ``g_i``. The box corner that minimises
``c`` is such a dual-feasible basis, so the dual simplex starts there without a first phase: it
brings the most violated row into the active set and drops the active row whose multiplier
reaches zero first, until no row is violated (optimal) or no active row can leave (the rows are
infeasible, and the multipliers along that ray are a Farkas certificate). Each iteration costs
``O(m n + n^3)``, so a programme in five variables with a hundred rows takes microseconds.

The answers are float64 and never trusted as they are: callers turn the multipliers into a
bound that holds whatever their accuracy (:mod:`regionenum.engine.lp_bounds`), and settle exactly
what that bound cannot.
"""
from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

__all__ = ["LpResult", "OPTIMAL", "INFEASIBLE", "FAILED", "solve_lp", "solve_lp_blocks", "solve_lps"]

_JIT = dict(cache=True)

OPTIMAL, INFEASIBLE, FAILED = 0, 1, 2

#: ``status`` (OPTIMAL, INFEASIBLE or FAILED), the vertex ``x``, the ``active`` constraints
#: (row ``i < m`` of ``G``; ``m + j`` the bound ``x_j >= lo_j``; ``m + n + j`` the bound
#: ``x_j <= hi_j``), their multipliers ``lam`` (for INFEASIBLE: the Farkas ray, with the
#: violated row last in ``active``) and the ``iterations`` taken.
LpResult = namedtuple("LpResult", "status x active lam iterations")


@nb.njit(**_JIT)
def _row(G, n, m, i, out):
    """Active-set row ``i`` as a vector ``g`` of ``g . x <= rhs`` (bounds are unit rows)."""
    if i < m:
        for j in range(n):
            out[j] = G[i, j]
    else:
        out[:] = 0.0
        if i < m + n:
            out[i - m] = -1.0
        else:
            out[i - m - n] = 1.0


@nb.njit(**_JIT)
def _rhs(h, lo, hi, n, m, i):
    if i < m:
        return h[i]
    if i < m + n:
        return -lo[i - m]
    return hi[i - m - n]


@nb.njit(**_JIT)
def _solve_one(G, h, lo, hi, c, max_iter, feas_tol):
    m, n = G.shape
    active = np.empty(n, np.int64)
    lam = np.empty(n)
    for j in range(n):
        if c[j] >= 0.0:
            active[j] = m + j
            lam[j] = c[j]
        else:
            active[j] = m + n + j
            lam[j] = -c[j]
    B = np.zeros((n, n))
    rhs = np.empty(n)
    g = np.empty(n)
    x = np.empty(n)
    norms = np.empty(m)
    for i in range(m):
        s = 0.0
        for j in range(n):
            s += G[i, j] * G[i, j]
        norms[i] = np.sqrt(s) if s > 0.0 else 1.0
    for it in range(max_iter):
        for k in range(n):
            _row(G, n, m, active[k], g)
            for j in range(n):
                B[k, j] = g[j]
            rhs[k] = _rhs(h, lo, hi, n, m, active[k])
        try:  # a basis singular in float64 (rows far below the others' size): no answer
            Binv = np.linalg.inv(B)
        except Exception:
            return FAILED, x, active, lam, it
        finite = True
        for j in range(n):
            s = 0.0
            for k in range(n):
                s += Binv[j, k] * rhs[k]
            x[j] = s
            finite = finite and abs(s) < np.inf
        if not finite:  # a NaN would pass every test below as if the vertex were feasible
            return FAILED, x, active, lam, it
        # the most violated constraint, relative to its row's size
        worst, enter = feas_tol, -1
        for i in range(m):
            s = -h[i]
            for j in range(n):
                s += G[i, j] * x[j]
            v = s / (norms[i] * (1.0 + abs(h[i]) / norms[i]))
            if v > worst:
                worst, enter = v, i
        for j in range(n):
            scale = 1.0 + max(abs(lo[j]), abs(hi[j]))
            v = (lo[j] - x[j]) / scale
            if v > worst:
                worst, enter = v, m + j
            v = (x[j] - hi[j]) / scale
            if v > worst:
                worst, enter = v, m + n + j
        if enter < 0:
            return OPTIMAL, x, active, lam, it
        # the entering row as a combination of the active ones: B^T w = g_enter; a coefficient
        # counts as positive when it stands clear of the cancellation in its own sum (so that
        # neither a row's size nor a variable's scale decides it)
        _row(G, n, m, enter, g)
        w = np.empty(n)
        size = np.empty(n)
        for k in range(n):
            s = 0.0
            a = 0.0
            for j in range(n):
                t = Binv[j, k] * g[j]
                s += t
                a += abs(t)
            w[k] = s
            size[k] = a
        leave, ratio, best_w = -1, np.inf, 0.0
        n_enter = norms[enter] if enter < m else 1.0
        for k in range(n):
            # and where the entering row is almost in the span of the other active rows, the
            # basis it would make is singular in float64
            if w[k] > 1e-12 * size[k] and w[k] * (norms[active[k]] if active[k] < m else 1.0) > 1e-15 * n_enter:
                r = lam[k] / w[k]  # (ties within a relative 1e-15: ratios can be anywhere in size)
                if r < ratio * (1.0 - 1e-15) or (r <= ratio * (1.0 + 1e-15) and w[k] > best_w):
                    leave, ratio, best_w = k, r, w[k]
        if leave < 0:
            # no active row can leave: -w on the active rows and 1 on the entering row combine
            # the rows into 0 . x <= (something negative): a Farkas certificate
            ray_active = np.empty(n + 1, np.int64)
            ray = np.empty(n + 1)
            for k in range(n):
                ray_active[k] = active[k]
                ray[k] = max(-w[k], 0.0)
            ray_active[n] = enter
            ray[n] = 1.0
            return INFEASIBLE, x, ray_active, ray, it
        for k in range(n):
            lam[k] -= ratio * w[k]
            if lam[k] < 0.0:
                lam[k] = 0.0
        lam[leave] = ratio
        active[leave] = enter
    return FAILED, x, active, lam, max_iter


@nb.njit(**_JIT)
def _solve_many(G, h, lo, hi, C, max_iter, feas_tol):
    k, n = C.shape
    status = np.empty(k, np.int64)
    X = np.empty((k, n))
    active = np.empty((k, n + 1), np.int64)
    lam = np.zeros((k, n + 1))
    iters = np.empty(k, np.int64)
    for q in range(k):
        s, x, a, l, it = _solve_one(G, h, lo, hi, C[q], max_iter, feas_tol)
        status[q] = s
        X[q] = x
        active[q, :len(a)] = a
        if len(a) == n:
            active[q, n] = -1
        lam[q, :len(l)] = l
        iters[q] = it
    return status, X, active, lam, iters


@nb.njit(**_JIT)
def _iteration_limit(m, n):
    """The iterations a programme of ``m`` rows in ``n`` variables may take."""
    return 50 + 10 * (m + 2 * n)


@nb.njit(**_JIT)
def _solve_blocks(G, h, row_off, lo, hi, c, feas_tol):
    k, n = row_off.shape[0] - 1, G.shape[1]
    status = np.empty(k, np.int64)
    X = np.empty((k, n))
    for b in range(k):
        r0, r1 = row_off[b], row_off[b + 1]
        s, x, _, _, _ = _solve_one(G[r0:r1], h[r0:r1], lo[b], hi[b], c, _iteration_limit(r1 - r0, n), feas_tol)
        status[b] = s
        X[b] = x
    return status, X


def solve_lp(G, h, lo, hi, c, feas_tol: float = 1e-9) -> LpResult:
    """Minimise ``c . x`` subject to ``G x <= h`` and ``lo <= x <= hi`` (see the module's
    description). ``feas_tol`` is the relative violation a row may keep at the answer.

    Parameters
    ----------
    G : ndarray, shape (m, n)
    h : ndarray, shape (m,)
    lo, hi : ndarray, shape (n,)
        Finite bounds, ``lo <= hi``.
    c : ndarray, shape (n,)

    Returns
    -------
    LpResult

    Examples
    --------
    >>> import numpy as np
    >>> from regionenum.engine.kernels.simplex import solve_lp
    >>> r = solve_lp(np.array([[1.0, 1.0]]), np.array([1.0]), np.zeros(2), np.ones(2), np.array([-1.0, -2.0]))
    >>> int(r.status), r.x.round(12).tolist()
    (0, [0.0, 1.0])
    """
    G, h, lo, hi = _prepared(G, h, lo, hi)
    c = np.ascontiguousarray(c, dtype=np.float64)
    s, x, a, lam, it = _solve_one(G, h, lo, hi, c, _iteration_limit(*G.shape), feas_tol)
    return LpResult(int(s), x, a, lam, int(it))


def solve_lps(G, h, lo, hi, C, feas_tol: float = 1e-9):
    """:func:`solve_lp` for every row of ``C`` over the same constraints, in one kernel call.
    Returns arrays ``status (k,)``, ``x (k, n)``, ``active (k, n + 1)`` (``-1`` pads optimal
    answers), ``lam (k, n + 1)`` and ``iterations (k,)``."""
    G, h, lo, hi = _prepared(G, h, lo, hi)
    C = np.ascontiguousarray(np.atleast_2d(C), dtype=np.float64)
    return _solve_many(G, h, lo, hi, C, _iteration_limit(*G.shape), feas_tol)


def solve_lp_blocks(G, h, row_off, lo, hi, c, feas_tol: float = 1e-9):
    """Many small programmes in one kernel call, each with its own rows and box and the same
    objective: programme ``b`` minimises ``c . x`` subject to ``G[i] x <= h[i]`` for ``i`` in
    ``row_off[b] .. row_off[b + 1] - 1`` and ``lo[b] <= x <= hi[b]`` (as :func:`solve_lp`).

    Parameters
    ----------
    G : ndarray, shape (m, n)
    h : ndarray, shape (m,)
    row_off : ndarray of int, shape (k + 1,)
        Each programme's rows, as CSR offsets into ``G`` and ``h``.
    lo, hi : ndarray, shape (k, n)
        Finite bounds, ``lo <= hi``.
    c : ndarray, shape (n,)
    feas_tol : float, optional

    Returns
    -------
    status : ndarray of int, shape (k,)
        ``OPTIMAL``, ``INFEASIBLE`` or ``FAILED``.
    x : ndarray, shape (k, n)
        The optimal vertices (meaningless where not ``OPTIMAL``).

    Examples
    --------
    >>> import numpy as np
    >>> from regionenum.engine.kernels.simplex import solve_lp_blocks
    >>> G, h = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([1.0, 0.5])   # x + y <= 1, then <= 1/2
    >>> status, x = solve_lp_blocks(G, h, np.array([0, 1, 2]), np.zeros((2, 2)), np.ones((2, 2)),
    ...                             np.array([-1.0, -2.0]))
    >>> status.tolist(), x.round(12).tolist()
    ([0, 0], [[0.0, 1.0], [0.0, 0.5]])
    """
    G, h = _rows(G, h, np.shape(c)[0])
    return _solve_blocks(G, h, np.ascontiguousarray(row_off, dtype=np.int64),
                         np.ascontiguousarray(lo, dtype=np.float64), np.ascontiguousarray(hi, dtype=np.float64),
                         np.ascontiguousarray(c, dtype=np.float64), feas_tol)


def _prepared(G, h, lo, hi):
    return (*_rows(G, h, len(lo)), np.ascontiguousarray(lo, dtype=np.float64),
            np.ascontiguousarray(hi, dtype=np.float64))


def _rows(G, h, n: int):
    """The rows ``G`` (``n`` columns) and right-hand sides ``h`` as the kernels take them."""
    G = np.ascontiguousarray(np.asarray(G, dtype=np.float64).reshape(-1, n))
    return G, np.ascontiguousarray(h, dtype=np.float64)
