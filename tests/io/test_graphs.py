"""Graphs survive a round trip through GraphML and JSON."""
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

DIGITS = Path(rn.__file__).parent / "data" / "digits_plane.npz"


def _same_graph(G, H):
    assert sorted(G.nodes) == sorted(H.nodes)
    assert {frozenset(e) for e in G.edges} == {frozenset(e) for e in H.edges}
    for items_g, items_h in ((G.nodes(data=True), H.nodes), (G.edges(data=True), H.edges)):
        for *key, data in items_g:
            other = items_h[key[0]] if len(key) == 1 else items_h[tuple(key)]
            assert data.keys() == other.keys()
            for k, v in data.items():
                if isinstance(v, np.ndarray):
                    assert isinstance(other[k], np.ndarray) and other[k].dtype == v.dtype
                    assert np.array_equal(v, other[k])
                else:
                    assert v == other[k], k


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_graph_round_trip(tmp_path, suffix):
    net, box = rn.load(DIGITS)
    regions = rn.enumerate_regions(net, box)
    for G in (regions.adjacency_graph(), regions.decision_regions().adjacency_graph()):
        path = tmp_path / f"g{suffix}"
        rn.write_graph(G, path)
        _same_graph(G, rn.read_graph(path))
    # unbounded regions: infinite volumes survive
    plane = rn.enumerate_regions(random_net([2, 6, 1], 3), rn.Polytope.whole_space(2))
    G = plane.adjacency_graph()
    path = tmp_path / f"plane{suffix}"
    rn.write_graph(G, path)
    _same_graph(G, rn.read_graph(path))


def test_graphml_is_readable_without_regionenum(tmp_path):
    net, box = rn.load(DIGITS)
    G = rn.enumerate_regions(net, box).adjacency_graph()
    rn.write_graph(G, tmp_path / "g.graphml")
    H = nx.read_graphml(tmp_path / "g.graphml")
    assert H.number_of_nodes() == G.number_of_nodes() and H.number_of_edges() == G.number_of_edges()
    assert isinstance(next(iter(H.nodes(data=True)))[1]["volume"], float)
