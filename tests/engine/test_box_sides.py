"""The splitting kernel's bounding-box test (``_box_sides``) against the test it stands for:
wherever it decides a hyperplane's side of a cell, the test at each generator (``_values``:
every value beyond its threshold) finds every generator on that side; and it decides most of
the hyperplanes far from the cell. In two inputs its sums are formed a hyperplane at a time, in
three a coordinate at a time: both are checked, on small and large, offset and badly scaled
cells, rows with and without error bounds."""
import numba as nb
import numpy as np
import pytest

from regionenum.engine.kernels.splitting import _box_sides, _values

TOL = 1e-9


@nb.njit(cache=False)
def _box(px, pdg, J, errors, ref, tol):
    """``_box_sides`` of the cell ``px`` (all its generators) and the rows ``J[0]``."""
    D, H = px.shape[1], J.shape[2]
    whole, live = np.empty(H, np.int8), np.empty(H, np.int64)
    _box_sides(px, pdg, px.shape[0], J, errors, 0, ref, tol, np.empty(D), np.empty(D), np.empty(D),
               np.empty((6, H)), whole, live)
    return whole


@nb.njit(cache=False)
def _at_generators(px, pdg, rows, errors, ref, tol):
    """``_values`` at every generator: the values and their thresholds."""
    n, H = px.shape[0], rows.shape[1]
    v, e, t = np.empty((n, H)), np.empty((n, H)), np.empty((n, H))
    _values(px, pdg, 0, n, rows, errors, False, H, ref, tol, v, e, t, np.empty(H))
    return v, t


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("centre, size, scale", [(0.0, 1e-3, 1.0), (5.0, 1e-6, 1.0), (0.0, 0.5, 1.0),
                                                 (1e3, 1e-5, 2.0 ** 40), (0.0, 1e-4, 2.0 ** -40)])
def test_box_decides_only_what_every_generator_decides(d, centre, size, scale):
    rng = np.random.default_rng(d)
    decided = tested = 0
    for _ in range(40):
        n = int(rng.integers(d + 1, 9))
        px = np.column_stack([np.ones(n), centre + size * rng.uniform(-1, 1, (n, d))])
        pdg = rng.choice([0.0, 1e-17, size * 1e-12], n)
        H = 64
        J = np.empty((1, d + 1, H))
        J[0, 1:] = scale * rng.normal(size=(d, H))
        # offsets putting the hyperplanes at distances of 0 to 30 cell sizes from the cell
        far = rng.uniform(-30, 30, H) * size * np.abs(J[0, 1:]).sum(axis=0)
        J[0, 0] = -(J[0, 1:].T @ np.full(d, centre)) + far
        errors = rng.choice([0.0, 1e-16, 1e-9], H)[None, None, :] * np.abs(J).sum(axis=1, keepdims=True)
        whole = _box(px, pdg, J, errors, 1.0, TOL)
        v, t = _at_generators(px, pdg, J[0], errors[0, 0], 1.0, TOL)
        above, below = (v > t).all(axis=0), (v < -t).all(axis=0)
        assert np.all(above[whole == 1]) and np.all(below[whole == -1])
        decided += np.count_nonzero(whole)
        tested += np.count_nonzero(above | below)
    assert tested > 1000 and decided > 0.5 * tested
