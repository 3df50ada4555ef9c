"""Numba kernels that move cells' data between arrays without temporaries as large as the
data: blocks of rows between CSR arrays (the rows of cell ``i`` are
``rows[offsets[i]:offsets[i + 1]]``; gathering finished cells from several batches into one
set, in a new order, copies each cell's rows as one contiguous run), every array of a set's
chosen cells in one pass, a split's states into its pieces' packed patterns, and the mean of
each cell's generators."""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["copy_blocks", "generator_means", "states_into_patterns", "take_cells"]


@nb.njit(cache=True, nogil=True)
def copy_blocks(src_off, src, src_cells, dst_off, dst, dst_cells):
    """For each ``i``, copy the rows of cell ``src_cells[i]`` of ``src`` (a 2-D array with CSR
    offsets ``src_off``) onto those of cell ``dst_cells[i]`` of ``dst`` (offsets ``dst_off``;
    the two blocks have the same length)."""
    for i in range(src_cells.shape[0]):
        a = src_off[src_cells[i]]
        c = dst_off[dst_cells[i]]
        for r in range(src_off[src_cells[i] + 1] - a):
            for j in range(src.shape[1]):
                dst[c + r, j] = src[a + r, j]


@nb.njit(cache=True, nogil=True)
def take_cells(index, gen_off, gens, gen_err, inc_off, inc, con_off, con_ids, con_rows, con_err, packed, zero):
    """The cells ``index`` of a :class:`~regionenum.engine.cells.CellSet` (its arrays, in the order
    of its fields), in that order: the new set's arrays, in the same order. One pass over the
    chosen cells writes every array, each cell's rows as runs; NumPy's fancy indexing, array by
    array (an index array per CSR array, then a gather per array), took 2.4-2.9 times as long on
    the digits plane's 1,562 cells (0.43 ms)."""
    n = index.shape[0]
    new_gen_off = np.empty(n + 1, np.int64)
    new_con_off = np.empty(n + 1, np.int64)
    new_gen_off[0] = 0
    new_con_off[0] = 0
    incidences = 0
    for i in range(n):
        c = index[i]
        new_gen_off[i + 1] = new_gen_off[i] + gen_off[c + 1] - gen_off[c]
        new_con_off[i + 1] = new_con_off[i] + con_off[c + 1] - con_off[c]
        incidences += inc_off[gen_off[c + 1]] - inc_off[gen_off[c]]
    G, C, D = new_gen_off[n], new_con_off[n], gens.shape[1]
    new_gens, new_gen_err = np.empty((G, D)), np.empty(G)
    new_inc_off, new_inc = np.empty(G + 1, np.int64), np.empty(incidences, inc.dtype)
    new_con_ids, new_con_rows, new_con_err = np.empty(C, con_ids.dtype), np.empty((C, D)), np.empty(C)
    new_packed = np.empty((n, packed.shape[1]), packed.dtype)
    new_zero = np.empty((n, zero.shape[1]), zero.dtype)
    new_inc_off[0] = 0
    k = 0
    for i in range(n):
        c = index[i]
        src, dst = gen_off[c], new_gen_off[i]
        for r in range(gen_off[c + 1] - src):
            for j in range(D):
                new_gens[dst + r, j] = gens[src + r, j]
            new_gen_err[dst + r] = gen_err[src + r]
            for e in range(inc_off[src + r], inc_off[src + r + 1]):
                new_inc[k] = inc[e]
                k += 1
            new_inc_off[dst + r + 1] = k
        src, dst = con_off[c], new_con_off[i]
        for r in range(con_off[c + 1] - src):
            new_con_ids[dst + r] = con_ids[src + r]
            for j in range(D):
                new_con_rows[dst + r, j] = con_rows[src + r, j]
            new_con_err[dst + r] = con_err[src + r]
        for j in range(packed.shape[1]):
            new_packed[i, j] = packed[c, j]
        for j in range(zero.shape[1]):
            new_zero[i, j] = zero[c, j]
    return (new_gen_off, new_gens, new_gen_err, new_inc_off, new_inc, new_con_off, new_con_ids, new_con_rows,
            new_con_err, new_packed, new_zero)


