"""Numba kernel: a count's last rows, formed in float32 and kept where they prove a miss.

At the last layer that splits, a count asks of each child's rows only which of the layer's
hyperplanes cut the child, and deep in a wide network few do: on the 2-D net of four 512-wide
layers, 0.6 of 512 per child on average. Those rows come from a float32 matrix product (twice
the float64 rate of BLAS on this hardware), whose rounding is bounded rigorously and added to each
row's bound (:meth:`~regionenum.engine.polytope_step.PolytopeStep._single_bounds`).
:func:`screened_rows` keeps such a row where the splitting kernel's own bounding-box test
(:func:`~regionenum.engine.kernels.splitting._box_sides`) proves, with that bound, that its
hyperplane misses the child, and recomputes in float64 the rows of the others (those that cut
the child or come near it: about 0.5% of them there), whose bound is then the float64 one. The
splitting kernel, reading the same rows and bounds, drops those hyperplanes by the same test
before any other, so they are not evaluated at a new vertex (compiled here with sums in any
order, the test could differ from the kernel's in a last bit: such a row is then tested at the
child's generators as any other). Every sign the kernel trusts is proven by the bound it reads;
the screen only decides where float64 accuracy is spent.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .rows import _child_slopes
from .splitting import BOX_INPUTS, _box_point, _box_sides

__all__ = ["screened_rows"]

#: Reassociated and fused sums (the recomputed rows' dot products vectorise): the float64 bound
#: holds for a dot product's terms summed in any order, with or without fused multiply-adds, and
#: the bounds formed here are grown past their own rounding in any order. NaN and infinity keep
#: their meaning (the box test reads them).
_JIT = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"})
_U = 2.0 ** -53


@nb.njit(**_JIT)
def screened_rows(rows32, E, rounding, child_floor, unit_floor, row_norms, J, parent, on, off, W, b,
                  gen_off, gens, gen_err, ref, tol, out):
    """Each child's rows ``out[i]`` (``(D, units)``, float64) and their bounds, in place of
    their float64 bounds ``E[i, 0]`` (``(n, 1, units)``): the float32 rows ``rows32[i]`` with
    bound ``E[i, 0, u] + rounding ||a_i||_2 row_norms[u] + unit_floor[u] + child_floor[i]``
    (the float64 bound plus the float32 product's rounding; ``a_i = sum_k |M_k|`` over the
    child's masked rows ``M``, which the recomputed rows read as well: its parent's
    ``J[parent[i]]`` times its slopes, 1 where ``on``, ``off`` elsewhere)
    where the splitting kernel's box test decides the unit's side of the child with it;
    elsewhere the row recomputed in float64 from ``M`` and ``[W | b]``, with the float64 bound
    ``E[i, 0, u]``. A child the box test does not take (one with a ray, with coordinates or
    bounds that are not finite, or of more than
    :data:`~regionenum.engine.kernels.splitting.BOX_INPUTS` inputs) has every row recomputed.
    Returns how many rows were recomputed."""
    n, D, units = rows32.shape
    inputs = J.shape[2]
    centre, half, top = np.empty(D), np.empty(D), np.empty(D)
    sums = np.empty((6, units))
    whole = np.empty(units, np.int64)
    live = np.empty(units, np.int64)
    masked, slopes = np.empty((D, inputs)), np.empty(inputs)
    own = np.empty(units)  # a child's float64 bounds
    recomputed = 0
    grown = 1.0 + 2.0 * (inputs + D + 4) * _U  # ||a||_2's own rounding, and the product's below
    for i in range(n):
        first, stop = gen_off[i], gen_off[i + 1]
        p = parent[i]
        _child_slopes(on[i], off, slopes)
        for k in range(D):
            for j in range(inputs):
                masked[k, j] = J[p, k, j] * slopes[j] if slopes[j] != 0.0 else 0.0
        squares = 0.0
        for j in range(inputs):
            a = 0.0
            for k in range(D):
                a += abs(masked[k, j])
            squares += a * a
        scale = rounding * np.sqrt(squares) * grown
        for k in range(D):
            for u in range(units):
                out[i, k, u] = np.float64(rows32[i, k, u])
        for u in range(units):
            own[u] = E[i, 0, u]
            E[i, 0, u] = (own[u] + scale * row_norms[u] + unit_floor[u] + child_floor[i]) * grown
        points = stop > first and D - 1 <= BOX_INPUTS
        for g in range(first, stop):
            points &= _box_point(gens, g, gen_err[g])
        if points:
            count = _box_sides(gens[first:stop], gen_err[first:stop], stop - first, out, E, i, ref, tol, centre,
                               half, top, sums, whole, live)
        else:
            count = units
            for u in range(units):
                live[u] = u
        for c in range(count):
            u = live[c]
            for k in range(D):
                acc = 0.0
                for j in range(inputs):
                    acc += masked[k, j] * W[u, j]
                out[i, k, u] = acc + b[u] if k == 0 else acc
            E[i, 0, u] = own[u]
        recomputed += count
    return recomputed
