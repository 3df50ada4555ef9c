"""Rows in two parts (:mod:`regionenum.engine.two_part`): the product's proven bound holds against
exact rational arithmetic, on rows of every scale, with and without low parts; the run's rows in
two parts give the same regions as rows in one part, with fewer signs left to exact arithmetic
on deep networks."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.core.exact import ExactNetwork
from regionenum.engine import polytope_step
from regionenum.engine.driver import Tally
from regionenum.engine.polytope_step import Rows
from regionenum.engine.two_part import SCALE_LIMIT, SlicedColumns, absolute_term, slice_bits, two_part_product
from tests.engine.test_row_bounds import (
    _assert_bounds_hold,
    _assert_layer_bounds_hold,
    _float_rows,
    _network,
    _pattern,
)
from tests.oracles import lp_regions


def _batch(rng, parents, D, width, spread):
    """Parents' rows of sizes spread over ``exp(N(0, spread))``, some columns and rows zero."""
    J = rng.normal(size=(parents, D, width)) * np.exp(rng.normal(0, spread, size=(parents, D, width)))
    J[:, :, rng.integers(0, width)] = 0.0
    J[0, 1:] = 0.0
    return J


def _assert_within_bound(J, lo, parent, on, off, B):
    """The product in two parts of the children's masked rows (and low parts) with ``B`` is
    within its bound of the exact product (Fractions), its low parts below ``u`` of its high
    parts; returns the largest bound relative to the sum of the terms' sizes."""
    D, width = J.shape[1], J.shape[2]
    columns = SlicedColumns(B)
    hi, low, factor = two_part_product(J, lo, parent, on, off, columns,
                                       np.empty(len(parent) * D * 4 * (width + 1)))
    assert np.all(np.abs(low) <= 2.0 ** -53 * np.abs(hi))
    worst = 0.0
    for i, p in enumerate(parent):
        s = [Fraction(1) if u else Fraction(off) for u in on[i]]
        for k in range(D):
            a = [Fraction(x) * y for x, y in zip(J[p, k], s)] + [Fraction(1 if k == 0 else 0)]
            if lo is not None:
                a = [x + Fraction(y) * z for x, y, z in zip(a, list(lo[p, k]) + [0.0], s + [0])]
            for o in range(B.shape[1]):
                exact = sum(x * Fraction(y) for x, y in zip(a, B[:, o]))
                error = abs(Fraction(hi[i, k, o]) + Fraction(low[i, k, o]) - exact)
                bound = Fraction(factor[i, k] * columns.scale[o])
                if factor[i, k] and columns.scale[o]:
                    bound += Fraction(absolute_term(width + 1))
                assert error <= bound
                size = sum(abs(x * Fraction(y)) for x, y in zip(a, B[:, o]))
                if size:
                    worst = max(worst, float(bound / size))
    return worst


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("off", [0.0, 1.0, 0.1, 0.01, 1 / 3, -0.5, 3.0])
def test_product_is_within_its_bound_of_the_exact_product(seed, off):
    """Slopes 0 and 1 leave the masked rows exact; leaky slopes' products are split in two
    exact parts, their low parts rounded within the bound."""
    rng = np.random.default_rng(seed)
    D, width, m = 3, int(rng.integers(1, 40)), int(rng.integers(1, 7))
    spread = [0.0, 1.0, 6.0][seed % 3]
    J = _batch(rng, 3, D, width, spread)
    # low parts as the engine makes them (below u |J|), or far larger (any low parts are summed)
    large_lo = seed % 4 == 2
    lo = None if seed % 2 else J * rng.normal(size=J.shape) * 2.0 ** (-20 if large_lo else -53)
    B = rng.normal(size=(width + 1, m)) * np.exp(rng.normal(0, spread, size=(width + 1, m)))
    B[:, 0] = 0.0 if m > 1 else B[:, 0]
    parent = rng.integers(0, 3, size=8)
    on = rng.random((8, width)) < 0.5
    worst = _assert_within_bound(J, lo, parent, on, off, B)
    if spread == 0.0 and not large_lo:  # rows of one scale: the bound some thirty bits below float64's
        assert worst < 2.0 ** -75


