"""Piecewise-linear activations (hardtanh, ReLU6, clipped ReLU, hard-sigmoid, abs, PReLU, splines):
the exact rewrite into ReLU layers against the functions themselves (in fractions), torch and
onnxruntime; region counts and each unit's piece against an independent 1-D oracle, an LP
reference and sampling; files; errors naming the layer."""
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from tests.oracles import lp_regions, piecewise_regions_1d

ACTIVATIONS = [
    rn.Activation.hardtanh(-0.5, 0.75), rn.Activation.relu6(), rn.Activation.clipped_relu(0.3),
    rn.Activation.hard_sigmoid(0.7, 0.3), rn.Activation.hard_sigmoid(-1.3, 0.1), rn.Activation.abs(),
    rn.Activation.prelu(0.1), rn.Activation.prelu([0.2, -0.3, 1.0, 0.1, 0.5, 0.25]),
    rn.Activation.spline([-0.4, 0.1, 0.6], [0.3, -1.1, 0.7, 0.05], value=0.2),
    rn.Activation.spline([[-0.2], [0.0], [0.3], [-1.0], [0.5], [0.1]],
                         [[1.0, -0.5], [0.1, 0.3], [2.0, 0.0], [0.0, 1.0], [-1.0, 1.0], [0.3, 0.7]],
                         [0.0, 0.1, -0.2, 0.3, 0.0, 1.0]),
]
IDS = [a.spec[:28] for a in ACTIVATIONS]


def _net(act, seed, d=1, width=6):
    rng = np.random.default_rng(seed)
    layers = [(rng.normal(size=(width, d)), rng.normal(size=width) * 0.5),
              (rng.normal(size=(width, width)) / 2, rng.normal(size=width) * 0.3),
              (rng.normal(size=(1, width)), rng.normal(size=1))]
    return rn.Network.from_layers(layers, [act, "relu", "identity"])


def _source_forward_exact(net, x):
    """The network as built, in fractions, each activation from its definition."""
    from tests.oracles import _evaluate, _unit_functions
    a = [Fraction(float(v)) for v in x]
    for layer in net.source_layers:
        z = [sum(Fraction(float(w)) * v for w, v in zip(row, a)) + Fraction(float(bb))
             for row, bb in zip(layer.W, layer.b)]
        fns = _unit_functions(layer.activation, layer.width)
        a = [v if fn is None else _evaluate(fn, v)[0] for fn, v in zip(fns, z)]
    return a


def _canonical_forward_exact(net, x):
    """The rewritten network (ReLU and identity layers, linear units), in fractions."""
    a = [Fraction(float(v)) for v in x]
    for layer in net.layers:
        assert layer.activation.kind in ("relu", "identity")
        z = [sum(Fraction(float(w)) * v for w, v in zip(row, a)) + Fraction(float(bb))
             for row, bb in zip(layer.W, layer.b)]
        a = [v if layer.activation.kind == "identity" or j in layer.activation.linear else max(v, Fraction(0))
             for j, v in enumerate(z)]
    return a


@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
def test_rewrite_is_exact_in_rational_arithmetic(act):
    net = _net(act, 0, d=2)
    assert net.rewritten and all(l.activation.kind in ("relu", "identity") for l in net.layers)
    rng = np.random.default_rng(1)
    # random points, and points where units sit exactly on a breakpoint
    for x in rng.uniform(-3, 3, (25, 2)):
        assert _canonical_forward_exact(net, x) == _source_forward_exact(net, x)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
def test_float_outputs_and_pieces_match_the_layers_as_built(act):
    net = _net(act, 2, d=2)
    X = np.random.default_rng(3).uniform(-3, 3, (300, 2))
    expected = np.array([[float(v) for v in _source_forward_exact(net, x)] for x in X])
    np.testing.assert_allclose(net(X), expected, rtol=1e-12, atol=1e-12)
    # the pieces read off the rewrite's pattern bits are the units' pieces
    np.testing.assert_array_equal(net.piece_map.pieces(net.pattern_bits(X)), net.pieces(X))


