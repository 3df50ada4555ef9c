"""Proven upper bounds on a matrix's norms, for rounding-error bounds through many layers.

The engine bounds the error of a cell's hyperplane rows unit by unit, through ``|W|``: an error
vector ``e`` becomes at most ``|W| |e|`` in the next layer. That is tight for one layer but grows
like the weights' absolute row sums per layer (about 28 on the standard suite's 512-wide net,
half that with half the units off), while an actual error vector grows like ``||W e||_2 <=
||W||_2 ||e||_2`` (2.8 there): after eight layers the first bound is hundreds of times the
second. So the engine carries both
and takes the smaller (:meth:`~regionenum.engine.polytope_step.PolytopeStep.next_layer_rows`),
and needs proven upper bounds on ``||W||_2`` (:func:`spectral_norm_bound`) and ``|| |W| ||_2``
(:func:`abs_norm_bound`).

The spectral bound is certified, not estimated: a number ``c`` close to the largest eigenvalue
of the Gram matrix ``G = W^T W`` (from a few Lanczos steps) is proven to exceed it when the
Cholesky factorisation of ``c I - G`` in float64 runs to completion. By Demmel's bound (Higham,
Accuracy and Stability of Numerical Algorithms, 10.1) the computed factor ``R`` then satisfies
``R^T R = B + dB`` with ``|dB| <= gamma_{k+1} |R^T| |R|``, hence ``||dB||_2 <= gamma_{k+1} tr(B) /
(1 - gamma_{k+1})``, so ``B`` has no eigenvalue below ``-||dB||_2``; the rounding of ``G`` itself
is at most ``gamma_m |W|^T |W|``, of 2-norm at most ``gamma_m ||W||_F^2``. A matrix whose
largest entry is beyond ``2^+-256`` is first scaled by a power of two (exactly) so that it is
about 1, and absolute terms cover underflow. If no ``c`` is certified the bound falls back to the Frobenius norm.
"""
from __future__ import annotations

import numpy as np

from .cholesky import has_cholesky_factor
from .tolerances import ETA, U, gamma

__all__ = ["abs_norm_bound", "norms_from_squares", "row_norm_bounds", "row_norms_of", "spectral_norm_bound"]

#: Relative slack added to every bound for the rounding of the few float operations that form it
#: (each a handful of sums and products of non-negative numbers, far below this).
SLACK = 2.0 ** -40
#: An absolute term per entry touched, covering underflow (a product below float64's normal range
#: rounds by at most ``2**-1074``, absolutely). The largest entry is at least ``2**-257`` after
#: scaling, so the largest eigenvalue is at least ``2**-514``: this costs nothing in precision.
TINY = 2.0 ** -1000
#: Lanczos steps for the estimate, and tries (each raising the candidate) before falling back.
#: Random layers' top eigenvalues crowd together: 20 steps left one of the suite's 512 x 512
#: layers 1.2% low (two failed factorisations), 30 steps every one within 0.02%.
STEPS, TRIES = 30, 10
#: Gram matrices of at most this order get their largest eigenvalue estimated by LAPACK's full
#: symmetric eigensolver instead: on small ones the Lanczos steps' Python overhead is the cost
#: (0.2 ms on a 32 x 32 layer against 0.03 ms; about even at 100).
DIRECT = 96


def spectral_norm_bound(W) -> float:
    """A proven upper bound on ``||W||_2``, the largest singular value of the float64 matrix ``W``
    (see the module's description), within a few per cent of it.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Finite float64 entries.

    Returns
    -------
    float
        An upper bound (0.0 for a matrix of zeros).
    """
    W = _finite_matrix(W)
    top = max(W.max(initial=0.0), -W.min(initial=0.0))  # the largest |entry|, without a copy of |W|
    if top == 0.0:
        return 0.0
    shift = int(np.frexp(top)[1])  # |W| 2**-shift < 1, its largest entry at least 1/2
    if abs(shift) <= 256:  # no overflow or underflow to fear: scaling would change nothing but time
        shift = 0
    S = np.ldexp(W, -shift) if shift else W
    if S.shape[0] < S.shape[1]:
        S = S.T  # the smaller Gram matrix: ||W||_2 = ||W^T||_2
    m, k = S.shape
    G = S.T @ S
    frobenius2 = float(np.einsum("ij,ij->", S, S)) * (1.0 + gamma(S.size + 1)) + S.size * TINY
    g_error = gamma(m) * frobenius2 + k * m * TINY  # ||fl(G) - S^T S||_2
    lam = _certified_top(G, _estimate(G), g_error)
    if lam is None:  # no certificate: the largest eigenvalue is at most the trace
        lam = frobenius2
    return float(np.ldexp(np.sqrt(lam * (1.0 + SLACK)) * (1.0 + SLACK), shift)) + ETA  # the scaling may round


