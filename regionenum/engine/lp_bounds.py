"""Bounds that hold whatever the accuracy of the linear programme behind them.

For rows ``g_r(x) = c_r + A_r . x <= 0`` on a cell and any multipliers ``w_r >= 0``, the
function ``F = f + sum_r w_r g_r`` is at most ``f`` on the cell, so its minimum over a box
containing the cell is a lower bound of ``f`` on the cell. A linear programme supplies good
multipliers, but nothing it says is trusted: the bound is evaluated here, in float64, minus a
rigorous bound on its own rounding and on the rows' (each row ``r`` may be off by ``err_r``
anywhere on the box), and, by the verification proofs, in exact rationals. With an
objective ``f = 0`` a positive bound proves the cell empty (a Farkas certificate).
"""
from __future__ import annotations

import numpy as np

from ..core.tolerances import ETA, U
from .kernels.simplex import INFEASIBLE, OPTIMAL, solve_lp, solve_lps

__all__ = ["activation_gains", "box_max", "box_min", "combination_min", "emptiness", "lp_multipliers",
           "magnitudes", "safe_lower_bounds"]


def box_min(A, c, lo, hi):
    """Smallest value of each row of ``A x + c`` over the box ``[lo, hi]`` (float64; callers
    add the rounding bounds of their own rows)."""
    return c + np.minimum(A * lo, A * hi).sum(axis=-1)


def box_max(A, c, lo, hi):
    """Largest value of each row of ``A x + c`` over the box ``[lo, hi]``."""
    return c + np.maximum(A * lo, A * hi).sum(axis=-1)


def activation_gains(network) -> list:
    """Per layer of ``network``, the largest factor by which its activation multiplies a value
    (a LeakyReLU's slope where its size exceeds 1; else 1): the ``gains`` of :func:`magnitudes`."""
    return [max(1.0, abs(layer.activation.off_slope)) for layer in network.layers]


def magnitudes(layers, lo, hi, gains=None):
    """Rounding bounds for quantities computed from a network's layers on the box ``[lo, hi]``.

    Every float64 quantity for unit ``j`` of layer ``k`` that the engine's H-representation step
    and the verification search compute (its affine map on a cell, relaxation bounds, their
    values over the box) is a sum of at most ``3 (L + 1)`` terms no larger than ``mag[k][j]``,
    the unit's value in the *absolute network* (``|W|``, ``|b|``, inputs at their largest
    magnitude, each activation's largest slope; relaxation intercepts at most double each
    layer's), each the end of a chain of sums of at most ``sum(n_k + 8)`` terms in all. Twice
    the resulting relative bound is ``ERR``. Below float64's normal range a product's rounding
    is absolute, up to ``ETA`` (half of it, twice counted), for every one of those operations,
    and for the weights times the slopes (``W * slopes``, then multiplied by the earlier
    layer's quantities, of sizes up to its magnitudes); those losses are carried through the
    later layers like the magnitudes. So ``err[k][j] = ERR * mag[k][j] + floor[k][j]`` bounds
    the rounding of the unit's quantities.

    Parameters
    ----------
    layers : list of (W, b)
    lo, hi : ndarray
    gains : list of float, optional
        Per layer, the largest factor by which its activation multiplies a value (``max(1,
        |alpha|)`` for a LeakyReLU of slope ``alpha``); 1 for every layer if not given.

    Returns
    -------
    mag, err : list of ndarray
    ERR : float
    """
    reach = np.maximum(np.abs(lo), np.abs(hi))
    chain = sum(W.shape[1] + 8 for W, _ in layers) + len(lo) + 8
    operations = 2.0 * 3 * (len(layers) + 1) * chain
    ERR = operations * U
    mag, floor, out, floors = reach, np.zeros_like(reach), [], []
    for k, (W, b) in enumerate(layers):
        gain = 1.0 if k == 0 or gains is None else gains[k - 1]
        weighed = operations * ETA * (1.0 + float(np.sum(mag)))  # before mag is the layer's
        mag = np.abs(W) @ (gain * mag) + np.abs(b)
        floor = np.abs(W) @ (gain * floor) + weighed
        out.append(mag)
        floors.append(floor)
    return out, [ERR * m + f for m, f in zip(out, floors)], ERR


def combination_min(A, c, err, w, lo, hi):
    """A rigorous lower bound of ``min over [lo, hi] of sum_r w_r (A_r x + c_r)`` for rows
    known only up to ``err_r``: ``A`` ``(R, d)``, ``c``, ``err``, ``w >= 0`` ``(R,)``."""
    FA = w @ A
    Fc = w @ c
    value = box_min(FA, Fc, lo, hi)
    reach = np.maximum(np.abs(lo), np.abs(hi))
    size = w @ (np.abs(A) @ reach + np.abs(c))
    rounding = 1.01 * (len(w) + len(lo) + 4) * U * size + _underflow(len(w), reach)
    return value - rounding - w @ err


def lp_multipliers(active, lam, n_rows):
    """The multipliers on the rows (not the box) of :mod:`simplex` answers: ``active`` and
    ``lam`` of shape ``(k, n)`` (or ``(n,)``) to a dense ``(k, n_rows)`` (or ``(n_rows,)``)."""
    one = np.ndim(active) == 1
    active, lam = np.atleast_2d(active), np.atleast_2d(lam)
    W = np.zeros((len(active), n_rows))
    k, i = np.nonzero((active >= 0) & (active < n_rows))
    np.add.at(W, (k, active[k, i]), np.maximum(lam[k, i], 0.0))
    return W[0] if one else W


