"""Networks from other libraries' models. Every layer is converted or the import fails naming
it; nothing is dropped.

ONNX (the ``onnx`` extra): a chain of affine operators (Gemm, MatMul, Add, Sub, Mul and Div by
constants, Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout) and ReLU / LeakyReLU, traced
symbolically: each tensor is an affine function of the last activation's output, and each
activation closes a layer. Operators outside that list, or tensors reaching back past an
activation (skip connections), are errors naming the node.

scikit-learn: ``MLPClassifier`` and ``MLPRegressor`` with ``relu`` or ``identity`` hidden
activations. The network's outputs are the model's last pre-activations: the logits of a
classifier (its ``predict`` is their argmax, or for one output their sign), the predictions of a
regressor.
"""
from __future__ import annotations

from .errors import InvalidNetworkError
from .network import Network

__all__ = ["from_sklearn", "from_onnx"]

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


class _Affine:
    """A tensor as ``M @ base + c`` (flattened, row-major) of the current layer input."""

    def __init__(self, M, c, base):
        self.M, self.c, self.base = M, c, base


def from_onnx(model) -> Network:
    """A :class:`Network` from an ONNX model (a path or a loaded ``ModelProto``) with one input
    (batch dimension 1 allowed) and one output."""
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
    n_in = int(np.prod([d for d in dims if d > 0])) if dims else 0
    if n_in == 0 or (dims and dims[0] not in (0, 1) and len(dims) > 1 and np.prod(dims[1:]) != n_in):
        raise InvalidNetworkError(f"input {inputs[0].name!r} has no usable static shape {dims}")
    tensors = {inputs[0].name: _Affine(np.eye(n_in), np.zeros(n_in), 0)}
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
        if any(a.base != base for a in live):
            raise InvalidNetworkError(f"{where}: uses a tensor from before the last activation "
                                      "(skip connections are not supported)")
        if not live:  # constant folding
            raise InvalidNetworkError(f"{where}: operators on constants only are not supported")
        op = node.op_type
        if op in _SHAPE_OPS:
            out = live[0]
        elif op in ("Relu", "LeakyRelu"):
            t = live[0]
            layers.append((t.M, t.c))
            activations.append("relu" if op == "Relu" else ("leaky_relu", float(attrs.get("alpha", 0.01))))
            base += 1
            out = _Affine(np.eye(len(t.c)), np.zeros(len(t.c)), base)
        elif op == "Gemm":
            A, B = args[0], args[1]
            if not isinstance(A, _Affine) or isinstance(B, _Affine) or attrs.get("transA", 0):
                raise InvalidNetworkError(f"{where}: only tensor x constant (transA = 0) is supported")
            B = B.T if attrs.get("transB", 0) else B
            alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
            bias = beta * np.broadcast_to(args[2], (B.shape[1],)) if len(args) > 2 else 0.0
            out = _Affine(alpha * B.T @ A.M, alpha * B.T @ A.c + bias, base)
        elif op == "MatMul":
            A, B = args
            if not isinstance(A, _Affine) or isinstance(B, _Affine) or B.ndim != 2:
                raise InvalidNetworkError(f"{where}: only tensor x constant matrix is supported")
            out = _Affine(B.T @ A.M, B.T @ A.c, base)
        elif op in ("Add", "Sub"):
            sign = 1.0 if op == "Add" else -1.0
            a, b = args
            if isinstance(a, _Affine) and isinstance(b, _Affine):
                out = _Affine(a.M + sign * b.M, a.c + sign * b.c, base)
            elif isinstance(a, _Affine):
                out = _Affine(a.M, a.c + sign * _flat(b, len(a.c), where), base)
            else:
                out = _Affine(sign * b.M, _flat(a, len(b.c), where) + sign * b.c, base)
        elif op in ("Mul", "Div"):
            a, b = args
            if isinstance(a, _Affine) == isinstance(b, _Affine) or (op == "Div" and not isinstance(a, _Affine)):
                raise InvalidNetworkError(f"{where}: only a tensor times (or over) a constant is linear")
            t, k = (a, b) if isinstance(a, _Affine) else (b, a)
            k = _flat(k, len(t.c), where)
            k = 1.0 / k if op == "Div" else k
            out = _Affine(k[:, None] * t.M, k * t.c, base)
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


def _flat(value, n, where):
    """A constant as a flat vector of length ``n`` (same size, or broadcast)."""
    import numpy as np
    arr = np.asarray(value, np.float64)
    if arr.size == n:
        return arr.reshape(n)
    try:
        return np.broadcast_to(arr.reshape(-1), (n,)).copy()
    except ValueError:
        raise InvalidNetworkError(f"{where}: a constant of shape {arr.shape} does not fit {n} "
                                  "values") from None
