"""Region statistics against linear programming on every unit's inequalities, the result's own
arrays, the adjacency graph and closed forms; unit statistics on dead and always-on units."""
import numpy as np
import pytest
from scipy.optimize import linprog

import regionenum as rn
from tests.oracles import random_net


def _all_inequalities(net, domain, pattern):
    """The region of ``pattern`` as ``A x + b <= 0``: the domain's rows and every unit's sign
    (redundant ones included), from the layers' weights composed through the pattern."""
    rows, rhs = [domain.A], [domain.b]
    M, c = np.eye(net.input_dim), np.zeros(net.input_dim)
    bit = 0
    for layer, units in zip(net.layers, net.split_units):
        Wc, bc = layer.W @ M, layer.W @ c + layer.b
        scale = np.ones(layer.width)
        for j in units:
            on = pattern[bit]
            sign = -1.0 if on else 1.0  # on: z > 0, i.e. -z <= 0
            rows.append(sign * Wc[j][None])
            rhs.append([sign * bc[j]])
            scale[j] = 1.0 if on else layer.activation.off_slope
            bit += 1
        M, c = scale[:, None] * Wc, scale * bc
    return np.vstack(rows), np.concatenate(rhs)


def test_chebyshev_balls_against_linprog_on_all_inequalities():
    net = random_net([2, 10, 10, 1], 3)
    box = rn.Box([-1, -1], [1, 1])
    regions = rn.enumerate_regions(net, box)
    stats = regions.statistics()
    for i in range(0, len(regions), 7):
        A, b = _all_inequalities(net, box, regions.patterns[i])
        norms = np.linalg.norm(A, axis=1)
        keep = norms > 0
        A, b, norms = A[keep], b[keep], norms[keep]
        res = linprog(np.r_[0, 0, -1.0], A_ub=np.c_[A, norms], b_ub=-b, bounds=[(None, None)] * 2 + [(0, None)],
                      method="highs")
        assert stats["inradius"][i] == pytest.approx(res.x[-1], rel=1e-6, abs=1e-12)
        # the centre is inside at that distance from every inequality
        assert np.all(A @ stats["center"][i] + b + stats["inradius"][i] * norms <= 1e-9)


def test_balls_the_kernel_leaves_go_to_highs(monkeypatch):
    """Regions whose programme the dual simplex kernel does not finish (a singular basis in
    float64) are solved by HiGHS: forcing that on every third region gives the same balls, to
    HiGHS's tolerance."""
    from regionenum.analysis import statistics
    from regionenum.engine.kernels import simplex
    regions = rn.enumerate_regions(random_net([3, 8, 8, 1], 5), rn.Box(-np.ones(3), np.ones(3)))
    which = np.flatnonzero(regions.bounded)
    radii, centres = statistics.chebyshev_balls(regions, which)

    def failing(*args, **kwargs):
        status, x = simplex.solve_lp_blocks(*args, **kwargs)
        status[::3] = simplex.FAILED
        x[::3] = np.nan
        return status, x

    monkeypatch.setattr(statistics, "solve_lp_blocks", failing)
    radii2, centres2 = statistics.chebyshev_balls(regions, which)
    assert len(which) > 100 and np.all(np.isfinite(radii2)) and np.all(np.isfinite(centres2))
    np.testing.assert_allclose(radii2, radii, rtol=1e-5, atol=1e-12)
    np.testing.assert_array_equal(radii2[1::3], radii[1::3])


