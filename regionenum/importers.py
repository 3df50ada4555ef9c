"""Networks from other libraries' models. Every layer is converted or the import fails naming
it; nothing is dropped.

PyTorch: ``nn.Sequential`` models of affine modules (dense, convolution, pooling by average,
batch norm, ...) and ReLU/LeakyReLU; see :func:`from_torch`.

ONNX (the ``onnx`` extra): a chain of affine operators (Gemm, MatMul, Add, Sub, Mul and Div by
constants, Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout; Conv, BatchNormalization,
AveragePool, GlobalAveragePool and Pad, unrolled for the input's shape) and ReLU / LeakyReLU,
traced symbolically: each tensor is an affine function of the last activation's output, and
each activation closes a layer. Operators outside that list, or tensors reaching back past an
activation (skip connections), are errors naming the node.

scikit-learn: ``MLPClassifier`` and ``MLPRegressor`` with ``relu`` or ``identity`` hidden
activations. The network's outputs are the model's last pre-activations: the logits of a
classifier (its ``predict`` is their argmax, or for one output their sign), the predictions of a
regressor.
"""
from __future__ import annotations

from .errors import InvalidNetworkError
from .network import Network

__all__ = ["from_sklearn", "from_onnx", "from_torch"]

_SKLEARN_ACTIVATIONS = {"relu": "relu", "identity": "identity"}


def from_sklearn(estimator) -> Network:
    """A :class:`Network` computing the pre-output of a fitted scikit-learn MLP."""
    kind = type(estimator).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise InvalidNetworkError(f"from_sklearn takes an MLPClassifier or MLPRegressor, got {kind}")
    if not hasattr(estimator, "coefs_"):
        raise InvalidNetworkError(f"the {kind} is not fitted yet (no coefs_)")
    act = estimator.activation
    if act not in _SKLEARN_ACTIVATIONS:
        raise InvalidNetworkError(f"{kind} activation {act!r} is not piecewise linear; supported: "
                                  f"{sorted(_SKLEARN_ACTIVATIONS)}")
    out = getattr(estimator, "out_activation_", "identity")
    if kind == "MLPRegressor" and out != "identity":
        raise InvalidNetworkError(f"MLPRegressor output activation {out!r} (from its loss) is not "
                                  "piecewise linear")
    layers = [(W.T, b) for W, b in zip(estimator.coefs_, estimator.intercepts_)]
    activations = [_SKLEARN_ACTIVATIONS[act]] * (len(layers) - 1) + ["identity"]
    return Network.from_layers(layers, activations)


