"""Numba kernels that move cells' data between arrays without temporaries as large as the
data: blocks of rows between CSR arrays (the rows of cell ``i`` are
``rows[offsets[i]:offsets[i + 1]]``; gathering finished cells from several batches into one
set, in a new order, copies each cell's rows as one contiguous run), and a split's states into
its pieces' packed patterns."""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["copy_blocks", "states_into_patterns"]


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
def states_into_patterns(states, offset, packed, zero):
    """Write the states ``states[i, h]`` (0 off, 1 on, 2 identically zero) of pieces ``i``
    into their packed patterns (``np.packbits`` order) at bit ``offset + h``: on into
    ``packed``, identically zero into ``zero`` (both bits cleared where the state is off).
    In place, one piece at a time: unpacking a first layer's patterns to bytes took as much
    memory again as its pieces."""
    one = np.uint8(1)
    for i in range(states.shape[0]):
        for h in range(states.shape[1]):
            bit = offset + h
            byte, mask = bit >> 3, np.uint8(0x80 >> (bit & 7))
            s = states[i, h]
            packed[i, byte] = (packed[i, byte] | mask) if s == one else (packed[i, byte] & ~mask)
            zero[i, byte] = (zero[i, byte] | mask) if s == 2 else (zero[i, byte] & ~mask)
