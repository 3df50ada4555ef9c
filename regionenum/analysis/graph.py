"""The adjacency graph of the regions: one node per region, an edge per facet two regions share,
as a plain ``networkx.Graph`` (networkx's algorithms then apply as they are)."""
from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING

import numpy as np

from ..core.arrays import offsets_of, per_cell_count, ranges
from ..errors import InternalError
from .faces import Faces, compute_faces, require_complete

if TYPE_CHECKING:  # imported where a graph is made: networkx takes about 0.1 s to import
    import networkx as nx

__all__ = ["adjacency_graph"]


def adjacency_graph(regions, faces: Faces | None = None) -> nx.Graph:
    """The regions as nodes, an edge wherever two regions share a facet; see
    :meth:`Regions.adjacency_graph`.

    Facets are matched by their exact sign-vector names (:func:`compute_faces`), so two
    regions touching only along a lower-dimensional face are not joined.

    Parameters
    ----------
    regions : Regions
        A complete result with a cell complex (not one enumerated by its inequalities: more
        than five inputs).
    faces : Faces, optional
        ``regions.faces()`` if already computed (only its facets, ``by_dim[d - 1]``, are
        read, so ``regions.faces(min_dim=d - 1)`` is enough). It must come from ``regions``;
        this is not checked. Default: computed here, facets only.

    Returns
    -------
    networkx.Graph
        Node ``i`` is region ``i``, with attributes ``pattern``, ``interior_point``,
        ``volume``, ``bounded`` and ``boundary_facets`` (a list of ``(domain rows, volume)``,
        one per facet on the domain's boundary). One edge per facet shared by two regions,
        with ``units`` (the ``(layer, unit)`` pairs whose state differs across it),
        ``tight`` (the ``(layer, unit)`` pairs zero on it) and ``volume`` (its
        ``(d - 1)``-volume, ``inf`` if unbounded).

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    InvalidArgumentError
        The result has no cell complex (it was enumerated by its inequalities).
    InternalError
        A facet lies on more than two regions: the enumeration is inconsistent (a bug).

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> from regionenum.analysis import adjacency_graph
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> G = adjacency_graph(rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])))
    >>> G.number_of_nodes(), sorted(G.edges()), G.edges[0, 1]["units"]   # the quadrants
    (4, [(0, 1), (0, 2), (1, 3), (2, 3)], ((0, 1),))
    """
    require_complete(regions, "the adjacency graph")
    d = regions.dim
    if faces is None:
        faces = compute_faces(regions, min_dim=d - 1)
    facets = faces.by_dim[d - 1]
    counts = np.diff(facets.region_offsets)
    if np.any(counts > 2):
        raise InternalError("a facet is shared by more than two regions: the enumeration is "
                            "inconsistent (please report this network)")
    net = regions.network
    unit_pairs = list(zip(net.unit_layer.tolist(), net.unit_index.tolist()))
    lone = [(p,) for p in unit_pairs]  # the edges' usual units and tight: one unit
    # A collection untracks tuples that hold only numbers, and the edges' attribute dicts holding
    # only such tuples and floats are then never tracked either: a third fewer objects for the
    # collector to scan once the graph is built (1.05 million against 0.69 million on r2_big).
    gc.collect(1)
    import networkx as nx

    G = nx.Graph()
    with _gc_paused():
        boundary = [[] for _ in range(len(regions))]
        rows, offsets = facets.domain_rows.tolist(), facets.domain_offsets.tolist()
        on_boundary = np.flatnonzero(counts == 1)
        for f, r, v in zip(on_boundary.tolist(), facets.region_ids[facets.region_offsets[on_boundary]].tolist(),
                           facets.volumes[on_boundary].tolist()):
            boundary[r].append((tuple(rows[offsets[f]: offsets[f + 1]]), v))
        _fill_graph(G, regions, facets, counts, boundary, unit_pairs, lone)
    return G


