"""Hyperplane rows carried in two parts, ``hi + lo``, with a proven bound on their error some
thirty binary digits below float64's.

A cell's float64 rows in a deep network carry an error bound that grows by a bound on ``||W||_2``
per layer (about 2.8 on a He-initialised layer) while the rows themselves keep their size: after
fifteen or twenty layers of 32 units the float64 filter leaves many signs to exact arithmetic,
and the count of them grows by that factor per layer. An error made is carried on: rows must
be in two parts from the first layer on for the bound to start from about ``2^-90`` of their
size instead of ``2^-50``.

:func:`two_part_product` forms a batch's masked rows times ``[W | b]^T`` from products that BLAS
computes exactly (Ozaki, Ogita, Oishi and Rump, "Error-free transformations of matrix
multiplication by using fast routines of matrix multiplication and its applications", Numer.
Algorithms 59, 2012): each row ``a`` of ``A`` is cut into slices ``a1 + a2 + ar`` on grids set by
its largest entry ``< 2^e`` (:mod:`~regionenum.engine.kernels.two_part`), and each column of
``B`` likewise (:class:`SlicedColumns`, once per layer; largest entry ``< 2^f``), with ``tau =``
:func:`slice_bits` bits per slice. A product of two slices is an integer of size at most
``2^(2 tau)`` (``a1`` may reach ``2^tau`` grid steps) times ``2^(e + f - 2 tau)`` (``a1 b1``) or
``2^(e + f - 3 tau)`` (``a1 b2`` and ``a2 b1``), so ``G1 = A1 B1`` and ``G2 = A1 B2 + A2 B1`` (one
product of slices side by side) are exact in float64 whatever the order or fusing of their sums:
every partial sum of ``2 K`` such integers is at most ``2K 2^(2 tau) <= 2^53``.
The rest, ``G3 = A2 B2 + (A1 + A2) Br + (Ar + A_lo) B``, goes into one float64 product of ``3 K``
terms (``Ar + A_lo`` rounded once), whose rounding is at most ``gamma_{3K}`` times the sum of
the terms' sizes, and the sum's ``u (|Ar| + |A_lo|) |B|``; together at most ``gamma_{3K + 2}``
times

- ``|A2| |B2| <= K 2^(e + f - 2 tau - 2)``, ``|A1 + A2| |Br| <= K 2^(e + 1) 2^(f - 2 tau - 1)``,
  ``|Ar| |B| <= K 2^(e - 2 tau - 1) 2^f``: together ``1.75 K 2^(e + f - 2 tau)``;
- ``|A_lo| |B| <= K lo_top 2^f`` (``lo_top``: the row's largest low part).

:func:`~regionenum.engine.kernels.two_part.sum_in_two_parts` adds ``G1 + G2 + G3`` into ``hi + lo``
with one rounding, at most ``u^2 (|s1| + |s2|) <= 3 u^2 K 2^(e + f)`` (partial sums below ``(1 +
2^-tau + ...) K 2^(e + f)`` where ``lo_top`` is below about ``2^e``, as the engine's low parts
are, ``u |hi|``; larger low parts add ``3 u^2 K lo_top 2^f``, far below their term above). So
each entry's error is at most ``factor_i 2^f_o`` with ``factor_i = K (2^e_i (1.75 gamma_{3K + 2}
2^(-2 tau) + 3 u^2) + gamma_{3K + 2} lo_top_i)``, plus :func:`absolute_term` where neither the
row nor the column is zero. For 32 units (``K = 33``, ``tau = 23``) that is about ``2^-91.5`` of
``K 2^(e + f)``, against about ``2^-48`` of the sum of the terms' sizes in one part.

A slope other than 0 and 1 (a leaky unit that is off) would round the masked rows. Its
products are split instead into two exact parts, ``s a = p + e`` (Dekker), ``p`` into ``A`` and
``e`` into the low parts with ``s`` times the parent's (rounded twice:
:func:`~regionenum.engine.kernels.two_part.masked_slices`). Their rounding, at most ``1.01 u``
times ``lo_top`` (there the largest of ``|A_lo| + |fl(s lo)|``), goes through ``|B|`` into
``factor_i`` as ``1.01 u K lo_top_i``, with ``8 K ETA`` for exact products that fall below
float64's normal range.

All this holds where every exponent ``e`` and ``f`` lies within ``+-`` :data:`SCALE_LIMIT`: the
grids stay above float64's smallest subnormal for products of two slices and sums stay far from
overflow. :func:`two_part_product` returns None otherwise, and the caller computes in one part.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.tolerances import ETA, U, gamma
from .kernels.two_part import masked_slices, slice_rows, sum_in_two_parts

__all__ = ["SCALE_LIMIT", "SlicedColumns", "absolute_term", "slice_bits", "two_part_product"]

#: The slices' exponents must lie within ``+-SCALE_LIMIT`` (see the module's description): the
#: finest grid of a product of two slices, ``2^(e + f - 3 tau)`` with ``tau <= 26``, then stays
#: far above ``2^-1074``, and ``K 2^(e + f)`` far below ``2^1023``.
SCALE_LIMIT = 400

#: Relative slack on the bound for the few float64 operations that form it (sums and products of
#: non-negative numbers, a handful each).
SLACK = 2.0 ** -40


def slice_bits(terms: int) -> int:
    """Bits per slice for products of ``terms`` terms: a product of two slices is an integer of
    size at most ``2^(2 tau)`` times a power of two, and ``2 terms`` of them (two products of
    slices side by side) must sum within float64's 53 bits."""
    return (53 - math.ceil(math.log2(2 * terms))) // 2


