"""Numba kernels on finished cells: their face lattices, facets and volumes.

A cell's faces are found from incidence alone: the facets of a face are its maximal proper
subsets of generators tight on a common constraint, and faces of lower dimension are facets of
facets. Volumes come from a pulling triangulation of that lattice.

A cell or face of at most 64 generators (nearly all of them) is worked on as bit masks: one
64-bit word per constraint, the generators tight on it, so that a face's facets are the
maximal proper ``face & mask`` and each step is a few word operations. Larger ones go through
the same steps on arrays of generator indices (the ``_large_*`` kernels).
"""
from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

from ...core.arrays import ranges
from .grouping import _slot
from .splitting import _grow1, _intersect_ranges

__all__ = ["CellFaces", "FaceNames", "cell_faces", "face_hashes", "face_key_bits", "face_keys",
           "face_volumes", "faces_match", "facets_and_volumes", "fill_cell_volumes", "fill_face_volumes",
           "large_cell_faces", "large_facet_flags", "large_volumes", "loose_generators", "point_and_edge_volumes",
           "polytope_volumes"]

_JIT = dict(cache=True, nogil=True)
#: The largest id the faces' int32 arrays hold (:data:`CellFaces`).
_INT32_MAX = 2 ** 31 - 1

#: Faces of cells: per face its ``cell``, its ``dim``ension, its generators
#: ``members[gen_off[i]:gen_off[i+1]]`` (increasing) and the constraint ids tight on all of it
#: ``tight[tight_off[i]:tight_off[i+1]]`` (increasing). ``cell``, ``members`` and ``tight`` are
#: int32 (cell, generator and constraint ids are far below 2^31) and ``dim`` int8: in 4-D the
#: faces of every cell take gigabytes, whose fresh pages are slow on some virtual machines.
CellFaces = namedtuple("CellFaces", "cell dim gen_off members tight_off tight")
#: What names a face across cells (see ``_face_key``): the faces' cells and tight ids, the
#: cells' packed ``patterns`` and ``zeros`` as 64-bit words, where unit ids start, the pattern
#: bits of each unit or tie id (``id_units``), and the number of domain rows.
FaceNames = namedtuple("FaceNames", "face_cell tight_off tight patterns zeros unit_start id_units n_domain")


@nb.njit(**_JIT)
def _simplex_volume(P, M):
    """k-dimensional volume of the simplex with vertices ``P`` (``(k + 1, n)``, ``n >= k``): the
    product of the norms left by Gram-Schmidt on its edge vectors, over k!. ``M`` is scratch of
    shape ``(k, n)``."""
    k = P.shape[0] - 1
    for r in range(k):
        M[r] = P[r + 1] - P[0]
    vol = 1.0
    for r in range(k):
        for r2 in range(r):
            dot = 0.0
            for j in range(M.shape[1]):
                dot += M[r, j] * M[r2, j]
            for j in range(M.shape[1]):
                M[r, j] -= dot * M[r2, j]
        nrm = 0.0
        for j in range(M.shape[1]):
            nrm += M[r, j] * M[r, j]
        nrm = np.sqrt(nrm)
        if nrm == 0.0:
            return 0.0
        for j in range(M.shape[1]):
            M[r, j] /= nrm
        vol *= nrm / (r + 1)
    return vol


@nb.njit(**_JIT)
def _incident_ids(face, gen_inc_off, gen_inc):
    """The constraint ids tight at any of the generators ``face``, increasing."""
    n = 0
    for g in face:
        n += gen_inc_off[g + 1] - gen_inc_off[g]
    ids = np.empty(n, np.int64)
    n = 0
    for g in face:
        for q in range(gen_inc_off[g], gen_inc_off[g + 1]):
            ids[n] = gen_inc[q]
            n += 1
    return np.unique(ids)


@nb.njit(**_JIT)
def _tight_sets(face, gen_inc_off, gen_inc):
    """For the generators ``face``: the constraint ids tight at any of them, which of the face's
    generators each is tight at (``member[k, i]``), and how many (``size[k]``)."""
    ids = _incident_ids(face, gen_inc_off, gen_inc)
    member = np.zeros((ids.shape[0], face.shape[0]), np.bool_)
    size = np.zeros(ids.shape[0], np.int64)
    for i in range(face.shape[0]):
        g = face[i]
        for q in range(gen_inc_off[g], gen_inc_off[g + 1]):
            k = np.searchsorted(ids, gen_inc[q])
            member[k, i] = True
            size[k] += 1
    return ids, member, size


@nb.njit(**_JIT)
def _maximal_proper(member, size):
    """Which tight sets are facets of the face: proper, non-empty, and not strictly inside
    another. Sets equal to each other (coinciding constraints) are all kept."""
    n_sets, nf = member.shape
    keep = np.zeros(n_sets, np.bool_)
    for k in range(n_sets):
        if size[k] == 0 or size[k] == nf:
            continue
        keep[k] = True
        for k2 in range(n_sets):
            if k2 == k or size[k2] == nf or size[k2] <= size[k]:
                continue
            sub = True
            for i in range(nf):
                if member[k, i] and not member[k2, i]:
                    sub = False
                    break
            if sub:
                keep[k] = False
                break
    return keep


@nb.njit(**_JIT)
def _facets_of_face(face, gen_inc_off, gen_inc):
    """The facets of a face (array of generator indices) as generator-index arrays, each once."""
    ids, member, size = _tight_sets(face, gen_inc_off, gen_inc)
    keep = _maximal_proper(member, size)
    out = []
    for k in range(ids.shape[0]):
        if not keep[k]:
            continue
        duplicate = False
        for k2 in range(k):
            if keep[k2] and size[k2] == size[k] and np.all(member[k2] == member[k]):
                duplicate = True
                break
        if duplicate:
            continue
        sel = np.empty(size[k], np.int64)
        n = 0
        for i in range(face.shape[0]):
            if member[k, i]:
                sel[n] = face[i]
                n += 1
        out.append(sel)
    return out


@nb.njit(cache=True, nogil=True)
def loose_generators(gen_off, gens, gen_err, ratio):
    """Per generator, whether its error bound ``gen_err`` exceeds ``ratio`` times its cell's
    extent: for a bounded cell the largest spread of one coordinate over its points (zero for a
    single point); a ray (a unit vector) against ``ratio`` itself; the points of an unbounded
    cell never (its rays make it extend without end). A bound that is not a number is loose."""
    out = np.zeros(gens.shape[0], np.bool_)
    D = gens.shape[1]
    for c in range(gen_off.shape[0] - 1):
        extent = 0.0
        for k in range(1, D):
            lo, hi = np.inf, -np.inf
            for g in range(gen_off[c], gen_off[c + 1]):
                if gens[g, 0] > 0:
                    lo = min(lo, gens[g, k])
                    hi = max(hi, gens[g, k])
                else:
                    extent = np.inf
            if hi > lo:
                extent = max(extent, hi - lo)
        for g in range(gen_off[c], gen_off[c + 1]):
            out[g] = not gen_err[g] <= ratio * (extent if gens[g, 0] > 0 else 1.0)
    return out


