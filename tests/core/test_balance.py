"""Hidden rows brought near magnitude 1 by powers of two: the same network, and right regions."""
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.core.balance import balanced, needs_balance
from tests.oracles import random_net, regions_1d


def _exact_outputs(net, x):
    """The network's outputs and every pre-activation's sign at the rational point ``x``, exactly."""
    a, signs = [Fraction(v) for v in x], []
    for layer in net.layers:
        z = [sum((Fraction(float(w)) * v for w, v in zip(row, a)), Fraction(float(b)))
             for row, b in zip(layer.W, layer.b)]
        signs.append([(v > 0) - (v < 0) for v in z])
        act = layer.activation
        if act.kind == "max":
            a = [max(z[s: s + g]) for s, g in zip(act.group_starts, act.groups)]
        elif act.kind == "identity":
            a = z
        else:
            alpha = Fraction(act.off_slope)
            a = [v if v > 0 or j in act.linear else alpha * v for j, v in enumerate(z)]
    return a, signs


def _scattered(seed, activations):
    """A random network whose hidden rows are scaled by powers of two (the first layer's from
    2^-1000 to 2^20, the second's from 2^-300 to 1), each undone in the next layer (so its
    function stays in range), some entries subnormal."""
    rng = np.random.default_rng(seed)
    widths = [2, 6, 6, 1]
    layers, back = [], np.zeros(2, np.int64)
    for i, b in enumerate(widths[1:]):
        act = (list(activations) + ["identity"])[i]
        W, bias = rng.normal(size=(b, len(back))), rng.normal(size=b)  # a maxout layer's groups feed the next
        k = rng.integers(*[(-1000, 20), (-300, 1), (0, 1)][i], size=b)
        if act == ("maxout", 2):
            k[1::2] = k[::2]
        W = np.ldexp(W, (k[:, None] + back[None, :]).astype(np.int32))
        layers.append((W, np.ldexp(bias, k.astype(np.int32))))
        back = -k[::2] if act == ("maxout", 2) else -k
    return rn.Network.from_layers(layers, list(activations) + ["identity"])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("activations", [("relu", "relu"), (("leaky_relu", 0.01), ("leaky_relu", 3.0)),
                                         ("relu", ("maxout", 2))])
def test_balanced_is_the_same_network(seed, activations):
    """Every entry is the original times a power of two, the rows' largest entries sit in
    [1/2, 1) (a max group's largest, the outputs' largest), and at rational points every sign
    is the same and every output 2^shift times the original, exactly."""
    net = _scattered(seed, activations)
    assert needs_balance(net)
    same, shift = balanced(net)
    for l, (layer, new) in enumerate(zip(net.layers, same.layers)):
        ratio = np.abs(np.concatenate([new.W, new.b[:, None]], axis=1)) / np.abs(
            np.concatenate([layer.W, layer.b[:, None]], axis=1))
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        assert np.array_equal(np.frexp(ratio)[0], np.full(len(ratio), 0.5))  # powers of two
        top = np.maximum(np.abs(new.W).max(axis=1), np.abs(new.b))
        if new.activation.kind == "max":  # a group shares its largest row's scale
            top = np.maximum.reduceat(top, new.activation.group_starts)
        if l == len(net.layers) - 1:
            top = top.max(keepdims=True)
        assert np.all(top >= 0.5) and np.all(top < 1.0)
    rng = np.random.default_rng(seed)
    for x in rng.uniform(-1.0, 1.0, size=(5, 2)):
        outputs, signs = _exact_outputs(same, x)
        original, original_signs = _exact_outputs(net, x)
        assert signs == original_signs and outputs == [v * Fraction(2) ** shift for v in original]


def test_ordinary_networks_are_left_as_they_are():
    """Rows near magnitude 1 need nothing (the float stages then run on the network itself)."""
    assert not needs_balance(random_net([2, 16, 16, 1], 0))
    assert not needs_balance(rn.Network.from_layers([(np.eye(2) * 2.0 ** 60, np.zeros(2)),
                                                     (np.ones((1, 2)), np.zeros(1))]))