_SHAPE_OPS = {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
#: Affine operators evaluated on the unit basis with onnx's reference evaluator.
_BASIS_OPS = {"Conv", "BatchNormalization", "AveragePool", "GlobalAveragePool", "Pad"}


class _Affine:
    """A tensor of shape ``shape`` (batch 1) as ``M @ base + c`` (flattened, row-major), where
    ``base`` numbers the layer input it is a function of (the last activation's output)."""

    def __init__(self, M, c, shape, base):
        self.M, self.c, self.shape, self.base = M, c, tuple(int(s) for s in shape), base

    def then(self, L, f0, shape):
        """This tensor mapped by ``y = L x + f0`` to a tensor of ``shape``."""
        return _Affine(L @ self.M, L @ self.c + f0, shape, self.base)


def from_onnx(model) -> Network:
    """A :class:`Network` from an ONNX model (a path or a loaded ``ModelProto``) with one input
    and one output; see the module's description for the operators taken."""
    import numpy as np
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:  # pragma: no cover - depends on the installation
        raise InvalidNetworkError("ONNX import needs the onnx package: pip install 'regionenum[onnx]'") from None
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
    n_in = int(np.prod(shape))
    tensors = {inputs[0].name: _Affine(np.eye(n_in), np.zeros(n_in), shape, 0)}
    layers, activations = [], []
    base = 0
    for node in graph.node:
        where = f"node {node.name or node.op_type!r} ({node.op_type})"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(attrs["value"]).astype(np.float64)
            continue
        args = [tensors.get(name, consts.get(name)) for name in node.input if name]
        if any(a is None for a in args):
            raise InvalidNetworkError(f"{where}: an input is neither a tensor nor a constant")
        live = [a for a in args if isinstance(a, _Affine)]
        if not live:
            raise InvalidNetworkError(f"{where}: operators on constants only are not supported")
        if any(a.base != base for a in live):
            raise InvalidNetworkError(f"{where}: uses a tensor from before the last activation "
                                      "(skip connections are not supported)")
        t, op = live[0], node.op_type
        if op in _SHAPE_OPS:
            out = _Affine(t.M, t.c, _new_shape(op, t.shape, args, attrs, where), base)
        elif op in ("Relu", "LeakyRelu"):
            layers.append((t.M, t.c))
            activations.append("relu" if op == "Relu" else ("leaky_relu", float(attrs.get("alpha", 0.01))))
            base += 1
            out = _Affine(np.eye(len(t.c)), np.zeros(len(t.c)), t.shape, base)
        elif op == "Gemm":
            B = args[1]
            if args[0] is not t or isinstance(B, _Affine) or attrs.get("transA", 0):
                raise InvalidNetworkError(f"{where}: only tensor x constant (transA = 0) is supported")
            B = B.T if attrs.get("transB", 0) else B
            alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
            bias = beta * np.broadcast_to(args[2], (B.shape[1],)) if len(args) > 2 else 0.0
            out = t.then(alpha * B.T, bias, (1, B.shape[1]))
        elif op == "MatMul":
            B = args[1]
            if args[0] is not t or isinstance(B, _Affine) or B.ndim != 2:
                raise InvalidNetworkError(f"{where}: only tensor x constant matrix is supported")
            out = t.then(B.T, 0.0, t.shape[:-1] + (B.shape[1],))
        elif op in ("Add", "Sub", "Mul", "Div"):
            out = _elementwise(op, args, where)
        elif op in _BASIS_OPS:
            out = t.then(*_on_basis(model, node, t, consts, where))
        else:
            raise InvalidNetworkError(f"{where}: unsupported operator {op}")
        tensors[node.output[0]] = out
    result = tensors.get(graph.output[0].name)
    if result is None:
        raise InvalidNetworkError(f"output {graph.output[0].name!r} is not computed from the input")
    if result.base != base:
        raise InvalidNetworkError("the output does not depend on the last activation")
    layers.append((result.M, result.c))
    activations.append("identity")
    return Network.from_layers(layers, activations)


def _new_shape(op, shape, args, attrs, where):
    """The shape after a shape-only operator (the values, row-major, are unchanged)."""
    import numpy as np
    if op in ("Identity", "Dropout"):
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


def _elementwise(op, args, where):
    """Add, Sub (of tensors, or a tensor and a constant), Mul, Div (a tensor and a constant)."""
    import numpy as np
    a, b = args
    if isinstance(a, _Affine) and isinstance(b, _Affine):
        if op not in ("Add", "Sub") or a.shape != b.shape:
            raise InvalidNetworkError(f"{where}: only sums of tensors of one shape are linear")
        sign = 1.0 if op == "Add" else -1.0
        return _Affine(a.M + sign * b.M, a.c + sign * b.c, a.shape, a.base)
    t, k = (a, b) if isinstance(a, _Affine) else (b, a)
    try:
        k = np.broadcast_to(k, t.shape).reshape(-1)
    except ValueError:
        raise InvalidNetworkError(f"{where}: a constant of shape {np.shape(k)} does not broadcast "
                                  f"to {t.shape}") from None
    if op == "Sub" and t is b:  # constant - tensor
        return _Affine(-t.M, k - t.c, t.shape, t.base)
    if op in ("Add", "Sub"):
        return _Affine(t.M, t.c + (k if op == "Add" else -k), t.shape, t.base)
    if op == "Div" and t is b:
        raise InvalidNetworkError(f"{where}: dividing by a tensor is not linear")
    k = 1.0 / k if op == "Div" else k
    return _Affine(k[:, None] * t.M, k * t.c, t.shape, t.base)


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


def from_torch(module, input_shape) -> Network:
    """A :class:`Network` from a PyTorch module: ``nn.Sequential`` (nested too) of ``Linear``,
    ``Conv1d``/``Conv2d``, ``BatchNorm1d``/``BatchNorm2d``, ``AvgPool1d``/``AvgPool2d``,
    ``Flatten``, ``Unflatten``, ``Dropout``, ``Identity`` (affine in evaluation mode) and
    ``ReLU``/``LeakyReLU``. ``input_shape`` is one input's shape without the batch dimension,
    e.g. ``(64,)`` or ``(1, 8, 8)``.

    Each run of affine modules between activations becomes one dense layer, computed by running
    the module (in float64, evaluation mode, on a copy) on the unit basis: convolutions, pooling
    and batch norms are unrolled exactly for that input shape.
    """
    import copy

    import numpy as np
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the installation
        raise InvalidNetworkError("PyTorch import needs torch: pip install torch") from None
    nn = torch.nn
    affine = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.AvgPool1d,
              nn.AvgPool2d, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Identity)
    if not isinstance(module, nn.Module):
        raise InvalidNetworkError(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    shape = tuple(int(s) for s in np.atleast_1d(input_shape))
    if not shape or min(shape) < 1:
        raise InvalidNetworkError(f"input_shape must be positive sizes, got {input_shape!r}")
    model = copy.deepcopy(module).double().eval()
    layers, activations, segment = [], [], []

    def close(segment, shape):
        n = int(np.prod(shape))
        run = nn.Sequential(*segment)
        with torch.no_grad():
            try:
                zero = run(torch.zeros((1,) + shape, dtype=torch.float64))
                basis = run(torch.eye(n, dtype=torch.float64).reshape((n,) + shape))
            except RuntimeError as err:
                raise InvalidNetworkError(f"the modules {[type(m).__name__ for m in segment]} do not "
                                          f"accept inputs of shape {shape}: {err}") from None
        b = zero.reshape(-1).numpy()
        W = (basis.reshape(n, -1) - zero.reshape(1, -1)).numpy().T
        return W, b, tuple(zero.shape[1:])

    for name, m in _leaves(model, nn):
        if isinstance(m, (nn.ReLU, nn.LeakyReLU)):
            W, b, shape = close(segment, shape)
            layers.append((W, b))
            activations.append("relu" if isinstance(m, nn.ReLU) else ("leaky_relu", float(m.negative_slope)))
            segment = []
        elif isinstance(m, affine):
            segment.append(m)
        else:
            kind = type(m).__name__
            why = " (max-type units are not supported yet)" if "MaxPool" in kind else ""
            raise InvalidNetworkError(f"module {name!r} ({kind}) is not supported{why}")
    W, b, _ = close(segment, shape)
    layers.append((W, b))
    activations.append("identity")
    return Network.from_layers(layers, activations)


def _leaves(model, nn, prefix=""):
    """The modules of nested ``nn.Sequential`` containers, in order, with their names; any
    other module with children (its own ``forward``, e.g. a residual block) is returned as is,
    so that it is refused by name."""
    if isinstance(model, nn.Sequential):
        for name, child in model.named_children():
            yield from _leaves(child, nn, f"{prefix}{name}.")
    else:
        yield prefix.rstrip(".") or type(model).__name__, model
