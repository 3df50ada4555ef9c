"""Numba kernel: a count's last rows, formed in float32, and the sides of the child they prove.

At the last layer that splits, a count asks of each child's rows only which of the layer's
hyperplanes cut the child, and deep in a wide network few do: on the 2-D net of four 512-wide
layers, 0.6 of 512 per child on average. Those rows come from a float32 matrix product (twice
the float64 rate of BLAS on this hardware), whose rounding is bounded rigorously and added to each
row's bound (:meth:`~regionenum.engine.polytope_step.PolytopeStep._single_bounds`).
:func:`screened_rows` runs the splitting kernel's own bounding-box test
(:func:`~regionenum.engine.kernels.splitting._box_sides`) on them with that bound: where it
proves that a hyperplane misses the child, the side it leaves the child on is handed to the
splitting kernel, which tests that hyperplane no further (see
:data:`~regionenum.engine.kernels.splitting.Hyperplanes`), and its row is never formed in
float64; the rows of the others (those that cut the child or come near it: 0.49% of them on
the 768-unit scaling net, 3.7 a child) are recomputed in float64 with their float64 bound, for
the kernel to test at the child's generators. Every side and sign the kernel trusts is proven by a
bound; the screen only decides where float64 accuracy is spent.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .rows import _child_slopes, child_rows, child_unit_bounds
from .splitting import BOX_INPUTS, _box_point, _box_sides

__all__ = ["screened_rows"]

#: Reassociated and fused sums (the recomputed rows' dot products vectorise): the float64 bound
#: holds for a dot product's terms summed in any order, with or without fused multiply-adds, and
#: the bounds formed here are grown past their own rounding in any order. NaN and infinity keep
#: their meaning (the box test reads them).
_JIT = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"})
_U = 2.0 ** -53
_U32 = 2.0 ** -24  # float32's unit roundoff


@nb.njit(**_JIT)
def screened_rows(shared, owner, own_span, own, weights_T, E, form_E, norm_scale, abs_b, row_gamma, factor,
                  child_floor, unit_floor, row_norms, J, parent, on, off, W, b, gen_off, gens, gen_err, ref, tol,
                  out, sides):
    """Per child ``i``, the side ``sides[i, u]`` (+1, -1; int8) of each unit ``u`` whose
    hyperplane the splitting kernel's box test proves to miss the child, from its float32 rows
    (``(D, units)``: its block's float32 product ``shared[owner[i]]`` and the terms of its own
    units ``own[own_span[i, 0]:own_span[i, 1]]`` with the float32 ``weights_T``, made here by
    :func:`~regionenum.engine.kernels.rows.child_rows` into a scratch a child at a time, as
    :func:`~regionenum.engine.kernels.rows.add_own_terms` would make them into memory) with
    bound ``E[i, 0, u] + gamma_(m_i + 4) (||a_i||_2 row_norms[u] + |b[u]|) + unit_floor[u] +
    child_floor[i]`` (the float64 bound ``E`` plus the
    float32 product's rounding, with float32's unit roundoff, see
    :meth:`~regionenum.engine.polytope_step.PolytopeStep._single_bounds`; ``m_i`` the child's
    slopes other than 0, ``a_i = sum_k |M_k|`` over its masked rows ``M``, which the recomputed
    rows read as well: its parent's ``J[parent[i]]`` times its slopes, 1 where ``on``, ``off``
    elsewhere); 0 for the other units, whose rows ``out[i, :, u]`` (float64) are recomputed from
    ``M`` and ``[W | b]``, with their float64 bound ``E[i, 0, u]`` as it is. The rows of the units
    with a side are not written, nor their bounds (the splitting kernel reads neither). A child
    the box test does not take (one with a ray, with coordinates or bounds that are not finite,
    or of more than :data:`~regionenum.engine.kernels.splitting.BOX_INPUTS` inputs) has every
    row recomputed.

    With ``form_E`` the float64 bounds ``E`` are not given but formed here, a child at a time,
    from its carried norm ``norm_scale[i]``, ``abs_b``, ``row_gamma`` and ``factor`` by
    :func:`~regionenum.engine.kernels.rows.child_unit_bounds` (the norm bound alone, as
    :func:`~regionenum.engine.kernels.rows.unit_error_bounds` forms it, to its last bit or so),
    and written to ``E`` for the recomputed rows only.
    Returns how many rows were recomputed."""
    n, D, units = parent.shape[0], shared.shape[1], shared.shape[2]
    inputs = J.shape[2]
    rows32 = np.empty((1, D, units), np.float32)  # a child's float32 rows
    centre, half, top = np.empty(D), np.empty(D), np.empty(D)
    sums = np.empty((6, units))
    whole = np.empty(units, np.int8)
    live = np.empty(units, np.int64)
    masked, slopes = np.empty((D, inputs)), np.empty(inputs)
    bound = np.empty((1, 1, units))  # a child's bounds of its float32 rows
    carried = np.empty(units)  # a child's float64 bounds
    recomputed = 0
    grown = 1.0 + 2.0 * (inputs + D + 4) * _U  # ||a||_2's own rounding, and the product's below
    for i in range(n):
        first, stop = gen_off[i], gen_off[i + 1]
        p = parent[i]
        child_rows(shared[owner[i]], J[p], on[i], off, own[own_span[i, 0]: own_span[i, 1]], weights_T, rows32[0])
        _child_slopes(on[i], off, slopes)
        for k in range(D):
            for j in range(inputs):
                masked[k, j] = J[p, k, j] * slopes[j] if slopes[j] != 0.0 else 0.0
        squares = 0.0
        terms = 4  # gamma_(m + 4): the nonzero slopes m, counted here
        for j in range(inputs):
            a = 0.0
            for k in range(D):
                a += abs(masked[k, j])
            squares += a * a
            terms += slopes[j] != 0.0
        rounding = terms * _U32 / (1.0 - terms * _U32) * grown
        scale = rounding * np.sqrt(squares) * grown
        if form_E:
            child_unit_bounds(norm_scale[i], row_norms, abs_b, row_gamma, factor, False, carried)
        else:
            for u in range(units):
                carried[u] = E[i, 0, u]
        for u in range(units):
            bound[0, 0, u] = (carried[u] + scale * row_norms[u] + rounding * abs(b[u]) + unit_floor[u]
                              + child_floor[i]) * grown
        points = stop > first and D - 1 <= BOX_INPUTS
        for g in range(first, stop):
            points &= _box_point(gens, g, gen_err[g])
        if points:  # (the float32 rows read as they are: each converts to float64 exactly)
            count = _box_sides(gens[first:stop], gen_err[first:stop], stop - first, rows32, bound, 0, ref, tol,
                               centre, half, top, sums, whole, live)
        else:
            count = units
            for u in range(units):
                whole[u] = 0
                live[u] = u
        for u in range(units):
            sides[i, u] = whole[u]
        for c in range(count):
            u = live[c]
            if form_E:
                E[i, 0, u] = carried[u]
            for k in range(D):
                acc = 0.0
                for j in range(inputs):
                    acc += masked[k, j] * W[u, j]
                out[i, k, u] = acc + b[u] if k == 0 else acc
        recomputed += count
    return recomputed
