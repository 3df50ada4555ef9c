"""The faces of the subdivision of a domain into activation regions, and the region graph.

Every face of every region is named by its sign vector: per unit, zero, positive or negative
on the face's relative interior, plus the domain rows it lies on (``_geometry.face_keys``).
Equal names mean equal faces, so faces shared by several regions are found by sorting names,
with no coordinate comparisons: the result is exact whenever the enumeration's signs are.
"""
from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.optimize import linprog

from ._geometry import cell_faces, cell_facets, face_hashes, face_keys, face_volumes, faces_match, set_bits_csr
from .cells import _ranges, offsets_of, per_cell_count
from .errors import RegionEnumError

__all__ = ["FaceSet", "Faces", "compute_faces", "adjacency_graph", "expected_euler_characteristic"]


@dataclass
class FaceSet:
    """The ``k``-dimensional faces of the subdivision (``n`` of them), in CSR arrays.

    - ``vertex_offsets``, ``vertex_ids``: the vertices (indices into ``Faces.vertices``) of each
      face; an unbounded face lists the vertices it has.
    - ``region_offsets``, ``region_ids``: the regions whose boundary contains the face.
    - ``unit_offsets``, ``unit_ids``: the units (pattern indices) zero on the face.
    - ``domain_offsets``, ``domain_rows``: the rows of the domain's ``A`` the face lies on
      (none for a face inside the domain).
    - ``volumes``: each face's ``k``-dimensional volume (``inf`` if unbounded).
    """

    dim: int
    vertex_offsets: np.ndarray
    vertex_ids: np.ndarray
    region_offsets: np.ndarray
    region_ids: np.ndarray
    unit_offsets: np.ndarray
    unit_ids: np.ndarray
    domain_offsets: np.ndarray
    domain_rows: np.ndarray
    volumes: np.ndarray

    def __len__(self) -> int:
        return len(self.volumes)

    @property
    def on_boundary(self) -> np.ndarray:
        """Per face, whether it lies on the domain's boundary."""
        return np.diff(self.domain_offsets) > 0

    def vertices_of(self, i: int) -> np.ndarray:
        return self.vertex_ids[self.vertex_offsets[i]: self.vertex_offsets[i + 1]]

    def regions_of(self, i: int) -> np.ndarray:
        return self.region_ids[self.region_offsets[i]: self.region_offsets[i + 1]]

    def units_of(self, i: int) -> np.ndarray:
        return self.unit_ids[self.unit_offsets[i]: self.unit_offsets[i + 1]]

    def domain_rows_of(self, i: int) -> np.ndarray:
        return self.domain_rows[self.domain_offsets[i]: self.domain_offsets[i + 1]]


@dataclass
class Faces:
    """All faces of the subdivision: ``by_dim[k]`` for ``k = 0 .. d - 1`` (the regions are the
    ``d``-faces), ``vertices`` the coordinates of the 0-faces, ``f_vector`` the counts
    ``(f_0, ..., f_d)``."""

    by_dim: list
    vertices: np.ndarray
    n_regions: int

    @property
    def dim(self) -> int:
        return len(self.by_dim)

    @property
    def f_vector(self) -> np.ndarray:
        return np.array([len(f) for f in self.by_dim] + [self.n_regions], np.int64)

    @property
    def euler_characteristic(self) -> int:
        """``sum_k (-1)^k f_k``; equals :func:`expected_euler_characteristic` of the domain for a
        complete subdivision (1 for every bounded domain)."""
        f = self.f_vector
        return int(np.sum(f * (-1) ** np.arange(len(f))))

    @property
    def edges(self) -> np.ndarray:
        """``(E, 2)`` vertex indices of each edge; ``-1`` for the missing end of an unbounded
        edge (both ``-1`` for a line)."""
        if self.dim == 1:
            raise RegionEnumError("in one dimension the edges are the regions")
        e = self.by_dim[1]
        out = np.full((len(e), 2), -1, np.int64)
        counts = np.diff(e.vertex_offsets)
        for slot in range(2):
            has = counts > slot
            out[has, slot] = e.vertex_ids[e.vertex_offsets[:-1][has] + slot]
        return out


def _instances(cells, cell_region, ids, network, min_dim: int):
    """Every face of dimension ``>= min_dim`` of every cell, with what names it and its region.
    Constraint ids past the units and ties (cuts finer than the regions') are not part of
    names."""
    f_cell, f_dim, gen_off, members, tight_off, tight = _cell_faces(cells, min_dim)
    # faces lying on an artificial cut (pieces of unbounded domains) are not faces of regions
    artificial = ids.is_artificial(tight)
    bad = np.zeros(len(f_cell), bool)
    if artificial.any():
        owner = np.repeat(np.arange(len(f_cell)), np.diff(tight_off))
        bad[owner[artificial]] = True
    units = np.arange(network.n_units)
    id_units = np.concatenate([np.stack([units, units], axis=1), network.tie_units])
    key_args = (f_cell, tight_off, tight, _words(cells.packed), _words(cells.zero), ids.unit_start,
                id_units, ids.n_domain)
    return dict(dim=f_dim, gen_off=gen_off, members=members, key_args=key_args, keep=~bad,
                region=cell_region[f_cell])


