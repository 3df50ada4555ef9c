"""Building a :class:`Network` while walking a model's graph, shared by the ONNX and PyTorch
importers.

Every tensor is traced as an affine function ``M @ a + c`` of the current layer input ``a`` (the
outputs of the last activation). An activation or a max-pooling closes a layer: its units are
the rows of the tensor it is applied to. Tensors still needed after that point (the skip path of
a residual connection) are carried through the layer as extra units that stay linear (in a max
layer, groups of one), so that they too are functions of the new layer input.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.network import Activation, Network
from ..errors import InvalidNetworkError

__all__ = ["Affine", "LayerBuilder", "elementwise", "window_members"]


class Affine:
    """A tensor of shape ``shape`` (batch 1) as ``M @ a + c`` (flattened, row-major), where
    ``base`` numbers the layer input ``a`` it is a function of."""

    def __init__(self, M, c, shape, base):
        self.M, self.c, self.shape, self.base = M, c, tuple(int(s) for s in shape), base

    def then(self, L, f0, shape) -> "Affine":
        """This tensor mapped by ``y = L x + f0`` to a tensor of ``shape``."""
        return Affine(L @ self.M, L @ self.c + f0, shape, self.base)

    def take(self, index, shape) -> "Affine":
        """The tensor of ``shape`` whose entries are this one's entries ``index`` (flat)."""
        index = np.asarray(index).reshape(-1)
        return Affine(self.M[index], self.c[index], shape, self.base)


class LayerBuilder:
    """The layers of a network, closed one activation at a time."""

    def __init__(self, shape):
        n = int(np.prod(shape))
        self.base = 0
        self.layers, self.activations = [], []
        self.input = Affine(np.eye(n), np.zeros(n), shape, 0)

    def activate(self, t: Affine, activation, carried=()):
        """Close a layer applying ``activation`` (anything :meth:`Activation.parse` takes; with
        per-unit parameters, one per entry of ``t``) to ``t``, carrying the tensors ``carried``
        through it unchanged. Returns the activated tensor and the carried ones, as functions of
        the new layer input."""
        n = len(t.c)
        act = Activation.parse(activation)
        total = n + sum(len(s.c) for s in carried)
        if total > n and act.kind in ("prelu", "spline") and len(act.params) == n > 1:
            # per-unit parameters for the carried units too (unused: they stay linear)
            act = replace(act, params=act.params + act.params[:1] * (total - n))
        act = replace(act, linear=tuple(range(n, total)))
        self._close([t, *carried], act)
        out = self._outputs([(n, t.shape)] + [(len(s.c), s.shape) for s in carried])
        return out[0], out[1:]

    def max_pool(self, t: Affine, members: np.ndarray, shape, carried=()):
        """Close a max layer: output ``i`` (of a tensor of ``shape``) is the max of ``t``'s
        entries ``members[i]`` (a boolean ``(outputs, len(t))`` array); ``carried`` as in
        :meth:`activate`."""
        windows = [np.flatnonzero(row) for row in members]
        if any(len(w) == 0 for w in windows):
            raise InvalidNetworkError("a pooling window covers no input (only padding)")
        rows = t.take(np.concatenate(windows), (1, -1))
        groups = [len(w) for w in windows] + [1] * sum(len(s.c) for s in carried)
        self._close([rows, *carried], Activation("max", groups=tuple(groups)))
        out = self._outputs([(len(windows), shape)] + [(len(s.c), s.shape) for s in carried])
        return out[0], out[1:]

    def finish(self, t: Affine) -> Network:
        """The network whose output is ``t``."""
        if t.base != self.base:
            raise InvalidNetworkError("the output does not depend on the last activation")
        self.layers.append((t.M, t.c))
        self.activations.append("identity")
        return Network.from_layers(self.layers, self.activations)

    def _close(self, tensors, activation):
        for s in tensors:
            if s.base != self.base:
                raise InvalidNetworkError("a tensor from before the last activation reached it")
        self.layers.append((np.concatenate([s.M for s in tensors]), np.concatenate([s.c for s in tensors])))
        self.activations.append(activation)

    def _outputs(self, sizes_and_shapes):
        """Selections of the new layer input: one tensor per ``(size, shape)``, in order."""
        self.base += 1
        out, start = [], 0
        total = sum(n for n, _ in sizes_and_shapes)
        for n, shape in sizes_and_shapes:
            M = np.zeros((n, total))
            M[np.arange(n), start + np.arange(n)] = 1.0
            out.append(Affine(M, np.zeros(n), shape, self.base))
            start += n
        return out


def elementwise(op: str, a, b, where: str) -> Affine:
    """``a op b`` for op in add, sub (tensors or a tensor and a constant), mul, div (a tensor and
    a constant broadcasting to it); ``where`` names the node in errors."""
    if isinstance(a, Affine) and isinstance(b, Affine):
        if op not in ("add", "sub") or a.shape != b.shape:
            raise InvalidNetworkError(f"{where}: only sums of tensors of one shape are linear")
        sign = 1.0 if op == "add" else -1.0
        return Affine(a.M + sign * b.M, a.c + sign * b.c, a.shape, a.base)
    t, k = (a, b) if isinstance(a, Affine) else (b, a)
    try:
        k = np.broadcast_to(np.asarray(k, np.float64), t.shape).reshape(-1)
    except ValueError:
        raise InvalidNetworkError(f"{where}: a constant of shape {np.shape(k)} does not broadcast "
                                  f"to {t.shape}") from None
    if op == "sub" and t is b:  # constant - tensor
        return Affine(-t.M, k - t.c, t.shape, t.base)
    if op in ("add", "sub"):
        return Affine(t.M, t.c + (k if op == "add" else -k), t.shape, t.base)
    if op == "div" and t is b:
        raise InvalidNetworkError(f"{where}: dividing by a tensor is not linear")
    k = 1.0 / k if op == "div" else k
    return Affine(k[:, None] * t.M, k * t.c, t.shape, t.base)


def window_members(pool_of_basis: np.ndarray, n: int, where: str) -> np.ndarray:
    """Pooling windows from a max-pooling run on the ``n`` unit vectors (one per row of
    ``pool_of_basis``, flattened outputs): output ``i`` takes input ``j`` exactly where
    pooling ``e_j`` puts a 1 at ``i``."""
    Y = pool_of_basis.reshape(n, -1)
    if not np.all((Y == 0) | (Y == 1)):
        raise InvalidNetworkError(f"{where}: does not act as a max over windows of its input")
    return Y.T == 1
