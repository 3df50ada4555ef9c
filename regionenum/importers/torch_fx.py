"""PyTorch models, traced with ``torch.fx`` into a :class:`Network`.

The module (a copy, in float64 and evaluation mode) is traced symbolically, so ``nn.Sequential``
models, nested ones and modules with their own ``forward`` (residual blocks: ``x + f(x)``) all
work, as long as the graph does not depend on input values. Each affine operation is computed
by running it on the unit basis (convolutions, pooling by average and batch norms are unrolled
exactly for the given input shape); shape operations (``view``, ``flatten``, ``permute``,
slicing, ``cat``, ...) by running them on a tensor of entry indices. ReLU, LeakyReLU and the
other piecewise-linear activations (hardtanh, ReLU6, clamps, hard-sigmoid, abs, PReLU, and
:class:`~regionenum.importers.torch_modules.PiecewiseLinear` splines) close a layer; max-pooling
closes a max layer. Anything else is refused by name.
"""
from __future__ import annotations

import copy
import operator

import numpy as np

from ..core.network import Activation
from ..errors import InvalidNetworkError, MissingDependencyError
from .tracing import Affine, LayerBuilder, elementwise, window_members

__all__ = ["from_torch"]

#: arithmetic (function or method name) -> elementwise operation
_ARITHMETIC = {operator.add: "add", operator.sub: "sub", operator.mul: "mul", operator.truediv: "div",
               operator.iadd: "add", operator.isub: "sub", "add": "add", "sub": "sub", "mul": "mul",
               "div": "div"}
#: methods and functions that only move entries around
_SHAPE_METHODS = {"view", "reshape", "flatten", "permute", "transpose", "squeeze", "unsqueeze",
                  "contiguous", "unflatten"}


def from_torch(module, input_shape):
    """A :class:`Network` from a PyTorch module for inputs of ``input_shape`` (one input, no
    batch dimension, e.g. ``(64,)`` or ``(1, 8, 8)``). Modules: ``Linear``, ``Conv1d``/``Conv2d``,
    ``BatchNorm1d``/``BatchNorm2d``, ``AvgPool1d``/``AvgPool2d``, ``AdaptiveAvgPool1d``/``2d``,
    ``Flatten``, ``Unflatten``, ``Dropout``, ``Identity``, ``ReLU``, ``LeakyReLU``, ``Hardtanh``,
    ``ReLU6``, ``Hardsigmoid``, ``PReLU`` (one slope or one per channel),
    :class:`~regionenum.importers.torch_modules.PiecewiseLinear`, ``MaxPool1d``/``MaxPool2d``,
    ``AdaptiveMaxPool1d``/``2d``; the matching ``torch`` and ``torch.nn.functional`` calls,
    ``torch.abs``, ``torch.clamp``/``clip`` with constant bounds (clipped ReLU),
    ``torch.max(x, dim)`` and ``amax`` (maxout), tensor sums and differences (skip
    connections), scaling by constants and shape operations. The piecewise-linear activations
    become exact ReLU rewrites (:mod:`regionenum.core.piecewise`); ``Hardsigmoid`` is the spline
    with breakpoints -3 and 3 and slope 1/6 (rounded to float64) between them.

    Parameters
    ----------
    module : torch.nn.Module
        Traced in a float64 copy in evaluation mode (the original is not changed).
    input_shape : tuple of int
        The shape of one input, without the batch dimension.

    Returns
    -------
    Network

    Raises
    ------
    InvalidNetworkError
        A module or call that is not piecewise linear, or a forward that depends on input
        values, named with its node.
    MissingDependencyError
        PyTorch is not installed.

    Examples
    --------
    >>> import torch, regionenum as rn                      # doctest: +SKIP
    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))  # doctest: +SKIP
    >>> rn.Network.from_torch(model, (2,))                  # doctest: +SKIP
    Network(widths=(2, 8, 1), activations=[relu, identity])
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("PyTorch import needs torch: pip install torch") from None
    if not isinstance(module, torch.nn.Module):
        raise InvalidNetworkError(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    shape = tuple(int(s) for s in np.atleast_1d(input_shape))
    if not shape or min(shape) < 1:
        raise InvalidNetworkError(f"input_shape must be positive sizes, got {input_shape!r}")
    from .torch_modules import PiecewiseLinear

    class LeafTracer(torch.fx.Tracer):
        """fx's tracer, keeping :class:`PiecewiseLinear` modules whole (as calls to read)."""

        def is_leaf_module(self, m, name):
            return isinstance(m, PiecewiseLinear) or super().is_leaf_module(m, name)

    model = copy.deepcopy(module).double().eval()
    try:
        graph = torch.fx.GraphModule(model, LeafTracer().trace(model))
    except Exception as err:  # fx raises many types for code it cannot follow
        raise InvalidNetworkError(f"cannot trace the module with torch.fx ({type(err).__name__}: "
                                  f"{err}); its forward must not depend on input values") from None
    return _Tracer(torch, graph, (1,) + shape).run()