@nb.njit(cache=True, nogil=True)
def facets_and_volumes(cells, lo, hi):
    """For the cells ``lo`` to ``hi - 1`` of ``cells`` (a ``CellArrays``): per constraint listed
    on them, whether it carries a facet of its cell (its tight set is maximal among all tight
    sets and holds at least one point, not only rays), and per cell its volume (``inf`` if it
    has a ray). A cell's tight sets and facets are found once for both: the volume's pulling
    triangulation starts from the same facets (:func:`_pull_from_facets`). A cell of more than
    64 generators is left to :func:`fill_cell_volumes` (its flags false, its volume nan). It
    releases the GIL: threads may share the cells out."""
    cell_gen_off, gens, gen_inc_off, gen_inc = cells.gen_off, cells.gens, cells.inc_off, cells.inc
    cell_con_off, con_ids = cells.con_off, cells.con_ids
    d = gens.shape[1] - 1
    base = cell_con_off[lo]
    all_flags = np.zeros(cell_con_off[hi] - base, np.bool_)
    volumes = np.empty(hi - lo)
    masks, scratch = _volume_buffers(cells, np.arange(lo, hi))
    face = np.empty(64, np.int64)
    for c in range(lo, hi):
        g0, g1 = cell_gen_off[c], cell_gen_off[c + 1]
        q0, q1 = cell_con_off[c], cell_con_off[c + 1]
        flags = all_flags[q0 - base: q1 - base]
        if g1 - g0 > 64:
            volumes[c - lo] = np.nan
            continue
        f = face[: g1 - g0]
        for i in range(g1 - g0):
            f[i] = g0 + i
        tight = masks[: q1 - q0]
        simple = _tight_masks(f, con_ids, q0, q1, gen_inc_off, gen_inc, tight, d)
        points = _point_mask(f, gens)
        bounded = points == _full_mask(g1 - g0)
        if d == 2 and bounded:  # a polygon: its edges and area directly
            volumes[c - lo] = _polygon_facets(f, tight, gens, flags)
            continue
        simple = simple and bounded
        n = _top_facets(f, tight, scratch, simple)
        facets = scratch.facets
        for k in range(q1 - q0):  # every constraint carrying a facet (coinciding ones too)
            if tight[k] & points:
                for j in range(n):
                    if tight[k] == facets[j]:
                        flags[k] = True
        if not bounded:
            volumes[c - lo] = np.inf
        elif d == 1:
            volumes[c - lo] = _face_volume(f, 1, c, cells, masks, scratch)
        else:
            volumes[c - lo] = _pull_from_facets(f, tight, d, gens, scratch, n, simple)
    return all_flags, volumes


@nb.njit(inline='always', **_JIT)
def _polygon_facets(face, masks, gens, flags):
    """:func:`facets_and_volumes` of one bounded cell in the plane of at most 64 generators
    ``face`` (points), whose constraints' tight sets are ``masks``: sets ``flags`` on the
    constraints that carry an edge and returns the area, the same bits as the general path
    (:func:`_top_facets`, then :func:`_pull_from_facets`) gives, in a third of its time on the
    suite's planes.

    The edges are the maximal proper tight sets (a set inside another proper one, or a single
    vertex, is not an edge; equal sets, coinciding constraints, are all flagged). The area is
    the pulling triangulation's, from the face's first generator: per edge that misses it (the
    first of equal sets), with ends ``b`` and ``c`` (:func:`_edge_ends`), ``|det(b - a, c -
    a)| / 2``, summed in the order the general path pops its stack of edges (the last first)."""
    full = _full_mask(face.shape[0])
    n = masks.shape[0]
    a = face[0]
    total = 0.0
    for k in range(n - 1, -1, -1):
        m = masks[k]
        if m == 0 or m == full:
            continue
        top, first = True, True
        for j in range(n):
            x = masks[j]
            top = top and (x == full or x == m or (m & x) != m)  # no proper set strictly holds m
            first = first and (j >= k or x != m)
        if not top:
            continue
        flags[k] = True
        if first and not m & np.uint64(1):
            b, c = _edge_ends(face, m, gens)
            b0, b1 = gens[face[b], 1] - gens[a, 1], gens[face[b], 2] - gens[a, 2]
            c0, c1 = gens[face[c], 1] - gens[a, 1], gens[face[c], 2] - gens[a, 2]
            total += 1.0 * abs(b0 * c1 - b1 * c0) / 2
    return total


@nb.njit(**_JIT)
def _large_facet_flags(face, gens, gen_inc_off, gen_inc, con_ids, flags):
    """:func:`facets_and_volumes`' flags for one cell of more than 64 generators ``face``
    whose constraint ids are ``con_ids``, into ``flags``, on sets of generator indices instead
    of bit masks."""
    ids, member, size = _tight_sets(face, gen_inc_off, gen_inc)
    keep = _maximal_proper(member, size)
    for q in range(con_ids.shape[0]):
        k = np.searchsorted(ids, con_ids[q])
        if k < ids.shape[0] and ids[k] == con_ids[q] and keep[k]:
            for i in range(face.shape[0]):
                if member[k, i] and gens[face[i], 0] > 0:
                    flags[q] = True
                    break


# -- faces of at most 64 generators, as bit masks over them ---------------------------------------
@nb.njit(inline='always', **_JIT)
def _full_mask(n):
    """The mask of ``n <= 64`` generators."""
    return ~np.uint64(0) if n == 64 else (np.uint64(1) << np.uint64(n)) - np.uint64(1)


@nb.njit(**_JIT)
def _point_mask(face, gens):
    """The mask of the generators ``face`` (at most 64) that are points, not rays."""
    points = np.uint64(0)
    for i in range(face.shape[0]):
        if gens[face[i], 0] > 0:
            points |= np.uint64(1) << np.uint64(i)
    return points


@nb.njit(**_JIT)
def _mask_buffers(n, masks, facets, rel):
    """The buffers of the mask kernels grown to ``n`` constraints: ``masks`` and ``facets`` as
    :func:`_facet_masks` fills them, and ``rel``, two rows: ``0, 1, 2, ...`` (every constraint)
    and the ones that cut a face."""
    if n > rel.shape[1]:
        rel = np.empty((2, n), np.int64)
        rel[0] = np.arange(n)
    return _grow1(masks, n), _grow1(facets, n), rel


@nb.njit(inline='always', **_JIT)
def _tight_masks(face, ids, q0, q1, gen_inc_off, gen_inc, masks, d):
    """Into ``masks[k]``, for each constraint id ``ids[q0 + k]`` (``ids[q0:q1]`` sorted: a cell's),
    the bit mask of the generators ``face`` (at most 64) tight on it; ids a generator lists but
    those do not are skipped. Each id is looked up by bisection on the indices (a view of the
    cell's ids, and NumPy's search on it, took about half of the plane's facets and areas; the
    splitting kernel's ``_find``, which returns the place or -1, made them 1.6 to 2 times as
    long here).

    Returns whether every generator is tight on exactly ``d`` of the ids (the input dimension):
    where they are all points, the face is then a face of a simple polytope (each vertex on ``d``
    facets, no other constraint touching it), whose facets need no search for the maximal sets
    (:func:`_facet_masks`)."""
    for k in range(q1 - q0):
        masks[k] = 0
    simple = True
    for i in range(face.shape[0]):
        bit = np.uint64(1) << np.uint64(i)
        tight = 0
        for t in range(gen_inc_off[face[i]], gen_inc_off[face[i] + 1]):
            x = gen_inc[t]
            a, b = q0, q1  # the first id not below x
            while a < b:
                m = (a + b) >> 1
                if ids[m] < x:
                    a = m + 1
                else:
                    b = m
            if a < q1 and ids[a] == x:
                masks[a - q0] |= bit
                tight += 1
        simple = simple and tight == d
    return simple