def test_outputs_take_their_columns_shifts():
    """A row near 2^-1060 scaled up needs its column of the output layer scaled down by as
    much, where 2^-100 would fall below the subnormals: the output rows are scaled up with it,
    and the output maps scaled back, the same as the network's own."""
    net = rn.Network.from_layers([(np.array([[2.0 ** -1060], [1.0]]), np.array([2.0 ** -1061, -0.5])),
                                  (np.array([[2.0 ** -100, 1.0]]), np.zeros(1))])
    assert needs_balance(net) and balanced(net)[1] > 0
    box = rn.Box([-1.0], [1.0])
    regions = rn.enumerate_regions(net, box)
    assert len(regions) == len(regions_1d(net, -1.0, 1.0)) == 3
    rn.certify(regions)
    x = regions.interior_points
    values = np.einsum("nkd,nd->nk", regions.jacobians, x) + regions.offsets
    np.testing.assert_allclose(values, net(x), rtol=1e-15)
    assert np.all(regions.output_errors < 1e-15)


def test_rows_spanning_more_than_float64_give_none():
    """A row whose columns' shifts spread its entries over more than float64's exponents has
    no exact scale: the network is used as given (and here refused: its values reach 2^1023)."""
    net = rn.Network.from_layers([(np.array([[2.0 ** 1023], [2.0 ** -1074]]), np.zeros(2)),
                                  (np.ones((1, 2)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    assert needs_balance(net) and balanced(net) is None
    with pytest.raises(rn.InvalidNetworkError, match="layer 0"):
        rn.count_regions(net, rn.Box([-1.0], [1.0]))


# Five units from a random search: three rows near 4e-312 (subnormal), two ordinary ones.
SUBNORMAL_W = np.array([[-4.835130049106e-312, 0.0], [-0.48980559304204774, 0.0], [-4.30769348122e-312, 0.0],
                        [-1.178486421429893, 0.0], [-3.558324094606e-312, 0.0]])
SUBNORMAL_B = np.array([3.05655851084e-313, 4.324290440967e-312, 3.579842731893e-312, -1.9058536533e-314,
                        2.047143344e-312])


def test_subnormal_rows_place_their_crossings():
    """A unit whose row is near 4e-312: its values over the domain are far below the engine's
    absolute error terms, which proved no sign and placed no crossing (the split point fell in
    the middle of the edge, -0.25 instead of 0.831, so the regions' interior points and
    vertices were wrong and the certificate failed). Balanced, the row is ordinary."""
    one = rn.Network.from_layers([(SUBNORMAL_W[2:3, :1], SUBNORMAL_B[2:3]), (np.ones((1, 1)), np.zeros(1))])
    regions = rn.enumerate_regions(one, rn.Box([-2.0], [1.5]))
    root = float(Fraction(SUBNORMAL_B[2]) / -Fraction(SUBNORMAL_W[2, 0]))
    np.testing.assert_allclose(np.sort(regions.interior_points.ravel()), [(-2.0 + root) / 2, (root + 1.5) / 2])
    rn.certify(regions)
    five = rn.Network.from_layers([(SUBNORMAL_W, SUBNORMAL_B), (np.ones((1, 5)), np.zeros(1))])
    box = rn.Box([-2.0, -2.0], [1.5, 1.5])
    regions = rn.enumerate_regions(five, box)
    line = rn.Network.from_layers([(SUBNORMAL_W[:, :1], SUBNORMAL_B), (np.ones((1, 5)), np.zeros(1))])
    assert len(regions) == int(rn.count_regions(five, box)) == len(regions_1d(line, -2.0, 1.5)) == 6
    assert rn.certify(regions).volume == Fraction(49, 4)


def test_rows_beyond_the_float_range_are_brought_back():
    """A first layer scaled by 2^1000 (its pre-activations beyond what the float stages carry)
    and the next layer scaled back: refused before, now the same regions as the unscaled net."""
    net = random_net([2, 8, 8, 1], 3)
    (W1, b1), (W2, b2), (W3, b3) = [(layer.W, layer.b) for layer in net.layers]
    big = rn.Network.from_layers([(W1 * 2.0 ** 1000, b1 * 2.0 ** 1000), (W2 * 2.0 ** -1000, b2), (W3, b3)])
    box = rn.Box([-1.0, -1.0], [1.0, 1.0])
    assert np.array_equal(rn.enumerate_regions(big, box).packed_patterns,
                          rn.enumerate_regions(net, box).packed_patterns)