class _Tracer:
    """Walks the fx graph, keeping every value: an :class:`Affine` tensor or a constant."""

    def __init__(self, torch, graph, shape):
        from .torch_modules import PiecewiseLinear
        self.torch, self.F, self.nn = torch, torch.nn.functional, torch.nn
        self.spline_module = PiecewiseLinear
        self.arithmetic = {**_ARITHMETIC, torch.add: "add", torch.sub: "sub", torch.mul: "mul",
                           torch.div: "div"}
        self.graph = graph
        self.builder = LayerBuilder(shape)
        self.nodes = list(graph.graph.nodes)
        order = {node: i for i, node in enumerate(self.nodes)}
        self.last_use = {node: max((order[u] for u in node.users), default=-1) for node in self.nodes}

    def run(self):
        values = {}
        inputs = 0
        for i, node in enumerate(self.nodes):
            if node.op == "placeholder":
                inputs += 1
                if inputs > 1:
                    raise InvalidNetworkError(f"the module takes several inputs ({node.name!r}); one is supported")
                values[node] = self.builder.input
            elif node.op == "get_attr":
                values[node] = _fetch(self.graph, node.target)
            elif node.op == "output":
                result = values[node.args[0]] if not isinstance(node.args[0], (tuple, list)) else None
                if not isinstance(result, Affine):
                    raise InvalidNetworkError("the module must return one tensor computed from its input")
                return self.builder.finish(result)
            else:
                values[node] = self._apply(i, node, values)
        raise InvalidNetworkError("the traced module has no output")  # pragma: no cover

    # -- one node ------------------------------------------------------------------------------
    def _apply(self, i, node, values):
        nn = self.nn
        args = [_resolve(a, values) for a in node.args]
        kwargs = {k: _resolve(v, values) for k, v in node.kwargs.items()}
        tensors = [a for a in _flat(args) if isinstance(a, Affine)]
        if node.op == "call_module":
            m = self.graph.get_submodule(node.target)
            where = f"module {node.target!r} ({type(m).__name__})"
            fn, kind = m, _module_kind(m, nn, self.spline_module)
        else:
            fn = node.target if node.op == "call_function" else _method(node.target)
            where = f"{node.op.replace('_', ' ')} {getattr(node.target, '__name__', node.target)!r}"
            kind = self._function_kind(node)
        if kind == "size":
            return tuple(tensors[0].shape)[args[1]] if len(args) > 1 else tuple(tensors[0].shape)
        if not tensors and node.op != "call_module":
            return fn(*args, **kwargs)  # a constant
        if kind is None:
            raise InvalidNetworkError(f"{where} is not supported")
        if kind == "negate":
            return elementwise("mul", tensors[0], -1.0, where)
        if kind in _ARITHMETIC.values():
            if len(args) != 2 or kwargs:
                raise InvalidNetworkError(f"{where}: expected two operands and no options")
            return elementwise(kind, *[_numpy(a) for a in args], where)
        if kind == "shape":
            return self._move(fn, args, kwargs, where)
        t = tensors[0]
        if len(tensors) > 1 or args[0] is not t:
            raise InvalidNetworkError(f"{where}: takes one traced tensor, as its first argument")
        if kind == "affine":
            if _training(fn, args, kwargs, self.F):
                raise InvalidNetworkError(f"{where}: called in training mode (batch statistics or "
                                          "random masks are not affine); pass training=False")
            return self._on_basis(fn, args, kwargs, where)
        carried = [n for n, v in values.items() if isinstance(v, Affine) and self.last_use[n] > i]
        before = [values[n] for n in carried]
        if kind in ("max", "max_with_indices"):
            members, out_shape = self._windows(fn, args, kwargs, where)
            out, after = self.builder.max_pool(t, members, out_shape, before)
            if kind == "max_with_indices":
                out = _MaxResult(out)
        else:
            out, after = self.builder.activate(t, self._activation(fn, args, kwargs, t, where), before)
        values.update(zip(carried, after))
        return out

    def _function_kind(self, node):
        F, torch = self.F, self.torch
        target = node.target
        if node.op == "call_method":
            if target == "size":
                return "size"
            if target in _SHAPE_METHODS:
                return "shape"
            if target in ("relu", "relu_", "abs", "abs_", "clamp", "clamp_", "clip", "clip_"):
                return "activation"
            if target in ("max", "amax"):
                return "max_with_indices" if target == "max" else "max"
            return _ARITHMETIC.get(target)
        if target in self.arithmetic:
            return self.arithmetic[target]
        if target in (operator.neg, torch.neg):
            return "negate"
        if target in (torch.flatten, torch.reshape, torch.permute, torch.transpose, torch.squeeze,
                      torch.unsqueeze, torch.cat, operator.getitem):
            return "shape"
        if target in (torch.relu, F.relu, F.leaky_relu, F.hardtanh, F.relu6, F.hardsigmoid, F.prelu,
                      torch.abs, torch.clamp, torch.clip):
            return "activation"
        if target in (F.max_pool1d, F.max_pool2d, F.adaptive_max_pool1d, F.adaptive_max_pool2d,
                      torch.amax):
            return "max"
        if target is torch.max:  # maxout: torch.max(x.view(n, k, -1), dim=1)
            return "max_with_indices"
        if target in (F.linear, F.conv1d, F.conv2d, F.avg_pool1d, F.avg_pool2d, F.adaptive_avg_pool1d,
                      F.adaptive_avg_pool2d, F.pad, F.dropout, F.batch_norm):
            return "affine"
        return None

    def _activation(self, fn, args, kwargs, t, where):
        """The :class:`Activation` an activation module or call applies to ``t``."""
        nn, F, torch = self.nn, self.F, self.torch
        if isinstance(fn, nn.LeakyReLU):
            return Activation("leaky_relu", float(fn.negative_slope))
        if fn is F.leaky_relu:
            return Activation("leaky_relu", float(_option(args, kwargs, 1, "negative_slope", 0.01)))
        if isinstance(fn, nn.ReLU6) or fn is F.relu6:
            return Activation.relu6()
        if isinstance(fn, nn.Hardtanh):
            return Activation.hardtanh(float(fn.min_val), float(fn.max_val))
        if fn is F.hardtanh:
            return Activation.hardtanh(float(_option(args, kwargs, 1, "min_val", -1.0)),
                                       float(_option(args, kwargs, 2, "max_val", 1.0)))
        if isinstance(fn, nn.Hardsigmoid) or fn is F.hardsigmoid:
            return _TORCH_HARDSIGMOID
        if isinstance(fn, nn.PReLU):
            return Activation.prelu(_per_channel(_numpy(fn.weight), t.shape, where))
        if fn is F.prelu:
            return Activation.prelu(_per_channel(_numpy(_option(args, kwargs, 1, "weight", None)), t.shape, where))
        if isinstance(fn, self.spline_module):
            bp, sl, val = fn.unit_parameters()
            columns = [[_per_channel(p[:, k], t.shape, where) for k in range(p.shape[1])] for p in (bp, sl)]
            bp, sl = (np.stack(np.broadcast_arrays(*c), axis=1) for c in columns)
            return Activation.spline(bp, sl, np.broadcast_to(_per_channel(val, t.shape, where), len(bp)))
        name = getattr(fn, "__name__", "")
        if fn is torch.abs or name in ("abs", "abs_"):
            return Activation.abs()
        if fn in (torch.clamp, torch.clip) or name in ("clamp", "clamp_", "clip", "clip_"):
            return _clamp(_option(args, kwargs, 1, "min", None), _option(args, kwargs, 2, "max", None), where)
        return Activation("relu")

    # -- evaluations ---------------------------------------------------------------------------
    def _call(self, fn, x, args, kwargs, where):
        torch = self.torch
        try:
            with torch.no_grad():
                return fn(x, *args[1:], **kwargs)
        except Exception as err:  # torch raises many types for bad shapes or arguments
            raise InvalidNetworkError(f"{where}: cannot apply it to shape {tuple(x.shape)}: {err}") from None

    def _on_basis(self, fn, args, kwargs, where):
        """An affine operation as ``L x + f0``, from running it on zero and the unit basis."""
        torch = self.torch
        t = args[0]
        n = len(t.c)
        X = torch.cat([torch.zeros((1, n), dtype=torch.float64), torch.eye(n, dtype=torch.float64)])
        Y = self._call(fn, X.reshape((n + 1,) + t.shape[1:]), [None, *_torch_args(args[1:], torch)],
                       kwargs, where)
        if not isinstance(Y, torch.Tensor):
            raise InvalidNetworkError(f"{where}: does not return one tensor")
        Y = Y.numpy()
        f0 = Y[0].reshape(-1)
        return t.then((Y[1:].reshape(n, -1) - f0).T, f0, (1,) + Y.shape[1:])

    def _move(self, fn, args, kwargs, where):
        """A shape operation (possibly on several tensors, like ``cat``), run on entry indices."""
        torch = self.torch
        pieces, offset = [], 0

        def indices(a):
            nonlocal offset
            if not isinstance(a, Affine):
                return a
            idx = torch.arange(offset, offset + len(a.c), dtype=torch.float64).reshape(a.shape)
            pieces.append(a)
            offset += len(a.c)
            return idx

        moved = [type(a)(indices(b) for b in a) if isinstance(a, (list, tuple)) else indices(a) for a in args]
        try:
            with torch.no_grad():
                out = fn(*moved, **kwargs)
        except Exception as err:  # torch raises many types for bad shapes or arguments
            raise InvalidNetworkError(f"{where}: cannot apply it to the traced shapes: {err}") from None
        if not isinstance(out, torch.Tensor):
            raise InvalidNetworkError(f"{where}: does not return one tensor")
        if any(a.base != pieces[0].base for a in pieces):  # pragma: no cover - carried tensors share it
            raise InvalidNetworkError(f"{where}: mixes tensors of different layers")
        whole = Affine(np.concatenate([a.M for a in pieces]), np.concatenate([a.c for a in pieces]),
                       (offset,), pieces[0].base)
        return whole.take(out.numpy().astype(np.int64), tuple(out.shape))

    def _windows(self, fn, args, kwargs, where):
        """The pooling windows of a max-pooling, from running it on the unit basis."""
        torch = self.torch
        t = args[0]
        n = len(t.c)
        Y = self._call(fn, torch.eye(n, dtype=torch.float64).reshape((n,) + t.shape[1:]),
                       [None, *_torch_args(args[1:], torch)], kwargs, where)
        if isinstance(Y, tuple) and len(Y) == 2 and hasattr(Y, "values"):  # torch.max(x, dim)
            Y = Y.values
        if not isinstance(Y, torch.Tensor):
            raise InvalidNetworkError(f"{where}: returning indices is not supported")
        if Y.shape[0] != n:
            raise InvalidNetworkError(f"{where}: only a max within each input (over a dimension "
                                      "other than the batch) is supported")
        return window_members(Y.numpy(), n, where), (1,) + tuple(Y.shape[1:])