def abs_norm_bound(W) -> float:
    """A proven upper bound on ``|| |W| ||_2``, the largest singular value of the entrywise absolute
    value of ``W``: ``sqrt(||W||_1 ||W||_inf)``, the largest column and row sums of ``|W|``
    (close to it for dense matrices, whose ``|W|`` is dominated by one positive singular vector).

    Parameters
    ----------
    W : array_like, shape (m, n)
        Finite float64 entries.
    """
    A = np.abs(np.asarray(W, dtype=np.float64))
    if A.size == 0:
        return 0.0
    rows = A.sum(axis=1).max() * (1.0 + gamma(A.shape[1] + 1))
    cols = A.sum(axis=0).max() * (1.0 + gamma(A.shape[0] + 1))
    # + 2 ETA: below float64's normal range the product and the slack's product round absolutely
    return float(np.sqrt(rows) * np.sqrt(cols) * (1.0 + SLACK)) + 2 * ETA


def row_norm_bounds(W) -> np.ndarray:
    """Proven upper bounds on the 2-norm of every row of ``W``.

    A row whose largest entry lies beyond ``2^+-256`` is scaled by a power of two so that it lies
    in ``[1/2, 1)``: its sum of squares is then at least ``1/4`` and cannot overflow (the other
    rows' lie between ``2^-514`` and ``n 2^512``, far from both ends of float64's range). A square
    or scaled entry below float64's normal range rounds by at most ``2^-1074`` absolutely;
    everything else by the standard relative bound on a sum of non-negative terms.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Finite float64 entries.

    Returns
    -------
    ndarray, shape (m,)
        An upper bound per row (0.0 for a row of zeros, ``inf`` where the norm exceeds
        float64's range).
    """
    W = _finite_matrix(W)
    if W.size == 0:
        return np.zeros(W.shape[0])
    top = np.maximum(W.max(axis=1), -W.min(axis=1))  # the largest |entry| per row, without a copy of |W|
    shift = np.frexp(top)[1]  # 0 for a row of zeros
    shift[np.abs(shift) <= 256] = 0  # no overflow or underflow to fear: scaling would change nothing but time
    S = np.ldexp(W, -shift[:, None]) if shift.any() else W  # (signs do not matter: squares are summed)
    n = W.shape[1]
    squares = np.einsum("ij,ij->i", S, S) * (1.0 + gamma(n + 2)) + 2 * n * ETA
    with np.errstate(over="ignore"):  # a norm beyond float64 is bounded by infinity
        out = np.ldexp(np.sqrt(squares) * (1.0 + SLACK), shift)
    return np.where(top > 0, out + ETA, 0.0)  # + ETA: the last scaling may round


