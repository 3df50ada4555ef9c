"""The adjacency graph of the regions: one node per region, an edge per facet two regions share,
as a plain ``networkx.Graph`` (networkx's algorithms then apply as they are)."""
from __future__ import annotations

import contextlib
import gc

import networkx as nx
import numpy as np

from ..core.arrays import offsets_of, per_cell_count, ranges
from ..errors import InternalError
from .faces import Faces, compute_faces, require_complete

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
    tsel, toff = ranges(facets.unit_offsets, two)
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
