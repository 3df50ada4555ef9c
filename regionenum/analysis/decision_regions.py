"""Decision regions of a classifier: where each output is the largest, on top of the activation
regions.

On an activation region the outputs are affine, so the set where class ``c`` wins is the region
cut by the hyperplanes ``y_c = y_j``. Those cuts are made by the same kernel and sign policy as
the engine's (exact arithmetic near zero), giving *pieces*: one convex polytope per region and
winning class. Pieces of one class that meet across an activation facet join into *decision
regions*; the outputs are continuous, so the winner cannot change across an activation facet
except where a tie hyperplane happens to run along it. Ties everywhere go to the lower class, as
in ``numpy.argmax``.

A network with one output is a binary classifier with a logit: class 1 where the logit is
positive, class 0 where it is at most zero (threshold 0), as ``argmax`` of ``(0, logit)``.
The Betti numbers of each class's closed region come from cutting the subdivision by the tie
hyperplanes (:func:`~regionenum.analysis.level_sets.class_region`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.arrays import offsets_of, per_cell_count, ranges
from ..core.exact import ExactNetwork, ExactOracle
from ..core.tolerances import DEFAULT_TOL
from ..engine.argmax import split_by_argmax
from ..engine.cells import CellSet
from ..engine.kernels.grouping import distinct_members
from ..engine.kernels.lattice import face_volumes, fill_cell_volumes, fill_face_volumes, polytope_volumes
from ..errors import InvalidArgumentError
from .faces import face_instances, group_equal, group_faces, renumber_by_first, require_complete
from .level_sets import class_region
from .topology import betti_numbers

# networkx and scipy are imported where they are used: a half of the package's import time
if TYPE_CHECKING:
    import networkx as nx

__all__ = ["DecisionRegions", "decision_regions"]


@dataclass
class DecisionRegions:
    """Where each class wins (from :meth:`Regions.decision_regions
    <regionenum.Regions.decision_regions>`).

    A network with one output is a binary classifier: class 1 where its logit is positive,
    class 0 elsewhere. :meth:`betti` gives the Betti numbers of each class's closed region.

    Attributes
    ----------
    pieces : CellSet
        One piece per activation region and class winning somewhere on it (several cells per
        piece on unbounded domains: ``piece_cells`` gives each cell's piece).
    piece_region, piece_class, piece_volume, piece_label : ndarray
        Each piece's activation region, class, volume and decision region.
    classes, volumes : ndarray
        One entry per decision region (a connected set where one class wins).
    boundary_classes, boundary_pieces : ndarray of int, shape (F, 2)
        The decision boundary, one row per facet between pieces of different classes (its two
        pieces in increasing order).
    boundary_volumes : ndarray, shape (F,)
        The facets' (d-1)-volumes.
    boundary_vertex_offsets, boundary_vertices : ndarray
        The facets' vertices (bounded facets).
    dim : int
    regions : Regions
        The result they come from.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.array([[1.0, 0.0], [0.0, 1.0]]), [0.0, 0.0])])
    >>> dec = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).decision_regions()
    >>> dec.classes.tolist(), dec.volumes.tolist()   # y0 = y1 = 0 on x <= 0: ties go to class 0
    ([0, 1], [2.5, 1.5])
    """

    pieces: CellSet
    piece_cells: np.ndarray
    piece_region: np.ndarray
    piece_class: np.ndarray
    piece_volume: np.ndarray
    piece_label: np.ndarray
    classes: np.ndarray
    volumes: np.ndarray
    boundary_classes: np.ndarray
    boundary_pieces: np.ndarray
    boundary_volumes: np.ndarray
    boundary_vertex_offsets: np.ndarray
    boundary_vertices: np.ndarray
    dim: int
    regions: object = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.classes)

    def polylines(self) -> list:
        """The decision boundary of a 2-D input as polylines.

        Returns
        -------
        list of ndarray, shape (m, 2)
            Chains of boundary segments (closed chains repeat their first point). Segments are
            chained where their end points coincide to 1e-9 of the coordinates' scale; use the
            facet arrays for exact work.

        Raises
        ------
        InvalidArgumentError
            The input is not 2-D.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree
        if self.dim != 2:
            raise InvalidArgumentError(f"polylines need a 2-D input; this network takes {self.dim}")
        segs = [self.boundary_vertices[a:b] for a, b in zip(self.boundary_vertex_offsets[:-1],
                                                            self.boundary_vertex_offsets[1:])]
        segs = [s for s in segs if len(s) == 2]
        if not segs:
            return []
        pts = np.concatenate(segs)
        scale = max(1.0, float(np.abs(pts).max()))
        close = cKDTree(pts).query_pairs(1e-9 * scale, output_type="ndarray")
        merged = coo_matrix((np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(pts),) * 2)
        keys = connected_components(merged, directed=False)[1]
        import networkx as nx

        G = nx.Graph()
        for i in range(len(segs)):
            G.add_edge(keys[2 * i], keys[2 * i + 1])
        coords = dict(zip(keys, pts))
        out = []
        for comp in nx.connected_components(G):
            H = G.subgraph(comp).copy()
            while H.number_of_edges():
                odd = [v for v in H if H.degree[v] % 2]
                start = odd[0] if odd else next(iter(H))
                path = [start]
                while H.degree[path[-1]]:
                    nxt = next(iter(H[path[-1]]))
                    H.remove_edge(path[-1], nxt)
                    path.append(nxt)
                out.append(np.array([coords[v] for v in path]))
                H.remove_nodes_from([v for v in list(H) if H.degree[v] == 0])
        return out

    def betti(self, cls: int, tol: float = DEFAULT_TOL) -> tuple:
        """Betti numbers of the closed region where class ``cls`` wins, ``{y_cls >= y_j for all
        j}`` (one logit: class 1 is ``{y >= 0}``, class 0 is ``{y <= 0}``), exactly over GF(2).

        ``b_0`` counts its connected components, ``b_1`` its independent loops (holes in 2-D),
        ``b_2`` its enclosed cavities in 3-D. Pieces touching only at a point are connected
        here, while the decision regions (``classes``) join pieces across facets only, so
        ``b_0`` can be smaller than the class's number of decision regions.

        Parameters
        ----------
        cls : int
            The class.
        tol : float, optional
            As for :meth:`Regions.level_set <regionenum.Regions.level_set>`.

        Returns
        -------
        tuple of int
            ``(b_0, ..., b_d)``.

        Raises
        ------
        InvalidArgumentError
            ``cls`` out of range.
        InvalidDomainError
            The domain is unbounded.
        """
        return betti_numbers(class_region(self.regions, cls, tol))

    def adjacency_graph(self) -> nx.Graph:
        """The decision regions as a graph.

        Returns
        -------
        networkx.Graph
            Nodes (``class_``, ``volume``), an edge where two regions meet along the decision
            boundary (``classes``, ``volume``: the boundary's (d-1)-volume between them).
        """
        import networkx as nx

        G = nx.Graph()
        for i, (c, v) in enumerate(zip(self.classes.tolist(), self.volumes.tolist())):
            G.add_node(i, class_=c, volume=v)
        for (pa, pb), (ca, cb), v in zip(self.boundary_pieces, self.boundary_classes,
                                         self.boundary_volumes.tolist()):
            a, b = int(self.piece_label[pa]), int(self.piece_label[pb])
            if G.has_edge(a, b):
                G.edges[a, b]["volume"] += v
            else:
                G.add_edge(a, b, classes=(int(ca), int(cb)), volume=v)
        return G


