"""A Numba kernel that copies cells' blocks of rows between CSR arrays (the rows of cell ``i``
are ``rows[offsets[i]:offsets[i + 1]]``): gathering finished cells from several batches into
one set, in a new order, copies each cell's rows as one contiguous run."""
from __future__ import annotations

import numba as nb

__all__ = ["copy_blocks"]


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
