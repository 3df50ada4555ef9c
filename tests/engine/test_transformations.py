"""Counts that exact arithmetic says cannot change: transformations of a network that leave its
function's regions exactly as they are (each exact in float64), on networks whose weights span
ten orders of magnitude, against the untransformed count and, where the magnitudes are mild, an
independent linear-programming oracle."""
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regionenum as rn
from tests.bounds import unbalanced
from tests.oracles import lp_regions
from tests.rewrites import duplicated, permuted, rescaled

BOX = rn.Box([-2.0, -2.0], [2.0, 2.0])


def _net(seed, spread, widths=(2, 6, 6, 1)):
    """Layers with entries ``N(0, 1) * 10^U(-spread, spread)``, every number a dyadic rational
    with few bits (so that translating the inputs by a dyadic vector stays exact)."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        W = rng.normal(size=(fan_out, fan_in)) * 10.0 ** rng.uniform(-spread, spread, (fan_out, fan_in))
        b = rng.normal(size=fan_out) * 10.0 ** rng.uniform(-spread, spread, fan_out)
        layers.append((_dyadic(W), _dyadic(b)))
    return layers


def _dyadic(a, bits=20):
    """``a`` rounded to ``bits`` significant bits (exactly representable sums and products)."""
    m, e = np.frexp(a)
    return np.ldexp(np.round(m * 2.0 ** bits), e - bits)


def _count(layers, domain=BOX):
    return int(rn.count_regions(rn.Network.from_layers(layers), domain))


def _with_dead_unit(layers, l, rng):
    """A unit with zero weights and a negative bias (never on) added to layer ``l``."""
    W, b = layers[l]
    V, c = layers[l + 1]
    out = list(layers)
    out[l] = (np.concatenate([W, np.zeros((1, W.shape[1]))]), np.concatenate([b, [-1.0]]))
    out[l + 1] = (np.concatenate([V, rng.normal(size=(V.shape[0], 1))], axis=1), c)
    return out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), spread=st.sampled_from([0.0, 2.0, 5.0]),
       exponent=st.sampled_from([-300, -60, -1, 1, 60, 300]), layer=st.integers(0, 1))
def test_counts_do_not_change_under_exact_rewrites(seed, spread, exponent, layer):
    layers = _net(seed, spread)
    n = _count(layers)
    rng = np.random.default_rng(seed)
    assert _count(rescaled(layers, layer, exponent)) == n
    with unbalanced():  # the float stages on the rescaled rows themselves, as far from 1 as they are
        assert _count(rescaled(layers, layer, exponent)) == n
    assert _count(permuted(layers, layer, rng.permutation(6))) == n
    assert _count(duplicated(layers, layer, int(rng.integers(6)))) == n
    assert _count(_with_dead_unit(layers, layer, rng)) == n
    # inputs translated by a dyadic t: the first layer's bias absorbs W0 t exactly
    t = rng.integers(-16, 17, size=2) / 16.0
    W0, b0 = layers[0]
    moved = [(W0, b0 - W0 @ t)] + layers[1:]
    assert _count(moved, rn.Box(BOX.lo + t, BOX.hi + t)) == n
    # a second code path: the regions enumerated with their geometry, then counted
    assert len(rn.enumerate_regions(rn.Network.from_layers(layers), BOX)) == n


@pytest.mark.parametrize("seed", range(6))
def test_mild_networks_match_the_lp_oracle_after_rescaling(seed):
    layers = _net(seed, 0.5, widths=(2, 5, 5, 1))
    net = rn.Network.from_layers(layers)
    A = np.vstack([np.eye(2), -np.eye(2)])
    b = np.r_[-BOX.hi, BOX.lo]
    truth = len(lp_regions(net, A, b))
    assert _count(layers) == truth
    assert _count(rescaled(rescaled(layers, 0, -200), 1, 150)) == truth
    with unbalanced():
        assert _count(rescaled(rescaled(layers, 0, -200), 1, 150)) == truth


@pytest.mark.parametrize("exponent", [-300, 300])
def test_facet_equations_of_extreme_scales_are_unit_normals(exponent):
    """Rows of size 2^600 or 2^-600 are scaled exactly before normalising: the facet equations
    are those of the unscaled network."""
    layers = _net(4, 1.0)
    s = 2.0 ** exponent
    scaled = [(W * s, b * s ** (l + 1)) for l, (W, b) in enumerate(layers)]
    plain = rn.enumerate_regions(rn.Network.from_layers(layers), BOX)
    for balance in (unbalanced, contextlib.nullcontext):
        with balance():
            big = rn.enumerate_regions(rn.Network.from_layers(scaled), BOX)
        assert len(big) == len(plain)
        assert np.allclose(big.facet_equations, plain.facet_equations, rtol=1e-12, atol=1e-12)


def _far_out(layers, e):
    """The network on inputs scaled by 2^e: the first layer's weights times 2^e and every hidden
    layer's bias times 2^(2e) (each pre-activation 2^(2e) times the original's: the same
    regions), on the box scaled by 2^e."""
    (W, b), rest = layers[0], layers[1:]
    big = [(np.ldexp(W, e), np.ldexp(b, 2 * e))] + [(V, np.ldexp(c, 2 * e)) for V, c in rest[:-1]] + rest[-1:]
    return rn.Network.from_layers(big), rn.Box(np.ldexp(BOX.lo, e), np.ldexp(BOX.hi, e))


@pytest.mark.parametrize("seed", range(3))
def test_values_beyond_float64_are_brought_back_or_refused_before_any_work(seed):
    """Pre-activations of 2^980 and more (near float64's largest number, 2^1024) had turned into
    infinities and NaNs (9 regions where there are 11 in one case). Where powers of two bring
    every row near magnitude 1 (the float stages' balanced network; the outputs scaled back)
    the network counts as the original, as it does nearer the origin; inputs beyond 2^960, which
    no scaling of the network changes, are refused with an error naming the layer."""
    layers = _net(seed, 0.5, widths=(2, 5, 5, 1))
    for e in (10, 490):
        net, box = _far_out(layers, e)
        assert int(rn.count_regions(net, box)) == len(rn.enumerate_regions(net, box)) == _count(layers)
    far = rn.Box(np.ldexp(BOX.lo, 1000), np.ldexp(BOX.hi, 1000))
    for run in (rn.count_regions, rn.enumerate_regions):
        with pytest.raises(rn.InvalidNetworkError, match="layer 0: .* beyond what the float64 stages can carry"):
            run(rn.Network.from_layers(layers), far)


@pytest.mark.parametrize("seed", range(6))
def test_boxes_far_out_keep_their_count(seed):
    """Inputs scaled by 2^49 to 2^470: the count is the original's. Far out, a float vertex made
    on an edge may lie far from the exact one (its bound says so); the exact sign there was once
    oriented by the float point, flipped, and gave 38 regions where there are 24 (seed 1 from
    2^49 on); a point's exact homogeneous coordinate is positive, whatever the float one says."""
    layers = _net(seed, 0.5, widths=(2, 5, 5, 1))
    truth = _count(layers)
    for e in (49, 52, 100, 300, 470):
        net, box = _far_out(layers, e)
        assert int(rn.count_regions(net, box)) == truth, e
    assert len(rn.enumerate_regions(*_far_out(layers, 52))) == truth
