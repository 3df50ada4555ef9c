"""Error-free transformations of float64 arithmetic, for the kernels: a sum or a product as its
rounded value and its exact error, both float64 numbers (no fused multiply-add needed)."""
from __future__ import annotations

import numba as nb

__all__ = ["SPLIT", "two_product", "two_sum"]

_JIT = dict(cache=True, nogil=True)

#: Veltkamp's splitter for float64: ``a * SPLIT`` cuts ``a`` into two halves of 26 bits.
SPLIT = 134217729.0  # 2^27 + 1


@nb.njit(inline='always', **_JIT)
def two_sum(a, b):
    """``a + b`` as ``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly (Knuth),
    barring overflow."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@nb.njit(inline='always', **_JIT)
def two_product(a, b):
    """``a b`` as ``(p, e)`` with ``p = fl(a b)`` and ``p + e = a b`` exactly (Dekker, with
    Veltkamp's splitting), where no factor is near overflow and no partial product falls below
    float64's normal range."""
    p = a * b
    ah, al = _halves(a)
    bh, bl = _halves(b)
    return p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)


@nb.njit(inline='always', **_JIT)
def _halves(a):
    """``a = hi + lo`` with each half of at most 26 significant bits (Veltkamp)."""
    t = SPLIT * a
    hi = t - (t - a)
    return hi, a - hi