@pytest.mark.parametrize("far", [0.0, 1e6])
def test_balls_of_small_regions_far_from_the_origin(far):
    """Four squares of side 5e-4 around (far, far): each ball has radius 2.5e-4 about its
    square's centre, however far the squares lie from the origin (found by review: the kernel's
    tolerance, relative to the facets' offsets, let a ball at 1e6 overstep its facets by its
    own radius until the programmes were solved about each region's centre). A region that is
    not bounded is refused by name."""
    from regionenum.analysis.statistics import chebyshev_balls
    centre = far + 5e-4
    net = rn.Network.from_layers([(np.eye(2), -np.full(2, centre)), (np.ones((1, 2)), [0.0])])
    regions = rn.enumerate_regions(net, rn.Box([far, far], [far + 1e-3, far + 1e-3]))
    radii, centres = chebyshev_balls(regions, np.arange(len(regions)))
    np.testing.assert_allclose(radii, 2.5e-4, rtol=1e-6)
    expected = np.array([[np.median(regions.vertices_of(i)[:, k]) for k in range(2)] for i in range(4)])
    np.testing.assert_allclose(centres - far, expected - far, atol=1e-9)
    plane = rn.enumerate_regions(net, rn.Polytope.whole_space(2))
    with pytest.raises(rn.InvalidArgumentError, match="region 0 is unbounded"):
        chebyshev_balls(plane, [0])


def test_chebyshev_balls_of_unbounded_sets():
    """Unbounded sets whose largest ball is finite (a slab, a half-strip) and infinite (a
    half-plane, a wedge, a cone in four dimensions)."""
    from regionenum.analysis.statistics import chebyshev_ball
    slab = np.array([[1.0, 0, -1], [-1.0, 0, -1]])  # |x0| <= 1
    half_strip = np.array([[0, 1.0, -2], [0, -1.0, 0], [-1.0, 0, 0]])  # 0 <= x1 <= 2, x0 >= 0
    for equations, radius in ((slab, 1.0), (half_strip, 1.0)):
        r, centre = chebyshev_ball(equations)
        assert r == pytest.approx(radius, rel=1e-9)
        assert np.all(equations[:, :-1] @ centre + equations[:, -1] + r <= 1e-9)
    wedge = np.array([[-1.0, 1, 0], [-1.0, -1, 0]]) / np.sqrt(2)  # |x1| <= x0
    cone = np.c_[-np.eye(4), np.ones(4)]  # x >= 1
    for equations in (np.array([[1.0, 0, 0]]), wedge, cone):
        r, centre = chebyshev_ball(equations)
        assert r == np.inf and np.isnan(centre).all()


def test_statistics_of_unbounded_regions_in_four_dimensions():
    """On the whole 4-D space some regions' ball programme is unbounded, which the solver can
    leave undecided (no point, an unknown status): each unbounded region's radius is infinite
    exactly where it holds a direction strictly inside all its facets, and otherwise its ball
    lies inside them; bounded regions' balls too."""
    regions = rn.enumerate_regions(random_net([4, 6, 5, 2], 305), rn.Polytope.whole_space(4))
    stats = regions.statistics()
    for i in range(len(regions)):
        eq = regions.facets_of(i)[0]
        A, b = eq[:, :-1], eq[:, -1]
        inside = linprog(np.r_[np.zeros(4), -1.0], A_ub=np.c_[A, np.ones(len(A))], b_ub=np.zeros(len(A)),
                         bounds=[(-1, 1)] * 4 + [(0, 1)], method="highs").x[-1]  # a direction's depth
        if np.isinf(stats["inradius"][i]):
            assert not regions.bounded[i] and inside > 1e-9
        else:
            assert inside < 1e-9 and stats["inradius"][i] > 0
            assert np.all(A @ stats["center"][i] + b + stats["inradius"][i] <= 1e-9)
    assert np.isinf(stats["inradius"]).sum() > 0 and np.isfinite(stats["inradius"][~regions.bounded]).sum() > 0


def test_counts_against_the_result_and_the_graph():
    net = random_net([2, 12, 12, 2], 4)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    stats = regions.statistics()
    np.testing.assert_array_equal(stats["n_facets"], np.diff(regions.facet_offsets))
    np.testing.assert_array_equal(stats["n_vertices"], np.diff(regions.vertex_offsets))
    G = regions.adjacency_graph()
    np.testing.assert_array_equal(stats["degree"], [G.degree[i] for i in range(len(regions))])
    np.testing.assert_array_equal(stats["volume"], regions.volumes)
    # centroids lie inside; the ball fits; eccentricities at least 1
    for i in range(len(regions)):
        eq = regions.facets_of(i)[0]
        assert np.all(eq[:, :-1] @ stats["centroid"][i] + eq[:, -1] < 0)
        assert np.pi * stats["inradius"][i] ** 2 <= regions.volumes[i] * (1 + 1e-9)
    assert np.all(stats["eccentricity"] >= 1 - 1e-9)