def decision_regions(regions, tol: float = DEFAULT_TOL) -> DecisionRegions:
    """Split the activation regions by which output is largest (one output: by the sign of the
    logit, class 1 where it is positive); see :class:`DecisionRegions` (``tol``: the engine's
    sign rule, README "Exactness").

    Each region is cut by the tie hyperplanes ``y_c = y_j`` with the engine's kernel and sign
    policy; ties go to the lower class, as in ``numpy.argmax``.

    Parameters
    ----------
    regions : Regions
        A complete result with a cell complex (not one enumerated by its inequalities: more
        than five inputs); any number of outputs.
    tol : float, optional
        Relative width of the band of float64 signs of ``y_c - y_j`` at the cells' vertices
        that are settled in exact arithmetic even where a rigorous rounding bound proves them
        (as ``tol`` of :func:`~regionenum.enumerate_regions`; default ``DEFAULT_TOL``,
        ``1e-9``). Not checked here.

    Returns
    -------
    DecisionRegions
        The pieces (one per region and class winning somewhere on it), the decision regions
        (pieces of one class joined across facets) and the decision boundary.

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    InvalidArgumentError
        The result has no cell complex (it was enumerated by its inequalities), or ``tol`` out
        of range.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> from regionenum.analysis import decision_regions
    >>> net = rn.Network.from_layers([(np.array([[1.0]]), [0.0]), (np.array([[1.0]]), [-0.5])])
    >>> dec = decision_regions(rn.enumerate_regions(net, rn.Box([-1.0], [1.0])))   # relu(x) - 1/2
    >>> dec.classes.tolist(), dec.volumes.tolist()      # class 1 where x > 1/2
    ([0, 1], [1.5, 0.5])
    """
    if not 0 < tol < 1e-3:
        raise InvalidArgumentError(f"tol must be in (0, 1e-3), got {tol}")
    net = regions.network
    require_complete(regions, "decision regions")
    cells = regions.cells
    constraints = regions.complex.constraints
    J = _cell_output_maps(regions)
    logit = J.shape[2] == 1
    if logit:  # class 0 scores 0, class 1 the logit
        J = np.concatenate([np.zeros_like(J), J], axis=2)
    k = J.shape[2]
    exact_net = ExactNetwork(net)
    pair_start = constraints.ids.end
    hyp_ids = pair_start + np.arange(k - 1)

    def oracle(sub, hyp, winner):
        others = np.delete(np.arange(k), winner)
        return _TieOracle(constraints.ids, constraints.exact_rows, exact_net, hyp, sub.packed, winner, others,
                          logit)

    E = regions.output_errors[regions.cell_region][:, None, :]
    if logit:  # class 0's score, 0, is exact
        E = np.concatenate([np.zeros_like(E), E], axis=2)
    cut = split_by_argmax(cells, J, E, constraints.ref, tol, lambda w: hyp_ids, oracle)
    return _assemble(regions, cut.pieces, cut.parent, cut.winner, cut.tied, pair_start, k)