@pytest.mark.parametrize("off", [0.0, 1 / 3])
@pytest.mark.parametrize("case", ["wide", "edge of the range", "subnormal low parts", "ties", "full slices",
                                  "subnormal products"])
def test_product_bound_holds_at_the_edges(case, off):
    """Widths where the slices' bits change (300 units: 21 bits), rows and columns at the edge
    of the range the slices allow, low parts below float64's normal range, entries halfway
    between grid points (the slices' ties), entries just below a power of two (a first slice
    of ``2^tau`` grid steps), and entries whose products with a leaky slope fall below float64's
    normal range (where Dekker's split is not exact)."""
    rng = np.random.default_rng(7)
    width = 300 if case == "wide" else 12
    J = rng.normal(size=(2, 3, width))
    B = rng.normal(size=(width + 1, 3))
    lo = None
    if case == "edge of the range":
        J *= 2.0 ** (SCALE_LIMIT - 3)
        B *= 2.0 ** -(SCALE_LIMIT - 3)
        B[:, 1] *= 2.0 ** (2 * SCALE_LIMIT - 6)
    elif case == "subnormal low parts":
        lo = rng.normal(size=J.shape) * 2.0 ** -1060
    elif case == "ties":
        tau = slice_bits(width + 1)
        J = np.round(J * 2.0 ** tau) / 2.0 ** tau + 2.0 ** -(tau + 1)  # halfway on the first grid
    elif case in ("full slices", "wide"):
        J = np.where(rng.random(J.shape) < 0.5, 1.0 - 2.0 ** -53, -(1.0 - 2.0 ** -40))
    else:
        J *= 2.0 ** -rng.integers(1000, 1075, size=J.shape).astype(float)
        J[:, :, 0] = 1.0
        lo = rng.normal(size=J.shape) * 2.0 ** -1050
    on = rng.random((4, width)) < 0.7
    assert slice_bits(width + 1) == (21 if case == "wide" else 24)
    _assert_within_bound(J, lo, np.array([0, 0, 1, 1]), on, off, B)


@pytest.mark.parametrize("off", [0.1, 0.25])
@pytest.mark.parametrize("in_low_parts", [False, True])
def test_rows_whose_products_fall_to_zero_keep_a_bound(off, in_low_parts):
    """A leaky slope times entries (or low parts) of ``2^-1074`` gives products that round to
    zero: the row is not exactly zero, and its bound must cover what was lost."""
    J = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    tiny = np.array([[[0.0, 0.0], [2.0 ** -1074] * 2]])
    lo = tiny if in_low_parts else None
    if not in_low_parts:
        J = J + tiny
    hi, low, factor = two_part_product(J, lo, np.array([0]), np.zeros((1, 2), bool), off,
                                       SlicedColumns(np.ones((3, 1))), np.empty(2 * 4 * 3))
    assert factor[0, 1] > 0
    _assert_within_bound(J, lo, np.array([0]), np.zeros((1, 2), bool), off, np.ones((3, 1)))


def test_rows_that_are_not_finite():
    """An entry that is not finite on a unit whose slope is 0 is masked away (its product would
    be NaN), as in one part; one on a unit that is on, or off with a leaky slope (the entry or
    its low part), leaves the product to one part (None)."""
    columns = SlicedColumns(np.ones((4, 2)))
    parent, off_unit = np.zeros(1, np.int64), np.array([[True, False, True]])
    for bad in (np.inf, np.nan):
        J = np.ones((1, 2, 3))
        J[0, :, 1] = bad
        low = np.where(np.isfinite(J), 1e-20, bad)
        hi, lo, factor = two_part_product(J, low, parent, off_unit, 0.0, columns, np.empty(2 * 16))
        assert np.isfinite(hi).all() and np.isfinite(lo).all() and np.isfinite(factor).all()
        assert two_part_product(J, None, parent, np.ones((1, 3), bool), 0.0, columns, np.empty(2 * 16)) is None
        # a leaky slope keeps the unit: its entry or low part, not finite, leaves the product to one part
        assert two_part_product(J, low, parent, off_unit, 0.1, columns, np.empty(2 * 16)) is None
        assert two_part_product(np.ones((1, 2, 3)), low, parent, off_unit, 0.1, columns, np.empty(2 * 16)) is None


