"""Domains: boxes and polytopes checked on construction, with errors naming the argument."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("make,message", [
    (lambda: rn.Box([0, 0], [1, 0]), r"lo\[1\] = 0.0 is not below hi\[1\] = 0.0"),
    (lambda: rn.Box([0, 2], [1, 1]), r"lo\[1\] = 2.0 is not below"),
    (lambda: rn.Box([0, np.nan], [1, 1]), "non-finite"),
    (lambda: rn.Box([0, 0], [1, 1, 1]), "shape"),
    (lambda: rn.Polytope(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, 1.0])), "empty"),
    (lambda: rn.Polytope(np.array([[0.0, 0.0]]), np.array([-1.0])), "row 0 of A is zero"),
    (lambda: rn.Polytope(np.ones((2, 2)), np.zeros(3)), "b has shape"),
])
def test_bad_domains_are_rejected(make, message):
    with pytest.raises(rn.InvalidDomainError, match=message):
        make()


@pytest.mark.parametrize("dim", [2.5, True, "2", None])
def test_whole_space_wants_an_integer_dimension(dim):
    """2.5 gave the plane, True the line, '2' the plane: refused by name."""
    with pytest.raises(rn.ArgumentTypeError, match="dim must be an integer"):
        rn.Polytope.whole_space(dim)
    assert rn.Polytope.whole_space(np.int64(3)).dim == 3


def test_domain_dimension_must_match_network():
    with pytest.raises(rn.InvalidDomainError, match="dimension 3 but the network takes 2"):
        rn.enumerate_regions(random_net([2, 4, 1], 0), rn.Box([0, 0, 0], [1, 1, 1]))


def _side_in_box(A, b, c, half_width):
    """``argmin c . x`` over the domain cut to the box ``|x| <= half_width``."""
    from scipy.optimize import linprog
    return linprog(c, A_ub=A, b_ub=-b, bounds=[(-half_width, half_width)] * A.shape[1], method="highs").x


def test_bounds_of_unbounded_polytopes_match_growing_boxes():
    """The enclosing box of random polytopes, bounded or not, against a second way: a side is
    infinite exactly when the domain cut to a box reaches further as the box grows. Seeds 3 and 55
    are 3-D polytopes on which the solver calls an unbounded side "infeasible"."""
    sides = {"finite": 0, "infinite": 0}
    for seed in [3, 55, *range(100, 160)]:
        rng = np.random.default_rng(seed)
        d = 3 if seed < 100 else int(rng.integers(1, 5))
        m = int(rng.integers(1, 6 if seed < 100 else 9))
        A = rng.normal(size=(m, d))
        b = -np.abs(rng.normal(size=m))
        P = rn.Polytope(A, b)
        lo, hi = P.bounds
        for i in range(d):
            for sign, value in ((1.0, lo[i]), (-1.0, hi[i])):
                c = np.zeros(d)
                c[i] = sign
                small = _side_in_box(A, b, c, 1e5)[i]
                large = _side_in_box(A, b, c, 1e9)[i]
                if abs(large) > 100 * abs(small) and abs(large) > 1e3:
                    assert value == -sign * np.inf, (seed, i, sign, value)
                    sides["infinite"] += 1
                else:
                    assert value == pytest.approx(small, rel=1e-6, abs=1e-6), (seed, i, sign)
                    sides["finite"] += 1
        assert P.is_bounded == bool(np.isfinite(lo).all() and np.isfinite(hi).all())
    assert sides["finite"] > 20 and sides["infinite"] > 20, sides


@pytest.mark.parametrize("e", [20, 30, 40])
def test_polytopes_whose_sides_differ_by_orders_have_an_interior(e):
    """A box written as rows, with sides ``2^-e`` and ``2^e`` among sides of 1, is a polytope
    with an interior: the largest ball's centre could sit at a far end of the long side, where
    its radius is below the centre's rounding (it was rejected as flat from ``e = 30``). Its
    interior point is strictly inside, and its regions are the box's, counted and enumerated."""
    s = 2.0 ** np.array([-e, e, 0.0])
    A = np.vstack([-np.eye(3), np.eye(3)])
    P = rn.Polytope(A, -np.concatenate([s, s]))
    assert P.is_bounded
    assert np.all(A @ P.interior_point - np.concatenate([s, s]) < 0)
    first = random_net([3, 8, 8, 1], 3).layers[0]  # each coordinate at unit scale for the first layer
    net = rn.Network.from_layers([(first.W / s, first.b), *[(layer.W, layer.b) for layer in
                                                           random_net([3, 8, 8, 1], 3).layers[1:]]])
    box = rn.Box(-s, s)
    assert rn.count_regions(net, P) == rn.count_regions(net, box) > 20
    assert np.array_equal(rn.enumerate_regions(net, P).packed_patterns,
                          rn.enumerate_regions(net, box).packed_patterns)