def _cell_faces(cells, min_dim):
    """:func:`cell_faces` for all cells; for facets alone, the faster bit-mask kernel, with
    cells of more than 64 generators left to the general one."""
    d = cells.gens.shape[1] - 1
    if min_dim < d - 1:
        return cell_faces(cells.gen_off, cells.gens, cells.inc_off, cells.inc, min_dim)
    *fast, big = cell_facets(cells.gen_off, cells.gens, cells.inc_off, cells.inc, cells.con_off,
                             cells.con_ids)
    if not len(big):
        return tuple(fast)
    sub = cells.take(big)
    f_cell, f_dim, gen_off, members, tight_off, tight = cell_faces(
        sub.gen_off, sub.gens, sub.inc_off, sub.inc, min_dim)
    original_gen = _ranges(cells.gen_off, big)[0]
    slow = (big[f_cell], f_dim, gen_off, original_gen[members], tight_off, tight)
    return (np.concatenate([fast[0], slow[0]]), np.concatenate([fast[1], slow[1]]),
            np.concatenate([fast[2], fast[2][-1] + slow[2][1:]]), np.concatenate([fast[3], slow[3]]),
            np.concatenate([fast[4], fast[4][-1] + slow[4][1:]]), np.concatenate([fast[5], slow[5]]))


