"""The engine against independent oracles: 1-D breakpoints, Zaslavsky, Montufar, an LP reference."""
from math import comb

import numpy as np
import pytest

import regionenum as rn
from regionenum import constructions
from tests.oracles import lp_regions, random_net, regions_1d, zaslavsky


def _sorted_patterns(regions):
    return sorted(tuple(bool(v) for v in p) for p in regions.patterns)


@pytest.mark.parametrize("widths,seed", [([1, 8, 1], 0), ([1, 6, 6, 1], 1), ([1, 10, 10, 10, 1], 2),
                                         ([1, 32, 32, 32, 1], 3), ([1, 4, 4, 4, 4, 4, 1], 4)])
def test_1d_regions_match_exact_breakpoints(widths, seed):
    net = random_net(widths, seed, bias_std=0.5)
    regions = rn.enumerate_regions(net, rn.Box([-2.0], [2.0]))
    expected = regions_1d(net, -2.0, 2.0)
    order = np.argsort(regions.interior_points[:, 0])
    got = [tuple(regions.patterns[i]) for i in order]
    assert got == [p for _, _, p in expected]
    ends = np.array([[float(a), float(z)] for a, z, _ in expected])
    lengths = regions.volumes[order]
    np.testing.assert_allclose(lengths, ends[:, 1] - ends[:, 0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("d,n", [(1, 5), (2, 6), (2, 12), (3, 7), (4, 6), (4, 8)])
def test_zaslavsky_one_layer_on_whole_space(d, n):
    rng = np.random.default_rng(10 * d + n)
    net = rn.Network.from_layers([(rng.normal(size=(n, d)), rng.normal(size=n)),
                                  (rng.normal(size=(1, n)), np.zeros(1))])
    total, bounded = zaslavsky(n, d)
    regions = rn.enumerate_regions(net, rn.Polytope.whole_space(d))
    assert len(regions) == total
    assert int(regions.bounded.sum()) == bounded
    count = rn.count_regions(net, rn.Polytope.whole_space(d))
    assert (int(count), count.bounded) == (total, bounded)
    assert np.all(np.isinf(regions.volumes[~regions.bounded]))
    assert len(np.unique(regions.patterns, axis=0)) == total


@pytest.mark.parametrize("d,n,centre", [(2, 160, (0.0, 0.0)), (2, 70, (0.375, -0.25)), (3, 70, (0.0, 0.0, 0.0))])
def test_many_hyperplanes_through_one_dyadic_point(d, n, centre):
    """``n`` hyperplanes in general position through one point of the box: ``2 sum_{i < d}
    C(n - 1, i)`` regions (a central arrangement). The first exact question at the point finds
    it exactly representable in float64 and hands it back to the kernel with a zero error bound,
    so every later hyperplane's value there is exactly zero in float64: a handful of exact signs
    (before: one per hyperplane and piece around the point, 16,628 for 160 lines and 51 s; 70
    planes in 3-D took three minutes)."""
    rng = np.random.default_rng(d * n)
    W = np.round(rng.normal(size=(n, d)) * 2.0 ** 20) / 2.0 ** 20  # W @ centre exact in float64
    net = rn.Network.from_layers([(W, -W @ np.array(centre)), (rng.normal(size=(1, n)), np.zeros(1))])
    box = rn.Box(-np.ones(d), np.ones(d))
    regions = rn.enumerate_regions(net, box)
    expected = 2 * sum(comb(n - 1, i) for i in range(d))
    assert len(regions) == expected and rn.count_regions(net, box) == expected
    assert regions.exact_calls <= 2 ** d
    rn.certify(regions, backend="fractions")


@pytest.mark.parametrize("n0,folds,last", [(1, [2, 2], 3), (1, [3, 4, 2], 4), (1, [4, 4, 4], 3),
                                           (2, [4, 4], 3), (2, [6, 4], 4), (2, [6, 6, 4], 5),
                                           (3, [6], 4), (3, [6, 6], 3)])
@pytest.mark.parametrize("kind", ["montufar", "pascanu"])
def test_zigzag_constructions_exact_count(n0, folds, last, kind):
    c = getattr(constructions, kind)(n0, folds, last)
    net, box, expected = c.network, c.domain, c.count
    # the closed form, written out independently of regionenum.bounds
    per_layer = [(w // n0) ** (n0 if kind == "montufar" else 1) for w in folds]
    assert expected == np.prod(per_layer) * sum(comb(last, j) for j in range(n0 + 1))
    regions = rn.enumerate_regions(net, box)
    assert len(regions) == expected
    assert rn.count_regions(net, box) == expected
    assert regions.volumes.sum() == pytest.approx(1.0, rel=1e-9)
    assert np.all(regions.volumes > 0)
    if n0 == 1:
        assert len(regions_1d(net, 0.0, 1.0)) == expected


def test_montufar_needs_exact_signs(monkeypatch):
    """The construction's degeneracies reach the exact oracle, and its answers decide the count."""
    c = constructions.montufar(2, [6, 6, 4], 5)
    net, expected = c.network, c.count
    box = rn.Box([0, 0], [1, 1])
    counted = rn.count_regions(net, box)
    assert counted == expected and counted.exact_calls > 0
    from regionenum.core.exact import ExactOracle, ExactSign
    monkeypatch.setattr(ExactOracle, "sign_and_point", lambda self, *args: ExactSign(-1, None, None))  # never exactly zero
    assert rn.count_regions(net, box) != expected


@pytest.mark.parametrize("eps,expected", [(0.0, 6), (1e-12, 7), (2.0 ** -70, 7), (-2.0 ** -70, 7)])
def test_tiny_triangle_is_a_region(eps, expected):
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = rn.Network.from_layers([(W, np.array([0.0, 0.0, -eps])), (np.ones((1, 3)), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    assert len(regions) == expected
    assert regions.volumes.sum() == pytest.approx(4.0)


@pytest.mark.parametrize("d,widths,seed", [(2, [6, 6], 0), (2, [5, 5, 5], 1), (2, [8, 4], 2),
                                           (3, [5, 5], 3), (3, [4, 4, 3], 4)])
def test_lp_reference_agrees(d, widths, seed):
    net = random_net([d] + widths + [1], seed, bias_std=0.3)
    box = rn.Box(-np.ones(d), np.ones(d))
    regions = rn.enumerate_regions(net, box)
    assert _sorted_patterns(regions) == lp_regions(net, box.A, box.b)


def test_lp_reference_agrees_on_leaky_and_identity_layers():
    rng = np.random.default_rng(5)
    layers = [(rng.normal(size=(5, 2)), rng.normal(size=5) * 0.3),
              (rng.normal(size=(4, 5)), rng.normal(size=4) * 0.3),
              (rng.normal(size=(4, 4)), rng.normal(size=4) * 0.3),
              (rng.normal(size=(1, 4)), np.zeros(1))]
    net = rn.Network.from_layers(layers, ["relu", "identity", ("leaky_relu", 0.2), "identity"])
    box = rn.Box([-1, -1], [1, 1])
    regions = rn.enumerate_regions(net, box)
    assert _sorted_patterns(regions) == lp_regions(net, box.A, box.b)
    X = np.random.default_rng(0).uniform(-1, 1, (2000, 2))
    idx = regions.locate(X)
    y = np.einsum("nkd,nd->nk", regions.jacobians[idx], X) + regions.offsets[idx]
    np.testing.assert_allclose(y, net(X), atol=1e-12)


def test_lp_reference_agrees_on_polytope_domain():
    net = random_net([2, 6, 6, 1], 7, bias_std=0.3)
    A = np.array([[1.0, 1.0], [-1.0, 0.2], [0.3, -1.0]])
    b = np.array([-1.0, -0.8, -0.9])
    dom = rn.Polytope(A, b)
    regions = rn.enumerate_regions(net, dom)
    assert _sorted_patterns(regions) == lp_regions(net, A, b)
    assert regions.volumes.sum() == pytest.approx(dom.volume(), rel=1e-9)
    from scipy.spatial import ConvexHull, HalfspaceIntersection
    hs = HalfspaceIntersection(np.hstack([A, b[:, None]]), dom.interior_point)
    assert dom.volume() == pytest.approx(ConvexHull(hs.intersections).volume, rel=1e-9)