def absolute_term(terms: int) -> float:
    """What products below float64's normal range may add to an entry of
    :func:`two_part_product`'s result, absolutely: ``ETA`` for each of the ``3 terms`` products
    of its float64 part, with room to spare (the exact parts, the sums in two parts and any sum
    below the normal range round nothing there). Within :data:`SCALE_LIMIT` the relative term
    ``3 u^2 K 2^(e + f)`` alone exceeds it; it is kept so that the bound does not rest on that."""
    return 8.0 * terms * ETA


class SlicedColumns:
    """The columns of ``B`` (``(terms, m)``, finite float64) cut into slices ``B = B1 + B2 + Br``
    (see the module's description), laid out for :func:`two_part_product`'s products: ``B1``,
    ``[B2; B1]`` and ``[B2; Br; B]``. ``scale`` is ``2^f`` per column (0 for a column of zeros)
    and ``fits`` whether every ``f`` lies within ``+-`` :data:`SCALE_LIMIT`."""

    def __init__(self, B: np.ndarray):
        K, m = B.shape
        self.tau = slice_bits(K)
        slices, f = np.empty((m, 4 * K)), np.empty(m, np.int64)
        slice_rows(np.ascontiguousarray(B.T), self.tau, slices, f)
        top = np.abs(B).max(axis=0, initial=0.0)
        self.fits = bool(np.all((np.abs(f) <= SCALE_LIMIT) | (top == 0)))
        self.scale = np.where(top > 0, np.ldexp(1.0, f), 0.0)
        B1, B2, Br = (np.ascontiguousarray(slices[:, j * K: (j + 1) * K].T) for j in (0, 1, 3))
        self.first = B1
        self.crossed = np.concatenate([B2, B1])
        self.rest = np.concatenate([B2, Br, B])


def two_part_product(J, lo, parent, on, off: float, columns: SlicedColumns, scratch: np.ndarray):
    """The rows ``(s J[parent] | t) @ B`` of a batch's children in two parts (``s``: each child's
    slopes, 1 where ``on``, ``off`` elsewhere; ``t`` the bias's column, 1 on the ``t``
    row), the parents' low parts ``lo`` (None: none) added, with a bound on their error.

    Parameters
    ----------
    J, lo : ndarray, shape (cells, D, width)
        The parents' rows and low parts (finite).
    parent : ndarray of int64, shape (n,)
    on : ndarray of bool, shape (n, width)
    off : float
        The slope of units that are off (finite): 0 and 1 leave the masked rows exact; another
        slope's products are split into two exact parts, and the low parts' rounding is bounded
        (:func:`~regionenum.engine.kernels.two_part.masked_slices`).
    columns : SlicedColumns
        ``B = [W | b]^T``, shape ``(width + 1, m)``, in slices.
    scratch : ndarray, shape at least (n D, 4 (width + 1))
        Room for the slices.

    Returns
    -------
    tuple or None
        ``(hi, lo, factor)``: ``hi`` and ``lo``, shape ``(n, D, m)``, and ``factor``, shape ``(n,
        D)``, such that each entry's error is at most ``factor[i, k] * columns.scale[o]`` plus
        :func:`absolute_term` where ``factor[i, k]`` and ``columns.scale[o]`` are not 0. None where
        a row's or a column's exponent lies beyond :data:`SCALE_LIMIT` (or a row is not
        finite).
    """
    n, D, width = len(parent), J.shape[1], J.shape[2]
    K = width + 1
    if not columns.fits:
        return None
    X = scratch[: n * D * 4 * K].reshape(n * D, 4 * K)
    exps, tops, lo_tops = np.empty(n * D, np.int64), np.empty(n * D), np.empty(n * D)
    masked_slices(J, np.zeros((0, D, width)) if lo is None else lo, parent, on, off, columns.tau, X, exps, tops,
                  lo_tops)
    if not (np.isfinite(tops).all() and np.isfinite(lo_tops).all() and np.all(np.abs(exps) <= SCALE_LIMIT)):
        return None
    G1 = X[:, :K] @ columns.first  # exact
    G2 = X[:, : 2 * K] @ columns.crossed  # exact: A1 B2 + A2 B1
    G3 = X[:, K:] @ columns.rest
    sum_in_two_parts(G1, G2, G3)
    g = gamma(3 * K + 2)
    scale = np.where((tops > 0) | (lo_tops > 0), np.ldexp(1.0, exps), 0.0)  # else exact: 0 or b
    factor = K * (scale * (g * 1.75 * 2.0 ** (-2 * columns.tau) + 3.0 * U * U) + g * lo_tops)
    if off not in (0.0, 1.0):  # the masked low parts' rounding, and the exact products' below normal
        factor += K * (1.01 * U * lo_tops + np.where(scale > 0, 8.0 * ETA, 0.0))
    factor *= 1.0 + SLACK
    m = G1.shape[1]
    return G1.reshape(n, D, m), G2.reshape(n, D, m), factor.reshape(n, D)
