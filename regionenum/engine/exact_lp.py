"""Small linear programmes in exact rational arithmetic, for what float64 cannot settle.

The same dual simplex method as the float kernel (:mod:`regionenum.engine.kernels.simplex`),
on Fractions, with Bland's rule (the lowest index enters and leaves among ties), so it cannot
cycle. It is slow, and meant for the rare cell whose answer lies within rounding of zero: a
property that is met exactly on the boundary of a region, or holds there with no margin.
"""
from __future__ import annotations

from fractions import Fraction

__all__ = ["exact_lp"]


def _solve(A, rhs):
    """Solve the square system ``A z = rhs`` (Fractions) by Gauss-Jordan elimination; None if
    singular."""
    n = len(A)
    M = [list(row) + [v] for row, v in zip(A, rhs)]
    for col in range(n):
        p = next((i for i in range(col, n) if M[i][col] != 0), None)
        if p is None:
            return None
        M[col], M[p] = M[p], M[col]
        inv = 1 / M[col][col]
        M[col] = [v * inv for v in M[col]]
        for i in range(n):
            if i != col and M[i][col] != 0:
                f = M[i][col]
                M[i] = [a - f * b for a, b in zip(M[i], M[col])]
    return [M[i][n] for i in range(n)]


def exact_lp(G, h, lo, hi, c):
    """Minimise ``c . x`` subject to ``G x <= h`` and ``lo <= x <= hi``, all Fractions.

    Parameters
    ----------
    G : list of list of Fraction, shape (m, n)
    h : list of Fraction
    lo, hi : list of Fraction
        Finite bounds with ``lo <= hi``.
    c : list of Fraction

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

    def row(i):
        if i < m:
            return list(G[i])
        e = [Fraction(0)] * n
        e[(i - m) % n] = Fraction(-1) if i < m + n else Fraction(1)
        return e

    def rhs(i):
        return h[i] if i < m else (-lo[i - m] if i < m + n else hi[i - m - n])

    active = [m + j if c[j] >= 0 else m + n + j for j in range(n)]
    lam = [abs(c[j]) for j in range(n)]
    while True:
        B = [row(i) for i in active]
        x = _solve(B, [rhs(i) for i in active])
        enter = None
        for i in range(m + 2 * n):  # Bland: the first violated constraint enters
            if i in active:
                continue
            if sum(a * v for a, v in zip(row(i), x)) > rhs(i):
                enter = i
                break
        if enter is None:
            return "optimal", x, {a: v for a, v in zip(active, lam) if a < m and v != 0}
        Bt = [[B[k][j] for k in range(n)] for j in range(n)]
        w = _solve(Bt, row(enter))
        cand = [(lam[k] / w[k], active[k], k) for k in range(n) if w[k] > 0]
        if not cand:
            ray = {a: -v for a, v in zip(active, w) if a < m and v != 0}
            ray[enter] = Fraction(1)
            return "infeasible", x, ray
        ratio, _, leave = min(cand)
        lam = [v - ratio * wk for v, wk in zip(lam, w)]
        lam[leave] = ratio
        active[leave] = enter
