"""Piecewise-linear activations of one variable, and their exact rewrite into ReLU layers.

Hardtanh, ReLU6, clipped ReLU, hard-sigmoid, abs, PReLU and general piecewise-linear splines
are each, per unit, a function ``f(u)`` of ``u = scale * z + shift`` (``z`` the unit's
pre-activation; ``scale = 1, shift = 0`` except for ONNX's HardSigmoid) with breakpoints
``t_1 < ... < t_m``, slopes ``s_0, ..., s_m`` (``s_k`` between ``t_k`` and ``t_{k+1}``) and value
``v = f(t_1)``. Such a function is exactly

    f(u) = v + s_0 (u - t_1) + sum_k (s_k - s_{k-1}) relu(u - t_k),

so a layer of them becomes a ReLU layer (one unit per breakpoint, the linear part carried as a
linear unit) followed by an identity layer that adds the terms. Every weight and bias the
rewrite writes is a float64 taken from the network or the activation's parameters, or a sum or
difference that is checked to be exact in float64; where a slope difference ``s_k - s_{k-1}`` is
not exact, the breakpoint gets two ReLU units (coefficients ``s_k`` and ``-s_{k-1}``), so the
rewritten network computes the same function as the original in exact rational arithmetic.

The unit ``relu(u - t_k)`` is on exactly where ``u > t_k``, so a region's pattern tells each
original unit's linear piece: the number of its breakpoints below ``u`` (:class:`PieceMap`).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["UnitSpline", "ExpandedLayer", "expand_layer", "PieceMap", "exact_sum"]


def exact_sum(a: float, b: float) -> float | None:
    """``a + b`` when float64 holds it exactly, else None.

    Parameters
    ----------
    a, b : float

    Returns
    -------
    float or None
        The sum, if it is exactly the rational sum of the two float64 values.

    Examples
    --------
    >>> from regionenum.core.piecewise import exact_sum
    >>> exact_sum(0.25, -1.0), exact_sum(1.0, -0.1)
    (-0.75, None)
    """
    s = float(a) + float(b)
    return s if np.isfinite(s) and Fraction(s) == Fraction(float(a)) + Fraction(float(b)) else None


@dataclass(frozen=True)
class UnitSpline:
    """One unit's piecewise-linear activation ``f(scale * z + shift)``; see the module's text.

    Attributes
    ----------
    breakpoints : tuple of float
        ``t_1 < ... < t_m`` (at least one).
    slopes : tuple of float
        ``s_0, ..., s_m``; neighbours differ (every breakpoint bends).
    value : float
        ``f(t_1)``.
    scale, shift : float
        The affine map before the spline (``u = scale * z + shift``).
    """

    breakpoints: tuple
    slopes: tuple
    value: float
    scale: float = 1.0
    shift: float = 0.0

    def _u(self, z):
        return self.scale * np.asarray(z, np.float64) + self.shift

    def piece(self, z) -> np.ndarray:
        """The linear piece at pre-activations ``z``: how many breakpoints lie below ``u``."""
        return np.searchsorted(np.asarray(self.breakpoints), self._u(z), side="left")

    def __call__(self, z) -> np.ndarray:
        """``f(u)``, piece by piece (the values at the breakpoints accumulated from ``v``)."""
        u = self._u(z)
        t = np.asarray(self.breakpoints)
        s = np.asarray(self.slopes)
        at_t = self.value + np.concatenate([[0.0], np.cumsum(s[1:-1] * np.diff(t))])
        p = self.piece(z)
        left = np.maximum(p - 1, 0)
        return np.where(p == 0, self.value + s[0] * (u - t[0]), at_t[left] + s[p] * (u - t[left]))


@dataclass
class ExpandedLayer:
    """The canonical layers replacing one layer of piecewise-linear units.

    ``layers`` are ``(W, b, kind, linear)`` tuples (``kind`` ``"identity"`` or ``"relu"``,
    ``linear`` the ReLU layer's units left linear), in order; ``relu_layer`` is the position of
    the ReLU layer among them, and ``breakpoint_units[j]`` lists, for unit ``j`` of the original
    layer, the ReLU unit ``relu(u - t_k)`` of each of its breakpoints (empty for a linear unit).
    """

    layers: list
    relu_layer: int
    breakpoint_units: list


def expand_layer(W, b, splines) -> ExpandedLayer:
    """Rewrite the layer ``z = W a + b`` followed by piecewise-linear activations as canonical
    layers computing the same function exactly; see the module's text.

    The affine layer is merged into the ReLU layer when that needs no rounding (no unit has a
    ``scale`` or ``shift`` and every bias ``b_j - t_k`` is exact), else it stays a separate
    identity layer; likewise the ``scale, shift`` map.

    Parameters
    ----------
    W : array_like, shape (n, m)
    b : array_like, shape (n,)
    splines : sequence of UnitSpline or None
        One per unit; None for a unit that stays linear.

    Returns
    -------
    ExpandedLayer

    Examples
    --------
    >>> from regionenum.core.piecewise import UnitSpline, expand_layer
    >>> hardtanh = UnitSpline((-1.0, 1.0), (0.0, 1.0, 0.0), -1.0)
    >>> out = expand_layer([[2.0]], [0.5], [hardtanh])
    >>> [(W.tolist(), b.tolist(), kind) for W, b, kind, _ in out.layers]
    [([[2.0], [2.0]], [1.5, -0.5], 'relu'), ([[1.0, -1.0]], [-1.0], 'identity')]
    """
    W = np.asarray(W, np.float64)
    b = np.asarray(b, np.float64)
    n = len(b)
    # the ReLU layer's units over the splines' inputs u: (unit j, offset, is relu), u_j + offset
    rows, coeffs, constants, breakpoint_units = [], [], np.zeros(n), []
    for j, spline in enumerate(splines):
        terms, firsts = [], []
        if spline is None:
            terms.append((len(rows), 1.0))
            rows.append((j, 0.0, False))
        else:
            t, s = spline.breakpoints, spline.slopes
            constants[j] = spline.value
            if s[0] != 0:
                terms.append((len(rows), s[0]))
                rows.append((j, -t[0], False))
            for k, tk in enumerate(t):
                firsts.append(len(rows))
                step = exact_sum(s[k + 1], -s[k])
                if step is not None:
                    terms.append((len(rows), step))
                    rows.append((j, -tk, True))
                else:  # s_k - s_{k-1} is not a float64: two units, two exact coefficients
                    terms += [(len(rows), s[k + 1]), (len(rows) + 1, -s[k])]
                    rows += [(j, -tk, True)] * 2
        coeffs.append(terms)
        breakpoint_units.append(firsts)
    unit = np.array([r[0] for r in rows], np.int64)
    offset = np.array([r[1] for r in rows])
    linear = tuple(int(i) for i, r in enumerate(rows) if not r[2])
    scale = np.array([1.0 if s is None else s.scale for s in splines])
    shift = np.array([0.0 if s is None else s.shift for s in splines])
    out = []
    plain = bool(np.all(scale == 1) and not np.any(shift))
    fused_bias = _exact_biases(b[unit], offset) if plain else None
    if fused_bias is not None:  # z = W a + b goes straight into the ReLU layer
        B_W, B_b = W[unit], fused_bias
    else:
        out.append((W, b, "identity", ()))
        shifted = _exact_biases(shift[unit], offset)
        if shifted is not None:
            B_W, B_b = np.zeros((len(rows), n)), shifted
            B_W[np.arange(len(rows)), unit] = scale[unit]
        else:
            out.append((np.diag(scale), shift, "identity", ()))
            B_W, B_b = np.zeros((len(rows), n)), offset
            B_W[np.arange(len(rows)), unit] = 1.0
    relu_layer = len(out)
    out.append((B_W, B_b, "relu", linear))
    C = np.zeros((n, len(rows)))
    for j, terms in enumerate(coeffs):
        for r, c in terms:
            C[j, r] = c
    out.append((C, constants, "identity", ()))
    return ExpandedLayer(out, relu_layer, breakpoint_units)


def _exact_biases(base, offset):
    """``base + offset`` elementwise when every sum is exact in float64, else None."""
    sums = [exact_sum(x, y) for x, y in zip(base.tolist(), offset.tolist())]
    return None if any(s is None for s in sums) else np.array(sums, np.float64)


@dataclass(frozen=True)
class PieceMap:
    """How a pattern tells the linear piece of every unit of the network as it was built
    (before any rewrite): unit ``i`` (``units[i] = (layer, unit)``; for a max layer, ``unit`` is
    the group) is on piece ``sum(weights[k] * bits[:, members[k]])`` over
    ``k in offsets[i]:offsets[i + 1]``, ``members`` indexing pattern bits. A ReLU-type unit has
    pieces 0 (off) and 1 (on); a max group, its winner's position; a piecewise-linear unit, the
    number of its breakpoints below its input."""

    units: np.ndarray
    offsets: np.ndarray
    members: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.units)

    def pieces(self, bits: np.ndarray) -> np.ndarray:
        """The pieces, ``(n, len(self))`` int, of the pattern bits ``bits`` (``(n, n_units)``)."""
        bits = np.asarray(bits, bool)
        if not len(self):
            return np.zeros((len(bits), 0), np.int64)
        terms = bits[:, self.members] * self.weights
        return np.add.reduceat(terms, self.offsets[:-1], axis=1).astype(np.int64)
