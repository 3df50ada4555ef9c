"""Numba kernels on finished cells: their face lattices, facets and volumes.

A cell's faces are found from incidence alone: the facets of a face are its maximal proper
subsets of generators tight on a common constraint, and faces of lower dimension are facets of
facets. Volumes come from a pulling triangulation of that lattice.
"""
from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

from .splitting import _grow1, _intersect_ranges

__all__ = ["CellFaces", "FaceNames", "cell_faces", "cell_facets", "face_hashes", "face_keys",
           "face_volumes", "faces_match", "facet_flags", "polytope_volumes", "set_bits_csr"]

_JIT = dict(cache=True)

#: Faces of cells: per face its ``cell``, its ``dim``ension, its generators
#: ``members[gen_off[i]:gen_off[i+1]]`` (increasing) and the constraint ids tight on all of it
#: ``tight[tight_off[i]:tight_off[i+1]]`` (increasing).
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
def _tight_sets(face, gen_inc_off, gen_inc):
    """For the generators ``face``: the constraint ids tight at any of them, which of the face's
    generators each is tight at (``member[k, i]``), and how many (``size[k]``)."""
    ids_n = 0
    for g in face:
        ids_n += gen_inc_off[g + 1] - gen_inc_off[g]
    ids = np.empty(ids_n, np.int64)
    ids_n = 0
    for g in face:
        for q in range(gen_inc_off[g], gen_inc_off[g + 1]):
            ids[ids_n] = gen_inc[q]
            ids_n += 1
    ids = np.unique(ids)
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


@nb.njit(**_JIT)
def facet_flags(cells):
    """For every constraint listed on a cell of ``cells`` (a ``CellArrays``), whether it carries
    a facet of the cell: its tight set is maximal among all tight sets and holds at least one
    point (not only rays)."""
    cell_gen_off, gens, gen_inc_off, gen_inc = cells.gen_off, cells.gens, cells.inc_off, cells.inc
    cell_con_off, con_ids = cells.con_off, cells.con_ids
    flags = np.zeros(con_ids.shape[0], np.bool_)
    for c in range(cell_gen_off.shape[0] - 1):
        face = np.arange(cell_gen_off[c], cell_gen_off[c + 1])
        ids, member, size = _tight_sets(face, gen_inc_off, gen_inc)
        keep = _maximal_proper(member, size)
        for q in range(cell_con_off[c], cell_con_off[c + 1]):
            k = np.searchsorted(ids, con_ids[q])
            if k < ids.shape[0] and ids[k] == con_ids[q] and keep[k]:
                for i in range(face.shape[0]):
                    if member[k, i] and gens[face[i], 0] > 0:
                        flags[q] = True
                        break
    return flags


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
def face_volume(face, k, gens, gen_inc_off, gen_inc):
    """k-dimensional volume of the bounded k-face with generators ``face``, by a pulling
    triangulation: vol(F) = sum over facets G of F not containing apex a of vol(conv(a, G)), down
    to polygons, which are fanned into triangles. ``inf`` if the face has a ray."""
    for g in face:
        if gens[g, 0] == 0:
            return np.inf
    if k == 0:
        return 1.0
    if k == 1:
        return np.sqrt(np.sum((gens[face[1], 1:] - gens[face[0], 1:]) ** 2))
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