def _finite_matrix(W) -> np.ndarray:
    """``W`` as a float64 matrix; ValueError unless it is one with finite entries."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be a matrix, got shape {W.shape}")
    if not np.isfinite(W).all():
        raise ValueError("W has entries that are not finite")
    return W


def _estimate(G: np.ndarray) -> float:
    """The largest Ritz value of a few Lanczos steps (fully reorthogonalised) on ``G``
    (symmetric, positive semidefinite): an estimate of its largest eigenvalue from below, much
    closer than power iteration when the top eigenvalues are close together; on small ``G``
    (order up to :data:`DIRECT`) LAPACK's, within rounding of it. Only an estimate: the
    factorisation of :func:`_certified_top` proves the bound. So the steps' products with ``G``
    are in float32, on a copy scaled by a power of two to its largest diagonal entry (the
    largest entry of a semidefinite matrix): half the memory to read, half the time of the
    steps, and the same estimates to within 2e-8 on the layers of the suite."""
    k = G.shape[0]
    if k <= DIRECT:
        try:
            return float(np.linalg.eigvalsh(G)[-1])
        except np.linalg.LinAlgError:  # LAPACK did not converge: the Lanczos steps never fail
            pass
    shift = int(np.frexp(max(float(G.diagonal().max()), TINY))[1])
    single = np.multiply(G, np.ldexp(1.0, -shift), out=np.empty(G.shape, np.float32), casting="same_kind")
    steps = min(k, STEPS)
    Q = np.zeros((steps, k))
    q = np.ones(k) + np.linspace(0.0, 0.5, k)  # not orthogonal to a dense top vector
    Q[0] = q / np.linalg.norm(q)
    alpha, beta = [], []
    for j in range(steps):
        w = (single @ Q[j].astype(np.float32)).astype(np.float64)
        alpha.append(float(Q[j] @ w))  # the Rayleigh quotient, from the one product of the step
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)  # against every earlier vector (twice is enough)
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        size = float(np.linalg.norm(w))
        if j + 1 == steps or size <= 1e-6 * max(abs(alpha[-1]), 1e-300):  # (float32's products)
            break
        beta.append(size)
        Q[j + 1] = w / size
    T = np.diag(alpha) + np.diag(beta[: len(alpha) - 1], 1) + np.diag(beta[: len(alpha) - 1], -1)
    return float(np.ldexp(np.linalg.eigvalsh(T)[-1], shift))


def _certified_top(G: np.ndarray, estimate: float, g_error: float) -> float | None:
    """A proven upper bound on the largest eigenvalue of the exact Gram matrix, which is within
    ``g_error`` (2-norm) of ``G``: the first of a few increasing candidates for which ``c I - G``
    has a float64 Cholesky factor (see the module's description); None if none has."""
    k = G.shape[0]
    scale = max(float(np.abs(np.diag(G)).max()), TINY)
    if not (np.isfinite(estimate) and np.isfinite(G).all()):  # LAPACK's factorisation "succeeds" on NaN
        return None
    B = np.empty_like(G)
    for i in range(TRIES):
        c = max(estimate, 0.0) * (1.0 + 0.001 * 2 ** i) + 1e-9 * scale
        np.negative(G, out=B)
        B.flat[:: k + 1] += c
        # numpy's LAPACK: SciPy's bundles a second BLAS, whose threads then wait on numpy's
        if not has_cholesky_factor(B):  # not positive definite in float64
            continue
        diag = c - np.diag(G)  # B's diagonal
        g = gamma(2 * (k + 1))  # Demmel's gamma_{k+1}, doubled as slack for blocked orders
        db = g / (1.0 - g) * float(np.abs(diag).sum()) + (k + 1) ** 2 * TINY
        rounding = 2.0 * U * float(np.abs(diag).max())  # c - G_ii rounded once
        return (c + db + rounding + g_error) * (1.0 + SLACK)
    return None


def row_norms_of(X) -> np.ndarray:
    """Upper bounds on the 2-norms of the rows of ``X`` from their float64 sums of squares
    (:func:`norms_from_squares`; ``inf`` where a sum overflows): for values in float64's middle
    range, where :func:`row_norm_bounds` would scale for nothing."""
    return norms_from_squares(np.einsum("ij,ij->i", X, X), X.shape[1])


def norms_from_squares(squares, n: int) -> np.ndarray:
    """Upper bounds on 2-norms from their float64 sums of ``n`` squares: the sum rounds by at
    most ``gamma_(n+2)`` relatively (with the root, ``gamma_(n+4)``), and squares below
    float64's range lose at most ``n eta``."""
    return np.sqrt(squares) * (1.0 + gamma(n + 4)) + np.sqrt(n) * 2.0 ** -537
