"""ONNX models (the ``onnx`` extra): a graph of affine operators (Gemm, MatMul, Add, Sub, Mul and
Div by constants, Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout; Conv,
BatchNormalization, AveragePool, GlobalAveragePool and Pad, unrolled for the input's shape),
the piecewise-linear activations Relu, LeakyRelu, Clip (constant bounds: clipped ReLU, ReLU6),
Abs, PRelu (slopes broadcast to the tensor: per channel or per unit) and HardSigmoid (rewritten
exactly into ReLU layers, :mod:`regionenum.core.piecewise`), and MaxPool / GlobalMaxPool,
traced symbolically (see
:mod:`regionenum.importers.tracing`): each tensor is an affine function of the last activation's
output, each activation closes a layer, and tensors used again after an activation (skip
connections) are carried through it. Operators outside that list are errors naming the node.
"""
from __future__ import annotations

from ..core.network import Activation, Network
from ..errors import InvalidNetworkError, MissingDependencyError
from .tracing import Affine, LayerBuilder, elementwise, window_members

__all__ = ["from_onnx"]

_SHAPE_OPS = {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
#: Affine operators evaluated on the unit basis with onnx's reference evaluator.
_BASIS_OPS = {"Conv", "BatchNormalization", "AveragePool", "GlobalAveragePool", "Pad"}
#: Operators that close a layer.
_ACTIVATIONS = {"Relu", "LeakyRelu", "Clip", "Abs", "PRelu", "HardSigmoid", "MaxPool", "GlobalMaxPool"}


def from_onnx(model) -> Network:
    """A :class:`~regionenum.Network` from an ONNX model (a path or a loaded ``ModelProto``) with
    one input and one output; see the module's description for the operators taken.

    Parameters
    ----------
    model : str, path or onnx.ModelProto

    Returns
    -------
    Network

    Raises
    ------
    InvalidNetworkError
        An unreadable file, several inputs or outputs, or an operator that is not supported,
        named with its node.
    MissingDependencyError
        The ``onnx`` package is not installed.

    Examples
    --------
    >>> import regionenum as rn                                            # doctest: +SKIP
    >>> net = rn.Network.from_onnx("ACASXU_run2a_1_1_batch_2000.onnx")    # doctest: +SKIP
    >>> net.input_dim, net.output_dim, net.widths                          # doctest: +SKIP
    (5, 5, (50, 50, 50, 50, 50, 50, 5))
    """
    import numpy as np
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("ONNX import needs the onnx package: pip install 'regionenum[onnx]'") from None
    if not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(str(model))
        except Exception as err:  # onnx raises several types for unreadable files
            raise InvalidNetworkError(f"{model}: not a readable ONNX model: {err}") from None
    graph = model.graph
    consts = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in consts]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise InvalidNetworkError(f"the ONNX graph must have one input and one output, has "
                                  f"{len(inputs)} and {len(graph.output)}")
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if not dims or any(d < 1 for d in dims[1:]) or (len(dims) == 1 and dims[0] < 1):
        raise InvalidNetworkError(f"input {inputs[0].name!r} has no usable static shape {dims}")
    shape = (1, *dims[1:]) if len(dims) > 1 else (int(dims[0]),)
    builder = LayerBuilder(shape)
    tensors = {inputs[0].name: builder.input}
    last_use = {name: i for i, node in enumerate(graph.node) for name in node.input}
    last_use[graph.output[0].name] = len(graph.node)
    for i, node in enumerate(graph.node):
        where = f"node {node.name or node.op_type!r} ({node.op_type})"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(attrs["value"]).astype(np.float64)
            continue
        args = [tensors.get(name, consts.get(name)) for name in node.input if name]
        if any(a is None for a in args):
            raise InvalidNetworkError(f"{where}: an input is neither a tensor nor a constant")
        live = [a for a in args if isinstance(a, Affine)]
        if not live:
            raise InvalidNetworkError(f"{where}: operators on constants only are not supported")
        t, op = live[0], node.op_type
        if op in _SHAPE_OPS or (op == "Clip" and _clip_bounds(node, attrs, consts, where) == (None, None)):
            out = Affine(t.M, t.c, _new_shape(op, t.shape, args, attrs, where), t.base)
        elif op in _ACTIVATIONS:
            if tensors.get(node.input[0]) is not t:
                raise InvalidNetworkError(f"{where}: its first input must be computed from the model's input")
            # tensors used after this node are carried through the layer it closes
            carried = [name for name, v in tensors.items() if last_use.get(name, -1) > i]
            before = [tensors[name] for name in carried]
            if op in ("MaxPool", "GlobalMaxPool"):
                if len(node.output) > 1 and node.output[1]:
                    raise InvalidNetworkError(f"{where}: the Indices output is not supported")
                L, f0, out_shape = _on_basis(model, node, t, consts, where)
                if np.any(f0):
                    raise InvalidNetworkError(f"{where}: does not act as a max over windows of its input")
                out, after = builder.max_pool(t, window_members(L.T, len(t.c), where), out_shape, before)
            else:
                out, after = builder.activate(t, _activation(node, attrs, consts, t, where), before)
            tensors = dict(zip(carried, after))
        elif op == "Gemm":
            B = args[1]
            if args[0] is not t or isinstance(B, Affine) or attrs.get("transA", 0):
                raise InvalidNetworkError(f"{where}: only tensor x constant (transA = 0) is supported")
            B = B.T if attrs.get("transB", 0) else B
            alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
            bias = beta * np.broadcast_to(args[2], (B.shape[1],)) if len(args) > 2 else 0.0
            out = t.then(alpha * B.T, bias, (1, B.shape[1]))
        elif op == "MatMul":
            B = args[1]
            if args[0] is not t or isinstance(B, Affine) or B.ndim != 2:
                raise InvalidNetworkError(f"{where}: only tensor x constant matrix is supported")
            out = t.then(B.T, 0.0, t.shape[:-1] + (B.shape[1],))
        elif op in ("Add", "Sub", "Mul", "Div"):
            out = elementwise(op.lower(), *args, where)
        elif op in _BASIS_OPS:
            out = t.then(*_on_basis(model, node, t, consts, where))
        else:
            raise InvalidNetworkError(f"{where}: unsupported operator {op}")
        tensors[node.output[0]] = out
    result = tensors.get(graph.output[0].name)
    if result is None:
        raise InvalidNetworkError(f"output {graph.output[0].name!r} is not computed from the input")
    return builder.finish(result)