@pytest.mark.parametrize("A,b", [
    (np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]), np.array([-0.1, 0.1, -1.0, -1.0])),  # x = 0.1
    (np.array([[1.0, 1.0], [-1.0, -1.0]]), np.array([-1.0, 1.0])),  # a line, unbounded
    (np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0 ** -40], [0.0, -1.0]]),
     np.array([-1.0, -1.0, 0.0, 0.0])),  # y = 0, by a row of size 2^-40
])
def test_flat_polytopes_are_rejected(A, b):
    """Flat domains stay rejected, also where the solver's absolute tolerance finds a ball
    (the last: a row ``2^-40 y <= 0`` held to ``1e-7``; it was accepted, with an "interior"
    point outside it): a domain is accepted only with a point at which every row holds
    strictly beyond its rounding."""
    with pytest.raises(rn.InvalidDomainError, match="empty or has no interior"):
        rn.Polytope(A, b)


@pytest.mark.parametrize("A,b", [
    (np.array([[-1.0, 0.0]]), np.array([1.0])),  # the half-plane x >= 1
    (np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([1.0, -2.0])),  # the strip 1 <= x <= 2
    (np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]]), np.array([1.0, -2.0, 0.0, -1.0])),
    (np.array([[-1.0], [1.0]]), np.array([0.001, -0.003])),  # the interval [0.001, 0.003]
])
def test_rows_scaled_by_powers_of_two_are_the_same_domain(A, b):
    """A domain's first row scaled by ``2^-30`` (or the interval's rows by ``2^-31`` and ``2^-10``)
    is the same set: accepted, with an interior point at which every row holds strictly, and
    the same regions. (The solver's absolute tolerance put its centre outside such domains;
    checking it first rejected them.)"""
    scaled_A, scaled_b = A.copy(), b.copy()
    scaled_A[0] *= 2.0 ** -30
    scaled_b[0] *= 2.0 ** -30
    if A.shape[1] == 1:
        scaled_A[1] *= 2.0 ** -10
        scaled_b[1] *= 2.0 ** -10
    P = rn.Polytope(scaled_A, scaled_b)
    assert np.all(scaled_A @ P.interior_point + scaled_b < 0)
    net = random_net([A.shape[1], 12, 12, 1], 5)
    ours, theirs = rn.enumerate_regions(net, P), rn.enumerate_regions(net, rn.Polytope(A, b))
    assert np.array_equal(ours.packed_patterns, theirs.packed_patterns)


@pytest.mark.parametrize("lo,hi,row_scale", [
    ([2694226.6, -4008069.06707], [4525520.5, -4008069.06706], 1.0),  # a side of 1e-5 at 4e6
    ([0.0, 0.0], [1.0, 1.0], 1e200),  # rows whose lengths overflow
    ([1.0, 0.0], [2.0, 1.0], 2.0 ** -60),
])
def test_thin_far_or_badly_scaled_boxes_written_as_rows_are_accepted(lo, hi, row_scale):
    """Boxes written as rows, thin beside their distance from the origin or with rows scaled
    far from unit length, have an interior point at which every row holds strictly (they were
    rejected as flat, or failed inside the solver)."""
    lo, hi = np.array(lo), np.array(hi)
    A = np.vstack([-np.eye(2), np.eye(2)]) * row_scale
    b = np.concatenate([lo, -hi]) * row_scale
    x = rn.Polytope(A, b).interior_point
    assert np.all(lo < x) and np.all(x < hi)


@pytest.mark.parametrize("lo,hi", [([1e308], [1.7e308]), ([-1.7e308, 0.0], [1.7e308, 1.0]),
                                   ([1.0, -3.0], [2.0, 5.0])])
def test_a_box_centre_is_inside_even_near_the_largest_floats(lo, hi):
    """A box's interior point is its centre: strictly inside it, also where ``lo + hi``
    overflows (it was ``inf``)."""
    x = rn.Box(lo, hi).interior_point
    assert np.all(np.array(lo) < x) and np.all(x < np.array(hi))