def test_closed_forms():
    # the quadrants of the square: squares of side 1
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    stats = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).statistics()
    np.testing.assert_allclose(stats["inradius"], 0.5)
    np.testing.assert_allclose(np.abs(stats["center"]), 0.5)
    np.testing.assert_allclose(np.abs(stats["centroid"]), 0.5)
    np.testing.assert_allclose(stats["eccentricity"], 1.0)
    assert stats["n_facets"].tolist() == [4] * 4 and stats["degree"].tolist() == [2] * 4
    # a 3 x 1 box: covariance diag(9, 1) / 12, eccentricity 3
    line = rn.Network.from_layers([(np.array([[1.0, 0.0]]), [0.0]), (np.ones((1, 1)), [0.0])])
    stats = rn.enumerate_regions(line, rn.Box([0, 0], [3, 1])).statistics()
    assert stats["eccentricity"][0] == pytest.approx(3.0) and stats["inradius"][0] == pytest.approx(0.5)


def test_unit_statistics():
    W = np.array([[1.0, 0.0], [0.0, 0.0], [0.01, 0.0]])
    net = rn.Network.from_layers([(W, [0.0, -1.0, 1.0]), (np.ones((1, 3)), [0.0])])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    units = regions.statistics(per="unit")
    assert units["dead"].tolist() == [False, True, False]
    assert units["always_on"].tolist() == [False, False, True]
    np.testing.assert_allclose(units["on_volume"], [0.5, 0.0, 1.0])
    with pytest.raises(rn.InvalidArgumentError, match="per must be"):
        regions.statistics(per="layer")


@pytest.mark.parametrize("widths", [[2, 10, 10, 1], [3, 10, 10, 1], [4, 6, 6, 1]], ids=["2d", "3d", "4d"])
def test_moments_two_ways(widths):
    """The pulling triangulation of the face lattice (the flags' simplices, summed by a kernel
    with determinants written out in 2-D and 3-D, by elimination above) against the convex
    hull of each region, and its volumes against the enumeration's. A region's eccentricity
    reads its smallest eigenvalue, which on thin regions (a ratio of 4e8 between the largest
    and the smallest in 4-D) moves with the rounding of either covariance far more than they
    do: it is held to what their distance allows."""
    from regionenum.analysis.statistics import complex_moments, moments
    from regionenum.analysis.topology import subdivision_complex
    d = widths[0]
    regions = rn.enumerate_regions(random_net(widths, 0), rn.Box(-np.ones(d), np.ones(d)))
    stats = regions.statistics()
    volumes, _, covariances = complex_moments(subdivision_complex(regions))
    np.testing.assert_allclose(volumes, regions.volumes, rtol=1e-9)
    assert np.array_equal(covariances, covariances.transpose(0, 2, 1))
    for i in range(0, len(regions), max(1, len(regions) // 60)):
        volume, centroid, cov = moments(regions.vertices_of(i))
        assert volume == pytest.approx(regions.volumes[i], rel=1e-9)
        np.testing.assert_allclose(stats["centroid"][i], centroid, atol=1e-10)
        np.testing.assert_allclose(covariances[i], cov, rtol=1e-7, atol=1e-12)
        # the eccentricity is the triangulation's covariance's, whose eigenvalues are each within
        # the two covariances' 2-norm distance of the hull's (Weyl), plus the eigensolver's rounding
        eig, own = np.linalg.eigvalsh(cov), np.linalg.eigvalsh(covariances[i])
        assert stats["eccentricity"][i] == pytest.approx(np.sqrt(own[-1] / own[0]), rel=1e-12)
        gap = np.linalg.norm(covariances[i] - cov, 2) + 1e-14 * eig[-1]
        low = np.sqrt(max(eig[-1] - gap, 0.0) / (eig[0] + gap))
        high = np.sqrt((eig[-1] + gap) / (eig[0] - gap)) if eig[0] > gap else np.inf
        assert low <= stats["eccentricity"][i] <= high
