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
    memory again as its pieces. The bytes the states fill whole are each written once, from
    eight states (about five times as fast as bit by bit on layers of 32 to 256 units); the
    bits of bytes they share with other layers one by one."""
    H = states.shape[1]
    head = min((8 - (offset & 7)) & 7, H)  # the states before the first whole byte
    whole = (H - head) >> 3
    for i in range(states.shape[0]):
        for h in range(head):
            _set_state(packed, zero, i, offset + h, states[i, h])
        for b in range(whole):
            h0 = head + 8 * b
            on, zeros = np.uint8(0), np.uint8(0)
            for k in range(8):
                s = states[i, h0 + k]
                on = (on << np.uint8(1)) | np.uint8(s == 1)
                zeros = (zeros << np.uint8(1)) | np.uint8(s == 2)
            packed[i, (offset + h0) >> 3] = on
            zero[i, (offset + h0) >> 3] = zeros
        for h in range(head + 8 * whole, H):
            _set_state(packed, zero, i, offset + h, states[i, h])


@nb.njit(inline='always', cache=True, nogil=True)
def _set_state(packed, zero, i, bit, s):
    """Piece ``i``'s bit ``bit``: on in ``packed`` where its state ``s`` is 1, on in ``zero``
    where it is 2, cleared in both where it is 0."""
    byte, mask = bit >> 3, np.uint8(0x80 >> (bit & 7))
    packed[i, byte] = (packed[i, byte] | mask) if s == 1 else (packed[i, byte] & ~mask)
    zero[i, byte] = (zero[i, byte] | mask) if s == 2 else (zero[i, byte] & ~mask)
