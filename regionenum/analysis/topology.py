"""Polyhedral complexes built from the face lattice, their cuts by a function, and their homology.

A :class:`PolyhedralComplex` holds bounded convex cells of dimensions ``0 .. dim``: per
dimension ``k`` a sparse boolean matrix of each ``k``-cell's vertices, one of its facets (the
``(k - 1)``-cells on its boundary: the Hasse diagram) and one of the activation regions holding
it. The subdivision of a bounded domain into regions is one (:func:`subdivision_complex`, from
:meth:`Regions.faces <regionenum.Regions.faces>`: faces are matched by their exact sign-vector
names, and a face ``G`` lies on a face ``F`` exactly when ``G``'s vertices are among ``F``'s, the
subdivision being face to face).

Cutting a complex by a function that is affine on every cell and continuous, given the sign of
``f`` at every vertex (:func:`cut_complex`), gives the complex of ``{f <= 0}`` or of ``{f = 0}``
with no coordinate comparison: a cell with a positive and a negative vertex is *mixed* and splits
into ``F- = F ∩ {f <= 0}`` and ``Fc = F ∩ {f = 0}`` (one dimension less); a cell without positive
vertices lies in ``{f <= 0}``; one with only zero vertices in ``{f = 0}``. The new vertices are
the cuts of the mixed edges, named by their edge, so cells sharing them share them by index.
The facets of ``F-`` are ``Fc``, the cuts ``G-`` of its mixed facets and its facets without
positive vertices; those of ``Fc`` are the cuts ``Gc`` of its mixed facets and the
``(dim F - 2)``-faces of ``F`` with only zero vertices.

Cells are convex polytopes, so the complex is regular and its cellular homology over GF(2)
comes from the ranks of the facet matrices mod 2 (:func:`betti_numbers`). Over GF(2) the Betti
numbers equal the rational ones for subsets of ``R^3`` and below (their homology has no
torsion).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InvalidDomainError
from .faces import require_complete

if TYPE_CHECKING:  # scipy is imported by the functions that use it: a third of the package's import
    import scipy.sparse as sp

__all__ = ["VertexStore", "PolyhedralComplex", "require_polytopes", "subdivision_complex", "cut_complex",
           "betti_numbers", "gf2_rank", "cell_volumes", "csr_rows", "polygon_cycles"]


@dataclass
class VertexStore:
    """Every vertex any complex of one result made, and where it comes from (shared by a
    complex and its cuts): ``coords`` (float64), ``generator`` (a vertex of the subdivision: a
    generator of the result's cells, else -1), ``parents`` (a cut vertex: the store ids of the
    ends of the edge it cuts, else -1), ``function`` (the cut's function, an index into
    ``functions``), ``region`` (an activation region holding it)."""

    coords: np.ndarray
    generator: np.ndarray
    parents: np.ndarray
    function: np.ndarray
    region: np.ndarray
    functions: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.coords)

    def add(self, coords, parents, function, region) -> np.ndarray:
        """Append cut vertices; returns their store ids."""
        start = len(self)
        n = len(coords)
        added = np.asarray(coords, np.float64).reshape(n, self.coords.shape[1])
        self.coords = np.concatenate([self.coords, added])
        self.generator = np.concatenate([self.generator, np.full(n, -1, np.int64)])
        self.parents = np.concatenate([self.parents, np.asarray(parents, np.int64).reshape(n, 2)])
        self.function = np.concatenate([self.function, np.full(n, function, np.int64)])
        self.region = np.concatenate([self.region, np.asarray(region, np.int64)])
        return np.arange(start, start + n)


@dataclass
class PolyhedralComplex:
    """Bounded convex cells of dimensions ``0 .. dim``, see the module's text.

    Attributes
    ----------
    store : VertexStore
        Where the vertices come from (exact coordinates are recomputed from it).
    vertex_ids : ndarray of int, shape (V,)
        Each vertex's id in ``store``.
    incidence : list of scipy.sparse.csr_matrix
        ``incidence[k]`` is ``(n_k, V)``: the vertices of each ``k``-cell (``k = 0``: identity).
    facets : list of scipy.sparse.csr_matrix
        ``facets[k]`` is ``(n_k, n_{k-1})``: the facets of each ``k``-cell (``facets[0]`` empty).
    regions : list of scipy.sparse.csr_matrix
        ``regions[k]`` is ``(n_k, n_regions)``: the activation regions holding each cell.
    """

    store: VertexStore
    vertex_ids: np.ndarray
    incidence: list
    facets: list
    regions: list

    @property
    def dim(self) -> int:
        """The largest dimension of a cell (-1 when empty)."""
        counts = self.f_vector
        nonzero = np.flatnonzero(counts)
        return int(nonzero[-1]) if len(nonzero) else -1

    @property
    def f_vector(self) -> np.ndarray:
        """``(n_0, n_1, ...)``: cells per dimension."""
        return np.array([m.shape[0] for m in self.incidence], np.int64)

    @property
    def vertices(self) -> np.ndarray:
        """``(V, d)`` float coordinates of the vertices."""
        return self.store.coords[self.vertex_ids]

    @property
    def euler_characteristic(self) -> int:
        """``sum_k (-1)^k n_k``."""
        f = self.f_vector
        return int(np.sum(f * (-1) ** np.arange(len(f))))

    def betti(self) -> tuple:
        """Betti numbers ``(b_0, ..., b_dim)`` over GF(2); see :func:`betti_numbers`."""
        return betti_numbers(self)

    def cell_vertices(self, k: int) -> list:
        """The vertex indices of each ``k``-cell, as a list of arrays.

        Parameters
        ----------
        k : int
            A cell dimension, ``0 <= k < len(incidence)``.

        Returns
        -------
        list of ndarray of int
            One array per ``k``-cell, in cell order: the column indices of its row of
            ``incidence[k]`` (indices into ``vertices``), in the order the matrix stores them.
            That order is not necessarily sorted (the edges of :func:`subdivision_complex`,
            for one, may not be) and is not a cyclic order (:func:`polygon_cycles` gives that
            for polygons).
        """
        m = self.incidence[k]
        return csr_rows(m)

    def first_region(self, k: int) -> np.ndarray:
        """An activation region holding each ``k``-cell.

        Parameters
        ----------
        k : int
            A cell dimension, ``0 <= k < len(regions)``.

        Returns
        -------
        ndarray of int, shape (n_k,)
            Per ``k``-cell, the first region stored in its row of ``regions[k]`` (the lowest
            index when the row's indices are sorted). A cell on the boundary between regions
            lies in several; ``regions[k]`` lists them all. Every cell is assumed to lie in at
            least one region.
        """
        return self.regions[k].indices[self.regions[k].indptr[:-1]]


def csr_rows(m) -> list:
    """The column indices of each row of the CSR matrix ``m``, one array per row, and none for a
    matrix without rows (``np.split`` gives one empty piece there: an empty level set's
    polygons and gradients failed on it)."""
    return np.split(m.indices, m.indptr[1:-1]) if m.shape[0] else []


def _csr(offsets, ids, n_cols) -> sp.csr_matrix:
    """A boolean CSR matrix from CSR offsets and column ids."""
    import scipy.sparse as sp
    return sp.csr_matrix((np.ones(len(ids), bool), np.asarray(ids, np.int64), np.asarray(offsets, np.int64)),
                         shape=(len(offsets) - 1, n_cols))


def _contained(small, big) -> sp.csr_matrix:
    """``(n_big, n_small)``: whether all vertices of each row of ``small`` are vertices of each
    row of ``big`` (both ``(n, V)`` vertex incidences)."""
    import scipy.sparse as sp
    shared = (big.astype(np.int32) @ small.astype(np.int32).T).tocoo()
    sizes = np.diff(small.indptr)
    keep = shared.data == sizes[shared.col]
    return sp.csr_matrix((np.ones(int(keep.sum()), bool), (shared.row[keep], shared.col[keep])),
                         shape=(big.shape[0], small.shape[0]))


def require_polytopes(regions) -> None:
    """Raise unless ``regions`` is complete and on a bounded domain (so that its regions and
    their faces are polytopes)."""
    require_complete(regions, "a polyhedral complex")
    if not regions.domain.is_bounded:
        raise InvalidDomainError("level sets, sublevel sets and topology need a bounded domain: "
                                 "intersect it with a box around the part you study")


def subdivision_complex(regions, faces=None) -> PolyhedralComplex:
    """The subdivision of a bounded domain into the activation regions, as a complex (the
    regions are its top cells).

    Parameters
    ----------
    regions : Regions
        A complete result on a bounded domain.
    faces : Faces, optional
        ``regions.faces()``, if already computed.

    Returns
    -------
    PolyhedralComplex

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    InvalidDomainError
        The domain is unbounded (cells must be polytopes).
    """
    import scipy.sparse as sp
    require_polytopes(regions)
    if faces is None:
        faces = regions.faces()
    d, n_regions = regions.dim, len(regions)
    V = len(faces.vertices)
    incidence, region_inc = [], []
    for k in range(d):
        f = faces.by_dim[k]
        incidence.append(sp.identity(V, bool, format="csr") if k == 0
                         else _csr(f.vertex_offsets, f.vertex_ids, V))
        region_inc.append(_csr(f.region_offsets, f.region_ids, n_regions))
    incidence.append(region_inc[0].T.tocsr())
    region_inc.append(sp.identity(n_regions, bool, format="csr"))
    facets = [sp.csr_matrix((V, 0), dtype=bool)]
    for k in range(1, d):
        facets.append(_contained(incidence[k - 1], incidence[k]))
    facets.append(region_inc[d - 1].T.tocsr())
    store = VertexStore(faces.vertices.copy(), np.asarray(faces.vertex_generators, np.int64),
                        np.full((V, 2), -1, np.int64), np.full(V, -1, np.int64),
                        region_inc[0].indices[region_inc[0].indptr[:-1]].astype(np.int64))
    return PolyhedralComplex(store, np.arange(V), incidence, facets, region_inc)


def _edges_of(K: PolyhedralComplex, k: int) -> sp.csr_matrix:
    """``(n_k, n_1)``: the edges of each ``k``-cell."""
    import scipy.sparse as sp
    if k == 1:
        return sp.identity(K.incidence[1].shape[0], bool, format="csr")
    return _contained(K.incidence[1], K.incidence[k])


def cut_complex(K: PolyhedralComplex, signs, values, function: int, keep: str) -> PolyhedralComplex:
    """The complex of ``{f <= 0}`` (``keep="below"``) or ``{f = 0}`` (``keep="level"``) of ``K``,
    from the sign of ``f`` at every vertex; see the module's text.

    Parameters
    ----------
    K : PolyhedralComplex
    signs : array_like of int, shape (V,)
        The sign of ``f`` at each vertex of ``K`` (-1, 0 or 1), decided exactly by the caller.
    values : array_like of float, shape (V,)
        ``f`` at each vertex in float64: places the new vertices on the mixed edges.
    function : int
        Index of ``f`` in ``K.store.functions`` (recorded with the new vertices).
    keep : {"below", "level"}

    Returns
    -------
    PolyhedralComplex
        Sharing ``K``'s vertex store (the new vertices appended).
    """
    import scipy.sparse as sp
    s = np.asarray(signs, np.int8)
    f = np.asarray(values, np.float64)
    D = len(K.incidence) - 1
    pos = [K.incidence[k] @ (s > 0).astype(np.int32) for k in range(D + 1)]
    neg = [K.incidence[k] @ (s < 0).astype(np.int32) for k in range(D + 1)]
    mixed = [(p > 0) & (q > 0) for p, q in zip(pos, neg)]
    zero = [(p == 0) & (q == 0) for p, q in zip(pos, neg)]
    keeps = [p == 0 for p in pos] if keep == "below" else zero

    # the new vertices: one per mixed edge, between its negative and positive ends
    E = np.flatnonzero(mixed[1]) if D >= 1 else np.zeros(0, np.int64)
    ends = K.incidence[1][E].indices.reshape(-1, 2) if len(E) else np.zeros((0, 2), np.int64)
    lo = np.where(s[ends[:, 0]] < 0, ends[:, 0], ends[:, 1])
    hi = np.where(s[ends[:, 0]] < 0, ends[:, 1], ends[:, 0])
    t = np.clip(f[lo] / np.where(f[lo] != f[hi], f[lo] - f[hi], 1.0), 0.0, 1.0)[:, None]
    X = K.vertices
    cut_ids = K.store.add(X[lo] + t * (X[hi] - X[lo]), np.stack([K.vertex_ids[lo], K.vertex_ids[hi]], 1),
                          function, K.first_region(1)[E] if len(E) else np.zeros(0, np.int64))
    n_keep0 = int(keeps[0].sum())
    vertex_ids = np.concatenate([K.vertex_ids[keeps[0]], cut_ids])
    n_new_v = len(vertex_ids)
    # column maps from K's vertices and mixed edges to the new vertices
    old_vertex = _ids(keeps[0], 0)
    edge_vertex = _ids(mixed[1], n_keep0) if D >= 1 else np.zeros(0, np.int64)

    below = keep == "below"
    # per dimension k, the new k-cells in three blocks: kept cells, F- of the mixed k-cells
    # (below only), Fc of the mixed (k+1)-cells; where each block starts
    starts = []
    for k in range(D + 1):
        n_a = int(keeps[k].sum())
        n_m = int(mixed[k].sum()) if below and k >= 1 else 0
        n_c = int(mixed[k + 1].sum()) if k < D else 0
        starts.append((0, n_a, n_a + n_m, n_a + n_m + n_c))
    zero_vertex = np.where(s == 0, old_vertex, -1)
    incidence, facets, regs = [], [], []
    for k in range(D + 1):
        _, m0, c0, total = starts[k]
        verts = [_block(K.incidence[k], keeps[k], old_vertex, n_new_v)]
        regs_k = [K.regions[k][np.flatnonzero(keeps[k])]]
        if below and k >= 1:
            verts.append(_block(K.incidence[k], mixed[k], old_vertex, n_new_v)
                         + _block(_edges_of(K, k), mixed[k], edge_vertex, n_new_v))
            regs_k.append(K.regions[k][np.flatnonzero(mixed[k])])
        if k < D:
            verts.append(_block(K.incidence[k + 1], mixed[k + 1], zero_vertex, n_new_v)
                         + _block(_edges_of(K, k + 1), mixed[k + 1], edge_vertex, n_new_v))
            regs_k.append(K.regions[k + 1][np.flatnonzero(mixed[k + 1])])
        incidence.append(sp.identity(total, bool, format="csr") if k == 0
                         else sp.vstack(verts, format="csr").astype(bool))
        regs.append(sp.vstack(regs_k, format="csr"))
        if k == 0:
            facets.append(sp.csr_matrix((total, 0), dtype=bool))
            continue
        p_a, p_m, p_c, p_total = starts[k - 1]
        kept_prev = _ids(keeps[k - 1], p_a)
        zero_prev = np.where(zero[k - 1], kept_prev, -1)
        cut_prev = _ids(mixed[k], p_c)  # the Fc of the mixed k-cells are (k - 1)-cells
        rows = [_block(K.facets[k], keeps[k], kept_prev, p_total)]
        if below:  # F-: its own Fc, the G- of its mixed facets, its facets without positive vertices
            mixed_prev = _ids(mixed[k - 1], p_m) if k >= 2 else np.full(len(keeps[k - 1]), -1, np.int64)
            own = sp.csr_matrix((np.ones(c0 - m0, bool), (np.arange(c0 - m0), cut_prev[mixed[k]])),
                                shape=(c0 - m0, p_total))
            rows.append(own + _block(K.facets[k], mixed[k], mixed_prev, p_total)
                        + _block(K.facets[k], mixed[k], kept_prev, p_total))
        if k < D:  # Fc: the Gc of the mixed facets of F, the (k - 1)-faces of F with only zeros
            two_down = (K.facets[k + 1].astype(np.int32) @ K.facets[k].astype(np.int32)).astype(bool)
            rows.append(_block(K.facets[k + 1], mixed[k + 1], cut_prev, p_total)
                        + _block(two_down, mixed[k + 1], zero_prev, p_total))
        facets.append(sp.vstack(rows, format="csr").astype(bool))
    return PolyhedralComplex(K.store, vertex_ids, incidence, facets, regs)


def _block(m, rows, col_map, n_cols) -> sp.csr_matrix:
    """The rows ``rows`` (a mask) of ``m``, columns renumbered by ``col_map`` (-1: dropped)."""
    import scipy.sparse as sp
    sub = m[np.flatnonzero(rows)].tocoo()
    c = col_map[sub.col]
    ok = c >= 0
    return sp.csr_matrix((np.ones(int(ok.sum()), bool), (sub.row[ok], c[ok])), shape=(int(np.sum(rows)), n_cols))


def _ids(mask, start) -> np.ndarray:
    """New ids ``start, start + 1, ...`` for the true entries of ``mask``; -1 elsewhere."""
    out = np.full(len(mask), -1, np.int64)
    out[mask] = start + np.arange(int(mask.sum()))
    return out


# -- homology ---------------------------------------------------------------------------------
def gf2_rank(columns, skip=()) -> tuple:
    """Rank over GF(2) of a 0/1 matrix given by its columns, by column reduction.

    The standard persistence algorithm: each column (a Python integer used as a bit set) is
    reduced by the earlier ones with the same largest row until its largest row is new, or it
    vanishes. Columns in ``skip`` are known to reduce to zero and are left out (the twist of
    Chen and Kerber: a cell that is the pivot of a reduced boundary one dimension up).

    Parameters
    ----------
    columns : sequence of array_like of int
        The rows holding a 1, per column.
    skip : set of int, optional
        Columns known to reduce to zero.

    Returns
    -------
    rank : int
    pivots : set of int
        The pivot row of each nonzero reduced column (the columns to skip one dimension down).

    Examples
    --------
    >>> from regionenum.analysis.topology import gf2_rank
    >>> gf2_rank([[0, 1], [1, 2], [0, 2]])[0]   # the boundary of a triangle: rank 2 mod 2
    2
    """
    pivots = {}
    for j, rows in enumerate(columns):
        if j in skip or not len(rows):
            continue
        col = 0
        for r in rows:
            col ^= 1 << int(r)
        while col:
            low = col.bit_length() - 1
            other = pivots.get(low)
            if other is None:
                pivots[low] = col
                break
            col ^= other
    return len(pivots), set(pivots)


def betti_numbers(K: PolyhedralComplex) -> tuple:
    """Betti numbers of the complex over GF(2).

    ``b_k = n_k - rank d_k - rank d_{k+1}`` with ``d_k`` the facet matrix of the ``k``-cells
    (mod 2: the cells are convex, so the complex is regular and every facet has incidence 1).
    ``rank d_1`` is the number of vertices less the number of connected components; the others
    come from :func:`gf2_rank`, from the top dimension down, skipping the columns the twist
    clears.

    Parameters
    ----------
    K : PolyhedralComplex

    Returns
    -------
    tuple of int
        ``(b_0, ..., b_D)``, ``D`` the dimensions ``K`` holds (zeros above its cells).
    """
    from scipy.sparse.csgraph import connected_components
    D = len(K.incidence) - 1
    n = K.f_vector
    ranks = [0] * (D + 2)
    cleared = set()
    for k in range(D, 1, -1):
        m = K.facets[k]
        ranks[k], cleared = gf2_rank(csr_rows(m), cleared)
    if D >= 1 and n[0]:
        edges = K.incidence[1]
        graph = edges.T.astype(np.int32) @ edges.astype(np.int32)
        ranks[1] = int(n[0] - connected_components(graph, directed=False)[0])
    return tuple(int(n[k] - ranks[k] - ranks[k + 1]) for k in range(D + 1))


# -- geometry ---------------------------------------------------------------------------------
def polygon_cycles(K: PolyhedralComplex, k: int = 2) -> list:
    """The vertices of each 2-cell in cyclic order, chained along its edges (no coordinates
    are compared).

    Parameters
    ----------
    K : PolyhedralComplex
    k : int, optional
        The dimension of the polygons (2).

    Returns
    -------
    list of ndarray of int
        Per 2-cell, its vertex indices in cyclic order (either orientation).
    """
    edges = K.incidence[1]
    ends = edges.indices.reshape(-1, 2)
    out = []
    m = K.facets[k]
    for row in csr_rows(m):
        pairs = ends[row]
        nbrs = {}
        for a, b in pairs.tolist():
            nbrs.setdefault(a, []).append(b)
            nbrs.setdefault(b, []).append(a)
        start = int(pairs[0, 0])
        cycle, prev = [start], -1
        while True:
            nxt = [v for v in nbrs[cycle[-1]] if v != prev]
            prev, cur = cycle[-1], nxt[0]
            if cur == start:
                break
            cycle.append(cur)
        out.append(np.array(cycle, np.int64))
    return out


def cell_volumes(K: PolyhedralComplex, k: int) -> np.ndarray:
    """The ``k``-dimensional volume of every ``k``-cell.

    By the pyramid formula ``vol(F) = (1/k) sum_G h_G vol(G)`` over its facets ``G``, ``h_G``
    the distance from the mean of ``F``'s vertices (inside ``F``) to the affine hull of ``G``,
    each facet's ``(k-1)``-volume computed the same way down to the edges' lengths.

    Parameters
    ----------
    K : PolyhedralComplex
    k : int
        The dimension (0 counts the vertices: each has volume 1).

    Returns
    -------
    ndarray, shape (n_k,)
    """
    X = K.vertices
    if k == 0:
        return np.ones(K.incidence[0].shape[0])
    ends = K.incidence[1].indices.reshape(-1, 2)
    vol = np.linalg.norm(X[ends[:, 1]] - X[ends[:, 0]], axis=1)
    for j in range(2, k + 1):
        inc, fac = K.incidence[j], K.facets[j]
        counts = np.diff(inc.indptr)
        centre = (inc.astype(np.float64) @ X) / np.maximum(counts, 1)[:, None]
        pairs = fac.tocoo()
        h = _distances_to_hulls(K, j - 1, centre[pairs.row], pairs.col)
        vol = np.bincount(pairs.row, weights=h * vol[pairs.col], minlength=fac.shape[0]) / j
    return vol


def _distances_to_hulls(K, k, points, cells):
    """Distance from each ``points[i]`` to the affine hull of ``k``-cell ``cells[i]``."""
    X = K.vertices
    inc = K.incidence[k]
    if k == 1:
        ends = inc.indices.reshape(-1, 2)[cells]
        a, b = X[ends[:, 0]], X[ends[:, 1]]
        # an edge whose ends differ exactly but not in float64 has length 0, and so weighs
        # nothing in the volume: any finite distance will do (0 / 0 would make it NaN)
        length = np.linalg.norm(b - a, axis=1, keepdims=True)
        u = np.divide(b - a, length, out=np.zeros_like(b - a), where=length > 0)
        r = points - a
        return np.linalg.norm(r - np.sum(r * u, axis=1, keepdims=True) * u, axis=1)
    bases = {}
    out = np.empty(len(points))
    for i, (p, c) in enumerate(zip(points, cells.tolist())):
        if c not in bases:
            V = X[inc.indices[inc.indptr[c]: inc.indptr[c + 1]]]
            _, _, vt = np.linalg.svd(V[1:] - V[0])
            bases[c] = (V[0], vt[:k])
        origin, Q = bases[c]
        r = p - origin
        out[i] = np.linalg.norm(r - Q.T @ (Q @ r))
    return out
