"""Distance from data points to their activation region's boundary: brute force over the
region's facets (the region enumerated on the whole plane), sampling around the point, max
layers and bad input."""
import numpy as np
import pytest

import regionenum as rn
from regionenum import estimators
from tests.oracles import random_net


def _maxout_net(seed):
    rng = np.random.default_rng(seed)
    return rn.Network.from_layers([(rng.normal(size=(8, 2)), rng.normal(size=8) * 0.3),
                                   (rng.normal(size=(8, 8)) / 2, rng.normal(size=8) * 0.3),
                                   (rng.normal(size=(1, 4)), np.zeros(1))], ["relu", ("maxout", 2), "identity"])


@pytest.mark.parametrize("kind", ["relu", "maxout", "hardtanh"])
def test_against_the_facets_of_the_enumerated_region(kind):
    net = {"relu": lambda: random_net([2, 8, 8, 1], 1), "maxout": lambda: _maxout_net(1),
           "hardtanh": lambda: random_net([2, 8, 8, 1], 1, activations=[rn.Activation.hardtanh(-0.5, 0.5),
                                                                         "relu", "identity"])}[kind]()
    regions = rn.enumerate_regions(net, rn.Polytope.whole_space(2))
    X = np.random.default_rng(0).uniform(-1.5, 1.5, (200, 2))
    est = estimators.distance_to_boundary(net, X)
    dist = est.details["per_point"]
    idx = regions.locate(X)
    for x, i, got in zip(X, idx, dist):
        eq, layers, _ = regions.facets_of(i)
        brute = np.min(np.abs(eq[:, :-1] @ x + eq[:, -1]))
        assert got == pytest.approx(brute, rel=1e-9, abs=1e-12)
    assert est.kind == "exact" and est.value == pytest.approx(dist.mean())


def test_sampling_around_the_points():
    net = random_net([5, 16, 16, 3], 2)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 5))
    est = estimators.distance_to_boundary(net, X, chunk=7)
    dist, nearest = est.details["per_point"], est.details["nearest"]
    assert est.details["neurons"] == 32
    for x, r, (layer, unit) in zip(X, dist, nearest):
        # inside the ball of radius r the pattern is the point's
        u = rng.normal(size=(200, 5))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        ball = x + 0.999 * r * u * rng.uniform(0, 1, (200, 1)) ** (1 / 5)
        assert np.all(net.pattern_bits(ball) == net.pattern_bits(x[None]))
        # just past the nearest hyperplane, along its normal, the named unit flips
        z = net.pre_activations(x[None])[layer][0, unit]
        h = 1e-6 * r
        grad = (net.pre_activations((x + h * np.eye(5)))[layer][:, unit] - z) / h
        step = x - (1.001 * r) * np.sign(z) * grad / np.linalg.norm(grad)
        before = net.pre_activations(x[None])[layer][0, unit] > 0
        assert (net.pre_activations(step[None])[layer][0, unit] > 0) != before


def test_bad_input():
    net = random_net([2, 4, 1], 0)
    with pytest.raises(rn.ArgumentTypeError):
        estimators.distance_to_boundary("net", [[0.0, 0.0]])
    with pytest.raises(rn.InvalidArgumentError, match="no points"):
        estimators.distance_to_boundary(net, np.zeros((0, 2)))
    with pytest.raises(rn.InvalidNetworkError, match="inputs must have shape"):
        estimators.distance_to_boundary(net, np.zeros((3, 3)))
    # a point that is not finite lies nowhere: refused by name, not a warning and a guess
    for estimate in (estimators.distance_to_boundary, lambda n, X: estimators.local_complexity(n, X, 0.1)):
        with pytest.raises(rn.InvalidArgumentError, match=r"X has points .* not finite \(rows 1\)"):
            estimate(net, [[0.0, 0.0], [np.nan, 0.0]])
