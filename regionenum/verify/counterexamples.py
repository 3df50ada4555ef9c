"""Counterexamples: looking for them (sampling and local search), and checking them exactly.

A property is violated at an input that lies in one of its input sets and whose outputs meet
every row of one of the output sets (``C y + e <= 0``). The search's candidates are float
inputs; a candidate is accepted only when it passes :func:`exact_violation`: the input set and
the output rows are decided with Python integers and fractions, the network evaluated exactly
(float64 weights are dyadic rationals).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.exact import dyadic_integers

__all__ = ["exact_outputs", "exact_violation", "margins", "local_search"]


def exact_outputs(network, x) -> list:
    """The network's outputs at the input ``x`` (numbers or Fractions), exactly, as Fractions."""
    xs = [Fraction(v) for v in x]
    den = 1
    for v in xs:
        den = den * v.denominator // _gcd(den, v.denominator)
    a = np.array([int(v * den) for v in xs], dtype=object)  # a / den is the layer's input
    for layer in network.layers:
        W, sw = dyadic_integers(layer.W)
        b, sb = dyadic_integers(layer.b)
        # z = W a / (2^sw den) + b / 2^sb, over the common denominator 2^(sw + sb) den
        z = W.dot(a) * (1 << sb) + b * ((1 << sw) * den)
        den = (1 << (sw + sb)) * den
        act = layer.activation
        if act.kind == "max":
            starts = act.group_starts
            z = np.array([max(z[s: s + k]) for s, k in zip(starts, act.groups)], dtype=object)
        elif act.splits:  # the slope below zero is num / 2^shift: scale every unit by 2^shift
            num, shift = dyadic_integers([act.off_slope])
            num, one = int(num[0]), 1 << int(shift)
            linear = set(act.linear)
            z = np.array([v * one if (v > 0 or j in linear) else v * num for j, v in enumerate(z)],
                         dtype=object)
            den = den * one
        a = z
    return [Fraction(int(v), den) for v in a]


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def exact_violation(network, case, x):
    """Whether the input ``x`` (Fractions or floats) violates ``case`` exactly: it lies in the
    case's input set and its exact outputs meet every row of one output set. Returns the index
    of that output set, or None."""
    x = [Fraction(v) for v in x]
    if any(v < lo or v > hi for v, lo, hi in zip(x, case.lo, case.hi)) or not case.rows.contains(x):
        return None
    y = exact_outputs(network, x)
    for k, out in enumerate(case.outputs):
        if out.contains(y):
            return k
    return None


def margins(case, Y):
    """How far each row of outputs ``Y`` is from violating ``case``'s output sets: the smallest,
    over the sets, of the largest row value ``C y + e`` (``<= 0`` violates)."""
    best = np.full(len(Y), np.inf)
    for out in case.outputs:
        rows = Y @ out.A_f.T + out.b_f
        best = np.minimum(best, rows.max(axis=1) if rows.shape[1] else -np.inf)
    return best


def local_search(net, case, X, steps: int = 60):
    """Descend the margin from the starting points ``X`` (free inputs of ``net``, a
    :class:`~regionenum.verify.relaxation.SearchNetwork`) by signed gradient steps inside the
    box, shrinking from a tenth of the box; returns the best point of each descent and its
    margin."""
    lo, hi = net.lo[net.free], net.hi[net.free]
    width = hi - lo
    X = X.copy()
    best_x, best = X.copy(), np.full(len(X), np.inf)
    step = 0.1
    for _ in range(steps):
        value, grad = _margin_and_gradient(net, case, net.full_input(X))
        better = value < best
        best_x[better], best[better] = X[better], value[better]
        X = np.clip(X - step * width * np.sign(grad[:, net.free]), lo, hi)
        step *= 0.92
    value, _ = _margin_and_gradient(net, case, net.full_input(X))
    better = value < best
    best_x[better], best[better] = X[better], value[better]
    return best_x, best


def _margin_and_gradient(net, case, X):
    """The margin of :func:`margins` at the inputs ``X`` and its gradient (of the row that
    attains it), through the network's layers (a piecewise-linear function: the gradient of the
    piece each point lies in)."""
    slopes, A = [], X
    for l in range(net.n_layers):
        Z = A @ net.Ws[l].T + net.bs[l]
        s = np.where((Z > 0) | ~net.two_state[l], 1.0, net.alpha[l])
        slopes.append(s)
        A = s * Z
    Y = A
    best = np.full(len(X), np.inf)
    G = np.zeros((len(X), Y.shape[1]))
    for out in case.outputs:
        V = Y @ out.A_f.T + out.b_f
        i = V.argmax(axis=1)
        v = V[np.arange(len(X)), i]
        better = v < best
        best = np.where(better, v, best)
        G[better] = out.A_f[i[better]]
    for l in range(net.n_layers - 1, -1, -1):
        G = (G * slopes[l]) @ net.Ws[l]
    return best, G