@nb.njit(inline='always', **_JIT)
def _facet_masks(f, masks, rel, r, n_among, out, simple):
    """The facets of the face with generator mask ``f``: the distinct maximal ones among the
    proper non-empty ``f & masks[k]`` for ``k`` in ``rel[r, :n_among]``, in that order (the
    first where several are equal), written into ``out``. The ``k`` that cut ``f`` at all go
    into row ``r + 1`` of ``rel``: faces of ``f`` need look no further. Returns the number of
    facets and of those ``k``. (Rows by index: a view of a row costs two atomic reference counts
    per face.)

    On a face of a ``simple`` polytope (every vertex on exactly ``d`` of the constraints, see
    :func:`_tight_masks`) every proper non-empty ``f & masks[k]`` is a facet of ``f``, and no two
    are equal (a nonempty intersection of ``j`` facets is a face of dimension ``d - j``, and
    each of ``f``'s facets lies on exactly one facet that ``f`` does not), so the search for the
    maximal ones is left out: a ninth of the volumes' time on r4_small's cells. This holds for
    the incidences of a real polytope, as the splitting kernel makes them (exact signs, each id
    once per generator); incidences no polytope has (a generator inside an edge, tight on a
    constraint through it alone) could give a different lattice here than the search."""
    n_cut = 0
    for i in range(n_among):
        m = f & masks[rel[r, i]]
        if m != 0 and m != f:
            rel[r + 1, n_cut] = rel[r, i]
            out[n_cut] = m
            n_cut += 1
    if simple:
        return n_cut, n_cut
    n = 0  # keep out[i] unless inside a kept set (or equal to one) or strictly inside a later one
    for i in range(n_cut):
        m = out[i]
        keep = True
        for j in range(n):
            keep = keep and (m & out[j]) != m
        for j in range(i + 1, n_cut):
            keep = keep and (out[j] == m or (m & out[j]) != m)
        if keep:
            out[n] = m
            n += 1
    return n, n_cut


#: Index of a 64-bit word's only set bit from the top six bits of its product with a de Bruijn
#: sequence.
_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DE_BRUIJN_INDEX = np.zeros(64, np.int64)
_DE_BRUIJN_INDEX[[((int(_DE_BRUIJN) << i) % 2**64) >> 58 for i in range(64)]] = np.arange(64)


@nb.njit(inline='always', **_JIT)
def _lowest_bit(m):
    """Index of the lowest set bit of a non-zero mask."""
    return _DE_BRUIJN_INDEX[((m & (~m + np.uint64(1))) * _DE_BRUIJN) >> np.uint64(58)]


@nb.njit(inline='always', **_JIT)
def _edge_ends(face, m, gens):
    """The two ends (positions in ``face``) of the edge with generator mask ``m``: its only two
    generators, or, should a generator lie inside the edge, the pair farthest apart. A face of
    more than 64 generators has no mask: all of its generators are the edge's (``m`` unused)."""
    a = 0
    if face.shape[0] <= 64:
        a = _lowest_bit(m)
        rest = m & (m - np.uint64(1))
        b = _lowest_bit(rest)
        rest &= rest - np.uint64(1)
        if not rest:
            return a, b
    b = _farthest(face, m, gens, a)  # a generator inside the edge: from a, the farthest one is an end b...
    return _farthest(face, m, gens, b), b  # ...and from b, the farthest one the other end


@nb.njit(inline='always', **_JIT)
def _farthest(face, m, gens, p):
    """The position of the generator of ``face`` in mask ``m`` (all of them beyond 64) farthest
    from the one at position ``p``, the first of equals."""
    best, far = -1.0, p
    for i in range(face.shape[0]):
        if face.shape[0] > 64 or (m >> np.uint64(i)) & np.uint64(1):
            dist = _distance(gens[face[i]], gens[face[p]])
            if dist > best:
                best, far = dist, i
    return far


#: Differences whose squares (and sums of a few) stay well inside float64's normal range.
_SQUARES_LOW, _SQUARES_HIGH = 2.0 ** -500, 2.0 ** 500


@nb.njit(inline='always', **_JIT)
def _distance(g, h):
    """Distance between the points with homogeneous rows ``g`` and ``h`` (``(1, x)``): the root
    of the sum of the squared differences, or, where a square would leave float64's range (a
    difference beyond ``2^(+-500)``), of the differences scaled by the largest, times it (an
    interval of length 1e-300 had length 0, its square underflowing)."""
    total = 0.0
    top = 0.0
    for j in range(1, g.shape[0]):
        diff = g[j] - h[j]
        total += diff ** 2
        top = max(top, abs(diff))
    if top == 0.0 or top == np.inf or _SQUARES_LOW < top < _SQUARES_HIGH:  # (a difference beyond float64: inf)
        return np.sqrt(total)
    total = 0.0
    for j in range(1, g.shape[0]):
        total += ((g[j] - h[j]) / top) ** 2
    return top * np.sqrt(total)


@nb.njit(inline='always', **_JIT)
def _orthogonal_norm(v, Q, r):
    """Make ``v`` orthogonal to the unit rows ``Q[:r]`` (modified Gram-Schmidt, in place) and
    return its norm."""
    for i in range(r):
        dot = 0.0
        for j in range(v.shape[0]):
            dot += v[j] * Q[i, j]
        for j in range(v.shape[0]):
            v[j] -= dot * Q[i, j]
    norm = 0.0
    for j in range(v.shape[0]):
        norm += v[j] * v[j]
    return np.sqrt(norm)


@nb.njit(inline='always', **_JIT)
def _chain_norm(Q, r, p, origin):
    """The norm of ``p - origin`` (points as homogeneous rows ``(1, x)``) made orthogonal to the
    unit rows ``Q[:r]``, that vector left in row ``r`` of ``Q``: the last vector of a simplex,
    which no later vector is made orthogonal to."""
    q = Q[r]
    for j in range(q.shape[0]):
        q[j] = p[j + 1] - origin[j + 1]
    return _orthogonal_norm(q, Q, r)


@nb.njit(inline='always', **_JIT)
def _chain_step(Q, r, p, origin):
    """:func:`_chain_norm`, with row ``r`` of ``Q`` then of unit length (zero if the vector is not
    independent of ``Q[:r]``), for the vectors after it; returns the norm."""
    norm = _chain_norm(Q, r, p, origin)
    q = Q[r]
    for j in range(q.shape[0]):
        q[j] = q[j] / norm if norm > 0 else 0.0
    return norm


#: Scratch arrays of :func:`_pulled_volume`, made by :func:`_volume_scratch`.
VolumeScratch = namedtuple("VolumeScratch", "stack level apex rel n_rel Q weight facets pivot inv")


@nb.njit(**_JIT)
def _volume_scratch(k, n_masks, D):
    """Scratch for :func:`_pulled_volume` on k-faces in ``D`` dimensions with up to ``n_masks``
    tight sets (one allocation for a whole batch of cells)."""
    size = k * n_masks + 1
    return VolumeScratch(np.empty(size, np.uint64), np.empty(size, np.int64), np.empty(k, np.int64),
                         np.empty((k + 1, n_masks), np.int64), np.empty(k + 1, np.int64), np.empty((k + 1, D)),
                         np.empty(k + 1), np.empty(n_masks, np.uint64), np.empty(k + 1, np.int64),
                         np.empty(k + 1))


@nb.njit(inline='always', **_JIT)
def _pulled_volume(face, masks, k, gens, scratch, simple):
    """k-dimensional volume (``k >= 2``) of the bounded k-face with generators ``face`` (at most
    64, all points) whose tight sets are ``masks``: a pulling triangulation
    (:func:`_pull_from_facets`) from its facets. ``scratch`` is a :data:`VolumeScratch` for at
    least ``k`` and ``len(masks)``; ``simple`` as :func:`_tight_masks` returns it."""
    return _pull_from_facets(face, masks, k, gens, scratch, _top_facets(face, masks, scratch, simple), simple)


@nb.njit(inline='always', **_JIT)
def _top_facets(face, masks, scratch, simple):
    """The facets of the face with generators ``face`` (at most 64) whose tight sets are
    ``masks``, into ``scratch.facets`` (the constraints that cut it into ``scratch.rel[1]``), as
    :func:`_pull_from_facets` starts from them; returns their number."""
    n_masks = masks.shape[0]
    rel, n_rel = scratch.rel, scratch.n_rel
    for i in range(n_masks):
        rel[0, i] = i
    n_rel[0] = n_masks
    n, n_rel[1] = _facet_masks(_full_mask(face.shape[0]), masks, rel, 0, n_masks, scratch.facets, simple)
    return n