@contextlib.contextmanager
def _gc_paused():
    """Building millions of small attribute dicts would trigger the cyclic garbage collector
    over and over (it scans the growing graph each time); none of them form cycles.

    Once built, the new objects are moved to the collector's oldest generation unscanned
    (``gc.freeze()``, then ``gc.unfreeze()``, which puts the frozen objects there). Left young,
    they would all be scanned by the first collection after the build, and again by the next
    of the middle generation, only to end there: 0.10-0.19 s on r3_small's and r2_big's graphs
    (290,000 and 540,000 tracked objects, the nodes' dicts and lists and the neighbours'
    dicts). The young generations were collected just before the build, so nothing older is
    moved. Where the program has frozen objects of its own they are left frozen, and the new
    ones young."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def _fill_graph(G: nx.Graph, regions, facets, counts, boundary, unit_pairs, lone) -> None:
    """Write the nodes and edges into the empty graph ``G``'s own dicts.

    ``add_nodes_from`` and ``add_edges_from`` check and copy every attribute dict and look every
    node up again (on 180,000 regions with 360,000 edges they took 3 s, longer than the facets
    themselves). The graph's data structure is networkx's documented dict of dicts of dicts
    (``G._node``: node to its attribute dict; ``G._adj``: node to neighbour to the edge's
    attribute dict, one dict shared by both directions of an undirected edge), so it is filled
    with what ``add_edges_from`` would leave there, the same plain dicts in the same order: each
    node's neighbours in the order of the facets they share with it, the edges written in facet
    order into each node's dict (on r2_big's 180,000 regions, graphs in 1.24-1.36 s against
    1.35-1.52 s when the dicts were made in one go each, after sorting the edges' ends by node).
    Facets come in the order the regions first meet them, so consecutive edges write into
    nearby nodes' dicts: in the order of the facets' hashes, as before 2026-12-06, the loop
    took twice as long. Every dict keyed by a node (the nodes', the adjacency's, each node's
    neighbours') holds the same int object for it, taken from an object array: a Python int
    made per key would be 1.08 million ints instead of 180,000 on r2_big (29 MB more), and the
    adjacency's loop took 1.2-1.6 times as long making them.
    The dicts are updated in place, so views of them stay valid; nothing has been cached on a new
    graph.
    """
    patterns = regions.patterns
    n = len(regions)
    nodes = np.arange(n).astype(object)  # each node's int, one object for every dict keyed by it
    keys = nodes.tolist()
    G._node.update(zip(keys, [
        {"pattern": p, "interior_point": x, "volume": v, "bounded": o, "boundary_facets": f}
        for p, x, v, o, f in zip(list(patterns), list(regions.interior_points), regions.volumes.tolist(),
                                 regions.bounded.tolist(), boundary)]))
    two = np.flatnonzero(counts == 2)
    a, b = (facets.region_ids[facets.region_offsets[two] + s] for s in (0, 1))
    # the units zero on each shared facet, and which of them differ between its two regions
    tsel, toff = ranges(facets.unit_offsets, two)
    units = facets.unit_ids[tsel]
    owner = np.repeat(np.arange(len(two)), np.diff(toff))
    flips = patterns[a[owner], units] != patterns[b[owner], units]
    foff = offsets_of(per_cell_count(flips, toff))
    tight = _unit_tuples(units, toff, unit_pairs, lone)
    flipped = list(tight)  # the same tuple where every unit zero on the facet flips across it
    differ = np.flatnonzero(np.diff(foff) != np.diff(toff))
    for e, t in zip(differ.tolist(), _unit_tuples(units[flips], foff, unit_pairs, lone, differ)):
        flipped[e] = t
    data = [{"units": f, "tight": t, "volume": v} for f, t, v in zip(flipped, tight, facets.volumes[two].tolist())]
    adj = [{} for _ in range(n)]
    for x, y, edge in zip(nodes[a].tolist(), nodes[b].tolist(), data):  # in facet order, each node's too
        adj[x][y] = edge
        adj[y][x] = edge
    G._adj.update(zip(keys, adj))


def _unit_tuples(units, offsets, unit_pairs, lone, runs=None) -> list:
    """Per run ``e`` of ``runs`` (default: all of them), the ``(layer, unit)`` pairs of
    ``units[offsets[e]: offsets[e + 1]]`` as a tuple; the one-unit tuples (most facets carry
    one unit) are shared, being immutable: ``lone[u]`` is unit ``u``'s."""
    if runs is None:
        runs = np.arange(len(offsets) - 1)
    starts = offsets[runs]
    sizes = offsets[runs + 1] - starts
    first = units[np.minimum(starts, len(units) - 1)] if len(units) else np.zeros(len(sizes), np.int64)
    out = [lone[u] for u in first.tolist()]  # runs of other sizes are replaced below
    for j in np.flatnonzero(sizes != 1).tolist():
        e = runs[j]
        out[j] = tuple(unit_pairs[u] for u in units[offsets[e]: offsets[e + 1]].tolist())
    return out