@nb.njit(**_JIT)
def polytope_volumes(cells):
    """Volume of each cell of ``cells`` (a ``CellArrays``; ``inf`` if it has a ray)."""
    cell_gen_off, gens, gen_inc_off, gen_inc = cells.gen_off, cells.gens, cells.inc_off, cells.inc
    n_cells = cell_gen_off.shape[0] - 1
    d = gens.shape[1] - 1
    vols = np.zeros(n_cells)
    for c in range(n_cells):
        vols[c] = face_volume(np.arange(cell_gen_off[c], cell_gen_off[c + 1]), d, gens,
                              gen_inc_off, gen_inc)
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
def cell_faces(cells, min_dim):
    """Every proper face of dimension ``>= min_dim`` of every cell of ``cells`` (a
    ``CellArrays``) that holds a point (faces at infinity are left out), as :data:`CellFaces`.
    Faces of dimension ``k`` are the facets of the faces of dimension ``k + 1``, each kept once
    per cell.
    """
    cell_gen_off, gens, gen_inc_off, gen_inc = cells.gen_off, cells.gens, cells.inc_off, cells.inc
    d = gens.shape[1] - 1
    f_cell = []
    f_dim = []
    f_gens = []
    for c in range(cell_gen_off.shape[0] - 1):
        level = [np.arange(cell_gen_off[c], cell_gen_off[c + 1])]
        for k in range(d - 1, min_dim - 1, -1):
            below = []
            for f in level:
                for g in _facets_of_face(f, gen_inc_off, gen_inc):
                    has_point = False
                    for i in g:
                        if gens[i, 0] > 0:
                            has_point = True
                            break
                    if not has_point:
                        continue
                    seen = False
                    for h in below:
                        if _same_members(h, g):
                            seen = True
                            break
                    if not seen:
                        below.append(g)
            for g in below:
                f_cell.append(c)
                f_dim.append(k)
                f_gens.append(g)
            level = below
    n = len(f_gens)
    gen_off = np.zeros(n + 1, np.int64)
    for i in range(n):
        gen_off[i + 1] = gen_off[i] + f_gens[i].shape[0]
    members = np.empty(gen_off[n], np.int64)
    tight_off = np.zeros(n + 1, np.int64)
    tight_parts = []
    for i in range(n):
        g = f_gens[i]
        members[gen_off[i]: gen_off[i + 1]] = g
        t = gen_inc[gen_inc_off[g[0]]: gen_inc_off[g[0] + 1]].copy()
        m = t.shape[0]
        for j in range(1, g.shape[0]):
            start = gen_inc_off[g[j]]
            m = _intersect_ranges(t, 0, m, gen_inc, start, gen_inc_off[g[j] + 1] - start, t)
        tight_parts.append(t[:m])
        tight_off[i + 1] = tight_off[i] + m
    tight = np.empty(tight_off[n], np.int64)
    for i in range(n):
        tight[tight_off[i]: tight_off[i + 1]] = tight_parts[i]
    return CellFaces(np.array(f_cell, np.int64), np.array(f_dim, np.int64), gen_off, members,
                     tight_off, tight)


