"""Numba kernels for rows carried in two parts (:mod:`~regionenum.engine.two_part`): cut rows
into slices on a grid of their own (blocks shared by siblings), add each child's own terms, and
sum exact products into two parts.

A row ``a`` whose largest entry is below ``2^e`` is cut into ``a1 + a2 + ar``: ``a1`` is ``a``
rounded to the grid ``2^(e - tau)``, ``a2`` the rest rounded to the grid ``2^(e - 2 tau)``, ``ar``
what is left, so that ``|a1| <= 2^e``, ``|a2| <= 2^(e - tau - 1)`` and ``|ar| <= 2^(e - 2 tau - 1)``.
Scaling by powers of two, rounding to an integer and the differences are exact in float64 (each
rest is a run of the entry's own bits), within the exponents the callers allow.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["block_slices", "own_terms_in_two_parts", "slice_rows"]

_JIT = dict(cache=True, nogil=True)


@nb.njit(inline='always', **_JIT)
def _exponent(top):
    """The least ``e`` with ``top < 2^e`` (0 for ``top == 0``)."""
    return math.frexp(top)[1] if top > 0.0 else 0


@nb.njit(inline='always', **_JIT)
def _cut(a, e, tau, out, row, K):
    """Cut the row ``a`` (largest entry below ``2^e``) into its slices, into ``out[row]``:
    ``a1`` in columns ``[0, K)``, ``a2`` in ``[K, 2K)``, ``a1 + a2`` in ``[2K, 3K)`` (exact: at
    most ``2 tau + 1`` bits on one grid) and ``ar`` in ``[3K, 4K)``."""
    grids = _grids(e, tau)
    for h in range(a.shape[0]):
        a1, a2, ar = _slices(a[h], grids)
        out[row, h] = a1
        out[row, K + h] = a2
        out[row, 2 * K + h] = a1 + a2
        out[row, 3 * K + h] = ar


@nb.njit(inline='always', **_JIT)
def _grids(e, tau):
    """The powers of two that scale an entry of a row whose largest entry is below ``2^e`` to
    its first and second slices' grids and back."""
    return (math.ldexp(1.0, tau - e), math.ldexp(1.0, e - tau), math.ldexp(1.0, 2 * tau - e),
            math.ldexp(1.0, e - 2 * tau))


@nb.njit(inline='always', **_JIT)
def _slices(v, grids):
    """The slices ``a1, a2, ar`` of one entry ``v`` of a row with those ``grids``
    (:func:`_grids`)."""
    up, down, up2, down2 = grids
    a1 = _rint(v * up) * down
    rest = v - a1
    a2 = _rint(rest * up2) * down2
    return a1, a2, rest - a2


@nb.njit(inline='always', **_JIT)
def _rint(x):
    """``x`` rounded to an integer, ties to even (as ``np.rint`` in the default rounding mode),
    for ``|x| <= 2^51``: adding and taking away ``1.5 2^52`` leaves no bits below the units
    (two additions, where a call to ``rint`` took several times as long). A slice's scaled entry
    is at most ``2^tau`` in size; an infinite or NaN ``x`` gives NaN."""
    return (x + 6755399441055744.0) - 6755399441055744.0


@nb.njit(**_JIT)
def slice_rows(A, tau, out, exps):
    """Cut each row of ``A`` (``(n, K)``) into its slices (see the module's description), into
    ``out`` (``(n, 4K)``: ``a1``, ``a2``, ``a1 + a2``, ``ar``), its exponent into ``exps``."""
    K = A.shape[1]
    for r in range(A.shape[0]):
        top = 0.0
        for h in range(K):
            top = max(top, abs(A[r, h]))
        exps[r] = _exponent(top)
        _cut(A[r], exps[r], tau, out, r, K)


