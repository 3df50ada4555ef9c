"""Split cells by which argument of a max wins: max-pooling and maxout units, and classes.

On a cell every argument ``z_c`` is affine, so the set where ``c`` wins is the cell cut by the
hyperplanes ``z_c = z_j``: the same kernel and exact sign policy as a ReLU unit's hyperplane,
keeping the piece on the winning side of all of them. Ties everywhere (two arguments equal on
the whole piece) go to the first argument, as in ``numpy.argmax``.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .cells import CellSet
from .split import split

__all__ = ["ArgmaxSplit", "candidates", "split_by_argmax"]

#: What :func:`split_by_argmax` returns: the pieces in parent order, each piece's parent, its
#: winning argument, whether each argument is tied with the winner on the whole piece (the
#: winner itself included when any is), and the number of signs settled exactly.
ArgmaxSplit = namedtuple("ArgmaxSplit", "pieces parent winner tied exact_calls")


def candidates(cells: CellSet, J: np.ndarray) -> np.ndarray:
    """Per cell and argument (``J[c, :, k]`` a row over ``(t, x)``), whether it may win
    somewhere on the cell: not when its largest value at the cell's vertices is below another
    argument's smallest (with a margin for rounding). Cells with rays keep every argument."""
    if not len(cells):
        return np.zeros((0, J.shape[2]), bool)
    g_cell = np.repeat(np.arange(len(cells)), np.diff(cells.gen_off))
    Y = np.einsum("gi,gik->gk", cells.gens, J[g_cell])
    starts = cells.gen_off[:-1]
    top = np.maximum.reduceat(Y, starts, axis=0)
    low = np.minimum.reduceat(Y, starts, axis=0)
    size = np.maximum.reduceat(np.abs(Y), starts, axis=0).max(axis=1, keepdims=True)
    best_low = low.max(axis=1, keepdims=True)
    cand = top >= best_low - 1e-6 * size - 1e-300
    cand[~cells.bounded()] = True
    return cand


def split_by_argmax(cells: CellSet, J, Jabs, ref, tol, tie_ids, make_oracle, want_cons=True, check=None):
    """Split ``cells`` by the winner among the arguments ``J[c, :, k]`` (``Jabs`` their
    magnitudes, as for :func:`~regionenum.cells.split`).

    ``tie_ids(w)`` gives the constraint ids (consecutive) of ``z_w = z_j`` for the other
    arguments ``j`` in order; ``make_oracle(sub, hyp_ids, w)`` the exact oracle for the cells
    ``sub`` cut for winner ``w``; ``check`` as for :func:`~regionenum.engine.split.split`. Returns an
    :data:`ArgmaxSplit`.
    """
    k = J.shape[2]
    n = len(cells)
    if k == 1:
        return ArgmaxSplit(cells, np.arange(n), np.zeros(n, np.int64), np.zeros((n, 1), bool), 0)
    cand = candidates(cells, J)
    counts = cand.sum(axis=1)
    alone = np.flatnonzero(counts == 1)  # one possible winner: it wins everywhere, no cut
    parts, parents = [cells.take(alone)], [alone]
    winners, ties = [np.argmax(cand[alone], axis=1)], [np.zeros((len(alone), k), bool)]
    n_exact = 0
    contested = counts > 1
    for w in range(k):
        todo = np.flatnonzero(cand[:, w] & contested)
        if not len(todo):
            continue
        others = np.delete(np.arange(k), w)
        sub = cells.take(todo)
        Jw = J[todo][:, :, [w]] - J[todo][:, :, others]
        Aw = Jabs[todo][:, :, [w]] + Jabs[todo][:, :, others]
        hyp = tie_ids(w)
        pieces, parent, on, zero, exact = split(sub, Jw, Aw, ref, hyp, tol, make_oracle(sub, hyp, w),
                                                want_cons, check)
        n_exact += exact
        keep = np.flatnonzero((on | (zero & (others > w))).all(axis=1))
        tied = np.zeros((len(keep), k), bool)
        tied[:, others] = zero[keep]
        tied[tied.any(axis=1), w] = True
        parts.append(pieces.take(keep))
        parents.append(todo[parent[keep]])
        winners.append(np.full(len(keep), w))
        ties.append(tied)
    parent = np.concatenate(parents)
    order = np.argsort(parent, kind="stable")
    return ArgmaxSplit(CellSet.concat(parts).take(order), parent[order], np.concatenate(winners)[order],
                       np.concatenate(ties)[order], n_exact)
