"""The canonical network: dense affine layers, each followed by a piecewise-linear activation.

Every importer produces a :class:`Network`; the engine and the analyses only read it.
Weights follow the torch convention, ``W`` of shape ``(out, in)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidNetworkError

__all__ = ["Activation", "Layer", "Network"]


@dataclass(frozen=True)
class Activation:
    """A piecewise-linear activation.

    ReLU and LeakyReLU give every unit two states (on: pre-activation > 0, off: <= 0); identity
    has one state and never splits a region. A max layer (max-pooling, maxout) outputs the
    maximum of each group of consecutive pre-activations; its state is which argument of each
    group wins (ties go to the first).

    Parameters
    ----------
    kind : {"relu", "leaky_relu", "identity", "max"}
    alpha : float, optional
        The slope below zero of ``"leaky_relu"`` (no other kind takes one).
    groups : tuple of int, optional
        The sizes of the consecutive groups of a ``"max"`` layer.
    linear : tuple of int, optional
        Units of a ReLU or LeakyReLU layer that stay linear (one state): values carried past
        the activation, as a residual connection's skip path needs.

    Raises
    ------
    InvalidNetworkError
        An unknown kind, or arguments the kind does not take.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> act = rn.Activation("leaky_relu", 0.1)
    >>> act(np.array([[-2.0, 3.0]])), act.spec
    (array([[-0.2,  3. ]]), 'leaky_relu:0.1')
    >>> rn.Activation.parse(("maxout", 2), width=6).groups
    (2, 2, 2)
    """

    kind: str
    alpha: float = 0.0
    groups: tuple = ()
    linear: tuple = ()

    KINDS = ("relu", "leaky_relu", "identity", "max")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise InvalidNetworkError(
                f"unknown activation {self.kind!r}; supported: {', '.join(self.KINDS)}")
        if not np.isfinite(self.alpha):
            raise InvalidNetworkError(f"activation {self.kind!r} has non-finite alpha {self.alpha}")
        if self.kind != "leaky_relu" and self.alpha != 0.0:
            raise InvalidNetworkError(f"activation {self.kind!r} takes no alpha (got {self.alpha})")
        if self.kind == "max":
            object.__setattr__(self, "groups", tuple(int(k) for k in self.groups))
            if not self.groups or min(self.groups) < 1:
                raise InvalidNetworkError(f"a max activation needs groups of at least one unit, "
                                          f"got {self.groups}")
        elif self.groups:
            raise InvalidNetworkError(f"activation {self.kind!r} takes no groups")
        object.__setattr__(self, "linear", tuple(sorted({int(u) for u in self.linear})))
        if self.linear and (self.kind not in ("relu", "leaky_relu") or self.linear[0] < 0):
            raise InvalidNetworkError(f"linear units must be unit indices of a relu or leaky_relu "
                                      f"layer, got {self.linear} for {self.kind!r}")

    @classmethod
    def parse(cls, spec, width: int | None = None) -> "Activation":
        """An activation from any of the forms the API accepts.

        Parameters
        ----------
        spec : Activation, str or tuple
            An Activation; a name (``"relu"``, ``"identity"``, ``"linear"``, ``"leaky_relu"``);
            a pair ``("leaky_relu", alpha)``, ``("maxout", k)`` (groups of ``k`` consecutive
            units) or ``("max", sizes)``; or the text :attr:`spec` writes.
        width : int, optional
            The layer's width (needed by ``("maxout", k)``).

        Returns
        -------
        Activation

        Raises
        ------
        InvalidNetworkError
            A form it cannot read.
        """
        if isinstance(spec, Activation):
            return spec
        if isinstance(spec, (tuple, list)) and len(spec) == 2:
            name = str(spec[0]).lower()
            if name == "maxout":
                return cls.maxout(int(spec[1]), width)
            if name == "max":
                return cls("max", groups=tuple(spec[1]))
            return cls(name, float(spec[1]))
        if isinstance(spec, str):
            spec, _, linear = spec.lower().partition("+linear:")
            if linear:
                base = cls.parse(spec, width)
                return cls(base.kind, base.alpha, linear=tuple(int(u) for u in linear.split(",")))
            name, _, arg = spec.partition(":")
            if name in ("linear", "none"):
                name = "identity"
            if name == "max" and arg:
                return cls("max", groups=tuple(int(k) for k in arg.split(",")))
            if name == "leaky_relu":
                return cls(name, float(arg) if arg else 0.01)
            return cls(name)
        raise InvalidNetworkError(f"cannot read an activation from {spec!r}")

    @classmethod
    def maxout(cls, rank: int, width: int | None) -> "Activation":
        """Maxout of rank ``rank`` over a layer of ``width`` units: groups of ``rank`` in order.

        Raises
        ------
        InvalidNetworkError
            ``width`` is not a multiple of ``rank``.
        """
        if rank < 1 or width is None or width % rank:
            raise InvalidNetworkError(f"maxout of rank {rank} needs a layer width divisible by it, "
                                      f"got {width}")
        return cls("max", groups=(rank,) * (width // rank))

    @property
    def spec(self) -> str:
        """The activation as text (what :meth:`parse` reads back), as stored in files."""
        text = self.kind
        if self.kind == "leaky_relu":
            text = f"leaky_relu:{self.alpha!r}"
        if self.kind == "max":
            text = "max:" + ",".join(map(str, self.groups))
        if self.linear:
            text += "+linear:" + ",".join(map(str, self.linear))
        return text

    @property
    def splits(self) -> bool:
        """Whether units with this activation have several states (and so cut regions)."""
        return self.kind != "identity"

    @property
    def off_slope(self) -> float:
        """The slope of the activation where a unit is off (for a max group: a losing
        argument, which contributes nothing)."""
        return {"relu": 0.0, "leaky_relu": self.alpha, "identity": 1.0, "max": 0.0}[self.kind]

    @property
    def group_starts(self) -> np.ndarray:
        """First unit of each max group."""
        return np.concatenate([[0], np.cumsum(self.groups[:-1])]).astype(np.int64)

    def split_units(self, width: int) -> np.ndarray:
        """Indices of the units (of a layer of ``width`` units) with several states.

        Parameters
        ----------
        width : int

        Returns
        -------
        ndarray of int
        """
        if not self.splits:
            return np.zeros(0, np.int64)
        return np.setdiff1d(np.arange(width), self.linear)

    def slopes(self, z: np.ndarray) -> np.ndarray:
        """Each unit's slope at the pre-activations ``z``, shape ``(n, width)``: the layer's
        output is ``collect(slopes(z) * z)``.

        Parameters
        ----------
        z : ndarray, shape (n, width)

        Returns
        -------
        ndarray, shape (n, width)
        """
        if not self.splits:
            return np.ones_like(z)
        out = np.where(self.states(z), 1.0, self.off_slope)
        out[:, list(self.linear)] = 1.0
        return out

    def collect(self, values: np.ndarray, axis: int = -1) -> np.ndarray:
        """Layer outputs from the units' masked values (the winners' values, the others zeroed):
        the sum over each max group; other activations output one value per unit.

        Parameters
        ----------
        values : ndarray
            One value per unit along ``axis``.
        axis : int, optional

        Returns
        -------
        ndarray
            One value per output along ``axis``.
        """
        if self.kind != "max":
            return values
        return np.add.reduceat(values, self.group_starts, axis=axis)

    def states(self, z: np.ndarray) -> np.ndarray:
        """The state bit of every unit at the pre-activations ``z``: on (> 0), or for a max
        group the first argument attaining the maximum.

        Parameters
        ----------
        z : ndarray, shape (n, width)

        Returns
        -------
        ndarray of bool, shape (n, width)
        """
        if self.kind != "max":
            return z > 0
        starts = self.group_starts
        top = np.repeat(np.maximum.reduceat(z, starts, axis=1), self.groups, axis=1)
        hit = z == top
        # the first of each group's maxima: no earlier hit in the same group
        before = np.cumsum(hit, axis=1) - np.repeat(
            np.cumsum(hit, axis=1)[:, starts] - hit[:, starts], self.groups, axis=1)
        return hit & (before == 1)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """The layer's outputs at pre-activations ``z`` (``(n, width)``)."""
        return self.collect(self.slopes(z) * z)