@nb.njit(**_JIT)
def block_slices(J, lo, parent, on, off, tau, owner, own_span, own, out, exps, tops, lo_tops, nonzero):
    """The blocks of a batch's chunks of siblings (:func:`~regionenum.engine.kernels.rows.sibling_chunks`:
    child ``i`` in chunk ``owner[i]``, which differs on the units ``own[own_span[i, 0]:
    own_span[i, 1]]``), cut into slices (see the module's description): for chunk ``b`` and row
    ``k``, into row ``b D + k`` of ``out`` (``(blocks D, 4K)``, ``K`` the units plus one), the
    masked row ``a`` of its first child (its parent's row ``J[p, k]`` times its slopes: 1 where
    ``on``, ``off`` elsewhere, :func:`_masked`), 0 on the chunk's own units, with the bias's
    column (1 on the ``t`` row, 0 on the others) appended: ``a1``, ``a2``, ``a1 + a2`` and ``ar``
    plus the masked low parts. The grid is set by the chunk's largest entry, its own units' with
    either slope included, so that every child's entries lie on it: each row's exponent ``e``
    (``|a| < 2^e``) goes into ``exps``, that largest entry but the bias's into ``tops``, the
    largest low part (``_masked``'s ``size``, either slope on the own units) into ``lo_tops``
    (NaN where one is NaN, infinite where one is infinite), and whether the block's own entries
    or low parts are not all zero into ``nonzero``. A child's row whose entries and low parts are
    all zero has the product ``0`` or ``b`` exactly, on whichever grid: the bias's 1 falls whole
    into one slice (``a1``, ``a2`` or ``ar``), whose products with ``b``'s slices (or ``b``) sum
    to ``b`` without error (``b2 + br``, a run of ``b``'s bits, is exact too)."""
    n, D, W = parent.shape[0], J.shape[1], J.shape[2]
    K = W + 1
    has_lo = lo.shape[0] > 0
    a, a_lo = np.empty(K), np.zeros(K)  # a row, and its low parts (0 in the bias's column)
    mine = np.zeros(W, np.bool_)  # the current chunk's own units
    for i in range(n):
        if i > 0 and owner[i] == owner[i - 1]:
            continue
        b, p = owner[i], parent[i]
        units = own[own_span[i, 0]: own_span[i, 1]]
        for h in units:
            mine[h] = True
        for k in range(D):
            r = b * D + k
            top, grid, lo_top, block_lo = 0.0, 0.0, 0.0, 0.0
            for h in range(W):
                x = lo[p, k, h] if has_lo else 0.0
                if mine[h]:  # on the grid with either slope, not in the block
                    a[h], a_lo[h] = 0.0, 0.0
                    for state in (True, False):
                        v, v_lo, size = _masked(state, off, J[p, k, h], x)
                        grid = _larger(grid, abs(v))
                        lo_top = _larger(lo_top, size)
                else:
                    a[h], a_lo[h], size = _masked(on[i, h], off, J[p, k, h], x)
                    top = _larger(top, abs(a[h]))
                    block_lo = _larger(block_lo, size)
            grid, lo_top = _larger(grid, top), _larger(lo_top, block_lo)
            a[W] = 1.0 if k == 0 else 0.0
            exps[r] = _exponent(max(grid, a[W])) if grid == grid else 0
            tops[r] = grid
            lo_tops[r] = lo_top
            nonzero[r] = top != 0.0 or block_lo != 0.0
            _cut(a, exps[r], tau, out, r, K)
            for h in range(W if has_lo or not (off == 0.0 or off == 1.0) else 0):
                out[r, 3 * K + h] += a_lo[h]
        for h in units:
            mine[h] = False


