"""Linear regions: merges that must happen, merges that must not, and a 1-D exact oracle."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import linear_pieces_1d, random_net

BOX = rn.Box([-1, -1], [1, 1])


def test_generic_nets_do_not_merge():
    for d, seed in ((2, 0), (3, 1)):
        net = random_net([d, 10, 10, 2], seed)
        regions = rn.enumerate_regions(net, rn.Box(-np.ones(d), np.ones(d)))
        lin = regions.linear_regions()
        assert lin.count == len(regions)
        assert np.array_equal(lin.region_group, np.arange(len(regions)))


def test_zero_outgoing_weights_merge_across_that_unit():
    net = random_net([2, 8, 8, 1], 2)
    W2 = net.layers[1].W.copy()
    W2[:, 3] = 0.0  # unit 3 of layer 0 feeds nothing
    cut = rn.Network.from_layers([(net.layers[0].W, net.layers[0].b), (W2, net.layers[1].b),
                                  (net.layers[2].W, net.layers[2].b)])
    regions = rn.enumerate_regions(cut, BOX)
    lin = regions.linear_regions()
    # the same net without unit 3 has exactly the linear regions left
    keep = [i for i in range(8) if i != 3]
    without = rn.Network.from_layers([(net.layers[0].W[keep], net.layers[0].b[keep]),
                                      (W2[:, keep], net.layers[1].b), (net.layers[2].W, net.layers[2].b)])
    assert lin.count == len(rn.enumerate_regions(without, BOX)) < len(regions)
    # merged regions differ in unit 3 only
    for g in range(lin.count):
        pats = regions.patterns[lin.members(g)]
        assert np.all(pats[:, np.r_[0:3, 4:16]] == pats[0, np.r_[0:3, 4:16]])
    # counted from the end where negative; beyond either end refused (an empty array came out)
    assert np.array_equal(lin.members(-1), lin.members(lin.count - 1))
    for bad, error in ((lin.count, IndexError), (-lin.count - 1, IndexError), (1.5, rn.ArgumentTypeError)):
        with pytest.raises(error, match="linear region"):
            lin.members(bad)


def test_cancelling_twins_are_linear():
    """a ReLU(z) - a ReLU(-z) = a z: the kink at z = 0 cancels, so the output is affine
    across it; float64 leaves rounding there, the exact comparison removes it."""
    w, b = np.array([0.3, 0.7]), 0.1
    W1 = np.array([w, -w, [1.0, -0.4]])
    b1 = np.array([b, -b, 0.2])
    net = rn.Network.from_layers([(W1, b1), (np.array([[0.37, -0.37, 1.1]]), np.zeros(1))])
    regions = rn.enumerate_regions(net, BOX)
    assert len(regions) == 4
    lin = regions.linear_regions()
    assert lin.count == 2 and lin.exact_checks >= 1


def test_dead_layer_makes_one_linear_region():
    net = random_net([2, 8, 8, 2], 3)
    dead = rn.Network.from_layers([(net.layers[0].W, net.layers[0].b),
                                   (np.zeros((8, 8)), -np.ones(8)), (net.layers[2].W, net.layers[2].b)])
    regions = rn.enumerate_regions(dead, BOX)
    assert len(regions) > 1
    lin = regions.linear_regions()
    assert lin.count == 1
    np.testing.assert_allclose(lin.jacobians[0], 0.0)


def test_one_region_is_one_linear_region():
    """An affine network has one region and no facet between regions: one linear region, its
    map the network's (the facets' arrays are empty, and were once reshaped by ``-1``)."""
    W1, W2 = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = rn.Network.from_layers([(W1, np.zeros(2)), (W2, np.zeros(3))], ["identity", "identity"])
    regions = rn.enumerate_regions(net, BOX)
    lin = regions.linear_regions()
    assert len(regions) == lin.count == 1 and lin.region_group.tolist() == [0]
    np.testing.assert_allclose(lin.jacobians[0], W2 @ W1)


def test_output_relu_merges_where_the_output_is_clipped():
    net = rn.Network.from_layers([(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)),
                                  (np.array([[1.0, 1.0]]), np.array([-1.5]))],
                                 activations=["relu", "relu"])
    regions = rn.enumerate_regions(net, BOX)
    lin = regions.linear_regions()
    # the output is zero wherever x + y <= 1.5 or units are off: one flat piece, plus x + y - 1.5
    assert lin.count == 2
    flat = lin.region_group[regions.locate(np.array([[-0.5, -0.5]]))[0]]
    assert np.all(lin.jacobians[flat] == 0)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_1d_linear_regions_match_breakpoint_oracle(seed):
    net = random_net([1, 6, 6, 1], seed)
    # a twin pair whose kinks cancel, so that some neighbouring intervals share their line
    net = _with_cancelling_twin(net)
    regions = rn.enumerate_regions(net, rn.Box([-2.0], [2.0]))
    assert regions.linear_regions().count == linear_pieces_1d(net, -2.0, 2.0)


def _with_cancelling_twin(net):
    """Add to the first layer a unit and its negation with opposite outgoing weights."""
    L0, L1 = net.layers[0], net.layers[1]
    W0 = np.vstack([L0.W, [[0.8]], [[-0.8]]])
    b0 = np.r_[L0.b, 0.3, -0.3]
    W1 = np.hstack([L1.W, 0.5 * np.ones((L1.width, 1)), -0.5 * np.ones((L1.width, 1))])
    return rn.Network.from_layers([(W0, b0), (W1, L1.b)] + [(l.W, l.b) for l in net.layers[2:]])
