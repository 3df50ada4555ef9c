"""Numba kernels for rows carried in two parts (:mod:`~regionenum.engine.two_part`): cut rows
into slices on a grid of their own, and sum exact products into two parts.

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

from ...core.tolerances import ETA
from .error_free import two_product, two_sum

__all__ = ["masked_slices", "slice_rows", "sum_in_two_parts"]

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
    up, down = math.ldexp(1.0, tau - e), math.ldexp(1.0, e - tau)
    up2, down2 = math.ldexp(1.0, 2 * tau - e), math.ldexp(1.0, e - 2 * tau)
    for h in range(a.shape[0]):
        a1 = np.rint(a[h] * up) * down
        rest = a[h] - a1
        a2 = np.rint(rest * up2) * down2
        out[row, h] = a1
        out[row, K + h] = a2
        out[row, 2 * K + h] = a1 + a2
        out[row, 3 * K + h] = rest - a2


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
def masked_slices(J, lo, parent, on, off, tau, out, exps, tops, lo_tops):
    """For each child ``i`` and row ``k``, its masked row ``a = J[parent[i], k] * s`` (slopes
    ``s``: 1 where ``on[i]``, ``off`` elsewhere; 0 where the slope is, even for an entry that is
    not finite) with the bias's column (1 on the ``t`` row, 0 on the others) appended, cut into
    slices (see the module's description) into row ``i D + k`` of ``out`` (``(n D, 4K)``, ``K``
    the units plus one): ``a1``, ``a2``, ``a1 + a2`` and ``ar`` plus the masked low parts
    ``lo[parent[i], k] * s`` (no low parts where ``lo`` has no cells). Each row's exponent ``e``
    (``|a| < 2^e``) goes into ``exps``, its largest entry but the bias's into ``tops`` and its low
    parts' into ``lo_tops`` (NaN where one is NaN, infinite where one is infinite). A row whose
    other entries and low parts are all zero has the product ``0`` or ``b`` exactly: its exponent
    is that of the bias's 1, whose slices are then ``1, 0, 0``, and ``b``'s slices are summed
    without error.

    Slopes 0 and 1 leave ``a`` and the low parts exact. Another slope (a leaky unit, off) takes
    the entry as Dekker's exact product ``s J = p + e``
    (:func:`~regionenum.engine.kernels.error_free.two_product`): ``a`` gets ``p`` and the low
    part ``fl(e + fl(s lo))``, which rounds twice, by at most ``1.01 u (|fl(e + fl(s lo))| +
    |fl(s lo)|)`` (and a few ``ETA`` below float64's normal range, where ``e`` may be inexact
    too); ``lo_tops`` then holds the largest ``|fl(e + fl(s lo))| + |fl(s lo)|``, a bound
    on both the low parts and, times ``1.01 u``, their error, and at least ``ETA`` where an entry
    or its low part is not zero (its products may all have fallen to zero: the row is then not
    exactly zero, and the bound's absolute terms must apply)."""
    n, D, W = parent.shape[0], J.shape[1], J.shape[2]
    K = W + 1
    has_lo = lo.shape[0] > 0
    exact = off == 0.0 or off == 1.0
    a, a_lo = np.empty(K), np.zeros(K)  # a row, and its low parts (0 in the bias's column)
    for i in range(n):
        p = parent[i]
        for k in range(D):
            r = i * D + k
            top, lo_top = 0.0, 0.0
            for h in range(W):
                x = lo[p, k, h] if has_lo else 0.0
                if on[i, h] or off == 1.0:
                    a[h], a_lo[h], size = J[p, k, h], x, abs(x)
                elif exact:
                    a[h], a_lo[h], size = 0.0, 0.0, 0.0
                else:
                    a[h], e = two_product(off, J[p, k, h])
                    y = off * x
                    a_lo[h] = e + y
                    # an entry whose parts both fell to zero below the normal range is not zero:
                    # ETA keeps its row from passing for an exact one (the bound's ETA terms
                    # then cover what was lost)
                    size = abs(a_lo[h]) + abs(y)  # (a NaN stays)
                    if size == 0.0 and (J[p, k, h] != 0.0 or x != 0.0):
                        size = ETA
                if abs(a[h]) > top or a[h] != a[h]:  # a NaN stays
                    top = abs(a[h])
                if size > lo_top or size != size:
                    lo_top = size
            a[W] = 1.0 if k == 0 else 0.0
            exps[r] = _exponent(max(top, a[W])) if top == top else 0
            tops[r] = top
            lo_tops[r] = lo_top
            _cut(a, exps[r], tau, out, r, K)
            for h in range(W if has_lo or not exact else 0):
                out[r, 3 * K + h] += a_lo[h]


@nb.njit(**_JIT)
def sum_in_two_parts(G1, G2, G3):
    """``G1 + G2 + G3`` (exact products, and a float64 one) in two parts, in place: ``hi`` into
    ``G1``, ``lo`` into ``G2`` (``|lo| <= u |hi|``). With Knuth's TwoSum (exact, barring
    overflow): ``s1 + e1 = G1 + G2`` and ``s2 + e2 = s1 + G3``, then ``hi + lo = s2 + fl(e1 +
    e2)``, whose one rounding is at most ``u (|e1| + |e2|) <= u^2 (|s1| + |s2|)``."""
    for r in range(G1.shape[0]):
        for o in range(G1.shape[1]):
            s1, e1 = two_sum(G1[r, o], G2[r, o])
            s2, e2 = two_sum(s1, G3[r, o])
            G1[r, o], G2[r, o] = two_sum(s2, e1 + e2)
