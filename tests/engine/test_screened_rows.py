"""A count's last rows made by a float32 product and screened
(:mod:`regionenum.engine.kernels.screening`): the float32 rounding stays within the bound added
for it, checked against exact sums; counts, and the signs each stage decided, equal those of
float64 rows on random, leaky, badly scaled, unbounded and degenerate networks, with the rows
and bounds the screen leaves unformed set to NaN (so that nothing reads them); the screen decides
most rows' sides; and weights too large for float32 keep the float64 path."""
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.engine import polytope_step
from regionenum.engine.kernels.rows import add_own_terms, unit_error_bounds

WIDE = 256  # the last layer's units (screened here below the default SCREEN_FROM)


def _network(seed, scale=1.0, act="relu", duplicate=False, bias=0.1, first=16, wide_bias=True):
    """``[2, first, WIDE, 1]`` with He weights; the hidden layers' weights times ``scale`` (a power
    of two) and their biases times ``scale`` and ``scale^2``, so that the wide layer's values are
    ``scale^2`` times the unscaled ones and the regions the same; with ``duplicate``, the wide
    layer's first units repeated (coincident hyperplanes, the exact stages' work); without
    ``wide_bias``, the wide layer's biases zero."""
    rng = np.random.default_rng(seed)
    W0, b0 = rng.normal(0, 1, (first, 2)), rng.normal(0, bias, first)
    W1, b1 = rng.normal(0, np.sqrt(2 / first), (WIDE, first)), rng.normal(0, bias, WIDE) * wide_bias
    if duplicate:
        W1[WIDE // 2:], b1[WIDE // 2:] = W1[: WIDE // 2], b1[: WIDE // 2]
    layers = [(W0 * scale, b0 * scale), (W1 * scale, b1 * scale ** 2), (rng.normal(size=(1, WIDE)), np.zeros(1))]
    return rn.Network.from_layers(layers, [act, act, "identity"])


class _Screens:
    """Records the screening kernel's calls (rows given, rows recomputed), checks, on the first
    ``checked`` calls, a sample of the float32 rows against their exact sums, and sets the rows
    and bounds the kernel leaves unformed (those of units with a side) to NaN."""

    def __init__(self, checked=0, seed=0):
        self.calls, self.rows, self.recomputed, self.checked = 0, 0, 0, checked
        self.entries, self.formed = 0, 0
        self.rng = np.random.default_rng(seed)
        self.kernel = polytope_step.screened_rows

    def __call__(self, shared, owner, span, own, weights_T, E, form_E, norm_scale, abs_b, row_gamma, factor,
                 child_floor, unit_floor, row_norms, J, parent, on, off, W, b, *rest):
        if self.calls < self.checked:
            # the children's float32 rows as the kernel makes them, a child at a time: their
            # blocks' products and own terms
            rows32 = np.empty((len(parent),) + shared.shape[1:], np.float32)
            add_own_terms(shared, owner, J, parent, on, off, span, own, weights_T, rows32)
            self.check(rows32, child_floor, unit_floor, row_norms, J, parent, on, off, W, b)
        self.calls += 1
        self.rows += len(parent) * shared.shape[2]
        out, sides = rest[-2:]
        out[...] = np.nan
        if form_E:  # the bounds the kernel forms itself: none to read
            E[...] = np.nan
        got = self.kernel(shared, owner, span, own, weights_T, E, form_E, norm_scale, abs_b, row_gamma, factor,
                          child_floor, unit_floor, row_norms, J, parent, on, off, W, b, *rest)
        if form_E:  # those of the recomputed rows written, as the norm bound's own kernel forms them
            # (to the last bit or two: the screen's compilation may fuse its multiply-add)
            expected = np.empty((len(parent), E.shape[2]))
            unit_error_bounds(expected, norm_scale, row_norms, abs_b, row_gamma, factor, False)
            np.testing.assert_allclose(E[:, 0, :][sides == 0], expected[sides == 0], rtol=2.0 ** -50, atol=0)
            self.formed += 1
        E[:, 0, :][sides != 0] = np.nan
        assert got == np.count_nonzero(sides == 0) and not np.isnan(out[:, 0, :][sides == 0]).any()
        self.recomputed += got
        return got

    def check(self, rows32, child_floor, unit_floor, row_norms, J, parent, on, off, W, b):
        """``sum_k |rows32[i, k, u] - exact_k| <= gamma_(m + 4) (||a_i||_2 row_norms[u] + |b[u]|)
        + unit_floor[u] + child_floor[i]``, the exact rows being the masked parent rows' products
        summed exactly (``a_i`` the child's masked rows' absolute sums over ``k``, ``m`` its
        slopes other than 0, ``gamma`` of float32's unit roundoff)."""
        n, D, units = rows32.shape
        for i in self.rng.choice(n, size=min(n, 4), replace=False):
            slopes = np.where(on[i].astype(bool), 1.0, off)
            a_norm = np.linalg.norm(np.abs(J[parent[i]] * slopes).sum(axis=0))
            terms = np.count_nonzero(slopes) + 4
            rounding = terms * 2.0 ** -24 / (1 - terms * 2.0 ** -24)
            for u in self.rng.choice(units, size=12, replace=False):
                err = Fraction(0)
                for k in range(D):
                    bias = Fraction(float(b[u]) if k == 0 else 0)
                    exact = sum((Fraction(float(J[parent[i], k, j] * s)) * Fraction(float(W[u, j]))
                                 for j, s in enumerate(slopes) if s != 0.0), bias)
                    err += abs(Fraction(float(rows32[i, k, u])) - exact)
                bound = rounding * (a_norm * row_norms[u] + abs(b[u])) + unit_floor[u] + child_floor[i]
                assert err <= Fraction(float(bound)), (i, u, float(err), bound)
                self.entries += 1


def _count(net, domain, monkeypatch, screen=True, checked=0):
    """The count of ``net`` on ``domain`` (a :class:`~regionenum.RegionCount`), its last layer's rows
    screened or not, and the recording of the screening kernel's calls."""
    screens = _Screens(checked)
    with monkeypatch.context() as m:
        m.setattr(polytope_step, "screened_rows", screens)
        m.setattr(polytope_step, "SCREEN_FROM", WIDE if screen else WIDE + 1)
        found = rn.count_regions(net, domain)
    assert found.complete
    return found, screens


SQUARE = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("scale, act", [(1.0, "relu"), (1.0, ("leaky_relu", 0.1)), (2.0 ** -63, "relu"),
                                        (2.0 ** 30, "relu")])
def test_float32_rounding_is_within_its_bound(scale, act, monkeypatch):
    # 2^-63 puts some of the wide layer's products below float32's normal range, 2^30 its sums
    # near 2^60 (both within the 2^64 of magnitude 1 the engine leaves rows as they are); the
    # float32 path is taken in each (the kernel is called)
    n, screens = _count(_network(1, scale, act), SQUARE, monkeypatch, checked=3)
    assert screens.calls > 0 and screens.entries >= 4 * 12


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("kind", ["relu", "leaky", "small", "large", "duplicate", "no bias"])
def test_counts_equal_those_of_float64_rows(kind, seed, monkeypatch):
    net = _network(seed, **{"relu": {}, "leaky": {"act": ("leaky_relu", 0.2)}, "small": {"scale": 2.0 ** -63},
                            "large": {"scale": 2.0 ** 30}, "duplicate": {"duplicate": True},
                            "no bias": {"bias": 0.0}}[kind])
    screened, screens = _count(net, SQUARE, monkeypatch)
    plain, unused = _count(net, SQUARE, monkeypatch, screen=False)
    assert screens.calls > 0 and unused.calls == 0 and screens.formed > 0
    assert screened == plain and screened.sign_stages == plain.sign_stages
    if kind in ("small", "large"):  # a layer scaled by a power of two has the same regions
        assert screened == int(rn.count_regions(_network(seed), SQUARE))


def test_screen_keeps_most_rows_in_float32(monkeypatch):
    # the last layer cuts a child in few units: a few percent of the rows are recomputed
    n, screens = _count(_network(4, first=64), SQUARE, monkeypatch)
    assert screens.rows > 0 and screens.recomputed < 0.1 * screens.rows


def test_unbounded_cells_have_every_row_recomputed(monkeypatch):
    # cells with rays are not taken by the box test: every row is recomputed, the count the same
    half_plane = rn.Polytope(np.array([[-1.0, 0.0]]), np.array([0.0]))  # x >= 0
    net = _network(5)
    screened, screens = _count(net, half_plane, monkeypatch)
    plain, _ = _count(net, half_plane, monkeypatch, screen=False)
    assert screened == plain and screens.calls > 0 and screens.recomputed > 0


def test_weights_too_large_for_float32_keep_float64_rows(monkeypatch):
    # masked rows near 2^60 times weights near 2^60, summed, would near float32's 2^128: the
    # product stays in float64 (rows within 2^64 of magnitude 1 are not rebalanced by the engine)
    net = _network(6, scale=2.0 ** 60, wide_bias=False)
    screened, screens = _count(net, SQUARE, monkeypatch)
    assert screens.calls == 0
    assert screened == int(rn.count_regions(_network(6, wide_bias=False), SQUARE))
