"""Bounds bracket exact counts, constructions reach theirs, sampling never overshoots, exact
path counts agree with independent oracles, and bad requests fail clearly."""
import numpy as np
import pytest

import regionenum as re
from oracles import random_net, regions_1d
from regionenum import bounds, constructions, estimators

NETS = [(1, [6, 6, 5]), (1, [10, 8]), (2, [8, 8]), (2, [12, 6, 4]), (2, [16]), (3, [8, 8]), (3, [5, 5, 5])]


@pytest.mark.parametrize("n0,widths", NETS)
def test_upper_bounds_bracket_exact_counts(n0, widths):
    for seed in range(3):
        net = random_net([n0] + widths + [1], seed, bias_std=0.5)
        count = re.count_regions(net, re.Polytope.whole_space(n0))
        assert count <= bounds.serra(n0, widths) <= bounds.trivial(widths)
        if n0 == 1:
            assert count <= bounds.one_dimensional(widths)
        if len(widths) == 1:  # one layer in general position reaches Zaslavsky on R^n0
            assert count == bounds.zaslavsky(widths[0], n0) == bounds.serra(n0, widths)


def test_bound_formulas_on_known_values():
    assert bounds.zaslavsky(3, 2) == 7 and bounds.zaslavsky(5, 1) == 6
    assert bounds.trivial([3, 4]) == 128 and bounds.one_dimensional([3, 4]) == 20
    # Serra et al., by hand: one input, [2, 2]: j1 = 0 gives C(2,0) (C(2,0) + C(2,1)) = 3,
    # j1 = 1 gives C(2,1) (C(2,0) + C(2,1)) = 6; the 1-D product bound is the same 9
    assert bounds.serra(1, [2, 2]) == 9 == bounds.one_dimensional([2, 2])
    # four inputs, [2, 2]: both off leaves 1 region, one on a line (3 each), both on a plane (4)
    assert bounds.serra(4, [2, 2]) == 1 + 3 + 3 + 4
    assert bounds.serra(2, [3]) == bounds.zaslavsky(3, 2) == 7
    assert bounds.montufar(2, [4, 4, 3]) == 4 * 4 * 7 and bounds.pascanu(2, [4, 4, 3]) == 2 * 2 * 7


@pytest.mark.parametrize("kind", ["montufar", "pascanu"])
@pytest.mark.parametrize("n0,folds,last", [(1, [3, 3], 3), (2, [4, 6], 3), (3, [6], 3)])
def test_constructions_reach_their_lower_bounds(kind, n0, folds, last):
    c = getattr(constructions, kind)(n0, folds, last)
    assert c.count == getattr(bounds, kind)(n0, folds + [last])
    assert re.count_regions(c.network, c.domain) == c.count
    assert c.count <= bounds.serra(n0, folds + [last])


def test_deep_beats_shallow_at_equal_units():
    deep = constructions.montufar(2, [4, 4, 4], 4)
    assert deep.count > bounds.zaslavsky(16, 2)  # 16 units in one layer, at most
    assert re.count_regions(deep.network, deep.domain) == deep.count


@pytest.mark.parametrize("d,seed", [(2, 0), (3, 1)])
def test_sampling_never_exceeds_the_exact_count(d, seed):
    net = random_net([d, 10, 10, 1], seed)
    box = re.Box(-np.ones(d), np.ones(d))
    exact = re.count_regions(net, box)
    for n in (10, 1000, 20000):
        est = estimators.sampled_patterns(net, box, n, seed=seed)
        assert est.kind == "lower bound" and est.value <= exact and est.samples == n
        assert estimators.chao1(net, box, n, seed=seed).value >= est.value
    assert estimators.grid_patterns(net, box, 40 if d == 2 else 15).value <= exact
    # with many samples on a coarse net every region is found
    small = random_net([d, 3, 1], seed)
    assert estimators.sampled_patterns(small, box, 50000, seed=1).value == re.count_regions(small, box)


def test_sampling_in_a_polytope_domain():
    net = random_net([2, 8, 8, 1], 2)
    tri = re.Polytope(np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), np.array([-1.0, 0.0, 0.0]))
    est = estimators.sampled_patterns(net, tri, 5000, seed=0)
    assert est.value <= re.count_regions(net, tri)
    X = estimators.sample_domain(tri, 1000, np.random.default_rng(0))
    assert len(X) == 1000 and np.all(tri.contains(X))


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_line_count_matches_exact_1d_oracle(seed):
    net = random_net([2, 8, 8, 1], seed)
    x0, x1 = np.array([-0.9, 0.3]), np.array([0.8, -0.7])
    est = estimators.line_regions(net, x0, x1, domain=re.Box([-1, -1], [1, 1]))
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
    regions = re.enumerate_regions(net, re.Box([-1, -1], [1, 1]))
    assert closed.details["distinct"] <= len(regions)


def test_hanin_rolnick_and_local_complexity():
    net = random_net([2, 10, 10, 1], 7)
    box = re.Box([-1, -1], [1, 1])
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
    box = re.Box([-1, -1], [1, 1])
    with pytest.raises(re.RegionEnumError, match="n_samples must be a positive integer"):
        estimators.sampled_patterns(net, box, 0)
    with pytest.raises(re.RegionEnumError, match="bounded domain"):
        estimators.sampled_patterns(net, re.Polytope.whole_space(2), 10)
    with pytest.raises(re.RegionEnumError, match="point 1 lies outside the domain"):
        estimators.trajectory_regions(net, [[0, 0], [2, 0]], domain=box)
    with pytest.raises(re.RegionEnumError, match="zero length"):
        estimators.line_regions(net, [0, 0], [0, 0])
    with pytest.raises(re.RegionEnumError, match="radius must be positive"):
        estimators.local_complexity(net, np.zeros((1, 2)), 0.0)
    with pytest.raises(re.RegionEnumError, match="layer 1 has 1"):
        bounds.montufar(2, [4, 1])
    with pytest.raises(re.RegionEnumError, match="positive integer"):
        bounds.serra(2, [4, 0])
    with pytest.raises(re.RegionEnumError, match="input dimension"):
        bounds.zaslavsky(3, 0)


def test_compare_reports_every_method_against_the_exact_count():
    net = random_net([2, 10, 10, 1], 10)
    regions = re.enumerate_regions(net, re.Box([-1, -1], [1, 1]))
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
    with pytest.raises(re.RegionEnumError, match="budget"):
        estimators.compare(regions, budgets=(0,))
