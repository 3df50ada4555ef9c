"""Equal 64-bit values grouped in one pass over a hash table, the groups numbered in the order of
their first occurrences (the faces' names, by their hashes; labels renumbered)."""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["first_occurrence_groups"]

#: Fibonacci hashing's multiplier (2^64 over the golden ratio, odd): a slot is the top bits of a
#: value times it, which spreads consecutive integers (labels) as well as hashes.
_SPREAD = np.uint64(0x9E3779B97F4A7C15)
#: The table's least size, in slots (a power of two).
_LEAST_BITS = 12


@nb.njit(cache=True, nogil=True, inline="always")
def _slot(value, bits):
    return np.int64((value * _SPREAD) >> np.uint64(64 - bits))


@nb.njit(cache=True, nogil=True)
def _table_of(values, first, groups, bits):
    """A table of ``2^bits`` slots holding the ``groups`` values ``values[first[g]]``, each
    with its group ``g`` (see :func:`first_occurrence_groups`)."""
    table = np.zeros(2 << bits, np.uint64)
    mask = (1 << bits) - 1
    for g in range(groups):
        value = values[first[g]]
        s = _slot(value, bits)
        while table[2 * s + 1] != 0:
            s = (s + 1) & mask
        table[2 * s] = value
        table[2 * s + 1] = g + 1
    return table


@nb.njit(cache=True, nogil=True)
def first_occurrence_groups(values):
    """Group the equal entries of ``values`` (uint64): the group of each entry and the first
    entry of each group, groups numbered ``0, 1, ...`` in the order of their first occurrences
    (so ``first`` increases).

    One pass over the values, each looked up in an open-addressing table (linear probing) whose
    slot holds a value and its group plus one (zero: the slot is empty). The table starts at an
    eighth of the entries (faces' names: a vertex of a 3-D subdivision is met in about eight
    cells) and doubles whenever half its slots are taken, so it stays about twice the groups'
    number, and a lookup a cache miss or two. Sorting the values took 3 to 7 times as long on
    the faces of r3_small and r4_small (one input's hashes: 0.5 to 10 million)."""
    n = values.shape[0]
    bits = _LEAST_BITS
    while (1 << bits) < n // 8:
        bits += 1
    table = np.zeros(2 << bits, np.uint64)
    group = np.empty(n, np.int64)
    first = np.empty(n, np.int64)
    groups = 0
    for i in range(n):
        if 2 * groups >= (1 << bits):
            bits += 1
            table = _table_of(values, first, groups, bits)
        mask = (1 << bits) - 1
        value = values[i]
        s = _slot(value, bits)
        while True:
            held = table[2 * s + 1]
            if held == 0:
                table[2 * s] = value
                table[2 * s + 1] = groups + 1
                first[groups] = i
                group[i] = groups
                groups += 1
                break
            if table[2 * s] == value:
                group[i] = np.int64(held) - 1
                break
            s = (s + 1) & mask
    return group, first[:groups].copy()
