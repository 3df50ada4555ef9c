"""Rewrites of a network's layers ``[(W, b), ...]`` that are exact in float64 and leave its
regions exactly as they are: the invariance tests and ``benchmarks/adversarial.py`` use them."""
import numpy as np


def rescaled(layers, l, exponent):
    """Layer ``l``'s weights and bias times ``2^exponent``, the next layer's weights divided by it."""
    s = 2.0 ** exponent
    out = list(layers)
    out[l] = (layers[l][0] * s, layers[l][1] * s)
    out[l + 1] = (layers[l + 1][0] / s, layers[l + 1][1])
    return out


def is_exact_rescaling(layers, l, exponent) -> bool:
    """Whether :func:`rescaled` keeps every entry exactly (no bit lost below float64's normal
    range, nothing overflowing): only then is it the same network."""
    (W, b), (V, _) = layers[l], layers[l + 1]
    (W2, b2), (V2, _) = rescaled(layers, l, exponent)[l: l + 2]
    return (np.array_equal(np.ldexp(W2, -exponent), W) and np.array_equal(np.ldexp(b2, -exponent), b)
            and np.array_equal(np.ldexp(V2, exponent), V))


def permuted(layers, l, perm):
    """Layer ``l``'s units in the order ``perm`` (the next layer's columns follow)."""
    out = list(layers)
    out[l] = (layers[l][0][perm], layers[l][1][perm])
    out[l + 1] = (layers[l + 1][0][:, perm], layers[l + 1][1])
    return out


def duplicated(layers, l, unit):
    """Unit ``unit`` of layer ``l`` twice, its outgoing weights halved between the copies."""
    W, b = layers[l]
    V, c = layers[l + 1]
    V = np.concatenate([V, V[:, unit:unit + 1] / 2], axis=1)
    V[:, unit] /= 2
    out = list(layers)
    out[l] = (np.concatenate([W, W[unit:unit + 1]]), np.concatenate([b, b[unit:unit + 1]]))
    out[l + 1] = (V, c)
    return out


def is_exact_duplication(layers, l, unit) -> bool:
    """Whether :func:`duplicated` halves the unit's outgoing weights exactly (none below
    float64's normal range loses its last bit): only then is it the same network."""
    column = layers[l + 1][0][:, unit]
    return np.array_equal(column / 2 * 2, column)
