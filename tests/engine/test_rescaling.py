"""Domains whose coordinates differ in spread by orders are run in coordinates rescaled by powers
of two (:mod:`regionenum.engine.rescaling`), and the result mapped back: checked against the same
problem run as given (a second code path), against the unstretched problem (an exact
equivalence), and in exact arithmetic (``rn.certify``)."""
import math
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.engine import rescaling
from tests.oracles import random_net, stretched_net


def _as_given(monkeypatch):
    """Run every domain in its own coordinates from now on."""
    monkeypatch.setattr(rescaling, "GAIN", np.inf)


def test_scales_bring_every_spread_into_one_binade():
    net = random_net([3, 4, 1], 0)
    scales = rescaling.input_scales(net, rn.Box([0.0, -3.0, 1000.0], [2.0 ** -8, 5.0, 1e5]))
    # spreads 2^-8, 2^3 and 99,000 (2^16 .. 2^17): frexp's exponents -7, 4 and 17, their mean 4.67
    assert scales.tolist() == [2.0 ** -12, 2.0 ** -1, 2.0 ** 12]
    spreads = np.array([2.0 ** -8, 8.0, 99000.0]) / scales
    assert np.all(np.frexp(spreads)[1] == 5)
    assert rescaling.input_scales(net, rn.Box([-1.0, -1, -1], [1.0, 1, 2])) is None  # nothing to gain
    assert rescaling.input_scales(net, rn.Box([-1.0, -1, -1], [1.0, 1, 40])) is None  # gains 12 times
    assert rescaling.input_scales(net, rn.Box([-1.0, -1, -1], [1.0, 1, 100])) is not None  # 25 times
    assert rescaling.input_scales(net, rn.Polytope.whole_space(3)) is None  # no spreads to balance
    half = rn.Polytope(np.array([[1.0, 0, 0]]), np.array([-1.0]))
    assert rescaling.input_scales(net, half) is None
    line = rn.Network.from_layers([(np.ones((2, 1)), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    assert rescaling.input_scales(line, rn.Box([0.0], [1e9])) is None  # one coordinate
    # a first-layer entry that would lose bits below float64's normal range: run as given
    tiny = rn.Network.from_layers([(np.array([[1.0, 3 * 2.0 ** -1070], [1.0, 1.0]]), np.zeros(2)),
                                   (np.ones((1, 2)), np.zeros(1))])
    assert rescaling.input_scales(tiny, rn.Box([0.0, 0.0], [1.0, 2.0 ** -20])) is None
    assert rescaling.input_scales(tiny, rn.Box([0.0, 0.0], [2.0 ** -20, 1.0])) is not None


@pytest.mark.parametrize("centre,k,seed", [(1000.0, 10, 1), (1000.0, 6, 6), (10.0, 10, 7)])
def test_a_thin_coordinate_far_from_the_origin_is_left_as_it_is(centre, k, seed):
    """``x0`` in ``[c, c + 2^-k]``: its rounding is set by ``c``, not by its spread, and
    rescaling it to the other's spread made more signs exact (15,509 against 6,615 for ``c =
    1000, k = 10``); the model of the bounds' growth says so, and the domain is run as given."""
    lo, hi = np.array([centre, -1.0]), np.array([centre + 2.0 ** -k, 1.0])
    net = stretched_net(random_net([2, 12, 12, 12, 1], seed), (hi - lo) / 2, (hi + lo) / 2)
    assert rescaling.input_scales(net, rn.Box(lo, hi)) is None
    spread, reach = hi - lo, np.maximum(np.abs(lo), np.abs(hi))
    even = np.ldexp(1.0, np.frexp(spread)[1] - 1)  # both spreads in one binade, the thin one's
    assert rescaling.bound_growth(spread / even, reach / even) >= rescaling.bound_growth(spread, reach)


@pytest.mark.parametrize("exponents", [(599, -11), (60, -340, -340, -340)])
def test_volumes_near_the_ends_of_float64s_range(monkeypatch, exponents):
    """Boxes of spreads ``2^600`` and ``2^-10`` (volume ``2^590``), and of ``2^61`` and three of
    ``2^-339`` (``2^-956``): in coordinates of the largest spread the first's volume overflowed,
    and the product of the second's scales underflowed; in those of the spreads' geometric mean
    the volumes are the run as given's."""
    scale = 2.0 ** np.array(exponents, dtype=float)
    net = stretched_net(random_net([len(scale), 6, 1], 1), scale)
    box = rn.Box(-scale, scale)
    assert rescaling.input_scales(net, box) is not None
    rescaled = rn.enumerate_regions(net, box)
    _as_given(monkeypatch)
    given = rn.enumerate_regions(net, box)
    assert np.array_equal(rescaled.patterns, given.patterns)
    assert rescaled.volumes.sum() == pytest.approx(np.prod(2 * scale), rel=1e-12)
    np.testing.assert_allclose(rescaled.volumes, given.volumes, rtol=1e-9)


@pytest.mark.parametrize("dims,seed", [((2, 12, 12, 1), 3), ((3, 8, 8, 2), 4), ((4, 6, 6, 1), 5)])
def test_a_stretched_box_gives_the_result_of_its_own_coordinates(monkeypatch, dims, seed):
    """A box of spreads from ``1e-3`` to ``1e4``, off the origin: the rescaled run and the run as
    given have the same regions and geometry; the rescaled one is proven right in exact
    arithmetic, and float64 settled at least as many of its signs."""
    d = dims[0]
    lo = np.array([1e-3, -2.0, 300.0, 5.0][:d])
    hi = lo + np.array([3e-3, 1.5, 1e4, 40.0][:d])
    net = stretched_net(random_net(list(dims), seed), (hi - lo) / 2, (hi + lo) / 2)
    box = rn.Box(lo, hi)
    assert rescaling.input_scales(net, box) is not None
    rescaled = rn.enumerate_regions(net, box)
    _as_given(monkeypatch)
    given = rn.enumerate_regions(net, box)
    assert len(rescaled) > 20
    assert np.array_equal(rescaled.patterns, given.patterns)
    assert rescaled.network is net and rescaled.domain is box
    np.testing.assert_allclose(rescaled.volumes, given.volumes, rtol=1e-9)
    assert rescaled.volumes.sum() == pytest.approx(np.prod(hi - lo), rel=1e-12)
    np.testing.assert_array_equal(rescaled.vertex_offsets, given.vertex_offsets)
    span = hi - lo
    assert np.all(np.abs(rescaled.vertices - given.vertices) <= 1e-9 * span)  # same order per cell
    assert np.all(box.contains(rescaled.vertices, tol=1e-9 * span.max()))
    np.testing.assert_array_equal(rescaled.facet_offsets, given.facet_offsets)
    np.testing.assert_allclose(rescaled.facet_equations, given.facet_equations, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(rescaled.jacobians, given.jacobians, rtol=1e-9, atol=0)
    x = rescaled.interior_points
    assert np.all(box.contains(x)) and np.array_equal(rescaled.locate(x), np.arange(len(rescaled)))
    mapped = np.einsum("nkd,nd->nk", rescaled.jacobians, x) + rescaled.offsets
    np.testing.assert_allclose(mapped, net(x), rtol=1e-9, atol=1e-9)
    rescaled_exact = rescaled.sign_stages["exact arithmetic"] + rescaled.sign_stages["float64 expansions"]
    given_exact = given.sign_stages["exact arithmetic"] + given.sign_stages["float64 expansions"]
    assert rescaled_exact <= given_exact
    certificate = rn.certify(rescaled)  # raises where a region, facet or volume is wrong
    assert certificate.regions == len(rescaled)
    if d <= 3:  # volumes are checked up to 3-D
        assert certificate.volume == math.prod(Fraction(top) - Fraction(low) for low, top in zip(lo, hi))


@pytest.mark.parametrize("spread", [10, 20])
def test_a_box_stretched_by_powers_of_two_runs_as_the_unstretched_one(spread):
    """Stretched by ``2^-spread`` and ``2^spread`` the problem is the unstretched one exactly;
    rescaled, it is run as that one: every sign where float64 settles it there."""
    scale = 2.0 ** np.array([-spread, 0.0, spread])
    net = random_net([3, 8, 8, 8, 1], 5)
    plain = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    regions = rn.enumerate_regions(stretched_net(net, scale), rn.Box(-scale, scale))
    assert regions.sign_stages == plain.sign_stages
    assert np.array_equal(regions.patterns, plain.patterns)
    np.testing.assert_array_equal(regions.volumes, plain.volumes * np.prod(scale))
    np.testing.assert_array_equal(regions.vertices, plain.vertices * scale)


def test_a_stretched_polytope_and_the_analyses_on_it(monkeypatch):
    """A triangle stretched by ``2^-12`` along one coordinate: regions, faces, the adjacency
    graph and decision regions, rescaled and as given."""
    scale = np.array([2.0 ** -12, 1.0])
    A = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]) / scale
    triangle = rn.Polytope(A, np.array([-0.1, -0.2, -1.0]))
    net = stretched_net(random_net([2, 10, 10, 3], 6), scale)
    assert rescaling.input_scales(net, triangle) is not None
    results = []
    for monkeypatched in (False, True):
        if monkeypatched:
            _as_given(monkeypatch)
        regions = rn.enumerate_regions(net, triangle)
        faces = regions.faces()
        results.append((regions, faces.f_vector, regions.adjacency_graph().number_of_edges(),
                        regions.decision_regions()))
    (rescaled, f1, e1, dec1), (given, f2, e2, dec2) = results
    assert np.array_equal(rescaled.patterns, given.patterns) and list(f1) == list(f2) and e1 == e2
    assert rescaled.volumes.sum() == pytest.approx(triangle.volume(), rel=1e-12)
    np.testing.assert_allclose(rescaled.volumes, given.volumes, rtol=1e-9)
    np.testing.assert_array_equal(dec1.classes, dec2.classes)
    np.testing.assert_allclose(dec1.volumes, dec2.volumes, rtol=1e-9)
    assert rn.certify(rescaled).regions == len(rescaled)


def test_counts_on_slices_and_inequalities_are_those_of_the_unstretched_problem():
    """A plane through three inputs whose own box is stretched, and six inputs (regions by their
    inequalities): counts as unstretched, and the six-input regions' maps and interior points in
    the domain's own coordinates."""
    net = random_net([3, 10, 10, 1], 7)
    t_scale = np.array([2.0 ** -15, 1.0])
    basis = np.array([[1.0, 0.0], [0.5, 1.0], [0.0, -0.5]])
    plain = rn.count_regions(net, rn.Slice(np.zeros(3), basis, rn.Box(-np.ones(2), np.ones(2))))
    stretched = rn.Slice(np.zeros(3), basis / t_scale, rn.Box(-t_scale, t_scale))
    assert rn.count_regions(net, stretched) == plain
    assert len(rn.enumerate_regions(net, stretched)) == plain
    net6 = random_net([6, 5, 5, 1], 8)
    scale = 2.0 ** np.array([-10, -4, 0, 0, 4, 10])
    box = rn.Box(-scale, scale)
    cube = rn.Box(-np.ones(6), np.ones(6))
    assert rn.count_regions(stretched_net(net6, scale), box) == rn.count_regions(net6, cube)
    regions = rn.enumerate_regions(stretched_net(net6, scale), box)
    assert np.all(box.contains(regions.interior_points))
    mapped = np.einsum("nkd,nd->nk", regions.jacobians, regions.interior_points) + regions.offsets
    np.testing.assert_allclose(mapped, regions.network(regions.interior_points), rtol=1e-9, atol=1e-12)


def test_the_vertices_stay_a_view_of_the_generators():
    """On a bounded domain the vertices are the generators' coordinates, not a copy: so after
    mapping back (the generators scaled in place, once)."""
    scale = np.array([2.0 ** -10, 1.0])
    regions = rn.enumerate_regions(stretched_net(random_net([2, 8, 8, 1], 9), scale), rn.Box(-scale, scale))
    assert np.shares_memory(regions.vertices, regions.cells.gens)
    np.testing.assert_array_equal(regions.vertices, regions.cells.gens[:, 1:])
    assert np.all(np.abs(regions.vertices) <= scale)