@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
def test_regions_in_1d_match_an_independent_oracle(act):
    for seed in range(3):
        net = _net(act, 10 + seed)
        oracle = piecewise_regions_1d(net, -3.0, 3.0)
        regions = rn.enumerate_regions(net, rn.Box([-3.0], [3.0]))
        assert len(regions) == len(oracle) == rn.count_regions(net, rn.Box([-3.0], [3.0]))
        order = np.argsort(regions.interior_points[:, 0])
        assert [tuple(p) for p in regions.pieces[order].tolist()] == [p for _, _, p in oracle]
        ends = np.array([[float(a), float(z)] for a, z, _ in oracle])
        got = np.array([np.sort(regions.vertices_of(i)[:, 0]) for i in order])
        np.testing.assert_allclose(got, ends, atol=1e-12)


@pytest.mark.parametrize("act", ACTIVATIONS[::2], ids=IDS[::2])
def test_regions_in_2d_match_lp_reference_and_samples(act):
    net = _net(act, 20, d=2, width=5 if act.kind not in ("prelu", "spline") or len(act.params) == 1 else 6)
    box = rn.Box([-2.0, -2.0], [2.0, 2.0])
    regions = rn.enumerate_regions(net, box)
    expected = lp_regions(net, box.A, box.b)
    assert sorted(tuple(p) for p in regions.patterns.tolist()) == expected
    X = np.random.default_rng(4).uniform(-2, 2, (3000, 2))
    np.testing.assert_array_equal(regions.pieces[regions.locate(X)], net.pieces(X))


def test_units_at_breakpoints_and_coinciding_hyperplanes():
    # clamp(x, -1, 1) and |x| on the same pre-activation: the breakpoints -1, 0, 1 on one line
    W = np.array([[1.0], [1.0]])
    a = rn.Network.from_layers([(W, np.zeros(2)), (np.ones((1, 2)), np.zeros(1))],
                               [rn.Activation.spline([[-1.0, 1.0], [0.0]], [[0.0, 1.0, 0.0], [-1.0, 1.0]],
                                                     [-1.0, 0.0]), "identity"])
    regions = rn.enumerate_regions(a, rn.Box([-2.0], [2.0]))
    assert len(regions) == 4
    assert sorted(map(tuple, regions.pieces.tolist())) == [(0, 0), (1, 0), (1, 1), (2, 1)]


def test_inexact_slope_differences_get_two_units():
    # 1 - 0.1 is not a float64 (0.25 - 1 is): the first breakpoint gets two ReLU units
    assert Fraction(1.0) - Fraction(0.1) != Fraction(1.0 - 0.1)
    assert Fraction(0.25) - Fraction(1.0) == Fraction(0.25 - 1.0)
    act = rn.Activation.spline([0.0, 1.0], [0.1, 1.0, 0.25], value=0.0)
    net = rn.Network.from_layers([(np.ones((1, 1)), [0.25]), (np.ones((1, 1)), [0.0])], [act, "identity"])
    relu = next(l for l in net.layers if l.activation.kind == "relu")
    assert relu.width - len(relu.activation.linear) == 3
    for x in (-2.0, -0.25, 0.5, 0.75, 3.0, 1 / 3):
        assert _canonical_forward_exact(net, [x]) == _source_forward_exact(net, [x])
    assert len(rn.enumerate_regions(net, rn.Box([-2.0], [2.0]))) == 3


def test_files_keep_the_activations_and_pieces(tmp_path):
    net = _net(ACTIVATIONS[-2], 5)
    rn.save(tmp_path / "net.npz", net, rn.Box([-3.0], [3.0]))
    loaded, box = rn.load(tmp_path / "net.npz")
    assert [l.activation for l in loaded.source_layers] == [l.activation for l in net.source_layers]
    regions = rn.enumerate_regions(loaded, box)
    regions.save(tmp_path / "regions.npz")
    back = rn.load_regions(tmp_path / "regions.npz")
    np.testing.assert_array_equal(back.pieces, regions.pieces)
    for spec in ["hardtanh:-1.0,1.0", "relu6", "abs", "prelu:0.1,0.2", "hard_sigmoid:0.2,0.5",
                 "clipped_relu:2.0+linear:1", "spline:-1.0,1.0/0.0,1.0,0.0/-1.0;0.5/1.0,2.0/0.0"]:
        assert rn.Activation.parse(spec).spec == spec