def test_slices_leave_the_safe_range_to_one_part():
    B = np.ones((4, 2))
    B[0, 0] = 2.0 ** (SCALE_LIMIT + 1)
    assert not SlicedColumns(B).fits
    columns = SlicedColumns(np.ones((4, 2)))
    parent, on = np.zeros(1, np.int64), np.ones((1, 3), bool)
    J = np.ones((1, 2, 3))
    assert two_part_product(J, None, parent, on, 0.0, columns, np.empty(2 * 16)) is not None
    J[0, 1] = 2.0 ** -(SCALE_LIMIT + 2)  # the x row's scale (the t row has the bias's 1)
    assert two_part_product(J, None, parent, on, 0.0, columns, np.empty(2 * 16)) is None


def test_slice_bits_keep_two_products_of_slices_exact():
    for terms in (1, 2, 33, 513, 4097):
        tau = slice_bits(terms)
        assert 2 * tau + np.log2(2 * terms) <= 53 < 2 * (tau + 1) + np.log2(2 * terms)


@pytest.mark.parametrize("kind", ["relu", "scaled", "mixed", "deep", "linear", "no bias", "leaky", "steep",
                                  "negative", "deep leaky"])
def test_rows_in_two_parts_hold_against_exact_rows(kind):
    """Every unit's bound on rows in two parts, on three cells, at every layer, against the exact
    rows (Fractions): on deep, badly scaled (layers by powers of two up to 2^+-40) and
    mixed-magnitude networks, one with a linear hidden layer (slope 1), one without biases
    (exact ``t`` rows), and leaky slopes (0.1, 3 and -0.5, whose products round in one part).
    Where the rows are in one part's range, the bound at the last hidden layer is more than 2^25
    times below one part's."""
    if kind in ("relu", "scaled", "mixed", "leaky", "steep", "negative"):
        net = _network(kind, seed=5)
    elif kind == "deep":
        net = _network("relu", 1, depth=14, width=16)
    elif kind == "deep leaky":
        net = _network("leaky", 1, depth=14, width=16)
    elif kind == "linear":
        rng = np.random.default_rng(3)
        layers = [(rng.normal(size=(20, 2)), rng.normal(size=20)),
                  (rng.normal(size=(20, 20)) / 4, rng.normal(size=20)),
                  (rng.normal(size=(20, 20)) / 4, rng.normal(size=20)), (rng.normal(size=(1, 20)), np.zeros(1))]
        net = rn.Network.from_layers(layers, ["relu", "identity", "relu", "identity"])
    else:
        net = _network("relu", 1, depth=6, width=20, bias=0.0)
    exact = ExactNetwork(net)
    for x in np.random.default_rng(1).uniform(-1, 1, size=(3, 2)):
        bits = _pattern(net, x)
        two = _float_rows(net, bits, two_parts=True)
        _assert_bounds_hold(exact, bits, two)
        for l, (J, bound, *lo) in enumerate(two):  # and the high parts alone, as the kernel reads them
            if lo and lo[0] is not None:
                alone = Rows(J[None], bound[None, None], np.zeros(1), lo[0][None]).one_part()
                _assert_layer_bounds_hold(exact, bits, l, J, alone.E[0, 0])
        if kind != "scaled":
            assert all(lo is not None for *_, lo in two[1:])
            one = _float_rows(net, bits)
            assert np.all(two[-2][1] <= one[-2][1] * 2.0 ** -25)


def _patterns(result):
    return sorted(tuple(bool(v) for v in p) for p in result.patterns)


