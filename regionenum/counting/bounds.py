"""Bounds on the number of activation regions of ReLU networks, from the literature.

Upper bounds hold for every network of the given widths on any domain; lower bounds are the
largest counts known to be reached (by the networks of :mod:`regionenum.counting.constructions`) on
``R^n0`` or the unit cube. ``n0`` is the input dimension, ``widths`` the hidden layers' widths.

>>> from regionenum import bounds   # also rn.bounds
>>> bounds.zaslavsky(4, 2), bounds.serra(2, [4]), bounds.trivial([4])
(11, 11, 16)
>>> bounds.montufar(2, [4, 4, 3]), bounds.pascanu(2, [4, 4, 3])
(112, 28)
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from math import comb, prod

from ..core.arrays import checked_instance, whole_number
from ..errors import InvalidArgumentError

__all__ = ["zaslavsky", "pascanu", "montufar", "serra", "trivial", "one_dimensional"]


def _check(n0, widths, *, need_n0=False):
    n0 = whole_number(n0, "the input dimension n0")
    widths = [whole_number(n, f"width of hidden layer {i}")
              for i, n in enumerate(checked_instance(widths, Iterable, "widths", "a list of hidden layer widths"))]
    if not widths:
        raise InvalidArgumentError("widths must list at least one hidden layer")
    for i, n in enumerate(widths):
        if need_n0 and n < n0:
            raise InvalidArgumentError(f"this bound needs every hidden layer at least as wide as the "
                                  f"input (n0 = {n0}); layer {i} has {n}")
    return n0, widths


def zaslavsky(n: int, n0: int) -> int:
    """Regions of ``n`` hyperplanes in general position in ``R^n0``: ``sum_{j <= n0} C(n, j)``,
    the most one hidden layer of width ``n`` can make (an upper bound, and reached).

    Parameters
    ----------
    n : int
        Hyperplanes (units).
    n0 : int
        Input dimension.

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Dimensions or widths that are not positive integers.

    Examples
    --------
    >>> from regionenum import bounds
    >>> bounds.zaslavsky(16, 2)
    137
    """
    n0, (n,) = _check(n0, [n])
    return sum(comb(n, j) for j in range(min(n0, n) + 1))  # (C(n, j) = 0 beyond n)


def pascanu(n0: int, widths) -> int:
    """Pascanu, Montufar & Bengio (2013) lower bound,
    ``prod_{l < L} floor(n_l / n0) * sum_{j <= n0} C(n_L, j)``: reached by folding one input
    direction ``floor(n_l / n0)`` times per layer (every ``n_l >= n0``).

    Parameters
    ----------
    n0 : int
        Input dimension.
    widths : sequence of int
        Hidden layers' widths, each at least ``n0``.

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Dimensions or widths that are not positive integers, or a layer narrower than the input.

    Examples
    --------
    >>> from regionenum import bounds
    >>> bounds.pascanu(2, [4, 4, 4, 4])
    88
    """
    n0, widths = _check(n0, widths, need_n0=True)
    return prod(n // n0 for n in widths[:-1]) * zaslavsky(widths[-1], n0)


def montufar(n0: int, widths) -> int:
    """Montufar, Pascanu, Cho & Bengio (2014) lower bound,
    ``prod_{l < L} floor(n_l / n0)^n0 * sum_{j <= n0} C(n_L, j)``: reached by folding every
    input direction ``floor(n_l / n0)`` times per layer (every ``n_l >= n0``).

    Parameters
    ----------
    n0 : int
        Input dimension.
    widths : sequence of int
        Hidden layers' widths, each at least ``n0``.

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Dimensions or widths that are not positive integers, or a layer narrower than the input.

    Examples
    --------
    >>> from regionenum import bounds
    >>> bounds.montufar(2, [4, 4, 4, 4])
    704
    """
    n0, widths = _check(n0, widths, need_n0=True)
    return prod((n // n0) ** n0 for n in widths[:-1]) * zaslavsky(widths[-1], n0)


def serra(n0: int, widths) -> int:
    """Serra, Tjandraatmadja & Ramalingam (2018) upper bound: the sum over
    ``0 <= j_l <= min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)`` of ``prod_l C(n_l, j_l)``.

    Parameters
    ----------
    n0 : int
        Input dimension.
    widths : sequence of int
        Hidden layers' widths.

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Dimensions or widths that are not positive integers.

    Examples
    --------
    >>> from regionenum import bounds
    >>> bounds.serra(2, [4, 4, 4, 4])
    14641
    """
    n0, widths = _check(n0, widths)

    @lru_cache(maxsize=None)
    def total(l: int, cap: int) -> int:
        # cap = min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}) so far
        if l == len(widths):
            return 1
        n = widths[l]
        return sum(comb(n, j) * total(l + 1, min(cap, n - j)) for j in range(min(cap, n) + 1))

    return total(0, n0)


def trivial(widths) -> int:
    """``2^N`` for ``N`` hidden units: every unit on or off.

    Parameters
    ----------
    widths : sequence of int
        Hidden layers' widths.

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Dimensions or widths that are not positive integers.

    Examples
    --------
    >>> from regionenum import bounds
    >>> bounds.trivial([4, 4])
    256
    """
    _, widths = _check(1, widths)
    return 2 ** sum(widths)


def one_dimensional(widths) -> int:
    """For one input: ``prod_l (n_l + 1)`` (each unit of layer ``l`` adds at most one breakpoint
    per piece of the layers before).

    Parameters
    ----------
    widths : sequence of int
        Hidden layers' widths.

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Dimensions or widths that are not positive integers.

    Examples
    --------
    >>> from regionenum import bounds
    >>> bounds.one_dimensional([8, 8])
    81
    """
    _, widths = _check(1, widths)
    return prod(n + 1 for n in widths)