def test_restricted_keeps_the_pieces():
    net = _net(ACTIVATIONS[3], 6, d=3)
    line = net.restricted(np.zeros(3), np.array([[1.0], [0.5], [-0.2]]))
    assert line.rewritten and len(line.piece_map) == len(net.piece_map)
    t = np.linspace(-2, 2, 50)[:, None]
    np.testing.assert_array_equal(line.pieces(t), net.pieces(t * np.array([1.0, 0.5, -0.2])))


@pytest.mark.parametrize("spec,message", [
    (("spline", ([1.0, 0.0], [0.0, 1.0, 0.0], 0.0)), "breakpoints must increase"),
    (("spline", ([0.0, 1.0], [0.0, 1.0, 1.0], 0.0)), "does not bend"),
    (("spline", ([0.0], [0.0], 0.0)), "one slope more"),
    (("hardtanh", (1.0, -1.0)), "lo < hi"),
    (("clipped_relu", -1.0), "positive cap"),
    (("hard_sigmoid", (0.0, 0.5)), "alpha != 0"),
    (("prelu", [0.1, 0.2, 0.3]), "3 parameter sets for a layer of 2 units"),
    ("relu6:3", "takes 0 parameters"),
])
def test_bad_parameters_are_refused_naming_the_layer(spec, message):
    with pytest.raises(rn.InvalidNetworkError, match=message):
        rn.Network.from_layers([(np.ones((2, 1)), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))],
                               [spec, "identity"])


# -- torch ------------------------------------------------------------------------------------
def _torch_cases(torch):
    from regionenum.importers.torch_modules import PiecewiseLinear
    nn, F = torch.nn, torch.nn.functional

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(2, 6), nn.Linear(6, 6), nn.Linear(6, 2)
            self.w = nn.Parameter(torch.linspace(-0.5, 0.5, 6))

        def forward(self, x):
            h = F.hardtanh(self.a(x), -0.4, 0.9)
            h = torch.clamp(self.b(h), 0.0, 0.5) + F.prelu(h, self.w)   # clipped ReLU, PReLU
            return self.c(F.hardsigmoid(h * 3) + F.relu6(h * 4) - torch.abs(h) + h.clamp(max=0.2))

    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 3, 3, padding=1)
            self.prelu = nn.PReLU(3)
            self.spline = PiecewiseLinear([[-0.5, 0.5]] * 3, [[0.2, 1.0, -0.3], [0.0, 1.0, 0.0], [-1, 1, 2]],
                                          [0.0, 0.1, -0.2])
            self.out = nn.Linear(3 * 16, 2)

        def forward(self, x):
            return self.out(torch.flatten(self.spline(self.prelu(self.conv(x))), 1))

    modules = nn.Sequential(nn.Linear(2, 8), nn.Hardtanh(-0.3, 0.6), nn.Linear(8, 8), nn.ReLU6(),
                            nn.Linear(8, 8), nn.Hardsigmoid(), nn.Linear(8, 8), nn.PReLU(),
                            nn.Linear(8, 5), PiecewiseLinear([-0.2, 0.4], [1.0, -0.5, 0.3], 0.1), nn.Linear(5, 1))
    return [(modules, (2,)), (Functional(), (2,)), (Conv(), (1, 4, 4))]


def test_torch_activations_match_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for model, shape in _torch_cases(torch):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.3)
        net = rn.Network.from_torch(model, shape)
        assert net.rewritten
        X = np.random.default_rng(0).uniform(-2, 2, (400, int(np.prod(shape))))
        with torch.no_grad():
            y = model.double()(torch.tensor(X).reshape((-1,) + shape)).numpy()
        np.testing.assert_allclose(net(X), y, rtol=1e-9, atol=1e-9)