def safe_lower_bounds(obj, rows, row_err, lo, hi):
    """Rigorous lower bounds of each objective row ``obj[k] = (c, a)`` (``c + a . x``) on the
    cell ``{x in [lo, hi] : rows <= 0}``, from linear programmes; ``+inf`` where the cell is
    proven empty. Rows are ``(R, 1 + d)`` arrays with rounding bounds ``row_err``; objectives
    have no error of their own (add it to the result). Returns the bounds, the minimisers and the
    multipliers behind each bound (a row of zeros: the box alone)."""
    R = len(rows)
    status, X, active, lam, _ = solve_lps(rows[:, 1:], -rows[:, 0], lo, hi, obj[:, 1:])
    W = lp_multipliers(active, lam, R)
    W[(status != OPTIMAL) & (status != INFEASIBLE)] = 0.0
    infeasible = status == INFEASIBLE
    # F_k = obj_k + sum_r W_kr rows_r (the objective left out where the rows are infeasible)
    keep = (~infeasible).astype(np.float64)
    FA = keep[:, None] * obj[:, 1:] + W @ rows[:, 1:]
    Fc = keep * obj[:, 0] + W @ rows[:, 0]
    reach = np.maximum(np.abs(lo), np.abs(hi))
    size = keep * (np.abs(obj[:, 1:]) @ reach + np.abs(obj[:, 0])) + W @ (np.abs(rows[:, 1:]) @ reach
                                                                             + np.abs(rows[:, 0]))
    low = box_min(FA, Fc, lo, hi) - 1.01 * (R + len(lo) + 5) * U * size - W @ row_err - _underflow(R, reach)
    if infeasible.any():  # proven empty where the Farkas combination is positive on the box
        empty = infeasible & (low > 0)
        low = np.where(empty, np.inf, low)
        W[infeasible & ~empty] = 0.0
        redo = infeasible & ~empty
        low[redo] = (box_min(obj[redo, 1:], obj[redo, 0], lo, hi)
                     - 1.01 * (len(lo) + 5) * U * (np.abs(obj[redo, 1:]) @ reach + np.abs(obj[redo, 0]))
                     - _underflow(0, reach))
    return low, X, W


def _underflow(R: int, reach) -> float:
    """A bound on what the products of a combination of ``R`` rows over a box reaching ``reach``
    lose below float64's normal range, where their rounding is absolute (up to ``ETA / 2``
    each): the combined row's entries (``R + 1`` products each), times the box, and the products
    of the multipliers with the rows' error bounds, counted twice."""
    return 2.0 * ETA * ((R + 2) * (1.0 + float(np.sum(reach))) + len(reach) + R + 2)


def emptiness(L, L_err, rows, row_err, lo, hi):
    """Whether ``{x in [lo, hi] : rows <= 0, L_i(x) <= 0 for all i}`` is proven empty.

    Solves ``min t`` subject to ``L_i(x) <= t`` and the rows; the multipliers ``mu`` on the
    ``L_i`` and ``w`` on the rows make ``F = sum mu_i L_i + sum w_r g_r``, which is ``<= 0`` at
    every point of the set; a positive rigorous minimum of ``F`` over the box proves it empty.

    Parameters
    ----------
    L, rows : ndarray, shapes (m, 1 + d) and (R, 1 + d)
        Rows ``c + a . x``.
    L_err, row_err : ndarray
        Their rounding bounds.
    lo, hi : ndarray
        A box containing the cell.

    Returns
    -------
    proven : bool
    bound : float
        The rigorous minimum of ``F`` (positive when proven).
    t : float
        The programme's optimum (``<= 0``: the set is probably not empty).
    x : ndarray
        The programme's minimiser (a point where every ``L_i`` is at most ``t``).
    mu, w : ndarray
        The multipliers.
    """
    m, R, d = len(L), len(rows), len(lo)
    t_lo = box_min(L[:, 1:], L[:, 0], lo, hi).min() - 1.0
    t_hi = (L[:, 0] + np.maximum(L[:, 1:] * lo, L[:, 1:] * hi).sum(axis=1)).max() + 1.0
    G = np.zeros((m + R, d + 1))
    G[:m, :d] = L[:, 1:]
    G[:m, d] = -1.0
    G[m:, :d] = rows[:, 1:]
    h = -np.concatenate([L[:, 0], rows[:, 0]])
    c = np.zeros(d + 1)
    c[d] = 1.0
    res = solve_lp(G, h, np.append(lo, t_lo), np.append(hi, t_hi), c)
    w_all = lp_multipliers(res.active, res.lam, m + R)
    mu, w = w_all[:m], w_all[m:]
    t = res.x[d] if res.status == OPTIMAL else (np.inf if res.status == INFEASIBLE else -np.inf)
    if not w_all.any():
        return False, -np.inf, t, res.x[:d], mu, w
    bound = combination_min(np.vstack([L[:, 1:], rows[:, 1:]]), np.concatenate([L[:, 0], rows[:, 0]]),
                            np.concatenate([L_err, row_err]), w_all, lo, hi)
    return bool(bound > 0), bound, t, res.x[:d], mu, w
