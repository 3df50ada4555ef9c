"""A Numba kernel: facet equations of unit normal from the cells' constraint rows."""
from __future__ import annotations

import math

import numba as nb

__all__ = ["unit_equations"]


@nb.njit(cache=True, nogil=True)
def unit_equations(rows, which, out, lo, hi):
    """For ``i`` in ``lo .. hi - 1``, into ``out[i]``: the constraint row ``rows[which[i]]``
    over ``(t, x)`` (``row . (1, x) <= 0``) as a facet equation ``[a | c]``, ``a . x + c <= 0``
    with ``|a| = 1`` (a row with ``a = 0`` is left as it is). The row is first scaled by a power
    of two (exactly) to entries of size about 1, so that the norm neither overflows nor
    underflows whatever the network's scale. It releases the GIL: threads may share the rows
    out."""
    d = rows.shape[1] - 1
    for i in range(lo, hi):
        r = which[i]
        big = 0.0
        for k in range(1, d + 1):
            big = max(big, abs(rows[r, k]))
        e = math.frexp(big)[1] if big > 0.0 else 0
        squares = 0.0
        for k in range(d):
            v = math.ldexp(rows[r, k + 1], -e)
            out[i, k] = v
            squares += v * v
        out[i, d] = math.ldexp(rows[r, 0], -e)
        norm = math.sqrt(squares)
        if norm > 0.0:
            for k in range(d + 1):
                out[i, k] /= norm