@pytest.mark.parametrize("net, box", [
    (_network("relu", 1, depth=24, width=24), 0.1),  # one part leaves 107 signs to exact arithmetic, two none
    (_network("relu", 4, depth=12, width=6), 1.0),
    (_network("relu", 5, depth=8, width=6, bias=0.0), 1.0),  # every hyperplane through the origin
    (_network("relu", 6, depth=6, width=6, bias=3.0), 2.0),  # units dead on much of the box
    (_network("leaky", 2, depth=20, width=20), 0.2),  # leaky slopes: one part leaves signs to exact arithmetic
    (_network("negative", 4, depth=8, width=6), 1.0),
])
def test_two_parts_give_the_regions_of_one(net, box, monkeypatch):
    """The same regions (patterns) and counts with rows in two parts as in one, the regions'
    volumes summing to the box's; on the deep network the float64 filter decides every sign in
    two parts. Checked against the linear programs' regions where the network is small. (On the
    deep network the vertices of one part's regions are less accurate: their volumes summed to
    1 + 3e-6 times the box's.)"""
    domain = rn.Box([-box, -box], [box, box])
    results = {}
    for parts, share in (("one", np.inf), ("two", -1.0)):
        monkeypatch.setattr(polytope_step, "TWO_PARTS_FROM", share)
        results[parts] = rn.enumerate_regions(net, domain), rn.count_regions(net, domain)
    (one, one_count), (two, two_count) = results["one"], results["two"]
    assert _patterns(one) == _patterns(two)
    assert int(one_count) == int(two_count) == len(one)
    assert np.isclose(two.volumes.sum(), (2 * box) ** 2, rtol=1e-12, atol=0)
    if net.layers[0].width == 24:
        assert one.exact_calls > 50 and two.exact_calls == 0 and two_count.exact_calls == 0
        assert int(rn.count_regions(net, domain, workers=2)) == len(one)  # two parts in worker processes
    if net.layers[0].width == 20:
        assert one.exact_calls > 0 and two.exact_calls == 0 and two_count.exact_calls == 0
    if len(one) < 200:
        assert [tuple(p) for p in _patterns(two)] == lp_regions(net, domain.A, domain.b)


def test_runs_choose_two_parts_where_bounds_would_grow():
    """Rows go in two parts on a deep network whose one-part bounds end above the share
    :data:`~regionenum.engine.polytope_step.TWO_PARTS_FROM` of their size, with ReLU or leaky
    units; not on a shallow one, nor with a max layer (its sums over groups are not a slope per
    unit)."""
    def decided(net):
        step = polytope_step.PolytopeStep(net, rn.Box([-1, -1], [1, 1]), 1e-9, 64, keep=False)
        step.start(Tally())
        return step.in_two_parts

    assert decided(_network("relu", 1, depth=21, width=32))
    assert decided(_network("leaky", 1, depth=21, width=32))
    assert not decided(_network("relu", 1, depth=8, width=32))
    deep = _network("relu", 1, depth=21, width=32)
    layers = [(layer.W, layer.b) for layer in deep.layers]
    layers[3] = (layers[3][0][:, :16], layers[3][1])  # after a max layer of 16 pairs
    acts = [layer.activation for layer in deep.layers]
    acts[2] = rn.Activation("max", groups=(2,) * 16)
    assert not decided(rn.Network.from_layers(layers, acts))


@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_rows_of_a_cell_with_every_unit_off_are_exact(bias):
    """A cell on which every unit of a layer is off: the next layer's rows in two parts are its
    biases on the ``t`` row and zero elsewhere, exactly, with a bound of zero (so that the
    float64 filter settles a hyperplane identically zero on the cell by itself, as in one part,
    and a network without biases keeps its zeros at the origin)."""
    net = _network("relu", 1, depth=3, width=8, bias=bias)
    bits = np.ones(net.n_units, bool)
    bits[net.unit_offsets[1]: net.unit_offsets[2]] = False
    J, bound, lo = _float_rows(net, bits, two_parts=True)[2]
    assert np.array_equal(J[0], net.layers[2].b) and not J[1:].any() and not lo.any()
    assert not bound.any()


def test_runs_keep_one_part_where_two_parts_would_bound_worse(monkeypatch):
    """The choice compares the two ways' bounds on the same cells: where rows in two parts
    would end with the larger share (made so here by a reading that finds two parts worse), the
    run keeps one part."""
    original = polytope_step.PolytopeStep._share_at_last_split

    def worse_in_two(self, bits, two_parts):
        share = original(self, bits, two_parts=False)
        return 2.0 * share if two_parts else share

    monkeypatch.setattr(polytope_step.PolytopeStep, "_share_at_last_split", worse_in_two)
    net = _network("relu", 1, depth=21, width=32)
    step = polytope_step.PolytopeStep(net, rn.Box([-1, -1], [1, 1]), 1e-9, 64, keep=False)
    step.start(Tally())
    assert not step.in_two_parts