def _words(packed):
    """Packed bit rows as little-endian 64-bit words (zero padded)."""
    n, m = packed.shape
    out = np.zeros((n, 8 * ((m + 7) // 8)), np.uint8)
    out[:, :m] = packed
    return out.view("<u8")


def compute_faces(regions, min_dim: int = 0) -> Faces:
    """The faces of dimensions ``min_dim .. d - 1`` of the subdivision (lower ones left empty)."""
    _require_complete(regions, "faces")
    d = regions.dim
    cells = regions.cells
    ids = regions.constraint_ids
    inst = _instances(cells, regions.cell_region, ids, regions.network, min_dim)
    n_words = _words(cells.packed[:0]).shape[1]
    vertex_of_gen = np.full(len(cells.gens), -1, np.int64)
    vertices = np.zeros((0, d))
    by_dim = []
    for k in range(d):
        if k < min_dim:
            by_dim.append(_empty_faceset(k))
            continue
        sel = np.flatnonzero((inst["dim"] == k) & inst["keep"])
        face_of, first = _group(sel, inst["key_args"])
        n = len(first)
        rep = sel[first]
        keys = face_keys(rep, *inst["key_args"]).view(np.uint8)
        region = inst["region"][sel]
        # the regions around each face, each once, in increasing order
        pairs = np.sort(face_of * len(regions) + region)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
        region_offsets = offsets_of(np.bincount(pairs // len(regions), minlength=n))
        # volume: the instances from one region (its pieces, on unbounded domains, are disjoint)
        own = region == region[first][face_of]
        vols = face_volumes(inst["gen_off"], inst["members"], inst["dim"], cells.gens,
                            cells.inc_off, cells.inc, sel[own])
        volumes = np.bincount(face_of[own], weights=vols, minlength=n)
        gsel, gen_offsets = _ranges(inst["gen_off"], rep)
        if k == 0:
            vertex_of_gen[inst["members"][inst["gen_off"][sel]]] = face_of
            vertices = cells.gens[inst["members"][inst["gen_off"][rep]], 1:]
        vertex_ids = vertex_of_gen[inst["members"][gsel]]
        real = vertex_ids >= 0
        by_dim.append(FaceSet(k, offsets_of(per_cell_count(real, gen_offsets)), vertex_ids[real],
                              region_offsets, pairs % len(regions),
                              *set_bits_csr(keys, 0, 8 * n_words),
                              *set_bits_csr(keys, 16 * n_words, keys.shape[1]), volumes))
    return Faces(by_dim, vertices, len(regions))


def _empty_faceset(k):
    z = np.zeros(1, np.int64)
    e = np.zeros(0, np.int64)
    return FaceSet(k, z, e, z, e, z, e, z, e, np.zeros(0))


def _group(faces, key_args):
    """Group the ``faces`` (cell faces) by name: the group of each and the first of each group.
    Names are compared by a 64-bit hash, checked against the names themselves (a collision
    falls back to sorting whole names)."""
    group, first = _group_sorted(face_hashes(faces, *key_args))
    if not faces_match(faces, faces[first[group]], *key_args):
        keys = face_keys(faces, *key_args)
        group, first = _group_sorted(keys.view(f"V{8 * keys.shape[1]}").ravel())
    return group, first


def _group_sorted(values):
    """Group equal ``values``: groups numbered in increasing value, first occurrence of each."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    new = np.r_[True, v[1:] != v[:-1]]
    group = np.empty(len(values), np.int64)
    group[order] = np.cumsum(new) - 1
    return group, order[new]


def renumber_by_first(labels):
    """Renumber labels ``0, 1, ...`` in the order of their first occurrence."""
    if not len(labels):
        return labels
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[np.searchsorted(np.unique(labels), labels)]


def _require_complete(regions, what):
    if not regions.complete:
        raise RegionEnumError(f"{what} need a complete enumeration; this one stopped early "
                              f"({regions.stop_reason})")


def adjacency_graph(regions, faces: Faces | None = None) -> nx.Graph:
    """The regions as nodes, an edge wherever two regions share a facet; see
    :meth:`Regions.adjacency_graph`."""
    d = regions.dim
    if faces is None:
        faces = compute_faces(regions, min_dim=d - 1)
    facets = faces.by_dim[d - 1]
    counts = np.diff(facets.region_offsets)
    if np.any(counts > 2):
        raise RegionEnumError("a facet is shared by more than two regions: the enumeration is "
                              "inconsistent (please report this network)")
    net = regions.network
    unit_pairs = list(zip(net.unit_layer.tolist(), net.unit_index.tolist()))
    boundary = [[] for _ in range(len(regions))]
    for f in np.flatnonzero(counts == 1):
        boundary[facets.region_ids[facets.region_offsets[f]]].append(
            (tuple(facets.domain_rows_of(f).tolist()), float(facets.volumes[f])))
    G = nx.Graph()
    with _gc_paused():
        _fill_graph(G, regions, facets, counts, boundary, unit_pairs)
    return G


@contextlib.contextmanager
def _gc_paused():
    """Building millions of small attribute dicts would trigger the cyclic garbage collector
    over and over (it scans the growing graph each time); none of them form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fill_graph(G, regions, facets, counts, boundary, unit_pairs):
    patterns = regions.patterns
    G.add_nodes_from((i, dict(pattern=patterns[i], interior_point=regions.interior_points[i],
                              volume=float(regions.volumes[i]), bounded=bool(regions.bounded[i]),
                              boundary_facets=boundary[i]))
                     for i in range(len(regions)))
    two = np.flatnonzero(counts == 2)
    a, b = (facets.region_ids[facets.region_offsets[two] + s] for s in (0, 1))
    # the units zero on each shared facet, and which of them differ between its two regions
    tsel, toff = _ranges(facets.unit_offsets, two)
    units = facets.unit_ids[tsel]
    owner = np.repeat(np.arange(len(two)), np.diff(toff))
    flips = patterns[a[owner], units] != patterns[b[owner], units]
    foff = offsets_of(per_cell_count(flips, toff))
    units_l, flips_l = units.tolist(), units[flips].tolist()
    toff_l, foff_l = toff.tolist(), foff.tolist()
    vols = facets.volumes[two].tolist()
    lone = [(p,) for p in unit_pairs]  # shared: most facets carry one unit, and tuples are immutable

    def unit_tuple(us):
        return lone[us[0]] if len(us) == 1 else tuple(unit_pairs[u] for u in us)

    G.add_edges_from(
        (ai, bi, dict(units=unit_tuple(flips_l[foff_l[e]: foff_l[e + 1]]),
                      tight=unit_tuple(units_l[toff_l[e]: toff_l[e + 1]]), volume=vols[e]))
        for e, (ai, bi) in enumerate(zip(a.tolist(), b.tolist())))


def expected_euler_characteristic(domain) -> int:
    """``sum_k (-1)^k f_k`` of any polyhedral subdivision of the domain: 1 if bounded,
    ``(-1)^l`` if it is a bounded set plus an ``l``-dimensional space of lines, else 0."""
    A = domain.A
    if domain.is_bounded:
        return 1
    lineality = domain.dim - (np.linalg.matrix_rank(A) if len(A) else 0)
    if len(A) == 0:
        return (-1) ** domain.dim
    # directions y with A y <= 0 and some (A y)_i < 0 make the line-free part unbounded
    res = linprog(np.sum(A, axis=0), A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1, 1)] * domain.dim,
                  method="highs")
    return 0 if res.fun < -1e-9 else (-1) ** lineality
