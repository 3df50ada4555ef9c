"""Invariants every result must satisfy: sampling, volumes, facets, affine maps, determinism."""
import numpy as np
import pytest
from scipy.spatial import ConvexHull

import regionenum as rn
from tests.oracles import check_against_samples, random_net, stretched_net


@pytest.mark.parametrize("d,widths,seed", [(2, [32, 32, 32], 0), (3, [16, 16], 1), (4, [8, 8], 2)])
def test_random_nets_sampling_volumes_and_maps(d, widths, seed):
    net = random_net([d] + widths + [2], seed)
    box = rn.Box(-np.ones(d), np.ones(d))
    regions = rn.enumerate_regions(net, box)
    X = np.random.default_rng(seed).uniform(-1, 1, (20000, d))
    check_against_samples(net, box, regions, X)
    assert regions.volumes.sum() == pytest.approx(2.0 ** d, rel=1e-9)
    assert np.all(regions.volumes > 0)
    assert np.array_equal(regions.locate(regions.interior_points), np.arange(len(regions)))
    assert len(np.unique(regions.patterns, axis=0)) == len(regions)
    assert rn.count_regions(net, box) == len(regions)


def test_vertices_and_volumes_match_qhull():
    net = random_net([3, 10, 10, 1], 3)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    for i in range(0, len(regions), max(1, len(regions) // 50)):
        V = regions.vertices_of(i)
        assert ConvexHull(V).volume == pytest.approx(regions.volumes[i], rel=1e-7)
        eq, _, _ = regions.facets_of(i)
        assert np.all(V @ eq[:, :-1].T + eq[:, -1] <= 1e-9)
        # every facet holds at least d vertices, every vertex at least d facets
        tight = np.abs(V @ eq[:, :-1].T + eq[:, -1]) <= 1e-9
        assert np.all(tight.sum(axis=0) >= 3) and np.all(tight.sum(axis=1) >= 3)


def test_facet_sources_are_the_flipping_units():
    net = random_net([2, 12, 12, 1], 4)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    rng = np.random.default_rng(0)
    for i in rng.choice(len(regions), 40, replace=False):
        eq, layers, units = regions.facets_of(i)
        for e, l, u in zip(eq, layers, units):
            if l < 0:
                continue
            # the region's own facet equation is that unit's pre-activation, up to scale
            verts = regions.vertices_of(i)
            on_facet = verts[np.abs(verts @ e[:-1] + e[-1]) <= 1e-9]
            pre = net.pre_activations(on_facet)[l][:, u]
            assert np.all(np.abs(pre) <= 1e-8)


@pytest.mark.parametrize("domain", [rn.Box([-1, -1], [1, 1]), rn.Polytope.whole_space(2),
                                    rn.Box([1e-3, 300.0], [4e-3, 1e4])])
def test_facets_are_made_when_first_read(tmp_path, domain):
    """A result's facet equations, layers and units are made from its cells when first read,
    not by the enumeration: each region's interior point lies strictly inside its facets, a
    bounded region's facets hold two of its vertices or more, a unit's at its zeros, and the
    arrays are the same read at once, after pickling and after a file (on a box, the whole
    plane in pieces, and a box of badly scaled coordinates, whose result is mapped back from
    the run's)."""
    import pickle

    from regionenum.errors import InternalError
    from regionenum.result import Regions
    lo, hi = (domain.lo, domain.hi) if isinstance(domain, rn.Box) else (-np.ones(2), np.ones(2))
    net = stretched_net(random_net([2, 12, 12, 1], 4), (hi - lo) / 2, (hi + lo) / 2)
    regions = rn.enumerate_regions(net, domain)
    names = ("facet_equations", "facet_layers", "facet_units")
    assert not set(names) & set(vars(regions))
    unread = pickle.loads(pickle.dumps(regions))
    rn.save_regions(regions, tmp_path / "r.npz")  # reads them
    loaded = rn.load_regions(tmp_path / "r.npz")
    for name in names:
        a = getattr(regions, name)
        assert np.array_equal(a, getattr(unread, name)) and np.array_equal(a, getattr(loaded, name)), name
    eq, layers, units = regions.facet_equations, regions.facet_layers, regions.facet_units
    owner = np.repeat(np.arange(len(regions)), np.diff(regions.facet_offsets))
    x = regions.interior_points[owner]
    assert np.all(np.einsum("fd,fd->f", eq[:, :-1], x) + eq[:, -1] < 0)
    assert np.allclose(np.linalg.norm(eq[:, :-1], axis=1), 1.0)
    for i in np.flatnonzero(regions.bounded)[::3]:  # a unit's facet: its vertices are zeros of the unit
        verts = regions.vertices_of(i)
        for e, layer, unit in zip(*regions.facets_of(i)):
            rounding = 1e-9 * (np.abs(verts) @ np.abs(e[:-1]) + abs(e[-1]))
            on_facet = verts[np.abs(verts @ e[:-1] + e[-1]) <= rounding]
            assert len(on_facet) >= 2
            if layer >= 0:
                assert np.all(np.abs(net.pre_activations(on_facet)[layer][:, unit]) <= 1e-8)
    kwargs = {k: getattr(regions, k) for k in ("packed_patterns", "interior_points", "bounded", "volumes",
                                               "vertex_offsets", "vertices", "facet_offsets", "jacobians",
                                               "offsets", "output_errors", "complex")}
    for facets in ({}, {"facet_equations": eq}, dict(zip(names, (eq, layers, units)), facet_source=unread)):
        with pytest.raises(InternalError, match="facets"):
            Regions(net, domain, **kwargs, **facets)


def test_unbounded_polytope_domain():
    net = random_net([2, 6, 6, 1], 8, bias_std=0.5)
    half_plane = rn.Polytope(np.array([[1.0, 2.0]]), np.array([-0.5]))
    regions = rn.enumerate_regions(net, half_plane)
    X = np.random.default_rng(1).normal(scale=3, size=(5000, 2))
    X = X[half_plane.contains(X)]
    check_against_samples(net, half_plane, regions, X)
    assert np.all(np.isinf(regions.volumes[~regions.bounded]))
    assert regions.bounded.sum() == rn.count_regions(net, half_plane).bounded
    for i in np.flatnonzero(regions.bounded):
        assert ConvexHull(regions.vertices_of(i)).volume == pytest.approx(regions.volumes[i], rel=1e-7)
    assert np.array_equal(regions.locate(regions.interior_points), np.arange(len(regions)))


def test_deterministic_and_independent_of_batch_size():
    net = random_net([2, 24, 24, 1], 9)
    box = rn.Box([-1, -1], [1, 1])
    a = rn.enumerate_regions(net, box)
    again = rn.enumerate_regions(net, box)
    assert np.array_equal(a.patterns, again.patterns)
    for name in ("vertices", "volumes", "facet_equations", "interior_points"):  # BLAS threads may vary
        np.testing.assert_allclose(getattr(a, name), getattr(again, name), rtol=1e-12, atol=1e-12)
    # another batch size changes BLAS blocking, so floats may differ in the last bits only
    b = rn.enumerate_regions(net, box, batch_size=7)
    assert np.array_equal(a.patterns, b.patterns)
    assert np.array_equal(a.vertex_offsets, b.vertex_offsets)
    np.testing.assert_allclose(a.vertices, b.vertices, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.volumes, b.volumes, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# degenerate arrangements, counted by hand
def _count(W, b, box=((-1, -1), (1, 1))):
    W = np.asarray(W, float)
    net = rn.Network.from_layers([(W, np.asarray(b, float)), (np.ones((1, len(W))), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box(*box))
    assert regions.volumes.sum() == pytest.approx(np.prod(np.subtract(box[1], box[0])))
    return regions


def test_repeated_hyperplane_counts_once_and_names_both_units():
    regions = _count([[1, 0], [1, 0], [2, 0]], [0, 0, 0])
    assert len(regions) == 2
    eq, layers, units = regions.facets_of(0)
    inner = units[layers == 0]
    assert sorted(inner.tolist()) == [0, 1, 2]


def test_parallel_hyperplanes():
    assert len(_count([[1, 0], [1, 0], [1, 0]], [0, -0.5, 0.5])) == 4


def test_three_lines_through_one_point():
    assert len(_count([[1, 0], [0, 1], [1, 1]], [0, 0, 0])) == 6


def test_hyperplane_through_box_corner_and_along_facet():
    assert len(_count([[1, 1]], [-2])) == 1      # touches the corner (1, 1) only
    assert len(_count([[1, 0]], [-1])) == 1      # lies along the facet x = 1
    assert len(_count([[1, 0], [0, 1]], [-1, 0])) == 2


def test_dead_units():
    # zero weights: never cut, whatever the bias
    assert len(_count([[0, 0], [0, 0], [1, 0]], [1.0, -1.0, 0.0])) == 2
    # a second layer unit whose inputs are all off on part of the domain
    net = rn.Network.from_layers([(np.array([[1.0, 0.0]]), np.array([0.0])),
                                  (np.array([[1.0]]), np.array([0.0])),
                                  (np.array([[1.0]]), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    assert len(regions) == 2
    assert rn.count_regions(net, rn.Box([-1, -1], [1, 1])) == 2


def test_region_vertices_match_cdd_from_facets():
    """cddlib's double description of each region's facet inequalities gives its vertices."""
    import cdd
    net = random_net([3, 8, 8, 1], 11)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    for i in range(0, len(regions), max(1, len(regions) // 40)):
        eq, _, _ = regions.facets_of(i)
        mat = cdd.matrix_from_array(np.hstack([-eq[:, -1:], -eq[:, :-1]]).tolist(),
                                    rep_type=cdd.RepType.INEQUALITY)
        gens = np.array(cdd.copy_generators(cdd.polyhedron_from_matrix(mat)).array)
        assert np.all(gens[:, 0] == 1)  # bounded: points only
        ours = regions.vertices_of(i)
        assert len(gens) == len(ours)
        dist = np.abs(ours[:, None, :] - gens[None, :, 1:]).max(axis=2)
        assert dist.min(axis=1).max() < 1e-9 and dist.min(axis=0).max() < 1e-9


def test_interrupt_returns_partial_result():
    net = random_net([2, 32, 32, 1], 12)

    def stop(progress):
        if progress.regions > 0:
            raise KeyboardInterrupt

    part = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]), batch_size=8, progress=stop)
    assert not part.complete and part.stop_reason == "interrupted" and len(part) > 0


def test_nearly_parallel_hyperplane_meets_half_plane_far_away():
    """x + (2 - 2^-51) y = 1 meets the half-plane x + 2y <= 0.5 only where y < -1e15."""
    slope = 2.0 - 2.0 ** -51
    net = rn.Network.from_layers([(np.array([[-1.0, -slope]]), np.array([1.0])),
                                  (np.ones((1, 1)), np.zeros(1))])
    half_plane = rn.Polytope(np.array([[1.0, 2.0]]), np.array([-0.5]))
    regions = rn.enumerate_regions(net, half_plane)
    assert len(regions) == 2 and not regions.bounded.any()
    witness = np.array([[0.5 + 2e16, -1e16]])  # in the half-plane, with the unit off
    assert half_plane.contains(witness)[0] and net.pre_activations(witness)[0][0, 0] < 0
    assert regions.patterns[:, 0].tolist() == [False, True]


def test_locate_with_a_unit_identically_zero_but_a_few_ulps_in_float():
    """Unit 2 of layer 1 is identically zero on region 1 (so off), yet evaluates to 4e-16 at
    its interior point: the point is still located, by its facets."""
    layers = [([[0.5, -2.0], [-0.5, 2.0]], [2.0, 0.0]),
              ([[-2.0, -2.0], [0.0, 0.5], [-1.0, -2.0], [-2.0, -2.0]], [-2.0, 0.5, 2.0, -2.0]),
              ([[-2.0] * 4] * 4, [-2.0] * 4), ([[-2.0] * 4], [-2.0])]
    net = rn.Network.from_layers(layers, [("leaky_relu", 0.5), "relu", "relu", "identity"])
    regions = rn.enumerate_regions(net, rn.Polytope(np.array([[1.0, 2.0]]), np.array([-0.5])))
    assert np.array_equal(regions.locate(regions.interior_points), np.arange(len(regions)))
    assert regions.locate([[1e6, 0.0]])[0] == -1  # outside the half-plane


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_locate_refuses_points_that_are_not_finite(bad):
    """A point with a NaN or infinite coordinate lies in no region: refused by name (NaN used
    to come out as -1, outside, and an infinity with a RuntimeWarning), the rows named."""
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    for domain in (rn.Box([-1, -1], [1, 1]), rn.Polytope.whole_space(2)):
        regions = rn.enumerate_regions(net, domain)
        points = np.zeros((8, 2))
        points[[2, 7], 1] = bad
        with pytest.raises(rn.InvalidArgumentError, match=r"X has points .* not finite \(rows 2, 7\)"):
            regions.locate(points)
        assert regions.locate(points[:2]).tolist() == [0, 0]
