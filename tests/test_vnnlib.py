"""ONNX import against onnxruntime, VNN-LIB parsing and exact decisions, and `regionenum verify`."""
import json
import subprocess
import sys

import numpy as np
import pytest

import regionenum as re
from oracles import milp_max, random_net
from regionenum.vnnlib import VnnLibError, check_vnnlib, parse_vnnlib, parse_vnnlib_text

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def to_onnx(net, path=None, style="gemm"):
    """Write a regionenum network as ONNX (Gemm or MatMul+Add, then Relu/LeakyRelu per layer)."""
    nodes, inits, cur = [], [], "x"
    for i, layer in enumerate(net.layers):
        W, b = layer.W.astype(np.float32), layer.b.astype(np.float32)
        if style == "gemm":
            inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [f"z{i}"], transB=1))
        else:
            inits += [numpy_helper.from_array(W.T.copy(), f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes += [helper.make_node("MatMul", [cur, f"W{i}"], [f"m{i}"]),
                      helper.make_node("Add", [f"m{i}", f"b{i}"], [f"z{i}"])]
        cur = f"z{i}"
        if layer.activation.kind == "relu":
            nodes.append(helper.make_node("Relu", [cur], [f"a{i}"]))
            cur = f"a{i}"
        elif layer.activation.kind == "leaky_relu":
            nodes.append(helper.make_node("LeakyRelu", [cur], [f"a{i}"], alpha=layer.activation.alpha))
            cur = f"a{i}"
    nodes.append(helper.make_node("Identity", [cur], ["y"]))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, net.input_dim])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, net.output_dim])
    graph = helper.make_graph(nodes, "net", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, str(path))
    return model


def _float32(net):
    """The network with weights rounded to float32, as ONNX stores them."""
    return re.Network.from_layers([(l.W.astype(np.float32), l.b.astype(np.float32)) for l in net.layers],
                                  [l.activation.kind if l.activation.kind != "leaky_relu"
                                   else ("leaky_relu", l.activation.alpha) for l in net.layers])


@pytest.mark.parametrize("style", ["gemm", "matmul"])
def test_onnx_import_matches_onnxruntime_and_gives_the_same_regions(style):
    net = _float32(random_net([2, 10, 8, 3], 0, activations=["relu", ("leaky_relu", 0.1), "identity"]))
    model = to_onnx(net, style=style)
    back = re.Network.from_onnx(model)
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString())
    ref = np.vstack([sess.run(None, {"x": x[None]})[0] for x in X])
    np.testing.assert_allclose(back(X.astype(np.float64)), ref, rtol=1e-6, atol=1e-6)
    box = re.Box([-1, -1], [1, 1])
    a, b = re.enumerate_regions(net, box), re.enumerate_regions(back, box)
    assert np.array_equal(a.packed_patterns, b.packed_patterns)


def test_onnx_errors_name_the_node(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    model = helper.make_model(helper.make_graph([helper.make_node("Sigmoid", ["x"], ["y"], name="squash")],
                                                "g", [x], [y]))
    with pytest.raises(re.InvalidNetworkError, match="node 'squash' \\(Sigmoid\\): unsupported operator"):
        re.Network.from_onnx(model)
    pool = helper.make_model(helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2], name="argpool")], "g", [x], [y]))
    with pytest.raises(re.InvalidNetworkError, match="node 'argpool' \\(MaxPool\\): the Indices output"):
        re.Network.from_onnx(pool)
    (tmp_path / "bad.onnx").write_text("nope")
    with pytest.raises(re.InvalidNetworkError, match="not a readable ONNX model"):
        re.Network.from_onnx(tmp_path / "bad.onnx")


PROP = """
; robustness-style property: inputs in a box, violated if output 0 is not the largest
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(declare-const Y_2 Real)
(assert (<= X_0 {hi}))
(assert (>= X_0 {lo}))
(assert (<= X_1 {hi}))
(assert (>= X_1 {lo}))
(assert (or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0))))
"""


