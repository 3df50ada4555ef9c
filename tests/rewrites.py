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
