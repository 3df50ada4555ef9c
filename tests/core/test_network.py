"""The canonical network: checked on construction, errors naming the layer, one memory layout."""
from pathlib import Path

import numpy as np
import pytest

import regionenum as rn

DIGITS = Path(rn.__file__).parent / "data" / "digits_plane.npz"


@pytest.mark.parametrize("layers,activations,message", [
    ([(np.array([[np.nan, 0.0]]), np.zeros(1))], None, "layer 0 weight W has a non-finite"),
    ([(np.ones((2, 2)), np.array([0.0, np.inf]))], None, "layer 0 bias b has a non-finite"),
    ([(np.ones((2, 2)), np.zeros(3))], None, "layer 0: b has shape"),
    ([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 2)), np.zeros(1))], None, "layer 1: W takes 2 inputs"),
    ([(np.ones(2), np.zeros(1))], None, "layer 0: W must be 2-D"),
    ([(np.ones((2, 2)), np.zeros(2))], ["tanh"], "layer 0: unknown activation 'tanh'"),
    ([(np.ones((2, 2)), np.zeros(2))], ["relu", "relu"], "2 activations given for 1 layers"),
    ([], None, "at least one layer"),
    # parameters that were cut to an integer, dropped or guessed
    ([(np.ones((4, 2)), np.zeros(4))], [("maxout", 2.5)], "layer 0: maxout's rank must be a whole number"),
    ([(np.ones((4, 2)), np.zeros(4))], [("maxout", True)], "maxout's rank must be a whole number, got True"),
    ([(np.ones((4, 2)), np.zeros(4))], [("max", (2.5, 1.5))], "a max group's size must be a whole number"),
    ([(np.ones((4, 2)), np.zeros(4))], ["max:2.5,1.5"], "a max group's size must be a whole number, got '2.5'"),
    ([(np.ones((4, 2)), np.zeros(4))], ["relu+linear:1.9"], "a linear unit must be a whole number"),
    ([(np.ones((2, 2)), np.zeros(2))], ["relu:0.5"], "activation 'relu' takes no parameter, got 'relu:0.5'"),
    ([(np.ones((2, 2)), np.zeros(2))], ["identity:3"], "activation 'identity' takes no parameter"),
    ([(np.ones((2, 2)), np.zeros(2))], ["leaky_relu:"], "nothing after the ':'"),
    # float64 dropped the imaginary parts, with a ComplexWarning at most
    ([(np.eye(2) * (1 + 1j), np.zeros(2))], None, "layer 0 weight W holds complex numbers"),
    ([(np.eye(2), np.array([0, 1j]))], None, "layer 0 bias b holds complex numbers"),
])
def test_bad_networks_are_rejected_by_name(layers, activations, message):
    with pytest.raises(rn.InvalidNetworkError, match=message.replace("(", r"\(")):
        rn.Network.from_layers(layers, activations)


def test_whole_numbers_of_any_kind_are_taken():
    """What the refusals above leave alone: NumPy integers, floats without a fraction, text."""
    W = np.ones((4, 2))
    for spec in [("maxout", np.int64(2)), ("maxout", 2.0), ("max", (2, 2)), "max:2,2"]:
        net = rn.Network.from_layers([(W, np.zeros(4)), (np.ones((1, 2)), [0.0])], [spec, "identity"])
        assert net.layers[0].activation.groups == (2, 2)
    assert rn.Activation("relu", linear=(np.int64(1), 3.0)).linear == (1, 3)
    assert rn.Activation.parse("leaky_relu").alpha == 0.01  # the documented default, without a ':'


def test_weights_are_c_contiguous_float64_whatever_the_caller_passes():
    W = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    net = rn.Network.from_layers([(W, np.zeros(4, np.float32)), (np.ones((1, 4), np.float32), [0.0])])
    for layer in net.layers:
        assert layer.W.flags.c_contiguous and layer.W.dtype == np.float64
        assert layer.b.flags.c_contiguous and layer.b.dtype == np.float64
    assert np.array_equal(net.layers[0].W, W)  # same values
    loaded, _ = rn.load(DIGITS)  # the bundled file stores its weights in Fortran order
    assert all(layer.W.flags.c_contiguous for layer in loaded.layers)
    # and a network restricted to a plane keeps the layout
    plane = net.restricted(np.zeros(3), np.eye(3)[:, :2])
    assert plane.layers[0].W.flags.c_contiguous