@nb.njit(**_JIT)
def own_terms_in_two_parts(G1, G2, G3, J, lo, parent, on, off, tau, exps, block_nonzero, owner, own_span, own,
                           B1, B2, Br, B, hi, low, nonzero):
    """Each child's rows in two parts from its chunk's products (rows ``b D + k`` of ``G1 = A1
    B1``, ``G2 = A1 B2 + A2 B1`` and ``G3``, see :mod:`~regionenum.engine.two_part`, for the
    chunks :func:`block_slices` cut) plus its own terms of the chunk's own units: each such entry
    of its masked rows (:func:`_masked`) cut on its chunk's grid (``exps``) and its slices' products
    with the rows ``h`` of ``B``'s slices added to each of the three, ``G1`` and ``G2`` exactly
    (every product of slices is a multiple of their grid, and every partial sum of a subset of
    the terms lies within the bound of all of them), ``G3`` with one rounding per addition (a sum
    of the same terms in another order, within the same bound). Then ``hi + lo = G1 + G2 + G3``
    into row ``i D + k`` of ``hi`` and ``low`` with Knuth's TwoSum (exact, barring overflow):
    ``s1 + e1 = G1 + G2`` and ``s2 + e2 = s1 + G3``, then ``hi + lo = s2 + fl(e1 + e2)``, whose one
    rounding is at most ``u (|e1| + |e2|) <= u^2 (|s1| + |s2|)``, and ``|lo| <= u |hi|``. Into
    ``nonzero`` goes whether the child's masked rows but the bias or low parts are not all zero."""
    n, D = parent.shape[0], J.shape[1]
    m = G1.shape[1]
    has_lo = lo.shape[0] > 0
    g1, g2, g3 = np.empty(m), np.empty(m), np.empty(m)
    for i in range(n):
        b, p = owner[i], parent[i]
        for k in range(D):
            r, c = b * D + k, i * D + k
            for o in range(m):
                g1[o], g2[o], g3[o] = G1[r, o], G2[r, o], G3[r, o]
            nz = block_nonzero[r]
            grids = _grids(exps[r], tau)
            for h in own[own_span[i, 0]: own_span[i, 1]]:
                v, v_lo, size = _masked(on[i, h], off, J[p, k, h], lo[p, k, h] if has_lo else 0.0)
                if v == 0.0 and v_lo == 0.0:
                    continue
                nz = True
                a1, a2, ar = _slices(v, grids)
                ar = ar + v_lo
                for o in range(m):
                    g1[o] += a1 * B1[h, o]
                    g2[o] += a1 * B2[h, o] + a2 * B1[h, o]
                    g3[o] += a2 * B2[h, o] + (a1 + a2) * Br[h, o] + ar * B[h, o]
            nonzero[c] = nz
            for o in range(m):
                s1, e1 = _two_sum(g1[o], g2[o])
                s2, e2 = _two_sum(s1, g3[o])
                hi[c, o], low[c, o] = _two_sum(s2, e1 + e2)


@nb.njit(inline='always', **_JIT)
def _masked(state, off, v, x):
    """An entry ``v`` of a parent's row and its low part ``x`` times a child's slope (1 where
    ``state``, ``off`` elsewhere): ``(a, a_lo, size)``, ``a + a_lo`` the masked entry. Slopes 0
    and 1 leave them exact (0 where the slope is, even for an entry that is not finite; ``size
    = |a_lo|``). Another slope takes Dekker's exact product ``off v = a + e``
    (:func:`_two_product`) and ``a_lo = fl(e + fl(off x))``, which rounds twice, by at most
    ``1.01 u size`` with ``size = |a_lo| + |fl(off x)|`` (and a few ``ETA`` below float64's normal
    range, where ``e`` may be inexact too)."""
    if state or off == 1.0:
        return v, x, abs(x)
    if off == 0.0:
        return 0.0, 0.0, 0.0
    a, e = _two_product(off, v)
    x = off * x
    a_lo = e + x
    return a, a_lo, abs(a_lo) + abs(x)


@nb.njit(inline='always', **_JIT)
def _larger(top, v):
    """``max(top, v)`` for ``v >= 0`` or NaN, a NaN kept (so that rows not finite are seen)."""
    return v if v > top or v != v else top


@nb.njit(inline='always', **_JIT)
def _two_product(a, b):
    """``p = fl(a b)`` and ``e = a b - p``, exactly where no overflow or underflow occurs (Dekker,
    with Veltkamp's splitting: no fused multiply-add needed)."""
    p = a * b
    ah, al = _veltkamp(a)
    bh, bl = _veltkamp(b)
    return p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)


@nb.njit(inline='always', **_JIT)
def _veltkamp(a):
    """``a = hi + lo`` with each half of at most 26 significant bits (Veltkamp)."""
    c = 134217729.0 * a  # 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


@nb.njit(inline='always', **_JIT)
def _two_sum(a, b):
    """``s = fl(a + b)`` and ``t = a + b - s``, exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