@nb.njit(inline='always', **_JIT)
def _pull_from_facets(face, masks, k, gens, scratch, n_facets, simple):
    """:func:`_pulled_volume` from the face's ``n_facets`` facets in ``scratch``
    (:func:`_top_facets`): pull the face's lowest generator, recurse into the facets that miss
    it, down to edges; the chain of pulled generators ``a_0, ..., a_(k-2)`` and an edge
    ``(b, c)`` span one simplex, of volume ``|det(a_1 - a_0, ..., b - a_0, c - a_0)| / k!``.
    The chain's part is worked out once per face on the way down.

    A face as wide as the space (a cell: ``k = D``) gets the determinant by elimination. Row
    ``i`` of ``Q`` is ``a_(i+1) - a_0`` less multiples of the rows before it that clear their
    pivot columns; its pivot is its largest entry in the other columns (``pivot[i]``, its inverse
    ``inv[i]``), and ``weight`` carries the pivots' product over ``L!``. An edge's ``b - a_0``
    and ``c - a_0``, reduced alike, leave a 2 x 2 block in the two columns that are no pivot
    (``pivot[k-2]`` and ``pivot[k-1]``): the matrix is then block triangular and its ``|det|``
    the pivots' product times that block's. A few dozen independent operations per edge, all on
    rows by index: a helper taking the arrays, or a view of a row, costs two atomic reference
    counts per array and call, which took as long as the arithmetic. (In 4-D, Gram-Schmidt's
    norms, two square roots, four divisions and dependent dot products per edge, and those
    reference counts, were three quarters of the cells' facets and volumes.)

    A face of fewer dimensions than the space has no square matrix: its simplices' volumes are
    the products of the norms Gram-Schmidt leaves (:func:`_chain_step`)."""
    stack, level, apex, rel, n_rel, Q, weight, facets, pivot, inv = scratch
    D = Q.shape[1]
    full = k == D
    weight[0] = 1.0
    apex[0] = 0  # the face's lowest generator, pulled first
    pivot[0], pivot[1] = 0, 1  # (the free columns of a plane's triangles: no row)
    top = 0
    for j in range(n_facets):
        if not facets[j] & np.uint64(1):
            stack[top], level[top] = facets[j], 1
            top += 1
    total = 0.0
    while top > 0:
        top -= 1
        f, L = stack[top], level[top]
        edge = L == k - 1  # an edge (b, c): the last two vectors of the simplex
        a, b, c = 0, 0, 0
        if edge:
            b, c = _edge_ends(face, f, gens)
        else:
            a = _lowest_bit(f)
            apex[L] = a
        if not full:
            origin = gens[face[apex[0]]]
            if edge:
                to_b = _chain_step(Q, L - 1, gens[face[b]], origin) / L
                total += weight[L - 1] * to_b * _chain_norm(Q, L, gens[face[c]], origin) / (L + 1)
                continue
            weight[L] = weight[L - 1] * _chain_step(Q, L - 1, gens[face[a]], origin) / L
        else:
            o = face[apex[0]]
            for t in range(L - 1, L + 1 if edge else L):  # the new rows, reduced by the chain's L - 1
                p = (b if t == L - 1 else c) if edge else a
                for j in range(D):
                    Q[t, j] = gens[face[p], j + 1] - gens[o, j + 1]
                for i in range(L - 1):
                    m = Q[t, pivot[i]] * inv[i]
                    for j in range(D):
                        Q[t, j] -= m * Q[i, j]
            if edge:
                u, v = pivot[k - 2], pivot[k - 1]
                total += weight[L - 1] * abs(Q[L - 1, u] * Q[L, v] - Q[L - 1, v] * Q[L, u]) / (L * (L + 1))
                continue
            used = 0  # the earlier rows' pivot columns, a bit each
            for i in range(L - 1):
                used |= 1 << pivot[i]
            step = -1.0
            for j in range(D):  # the pivot: the largest entry in a free column
                if not (used >> j) & 1 and abs(Q[L - 1, j]) > step:
                    step, pivot[L - 1] = abs(Q[L - 1, j]), j
            inv[L - 1] = 1.0 / Q[L - 1, pivot[L - 1]] if step > 0.0 else 0.0
            used |= 1 << pivot[L - 1]
            n_free = 0
            for j in range(D if L == k - 2 else 0):  # the chain whole: the two columns left free
                if not (used >> j) & 1:
                    pivot[L + n_free] = j
                    n_free += 1
            weight[L] = weight[L - 1] * step / L
        n, n_rel[L + 1] = _facet_masks(f, masks, rel, L, n_rel[L], facets, simple)
        for j in range(n):
            if not (facets[j] >> np.uint64(a)) & np.uint64(1):
                stack[top], level[top] = facets[j], L + 1
                top += 1
    return total


@nb.njit(**_JIT)
def _volume_buffers(cells, which_cells):
    """Masks and a :data:`VolumeScratch` for :func:`_face_volume` on faces of the cells
    ``which_cells`` of ``cells`` (made once for all of them)."""
    most = 1
    for c in which_cells:
        most = max(most, cells.con_off[c + 1] - cells.con_off[c])
    d = cells.gens.shape[1] - 1
    return np.empty(most, np.uint64), _volume_scratch(d, most, d)


@nb.njit(inline='always', **_JIT)
def _point_or_edge(k):
    """Whether a face of dimension ``k`` needs no lattice: a point or an edge."""
    return k <= 1


@nb.njit(inline='always', **_JIT)
def _point_or_edge_volume(face, k, gens):
    """The volume of a :func:`_point_or_edge` face: ``inf`` if it has a ray, else 1 for a point and
    the distance between its ends for an edge. Taking only the generators, not the cells' and
    scratch arrays: a vertex took 320-400 ns through :func:`_face_volume`, nearly all of it the
    reference counts of the arrays in those tuples (two atomic operations each, inlined or not),
    and takes about 50 this way."""
    for g in face:
        if gens[g, 0] == 0:
            return np.inf
    if k == 0:
        return 1.0
    a, b = _edge_ends(face, _full_mask(min(face.shape[0], 64)), gens)
    return _distance(gens[face[a]], gens[face[b]])


@nb.njit(inline='always', **_JIT)
def _face_volume(face, k, c, cells, masks, scratch):
    """k-dimensional volume of the bounded k-face with generators ``face`` of cell ``c`` of
    ``cells`` (a ``CellArrays``), by a pulling triangulation (:func:`_pulled_volume`) over the
    cell's tight sets; ``inf`` if the face has a ray. ``masks`` and ``scratch`` come from
    :func:`_volume_buffers`. Inlined, as is :func:`_pulled_volume`: a call handing on the
    scratch arrays cost r3_small's and r4_small's 2-faces about a quarter of their time.

    A bounded face of more than 64 generators and two dimensions or more gets ``nan``: the
    kernels' callers fill those in (:func:`fill_cell_volumes`, :func:`fill_face_volumes`), so
    that the kernels do not carry that path's code (see :func:`large_volumes`)."""
    gens = cells.gens
    if _point_or_edge(k):
        return _point_or_edge_volume(face, k, gens)
    for g in face:
        if gens[g, 0] == 0:
            return np.inf
    if face.shape[0] > 64:
        return np.nan
    q0, q1 = cells.con_off[c], cells.con_off[c + 1]
    simple = _tight_masks(face, cells.con_ids, q0, q1, cells.inc_off, cells.inc, masks, gens.shape[1] - 1)
    return _pulled_volume(face, masks[: q1 - q0], k, gens, scratch, simple)


