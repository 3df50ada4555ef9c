"""Counts on one input (the line step, and the general engine where it hands a count on) against
the breakpoint oracle and enumeration, on random, trained-like and degenerate networks."""
import numpy as np
import pytest

import regionenum as rn
from regionenum import constructions
from regionenum.engine import api
from tests.oracles import random_net, regions_1d


@pytest.mark.parametrize("widths,seed,activations", [
    ([1, 8, 1], 0, None), ([1, 10, 10, 10, 1], 1, None), ([1, 32, 32, 32, 1], 2, None),
    ([1, 4, 4, 4, 4, 4, 4, 1], 3, None), ([1, 16, 16, 1], 4, [("leaky_relu", 0.1)] * 2 + ["identity"]),
    ([1, 12, 12, 12, 1], 5, [("leaky_relu", -0.5), "relu", ("leaky_relu", 2.0), "identity"])])
def test_count_matches_exact_breakpoints(widths, seed, activations):
    net = random_net(widths, seed, bias_std=0.5, activations=activations)
    counted = rn.count_regions(net, rn.Box([-2.0], [2.0]))
    assert counted == len(regions_1d(net, -2.0, 2.0))
    assert counted.complete and counted.bounded == counted


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
@pytest.mark.parametrize("seed", range(6))
def test_count_matches_general_engine(seed, batch_size):
    """Random depths and widths; small batches put chunk ends everywhere."""
    rng = np.random.default_rng(seed)
    widths = [1] + list(rng.integers(2, 24, size=rng.integers(1, 6))) + [1]
    net = random_net(widths, seed, bias_std=0.3)
    box = rn.Box([-3.0], [2.0])
    assert rn.count_regions(net, box, batch_size=batch_size) == len(rn.enumerate_regions(net, box))


def test_deep_wide_net_matches_general_engine():
    net = random_net([1] + [64] * 6 + [1], 7)
    box = rn.Box([-1.0], [1.0])
    counted = rn.count_regions(net, box, batch_size=64)
    assert counted == len(rn.enumerate_regions(net, box))


def test_linear_units_identity_layers_and_polytope_domains():
    rng = np.random.default_rng(8)
    layers = [(rng.normal(size=(6, 1)), rng.normal(size=6)), (rng.normal(size=(5, 6)), rng.normal(size=5)),
              (rng.normal(size=(7, 5)), rng.normal(size=7)), (rng.normal(size=(1, 7)), np.zeros(1))]
    acts = [rn.Activation("relu", linear=(1, 4)), "identity", ("leaky_relu", 0.2), "identity"]
    net = rn.Network.from_layers(layers, acts)
    # an interval written with redundant rows
    interval = rn.Polytope(np.array([[1.0], [-1.0], [2.0]]), np.array([-1.5, -2.0, -4.0]))
    for domain in (rn.Box([-2.0], [1.5]), interval):
        assert rn.count_regions(net, domain) == len(rn.enumerate_regions(net, domain))
    assert rn.count_regions(net, interval) == len(regions_1d(net, -2.0, 1.5))


def _line_net(rows):
    """A one-input net whose hidden units are ``w x + b`` for ``(w, b)`` in ``rows``."""
    W = np.array([[w] for w, _ in rows])
    b = np.array([v for _, v in rows])
    return rn.Network.from_layers([(W, b), (np.ones((1, len(rows))), np.zeros(1))])


@pytest.mark.parametrize("rows,expected", [
    ([(1.0, -0.5), (2.0, -1.0), (-3.0, 1.5)], 2),      # three units vanish at one point
    ([(1.0, -1.0), (1.0, 1.0)], 1),                     # roots on the domain's ends
    ([(3.0, -1.0), (3.0 + 2.0 ** -50, -1.0)], 3),       # roots 1e-17 apart: distinct
    ([(0.0, 0.0), (0.0, 1.0), (1.0, 0.0)], 2),          # dead and constant units
])
def test_degenerate_first_layers(rows, expected):
    net = _line_net(rows)
    box = rn.Box([-1.0], [1.0])
    assert len(regions_1d(net, -1.0, 1.0)) == expected
    assert rn.count_regions(net, box) == expected


