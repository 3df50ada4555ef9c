"""Networks in the native .npz format: round trips, and files that are not networks."""
import numpy as np
import pytest

import regionenum as rn

BOX2 = rn.Box([-1, -1], [1, 1])


def test_save_load_round_trip(tmp_path):
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((3, 2)), np.ones(3)),
                                  (np.ones((1, 3)), np.zeros(1))],
                                 ["relu", ("leaky_relu", 0.25), "identity"])
    path = tmp_path / "net.npz"
    rn.save(path, net, BOX2)
    net2, box2 = rn.load(path)
    assert [l.activation for l in net2.layers] == [l.activation for l in net.layers]
    assert all(np.array_equal(a.W, b.W) for a, b in zip(net.layers, net2.layers))
    assert np.array_equal(box2.lo, BOX2.lo) and np.array_equal(box2.hi, BOX2.hi)


def test_a_box_of_another_dimension_is_not_saved(tmp_path):
    """It was written as it was and loaded back without a word."""
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    with pytest.raises(rn.InvalidDomainError, match="the box has 3 dimensions but the network takes 2"):
        rn.save(tmp_path / "net.npz", net, rn.Box([0, 0, 0], [1, 1, 1]))
    assert not (tmp_path / "net.npz").exists()


def test_load_rejects_unknown_and_missing_arrays(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, W0=np.eye(2), b0=np.zeros(2), origin=np.zeros(2))
    with pytest.raises(rn.RegionEnumError, match="unknown arrays \\['origin'\\]"):
        rn.load(path)
    np.savez(path, W0=np.eye(2), b0=np.zeros(2), W2=np.eye(2), b2=np.zeros(2))
    with pytest.raises(rn.FileFormatError, match="none missing"):
        rn.load(path)
    with pytest.raises(rn.RegionEnumError, match="no such file"):
        rn.load(tmp_path / "missing.npz")


def test_load_refuses_arrays_of_objects_and_activations_that_are_not_a_list(tmp_path):
    """NumPy's own "Object arrays cannot be loaded" and "iteration over a 0-d array" came out."""
    path = tmp_path / "bad.npz"
    np.savez(path, W0=np.array([[1, None], [0, 1]], dtype=object), b0=np.zeros(2))
    with pytest.raises(rn.FileFormatError, match="holds Python objects"):
        rn.load(path)
    np.savez(path, W0=np.eye(2), b0=np.zeros(2), activations=np.array("relu"))
    with pytest.raises(rn.FileFormatError, match="activations must be a list of names"):
        rn.load(path)
    with pytest.raises(rn.MissingFileError, match="is not a file"):
        rn.load(tmp_path)
