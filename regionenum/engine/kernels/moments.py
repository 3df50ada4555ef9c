"""Numba kernel: the volume and first and second moments of a polyhedral complex's top cells,
from their pulling triangulation.

A ``D``-cell is the union of the cones from its centre (the mean of its vertices) over its
facets, each facet the same way, down to the edges: one simplex per flag (cell, facet, ...,
2-face, edge), whose points are the centres along the flag and the edge's two ends. The kernel
walks each top cell's flags depth first through the facet lists and sums, per cell, each
simplex's volume ``v = |det(p_1 - p_0, ..., p_D - p_0)| / D!`` and its moments: ``v * s / (D + 1)``
and ``v / ((D + 1)(D + 2)) * (sum_i p_i p_i^T + s s^T)`` with ``s`` the sum of its points (the
moments of the uniform distribution on a simplex). On r4_small's 61 million flags the same sums
in NumPy, a block of flags at a time, took about 50 s.
"""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["flag_moments"]


@nb.njit(cache=True, nogil=True)
def flag_moments(ptr, ptr_base, idx, centres, centre_base, X, ends, lo, hi, vol, first, second):
    """Adds the simplices of the flags of top cells ``lo .. hi - 1`` into ``vol[c]``,
    ``first[c]`` and ``second[c]`` (each cell's rows are its own: threads may share out cells).

    The ``L = D - 1`` facet lists, from the top cells' down to the 2-faces' edges, are CSR
    arrays joined into one: the facets of cell ``c`` of level ``j`` (level 0: the top cells)
    are ``idx[ptr[ptr_base[j] + c]: ptr[ptr_base[j] + c + 1]]``, cells of level ``j + 1`` (of
    the last level: edges, rows of ``ends``, each two vertex indices into ``X``). The centre of
    cell ``c`` of level ``j`` is ``centres[centre_base[j] + c]``."""
    D = X.shape[1]
    L = ptr_base.shape[0]
    cur = np.empty(L, np.int64)
    pos = np.empty(L, np.int64)
    stop = np.empty(L, np.int64)
    P = np.empty((D + 1, D))
    E = np.empty((D, D))
    sums = np.empty(D)
    factorial = 1.0
    for k in range(2, D + 1):
        factorial *= k
    for c in range(lo, hi):
        cur[0] = c
        pos[0] = ptr[ptr_base[0] + c]
        stop[0] = ptr[ptr_base[0] + c + 1]
        j = 0
        while j >= 0:
            if pos[j] == stop[j]:
                j -= 1
                continue
            f = idx[pos[j]]
            pos[j] += 1
            if j < L - 1:  # down to the facet's own facets
                j += 1
                cur[j] = f
                pos[j] = ptr[ptr_base[j] + f]
                stop[j] = ptr[ptr_base[j] + f + 1]
                continue
            # f is an edge: the flag's simplex
            for i in range(L):
                P[i] = centres[centre_base[i] + cur[i]]
            P[L] = X[ends[f, 0]]
            P[L + 1] = X[ends[f, 1]]
            for i in range(D):
                for k in range(D):
                    E[i, k] = P[i + 1, k] - P[0, k]
            v = abs(_determinant(E)) / factorial
            for k in range(D):
                s = 0.0
                for i in range(D + 1):
                    s += P[i, k]
                sums[k] = s
            vol[c] += v
            w = v / ((D + 1) * (D + 2))
            for a in range(D):
                first[c, a] += v * sums[a] / (D + 1)
                for b in range(a, D):
                    s = 0.0
                    for i in range(D + 1):
                        s += P[i, a] * P[i, b]
                    second[c, a, b] += w * (s + sums[a] * sums[b])
        for a in range(D):
            for b in range(a):
                second[c, a, b] = second[c, b, a]


@nb.njit(inline='always', cache=True, nogil=True)
def _determinant(E):
    """The determinant of the small square matrix ``E`` (overwritten), by Gaussian elimination
    with partial pivoting (written out for 2 and 3)."""
    n = E.shape[0]
    if n == 2:
        return E[0, 0] * E[1, 1] - E[0, 1] * E[1, 0]
    if n == 3:
        return (E[0, 0] * (E[1, 1] * E[2, 2] - E[1, 2] * E[2, 1])
                - E[0, 1] * (E[1, 0] * E[2, 2] - E[1, 2] * E[2, 0])
                + E[0, 2] * (E[1, 0] * E[2, 1] - E[1, 1] * E[2, 0]))
    det = 1.0
    for k in range(n):
        p = k
        for i in range(k + 1, n):
            if abs(E[i, k]) > abs(E[p, k]):
                p = i
        if E[p, k] == 0.0:
            return 0.0
        if p != k:
            for m in range(n):
                E[k, m], E[p, m] = E[p, m], E[k, m]
            det = -det
        det *= E[k, k]
        for i in range(k + 1, n):
            t = E[i, k] / E[k, k]
            for m in range(k, n):
                E[i, m] -= t * E[k, m]
    return det