def test_later_unit_vanishing_at_an_earlier_breakpoint():
    """With z1 = relu(x) and z2 = relu(-x) (one breakpoint, 0), layer 2 has z1 + z2 - 1 (roots
    +-1), z1 - z2 = x (zero exactly at the old breakpoint 0, crossing there) and 2 z1
    (identically zero left of 0)."""
    net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
                                  (np.array([[1.0, 1.0], [1.0, -1.0], [2.0, 0.0]]), np.array([-1.0, 0.0, 0.0])),
                                  (np.ones((1, 3)), np.zeros(1))])
    box = rn.Box([-2.0], [2.0])
    expected = len(regions_1d(net, -2.0, 2.0))
    counted = rn.count_regions(net, box)
    assert counted == expected == len(rn.enumerate_regions(net, box))
    assert counted.exact_calls > 0  # the zeros at x = 0 are settled exactly


@pytest.mark.parametrize("folds,last", [([2, 2], 3), ([3, 4, 2], 4), ([4, 4, 4], 3), ([2, 2, 2, 2, 2], 2)])
@pytest.mark.parametrize("kind", ["montufar", "pascanu"])
def test_zigzag_constructions(kind, folds, last):
    """Folding puts later units' zeros exactly on earlier breakpoints, and many roots together."""
    c = getattr(constructions, kind)(1, folds, last)
    counted = rn.count_regions(c.network, c.domain)
    assert counted == c.count
    assert counted.exact_calls > 0


@pytest.mark.parametrize("general", [False, True])
def test_budgets_and_progress(general, monkeypatch):
    """On the line step and on the general step (the line step switched off)."""
    if general:
        monkeypatch.setattr(api, "line_applies", lambda network, domain: False)
    net = random_net([1, 40, 40, 1], 9)
    box = rn.Box([-2.0], [2.0])
    full = rn.count_regions(net, box)
    seen = []
    partial = rn.count_regions(net, box, max_regions=10, batch_size=4, progress=seen.append)
    assert (int(partial), partial.complete, partial.stop_reason) == (10, False, "max_regions")
    assert seen and all(isinstance(p, rn.Progress) for p in seen) and seen[-1].done <= 1.0
    late = rn.count_regions(net, box, time_limit=1e-9, batch_size=4)
    assert not late.complete and late.stop_reason == "time_limit" and late < full
    assert rn.count_regions(net, box, workers=2) == full  # the line step in this process; the general on two
    with pytest.raises(rn.RegionEnumError, match="workers"):
        rn.count_regions(net, box, workers=0)


def test_max_layers_and_unbounded_lines():
    """Max layers and unbounded domains: counts agree with enumeration and the oracle."""
    rng = np.random.default_rng(10)
    maxout = rn.Network.from_layers([(rng.normal(size=(9, 1)), rng.normal(size=9)),
                                     (rng.normal(size=(1, 3)), np.zeros(1))], [("maxout", 3), "identity"])
    box = rn.Box([-2.0], [2.0])
    assert rn.count_regions(maxout, box) == len(rn.enumerate_regions(maxout, box)) == len(regions_1d(maxout, -2.0, 2.0))
    net = random_net([1, 8, 8, 1], 11, bias_std=0.5)
    line = rn.Polytope.whole_space(1)
    assert rn.count_regions(net, line) == len(rn.enumerate_regions(net, line))


def test_slices_of_a_plane_network():
    net = random_net([2, 24, 24, 1], 12)
    line = rn.Slice.through([-0.8, 0.3], [0.9, -0.4])
    assert rn.count_regions(net, line) == len(rn.enumerate_regions(net, line))