def _cell_output_maps(regions):
    """Per cell, the outputs as rows over ``(t, x)``: ``(n_cells, d + 1, k)``."""
    r = regions.cell_region
    return np.concatenate([regions.offsets[r][:, None, :],
                           regions.jacobians[r].transpose(0, 2, 1)], axis=1)


class _TieOracle(ExactOracle):
    """Exact signs of ``y_winner - y_j`` (ids ``hyp_ids``, one per other class) on top of the
    engine's constraints."""

    def __init__(self, ids, fixed_rows, exact_net, hyp_ids, prefixes, winner, others, logit=False):
        super().__init__(ids, fixed_rows, exact_net, hyp_ids, prefixes)
        self.winner = winner
        self.others = others
        self.pair_start = int(hyp_ids[0])
        self.logit = logit

    def row(self, cell, cid, bits=None):
        if cid < self.pair_start:
            return super().row(cell, cid, bits)
        if bits is None:
            bits = self.pattern_bits(cell)
        E = self.exact_net.rows(len(self.exact_net.network.layers), bits)
        if self.logit:  # the scores (0, logit)
            E = np.concatenate([E[:1], np.zeros_like(E[:1]), E[1:]])
        return E[1 + self.winner] - E[1 + self.others[cid - self.pair_start]]


def _assemble(regions, cells, cell_src, cell_class, cell_tied, pair_start, k):
    """Pieces, their decision regions and the decision boundary from the cut cells (each cell's
    winning class, and the classes tied with it on the whole cell)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    d = regions.dim
    cell_region = regions.cell_region[cell_src]
    # a piece is a (region, class) pair; on unbounded domains it may span several cells
    piece_key = cell_region * k + cell_class
    uniq, cell_piece = np.unique(piece_key, return_inverse=True)
    piece_region, piece_class = uniq // k, uniq % k
    n_pieces = len(uniq)
    vol = polytope_volumes(cells.arrays, np.arange(len(cells)))
    fill_cell_volumes(cells.arrays, vol)
    piece_volume = np.bincount(cell_piece, weights=vol, minlength=n_pieces)

    inst = face_instances(cells, cell_piece, regions.constraint_ids, regions.network, d - 1,
                          regions.complex.constraints)
    f_piece = inst.region
    sel = np.flatnonzero(inst.keep)
    facet, first = _facets_of_pieces(inst, sel, piece_class[f_piece[sel]], cell_tied, pair_start)
    # each facet's pieces, each once: two pieces make an edge (one class) or a boundary facet
    offsets, pieces = distinct_members(facet, f_piece[sel], len(first))
    two = np.flatnonzero(np.diff(offsets) == 2)
    lower, upper = pieces[offsets[two]], pieces[offsets[two] + 1]
    same = piece_class[lower] == piece_class[upper]
    graph = coo_matrix((np.ones(int(same.sum())), (lower[same], upper[same])), shape=(n_pieces, n_pieces))
    label = renumber_by_first(connected_components(graph, directed=False)[1])
    n_labels = int(label.max()) + 1 if n_pieces else 0
    classes = np.zeros(n_labels, np.int64)
    classes[label] = piece_class
    volumes = np.bincount(label, weights=piece_volume, minlength=n_labels)

    # the decision boundary, a row per facet in the order of their first instances
    facet_rows = sel[first[two[~same]]]
    pairs = np.stack([lower[~same], upper[~same]], axis=1)
    fvol = face_volumes(inst.faces, cells.arrays, facet_rows)
    fill_face_volumes(inst.faces, cells.arrays, facet_rows, fvol)
    gsel, goff = ranges(inst.faces.gen_off, facet_rows)
    gens = cells.gens[inst.faces.members[gsel]]
    point = gens[:, 0] > 0
    voff = offsets_of(per_cell_count(point, goff))
    verts = gens[point, 1:]
    return DecisionRegions(
        pieces=cells, piece_cells=cell_piece, piece_region=piece_region, piece_class=piece_class,
        piece_volume=piece_volume, piece_label=label, classes=classes, volumes=volumes,
        boundary_classes=piece_class[pairs], boundary_pieces=pairs, boundary_volumes=fvol,
        boundary_vertex_offsets=voff, boundary_vertices=verts, dim=d, regions=regions)


def _facets_of_pieces(inst, sel, winner, cell_tied, pair_start):
    """Per kept facet instance ``sel`` (of pieces whose class is ``winner``), the facet of the
    pieces it is, numbered by first occurrence, and each facet's first instance (a position
    in ``sel``): :func:`~regionenum.analysis.faces.group_equal` of the facets' names.

    A facet of a piece is named by the face of the regions it lies in (its sign vector; for a
    facet inside a region, the region itself) and the classes tied at the maximum on it: the
    piece's class, those tied with it everywhere on its cell (then no hyperplane names the tie,
    but it is there all the same), and those whose tie hyperplane is tight on the facet. A name
    holds one facet, with one piece on each side, or one piece at the domain's boundary."""
    face, _ = group_faces(sel, inst.names)
    tied = cell_tied[inst.faces.cell[sel]].copy()
    tied[np.arange(len(sel)), winner] = True
    at = np.full(len(inst.keep), -1, np.int64)
    at[sel] = np.arange(len(sel))
    tight_off, tight = inst.faces.tight_off, inst.faces.tight
    owner = at[np.repeat(np.arange(len(inst.keep)), np.diff(tight_off))]
    hyp = (tight >= pair_start) & (owner >= 0)
    h, o = tight[hyp] - pair_start, owner[hyp]
    tied[o, h + (h >= winner[o])] = True  # the h-th class other than the winner
    bits = np.packbits(tied, axis=1)
    key = np.concatenate([face.astype(">i8")[:, None].view(np.uint8), bits], axis=1)
    return group_equal(np.ascontiguousarray(key).view(f"V{key.shape[1]}").ravel())
