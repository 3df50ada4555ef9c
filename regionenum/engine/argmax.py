"""Split cells by which argument of a max wins: max-pooling and maxout units, and classes.

On a cell every argument ``z_c`` is affine, so the set where ``c`` wins is the cell cut by the
hyperplanes ``z_c = z_j``: the same kernel and exact sign policy as a ReLU unit's hyperplane,
keeping the piece on the winning side of all of them. Ties everywhere (two arguments equal on
the whole piece) go to the first argument, as in ``numpy.argmax``.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..core.tolerances import U
from .cells import CellSet
from .split import SIGN_STAGES, split

__all__ = ["ArgmaxSplit", "candidates", "split_by_argmax"]

#: What :func:`split_by_argmax` returns: the pieces in parent order, each piece's parent, its
#: winning argument, whether each argument is tied with the winner on the whole piece (the
#: winner itself included when any is), and how many signs each stage decided (as in
#: :data:`~regionenum.engine.split.Split`).
ArgmaxSplit = namedtuple("ArgmaxSplit", "pieces parent winner tied signs")


def candidates(cells: CellSet, J: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Per cell and argument (``J[c, :, k]`` a row over ``(t, x)`` within ``E[c, 0, k]`` of the
    exact one), whether it may win somewhere on the cell. It cannot where even its largest value
    at the cell's vertices, rounded up by the kernel's rigorous error bound, is below another
    argument's smallest, rounded down: a bounded cell is the hull of its vertices, where affine
    functions take their extremes. Cells with rays keep every argument."""
    if not len(cells):
        return np.zeros((0, J.shape[2]), bool)
    g_cell = np.repeat(np.arange(len(cells)), np.diff(cells.gen_off))
    G, Jg = cells.gens, J[g_cell]
    Y = np.einsum("gi,gik->gk", G, Jg)
    gamma = (G.shape[1] + 2) * U / (1 - (G.shape[1] + 2) * U)
    dg = cells.gen_err[:, None]
    err = (gamma * np.einsum("gi,gik->gk", np.abs(G), np.abs(Jg)) + dg * np.abs(Jg).sum(axis=1)
           + (np.abs(G).max(axis=1, keepdims=True) + dg) * E[g_cell, 0, :]) * (1 + 4 * gamma) + 2.0 ** -1000
    err += 2 * U * np.abs(Y)  # and the rounding of Y +- err below
    starts = cells.gen_off[:-1]
    top = np.maximum.reduceat(Y + err, starts, axis=0)
    best_low = np.minimum.reduceat(Y - err, starts, axis=0).max(axis=1, keepdims=True)
    cand = ~(top < best_low)  # NaN keeps the argument
    cand[~cells.bounded()] = True
    return cand


def split_by_argmax(cells: CellSet, J, E, ref, tol, tie_ids, make_oracle, want_cons=True, check=None):
    """Split ``cells`` by the winner among the arguments ``J[c, :, k]`` (``E`` bounds on their
    errors, as for :func:`~regionenum.engine.split.split`).

    ``tie_ids(w)`` gives the constraint ids (consecutive) of ``z_w = z_j`` for the other
    arguments ``j`` in order; ``make_oracle(sub, hyp_ids, w)`` the exact oracle for the cells
    ``sub`` cut for winner ``w``; ``check`` as for :func:`~regionenum.engine.split.split`. Returns an
    :data:`ArgmaxSplit`.
    """
    k = J.shape[2]
    n = len(cells)
    if k == 1:
        return ArgmaxSplit(cells, np.arange(n), np.zeros(n, np.int64), np.zeros((n, 1), bool),
                           np.zeros(len(SIGN_STAGES), np.int64))
    cand = candidates(cells, J, E)
    counts = cand.sum(axis=1)
    alone = np.flatnonzero(counts == 1)  # one possible winner: it wins everywhere, no cut
    parts, parents = [cells.take(alone)], [alone]
    winners, ties = [np.argmax(cand[alone], axis=1)], [np.zeros((len(alone), k), bool)]
    signs = np.zeros(len(SIGN_STAGES), np.int64)
    contested = counts > 1
    for w in range(k):
        todo = np.flatnonzero(cand[:, w] & contested)
        if not len(todo):
            continue
        others = np.delete(np.arange(k), w)
        sub = cells.take(todo)
        Jw = J[todo][:, :, [w]] - J[todo][:, :, others]
        # the difference's error: both arguments' errors and the subtraction's rounding
        Ew = (E[todo][:, :, [w]] + E[todo][:, :, others] + 2 * U * np.abs(Jw).sum(axis=1, keepdims=True)) * (1 + 4 * U)
        hyp = tie_ids(w)
        pieces, parent, on, zero, stages = split(sub, Jw, Ew, ref, hyp, tol, make_oracle(sub, hyp, w),
                                                 want_cons, check)
        signs += stages
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
                       np.concatenate(ties)[order], signs)