@nb.njit(**_JIT)
def face_volumes(faces, cells, which):
    """The ``dim[i]``-dimensional volume of the :data:`CellFaces` ``faces[which]`` of ``cells``
    (``inf`` if unbounded)."""
    face_gen_off, face_gens, face_dim = faces.gen_off, faces.members, faces.dim
    gens, gen_inc_off, gen_inc = cells.gens, cells.inc_off, cells.inc
    out = np.empty(which.shape[0])
    for j in range(which.shape[0]):
        i = which[j]
        out[j] = face_volume(face_gens[face_gen_off[i]: face_gen_off[i + 1]], face_dim[i], gens,
                             gen_inc_off, gen_inc)
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
    whether it is zero on the face (tight, or identically zero on the cell) and whether it is
    positive there (on in the cell and not tight), then which domain rows are tight. ``patterns``
    and ``zeros`` are the cells' packed bits as 64-bit words; the key is words too.

    A face of one cell and a face of another have equal keys exactly when they are the same
    set of points: on the points with a given sign vector, every unit's pre-activation is the
    cell's affine map, so those points form one relatively open face of the cell. Constraint
    ids from ``unit_end`` on are not units and are left out.
    """
    nw = patterns.shape[1]
    c = face_cell[i]
    for w in range(nw):
        key[w] = zeros[c, w]
        key[nw + w] = patterns[c, w] & ~zeros[c, w]
    for w in range(2 * nw, key.shape[0]):
        key[w] = 0
    for q in range(tight_off[i], tight_off[i + 1]):
        cid = tight[q]
        if unit_start <= cid < unit_start + id_units.shape[0]:
            for s in range(2):
                u = id_units[cid - unit_start, s]
                _set_bit(key, 0, u, True)
                _set_bit(key, nw, u, False)
        elif cid < n_domain:
            _set_bit(key, 2 * nw, cid, True)


@nb.njit(**_JIT)
def _key_words(patterns, n_domain):
    return 2 * patterns.shape[1] + (n_domain + 63) // 64


@nb.njit(**_JIT)
def face_hashes(which, names):
    """A 64-bit hash of the key (see ``_face_key``) of each face ``which`` (:data:`FaceNames`)."""
    face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain = names
    key = np.empty(_key_words(patterns, n_domain), np.uint64)
    out = np.empty(which.shape[0], np.uint64)
    for j in range(which.shape[0]):
        _face_key(which[j], face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain, key)
        h = np.uint64(14695981039346656037)
        for x in key:
            h = (h ^ x) * np.uint64(1099511628211)
            h ^= h >> np.uint64(29)
        out[j] = h
    return out


@nb.njit(**_JIT)
def faces_match(which, ref, names):
    """Whether every face ``which[j]`` has the same key as face ``ref[j]`` (:data:`FaceNames`)."""
    face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain = names
    m = _key_words(patterns, n_domain)
    a = np.empty(m, np.uint64)
    b = np.empty(m, np.uint64)
    for j in range(which.shape[0]):
        if which[j] == ref[j]:
            continue
        _face_key(which[j], face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain, a)
        _face_key(ref[j], face_cell, tight_off, tight, patterns, zeros, unit_start, id_units, n_domain, b)
        for q in range(m):
            if a[q] != b[q]:
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
def set_bits_csr(rows, lo, hi):
    """The positions of the set bits (``np.packbits`` order) in bytes ``lo:hi`` of each row, as
    CSR offsets and positions."""
    n = rows.shape[0]
    off = np.zeros(n + 1, np.int64)
    for i in range(n):
        cnt = 0
        for j in range(lo, hi):
            v = rows[i, j]
            while v:
                cnt += v & 1
                v >>= 1
        off[i + 1] = off[i] + cnt
    pos = np.empty(off[n], np.int64)
    for i in range(n):
        q = off[i]
        for j in range(lo, hi):
            v = rows[i, j]
            for b in range(8):
                if v & (1 << (7 - b)):
                    pos[q] = 8 * (j - lo) + b
                    q += 1
    return off, pos


@nb.njit(**_JIT)
def cell_facets(cells):
    """The facets of every cell, as :func:`cell_faces` gives them for ``min_dim = d - 1``, but
    with generator sets as bit masks (cells of up to 64 generators; larger ones go through
    :func:`cell_faces`). Returns the :data:`CellFaces`, and the cells left for
    :func:`cell_faces`."""
    cell_gen_off, gens, gen_inc_off, gen_inc = cells.gen_off, cells.gens, cells.inc_off, cells.inc
    cell_con_off, con_ids = cells.con_off, cells.con_ids
    n_cells = cell_gen_off.shape[0] - 1
    d = gens.shape[1] - 1
    f_cell = np.empty(16, np.int64)
    f_gen_off = np.zeros(17, np.int64)
    f_gens = np.empty(64, np.int64)
    f_tight_off = np.zeros(17, np.int64)
    f_tight = np.empty(64, np.int64)
    big = np.empty(0, np.int64)
    n_big = 0
    nf = 0
    masks = np.empty(64, np.uint64)
    for c in range(n_cells):
        g0 = cell_gen_off[c]
        ng = cell_gen_off[c + 1] - g0
        q0 = cell_con_off[c]
        nq = cell_con_off[c + 1] - q0
        if ng > 64:
            big = _grow1(big, n_big + 1)
            big[n_big] = c
            n_big += 1
            continue
        masks = _grow1(masks, nq)
        masks[:nq] = 0
        points = np.uint64(0)
        for i in range(ng):
            bit = np.uint64(1) << np.uint64(i)
            if gens[g0 + i, 0] > 0:
                points |= bit
            for t in range(gen_inc_off[g0 + i], gen_inc_off[g0 + i + 1]):
                k = np.searchsorted(con_ids[q0: q0 + nq], gen_inc[t])
                masks[k] |= bit
        full = (np.uint64(1) << np.uint64(ng)) - np.uint64(1) if ng < 64 else ~np.uint64(0)
        for k in range(nq):
            m = masks[k]
            if m == 0 or m == full or (m & points) == 0:
                continue
            facet = True
            for k2 in range(nq):
                m2 = masks[k2]
                if m2 == full or m2 == m:
                    continue
                if (m & m2) == m:  # strictly inside another tight set: not maximal
                    facet = False
                    break
            if not facet:
                continue
            first = True  # coinciding constraints: keep the facet once, at its first id
            for k2 in range(k):
                if masks[k2] == m:
                    first = False
                    break
            if not first:
                continue
            f_cell = _grow1(f_cell, nf + 1)
            f_gen_off = _grow1(f_gen_off, nf + 2)
            f_tight_off = _grow1(f_tight_off, nf + 2)
            f_cell[nf] = c
            n = f_gen_off[nf]
            for i in range(ng):
                if m & (np.uint64(1) << np.uint64(i)):
                    f_gens = _grow1(f_gens, n + 1)
                    f_gens[n] = g0 + i
                    n += 1
            f_gen_off[nf + 1] = n
            n = f_tight_off[nf]
            for k2 in range(nq):
                if (masks[k2] & m) == m:
                    f_tight = _grow1(f_tight, n + 1)
                    f_tight[n] = con_ids[q0 + k2]
                    n += 1
            f_tight_off[nf + 1] = n
            nf += 1
    faces = CellFaces(f_cell[:nf], np.full(nf, d - 1, np.int64), f_gen_off[: nf + 1], f_gens[: f_gen_off[nf]],
                      f_tight_off[: nf + 1], f_tight[: f_tight_off[nf]])
    return faces, big[:n_big]
