"""Bring a network's hidden rows near magnitude 1 by powers of two, exactly, for the float64 stages.

Every activation the engine reads is positively homogeneous, ``s(2^k z) = 2^k s(z)`` (ReLU,
LeakyReLU, identity, and a max group scaled as one), so multiplying a hidden unit's weights and
bias by ``2^k`` and dividing its column of the next layer by ``2^k`` changes no hyperplane, no
pattern and no output. With float64 it changes no rounding either, unless a value leaves the
normal range: then it is what keeps the float stages informative. A layer whose values are all
near ``1e-312`` (subnormal weights) gives the engine products below its absolute error terms,
which prove no sign and place no crossing (every one is settled exactly, and the float vertices
drift away from the exact ones); scaled up, the same layer is ordinary.

:func:`balanced` picks, layer by layer, the shift that brings each row's largest entry (after its
columns' shifts) into ``[1/2, 1)``, raised where needed so that no entry loses a bit below
float64's subnormal range. The output layer's rows share one shift (outputs are compared with
each other), which the caller undoes on the output maps. It gives an equivalent network when
every entry stays exact, and None when one cannot (a row spanning more than float64's
exponents); only networks with rows far from magnitude 1 are touched at all.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .modular import dyadic_parts
from .network import Network

__all__ = ["balanced", "for_float_stages", "needs_balance"]

#: Hidden rows whose largest entry lies within ``2^-FAR`` to ``2^FAR`` leave a network as it is.
FAR = 64
#: float64's exponents: every entry keeps ``odd * 2^q`` with ``q >= LOWEST`` and ``|value| < 2^TOP``.
LOWEST, TOP = -1074, 1024


def for_float_stages(network):
    """The network the float64 stages run on and the shift of its outputs: the balanced one
    where some row is far from magnitude 1 and balancing keeps every entry exact, else the
    network itself and 0."""
    return (balanced(network) if needs_balance(network) else None) or (network, 0)


def needs_balance(network) -> bool:
    """Whether some hidden row's largest entry (weights and bias) lies beyond ``2^±FAR``."""
    for layer in network.layers[:-1]:
        top = np.maximum(np.abs(layer.W).max(axis=1, initial=0.0), np.abs(layer.b))
        top = top[top > 0]
        if len(top) and (top.min() < 2.0 ** -FAR or top.max() > 2.0 ** FAR):
            return True
    return False


def balanced(network):
    """The network with every row scaled by a power of two and the next layer's columns scaled
    back (see the module's description), and the shift ``k`` of its outputs (they are ``2^k``
    times the network's); None where some entry would not stay exact."""
    out, shift_in = [], np.zeros(network.input_dim + 1, np.int64)  # per input column, and the bias's 0
    last = len(network.layers) - 1
    for l, layer in enumerate(network.layers):
        M = np.concatenate([layer.W, layer.b[:, None]], axis=1)
        odd, q = dyadic_parts(M)
        nonzero = odd != 0
        length = np.frexp(np.abs(odd).astype(np.float64))[1]  # |odd| < 2^length
        top = np.where(nonzero, q + length + shift_in, -TOP * 4).max(axis=1, initial=-TOP * 4)
        low = np.where(nonzero, q + shift_in, TOP * 4).min(axis=1, initial=TOP * 4)
        empty = ~nonzero.any(axis=1)
        k = np.where(empty, 0, -top)
        if l == last:  # the outputs keep one scale: their largest row's
            k[:] = k[~empty].min(initial=0)
        elif layer.activation.kind == "max":  # a group keeps one scale: its largest row's
            for start, size in zip(layer.activation.group_starts, layer.activation.groups):
                k[start: start + size] = k[start: start + size].min()
        k = np.where(empty, k, np.maximum(k, LOWEST - low))  # no bit lost below the subnormals
        if l == last:
            k[:] = k.max()
        if np.any(~empty & ((top + k > TOP - 1) | (low + k < LOWEST))):
            return None
        M = np.ldexp(M, (shift_in[None, :] + k[:, None]).astype(np.int32))
        out.append(replace(layer, W=M[:, :-1], b=M[:, -1]))
        if layer.activation.kind == "max":
            k = k[np.asarray(layer.activation.group_starts)]
        shift_in = np.concatenate([-k, [0]])
    return Network(out), int(k[0])