def _activation(node, attrs, consts, t, where) -> Activation:
    """The activation of a Relu, LeakyRelu, Clip, Abs, PRelu or HardSigmoid node on ``t``."""
    import numpy as np
    op = node.op_type
    if op == "Relu":
        return Activation("relu")
    if op == "LeakyRelu":
        return Activation("leaky_relu", float(attrs.get("alpha", 0.01)))
    if op == "Abs":
        return Activation.abs()
    if op == "HardSigmoid":
        return Activation.hard_sigmoid(float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5)))
    if op == "PRelu":
        slope = consts.get(node.input[1])
        if slope is None:
            raise InvalidNetworkError(f"{where}: the slope must be a constant")
        try:
            per_unit = np.broadcast_to(slope, t.shape).reshape(-1)
        except ValueError:
            raise InvalidNetworkError(f"{where}: slopes of shape {slope.shape} do not broadcast to "
                                      f"{t.shape}") from None
        return Activation.prelu(per_unit[:1] if np.all(per_unit == per_unit[0]) else per_unit)
    lo, hi = _clip_bounds(node, attrs, consts, where)  # Clip
    if hi is None:
        return Activation.spline([lo], [0.0, 1.0], lo)
    if lo is None:
        return Activation.spline([hi], [1.0, 0.0], hi)
    if not lo < hi:
        raise InvalidNetworkError(f"{where}: bounds {lo} and {hi} leave a constant, not an activation")
    return Activation.hardtanh(lo, hi)


def _clip_bounds(node, attrs, consts, where):
    """A Clip's ``(min, max)`` as floats, None where absent (inputs from opset 11, attributes
    before; infinite bounds count as absent)."""
    import numpy as np
    names = list(node.input[1:3]) + [""] * (3 - len(node.input))
    out = []
    for name, key in zip(names[:2], ("min", "max")):
        if name:
            if name not in consts or np.size(consts[name]) != 1:
                raise InvalidNetworkError(f"{where}: the {key} bound must be a constant scalar")
            value = float(np.asarray(consts[name]).reshape(-1)[0])
        else:
            value = attrs.get(key)
        out.append(None if value is None or not np.isfinite(value) else float(value))
    return tuple(out)


def _new_shape(op, shape, args, attrs, where):
    """The shape after a shape-only operator (the values, row-major, are unchanged)."""
    import numpy as np
    if op in ("Identity", "Dropout", "Clip"):
        return shape
    if op == "Flatten":
        axis = int(attrs.get("axis", 1)) % max(len(shape), 1)
        return (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
    x = np.zeros(shape)
    axes = attrs.get("axes")
    if axes is None and len(args) > 1:
        axes = [int(a) for a in np.asarray(args[1]).ravel()]
    try:
        if op == "Reshape":
            target = [shape[i] if int(v) == 0 else int(v) for i, v in enumerate(np.asarray(args[1]).ravel())]
            return x.reshape(target).shape
        if op == "Squeeze":
            return np.squeeze(x, axis=tuple(axes) if axes is not None else None).shape
        return np.expand_dims(x, axis=tuple(axes)).shape  # Unsqueeze
    except (ValueError, TypeError, IndexError) as err:
        raise InvalidNetworkError(f"{where}: cannot apply it to shape {shape}: {err}") from None


def _on_basis(model, node, t, consts, where):
    """The affine map of one operator on tensor ``t``, by running it (onnx's reference
    evaluator, in float64) on zero and on the unit basis: ``(L, f0, output shape)``."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator
    name = node.input[0]
    n = int(np.prod(t.shape))
    inits = [numpy_helper.from_array(consts[i], i) for i in node.input[1:] if i]
    x = helper.make_tensor_value_info(name, TensorProto.DOUBLE, None)
    y = helper.make_tensor_value_info(node.output[0], TensorProto.DOUBLE, None)
    single = helper.make_model(helper.make_graph([node], "op", [x], [y], inits),
                               opset_imports=list(model.opset_import))
    X = np.concatenate([np.zeros((1, n)), np.eye(n)]).reshape((n + 1,) + t.shape[1:])
    try:
        Y = np.asarray(ReferenceEvaluator(single).run(None, {name: X})[0], dtype=np.float64)
    except Exception as err:  # the evaluator raises many types for bad attributes or shapes
        raise InvalidNetworkError(f"{where}: cannot evaluate it on shape {t.shape}: {err}") from None
    f0 = Y[0].reshape(-1)
    return (Y[1:].reshape(n, -1) - f0).T, f0, (1,) + Y.shape[1:]
