"""Estimators against the exact count: lower bounds stay below it, exact ones equal it."""
import numpy as np
import pytest

import regionenum as rn
from regionenum import bounds, estimators
from tests.oracles import random_net, regions_1d


@pytest.mark.parametrize("d,seed", [(2, 0), (3, 1)])
def test_sampling_never_exceeds_the_exact_count(d, seed):
    net = random_net([d, 10, 10, 1], seed)
    box = rn.Box(-np.ones(d), np.ones(d))
    exact = rn.count_regions(net, box)
    for n in (10, 1000, 20000):
        est = estimators.sampled_patterns(net, box, n, seed=seed)
        assert est.kind == "lower bound" and est.value <= exact and est.samples == n
        assert estimators.chao1(net, box, n, seed=seed).value >= est.value
    assert estimators.grid_patterns(net, box, 40 if d == 2 else 15).value <= exact
    # with many samples on a coarse net every region is found
    small = random_net([d, 3, 1], seed)
    assert estimators.sampled_patterns(small, box, 50000, seed=1).value == rn.count_regions(small, box)


def test_sampling_in_a_polytope_domain():
    net = random_net([2, 8, 8, 1], 2)
    tri = rn.Polytope(np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), np.array([-1.0, 0.0, 0.0]))
    est = estimators.sampled_patterns(net, tri, 5000, seed=0)
    assert est.value <= rn.count_regions(net, tri)
    X = estimators.sample_domain(tri, 1000, np.random.default_rng(0))
    assert len(X) == 1000 and np.all(tri.contains(X))


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_line_count_matches_exact_1d_oracle(seed):
    net = random_net([2, 8, 8, 1], seed)
    x0, x1 = np.array([-0.9, 0.3]), np.array([0.8, -0.7])
    est = estimators.line_regions(net, x0, x1, domain=rn.Box([-1, -1], [1, 1]))
    restricted = net.restricted(x0, (x1 - x0)[:, None])
    pieces = regions_1d(restricted, 0.0, 1.0)
    # the Fraction oracle splits at every unit's root; merge neighbours with equal patterns
    merged = 1 + sum(p[2] != q[2] for p, q in zip(pieces, pieces[1:]))
    assert est.value == merged and est.kind == "exact"
    # every piece's pattern is the pattern of points on the segment inside it
    mids = np.r_[0.0, est.details["breakpoints"], 1.0]
    t = (mids[:-1] + mids[1:]) / 2
    np.testing.assert_array_equal(net.pattern_bits(x0 + t[:, None] * (x1 - x0)), est.details["patterns"])


def test_trajectory_counts_pieces_and_distinct_regions():
    net = random_net([2, 8, 8, 1], 6)
    square = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    closed = estimators.trajectory_regions(net, square, closed=True)
    sides = [estimators.line_regions(net, square[k], square[(k + 1) % 4]) for k in range(4)]
    # corners inside a region join the pieces on both sides; the loop closes on itself
    assert closed.value <= sum(s.value for s in sides)
    assert closed.details["distinct"] <= closed.value
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    assert closed.details["distinct"] <= len(regions)
    # on a loop, pieces = crossings: the last piece continues the first
    assert closed.value == len(closed.details["breakpoints"]) == closed.details["patterns"].shape[0]
    axes = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    loop = estimators.trajectory_regions(axes, square, closed=True)
    assert loop.value == 4 and loop.details["distinct"] == 4  # the four quadrants, each once


def test_hanin_rolnick_and_local_complexity():
    net = random_net([2, 10, 10, 1], 7)
    box = rn.Box([-1, -1], [1, 1])
    hr = estimators.hanin_rolnick(net, box)
    assert hr.value == pytest.approx(20 ** 2 / 2 * 4.0) and hr.kind == "prediction"
    X = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    lc = estimators.local_complexity(net, X, 0.05)
    assert lc.details["per_point"].shape == (200,) and 0 < lc.value < 20
    # one hidden layer: the count is exact, the distance to each line
    one = random_net([2, 6, 1], 8)
    W, b = one.layers[0].W, one.layers[0].b
    dist = np.abs(X @ W.T + b) / np.linalg.norm(W, axis=1)
    lc1 = estimators.local_complexity(one, X, 0.1)
    assert lc1.kind == "exact"
    np.testing.assert_array_equal(lc1.details["per_point"], (dist < 0.1).sum(axis=1))


def test_bad_requests():
    net = random_net([2, 4, 1], 9)
    box = rn.Box([-1, -1], [1, 1])
    with pytest.raises(rn.RegionEnumError, match="n_samples must be a positive integer"):
        estimators.sampled_patterns(net, box, 0)
    with pytest.raises(rn.RegionEnumError, match="bounded domain"):
        estimators.sampled_patterns(net, rn.Polytope.whole_space(2), 10)
    with pytest.raises(rn.RegionEnumError, match="point 1 lies outside the domain"):
        estimators.trajectory_regions(net, [[0, 0], [2, 0]], domain=box)
    with pytest.raises(rn.RegionEnumError, match="zero length"):
        estimators.line_regions(net, [0, 0], [0, 0])
    with pytest.raises(rn.RegionEnumError, match="radius must be positive"):
        estimators.local_complexity(net, np.zeros((1, 2)), 0.0)
    with pytest.raises(rn.RegionEnumError, match="layer 1 has 1"):
        bounds.montufar(2, [4, 1])
    with pytest.raises(rn.RegionEnumError, match="positive integer"):
        bounds.serra(2, [4, 0])
    with pytest.raises(rn.RegionEnumError, match="input dimension"):
        bounds.zaslavsky(3, 0)


def test_compare_reports_every_method_against_the_exact_count():
    net = random_net([2, 10, 10, 1], 10)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    rows = estimators.compare(regions, budgets=(100, 20000), seed=0)
    assert {r["method"] for r in rows} == {"sampled_patterns", "chao1", "grid_patterns", "hanin_rolnick"}
    for r in rows:
        assert r["exact"] == len(regions) and r["ratio"] == pytest.approx(r["estimate"] / len(regions))
        if r["kind"] == "lower bound":
            assert r["estimate"] <= len(regions)
            missed = r["missed_by_volume"]
            assert len(missed) == 4 and all(0 <= m <= 1 for m in missed)
    big = [r for r in rows if r["method"] == "sampled_patterns" and r["budget"] == 20000][0]
    assert big["missed_by_volume"][3] < big["missed_by_volume"][0]  # large regions are found first
    with pytest.raises(rn.RegionEnumError, match="budget"):
        estimators.compare(regions, budgets=(0,))
