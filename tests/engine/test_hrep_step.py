"""The step for many inputs (cells by inequalities, split by linear programmes) against the LP
oracle and the vertex engine, with degenerate units, polytope domains and budgets."""
import time

import numpy as np
import pytest

import regionenum as rn
import regionenum.engine.hrep_step as hrep
from tests.oracles import lp_regions, random_net


def _patterns(regions):
    return sorted(tuple(bool(b) for b in p) for p in regions.patterns)


@pytest.mark.parametrize("widths,seed,acts", [([6, 8, 1], 0, None), ([7, 5, 4, 1], 1, None),
                                              ([8, 6, 2], 2, None), ([6, 6, 5, 1], 3, ["leaky_relu", "relu", "identity"]),
                                              ([10, 5, 1], 4, None)])
def test_regions_match_the_lp_oracle(widths, seed, acts):
    net = random_net(widths, seed, activations=acts)
    d = widths[0]
    box = rn.Box(-np.ones(d), np.ones(d))
    regions = rn.enumerate_regions(net, box)
    assert regions.complete and isinstance(regions.complex, hrep.HrepComplex)
    expected = lp_regions(net, box.A, box.b)
    assert _patterns(regions) == sorted(tuple(p) for p in expected)
    assert rn.count_regions(net, box) == len(expected)
    # each interior point lies in its region, where the network is the region's affine map
    X = regions.interior_points
    np.testing.assert_array_equal(net.pattern_bits(X), regions.patterns)
    np.testing.assert_allclose(np.einsum("nkd,nd->nk", regions.jacobians, X) + regions.offsets, net(X), atol=1e-9)
    for i in range(len(regions)):
        eq, _, _ = regions.facets_of(i)
        assert len(eq) >= d + 1 and (eq[:, :-1] @ X[i] + eq[:, -1] < 0).all()


def test_the_vertex_engine_agrees(monkeypatch):
    net = random_net([6, 8, 4, 1], 5)
    box = rn.Box(-np.ones(6), np.ones(6))
    by_rows = rn.enumerate_regions(net, box)
    monkeypatch.setattr(hrep, "HREP_ABOVE", 99)
    by_vertices = rn.enumerate_regions(net, box)
    assert _patterns(by_rows) == _patterns(by_vertices)
    assert rn.count_regions(net, box) == len(by_vertices)


def test_degenerate_units_and_polytope_domains():
    net = random_net([6, 6, 1], 6)
    W, b = net.layers[0].W, net.layers[0].b
    # a repeated unit, a scaled copy, and a dead unit (zero weights, negative bias)
    W2 = np.vstack([W, W[:1], 2 * W[1:2], np.zeros((1, 6))])
    b2 = np.concatenate([b, b[:1], 2 * b[1:2], [-0.5]])
    V = np.concatenate([net.layers[1].W, np.ones((1, 3))], axis=1)
    wide = rn.Network.from_layers([(W2, b2), (V, net.layers[1].b)])
    box = rn.Box(-np.ones(6), np.ones(6))
    assert rn.count_regions(wide, box) == rn.count_regions(net, box)
    simplex = rn.Polytope(np.vstack([-np.eye(6), np.ones((1, 6))]), np.concatenate([np.zeros(6), [-1.0]]))
    regions = rn.enumerate_regions(net, simplex)
    assert _patterns(regions) == sorted(tuple(p) for p in lp_regions(net, simplex.A, simplex.b))


def test_analyses_that_need_vertices_say_so():
    net = random_net([6, 4, 1], 7)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(6), np.ones(6)))
    assert np.isnan(regions.volumes).all() and len(regions.vertices) == 0
    with pytest.raises(rn.InvalidArgumentError, match="enumerated by their inequalities"):
        regions.adjacency_graph()


def test_budgets_stop_cleanly():
    net = random_net([10, 40, 40, 1], 8)
    box = rn.Box(-np.ones(10), np.ones(10))
    start = time.perf_counter()
    n = rn.count_regions(net, box, time_limit=0.5)
    assert not n.complete and n.stop_reason == "time_limit" and n > 0
    assert time.perf_counter() - start < 2.0
    r = rn.enumerate_regions(net, box, max_regions=25)
    assert len(r) == 25 and r.stop_reason == "max_regions"
    # stopped before the first cell is finished: an empty, incomplete result with pattern rows of
    # the network's width (Ctrl-C can land there too)
    empty = rn.enumerate_regions(net, box, time_limit=1e-9)
    assert len(empty) == 0 and not empty.complete and empty.stop_reason == "time_limit"
    assert empty.packed_patterns.shape == (0, (80 + 7) // 8)
