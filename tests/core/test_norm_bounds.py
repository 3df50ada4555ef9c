"""The proven norm bounds behind the engine's per-cell error bounds: never below the norm, on
random, structured, degenerate and badly scaled matrices, and close enough to be useful."""
from fractions import Fraction

import numpy as np
import pytest

from regionenum.core import norm_bounds
from regionenum.core.norm_bounds import abs_norm_bound, row_norm_bounds, spectral_norm_bound

# the SVD's own rounding: the exact largest singular value is within a few ulps of numpy's
SVD_SLACK = 1e-12


def _matrices():
    rng = np.random.default_rng(11)
    yield "square", rng.normal(0.0, 0.06, size=(512, 512))
    yield "tall", rng.normal(size=(300, 7))
    yield "wide", rng.normal(size=(3, 200))
    yield "row", rng.normal(size=(1, 64))
    yield "column", rng.normal(size=(64, 1))
    yield "one entry", np.array([[-3.5]])
    yield "rank one", np.outer(rng.normal(size=40), rng.normal(size=30))
    yield "ones", np.ones((100, 100))
    yield "identity", np.eye(50)
    q, _ = np.linalg.qr(rng.normal(size=(80, 80)))
    yield "nearly equal singular values", q * np.r_[5.0, np.full(79, 4.9999)]
    yield "one column zero", np.c_[rng.normal(size=(20, 5)), np.zeros(20)]
    yield "mixed magnitudes", rng.normal(size=(30, 30)) * 10.0 ** rng.uniform(-5, 5, size=(30, 30))
    for scale in (2.0 ** -1060, 1e-300, 1e-30, 1e30, 1e300):
        yield f"scaled {scale:g}", rng.normal(size=(25, 20)) * scale
    # Gram matrices beyond float32's range, but not scaled before them (entries within 2^+-256),
    # and of an order whose largest eigenvalue is estimated by Lanczos steps in float32
    for scale in (1e-60, 1e60):
        yield f"order 120 scaled {scale:g}", rng.normal(size=(150, 120)) * scale


@pytest.mark.parametrize("name, W", list(_matrices()), ids=[name for name, _ in _matrices()])
def test_spectral_bound_holds_and_is_tight(name, W):
    truth = np.linalg.norm(W, 2)
    bound = spectral_norm_bound(W)
    assert bound >= truth * (1 + SVD_SLACK)
    assert bound <= truth * 1.01  # certified close to the estimate, not the Frobenius fallback


@pytest.mark.parametrize("name, W", list(_matrices()), ids=[name for name, _ in _matrices()])
def test_abs_bound_holds(name, W):
    assert abs_norm_bound(W) >= np.linalg.norm(np.abs(W), 2)  # equal to it for |W| = I or all ones


@pytest.mark.parametrize("name, W", list(_matrices()), ids=[name for name, _ in _matrices()])
def test_row_norm_bounds_hold_exactly_and_are_tight(name, W):
    """Against the exact sums of squares (Fractions) on a few rows of each matrix; within a
    millionth of them except where an absolute term for underflow shows (rows wholly below
    float64's normal range)."""
    bounds = row_norm_bounds(W)
    assert bounds.shape == (W.shape[0],)
    for i in np.linspace(0, W.shape[0] - 1, 6).astype(int):
        exact = sum(Fraction(float(w)) ** 2 for w in W[i])
        assert Fraction(float(bounds[i])) ** 2 >= exact
        if np.abs(W[i]).max() > 1e-290:
            assert Fraction(float(bounds[i])) ** 2 <= exact * Fraction(1 + 1e-6) ** 2


def test_row_norm_bounds_of_extreme_rows():
    tiny = 2.0 ** -1074
    W = np.array([[0.0, 0.0, 0.0], [tiny, tiny, 0.0], [1e300, 1e-300, -3e299], [1.5e308, 1.5e308, 1.5e308],
                  [2.0 ** -1022, -(2.0 ** -1030), 2.0 ** -1060]])
    bounds = row_norm_bounds(W)
    assert bounds[0] == 0.0
    for i in (1, 2, 4):
        assert Fraction(float(bounds[i])) ** 2 >= sum(Fraction(float(w)) ** 2 for w in W[i])
    assert bounds[3] == np.inf  # beyond float64: an infinite bound, never a wrong one
    assert row_norm_bounds(np.zeros((2, 0))).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="not finite"):
        row_norm_bounds(np.array([[1.0, np.nan]]))



@pytest.mark.parametrize("W", [[[1, 1]], [[1], [1]], [[5, 5]], [[3, -7, 1]]])
def test_norm_bounds_of_subnormal_rows(W):
    """A row or column of subnormal entries (multiples of 2^-1074), whose 2-norm is exactly the
    root of its sum of squares: the last scaling and products round absolutely there. Found by a
    review: both bounds gave 1.0 ETA for [[ETA, ETA]], whose norm is 1.414 ETA."""
    W = np.array(W, dtype=np.float64) * 2.0 ** -1074
    exact = sum(Fraction(float(w)) ** 2 for w in W.ravel())
    for bound in (spectral_norm_bound(W), abs_norm_bound(W)):
        assert Fraction(float(bound)) ** 2 >= exact


def test_zero_matrix_and_bad_input():
    assert spectral_norm_bound(np.zeros((3, 4))) == 0.0
    with pytest.raises(ValueError, match="not finite"):
        spectral_norm_bound(np.array([[1.0, np.inf]]))
    with pytest.raises(ValueError, match="matrix"):
        spectral_norm_bound(np.ones(3))


def test_without_a_certificate_the_bound_is_the_frobenius_norm(monkeypatch):
    """When no candidate is certified (here: none is tried) the bound falls back to the
    Frobenius norm, which is never below the spectral norm."""
    monkeypatch.setattr(norm_bounds, "TRIES", 0)
    W = np.random.default_rng(2).normal(size=(40, 40))
    bound = spectral_norm_bound(W)
    assert bound >= np.linalg.norm(W, "fro") * (1 - 1e-12) and bound >= np.linalg.norm(W, 2)


def test_an_estimate_too_low_is_never_certified(monkeypatch):
    """The certificate, not the estimate, makes the bound: an estimate far below the largest
    eigenvalue is raised until the factorisation proves a candidate, which then exceeds it."""
    monkeypatch.setattr(norm_bounds, "_estimate", lambda G: 1e-3)
    W = np.random.default_rng(4).normal(size=(60, 60))
    assert spectral_norm_bound(W) >= np.linalg.norm(W, 2)
