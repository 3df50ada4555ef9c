"""Test models written the way users write them: ONNX graphs built node by node, so that the
importers and ``regionenum verify`` meet real files. Needs the ``onnx`` package."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import regionenum as rn


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


def float32_net(net):
    """The network with weights rounded to float32, as ONNX stores them."""
    return rn.Network.from_layers([(l.W.astype(np.float32), l.b.astype(np.float32)) for l in net.layers],
                                  [l.activation.kind if l.activation.kind != "leaky_relu"
                                   else ("leaky_relu", l.activation.alpha) for l in net.layers])


def image_model(nodes, inits, n_out):
    """A checked ONNX model from ``nodes`` taking one 8x8 image ``x`` to ``n_out`` outputs ``y``."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])
    model = helper.make_model(helper.make_graph(nodes, "cnn", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model
