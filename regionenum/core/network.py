"""The canonical network: dense affine layers, each followed by a piecewise-linear activation.

Every importer produces a :class:`Network`; the engine and the analyses only read it.
Weights follow the torch convention, ``W`` of shape ``(out, in)``.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ArgumentTypeError, InvalidArgumentError, InvalidNetworkError
from .arrays import checked_instance, float_array, whole_number
from .norm_bounds import abs_norm_bound, row_norm_bounds, spectral_norm_bound
from .piecewise import PieceMap, UnitSpline, expand_layer
from .threads import AdaptiveBlas, blas_on_one_thread, idle_cpus, map_in_threads
from .tolerances import quantum

__all__ = ["Activation", "Layer", "Network"]

#: Activations the engine reads directly.
CANONICAL = ("relu", "leaky_relu", "identity", "max")
#: Piecewise-linear activations of one variable, rewritten exactly into ReLU layers.
PIECEWISE = ("hardtanh", "relu6", "clipped_relu", "hard_sigmoid", "abs", "prelu", "spline")


@dataclass(frozen=True)
class Activation:
    """A piecewise-linear activation.

    ReLU and LeakyReLU give every unit two states (on: pre-activation > 0, off: <= 0); identity
    has one state and never splits a region. A max layer (max-pooling, maxout) outputs the
    maximum of each group of consecutive pre-activations; its state is which argument of each
    group wins (ties go to the first).

    The piecewise-linear kinds (``params`` in brackets) are rewritten by :class:`Network` into
    ReLU layers that compute the same function exactly (:mod:`regionenum.core.piecewise`):
    ``"hardtanh"`` ``(lo, hi)``, default ``(-1, 1)``: ``min(max(z, lo), hi)``; ``"relu6"``;
    ``"clipped_relu"`` ``(cap,)``: ``min(max(z, 0), cap)``; ``"hard_sigmoid"`` ``(alpha, beta)``,
    default ``(0.2, 0.5)`` (ONNX's): ``max(0, min(1, alpha z + beta))``; ``"abs"``; ``"prelu"``
    ``(a,)`` or one slope per unit: ``z`` above zero, ``a z`` below; ``"spline"``: one
    ``(breakpoints, slopes, value)`` triple for every unit, or one per unit, with
    ``breakpoints`` increasing, one more slope than breakpoints (neighbours different) and
    ``value`` the function's value at the first breakpoint. Their state is the linear piece each
    unit is on (see :attr:`Network.piece_map`). Build them with the class methods
    (:meth:`hardtanh`, :meth:`relu6`, :meth:`clipped_relu`, :meth:`hard_sigmoid`, :meth:`abs`,
    :meth:`prelu`, :meth:`spline`) or :meth:`parse`.

    Parameters
    ----------
    kind : {"relu", "leaky_relu", "identity", "max", "hardtanh", "relu6", "clipped_relu", \
"hard_sigmoid", "abs", "prelu", "spline"}
    alpha : float, optional
        The slope below zero of ``"leaky_relu"`` (no other kind takes one).
    groups : tuple of int, optional
        The sizes of the consecutive groups of a ``"max"`` layer.
    linear : tuple of int, optional
        Units of a layer (ReLU, LeakyReLU or piecewise-linear) that stay linear (one state):
        values carried past the activation, as a residual connection's skip path needs.
    params : tuple, optional
        The parameters of a piecewise-linear kind (above).

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
    >>> rn.Activation.spline([-1.0, 1.0], [0.0, 1.0, 0.0], value=-1.0).spec   # hardtanh
    'spline:-1.0,1.0/0.0,1.0,0.0/-1.0'
    >>> rn.Activation.parse("clipped_relu:6").params
    (6.0,)
    """

    kind: str
    alpha: float = 0.0
    groups: tuple = ()
    linear: tuple = ()
    params: tuple = ()

    KINDS = CANONICAL + PIECEWISE

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise InvalidNetworkError(
                f"unknown activation {self.kind!r}; supported: {', '.join(self.KINDS)}")
        if not np.isfinite(self.alpha):
            raise InvalidNetworkError(f"activation {self.kind!r} has non-finite alpha {self.alpha}")
        if self.kind != "leaky_relu" and self.alpha != 0.0:
            raise InvalidNetworkError(f"activation {self.kind!r} takes no alpha (got {self.alpha})")
        if self.kind == "max":
            object.__setattr__(self, "groups", tuple(_whole(k, "a max group's size") for k in self.groups))
            if not self.groups or min(self.groups) < 1:
                raise InvalidNetworkError(f"a max activation needs groups of at least one unit, "
                                          f"got {self.groups}")
        elif self.groups:
            raise InvalidNetworkError(f"activation {self.kind!r} takes no groups")
        object.__setattr__(self, "linear", tuple(sorted({_whole(u, "a linear unit") for u in self.linear})))
        if self.linear and (self.kind in ("identity", "max") or self.linear[0] < 0):
            raise InvalidNetworkError(f"linear units must be unit indices of a relu, leaky_relu or "
                                      f"piecewise-linear layer, got {self.linear} for {self.kind!r}")
        object.__setattr__(self, "params", _checked_params(self.kind, self.params))

    # -- the piecewise-linear kinds ----------------------------------------------------------
    @classmethod
    def hardtanh(cls, lo: float = -1.0, hi: float = 1.0) -> "Activation":
        """``min(max(z, lo), hi)`` (torch's Hardtanh, ``torch.clamp(z, lo, hi)``).

        Parameters
        ----------
        lo, hi : float, optional
            The bounds, ``lo < hi``.

        Returns
        -------
        Activation

        Raises
        ------
        InvalidNetworkError
            ``lo >= hi`` or a bound that is not finite.
        """
        return cls("hardtanh", params=(lo, hi))

    @classmethod
    def relu6(cls) -> "Activation":
        """``min(max(z, 0), 6)``.

        Returns
        -------
        Activation
        """
        return cls("relu6")

    @classmethod
    def clipped_relu(cls, cap: float) -> "Activation":
        """``min(max(z, 0), cap)``.

        Parameters
        ----------
        cap : float
            Positive.

        Returns
        -------
        Activation

        Raises
        ------
        InvalidNetworkError
            ``cap <= 0`` or not finite.
        """
        return cls("clipped_relu", params=(cap,))

    @classmethod
    def hard_sigmoid(cls, alpha: float = 0.2, beta: float = 0.5) -> "Activation":
        """``max(0, min(1, alpha z + beta))`` (ONNX's HardSigmoid; torch's is the spline with
        breakpoints -3 and 3 and slope 1/6 between them).

        Parameters
        ----------
        alpha, beta : float, optional
            ``alpha != 0``.

        Returns
        -------
        Activation

        Raises
        ------
        InvalidNetworkError
            ``alpha == 0`` or a value that is not finite.
        """
        return cls("hard_sigmoid", params=(alpha, beta))

    @classmethod
    def abs(cls) -> "Activation":
        """``|z|``.

        Returns
        -------
        Activation
        """
        return cls("abs")

    @classmethod
    def prelu(cls, slopes) -> "Activation":
        """``z`` above zero, ``a z`` below (a unit with slope 1 is linear).

        Parameters
        ----------
        slopes : float or sequence of float
            One slope for every unit, or one per unit of the layer.

        Returns
        -------
        Activation

        Raises
        ------
        InvalidNetworkError
            A slope that is not finite (a count that does not match the layer: when the network
            is built, naming the layer).
        """
        return cls("prelu", params=tuple(np.atleast_1d(_as_float_array(slopes, "a PReLU's slopes")).tolist()))

    @classmethod
    def spline(cls, breakpoints, slopes, value: float = 0.0) -> "Activation":
        """A continuous piecewise-linear function of each unit's pre-activation.

        Parameters
        ----------
        breakpoints : sequence of float, or one sequence per unit
            ``t_1 < ... < t_m`` (``m >= 1``).
        slopes : sequence of float, or one sequence per unit
            ``s_0, ..., s_m``: ``s_k`` between ``t_k`` and ``t_{k+1}``; neighbours differ.
        value : float, or one per unit, optional
            The function's value at ``t_1``.

        Returns
        -------
        Activation

        Raises
        ------
        InvalidNetworkError
            Breakpoints that do not increase, a slope count that is not one more, equal
            neighbouring slopes (a breakpoint that does not bend), values that are not finite.
        """
        bp = [np.atleast_1d(_as_float_array(x, "a spline's breakpoints")) for x in _rows(breakpoints)]
        sl = [np.atleast_1d(_as_float_array(x, "a spline's slopes")) for x in _rows(slopes)]
        val = np.atleast_1d(_as_float_array(value, "a spline's value")).tolist()
        if not (len(bp) == len(sl) == len(val)):
            raise InvalidNetworkError(f"a spline per unit needs as many breakpoint rows, slope rows "
                                      f"and values: got {len(bp)}, {len(sl)} and {len(val)}")
        return cls("spline", params=tuple((tuple(t.tolist()), tuple(s.tolist()), v)
                                          for t, s, v in zip(bp, sl, val)))

    def unit_splines(self, width: int) -> list:
        """Each unit's function, for the piecewise-linear kinds.

        Parameters
        ----------
        width : int
            The layer's number of units.

        Returns
        -------
        list
            Per unit its :class:`~regionenum.core.piecewise.UnitSpline`, or None for a unit that
            stays linear (listed in ``linear``, or a PReLU of slope 1).

        Raises
        ------
        InvalidNetworkError
            Not a piecewise-linear kind, or per-unit parameters for another number of units.
        """
        if self.kind not in PIECEWISE:
            raise InvalidNetworkError(f"activation {self.kind!r} is not one of {', '.join(PIECEWISE)}")
        p = self.params
        shared = {"hardtanh": lambda: UnitSpline((p[0], p[1]), (0.0, 1.0, 0.0), p[0]),
                  "relu6": lambda: UnitSpline((0.0, 6.0), (0.0, 1.0, 0.0), 0.0),
                  "clipped_relu": lambda: UnitSpline((0.0, p[0]), (0.0, 1.0, 0.0), 0.0),
                  "hard_sigmoid": lambda: UnitSpline((0.0, 1.0), (0.0, 1.0, 0.0), 0.0, p[0], p[1]),
                  "abs": lambda: UnitSpline((0.0,), (-1.0, 1.0), 0.0)}
        if self.kind in shared:
            out = [shared[self.kind]()] * width
        else:
            if len(p) not in (1, width):
                raise InvalidNetworkError(f"{self.kind} has {len(p)} parameter sets for a layer of "
                                          f"{width} units (give one, or one per unit)")
            per_unit = list(p) * width if len(p) == 1 else list(p)
            if self.kind == "prelu":
                out = [None if a == 1.0 else UnitSpline((0.0,), (a, 1.0), 0.0) for a in per_unit]
            else:
                out = [UnitSpline(t, s, v) for t, s, v in per_unit]
        for u in self.linear:
            out[u] = None
        return out

    def pieces(self, z: np.ndarray) -> np.ndarray:
        """The linear piece of each unit with several, in the order of
        :attr:`Network.piece_map`.

        Parameters
        ----------
        z : ndarray, shape (n, width)
            Pre-activations.

        Returns
        -------
        ndarray of int, shape (n, units with several pieces)
            ReLU-type units 0 (off) or 1 (on), max groups of two or more the winner's
            position, piecewise-linear units the number of breakpoints below their input.
        """
        z = np.asarray(z, np.float64)
        if self.kind == "max":
            starts = self.group_starts
            winners = self.states(z).astype(np.int64) * (np.arange(z.shape[1]) - np.repeat(starts, self.groups))
            big = np.flatnonzero(np.asarray(self.groups) > 1)
            return np.add.reduceat(winners, starts, axis=1)[:, big]
        if self.kind in PIECEWISE:
            splines = self.unit_splines(z.shape[1])
            cols = [s.piece(z[:, j]) for j, s in enumerate(splines) if s is not None]
            return np.stack(cols, axis=1) if cols else np.zeros((len(z), 0), np.int64)
        return self.states(z)[:, self.split_units(z.shape[1])].astype(np.int64)

    @classmethod
    def parse(cls, spec, width: int | None = None) -> "Activation":
        """An activation from any of the forms the API accepts.

        Parameters
        ----------
        spec : Activation, str or tuple
            An Activation; a name (``"relu"``, ``"identity"``, ``"linear"``, ``"leaky_relu"``,
            ``"hardtanh"``, ``"relu6"``, ``"hard_sigmoid"``, ``"abs"``); a pair
            ``("leaky_relu", alpha)``, ``("maxout", k)`` (groups of ``k`` consecutive units),
            ``("max", sizes)``, ``("hardtanh", (lo, hi))``, ``("clipped_relu", cap)``,
            ``("hard_sigmoid", (alpha, beta))``, ``("prelu", slopes)``,
            ``("spline", (breakpoints, slopes, value))``; or the text :attr:`spec` writes.
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
                return cls.maxout(_whole(spec[1], "maxout's rank"), width)
            if name == "max":
                return cls("max", groups=tuple(spec[1]))
            if name == "spline":
                return cls.spline(*spec[1])
            if name == "prelu":
                return cls.prelu(spec[1])
            if name in PIECEWISE:
                params = np.atleast_1d(_as_float_array(spec[1], f"{name}'s parameters"))
                return cls(name, params=tuple(params.tolist()))
            return cls(name, _number(spec[1], f"{name}'s parameter"))
        if isinstance(spec, str):
            spec, _, linear = spec.lower().partition("+linear:")
            if linear:
                return replace(cls.parse(spec, width), linear=tuple(linear.split(",")))
            name, colon, arg = spec.partition(":")
            if colon and not arg.strip():  # "leaky_relu:" took the default slope
                raise InvalidNetworkError(f"activation {spec!r}: nothing after the ':'")
            if name in ("linear", "none"):
                name = "identity"
            if name == "max" and arg:
                return cls("max", groups=tuple(arg.split(",")))
            if name == "leaky_relu":
                return cls(name, _number(arg, f"{name}'s slope") if arg else 0.01)
            if name == "spline" and arg:
                units = [part.split("/") for part in arg.split(";")]
                if any(len(u) != 3 for u in units):
                    raise InvalidNetworkError(f"cannot read a spline from {spec!r}: expected "
                                              "'breakpoints/slopes/value' per unit, ';' between units")
                return cls("spline", params=tuple((_numbers(t), _numbers(s), float(v)) for t, s, v in units))
            if name in PIECEWISE and arg:
                return cls(name, params=_numbers(arg))
            if arg:  # "relu:0.5" dropped its 0.5
                raise InvalidNetworkError(f"activation {name!r} takes no parameter, got {spec!r}")
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
        if self.kind == "spline":
            text = "spline:" + ";".join(f"{_text(t)}/{_text(s)}/{v!r}" for t, s, v in self.params)
        elif self.params:
            text += ":" + _text(self.params)
        if self.linear:
            text += "+linear:" + ",".join(map(str, self.linear))
        return text

    # -- what the engine reads (the canonical kinds) -------------------------------------------
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
        if self.kind in PIECEWISE:
            z = np.asarray(z, np.float64)
            splines = self.unit_splines(z.shape[1])
            return np.stack([z[:, j] if s is None else s(z[:, j]) for j, s in enumerate(splines)], axis=1)
        return self.collect(self.slopes(z) * z)


def _checked_params(kind: str, params) -> tuple:
    """The parameters of a piecewise-linear ``kind``, checked and as tuples of floats (defaults
    filled in); raises :class:`InvalidNetworkError` naming what is wrong."""
    if kind not in PIECEWISE:
        if params:
            raise InvalidNetworkError(f"activation {kind!r} takes no params (got {params})")
        return ()
    if kind == "spline":
        if not params:
            raise InvalidNetworkError("a spline needs (breakpoints, slopes, value)")
        return tuple(_checked_spline(*unit) for unit in params)
    try:
        values = tuple(float(x) for x in params)
    except (TypeError, ValueError):
        raise InvalidNetworkError(f"activation {kind!r} takes numbers, got {params!r}") from None
    if not all(np.isfinite(values)):
        raise InvalidNetworkError(f"activation {kind!r} has non-finite parameters {values}")
    values = values or {"hardtanh": (-1.0, 1.0), "hard_sigmoid": (0.2, 0.5)}.get(kind, ())
    expected = {"hardtanh": 2, "relu6": 0, "clipped_relu": 1, "hard_sigmoid": 2, "abs": 0}.get(kind)
    if expected is not None and len(values) != expected:
        raise InvalidNetworkError(f"activation {kind!r} takes {expected} parameters, got {len(values)}")
    if kind == "hardtanh" and not values[0] < values[1]:
        raise InvalidNetworkError(f"hardtanh needs lo < hi, got {values}")
    if kind == "clipped_relu" and not values[0] > 0:
        raise InvalidNetworkError(f"clipped_relu needs a positive cap, got {values[0]}")
    if kind == "hard_sigmoid" and values[0] == 0:
        raise InvalidNetworkError("hard_sigmoid needs alpha != 0")
    if kind == "prelu" and not values:
        raise InvalidNetworkError("prelu needs a slope (or one per unit)")
    return values


def _checked_spline(breakpoints, slopes, value) -> tuple:
    t = tuple(float(x) for x in np.atleast_1d(breakpoints))
    s = tuple(float(x) for x in np.atleast_1d(slopes))
    where = f"spline with breakpoints {t} and slopes {s}"
    if not t or len(s) != len(t) + 1:
        raise InvalidNetworkError(f"{where}: needs at least one breakpoint and one slope more than "
                                  "breakpoints")
    if not (all(np.isfinite(t)) and all(np.isfinite(s)) and np.isfinite(value)):
        raise InvalidNetworkError(f"{where}: has non-finite values")
    if any(a >= b for a, b in zip(t, t[1:])):
        raise InvalidNetworkError(f"{where}: breakpoints must increase")
    same = [k for k in range(len(t)) if s[k] == s[k + 1]]
    if same:
        raise InvalidNetworkError(f"{where}: the slopes on both sides of breakpoint {same[0]} are equal "
                                  "(it does not bend; leave it out)")
    return t, s, float(value)


def _rows(x) -> list:
    """A spline argument as a list of rows: one row for a flat sequence, else its rows."""
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0 or all(np.ndim(e) == 0 for e in np.atleast_1d(arr)):
        return [x]
    return list(x)


def _whole(value, what: str) -> int:
    """``value`` as an int where it is a whole number (an integer, a float without a fraction,
    or their text, from a text form); otherwise refused by ``what`` (a fraction, a bool or NaN
    used to be cut to an integer or taken as 1)."""
    try:
        return int(value.strip()) if isinstance(value, str) else whole_number(value, what, least=None)
    except (ValueError, ArgumentTypeError):  # (InvalidArgumentError is a ValueError)
        raise InvalidNetworkError(f"{what} must be a whole number, got {value!r}") from None


def _number(value, what: str) -> float:
    """One finite number, given as a number or its text, for ``what``; refused otherwise."""
    if isinstance(value, str):
        value = _numbers(value) if value.strip() else ()
    arr = _as_float_array(value, what)
    if arr.size != 1:
        raise InvalidNetworkError(f"{what} must be one number, got {value!r}")
    return float(arr.reshape(-1)[0])


def _numbers(text: str) -> tuple:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidNetworkError(f"cannot read numbers from {text!r}") from None


def _text(values) -> str:
    return ",".join(repr(float(v)) for v in values)


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
    ``W`` and ``b`` are kept as read-only C-contiguous float64 copies of what the caller passes,
    so that one network has one memory layout (every product with it is blocked the same way)
    and what is worked out once per layer (:attr:`norm_bounds`) stays true: a layer never
    changes. To change weights, build a new network. Build networks with
    :meth:`Network.from_layers`, which also checks them.
    """

    W: np.ndarray
    b: np.ndarray
    activation: Activation

    def __post_init__(self):
        for name in ("W", "b"):
            values = np.array(getattr(self, name), dtype=np.float64, order="C")  # the layer's own copy
            values.flags.writeable = False
            object.__setattr__(self, name, values)

    @property
    def width(self) -> int:
        """Number of units (rows of ``W``)."""
        return self.W.shape[0]

    @property
    def out_width(self) -> int:
        """Number of outputs after the activation (one per group for a max layer)."""
        return len(self.activation.groups) if self.activation.kind == "max" else self.width

    @functools.cached_property
    def norm_bounds(self) -> tuple[float, float]:
        """Proven upper bounds on ``||W||_2`` and ``|| |W| ||_2``
        (:mod:`~regionenum.core.norm_bounds`), for the engine's error bounds; worked out on first
        use (a certified spectral bound costs a Gram matrix and a Cholesky factorisation)."""
        return spectral_norm_bound(self.W), abs_norm_bound(self.W)

    @functools.cached_property
    def row_norms(self) -> np.ndarray:
        """Proven upper bounds on the 2-norm of each row of ``W`` (one per unit, read-only), for
        the engine's error bounds unit by unit."""
        out = row_norm_bounds(self.W)
        out.flags.writeable = False
        return out

    @functools.cached_property
    def bias_norm(self) -> float:
        """A proven upper bound on ``||b||_2``."""
        return abs_norm_bound(self.b[:, None])

    @functools.cached_property
    def weights_and_bias_T(self) -> np.ndarray:
        """``[W | b]^T``, shape ``(in + 1, out)``, C-contiguous and read-only: with a column of
        ones (zeros) appended to its inputs ``a``, one product ``a @ weights_and_bias_T`` gives
        ``W a + b`` (``W a``), the bias a term of the sum; row ``h < in`` holds input ``h``'s
        weights into every unit, for adding one input's terms to such sums. A second copy of the
        weights, kept from the first run that reads it (the engine's rows of every layer but a max
        layer); not pickled (:meth:`__getstate__`)."""
        out = np.ascontiguousarray(np.hstack([self.W, self.b[:, None]]).T)
        out.flags.writeable = False
        return out

    def __getstate__(self) -> dict:
        """The layer's state for pickling, without :attr:`weights_and_bias_T`: a worker process
        makes it again where it reads it, and the jobs sent to workers stay as large as the
        weights (a network of six 512 x 512 layers pickled to 21.2 MB with it, 10.7 MB without)."""
        state = dict(self.__dict__)
        state.pop("weights_and_bias_T", None)
        return state

    def __setstate__(self, state: dict) -> None:
        """The unpickled layer's arrays read-only again, as the layer's own (pickling drops the
        flag)."""
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self.__dict__.update(state)

    @functools.cached_property
    def quanta(self) -> tuple[int, int]:
        """Exponents ``(q_W, q_b)`` such that ``2^q_W`` divides every weight and ``2^q_b`` every
        bias (:func:`~regionenum.core.tolerances.quantum`), for the engine's test of whether a
        product may underflow."""
        return quantum(self.W), quantum(self.b)


#: The proven bounds a :class:`Layer` works out once and keeps (:func:`work_out_bounds`).
LAYER_BOUNDS = ("norm_bounds", "row_norms", "bias_norm")
#: The tables a polytope run reads of every layer after the first (the weights' second copy and
#: their quanta), made by :func:`work_out_bounds` beside the bounds where it shares them out among
#: threads: each is a pass over the weights, which r1_deep's first run made in its calling thread
#: (9 ms of its 270).
RUN_TABLES = ("weights_and_bias_T", "quanta")
#: Multiply-adds of the layers' Gram matrices from which :func:`work_out_bounds` shares the layers
#: out among threads: below, starting them and setting BLAS's thread count cost more than they
#: save (the bundled digits net's three layers took 1.1 ms so, 0.6 ms one after the other).
SHARED_WORK = 1 << 25


def work_out_bounds(layers, check=None, tables=()) -> None:
    """Work out now the proven bounds of ``layers`` not yet known (:data:`LAYER_BOUNDS`), shared
    out among the machine's idle cores with BLAS on one thread each where they are work enough
    (:data:`SHARED_WORK`), otherwise in this thread with BLAS on the idle cores (as a run sets
    it, :class:`~regionenum.core.threads.AdaptiveBlas`), and keep them on the layers; with them
    the cached properties named in ``tables`` (such as :data:`RUN_TABLES`) where they are shared
    out (in one thread they are left to their first use).

    A run asks for every layer's bounds within milliseconds of its start (it goes depth first),
    and a wide layer's certificate of ``||W||_2`` (a Gram matrix and a Cholesky factorisation) is
    milliseconds of work: on two cores, the seven 512 x 512 layers of the suite's deep network
    took about 30 ms this way against about 45 ms one after the other (``benchmarks/README.md``,
    "The first call's certificates"). Each bound is the one its property works out, computed
    outside the property: before Python 3.12 a cached property holds one lock for all instances
    while it computes, which would put the threads back in a queue.

    Parameters
    ----------
    layers : sequence of Layer
    check : callable, optional
        Called before each bound (a run's budgets: what it raises stops the work, the bounds
        already worked out are kept, the others are worked out when first asked for).
    tables : sequence of str, optional
        Names of further cached properties of :class:`Layer` to make beside the bounds.
    """
    todo = [(layer, name) for layer in layers for name in LAYER_BOUNDS if name not in vars(layer)]
    if not todo:
        return
    work = sum(min(layer.W.shape) ** 2 * max(layer.W.shape) for layer, name in todo if name == "norm_bounds")
    threads = min(idle_cpus(), len(todo)) if work >= SHARED_WORK else 1
    if threads > 1:
        todo += [(layer, name) for layer in layers for name in tables if name not in vars(layer)]

    def keep(item):
        if check is not None:
            check()
        _keep_bound(*item)

    # in one thread, BLAS gets the idle cores as in a run (a run may not have set them yet: on a
    # busy machine a 512 x 512 factorisation on two BLAS threads took 10-20 ms, not 1.2)
    with blas_on_one_thread() if threads > 1 else AdaptiveBlas():
        map_in_threads(keep, todo, threads)


def keep_bounds(layer) -> None:
    """Work out in this thread the proven bounds of ``layer`` not yet known
    (:data:`LAYER_BOUNDS`), and keep them on it."""
    for name in LAYER_BOUNDS:
        if name not in vars(layer):
            _keep_bound(layer, name)


def _keep_bound(layer, name) -> None:
    """Work out what the layer's cached property ``name`` works out (a bound or a table), by the
    property's own function (outside its lock), and keep it where the property keeps it."""
    object.__setattr__(layer, name, getattr(Layer, name).func(layer))


class Network:
    """A feed-forward network of dense layers with piecewise-linear activations, in the
    canonical form every importer produces and the engine reads: ReLU, LeakyReLU, identity or
    max activations.

    Layers with other piecewise-linear activations (hardtanh, ReLU6, clipped ReLU,
    hard-sigmoid, abs, PReLU, splines; see :class:`Activation`) are rewritten on construction
    into ReLU and identity layers computing the same function exactly
    (:mod:`regionenum.core.piecewise`): ``layers`` are the rewritten ones, ``source_layers`` the
    ones given, and ``piece_map`` reads each given unit's linear piece off a pattern.

    Build one with :meth:`from_layers`, :meth:`from_torch`, :meth:`from_onnx` or
    :meth:`from_sklearn`.

    Attributes
    ----------
    layers : tuple of Layer
        The canonical layers, each ``W``, ``b`` and its :class:`Activation`.
    source_layers : tuple of Layer
        The layers as given (the same as ``layers`` when nothing was rewritten).
    input_dim, output_dim : int
        Inputs, and outputs of the last layer.
    widths : tuple of int
        Units per (canonical) layer.
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
    piece_map : PieceMap
        One entry per unit of ``source_layers`` with several linear pieces (ReLU-type units,
        max groups of two or more, piecewise-linear units), ``piece_map.units`` its ``(layer,
        unit)`` (for a max layer, ``(layer, group)``); ``piece_map.pieces(bits)`` gives each
        one's piece from pattern bits (:attr:`Regions.pieces <regionenum.Regions.pieces>`).

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.ones((4, 2)), np.arange(4.0)), (np.ones((1, 2)), [0.0])],
    ...                              [("maxout", 2), "identity"])
    >>> net.widths, net.n_units, net.split_layers, net.n_ties
    ((4, 1), 4, (0,), 4)
    >>> net = rn.Network.from_layers([(np.ones((2, 1)), [0.0, -3.0]), (np.ones((1, 2)), [0.0])],
    ...                              ["hardtanh", "identity"])
    >>> net
    Network(widths=(1, 2, 1), activations=[hardtanh, identity]; as widths=(1, 4, 2, 1), activations=[relu, identity, identity])
    >>> net([[0.5], [2.0]]).ravel().tolist(), net.pieces([[0.5], [2.0]]).tolist()
    ([-0.5, 0.0], [[1, 0], [2, 0]])
    """

    def __init__(self, layers):
        self.source_layers = tuple(layers)
        if not self.source_layers:
            raise InvalidNetworkError("a network needs at least one layer")
        for l, layer in enumerate(self.source_layers):
            if layer.activation.linear and layer.activation.linear[-1] >= layer.width:
                raise InvalidNetworkError(f"layer {l}: linear unit {layer.activation.linear[-1]} is "
                                          f"past the layer's {layer.width} units")
        canonical, origins = _canonical_layers(self.source_layers)
        self.layers = tuple(canonical)
        self.input_dim = self.layers[0].W.shape[1]
        self.output_dim = self.layers[-1].out_width
        self.widths = tuple(layer.width for layer in self.layers)
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
        self.piece_map = self._piece_map(origins)

    def _piece_map(self, origins) -> PieceMap:
        """The :class:`PieceMap` of ``origins``: per source unit, ``((layer, unit), members)``
        with members ``(canonical layer, unit, weight)``."""
        bits, weights, counts = [], [], []
        for _, members in origins:
            counts.append(len(members))
            for l, u, w in members:
                bits.append(self.unit_offsets[l] + int(np.searchsorted(self.split_units[l], u)))
                weights.append(w)
        return PieceMap(np.array([o for o, _ in origins], np.int64).reshape(-1, 2),
                        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                        np.array(bits, np.int64), np.array(weights, np.int64))

    @property
    def rewritten(self) -> bool:
        """Whether piecewise-linear activations were rewritten (``layers`` differ from
        ``source_layers``)."""
        return any(layer.activation.kind in PIECEWISE for layer in self.source_layers)

    def pieces(self, X) -> np.ndarray:
        """The linear piece of every unit of ``source_layers`` with several, computed from the
        layers as given (not the rewrite).

        Parameters
        ----------
        X : array_like, shape (n, input_dim)

        Returns
        -------
        ndarray of int, shape (n, len(piece_map))
            ReLU units 0/1, max groups the winner's position, piecewise-linear units the number
            of breakpoints below their input; columns as ``piece_map.units``.

        Raises
        ------
        InvalidNetworkError
            ``X`` of the wrong shape.
        """
        A = self._check_inputs(X)
        parts = []
        for layer in self.source_layers:
            Z = A @ layer.W.T + layer.b
            parts.append(layer.activation.pieces(Z))
            A = layer.activation(Z)
        return np.concatenate(parts, axis=1)

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
            consecutive units), ``("max", sizes)``, a piecewise-linear activation
            (``"hardtanh"``, ``"relu6"``, ``("clipped_relu", cap)``, ``"hard_sigmoid"``,
            ``"abs"``, ``("prelu", slopes)``, ``("spline", (breakpoints, slopes, value))``;
            rewritten exactly into ReLU layers) or an :class:`Activation`. By default ReLU
            after every layer but the last, which stays linear.

        Returns
        -------
        Network

        Raises
        ------
        InvalidNetworkError
            Shapes that do not chain, non-finite values, unknown activations, parameters that
            do not fit the layer (a PReLU with neither one slope nor one per unit); the message
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
        layers = list(checked_instance(layers, Iterable, "layers", "a list of (W, b) pairs or Layers"))
        if not layers:
            raise InvalidNetworkError("a network needs at least one layer")
        if activations is None:
            activations = ["relu"] * (len(layers) - 1) + ["identity"]
        activations = list(checked_instance(activations, Iterable, "activations", "a list, one per layer"))
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
        def describe(layers):
            acts = ", ".join(layer.activation.kind for layer in layers)
            return f"widths={(self.input_dim,) + tuple(l.width for l in layers)}, activations=[{acts}]"
        tail = f"; as {describe(self.layers)}" if self.rewritten else ""
        return f"Network({describe(self.source_layers)}{tail})"

    def restricted(self, origin, basis) -> "Network":
        """The network on the affine subspace ``x = origin + basis @ t``, as a network of ``t``
        with the same units and patterns (lines, trajectories, planes through data).

        The subspace is a first layer of its own, ``origin + basis @ t`` with the identity
        activation (no states, so no pattern bits), rather than folded into the network's first
        layer: ``W @ basis`` and ``b + W @ origin`` round in float64, and hyperplanes that meet
        exactly on the subspace could come apart. Kept apart, every later product carries its
        rounding bound like any other, and exact arithmetic sees the exact composition. So the
        restricted network's layers are numbered one higher than the network's (``unit_layer``,
        ``piece_map.units``, facets' layers), and ``workers=`` and ``client=``, which split
        the first layer before handing out subtrees, run its regions in one subtree.

        Parameters
        ----------
        origin : array_like, shape (input_dim,)
        basis : array_like, shape (input_dim, k)
            Linearly independent columns.

        Returns
        -------
        Network
            ``k`` inputs; its first (source) layer is the subspace, the network's layers follow.

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
        subspace = Layer(basis, origin, Activation("identity"))
        return Network([subspace, *self.source_layers])

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

    def _check_inputs(self, X, name: str = "X") -> np.ndarray:
        X = float_array(X, name)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise InvalidNetworkError(
                f"inputs must have shape (n, {self.input_dim}), got {np.shape(X)}")
        return X

    def _check_points(self, X, name: str = "X") -> np.ndarray:
        """``X`` as :meth:`_check_inputs` gives it, for what places points among the regions or
        their boundaries (a region, a distance): a point with a coordinate that is not finite
        lies in none and is refused by ``name`` (evaluating the network passes NaN through)."""
        X = self._check_inputs(X, name)
        bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
        if len(bad):
            rows = ", ".join(map(str, bad[:5].tolist())) + (", ..." if len(bad) > 5 else "")
            raise InvalidArgumentError(f"{name} has points with coordinates that are not finite (rows {rows})")
        return X


def _canonical_layers(source):
    """The canonical layers of ``source`` (piecewise-linear layers rewritten) and, per source
    unit with several linear pieces, ``((layer, unit), [(canonical layer, unit, weight), ...])``:
    the pattern bits whose weighted sum is its piece."""
    canonical, origins = [], []
    for l, layer in enumerate(source):
        act = layer.activation
        if act.kind in PIECEWISE:
            try:
                expanded = expand_layer(layer.W, layer.b, act.unit_splines(layer.width))
            except InvalidNetworkError as err:
                raise InvalidNetworkError(f"layer {l}: {err}") from None
            relu = len(canonical) + expanded.relu_layer
            canonical += [Layer(W, b, Activation(kind, linear=linear)) for W, b, kind, linear in expanded.layers]
            origins += [((l, j), [(relu, u, 1) for u in units])
                        for j, units in enumerate(expanded.breakpoint_units) if units]
            continue
        canonical.append(layer)
        c = len(canonical) - 1
        if act.kind == "max":
            origins += [((l, g), [(c, start + i, i) for i in range(k)])
                        for g, (start, k) in enumerate(zip(act.group_starts.tolist(), act.groups)) if k > 1]
        else:
            origins += [((l, int(j)), [(c, int(j), 1)]) for j in act.split_units(layer.width)]
    return canonical, origins


def _as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array of its own, refused by ``name`` where it is not finite real
    numbers (:func:`~regionenum.core.arrays.float_array`), as :class:`InvalidNetworkError`."""
    if np.iscomplexobj(value):  # float64 would drop the imaginary parts, with a warning at most
        raise InvalidNetworkError(f"{name} holds complex numbers: a network's weights are real")
    try:
        arr = np.array(float_array(value, name))
    except ArgumentTypeError as e:
        raise InvalidNetworkError(str(e)) from None
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidNetworkError(f"{name} has a non-finite value at index {tuple(int(i) for i in bad)}")
    return arr
