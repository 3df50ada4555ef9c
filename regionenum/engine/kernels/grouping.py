"""Groups in linear time: equal 64-bit values grouped in one pass over a hash table, numbered in
the order of their first occurrences (the faces' names, by their hashes; labels renumbered), and
the distinct members of each group (the regions around each face) by a counting sort, each
group's few members then put in order."""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["distinct_members", "first_occurrence_groups"]

#: Fibonacci hashing's multiplier (2^64 over the golden ratio, odd): a slot is the top bits of a
#: value times it, which spreads consecutive integers (labels) as well as hashes.
_SPREAD = np.uint64(0x9E3779B97F4A7C15)
#: The table has at least ``2^_LEAST_BITS`` slots.
_LEAST_BITS = 12
#: A group's members are put in order by insertion up to this many (the regions around a face:
#: two to a few dozen), by NumPy's sort beyond.
_INSERTION_MOST = 32


@nb.njit(cache=True, nogil=True, inline="always")
def _slot(value, bits):
    """The slot of ``value`` (uint64) in a table of ``2^bits`` slots."""
    return np.int64((value * _SPREAD) >> np.uint64(64 - bits))


@nb.njit(cache=True, nogil=True, inline="always")
def _group_of(table, value, new, bits):
    """The group of ``value`` in ``table`` (``2^bits`` slots, see
    :func:`first_occurrence_groups`), or, where it is not there, ``new``, with which it is
    entered."""
    s = _slot(value, bits)
    while True:
        held = table[2 * s + 1]
        if held == 0:
            table[2 * s] = value
            table[2 * s + 1] = new + 1
            return new
        if table[2 * s] == value:
            return np.int64(held) - 1
        s = (s + 1) & ((1 << bits) - 1)


@nb.njit(cache=True, nogil=True)
def _table_of(values, first, groups, bits):
    """A table of ``2^bits`` slots holding the ``groups`` values ``values[first[g]]``, each
    with its group ``g``."""
    table = np.zeros(2 << bits, np.uint64)
    for g in range(groups):
        _group_of(table, values[first[g]], g, bits)
    return table


@nb.njit(cache=True, nogil=True)
def first_occurrence_groups(values):
    """Group the equal entries of ``values`` (uint64): the group of each entry and the first
    entry of each group, groups numbered ``0, 1, ...`` in the order of their first occurrences
    (so ``first`` increases).

    One pass over the values, each looked up in an open-addressing table (linear probing) whose
    slot holds a value and its group plus one (zero: the slot is empty). The table starts at an
    eighth of the entries (faces' names: a vertex of a 3-D subdivision is met in about eight
    cells), at least ``2^_LEAST_BITS`` slots, and doubles whenever half its slots are taken:
    where it has grown, it holds two to four slots per group, and a lookup costs a cache miss or
    two. On the faces of r3_small and r4_small (0.5 to 10 million hashes per dimension of faces)
    sorting took 1.3 to 8 times as long: least on the facets, two per group, most on the
    vertices."""
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
        group[i] = _group_of(table, values[i], groups, bits)
        if group[i] == groups:
            first[groups] = i
            groups += 1
    return group, first[:groups].copy()


@nb.njit(cache=True, nogil=True)
def distinct_members(group, member, n_groups):
    """The members of each group, each once and in increasing order, as CSR ``(offsets, ids)``:
    entry ``i`` puts ``member[i]`` in group ``group[i]`` (below ``n_groups``).

    The entries are placed group by group (a counting sort), then each group's few members are
    put in order and their repeats dropped, in place: on the 25 million faces of r4_small's
    cells, sorting the pairs ``group * n + member`` took 1.2 s. A group outside ``0 ..
    n_groups - 1`` raises ``ValueError``."""
    offsets = np.zeros(n_groups + 1, np.int64)
    for i in range(group.shape[0]):
        if group[i] < 0 or group[i] >= n_groups:
            raise ValueError("a group outside 0 .. n_groups - 1")
        offsets[group[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    ids = np.empty(group.shape[0], np.int64)
    place = offsets[:-1].copy()
    for i in range(group.shape[0]):
        ids[place[group[i]]] = member[i]
        place[group[i]] += 1
    n = 0
    for g in range(n_groups):
        run = ids[offsets[g]: offsets[g + 1]]
        if run.shape[0] > _INSERTION_MOST:
            run[:] = np.sort(run)
        else:
            for j in range(1, run.shape[0]):
                x = run[j]
                k = j
                while k > 0 and run[k - 1] > x:
                    run[k] = run[k - 1]
                    k -= 1
                run[k] = x
        offsets[g] = n
        for j in range(run.shape[0]):
            if j == 0 or run[j] != run[j - 1]:
                ids[n] = run[j]
                n += 1
    offsets[n_groups] = n
    return offsets, ids[:n].copy()
