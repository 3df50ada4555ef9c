"""How many signs each stage decided (``sign_stages`` on counts and enumerations): the float64
filter, exact zeros, exact float64 expansions and exact arithmetic (README, "Exactness")."""
import numpy as np
import pytest

import regionenum as rn

STAGES = ["float64 filter", "exact zeros", "float64 expansions", "exact arithmetic"]


def _near_corner(gap):
    """On ``[0, 1]^2``: the line ``x + gap y = 1`` (a sliver at the edge ``x = 1`` when ``gap`` is
    tiny), ``x + y = 0`` (meeting the box only at the corner ``(0, 0)``, where every product of
    its value is exactly zero) and ``x = 1/2``; three regions."""
    W = np.array([[1.0, gap], [1.0, 1.0], [1.0, 0.0]])
    net = rn.Network.from_layers([(W, np.array([-1.0, 0.0, -0.5])), (np.ones((1, 3)), np.zeros(1))])
    return net, rn.Box([0, 0], [1, 1])


def test_each_float_stage_counts_the_signs_it_decided():
    """The sliver's line passes through the corner ``(1, 0)`` (its value there exactly zero, from
    nonzero products) and within ``2^-60`` of ``(1, 1)``: both below the filter's rounding bound,
    decided by exact expansions (only the first when the line is far from ``(1, 1)``). The corner
    on ``x + y = 0`` is an exact zero; the rest is filtered."""
    net, box = _near_corner(2.0 ** -60)
    regions = rn.enumerate_regions(net, box)
    counted = rn.count_regions(net, box)
    assert len(regions) == counted == 3
    rn.certify(regions, backend="fractions")
    for result in (regions, counted):
        stages = result.sign_stages
        assert list(stages) == STAGES
        assert stages["float64 filter"] > 0 and stages["exact zeros"] >= 1
        assert stages["float64 expansions"] >= 2
        assert stages["exact arithmetic"] == result.exact_calls == 0
    far = rn.count_regions(*_near_corner(0.25))
    assert far == 3 and far.sign_stages["float64 expansions"] == counted.sign_stages["float64 expansions"] - 1
    assert far.sign_stages["float64 filter"] > 0


def test_exact_arithmetic_is_the_exact_calls():
    """A later unit vanishing exactly at an earlier breakpoint, whose float coordinates carry an
    error bound: its sign there is settled in exact arithmetic, and counted as that stage."""
    net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.array([0.1, -0.1])),
                                  (np.array([[1.0, -1.0]]), np.array([0.0])),
                                  (np.ones((1, 1)), np.zeros(1))])
    counted = rn.count_regions(net, rn.Box([-2.0], [2.0]))
    assert counted.exact_calls > 0
    assert counted.sign_stages["exact arithmetic"] == counted.exact_calls


@pytest.mark.parametrize("inputs", [6])
def test_many_inputs_count_only_exact_arithmetic(inputs):
    """Beyond five inputs the engine cuts by linear programmes: only the exact stage is counted."""
    rng = np.random.default_rng(inputs)
    net = rn.Network.from_layers([(rng.normal(size=(4, inputs)), rng.normal(size=4)),
                                  (rng.normal(size=(1, 4)), np.zeros(1))])
    counted = rn.count_regions(net, rn.Box(-np.ones(inputs), np.ones(inputs)))
    assert list(counted.sign_stages) == STAGES
    assert counted.sign_stages["float64 filter"] == 0
    assert counted.sign_stages["exact arithmetic"] == counted.exact_calls


