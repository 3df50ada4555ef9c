"""ONNX models: outputs match onnxruntime (and torch), regions match the hand-built network, errors name the node."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tests.models import float32_net, image_model, to_onnx  # noqa: E402


@pytest.mark.parametrize("style", ["gemm", "matmul"])
def test_onnx_import_matches_onnxruntime_and_gives_the_same_regions(style):
    net = float32_net(random_net([2, 10, 8, 3], 0, activations=["relu", ("leaky_relu", 0.1), "identity"]))
    model = to_onnx(net, style=style)
    back = rn.Network.from_onnx(model)
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString())
    ref = np.vstack([sess.run(None, {"x": x[None]})[0] for x in X])
    np.testing.assert_allclose(back(X.astype(np.float64)), ref, rtol=1e-6, atol=1e-6)
    box = rn.Box([-1, -1], [1, 1])
    a, b = rn.enumerate_regions(net, box), rn.enumerate_regions(back, box)
    assert np.array_equal(a.packed_patterns, b.packed_patterns)


def test_onnx_errors_name_the_node(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    model = helper.make_model(helper.make_graph([helper.make_node("Sigmoid", ["x"], ["y"], name="squash")],
                                                "g", [x], [y]))
    with pytest.raises(rn.InvalidNetworkError, match="node 'squash' \\(Sigmoid\\): unsupported operator"):
        rn.Network.from_onnx(model)
    pool = helper.make_model(helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2], name="argpool")], "g", [x], [y]))
    with pytest.raises(rn.InvalidNetworkError, match="node 'argpool' \\(MaxPool\\): the Indices output"):
        rn.Network.from_onnx(pool)
    (tmp_path / "bad.onnx").write_text("nope")
    with pytest.raises(rn.InvalidNetworkError, match="not a readable ONNX model"):
        rn.Network.from_onnx(tmp_path / "bad.onnx")


def test_onnx_residual_and_max_pool_match_onnxruntime_and_torch():
    """y = W2 relu(MaxPool(relu(Conv x)) + Conv'(...)) with a skip connection over a ReLU: the
    skip path is carried through the layer as linear units."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    rng = np.random.default_rng(4)
    w1, b1 = rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2)
    w2, b2 = rng.normal(size=(2, 2, 3, 3)), rng.normal(size=2)
    w3, b3 = rng.normal(size=(3, 32)), rng.normal(size=3)
    arrays = {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3}
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in arrays.items()]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p", "w2", "b2"], ["q"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["q"], ["s"]),
             helper.make_node("Add", ["p", "s"], ["t"], name="skip"),
             helper.make_node("Flatten", ["t"], ["v"]),
             helper.make_node("Gemm", ["v", "w3", "b3"], ["y"], transB=1)]
    model = image_model(nodes, inits, 3)
    net = rn.Network.from_onnx(model)
    assert [layer.activation.kind for layer in net.layers] == ["relu", "max", "relu", "identity"]
    assert len(net.layers[2].activation.linear) == 32  # the skip path, carried
    X = np.random.default_rng(0).uniform(0, 1, (20, 1, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString())
    ref = np.vstack([sess.run(None, {"x": xi[None]})[0] for xi in X])
    np.testing.assert_allclose(net(X.reshape(20, -1).astype(np.float64)), ref, rtol=1e-5, atol=1e-4)

    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)
            self.pool, self.out = nn.MaxPool2d(2), nn.Linear(32, 3)

        def forward(self, x):
            p = self.pool(torch.relu(self.c1(x)))
            return self.out((p + torch.relu(self.c2(p))).flatten(1))

    m = Res().double()
    with torch.no_grad():
        for mod, w, b in ((m.c1, w1, b1), (m.c2, w2, b2), (m.out, w3, b3)):
            mod.weight.copy_(torch.from_numpy(w.astype(np.float32).astype(np.float64)))
            mod.bias.copy_(torch.from_numpy(b.astype(np.float32).astype(np.float64)))
    from_torch = rn.Network.from_torch(m, (1, 8, 8))
    flat = X.reshape(20, -1).astype(np.float64)
    np.testing.assert_allclose(net(flat), from_torch(flat), rtol=1e-12, atol=1e-12)
    plane = rn.Slice.through(*flat[:3])
    a, b = rn.enumerate_regions(net, plane), rn.enumerate_regions(from_torch, plane)
    assert len(a) > 5 and np.array_equal(a.packed_patterns, b.packed_patterns)
    assert a.faces().euler_characteristic == 1


def test_onnx_conv_net_matches_onnxruntime_and_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.AvgPool2d(2),
                      nn.Flatten(), nn.Linear(48, 10)).eval()
    with torch.no_grad():
        m[1].running_mean.uniform_(-0.5, 0.5)
        m[1].running_var.uniform_(0.5, 2.0)
    f = {k: v.detach().numpy().astype(np.float32) for k, v in m.state_dict().items()
         if v.dtype.is_floating_point}
    inits = [numpy_helper.from_array(f[k], k) for k in ("0.weight", "0.bias", "1.weight", "1.bias",
                                                         "1.running_mean", "1.running_var", "5.weight", "5.bias")]
    nodes = [helper.make_node("Conv", ["x", "0.weight", "0.bias"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("BatchNormalization", ["c", "1.weight", "1.bias", "1.running_mean",
                                                     "1.running_var"], ["n"], epsilon=1e-5),
             helper.make_node("Relu", ["n"], ["r"]),
             helper.make_node("AveragePool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["v"]),
             helper.make_node("Gemm", ["v", "5.weight", "5.bias"], ["y"], transB=1)]
    model = image_model(nodes, inits, 10)
    net = rn.Network.from_onnx(model)
    X = np.random.default_rng(0).uniform(0, 1, (20, 1, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString())
    ref = np.vstack([sess.run(None, {"x": xi[None]})[0] for xi in X])
    np.testing.assert_allclose(net(X.reshape(20, -1).astype(np.float64)), ref, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # the same weights through torch (rounded to float32 as ONNX holds them)
        for k, v in m.state_dict().items():
            if v.dtype.is_floating_point:
                v.copy_(torch.from_numpy(f[k]))
    from_torch = rn.Network.from_torch(m, (1, 8, 8))
    flat = X.reshape(20, -1).astype(np.float64)
    np.testing.assert_allclose(net(flat), from_torch(flat), rtol=1e-12, atol=1e-12)
    plane = rn.Slice.through(*X[:3].reshape(3, -1).astype(np.float64))
    a, b = rn.enumerate_regions(net, plane), rn.enumerate_regions(from_torch, plane)
    assert len(a) > 5 and np.array_equal(a.packed_patterns, b.packed_patterns)
