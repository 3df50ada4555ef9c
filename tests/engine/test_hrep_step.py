"""The step for many inputs (cells by inequalities, split by linear programmes) against the LP
oracle and the vertex engine, with degenerate units, polytope domains and budgets."""
import time

import numpy as np
import pytest

import regionenum as rn
import regionenum.engine.hrep_step as hrep
from tests.oracles import lp_regions, random_net, stretched_net


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
    rn.count_regions(net, box, max_regions=1)  # the kernels loaded (compiled, in a fresh cache) first
    start = time.perf_counter()
    n = rn.count_regions(net, box, time_limit=0.5)  # the whole count takes over 20 s
    assert not n.complete and n.stop_reason == "time_limit" and n > 0
    assert time.perf_counter() - start - n.kernel_seconds < 2.0
    r = rn.enumerate_regions(net, box, max_regions=25)
    assert len(r) == 25 and r.stop_reason == "max_regions"
    # stopped before the first cell is finished: an empty, incomplete result with pattern rows of
    # the network's width (Ctrl-C can land there too)
    empty = rn.enumerate_regions(net, box, time_limit=1e-9)
    assert len(empty) == 0 and not empty.complete and empty.stop_reason == "time_limit"
    assert empty.packed_patterns.shape == (0, (80 + 7) // 8)


def _mixed_net(kind, seed):
    """Six inputs, two hidden layers: LeakyReLU slopes far from 1 (their products of the
    layers' maps scale by them), or rows near float64's subnormal range next to ordinary ones."""
    rng = np.random.default_rng(seed)
    widths = [6, 5, 5, 1]
    layers = [(rng.normal(size=(b, a)), rng.normal(size=b)) for a, b in zip(widths[:-1], widths[1:])]
    if kind == "steep":
        return rn.Network.from_layers(layers, [("leaky_relu", 1e30), ("leaky_relu", 3.0), "identity"])
    if kind == "flat":
        return rn.Network.from_layers(layers, [("leaky_relu", 1e-30), "relu", "identity"])
    eta = 2.0 ** -1074
    W0, b0 = layers[0]
    W0[:2], b0[:2] = rng.integers(-64, 64, size=(2, 6)) * eta, rng.integers(-64, 64, size=2) * eta
    return rn.Network.from_layers(layers)


@pytest.mark.parametrize("kind", ["steep", "flat", "subnormal"])
@pytest.mark.parametrize("seed", [0, 1])
def test_map_bounds_hold_against_exact_maps(kind, seed, monkeypatch):
    """Every unit's affine map on every cell the step bounds is within the step's rounding bound
    of the exact map (the bound covers the map's values over the box): with LeakyReLU slopes of
    1e30 and 3, whose products the bound once left out, and with subnormal rows, whose rounding
    is absolute (the bound was relative only: a unit 2.25 ETA x - 17 ETA was stored as
    2 ETA x - 17 ETA and taken as off on the whole box)."""
    from fractions import Fraction

    from regionenum.core.exact import ExactNetwork
    from tests.bounds import unbalanced
    net = _mixed_net(kind, seed)
    seen = []
    original = hrep.HrepStep._bound_layer

    def bound_layer(self, cell, tally):
        seen.append((self, cell.layer, cell.E.copy(), cell.bits.copy()))
        return original(self, cell, tally)

    monkeypatch.setattr(hrep.HrepStep, "_bound_layer", bound_layer)
    with unbalanced():
        rn.count_regions(net, rn.Box(-np.ones(6), np.ones(6)))
    exact = ExactNetwork(net)
    assert len(seen) > 3
    for step, l, E, bits in seen:
        rows = exact.rows(l, bits)
        scale = Fraction(int(rows[0, 0]))
        reach = [1] + [Fraction(float(r)) for r in step.reach]
        for u in range(E.shape[0]):
            error = sum(abs(Fraction(float(E[u, k])) - Fraction(int(rows[1 + u, k])) / scale) * reach[k]
                        for k in range(E.shape[1]))
            assert error <= Fraction(float(step.err[l][u])), (l, u)


def test_a_subnormal_unit_is_split_where_it_changes_sign():
    """Found by a review: ``0.75 * (3 ETA x1) - 17 ETA`` changes sign at x1 = 7.56 inside the box,
    but its float map ``2 ETA x1 - 17 ETA`` is negative on all of it, and a relative rounding
    bound underflowed to zero: 1 region where the exact answer is 2. One row spans more than
    float64's exponents, so the network cannot be balanced (the default path takes it as given)."""
    eta = 2.0 ** -1074
    W1 = np.zeros((2, 6))
    W1[0, 0], W1[1, 1] = 3 * eta, 1.0
    W2 = np.array([[0.75, 0.0], [eta, 1.0]])
    net = rn.Network.from_layers([(W1, np.zeros(2)), (W2, np.array([-17 * eta, 0.0])),
                                  (np.ones((1, 2)), np.zeros(1))])
    box = rn.Box([1.0, 1.0, 0, 0, 0, 0], [8.0, 2.0, 1, 1, 1, 1])
    assert rn.count_regions(net, box) == 2 and len(rn.enumerate_regions(net, box)) == 2


def test_a_basis_singular_in_float64_is_no_answer(monkeypatch):
    """Rows mixing entries near 2^-1060, 2^-1000, 1 and 2^281 (a review's fuzz, seed 108): a
    simplex basis turned singular in float64 and ``inv`` raised LinAlgError out of the count;
    such a programme now has no answer, and the exact stage decides. The regions are the vertex
    step's, certified."""
    h = float.fromhex
    W = np.array([[h(v) for v in row] for row in (
        ["0x0.0p+0", "0x1.92af1c038ee92p-1000", "-0x1.2ddfff8d96ce6p-1", "0x1.052befa1b670bp+0",
         "0x1.43e1dcdec309ap+1", "0x0.00000003b9a9ap-1022"],
        ["0x0.0p+0", "-0x0.060c5818094e1p-1022", "0x0.0p+0", "-0x1.e0fdee6468275p-2", "-0x1.6afba33ac22c4p+0",
         "0x1.b6db63a7d9de9p+281"],
        ["0x1.152d7e57a57dfp-2", "0x0.0p+0", "0x0.0010d6cc8cc77p-1022", "-0x1.7169675c16ad0p+151",
         "-0x1.523188568bf7cp-5", "-0x1.5758bbb40e888p-1013"])])
    b = np.array([0.0, h("0x1.1938d36cb630bp-2"), h("0x1.6cb267f1334d8p-993")])
    V = np.array([[0.0, h("0x1.875dbdc2d70f9p-2"), h("0x1.b3c33d2dc1213p-1")]])
    net = rn.Network.from_layers([(W, b), (V, np.array([h("-0x1.4f2db9aff49dbp-3")]))])
    box = rn.Box(-np.ones(6), np.ones(6))
    by_rows = rn.enumerate_regions(net, box)
    monkeypatch.setattr(hrep, "HREP_ABOVE", 99)
    by_vertices = rn.enumerate_regions(net, box)
    rn.certify(by_vertices, backend="fractions")
    assert _patterns(by_rows) == _patterns(by_vertices) and len(by_rows) == 8


def test_a_slope_times_a_subnormal_weight_is_bounded(monkeypatch):
    """Found by a review: the step composes ``W * slopes``, and ``3 ETA * 0.5`` rounds to
    ``2 ETA``, an absolute error that an earlier unit of size 2^60 magnified; the bound had an
    absolute term per operation but not per weight times the earlier layer's magnitudes. The
    unit ``2^-1014 (1.5 (x1 - 2) + 1.8)`` has its root at x1 = 0.8: 2 regions (1 before)."""
    eta = 2.0 ** -1074
    W1 = np.zeros((2, 6))
    W1[0, 0] = 2.0 ** 60
    net = rn.Network.from_layers([(W1, np.array([-2.0 ** 61, 0.0])),
                                  (np.array([[3 * eta, 2.0 ** -10]]), np.array([1.8 * 2.0 ** -1014])),
                                  (np.ones((1, 1)), np.zeros(1))], [("leaky_relu", 0.5), "relu", "identity"])
    box = rn.Box(-np.ones(6), np.ones(6))
    assert rn.count_regions(net, box) == 2 and len(rn.enumerate_regions(net, box)) == 2
    monkeypatch.setattr(hrep, "HREP_ABOVE", 99)
    by_vertices = rn.enumerate_regions(net, box)
    rn.certify(by_vertices, backend="fractions")
    assert len(by_vertices) == 2


@pytest.mark.parametrize("stretch, tiny", [(0, 1.0), (10, 1.0), (0, 2.0 ** -40)])
def test_facets_are_the_vertex_engines(monkeypatch, stretch, tiny):
    """Each region's facets (their layer and unit, or domain row) are the vertex engine's, which
    reads them off the face lattice: also on a box stretched by ``2^-stretch .. 2^stretch`` and
    run in its own coordinates, where a tolerance on the programmes' margins kept some rows that
    only touch their cell and dropped some facets; and with a first-layer unit's weights scaled
    by ``tiny`` (its next layer's weights by ``1 / tiny``: the same function), whose row the
    float programmes once took for a zero."""
    from regionenum.engine import rescaling
    monkeypatch.setattr(rescaling, "GAIN", np.inf)
    scale = 2.0 ** np.round(np.linspace(-stretch, stretch, 6))
    (W1, b1), (W2, b2), last = [(layer.W.copy(), layer.b.copy()) for layer in random_net([6, 6, 5, 2], 8).layers]
    W1[0], b1[0], W2[:, 0] = W1[0] * tiny, b1[0] * tiny, W2[:, 0] / tiny
    net = stretched_net(rn.Network.from_layers([(W1, b1), (W2, b2), last]), scale)
    box = rn.Box(-scale, scale)
    by_rows = rn.enumerate_regions(net, box)
    monkeypatch.setattr(hrep, "HREP_ABOVE", 99)
    by_vertices = rn.enumerate_regions(net, box)
    assert _patterns(by_rows) == _patterns(by_vertices)

    def sources(regions, i):
        a, b = regions.facet_offsets[i], regions.facet_offsets[i + 1]
        return sorted(zip(regions.facet_layers[a:b].tolist(), regions.facet_units[a:b].tolist()))

    assert all(sources(by_rows, i) == sources(by_vertices, i) for i in range(len(by_rows)))


def test_a_network_without_two_state_units_is_the_box_with_its_composed_map(monkeypatch):
    """Identity layers only, on six inputs: one region, the box, whose facets are its twelve
    rows and whose map is the layers' product (the run once ended at the first layer and kept
    that layer's map, of the wrong shape), as the vertex engine finds."""
    rng = np.random.default_rng(0)
    for widths in ([6, 3], [6, 4, 3], [6, 5, 4, 2]):
        layers = [(rng.normal(size=(b, a)), rng.normal(size=b)) for a, b in zip(widths, widths[1:])]
        net = rn.Network.from_layers(layers, ["identity"] * len(layers))
        box = rn.Box(-np.ones(6), 2 * np.ones(6))
        regions = rn.enumerate_regions(net, box)
        assert len(regions) == 1 and regions.complete
        assert sorted(regions.facet_units.tolist()) == list(range(12)) and (regions.facet_layers == -1).all()
        x = rng.uniform(-1, 2, (20, 6))
        assert np.allclose(x @ regions.jacobians[0].T + regions.offsets[0], net(x), rtol=1e-12, atol=1e-12)
        monkeypatch.setattr(hrep, "HREP_ABOVE", 99)
        by_vertices = rn.enumerate_regions(net, box)
        monkeypatch.setattr(hrep, "HREP_ABOVE", 5)
        assert np.allclose(by_vertices.jacobians, regions.jacobians, rtol=1e-12, atol=1e-12)


def _sources(regions, i):
    a, b = regions.facet_offsets[i], regions.facet_offsets[i + 1]
    return sorted(zip(regions.facet_layers[a:b].tolist(), regions.facet_units[a:b].tolist()))


def _hyperplanes(regions, i):
    """Region ``i``'s facet hyperplanes, normalised and rounded, without repeats."""
    eqs = regions.facet_equations[regions.facet_offsets[i]:regions.facet_offsets[i + 1]]
    return set(map(tuple, (eqs / np.abs(eqs).max(axis=1, keepdims=True)).round(9).tolist()))


@pytest.mark.parametrize("copy", ["domain row twice", "domain row thrice", "unit twice", "unit negated",
                                  "unit on the box's face"])
def test_copies_of_a_facet_bound_the_region(monkeypatch, copy):
    """Rows that are exact positive multiples of each other on a cell bound it by one hyperplane,
    and none of them alone: each is listed as a facet where their hyperplane is one, and every
    region has the vertex engine's facet hyperplanes (before, a domain row written twice was
    listed by neither copy, and the region looked unbounded there). A unit that copies a row
    already there never cuts a cell, so it is no row: the vertex engine, which reads the sources
    off the hyperplanes through a facet's vertices, lists it too; here only the rows' sources
    are, the same hyperplanes."""
    (W1, b1), *rest = [(layer.W.copy(), layer.b.copy()) for layer in random_net([6, 6, 4, 1], 3).layers]
    A = np.vstack([-np.eye(6), np.eye(6)])
    b = -np.ones(12)
    if copy.startswith("domain row"):  # x_0 <= 1 as 2 x_0 <= 2 (and as x_0 / 4 <= 1 / 4)
        more = [2.0] if copy == "domain row twice" else [2.0, 0.25]
        A, b = np.vstack([A, *[f * A[6] for f in more]]), np.append(b, [f * b[6] for f in more])
    elif copy in ("unit twice", "unit negated"):
        sign = 1.0 if copy == "unit twice" else -1.0
        W1, b1 = np.vstack([W1, sign * 2 * W1[0]]), np.append(b1, sign * 2 * b1[0])
        rest[0] = (np.hstack([rest[0][0], rest[0][0][:, :1]]), rest[0][1])
    else:
        W1[0], b1[0] = np.eye(6)[1] / 2, -0.5  # x_1 / 2 - 1 / 2 = 0 is the face x_1 = 1
    net = rn.Network.from_layers([(W1, b1), *rest])
    domain = rn.Polytope(A, b)
    by_rows = rn.enumerate_regions(net, domain)
    monkeypatch.setattr(hrep, "HREP_ABOVE", 99)
    by_vertices = rn.enumerate_regions(net, domain)
    assert _patterns(by_rows) == _patterns(by_vertices)
    assert all(_hyperplanes(by_rows, i) == _hyperplanes(by_vertices, i) for i in range(len(by_rows)))
    if copy.startswith("domain row"):
        assert all(_sources(by_rows, i) == _sources(by_vertices, i) for i in range(len(by_rows)))
        assert any((-1, 6) in _sources(by_rows, i) and (-1, 12) in _sources(by_rows, i)
                   for i in range(len(by_rows)))