class _MaxResult:
    """What ``torch.max(x, dim)`` returns, traced: its ``values`` (the max layer's outputs);
    its ``indices`` are not piecewise linear and are refused."""

    def __init__(self, values):
        self.values = values

    @property
    def indices(self):
        raise InvalidNetworkError("the indices of torch.max are not supported")

    def __getitem__(self, i):
        return self.values if i == 0 else self.indices


def _module_kind(m, nn, spline_module):
    if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.Hardtanh, nn.Hardsigmoid, nn.PReLU, spline_module)):
        return "activation"
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)):
        return "max"
    if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.AvgPool1d,
                      nn.AvgPool2d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.Dropout, nn.Identity)):
        return "affine"
    if isinstance(m, (nn.Flatten, nn.Unflatten)):
        return "shape"
    return None


#: torch's Hardsigmoid, relu6(x + 3) / 6: breakpoints -3 and 3 exactly, slope 1/6 in float64
_TORCH_HARDSIGMOID = Activation.spline([-3.0, 3.0], [0.0, 1.0 / 6.0, 0.0], 0.0)


def _option(args, kwargs, position, name, default):
    """A call's argument given by position or by name."""
    return kwargs.get(name, args[position] if len(args) > position else default)


def _per_channel(weight, shape, where):
    """Per-channel parameters (``(C,)`` or ``(1,)``, as ``nn.PReLU`` takes them, along
    dimension 1) as one per entry of a tensor of ``shape`` (batch first), flattened."""
    w = np.asarray(weight, np.float64).reshape(-1)
    if len(w) == 1:
        return w
    if len(shape) < 2 or shape[1] != len(w):
        raise InvalidNetworkError(f"{where}: {len(w)} per-channel parameters for a tensor of shape {shape}")
    return np.broadcast_to(w.reshape((1, -1) + (1,) * (len(shape) - 2)), shape).reshape(-1)