@nb.njit(**_JIT)
def _polygon_order(gens, face):
    """The generators ``face`` of a 2-dimensional face (in any ambient dimension), sorted by angle
    around their mean in the face's plane."""
    n = face.shape[0]
    D = gens.shape[1]
    c = np.zeros(D - 1)
    for i in range(n):
        c += gens[face[i], 1:]
    c /= n
    u = gens[face[0], 1:] - c
    u /= np.sqrt(np.sum(u * u))
    v = np.zeros(D - 1)
    best = -1.0
    for i in range(1, n):
        w = gens[face[i], 1:] - c
        w = w - np.sum(w * u) * u
        nw = np.sqrt(np.sum(w * w))
        if nw > best:
            best = nw
            v = w / nw
    ang = np.empty(n)
    for i in range(n):
        w = gens[face[i], 1:] - c
        ang[i] = np.arctan2(np.sum(w * v), np.sum(w * u))
    return face[np.argsort(ang)]


@nb.njit(**_JIT)
def _large_face_volume(face, k, gens, gen_inc_off, gen_inc):
    """:func:`_face_volume` of a bounded face of more than 64 generators and ``k >= 2``
    dimensions, on sets of generator indices: pulling down to polygons, whose generators are
    sorted by angle around their mean and fanned into triangles."""
    P = np.empty((k + 1, gens.shape[1] - 1))
    M = np.empty((k, gens.shape[1] - 1))
    stack_faces = [face]
    stack_apex = [np.empty(0, np.int64)]
    total = 0.0
    while len(stack_faces) > 0:
        f = stack_faces.pop()
        apex = stack_apex.pop()
        if apex.shape[0] == k - 2:
            ring = _polygon_order(gens, f)
            for r in range(k - 2):
                P[r] = gens[apex[r], 1:]
            P[k - 2] = gens[ring[0], 1:]
            for i in range(1, ring.shape[0] - 1):
                P[k - 1] = gens[ring[i], 1:]
                P[k] = gens[ring[i + 1], 1:]
                total += _simplex_volume(P, M)
            continue
        a = f[0]
        new_apex = np.empty(apex.shape[0] + 1, np.int64)
        new_apex[: apex.shape[0]] = apex
        new_apex[apex.shape[0]] = a
        for facet in _facets_of_face(f, gen_inc_off, gen_inc):
            if np.any(facet == a):
                continue
            stack_faces.append(facet)
            stack_apex.append(new_apex)
    return total


@nb.njit(cache=True, nogil=True)
def large_volumes(offsets, members, dims, which, cells):
    """The volumes :func:`_face_volume` leaves as ``nan``: of the faces ``which[j]`` of more than
    64 generators, face ``i`` having the generators ``members[offsets[i]:offsets[i + 1]]`` of
    ``cells`` (a ``CellArrays``) and ``dims[i]`` dimensions (``inf`` if it has a ray).

    A kernel of its own, which the kernels on faces of at most 64 generators do not call:
    Numba loads a kernel's whole code, callees included, in each process that calls it, and
    this path (index sets and lists instead of bit masks) took 30 to 60 ms to load in each of
    the three kernels that carried it."""
    out = np.empty(which.shape[0])
    for j in range(which.shape[0]):
        i = which[j]
        face = members[offsets[i]: offsets[i + 1]].astype(np.int64)
        out[j] = np.inf
        if _point_or_edge(dims[i]):
            out[j] = _point_or_edge_volume(face, dims[i], cells.gens)
        elif np.all(cells.gens[face, 0] > 0):
            out[j] = _large_face_volume(face, dims[i], cells.gens, cells.inc_off, cells.inc)
    return out


@nb.njit(cache=True, nogil=True)
def large_facet_flags(cells, which, flags):
    """:func:`facets_and_volumes`' flags of the cells ``which`` of more than 64 generators (which
    it leaves false), into ``flags`` (one per constraint of ``cells``, in place); a kernel of
    its own for the reason :func:`large_volumes` gives."""
    for c in which:
        q0, q1 = cells.con_off[c], cells.con_off[c + 1]
        _large_facet_flags(np.arange(cells.gen_off[c], cells.gen_off[c + 1]), cells.gens, cells.inc_off, cells.inc,
                           cells.con_ids[q0:q1], flags[q0:q1])


def fill_cell_volumes(cells, volumes, flags=None):
    """Fill in what :func:`facets_and_volumes` (``volumes`` and ``flags``) or
    :func:`polytope_volumes` of every cell (``volumes``) leave: the volumes of cells of more than
    64 generators and, given ``flags``, their facets' flags (kernels of their own, see
    :func:`large_volumes`); then the volumes of bounded cells that came out beyond float64's
    range (:func:`_in_range`). ``cells`` is a ``CellArrays``; the arrays are filled in place."""
    large = _fill_large_cells(cells, np.arange(len(cells.gen_off) - 1), volumes)
    if len(large) and flags is not None:
        large_facet_flags(cells, large, flags)

    def of_points(j):  # the cells j, and whether theirs are all points
        return j, _all_points(cells.gens, cells.gen_off, j)

    _in_range(cells, volumes, cells.gens.shape[1] - 1, of_points, _cell_volumes, per_axis=True)


def _cell_volumes(cells, which):
    """The volumes of the cells ``which`` of ``cells`` (a ``CellArrays``), of any number of
    generators (``inf`` if unbounded)."""
    out = polytope_volumes(cells, which)
    _fill_large_cells(cells, which, out)
    return out


def _fill_large_cells(cells, which, volumes):
    """Into ``volumes`` (one per cell of ``which``), the volumes :func:`large_volumes` gives the
    cells of more than 64 generators among ``which``; returns those cells."""
    is_large = cells.gen_off[which + 1] - cells.gen_off[which] > 64
    large = which[is_large]
    if len(large):  # (as faces of their own generators: index arrays as long as theirs only)
        members, offsets = ranges(cells.gen_off, large)
        dims = np.full(len(large), cells.gens.shape[1] - 1, np.int8)
        volumes[is_large] = large_volumes(offsets, members, dims, np.arange(len(large)), cells)
    return large


def fill_face_volumes(faces, cells, which, volumes):
    """Fill in what :func:`face_volumes` of the :data:`CellFaces` ``faces[which]`` of ``cells``
    (``volumes``) leaves: the faces of more than 64 generators (:func:`large_volumes`); then the
    volumes of bounded faces that came out beyond float64's range (:func:`_in_range`). The
    array is filled in place."""
    _fill_large_faces(faces, cells, which, volumes)

    def again(scaled, j):  # the volumes of faces which[j] on the scaled generators
        out = face_volumes(faces, scaled, which[j])
        _fill_large_faces(faces, scaled, which[j], out)
        return out

    def of_points(j):  # the faces' cells, and whether their generators are all points
        return faces.cell[which[j]], _all_points(cells.gens, faces.gen_off, which[j], faces.members)

    _in_range(cells, volumes, faces.dim[which], of_points, again)


def _fill_large_faces(faces, cells, which, volumes):
    """Into ``volumes`` (one per face of ``which``), the volumes :func:`large_volumes` gives the
    faces of more than 64 generators among ``which``."""
    large = np.flatnonzero(faces.gen_off[which + 1] - faces.gen_off[which] > 64)
    if len(large):
        volumes[large] = large_volumes(faces.gen_off, faces.members, faces.dim, which[large], cells)


def _all_points(gens, offsets, which, members=None):
    """Per item ``i`` of ``which``, whether its generators ``gens[members[offsets[i]:offsets[i +
    1]]]`` are all points (none a ray); without ``members``, ``gens[offsets[i]:offsets[i + 1]]``
    (a cell's)."""
    rows, first = ranges(offsets, which)
    return np.logical_and.reduceat(gens[rows if members is None else members[rows], 0] > 0, first[:-1])