@dataclass(frozen=True)
class Layer:
    """One dense affine layer ``z = W a + b`` followed by its activation.

    Parameters
    ----------
    W : ndarray, shape (out, in)
    b : ndarray, shape (out,)
    activation : Activation

    Notes
    -----
    ``W`` and ``b`` are kept as C-contiguous float64 arrays whatever the caller passes (a
    Fortran-ordered or float32 ``W`` is copied), so that one network has one memory layout and
    every product with it is blocked the same way. Build networks with
    :meth:`Network.from_layers`, which also checks them.
    """

    W: np.ndarray
    b: np.ndarray
    activation: Activation

    def __post_init__(self):
        object.__setattr__(self, "W", np.ascontiguousarray(self.W, dtype=np.float64))
        object.__setattr__(self, "b", np.ascontiguousarray(self.b, dtype=np.float64))

    @property
    def width(self) -> int:
        """Number of units (rows of ``W``)."""
        return self.W.shape[0]

    @property
    def out_width(self) -> int:
        """Number of outputs after the activation (one per group for a max layer)."""
        return len(self.activation.groups) if self.activation.kind == "max" else self.width


class Network:
    """A feed-forward network of dense layers with ReLU, LeakyReLU, identity or max
    activations: the canonical form every importer produces and the engine reads.

    Build one with :meth:`from_layers`, :meth:`from_torch`, :meth:`from_onnx` or
    :meth:`from_sklearn`.

    Attributes
    ----------
    layers : tuple of Layer
        The layers, each ``W``, ``b`` and its :class:`Activation`.
    input_dim, output_dim : int
        Inputs, and outputs of the last layer.
    widths : tuple of int
        Units per layer.
    split_layers : tuple of int
        The layers whose units have several states. A region's activation pattern has one bit
        for each of their units, layer after layer: ``n_units`` bits, layer ``l`` starting at
        ``unit_offsets[l]``; bit ``u`` is unit ``unit_index[u]`` of layer ``unit_layer[u]``
        (``split_units[l]`` lists a layer's units with several states). In a max layer the bit
        of a unit says whether it is its group's winner.
    tie_units, n_ties
        Max groups add *ties*: the hyperplane ``z_c = z_j`` as seen from a region where ``c``
        wins is tie ``t`` with ``tie_units[t] = (c, j)`` (pattern bits); the ties of winner
        ``c`` are consecutive (see :meth:`ties_of`).

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.ones((4, 2)), np.arange(4.0)), (np.ones((1, 2)), [0.0])],
    ...                              [("maxout", 2), "identity"])
    >>> net.widths, net.n_units, net.split_layers, net.n_ties
    ((4, 1), 4, (0,), 4)
    """

    def __init__(self, layers):
        self.layers = tuple(layers)
        if not self.layers:
            raise InvalidNetworkError("a network needs at least one layer")
        self.input_dim = self.layers[0].W.shape[1]
        self.output_dim = self.layers[-1].out_width
        self.widths = tuple(layer.width for layer in self.layers)
        for l, layer in enumerate(self.layers):
            if layer.activation.linear and layer.activation.linear[-1] >= layer.width:
                raise InvalidNetworkError(f"layer {l}: linear unit {layer.activation.linear[-1]} is "
                                          f"past the layer's {layer.width} units")
        #: per layer, the units with several states (those with a pattern bit)
        self.split_units = tuple(layer.activation.split_units(layer.width) for layer in self.layers)
        self.split_layers = tuple(l for l, units in enumerate(self.split_units) if len(units))
        sizes = [len(units) for units in self.split_units]
        self.unit_offsets = tuple(int(x) for x in np.concatenate([[0], np.cumsum(sizes)[:-1]]))
        self.n_units = int(sum(sizes))
        # for pattern bit u: its layer, and its unit within that layer
        self.unit_layer = np.repeat(np.arange(len(self.layers)), sizes).astype(np.int64)
        self.unit_index = np.concatenate(self.split_units).astype(np.int64)
        ties, self._tie_base = [], {}
        for l, layer in enumerate(self.layers):
            if layer.activation.kind != "max":
                continue
            for g, (start, k) in enumerate(zip(layer.activation.group_starts, layer.activation.groups)):
                self._tie_base[l, g] = len(ties)
                u = self.unit_offsets[l] + start
                ties.extend((u + c, u + j) for c in range(k) for j in range(k) if j != c)
        self.tie_units = np.array(ties, np.int64).reshape(-1, 2)
        self.n_ties = len(ties)

    def ties_of(self, layer: int, group: int, winner: int) -> np.ndarray:
        """The ties of one argument of a max group against each other argument, in order.

        Parameters
        ----------
        layer, group, winner : int
            The max layer, the group within it, and the argument within the group.

        Returns
        -------
        ndarray of int
            Consecutive indices into ``tie_units``.
        """
        k = self.layers[layer].activation.groups[group]
        return self._tie_base[layer, group] + winner * (k - 1) + np.arange(k - 1)

    @classmethod
    def from_layers(cls, layers, activations=None) -> "Network":
        """Make a network from its weights.

        Parameters
        ----------
        layers : sequence of (W, b)
            ``W`` of shape ``(out, in)`` (the torch convention) and ``b`` of shape ``(out,)``,
            layer after layer; copied to C-contiguous float64.
        activations : sequence, optional
            One activation per layer (see :meth:`Activation.parse`): ``"relu"``,
            ``"identity"``, ``("leaky_relu", alpha)``, ``("maxout", k)`` (the max of each ``k``
            consecutive units), ``("max", sizes)`` or an :class:`Activation`. By default ReLU
            after every layer but the last, which stays linear.

        Returns
        -------
        Network

        Raises
        ------
        InvalidNetworkError
            Shapes that do not chain, non-finite values, unknown activations; the message
            names the layer.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 3)), [0.5])])
        >>> net
        Network(widths=(2, 3, 1), activations=[relu, identity])
        >>> net([[1.0, -2.0]])
        array([[0.5]])
        """
        layers = list(layers)
        if not layers:
            raise InvalidNetworkError("a network needs at least one layer")
        if activations is None:
            activations = ["relu"] * (len(layers) - 1) + ["identity"]
        activations = list(activations)
        if len(activations) != len(layers):
            raise InvalidNetworkError(
                f"{len(activations)} activations given for {len(layers)} layers")
        built = []
        for i, (pair, act) in enumerate(zip(layers, activations)):
            try:
                W, b = pair
            except (TypeError, ValueError):
                raise InvalidNetworkError(f"layer {i}: expected a pair (W, b)") from None
            W = _as_float_array(W, f"layer {i} weight W")
            b = _as_float_array(b, f"layer {i} bias b")
            if W.ndim != 2:
                raise InvalidNetworkError(f"layer {i}: W must be 2-D (out, in), got shape {W.shape}")
            if b.shape != (W.shape[0],):
                raise InvalidNetworkError(
                    f"layer {i}: b has shape {b.shape}, expected ({W.shape[0]},) to match W {W.shape}")
            if W.shape[0] == 0 or W.shape[1] == 0:
                raise InvalidNetworkError(f"layer {i}: W has an empty dimension, shape {W.shape}")
            if i > 0 and W.shape[1] != built[-1].out_width:
                raise InvalidNetworkError(
                    f"layer {i}: W takes {W.shape[1]} inputs but layer {i - 1} gives "
                    f"{built[-1].out_width} outputs")
            try:
                activation = Activation.parse(act, W.shape[0])
            except InvalidNetworkError as err:
                raise InvalidNetworkError(f"layer {i}: {err}") from None
            if activation.kind == "max" and sum(activation.groups) != W.shape[0]:
                raise InvalidNetworkError(f"layer {i}: max groups cover {sum(activation.groups)} "
                                          f"units but the layer has {W.shape[0]}")
            built.append(Layer(W, b, activation))
        return cls(built)

    # The importers sit above the core (they build Networks); these three are lazy facades that
    # import them when called.
    @classmethod
    def from_sklearn(cls, estimator) -> "Network":
        """The network computing a fitted scikit-learn MLP's last pre-activations.

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor
            Fitted, with ``relu`` or ``identity`` hidden activations.

        Returns
        -------
        Network
            Outputs are the classifier's logits, or the regressor's predictions.

        Raises
        ------
        InvalidNetworkError
            Another estimator, an unfitted one, or an activation that is not piecewise linear.
        """
        from ..importers.sklearn_mlp import from_sklearn
        return from_sklearn(estimator)

    @classmethod
    def from_torch(cls, module, input_shape) -> "Network":
        """The network of a PyTorch module, traced with ``torch.fx``.

        Parameters
        ----------
        module : torch.nn.Module
            ``nn.Sequential`` models, nested ones, and modules with their own ``forward``
            (residual blocks, ``cat``, slicing, reshapes) of affine operations, ReLU, LeakyReLU
            and max-pooling (see :func:`regionenum.importers.from_torch` for the list).
        input_shape : tuple of int
            The shape of one input, without the batch dimension (e.g. ``(1, 8, 8)``):
            convolutions and pooling are unrolled to dense layers for it.

        Returns
        -------
        Network

        Raises
        ------
        InvalidNetworkError
            An operation that is not piecewise linear, named with its node.
        MissingDependencyError
            PyTorch is not installed.
        """
        from ..importers.torch_fx import from_torch
        return from_torch(module, input_shape)

    @classmethod
    def from_onnx(cls, model) -> "Network":
        """The network of an ONNX model.

        Parameters
        ----------
        model : str, path or onnx.ModelProto
            A graph of affine operators, ReLU/LeakyReLU and max-pooling with one input and one
            output (see :func:`regionenum.importers.from_onnx` for the operators taken).

        Returns
        -------
        Network

        Raises
        ------
        InvalidNetworkError
            An operator that is not supported, named with its node, or an unreadable file.
        MissingDependencyError
            The ``onnx`` package is not installed.
        """
        from ..importers.onnx_graph import from_onnx
        return from_onnx(model)

    def __repr__(self) -> str:
        acts = ", ".join(layer.activation.kind for layer in self.layers)
        return f"Network(widths={(self.input_dim,) + self.widths}, activations=[{acts}])"

    def restricted(self, origin, basis) -> "Network":
        """The network on the affine subspace ``x = origin + basis @ t``, as a network of ``t``
        with the same units and patterns (lines, trajectories, planes through data).

        Parameters
        ----------
        origin : array_like, shape (input_dim,)
        basis : array_like, shape (input_dim, k)
            Linearly independent columns.

        Returns
        -------
        Network
            ``k`` inputs; its first layer folds in the subspace.

        Raises
        ------
        InvalidNetworkError
            Shapes that do not match, non-finite values, dependent columns.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(3), np.zeros(3)), (np.ones((1, 3)), [0.0])])
        >>> line = net.restricted(np.zeros(3), np.array([[1.0], [-1.0], [0.0]]))
        >>> line.input_dim, line([[2.0]])
        (1, array([[2.]]))
        """
        origin = _as_float_array(origin, "origin")
        basis = _as_float_array(basis, "basis")
        if origin.shape != (self.input_dim,):
            raise InvalidNetworkError(f"origin must have shape ({self.input_dim},), got {origin.shape}")
        if basis.ndim != 2 or basis.shape[0] != self.input_dim or basis.shape[1] == 0:
            raise InvalidNetworkError(
                f"basis must have shape ({self.input_dim}, k) with k >= 1, got {basis.shape}")
        if np.linalg.matrix_rank(basis) < basis.shape[1]:
            raise InvalidNetworkError("the basis vectors are linearly dependent")
        first = self.layers[0]
        layers = [Layer(first.W @ basis, first.b + first.W @ origin, first.activation)]
        return Network(layers + list(self.layers[1:]))

    def pre_activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Pre-activations of every layer at the rows of ``X``.

        Parameters
        ----------
        X : array_like, shape (n, input_dim)

        Returns
        -------
        list of ndarray
            One ``(n, width)`` array per layer.
        """
        A = self._check_inputs(X)
        out = []
        for layer in self.layers:
            Z = A @ layer.W.T + layer.b
            out.append(Z)
            A = layer.activation(Z)
        return out

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """The network output at the rows of ``X`` (shape ``(n, input_dim)``): ``(n, output_dim)``."""
        Z = self.pre_activations(X)[-1]
        return self.layers[-1].activation(Z)

    def pattern_bits(self, X: np.ndarray) -> np.ndarray:
        """The activation pattern of each row of ``X``.

        Parameters
        ----------
        X : array_like, shape (n, input_dim)

        Returns
        -------
        ndarray of bool, shape (n, n_units)
            True = on (in a max layer: the group's winner), in pattern order.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
        >>> net.pattern_bits([[1.0, -1.0]])
        array([[ True, False]])
        """
        Zs = self.pre_activations(X)
        parts = [self.layers[i].activation.states(Zs[i])[:, self.split_units[i]] for i in self.split_layers]
        if not parts:
            return np.zeros((len(Zs[0]), 0), dtype=bool)
        return np.concatenate(parts, axis=1)

    def _check_inputs(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise InvalidNetworkError(
                f"inputs must have shape (n, {self.input_dim}), got {np.shape(X)}")
        return X


def _as_float_array(value, name: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidNetworkError(f"{name} is not numeric") from None
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidNetworkError(f"{name} has a non-finite value at index {tuple(int(i) for i in bad)}")
    return arr
