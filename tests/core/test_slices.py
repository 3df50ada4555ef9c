"""Slices: lines and planes through inputs."""
import numpy as np
import pytest

import regionenum as rn


def test_slice_errors():
    with pytest.raises(rn.InvalidDomainError, match="collinear"):
        rn.Slice.through([0, 0, 0], [1, 1, 1], [2, 2, 2])
    with pytest.raises(rn.InvalidDomainError, match="2 points"):
        rn.Slice.through([0, 0])
    for bad in (np.nan, np.inf):  # named, not LAPACK's "SVD did not converge"
        with pytest.raises(rn.InvalidDomainError, match="point 2 has coordinates that are not finite"):
            rn.Slice.through([0, 0], [1, 0], [bad, 1])
    net = rn.Network.from_layers([(np.eye(3), np.zeros(3)), (np.ones((1, 3)), np.zeros(1))])
    with pytest.raises(rn.InvalidDomainError, match="slice lives in 2 inputs"):
        rn.count_regions(net, rn.Slice.through([0, 0], [1, 0], [0, 1]))
    line = rn.Slice.through([0.0, -1.0, 0.5], [0.0, 1.0, 0.5])
    assert rn.count_regions(net, line) == 2  # the line crosses x1 = 0 once


@pytest.mark.parametrize("seed", range(12))
def test_units_that_coincide_exactly_on_the_plane_stay_one_hyperplane(seed):
    """Two units differing by ``v = (2, -1, 0)``, which is orthogonal to the plane's origin and
    directions in exact arithmetic: on the plane they are one hyperplane. Folding the plane into
    the first layer in float64 rounds ``W @ basis`` differently for the two rows, and left 3 or 4
    regions where there are 2; the network with only the first unit is the second path."""
    rng = np.random.default_rng(seed)
    w = np.round(rng.normal(size=3) * 2**20) / 2**20  # so that w + v is exact
    x, y, z, t = rng.uniform(-0.1, 0.1, 4)
    basis = np.array([[x, y], [2 * x, 2 * y], [z, t]])
    o1, o3 = rng.uniform(-0.01, 0.01, 2)
    plane = rn.Slice([o1, 2 * o1, o3], basis, rn.Box([-1, -1], [1, 1]))
    pair = rn.Network.from_layers([(np.stack([w, w + [2.0, -1.0, 0.0]]), np.zeros(2)),
                                   (np.array([[1.0, 1.5]]), np.zeros(1))])
    single = rn.Network.from_layers([(w[None], np.zeros(1)), (np.array([[2.5]]), np.zeros(1))])
    expected = int(rn.count_regions(single, plane))
    regions = rn.enumerate_regions(pair, plane)
    assert rn.count_regions(pair, plane) == len(regions) == expected == 2
    rn.certify(regions)  # raises CertificationError if wrong


def test_restricted_network_keeps_units_patterns_and_values():
    rng = np.random.default_rng(3)
    net = rn.Network.from_layers([(rng.normal(size=(5, 4)), rng.normal(size=5)),
                                  (rng.normal(size=(2, 5)), rng.normal(size=2))])
    origin, basis = rng.normal(size=4), rng.normal(size=(4, 2))
    sub = net.restricted(origin, basis)
    T = rng.normal(size=(6, 2))
    X = origin + T @ basis.T
    np.testing.assert_allclose(sub(T), net(X), rtol=1e-12, atol=1e-12)
    assert sub.n_units == net.n_units and sub.input_dim == 2
    np.testing.assert_array_equal(sub.pattern_bits(T), net.pattern_bits(X))