@pytest.mark.parametrize("cores", [1, 2])
def test_bounds_worked_out_at_once_are_each_layers_own(cores, monkeypatch):
    """Every layer's proven bounds worked out at once, shared out among idle cores, are those its
    properties work out one by one, kept on the layer; a layer that has them is left alone."""
    from regionenum.core import network, threads
    from tests.oracles import random_net
    monkeypatch.setattr(threads, "idle_cpus", lambda: cores)
    monkeypatch.setattr(network, "idle_cpus", lambda: cores)
    monkeypatch.setattr(network, "SHARED_WORK", 0)  # threads however little the work
    net, fresh = random_net([3, 200, 150, 150, 1], 8), random_net([3, 200, 150, 150, 1], 8)
    net.layers[2].norm_bounds  # noqa: B018 (one layer's bounds known before)
    kept = net.layers[2].__dict__["norm_bounds"]
    network.work_out_bounds(net.layers[1:], tables=network.RUN_TABLES)
    assert net.layers[2].__dict__["norm_bounds"] is kept
    for layer, alone in zip(net.layers[1:], fresh.layers[1:]):
        assert set(network.LAYER_BOUNDS) <= set(vars(layer))
        assert layer.norm_bounds == alone.norm_bounds and layer.bias_norm == alone.bias_norm
        assert np.array_equal(layer.row_norms, alone.row_norms) and not layer.row_norms.flags.writeable
        # the tables made beside them where they were shared out, else left to their first use
        assert (set(network.RUN_TABLES) <= set(vars(layer))) == (cores > 1)
        assert np.array_equal(layer.weights_and_bias_T, alone.weights_and_bias_T)
        assert not layer.weights_and_bias_T.flags.writeable and layer.quanta == alone.quanta
    assert "norm_bounds" not in vars(net.layers[0])


@pytest.mark.parametrize("idle", [1, 2])
def test_bounds_worked_out_at_once_take_the_idle_cores_for_blas(idle, monkeypatch):
    """Worked out before a run has set BLAS's thread count, the bounds still get BLAS on no more
    threads than the machine has idle cores (one each when shared out): on a busy machine a
    512 x 512 factorisation on two BLAS threads took 10-20 ms instead of 1.2, and a first count
    of the suite's deep network 4 s instead of 0.4."""
    from regionenum.core import network, threads
    from tests.oracles import random_net
    pools = pytest.importorskip("threadpoolctl").ThreadpoolController()
    if not any(i["user_api"] == "blas" for i in pools.info()):
        pytest.skip("no BLAS thread pool")
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 2 - idle)
    monkeypatch.setattr(network, "SHARED_WORK", 0)
    seen = []
    real = network._keep_bound

    def keep_bound(layer, name):
        seen.append(max(i["num_threads"] for i in pools.info() if i["user_api"] == "blas"))
        real(layer, name)

    monkeypatch.setattr(network, "_keep_bound", keep_bound)
    with pools.limit(limits=2, user_api="blas"):
        network.work_out_bounds(random_net([2, 64, 64, 1], 3).layers[1:])
        assert seen and set(seen) == {1}
        assert min(i["num_threads"] for i in pools.info() if i["user_api"] == "blas") == 2


def test_a_layer_is_pickled_without_its_copy_of_the_weights():
    """The bounds a layer worked out travel with it to worker processes; ``[W | b]^T``, a second
    copy of the weights, does not (it is made again where read), and comes back the same."""
    import pickle

    from tests.oracles import random_net
    net = random_net([2, 64, 64, 1], 5)
    before = len(pickle.dumps(net))
    rn.count_regions(net, rn.Box([-1, -1], [1, 1]))
    layer = net.layers[1]
    assert "weights_and_bias_T" in vars(layer) and "norm_bounds" in vars(layer)
    copy = pickle.loads(pickle.dumps(layer))
    assert "weights_and_bias_T" not in vars(copy) and copy.norm_bounds == layer.norm_bounds
    assert np.array_equal(copy.weights_and_bias_T, layer.weights_and_bias_T)
    assert np.array_equal(copy.W, layer.W) and not copy.W.flags.writeable
    assert len(pickle.dumps(net)) < before + layer.W.nbytes  # the bounds, not a copy of the weights


def test_layers_are_read_only_copies():
    """A layer keeps its own read-only arrays: what is worked out once per layer (its norm
    bounds) stays true, and the caller's arrays are neither shared nor frozen."""
    W = np.ones((2, 2))
    net = rn.Network.from_layers([(W, np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    W[0, 0] = 5.0
    assert net.layers[0].W[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        net.layers[0].W[0, 0] = 2.0
    with pytest.raises(ValueError, match="read-only"):
        net.layers[0].b[0] = 2.0