def test_parse_vnnlib():
    prop = parse_vnnlib_text(PROP.format(lo=-0.5, hi=0.25))
    assert (prop.n_inputs, prop.n_outputs) == (2, 3)
    dom = prop.input_domain()
    assert isinstance(dom, re.Box) and dom.lo.tolist() == [-0.5, -0.5] and dom.hi.tolist() == [0.25, 0.25]
    assert len(prop.output_sets) == 2
    C, e = prop.output_sets[0]
    np.testing.assert_array_equal(C, [[1.0, -1.0, 0.0]]) and np.testing.assert_array_equal(e, [0.0])
    lin = parse_vnnlib_text("(declare-const X_0 Real)(declare-const Y_0 Real)"
                            "(assert (<= (+ X_0 (* 2 X_0)) 3))(assert (>= X_0 -1))"
                            "(assert (<= (- Y_0 0.5) (* -1 0.25)))")
    assert lin.input_A.tolist() == [[3.0], [-1.0]] and lin.input_b.tolist() == [-3.0, -1.0]
    C, e = lin.output_sets[0]
    assert C.tolist() == [[1.0]] and e.tolist() == [-0.25]


@pytest.mark.parametrize("text,message", [
    ("(declare-const X_0 Real)\n(assert (<= X_0 1)", "line 2: '\\(' is never closed"),
    ("(declare-const X_0 Real)\n(assert (<= X_0 Z))", "line 2: undeclared variable"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 Y_0))", "line 3: .*not both"),
    ("(declare-const X_0 Real)\n(assert (< X_0 1))", "line 2: unsupported operator '<'"),
    ("(declare-const A Real)", "line 1: variables must be named"),
    ("(push 1)", "line 1: unsupported command 'push'"),
])
def test_malformed_vnnlib_names_the_line(text, message):
    with pytest.raises(VnnLibError, match=message):
        parse_vnnlib_text(text)


def test_check_vnnlib_against_milp():
    net = random_net([2, 10, 10, 3], 1)
    for lo, hi in ((-0.05, 0.05), (-1.0, 1.0), (0.3, 0.4)):
        prop = parse_vnnlib_text(PROP.format(lo=lo, hi=hi))
        res = check_vnnlib(net, prop)
        box = re.Box([lo, lo], [hi, hi])
        # independent: the property is violated iff max(y1 - y0) >= 0 or max(y2 - y0) >= 0
        worst = max(milp_max(net, box.lo, box.hi, c)[0] for c in ([-1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]))
        assert res.status == ("sat" if worst >= 0 else "unsat"), (lo, hi, worst)
        if res.status == "sat":
            y = net(res.counterexample[None])[0]
            assert box.contains(res.counterexample[None], tol=1e-12)[0] and y[1:].max() >= y[0] - 1e-9


def test_check_vnnlib_multi_row_conjunction():
    net = random_net([2, 8, 8, 2], 2)
    text = ("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)"
            "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))"
            "(assert (and (>= Y_0 {a}) (<= Y_1 {b})))")
    X = np.random.default_rng(0).uniform(-1, 1, (20000, 2))
    Y = net(X)
    a, b = np.quantile(Y[:, 0], 0.5), np.quantile(Y[:, 1], 0.5)
    res = check_vnnlib(net, parse_vnnlib_text(text.format(a=a, b=b)))
    assert np.any((Y[:, 0] >= a) & (Y[:, 1] <= b))  # sampling finds a violation, so must we
    assert res.status == "sat"
    y = net(res.counterexample[None])[0]
    assert y[0] >= a - 1e-9 and y[1] <= b + 1e-9
    top = re.verify.output_range(net, re.Box([-1, -1], [1, 1]), output=0).max
    assert check_vnnlib(net, parse_vnnlib_text(text.format(a=float(top) + 1.0, b=b))).status == "unsat"


