"""A Numba kernel that guesses how many hyperplanes cut the worst cell of a batch, from the signs
of their float64 values at the cells' generators: the engine splits a batch in stages when one
cell would be cut into too many pieces at once, and asks this first (a guess, never a sign any
result reads)."""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["most_crossed"]


@nb.njit(cache=True, nogil=True)
def most_crossed(gen_off, gens, J, sides):
    """The most hyperplanes crossing one cell: for cells whose homogeneous generators are
    ``gens[gen_off[i]:gen_off[i + 1]]`` and whose hyperplanes are the columns of ``J[i]`` (rows
    over ``(t, x)``), the largest count, over the cells, of columns with a positive and a
    negative value at the cell's generators and no zero. A hyperplane through a generator is
    left out: its sign there is settled in exact arithmetic, once per piece that has the
    generator, so a split in stages would ask it again for each stage's pieces (a bias-free
    layer's lines all pass through the origin). A hyperplane with a known side of the cell
    (``sides[i, j]`` not 0; int8, or no rows: none known) is not counted, nor its row read as a
    number (it may not be formed, see :data:`~regionenum.engine.kernels.splitting.Hyperplanes`)."""
    most = 0
    h = J.shape[2]
    above = np.empty(h, np.bool_)
    below = np.empty(h, np.bool_)
    on = np.empty(h, np.bool_)
    v = np.empty(h)
    for i in range(gen_off.shape[0] - 1):
        above[:] = False
        below[:] = False
        on[:] = False
        for g in range(gen_off[i], gen_off[i + 1]):
            v[:] = 0.0
            for k in range(J.shape[1]):
                c = gens[g, k]
                for j in range(h):
                    v[j] += c * J[i, k, j]
            for j in range(h):
                above[j] |= v[j] > 0.0
                below[j] |= v[j] < 0.0
                on[j] |= v[j] == 0.0
        crossed = 0
        for j in range(h):
            known = sides.shape[0] > 0 and sides[i, j] != 0
            crossed += above[j] and below[j] and not on[j] and not known
        most = max(most, crossed)
    return most