def _in_range(cells, volumes, dims, of_points, compute, per_axis=False):
    """Worked out again, the volumes of bounded items (cells or faces) of two dimensions and
    more that came out beyond float64's normal range, on their cells' coordinates scaled by
    powers of two.

    A polygon's area and a polytope's volume are sums of products of ``k`` coordinate
    differences: on coordinates of 1e200 they overflow (and a difference of two infinities is
    NaN), on coordinates of 1e-200 they underflow (to zero, or to a subnormal number that has
    lost bits; a pivot's inverse may overflow and make NaN), where the volume itself may be a
    float64 and is positive in any case. So item ``j`` (of ``dims[j]`` dimensions, or ``dims``
    for all; ``of_points(j)`` gives the items' cells of ``cells``, a ``CellArrays``, and whether
    their generators are all points) whose volume is not a normal positive finite number and
    whose generators are all points gets ``2^E v``: ``v`` is its volume by ``compute(scaled
    cells, indices j)`` on a copy of the generators with its cell's coordinates divided by
    ``2^e``, ``e`` the exponent of the cell's largest coordinate and ``E = k e`` (``per_axis``,
    for cells as wide as the space: each axis divided by its own largest, ``E`` the sum of the
    axes' exponents, so that a cell 1e200 long and 1e-290 wide is scaled to about 1 both ways);
    exactly, but for coordinates that fall below float64's normal range then, far below the
    largest. ``2^E v`` rounds once: to ``inf`` beyond float64's range, to 0 or a subnormal
    number below it. Where ``v`` is 0 or NaN the volume is left as it was: an item whose float
    generators collapsed onto fewer dimensions (a strip narrower than its coordinates' rounding)
    has no volume to read off them. (Lengths, ``k = 1``, are scaled where they are computed:
    ``_distance``.) ``volumes`` is changed in place."""
    normal = np.finfo(np.float64).tiny
    suspect = np.flatnonzero((np.asarray(dims) >= 2) & ~((volumes >= normal) & (volumes < np.inf)))
    if not len(suspect):
        return
    owner, bounded = of_points(suspect)
    suspect, owner = suspect[bounded], owner[bounded]
    if not len(suspect):
        return
    k = np.broadcast_to(np.asarray(dims, np.int64), volumes.shape)[suspect]
    scaled_cells = np.unique(owner)
    rows, first = ranges(cells.gen_off, scaled_cells)
    coords = cells.gens[rows, 1:]
    top = np.maximum.reduceat(np.abs(coords), first[:-1], axis=0)  # per cell and axis
    shift = np.frexp(top if per_axis else top.max(axis=1, keepdims=True))[1]
    gens = cells.gens.copy()
    gens[rows, 1:] = np.ldexp(coords, -np.repeat(shift, np.diff(first), axis=0))
    cell_of = np.searchsorted(scaled_cells, owner)
    exponent = shift[cell_of].sum(axis=1) if per_axis else shift[cell_of, 0] * k
    v = compute(cells._replace(gens=gens), suspect)
    with np.errstate(over="ignore", under="ignore"):
        volumes[suspect] = np.where(v > 0, np.ldexp(v, exponent), volumes[suspect])


@nb.njit(cache=True, nogil=True)
def polytope_volumes(cells, which):
    """Volume of each cell ``which`` of ``cells`` (a ``CellArrays``; ``inf`` if it has a ray;
    ``nan`` if it is bounded with more than 64 generators: see :func:`fill_cell_volumes`). It
    releases the GIL: threads may share the cells out."""
    d = cells.gens.shape[1] - 1
    masks, scratch = _volume_buffers(cells, which)
    vols = np.empty(which.shape[0])
    for i in range(which.shape[0]):
        c = which[i]
        vols[i] = _face_volume(np.arange(cells.gen_off[c], cells.gen_off[c + 1]), d, c, cells, masks, scratch)
    return vols


@nb.njit(**_JIT)
def _same_members(a, b):
    if a.shape[0] != b.shape[0]:
        return False
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return False
    return True


@nb.njit(**_JIT)
def _large_cell_faces(face, d, min_dim, gens, gen_inc_off, gen_inc):
    """:func:`cell_faces` of one cell of more than 64 generators ``face``, on sets of generator
    indices: the faces' dimensions and generator arrays, in the same order."""
    dims = []
    members = []
    level = [face]
    for k in range(d - 1, min_dim - 1, -1):
        below = []
        for f in level:
            for g in _facets_of_face(f, gen_inc_off, gen_inc):
                has_point = False
                for i in g:
                    has_point = has_point or gens[i, 0] > 0
                seen = False
                for h in below:
                    seen = seen or _same_members(h, g)
                if has_point and not seen:
                    below.append(g)
        for g in below:
            dims.append(k)
            members.append(g)
        level = below
    return dims, members


@nb.njit(inline='always', **_JIT)
def _require_int32_ids(cells, q0, q1):
    """Raise ``ValueError`` where the faces' int32 ids (:data:`CellFaces`) cannot hold the
    generators and cells of ``cells`` (a ``CellArrays``) or its constraint ids ``q0 .. q1 - 1``."""
    if cells.gens.shape[0] > _INT32_MAX or cells.gen_off.shape[0] > _INT32_MAX:
        raise ValueError("2^31 cells or generators or more: the faces' int32 ids cannot hold them")
    for q in range(q0, q1):
        if cells.con_ids[q] > _INT32_MAX:
            raise ValueError("a constraint id of 2^31 or more: the faces' int32 ids cannot hold it")


@nb.njit(cache=True, nogil=True)
def large_cell_faces(cells, min_dim, which):
    """:func:`cell_faces` of the cells ``which`` of more than 64 generators, which it leaves out,
    in the same form, on sets of generator indices instead of bit masks: a kernel of its own
    for the reason :func:`large_volumes` gives."""
    gens, gen_inc_off, gen_inc = cells.gens, cells.inc_off, cells.inc
    for c in which:
        _require_int32_ids(cells, cells.con_off[c], cells.con_off[c + 1])
    d = gens.shape[1] - 1
    f_cell, f_dim = np.empty(16, np.int32), np.empty(16, np.int8)
    gen_off, members = np.zeros(17, np.int64), np.empty(64, np.int32)
    tight_off, tight = np.zeros(17, np.int64), np.empty(64, np.int32)
    n = 0
    for c in which:
        g0, g1 = cells.gen_off[c], cells.gen_off[c + 1]
        dims, faces = _large_cell_faces(np.arange(g0, g1), d, min_dim, gens, gen_inc_off, gen_inc)
        for j in range(len(faces)):
            g = faces[j]
            f_cell, f_dim = _grow1(f_cell, n + 1), _grow1(f_dim, n + 1)
            gen_off, tight_off = _grow1(gen_off, n + 2), _grow1(tight_off, n + 2)
            f_cell[n], f_dim[n] = c, dims[j]
            members = _grow1(members, gen_off[n] + g.shape[0])
            for i in range(g.shape[0]):
                members[gen_off[n] + i] = g[i]
            gen_off[n + 1] = gen_off[n] + g.shape[0]
            t = gen_inc[gen_inc_off[g[0]]: gen_inc_off[g[0] + 1]].copy()
            m = t.shape[0]
            for i in range(1, g.shape[0]):
                start = gen_inc_off[g[i]]
                m = _intersect_ranges(t, 0, m, gen_inc, start, gen_inc_off[g[i] + 1] - start, t)
            tight = _grow1(tight, tight_off[n] + m)
            for i in range(m):
                tight[tight_off[n] + i] = t[i]
            tight_off[n + 1] = tight_off[n] + m
            n += 1
    return CellFaces(f_cell[:n], f_dim[:n], gen_off[: n + 1], members[: gen_off[n]], tight_off[: n + 1],
                     tight[: tight_off[n]])


