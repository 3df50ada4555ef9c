"""Networks that reach the lower bounds of :mod:`regionenum.counting.bounds`, with their exact counts.

Both fold the unit cube: a folding layer with ``p`` units on a coordinate ``y`` in ``[0, 1]``
computes ``h_0 = max(0, (p/2) y)``, ``h_i = max(0, p y - i)`` and passes on
``y' = 2 sum_i (-1)^i h_i``, a zig-zag mapping each of ``p`` slabs onto ``[0, 1]``. The last
hidden layer is a generic arrangement of hyperplanes with every vertex inside the cube, so each
folded copy of the cube holds all ``sum_{j <= n0} C(n_L, j)`` of its regions. The
constructions are degenerate by design (units whose hyperplanes lie on earlier boundaries, thin
cells), which makes them good tests too.

>>> from regionenum import constructions, count_regions
>>> c = constructions.montufar(2, [4], 3)
>>> c.count, int(count_regions(c.network, c.domain))
(28, 28)
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..core.arrays import checked_instance
from ..core.domain import Box
from ..core.network import Network
from ..errors import InvalidArgumentError
from .bounds import montufar as montufar_bound
from .bounds import pascanu as pascanu_bound

__all__ = ["Construction", "montufar", "pascanu"]


@dataclass
class Construction:
    """A network, its domain (the unit cube) and its exact number of activation regions there.

    Attributes
    ----------
    network : Network
    domain : Box
    count : int
    """

    network: Network
    domain: Box
    count: int


def montufar(n0: int, fold_widths, last_width: int, seed: int = 0) -> Construction:
    """Montufar et al. (2014): every folding layer of width ``n_l`` folds every input coordinate
    ``floor(n_l / n0)`` times; reaches :func:`regionenum.counting.bounds.montufar`.

    Parameters
    ----------
    n0 : int
        Input dimension (the domain is ``[0, 1]^n0``).
    fold_widths : sequence of int
        Widths of the folding layers, each at least ``n0``.
    last_width : int
        Width of the last hidden layer (a generic arrangement).
    seed : int, optional
        Seed of the last layer's arrangement.

    Returns
    -------
    Construction
        The network, its domain and its exact count.

    Raises
    ------
    InvalidArgumentError
        Widths that are not positive integers or are narrower than the input.

    Examples
    --------
    >>> from regionenum import constructions, count_regions
    >>> c = constructions.montufar(2, [4, 4, 4], 4)
    >>> c.count, int(count_regions(c.network, c.domain))
    (704, 704)
    """
    return _zigzag(n0, fold_widths, last_width, seed, fold_all=True)


def pascanu(n0: int, fold_widths, last_width: int, seed: int = 0) -> Construction:
    """Pascanu et al. (2013): every folding layer folds the first coordinate ``floor(n_l / n0)``
    times and passes the others through; reaches :func:`regionenum.counting.bounds.pascanu`.

    Parameters
    ----------
    n0 : int
        Input dimension (the domain is ``[0, 1]^n0``).
    fold_widths : sequence of int
        Widths of the folding layers, each at least ``n0``.
    last_width : int
        Width of the last hidden layer (a generic arrangement).
    seed : int, optional
        Seed of the last layer's arrangement.

    Returns
    -------
    Construction
        The network, its domain and its exact count.

    Raises
    ------
    InvalidArgumentError
        Widths that are not positive integers or are narrower than the input.

    Examples
    --------
    >>> from regionenum import constructions, count_regions
    >>> c = constructions.pascanu(2, [4, 4], 4)
    >>> c.count, int(count_regions(c.network, c.domain))
    (44, 44)
    """
    return _zigzag(n0, fold_widths, last_width, seed, fold_all=False)


def _zigzag(n0, fold_widths, last_width, seed, fold_all):
    widths = list(checked_instance(fold_widths, Iterable, "fold_widths", "a list of widths")) + [last_width]
    count = (montufar_bound if fold_all else pascanu_bound)(n0, widths)  # also checks widths
    n0, fold_widths, last_width = int(n0), [int(w) for w in fold_widths], int(last_width)  # (whole floats)
    rng = np.random.default_rng(seed)
    layers = []
    feed = np.eye(n0)  # maps the previous layer's outputs to the current coordinates y
    for width in fold_widths:
        p = width // n0
        W = np.zeros((width, n0))
        b = np.zeros(width)
        F = np.zeros((n0, width))
        u = 0
        for c in range(n0):
            if c > 0 and not fold_all:  # pass the coordinate through: max(0, y) = y on [0, 1]
                W[u, c], F[c, u] = 1.0, 1.0
                u += 1
                continue
            for i in range(p):
                W[u, c] = p / 2 if i == 0 else p
                b[u] = 0.0 if i == 0 else -i
                F[c, u] = 2.0 * (-1) ** i
                u += 1
        layers.append((W @ feed, b))
        feed = F
    W_last, b_last = _generic_arrangement(n0, last_width, rng)
    layers.append((W_last @ feed, b_last))
    layers.append((np.ones((1, last_width)), np.zeros(1)))
    return Construction(Network.from_layers(layers), Box(np.zeros(n0), np.ones(n0)), count)


def _generic_arrangement(n0, n, rng):
    """``n`` hyperplanes in ``R^n0`` in general position (every ``n0`` of them meet at an angle
    well away from degenerate) with every vertex inside ``(0.02, 0.98)^n0``."""
    for _ in range(10000):
        W = rng.normal(size=(n, n0))
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        centre = rng.uniform(0.4, 0.6, size=(n, n0))
        b = -np.sum(W * centre, axis=1)
        ok = True
        for rows in itertools.combinations(range(n), n0):
            M = W[list(rows)]
            if abs(np.linalg.det(M)) < 0.2:
                ok = False
                break
            v = np.linalg.solve(M, -b[list(rows)])
            if np.any(v < 0.02) or np.any(v > 0.98):
                ok = False
                break
        if ok:
            return W, b
    raise InvalidArgumentError(f"found no generic arrangement of {n} hyperplanes in {n0}-D with all "
                          "vertices inside the cube; use fewer hyperplanes in the last layer")