def test_torch_clamp_needs_constant_scalar_bounds():
    torch = pytest.importorskip("torch")

    class Traced(torch.nn.Module):
        def forward(self, x):
            return torch.clamp(x, x * 0, x * 0 + 1)

    class PerEntry(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("lo", torch.zeros(2))

        def forward(self, x):
            return torch.clamp(x, self.lo)

    with pytest.raises(rn.InvalidNetworkError, match="one traced tensor"):
        rn.Network.from_torch(Traced(), (2,))
    with pytest.raises(rn.InvalidNetworkError, match="constant scalar bounds"):
        rn.Network.from_torch(PerEntry(), (2,))


# -- ONNX -------------------------------------------------------------------------------------
def _onnx_model(opset, nodes, inits, n_in=2, n_out=1):
    from onnx import TensorProto, helper
    graph = helper.make_graph(nodes, "pwl", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_onnx_activations_match_onnxruntime():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import helper, numpy_helper
    rng = np.random.default_rng(0)
    W = [rng.normal(size=s).astype(np.float32) for s in [(6, 2), (6, 6), (6, 6), (1, 6)]]
    b = [rng.normal(size=s[0]).astype(np.float32) * 0.5 for s in [(6,), (6,), (6,), (1,)]]
    inits = ([numpy_helper.from_array(w, f"W{i}") for i, w in enumerate(W)]
             + [numpy_helper.from_array(v, f"b{i}") for i, v in enumerate(b)]
             + [numpy_helper.from_array(rng.uniform(-0.5, 0.5, 6).astype(np.float32), "slope"),
                numpy_helper.from_array(np.array(-0.25, np.float32), "lo"),
                numpy_helper.from_array(np.array(0.5, np.float32), "hi")])
    gemm = [helper.make_node("Gemm", [src, f"W{i}", f"b{i}"], [f"z{i}"], transB=1)
            for i, src in enumerate(["x", "a0", "a1", "a2"])]
    cases = {
        17: [gemm[0], helper.make_node("PRelu", ["z0", "slope"], ["a0"]), gemm[1],
             helper.make_node("Clip", ["z1", "lo", "hi"], ["a1"]), gemm[2],
             helper.make_node("HardSigmoid", ["z2"], ["h2"], alpha=0.7, beta=0.3),
             helper.make_node("Abs", ["h2"], ["a2"]), gemm[3], helper.make_node("Identity", ["z3"], ["y"])],
        11: [gemm[0], helper.make_node("Clip", ["z0", "", "hi"], ["a0"]), gemm[1],
             helper.make_node("Clip", ["z1", "lo"], ["a1"]), gemm[2], helper.make_node("Abs", ["z2"], ["a2"]),
             gemm[3], helper.make_node("Identity", ["z3"], ["y"])],
        10: [gemm[0], helper.make_node("Clip", ["z0"], ["a0"], min=0.0, max=0.3), gemm[1],
            helper.make_node("HardSigmoid", ["z1"], ["a1"]), gemm[2], helper.make_node("Relu", ["z2"], ["a2"]),
            gemm[3], helper.make_node("Identity", ["z3"], ["y"])],
    }
    X = rng.uniform(-2, 2, (300, 2)).astype(np.float32)
    for opset, nodes in cases.items():
        model = _onnx_model(opset, nodes, inits)
        onnx.checker.check_model(model)
        net = rn.Network.from_onnx(model)
        sess = ort.InferenceSession(model.SerializeToString())
        y = np.concatenate([sess.run(None, {"x": x[None]})[0] for x in X])
        np.testing.assert_allclose(net(X.astype(np.float64)), y, rtol=1e-5, atol=1e-5)


def test_onnx_prelu_per_channel_on_a_convolution():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.normal(size=(3, 1, 3, 3)).astype(np.float32), "K"),
             numpy_helper.from_array(rng.normal(size=3).astype(np.float32), "kb"),
             numpy_helper.from_array(np.array([0.1, -0.2, 0.3], np.float32).reshape(3, 1, 1), "slope"),
             numpy_helper.from_array(np.array([1, 48], np.int64), "shape"),
             numpy_helper.from_array(rng.normal(size=(1, 48)).astype(np.float32), "W")]
    nodes = [helper.make_node("Conv", ["x", "K", "kb"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("PRelu", ["c", "slope"], ["p"]), helper.make_node("Reshape", ["p", "shape"], ["f"]),
             helper.make_node("Gemm", ["f", "W"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    net = rn.Network.from_onnx(model)
    sess = ort.InferenceSession(model.SerializeToString())
    X = rng.uniform(-1, 1, (50, 16)).astype(np.float32)
    y = np.concatenate([sess.run(None, {"x": x.reshape(1, 1, 4, 4)})[0] for x in X])
    np.testing.assert_allclose(net(X.astype(np.float64)), y, rtol=1e-5, atol=1e-5)