def _clamp(lo, hi, where) -> Activation:
    """``clamp(x, lo, hi)`` with constant bounds (either may be None) as an activation."""
    bounds = []
    for b in (lo, hi):
        if b is not None and np.size(_numpy(b)) != 1:
            raise InvalidNetworkError(f"{where}: only constant scalar bounds are supported")
        bounds.append(None if b is None else float(np.asarray(_numpy(b)).reshape(-1)[0]))
    lo, hi = bounds
    if lo is None and hi is None:
        raise InvalidNetworkError(f"{where}: a clamp without bounds")
    if hi is None:
        return Activation.spline([lo], [0.0, 1.0], lo)
    if lo is None:
        return Activation.spline([hi], [1.0, 0.0], hi)
    if not lo < hi:
        raise InvalidNetworkError(f"{where}: clamp bounds {lo} and {hi} leave a constant, not an activation")
    return Activation.hardtanh(lo, hi)


def _training(fn, args, kwargs, F) -> bool:
    """Whether a functional dropout or batch norm call runs in training mode."""
    position = {F.dropout: 2, F.batch_norm: 5}.get(fn)
    if position is None:
        return False
    default = fn is F.dropout  # dropout defaults to training=True, batch_norm to False
    return bool(kwargs.get("training", args[position] if len(args) > position else default))


def _method(name):
    """A tensor method as a function of the tensor, named as the method."""
    def call(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)
    call.__name__ = name
    return call


def _resolve(a, values):
    """A node argument with graph nodes replaced by their values (inside lists too)."""
    if isinstance(a, (list, tuple)):
        return type(a)(_resolve(b, values) for b in a)
    return values.get(a, a) if _is_node(a) else a


def _flat(args):
    """Arguments with lists and tuples opened (``cat`` takes a list of tensors)."""
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from _flat(a)
        else:
            yield a


def _is_node(a):
    return type(a).__name__ == "Node"


def _fetch(graph, target):
    obj = graph
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _numpy(a):
    """Constants (tensors) as float64 numpy arrays; traced tensors and numbers as they are."""
    return a.detach().numpy().astype(np.float64) if hasattr(a, "detach") else a


def _torch_args(args, torch):
    return [torch.as_tensor(a, dtype=torch.float64) if isinstance(a, np.ndarray) else a for a in args]