@nb.njit(cache=True, nogil=True)
def generator_means(gen_off, gens):
    """Per cell (generators ``gens[gen_off[i]:gen_off[i + 1]]``, homogeneous ``(t, x)``), the
    mean of its points' ``x`` plus the mean of its rays' ``x`` (0 where it has no ray; NaN where
    it has no point, which no pointed cell lacks): a strictly positive combination of all its
    generators, hence a point inside it. Each mean is summed in generator order and divided by
    its count, in one pass: ``np.add.reduceat`` over the generators' rows took 0.12 s on 318,765
    cells of 16 generators in 4-D (some hundreds of nanoseconds per cell), this 0.04 s."""
    n, D = gen_off.shape[0] - 1, gens.shape[1]
    out = np.zeros((n, D - 1))
    points = np.empty(D - 1)
    rays = np.empty(D - 1)
    for c in range(n):
        points[:] = 0.0
        rays[:] = 0.0
        n_points = n_rays = 0
        for g in range(gen_off[c], gen_off[c + 1]):
            if gens[g, 0] > 0:
                n_points += 1
                for j in range(D - 1):
                    points[j] += gens[g, j + 1]
            else:
                n_rays += 1
                for j in range(D - 1):
                    rays[j] += gens[g, j + 1]
        for j in range(D - 1):
            out[c, j] = (points[j] / n_points if n_points else np.nan) + (rays[j] / n_rays if n_rays else 0.0)
    return out


#: Per byte of a uint64 (eight states, 0, 1 or 2, in memory order), its lowest bit...
_LOW_BITS = np.uint64(0x0101010101010101)
#: ...and the multiplier that gathers those eight bits into the top byte, the first state's bit
#: highest (``np.packbits`` order): each bit lands on bit ``56 + 7 - k`` and nothing else does.
_GATHER = np.uint64(0x8040201008040201)


@nb.njit(cache=True, nogil=True)
def states_into_patterns(states, offset, packed, zero):
    """Write the states ``states[i, h]`` (0 off, 1 on, 2 identically zero; no other value) of
    pieces ``i`` into their packed patterns (``np.packbits`` order) at bit ``offset + h``: on
    into ``packed``, identically zero into ``zero`` (both bits cleared where the state is off).
    In place, one piece at a time: unpacking a first layer's patterns to bytes took as much
    memory again as its pieces.

    The bytes the states fill whole are each written once, from eight states read as one
    uint64: a state's bit 0 says on and its bit 1 identically zero, and one multiplication
    gathers each of the eight bits into a byte (:data:`_GATHER`). Where a layer starts on a byte
    and has a multiple of eight units, and the states are bytes (as the splitting kernel makes
    them), each word is read from the states as it is (every row's states then start eight
    bytes apart); otherwise it is put together byte by byte. The bits of bytes shared with
    other layers are written one by one. (On 120,000 pieces of a 256-unit layer, 12 ms against
    41 ms writing whole bytes state by state.)"""
    H = states.shape[1]
    head = min((8 - (offset & 7)) & 7, H)  # the states before the first whole byte
    whole = (H - head) >> 3
    flat = np.ascontiguousarray(states).reshape(-1)
    aligned = head == 0 and (H & 7) == 0 and states.itemsize == 1
    words = flat[: (flat.shape[0] >> 3) << 3].view(np.uint64)
    for i in range(states.shape[0]):
        for h in range(head):
            _set_state(packed, zero, i, offset + h, states[i, h])
        for b in range(whole):
            h0 = head + 8 * b
            if aligned:
                x = words[(i * H + h0) >> 3]
            else:
                x = np.uint64(0)
                for k in range(8):
                    x |= np.uint64(states[i, h0 + k]) << np.uint64(8 * k)
            packed[i, (offset + h0) >> 3] = np.uint8(((x & _LOW_BITS) * _GATHER) >> np.uint64(56))
            zero[i, (offset + h0) >> 3] = np.uint8((((x >> np.uint64(1)) & _LOW_BITS) * _GATHER) >> np.uint64(56))
        for h in range(head + 8 * whole, H):
            _set_state(packed, zero, i, offset + h, states[i, h])


@nb.njit(inline='always', cache=True, nogil=True)
def _set_state(packed, zero, i, bit, s):
    """Piece ``i``'s bit ``bit``: on in ``packed`` where its state ``s`` is 1, on in ``zero``
    where it is 2, cleared in both where it is 0."""
    byte, mask = bit >> 3, np.uint8(0x80 >> (bit & 7))
    packed[i, byte] = (packed[i, byte] | mask) if s == 1 else (packed[i, byte] & ~mask)
    zero[i, byte] = (zero[i, byte] | mask) if s == 2 else (zero[i, byte] & ~mask)
