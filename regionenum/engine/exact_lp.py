"""Small linear programmes in exact rational arithmetic, for what float64 cannot settle.

The same dual simplex method as the float kernel (:mod:`regionenum.engine.kernels.simplex`),
with Bland's rule (the lowest index enters and leaves among ties), so it cannot cycle. Each
constraint is scaled to integers once, and each basis is solved by fraction-free (Bareiss)
elimination, so the work is on Python integers rather than Fractions (whose every operation
takes a gcd). A float programme's final basis is usually the exact one, or a pivot or two away:
started there (``start``), the method mostly just confirms it. It is still far slower than the
float kernel, and meant for the rare cell whose answer lies within rounding of zero: a property
that is met exactly on the boundary of a region, or holds there with no margin.
"""
from __future__ import annotations

import math
import numbers
from fractions import Fraction

__all__ = ["exact_lp"]


def _integer_rows(G, h, lo, hi):
    """Every constraint as ``g . x <= r`` over the integers, scaled by a positive factor: the rows
    of ``G`` (``0 .. m-1``), then ``-x_j <= -lo_j`` and ``x_j <= hi_j``. Returns the rows, their
    right-hand sides and the factors."""
    n = len(lo)
    constraints = [([_rational(a) for a in g], _rational(v)) for g, v in zip(G, h)]
    for j in range(n):
        constraints.append(([0] * j + [-1] + [0] * (n - j - 1), -_rational(lo[j])))
    for j in range(n):
        constraints.append(([0] * j + [1] + [0] * (n - j - 1), _rational(hi[j])))
    rows, rhs, factors = [], [], []
    for g, v in constraints:  # (ints and Fractions both have numerator and denominator)
        f = math.lcm(*(a.denominator for a in g), v.denominator)
        rows.append([a.numerator * (f // a.denominator) for a in g])
        rhs.append(v.numerator * (f // v.denominator))
        factors.append(f)
    return rows, rhs, factors


def _rational(v):
    """``v`` as a Python int or a Fraction of Python ints (numpy's integers, also inside a
    Fraction, would overflow in the elimination)."""
    if type(v) is int or (type(v) is Fraction and type(v.numerator) is int and type(v.denominator) is int):
        return v
    if isinstance(v, numbers.Rational):
        return Fraction(int(v.numerator), int(v.denominator))
    return Fraction(v)


def _solve(A, rhs):
    """Solve the square integer system ``A z = rhs`` by fraction-free (Bareiss) elimination.
    Returns ``(y, det)`` with ``det > 0`` and ``z = y / det`` (integers), or None if singular."""
    n = len(A)
    if n == 0:
        return [], 1
    M = [list(row) + [v] for row, v in zip(A, rhs)]
    prev, sign = 1, 1
    for k in range(n):
        p = next((i for i in range(k, n) if M[i][k] != 0), None)
        if p is None:
            return None
        if p != k:
            M[k], M[p], sign = M[p], M[k], -sign
        Mk, pivot = M[k], M[k][k]
        for i in range(k + 1, n):
            Mi, f = M[i], M[i][k]
            M[i] = [0] * (k + 1) + [(Mi[j] * pivot - f * Mk[j]) // prev for j in range(k + 1, n + 1)]
        prev = pivot
    det = M[n - 1][n - 1]  # the determinant, up to the swaps' sign: y = det * z is integral
    y = [0] * n
    for i in range(n - 1, -1, -1):
        Mi = M[i]
        y[i] = (det * Mi[n] - sum(Mi[j] * y[j] for j in range(i + 1, n))) // Mi[i]
    if det < 0:
        det, y = -det, [-v for v in y]
    return y, det


def _fractions(solution, scale=1):
    """A solution ``(y, det)`` of :func:`_solve`, divided by ``scale``, as Fractions."""
    y, det = solution
    return [Fraction(v, det * scale) for v in y]


def exact_lp(G, h, lo, hi, c, start=None):
    """Minimise ``c . x`` subject to ``G x <= h`` and ``lo <= x <= hi``, all Fractions (or ints).

    Parameters
    ----------
    G : list of list of Fraction or int, shape (m, n)
    h : list of Fraction
    lo, hi : list of Fraction
        Finite bounds with ``lo <= hi``.
    c : list of Fraction
    start : sequence of int, optional
        A guess at the optimal basis: ``n`` active constraints, numbered as in the float kernel's
        answer (``i < m`` row ``i`` of ``G``, ``m + j`` the bound ``x_j >= lo_j``, ``m + n + j``
        the bound ``x_j <= hi_j``), such as a float programme's ``active``. The method starts
        there when that basis is nonsingular and its multipliers are nonnegative, exactly, and at
        the box corner otherwise; the answer is the same, a good guess saves the iterations.

    Returns
    -------
    status : str
        ``"optimal"`` or ``"infeasible"``.
    x : list of Fraction
        The optimal vertex (for ``"infeasible"``: the last basic point).
    multipliers : dict
        Row index (of ``G``) -> multiplier ``>= 0`` with ``c + sum w_i g_i`` left to the box
        (optimal), or the Farkas combination of rows (infeasible).
    """
    m, n = len(G), len(c)
    c = [_rational(v) for v in c]
    rows, rhs, factors = _integer_rows(G, h, lo, hi)
    c_scale = math.lcm(*(v.denominator for v in c))
    minus_c = [-v.numerator * (c_scale // v.denominator) for v in c]

    def transposed(active):
        return [[rows[i][j] for i in active] for j in range(n)]

    active = [m + j if c[j] >= 0 else m + n + j for j in range(n)]
    lam = [Fraction(abs(c[j]), factors[i]) for j, i in enumerate(active)]  # of the active rows, as scaled
    if start is not None and len(start) == len(set(start)) == n and all(0 <= i < m + 2 * n for i in start):
        # its multipliers: c + sum lam_k g_k = 0 over its rows g_k
        guess = _solve(transposed(start), minus_c)
        if guess is not None and all(v >= 0 for v in guess[0]):
            active, lam = [int(i) for i in start], _fractions(guess, c_scale)
    while True:
        y, det = _solve([rows[i] for i in active], [rhs[i] for i in active])  # x = y / det
        basis = set(active)
        # Bland: the first violated constraint enters
        enter = next((i for i in range(m + 2 * n)
                      if i not in basis and sum(a * v for a, v in zip(rows[i], y)) > rhs[i] * det), None)
        x = _fractions((y, det))
        if enter is None:
            return "optimal", x, {a: v * factors[a] for a, v in zip(active, lam) if a < m and v != 0}
        w = _fractions(_solve(transposed(active), rows[enter]))
        cand = [(lam[k] / w[k], active[k], k) for k in range(n) if w[k] > 0]
        if not cand:
            ray = {a: -v * factors[a] for a, v in zip(active, w) if a < m and v != 0}
            ray[enter] = Fraction(factors[enter])
            return "infeasible", x, ray
        ratio, _, leave = min(cand)
        lam = [v - ratio * wk for v, wk in zip(lam, w)]
        lam[leave] = ratio
        active[leave] = enter