@nb.njit(inline='always', **_JIT)
def _first_time(mask, keys, stamps, stamp, bits):
    """Whether ``mask`` is met for the first time since ``stamp`` began, in a table of ``2^bits``
    slots (``keys``, and the ``stamps`` of the slots in use: a new stamp empties the table
    without writing it); a first one is entered. Linear probing, Fibonacci hashing."""
    s = _slot(mask, bits)
    while stamps[s] == stamp:
        if keys[s] == mask:
            return False
        s = (s + 1) & ((1 << bits) - 1)
    stamps[s] = stamp
    keys[s] = mask
    return True


@nb.njit(**_JIT)
def cell_faces(cells, min_dim, lo, hi):
    """Every proper face of dimension ``>= min_dim`` of the cells ``lo .. hi - 1`` of ``cells`` (a
    ``CellArrays``) that holds a point (faces at infinity are left out), as :data:`CellFaces`.
    Faces of dimension ``k`` are the facets of the faces of dimension ``k + 1`` (in the order of
    the constraints that cut them out), each kept once per cell. Cells of up to 64 generators
    are worked on as bit masks over their generators; the faces already made at a level are
    looked up in a small hash table (a cube-like cell of r4_small meets each of its 24
    two-dimensional faces and 32 edges two or three times: a search of the list made the
    kernel 1.2 to 1.4 times as long). Larger cells are left out: see :func:`large_cell_faces`."""
    cell_gen_off, gens, gen_inc_off, gen_inc = cells.gen_off, cells.gens, cells.inc_off, cells.inc
    cell_con_off, con_ids = cells.con_off, cells.con_ids
    _require_int32_ids(cells, cell_con_off[lo], cell_con_off[hi])
    d = gens.shape[1] - 1
    f_cell, f_dim = np.empty(16, np.int32), np.empty(16, np.int8)
    gen_off, members = np.zeros(17, np.int64), np.empty(64, np.int32)
    tight_off, tight = np.zeros(17, np.int64), np.empty(64, np.int32)
    n = 0
    masks, facets, rel = np.empty(64, np.uint64), np.empty(64, np.uint64), np.empty((2, 64), np.int64)
    rel[0] = np.arange(64)
    level, below = np.empty(64, np.uint64), np.empty(64, np.uint64)
    keys, stamps, stamp = np.empty(256, np.uint64), np.zeros(256, np.int64), 0  # (_first_time)
    face = np.empty(64, np.int64)
    for c in range(lo, hi):
        g0, g1 = cell_gen_off[c], cell_gen_off[c + 1]
        q0, q1 = cell_con_off[c], cell_con_off[c + 1]
        if g1 - g0 > 64:  # (left to large_cell_faces)
            continue
        nq = q1 - q0
        masks, facets, rel = _mask_buffers(nq, masks, facets, rel)
        gen_ids = face[: g1 - g0]
        for i in range(g1 - g0):
            gen_ids[i] = g0 + i
        simple = _tight_masks(gen_ids, con_ids, q0, q1, gen_inc_off, gen_inc, masks, d)
        points = _point_mask(gen_ids, gens)
        simple = simple and points == _full_mask(g1 - g0)
        level[0] = _full_mask(g1 - g0)
        n_level = 1
        for k in range(d - 1, min_dim - 1, -1):
            n_below = 0
            below = _grow1(below, n_level * nq)  # each face has at most nq facets
            bits = 4  # a table at most half full
            while (1 << bits) < 2 * n_level * nq:
                bits += 1
            if keys.shape[0] < (1 << bits):
                keys, stamps = np.empty(1 << bits, np.uint64), np.zeros(1 << bits, np.int64)
            stamp += 1
            for li in range(n_level):
                for j in range(_facet_masks(level[li], masks, rel, 0, nq, facets, simple)[0]):
                    g = facets[j]
                    if (g & points) != 0 and _first_time(g, keys, stamps, stamp, bits):
                        below[n_below] = g
                        n_below += 1
            f_cell, f_dim = _grow1(f_cell, n + n_below), _grow1(f_dim, n + n_below)
            gen_off, tight_off = _grow1(gen_off, n + n_below + 1), _grow1(tight_off, n + n_below + 1)
            members = _grow1(members, gen_off[n] + n_below * (g1 - g0))
            tight = _grow1(tight, tight_off[n] + n_below * nq)
            for j in range(n_below):
                g = below[j]
                f_cell[n], f_dim[n] = c, k
                m = gen_off[n]
                x = g
                while x != 0:  # its generators, from the lowest bit
                    members[m] = g0 + _lowest_bit(x)
                    m += 1
                    x &= x - np.uint64(1)
                gen_off[n + 1] = m
                m = tight_off[n]
                for q in range(nq):
                    if (masks[q] & g) == g:
                        tight[m] = con_ids[q0 + q]
                        m += 1
                tight_off[n + 1] = m
                n += 1
            level, below = below, level
            n_level = n_below
    return CellFaces(f_cell[:n], f_dim[:n], gen_off[: n + 1], members[: gen_off[n]], tight_off[: n + 1],
                     tight[: tight_off[n]])


@nb.njit(**_JIT)
def face_volumes(faces, cells, which):
    """The ``dim[i]``-dimensional volume of the :data:`CellFaces` ``faces[which]`` of ``cells``
    (``inf`` if unbounded; ``nan`` for a bounded face of more than 64 generators and two
    dimensions or more: see :func:`fill_face_volumes`)."""
    masks, scratch = _volume_buffers(cells, faces.cell[which])
    out = np.empty(which.shape[0])
    members, gen_off, dim, gens = faces.members, faces.gen_off, faces.dim, cells.gens
    for j in range(which.shape[0]):
        i = which[j]
        face = members[gen_off[i]: gen_off[i + 1]]
        if _point_or_edge(dim[i]):  # (the points and edges, most faces: see _point_or_edge_volume)
            out[j] = _point_or_edge_volume(face, dim[i], gens)
        else:
            out[j] = _face_volume(face, dim[i], faces.cell[i], cells, masks, scratch)
    return out


@nb.njit(**_JIT)
def point_and_edge_volumes(faces, gens, which):
    """:func:`face_volumes` of points and edges only (the faces ``which`` of :data:`CellFaces`
    ``faces``, whose cells' generators are ``gens``): a kernel of its own, as Numba loads each
    kernel's whole code in every process, and :func:`face_volumes` carries the triangulation's
    (70-80 ms to load here, against a few for this one), which no point or edge needs: in 2-D,
    no face at all. A face of more dimensions raises ``ValueError``."""
    out = np.empty(which.shape[0])
    for j in range(which.shape[0]):
        i = which[j]
        if faces.dim[i] > 1:
            raise ValueError("a face of more than one dimension")
        out[j] = _point_or_edge_volume(faces.members[faces.gen_off[i]: faces.gen_off[i + 1]], faces.dim[i], gens)
    return out


@nb.njit(**_JIT)
def _set_bit(key, base, pos, on):
    """Set (or clear) bit ``pos`` of the bit string held in the words ``key[base:]``, where the
    string is ``np.packbits`` bytes read as little-endian 64-bit words."""
    byte = pos // 8
    shift = 8 * (byte % 8) + 7 - pos % 8
    w = base + byte // 8
    if on:
        key[w] |= np.uint64(1) << np.uint64(shift)
    else:
        key[w] &= ~(np.uint64(1) << np.uint64(shift))