def test_worker_processes_add_up_to_the_serial_stages():
    """Each worker's tally of stages comes back and is added: the same totals as one process
    where every cell is split the same way wherever it runs (layers narrow enough that no batch
    is cut in stages of hyperplanes: a staged cut evaluates the earlier stages' pieces again,
    and whether a layer is staged depends on how many cells a batch holds)."""
    rng = np.random.default_rng(3)
    net = rn.Network.from_layers([(rng.normal(size=(12, 2)), rng.normal(size=12)),
                                  (rng.normal(size=(12, 12)), rng.normal(size=12)),
                                  (rng.normal(size=(1, 12)), np.zeros(1))])
    box = rn.Box([-1, -1], [1, 1])
    serial, parallel = rn.count_regions(net, box), rn.count_regions(net, box, workers=2)
    assert serial == parallel and serial.sign_stages == parallel.sign_stages
    assert serial.sign_stages["float64 filter"] > 0


@pytest.mark.parametrize("centre", [0.0, 1e4, -3.0e-7])
@pytest.mark.parametrize("scale", [1.0, 0.1, 2.0 ** -300])
def test_a_corner_cut_by_less_than_the_rounding_is_found(centre, scale):
    """The filter that decides a hyperplane for a whole cell from the cell's bounding box: two
    ReLU units ``scale (x - centre)`` and ``scale (y - centre)``, and a second-layer unit ``u1 +
    u2 + beta``. For ``beta > 0`` it is positive everywhere (4 regions); for ``beta < 0`` it cuts
    a triangle with legs ``|beta| / scale`` off the corner of the quadrant where both are on,
    and the lines ``u = -beta`` through the two quadrants where one is (7 regions). The row of
    the second unit over ``(t, x, y)`` is rounded (the centre's bias is not exact in it), so
    for ``|beta|`` at or below that rounding, the float value at the box's centre minus its
    radius cannot tell the two apart: the box must leave the hyperplane to the test at each
    vertex and, below that test's bound too, to exact signs."""
    box = rn.Box([centre - 1.0, centre - 1.0], [centre + 1.0, centre + 1.0])
    for k in (1, 20, 40, 52, 60, 80):
        for sign in (1.0, -1.0):
            beta = sign * scale * 2.0 ** -k
            first = (scale * np.eye(2), np.full(2, -scale * centre))
            net = rn.Network.from_layers([first, (np.ones((1, 2)), np.array([beta])),
                                          (np.ones((1, 1)), np.zeros(1))])
            expected = 4 if beta > 0 else 7
            assert rn.count_regions(net, box) == expected, (k, sign)
            assert len(rn.enumerate_regions(net, box)) == expected, (k, sign)


def test_the_box_test_never_decides_on_vertices_whose_bounds_overflowed():
    """A first layer of 127 lines cut in stages (63, 63, 1) on ``[2^1023, MAX]^2``: vertices made
    there carry infinite error bounds (their interpolation's rounding overflows), and one of them
    lies far from the exact vertex. The third stage's line truly cuts a triangle that such
    vertices span; a bounding box over them, with a bound made NaN by ``inf * 0``, once decided
    that it did not (128 regions). The arrangement is the same as on the unit square (129)."""
    big, top = 2.0 ** 1023, np.finfo(float).max
    fill = [(1.0, 0.0, -(0.5 + k / 256.0)) for k in range(1, 125)]
    lines = [(3.0, 0.0, -1.0)] + fill[:62] + [(-3.0, -1.0, 0.875)] + fill[62:] + [(1.0, 0.0, -0.25)]
    L = np.array(lines)
    unit = rn.Network.from_layers([(L[:, :2], L[:, 2]), (np.ones((1, len(L))), np.zeros(1))])
    s = 2.0 ** -100  # p (x - big) / big + q (y - big) / big + c, times big * s
    W, b = L[:, :2] * s, (L[:, 2] - L[:, 0] - L[:, 1]) * (big * s)
    far = rn.Network.from_layers([(W, b), (np.full((1, len(L)), 2.0 ** -10), np.zeros(1))])
    assert rn.count_regions(unit, rn.Box([0.0, 0.0], [1.0, 1.0])) == 129
    with np.errstate(over="ignore"):
        counted = rn.count_regions(far, rn.Box([big, big], [top, top]))
    assert counted == 129 and counted.sign_stages["exact arithmetic"] > 0