def test_cli_verify(tmp_path):
    net = _float32(random_net([2, 8, 8, 3], 3))
    to_onnx(net, tmp_path / "net.onnx")
    (tmp_path / "robust.vnnlib").write_text(PROP.format(lo=0.1, hi=0.1001))
    (tmp_path / "wide.vnnlib").write_text(PROP.format(lo=-1.0, hi=1.0))
    (tmp_path / "broken.vnnlib").write_text("(declare-const X_0 Real)\n(assert (<= X_0 1)")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "regionenum.cli", "verify", *map(str, args)],
                              capture_output=True, text=True, timeout=600)

    outs = {}
    for name in ("robust", "wide"):
        r = run(tmp_path / "net.onnx", tmp_path / f"{name}.vnnlib", "--json")
        assert r.returncode == 0, r.stderr
        outs[name] = json.loads(r.stdout)
    expected = check_vnnlib(re.Network.from_onnx(tmp_path / "net.onnx"), parse_vnnlib(tmp_path / "wide.vnnlib"))
    assert outs["wide"]["status"] == expected.status
    assert outs["robust"]["status"] in ("sat", "unsat")
    count = subprocess.run([sys.executable, "-m", "regionenum.cli", "count", tmp_path / "net.onnx", "--lo", "-1",
                            "-1", "--hi", "1", "1", "--json"], capture_output=True, text=True, timeout=600)
    assert json.loads(count.stdout)["regions"] == re.count_regions(net, re.Box([-1, -1], [1, 1]))
    no_box = subprocess.run([sys.executable, "-m", "regionenum.cli", "count", tmp_path / "net.onnx"],
                            capture_output=True, text=True, timeout=600)
    assert no_box.returncode == 2 and "pass --lo and --hi" in no_box.stderr
    bad = run(tmp_path / "net.onnx", tmp_path / "broken.vnnlib")
    assert bad.returncode == 2 and "line 2" in bad.stderr
    mismatch = tmp_path / "one.vnnlib"
    mismatch.write_text("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1))(assert (>= X_0 0))"
                        "(assert (>= Y_0 0))")
    bad = run(tmp_path / "net.onnx", mismatch)
    assert bad.returncode == 2 and "the property has 1 inputs" in bad.stderr


def test_empty_input_set_is_an_error():
    text = ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 1))(assert (<= X_0 0))"
            "(assert (>= Y_0 0))")
    with pytest.raises(re.InvalidDomainError, match="empty or flat"):
        check_vnnlib(random_net([1, 4, 1], 5), parse_vnnlib_text(text))


def _image_model(nodes, inits, n_out):
    """A checked ONNX model from ``nodes`` taking one 8x8 image ``x`` to ``n_out`` outputs ``y``."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])
    model = helper.make_model(helper.make_graph(nodes, "cnn", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


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
    model = _image_model(nodes, inits, 3)
    net = re.Network.from_onnx(model)
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
    from_torch = re.Network.from_torch(m, (1, 8, 8))
    flat = X.reshape(20, -1).astype(np.float64)
    np.testing.assert_allclose(net(flat), from_torch(flat), rtol=1e-12, atol=1e-12)
    plane = re.Slice.through(*flat[:3])
    a, b = re.enumerate_regions(net, plane), re.enumerate_regions(from_torch, plane)
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
    model = _image_model(nodes, inits, 10)
    net = re.Network.from_onnx(model)
    X = np.random.default_rng(0).uniform(0, 1, (20, 1, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString())
    ref = np.vstack([sess.run(None, {"x": xi[None]})[0] for xi in X])
    np.testing.assert_allclose(net(X.reshape(20, -1).astype(np.float64)), ref, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # the same weights through torch (rounded to float32 as ONNX holds them)
        for k, v in m.state_dict().items():
            if v.dtype.is_floating_point:
                v.copy_(torch.from_numpy(f[k]))
    from_torch = re.Network.from_torch(m, (1, 8, 8))
    flat = X.reshape(20, -1).astype(np.float64)
    np.testing.assert_allclose(net(flat), from_torch(flat), rtol=1e-12, atol=1e-12)
    plane = re.Slice.through(*X[:3].reshape(3, -1).astype(np.float64))
    a, b = re.enumerate_regions(net, plane), re.enumerate_regions(from_torch, plane)
    assert len(a) > 5 and np.array_equal(a.packed_patterns, b.packed_patterns)