@nb.njit(**_JIT)
def _face_key(i, face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain, key):
    """Write into ``key`` the sign vector of face ``i``, which names it across cells: per unit,
    whether it is zero on the face (tight, or identically zero on the cell), then which domain
    rows are tight (these two parts by :func:`_zero_and_rows`), then per unit whether it is
    positive there (on in the cell and not zero on the face). ``patterns`` and ``zeros`` are the
    cells' packed bits as 64-bit words; the key is words too.

    A face of one cell and a face of another have equal keys exactly when they are the same
    set of points: on the points with a given sign vector, every unit's pre-activation is the
    cell's affine map, so those points form one relatively open face of the cell. Constraint
    ids from ``unit_end`` on are not units and are left out.
    """
    nw = patterns.shape[1]
    c = face_cell[i]
    m = _zero_and_row_words(patterns, n_domain)
    _zero_and_rows(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, key[:m], nw)
    for w in range(nw):
        key[m + w] = patterns[c, w] & ~key[w]  # on in the cell, neither zero on it nor tight


@nb.njit(**_JIT)
def _zero_and_row_words(patterns, n_domain):
    """The words of a key's first two parts, its zero units and domain rows (see :func:`_face_key`)."""
    return patterns.shape[1] + (n_domain + 63) // 64


@nb.njit(**_JIT)
def _key_words(patterns, n_domain):
    return _zero_and_row_words(patterns, n_domain) + patterns.shape[1]


@nb.njit(**_JIT)
def face_hashes(which, names):
    """A 64-bit hash of the key (see ``_face_key``) of each face ``which`` (:data:`FaceNames`).

    The key's words are hashed in their order as they are worked out, without writing the
    key: only its first two parts are written (:func:`_zero_and_rows`), the units on read from
    the cell's pattern. On the faces of
    r2_big, r3_small and r4_small this took 0.6 to 0.8 of the time of writing the keys whole,
    for the same hashes."""
    face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain = names
    nw = patterns.shape[1]
    zero = np.empty(_zero_and_row_words(patterns, n_domain), np.uint64)
    out = np.empty(which.shape[0], np.uint64)
    for j in range(which.shape[0]):
        i = which[j]
        _zero_and_rows(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, zero, nw)
        c = face_cell[i]
        h = np.uint64(14695981039346656037)
        for w in range(zero.shape[0]):
            h = _mixed(h, zero[w])
        for w in range(nw):
            h = _mixed(h, patterns[c, w] & ~zero[w])
        out[j] = h
    return out


@nb.njit(inline='always', **_JIT)
def _zero_and_rows(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, out, nw):
    """The first two parts of face ``i``'s key (see :func:`_face_key`): its zero units and its
    domain rows, into ``out`` (``nw`` words, then the rows' words)."""
    for w in range(nw, out.shape[0]):
        out[w] = 0
    _zero_units(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, out, nw, nw)


@nb.njit(inline='always', **_JIT)
def _mixed(h, word):
    """One word into the hash ``h`` (FNV-1a's step on 64-bit words, high bits folded down)."""
    h = (h ^ word) * np.uint64(1099511628211)
    return h ^ (h >> np.uint64(29))


@nb.njit(**_JIT)
def faces_match(which, ref, names):
    """Whether every face ``which[j]`` has the same key as face ``ref[j]`` (:data:`FaceNames`).

    The keys are compared part by part without writing them out whole: the zero units and
    domain rows of both faces (the first two parts), then, where those agree, the units on in
    either cell and not zero (the last part: ``(pattern_a ^ pattern_b) & ~zero``). On
    the faces of r2_big, r3_small and r4_small this took 0.5 to 0.7 of the time that writing
    both keys and comparing them did."""
    face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain = names
    nw = patterns.shape[1]
    a = np.empty(_zero_and_row_words(patterns, n_domain), np.uint64)
    b = np.empty(a.shape[0], np.uint64)
    for j in range(which.shape[0]):
        i, k = which[j], ref[j]
        if i == k:
            continue
        _zero_and_rows(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, a, nw)
        _zero_and_rows(k, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, b, nw)
        for w in range(a.shape[0]):
            if a[w] != b[w]:
                return False
        ci, ck = face_cell[i], face_cell[k]
        for w in range(nw):
            if (patterns[ci, w] ^ patterns[ck, w]) & ~a[w]:
                return False
    return True


@nb.njit(**_JIT)
def face_keys(which, names):
    """The keys (see ``_face_key``) of the faces ``which`` (:data:`FaceNames`), one row of words
    each."""
    face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain = names
    out = np.empty((which.shape[0], _key_words(patterns, n_domain)), np.uint64)
    for j in range(which.shape[0]):
        _face_key(which[j], face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain,
                  out[j])
    return out


@nb.njit(**_JIT)
def face_key_bits(which, names):
    """Per face ``which[j]`` (:data:`FaceNames`), the units zero on it and the domain rows tight
    at it, increasing: the set bits of the first and the last part of its key (see
    ``_face_key``), as two pairs of CSR offsets and positions. They are written into arrays
    sized by upper bounds (the cell's zero units and two units per tight constraint; a row per
    tight constraint), then copied to their size; the domain rows in the order of the face's
    tight ids, which are increasing. Only the zero units are made, one face at a time: a table of
    every face's key is as large as the patterns of every face, and filling fresh memory is slow
    on some machines."""
    face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain = names
    n = which.shape[0]
    most_units = 0  # at most the cell's zero units and two units per tight constraint
    most_rows = 0  # at most one row per tight constraint
    for j in range(n):
        i = which[j]
        for w in range(zeros.shape[1]):
            most_units += _popcount(zeros[face_cell[i], w])
        most_units += 2 * (tight_off[i + 1] - tight_off[i])
        most_rows += tight_off[i + 1] - tight_off[i]
    zero = np.empty(patterns.shape[1], np.uint64)
    unit_off = np.zeros(n + 1, np.int64)
    row_off = np.zeros(n + 1, np.int64)
    unit_pos = np.empty(most_units, np.int64)
    row_pos = np.empty(most_rows, np.int64)
    q = 0
    r = 0
    for j in range(n):
        i = which[j]
        _zero_units(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, zero, zero.shape[0], -1)
        for w in range(zero.shape[0]):
            x = zero[w]
            if x == 0:
                continue
            for b in range(8):  # bytes in little-endian order, bits from the highest (np.packbits)
                v = (x >> np.uint64(8 * b)) & np.uint64(255)
                if v == 0:
                    continue
                for t in range(8):
                    if v & np.uint64(128 >> t):
                        unit_pos[q] = 64 * w + 8 * b + t
                        q += 1
        unit_off[j + 1] = q
        for k in range(tight_off[i], tight_off[i + 1]):
            cid = tight[k]
            if not (unit_start <= cid < unit_start + id_units.shape[0]) and cid < n_domain:  # as _zero_units
                row_pos[r] = cid
                r += 1
        row_off[j + 1] = r
    return unit_off, unit_pos[:q].copy(), row_off, row_pos[:r].copy()  # not views that keep the bound's size


@nb.njit(inline='always', **_JIT)
def _zero_units(i, face_cell, tight_off, tight, zeros, unit_start, id_units, n_domain, out, nw, rows_at):
    """The first part of face ``i``'s key (see ``_face_key``) into ``out[:nw]``: its cell's units
    that are identically zero, and the units of the constraints tight on it; and, where
    ``rows_at >= 0``, the bits of its tight domain rows set in ``out`` from word ``rows_at`` on,
    in the same pass."""
    c = face_cell[i]
    for w in range(nw):
        out[w] = zeros[c, w]
    for q in range(tight_off[i], tight_off[i + 1]):
        cid = tight[q]
        if unit_start <= cid < unit_start + id_units.shape[0]:
            for s in range(2):
                _set_bit(out, 0, id_units[cid - unit_start, s], True)
        elif rows_at >= 0 and cid < n_domain:
            _set_bit(out, rows_at, cid, True)


@nb.njit(inline='always', **_JIT)
def _popcount(x):
    """The number of set bits of the 64-bit word ``x``."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))
