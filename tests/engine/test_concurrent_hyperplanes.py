"""Hyperplanes that meet in one point or coincide on a cell: a network without biases (every
layer through the origin), a layer's lines through one point elsewhere, copies of a unit, and a
layer whose rows on a cell are all multiples of one earlier unit's. Their signs where they meet
are settled together, not one exact question and one kernel pass per hyperplane and cell; the
counts are checked against an independent oracle, a translated copy and the network without the
copies."""
import numpy as np
import pytest

import regionenum as rn
import regionenum.engine.split as split_module

from ..oracles import lp_regions


def _passes(monkeypatch):
    """A list that grows by one for each call of the splitting kernel (a pass over cells)."""
    calls = []
    kernel = split_module.split_cells

    def counted(*args):
        calls.append(1)
        return kernel(*args)

    monkeypatch.setattr(split_module, "split_cells", counted)
    return calls


def _bias_free(widths, seed):
    rng = np.random.default_rng(seed)
    return rn.Network.from_layers([(rng.standard_normal((b, a)), np.zeros(b)) for a, b in zip(widths, widths[1:])])


def _box_matrix(lo, hi):
    """``{A x + b <= 0}`` for the box ``[lo, hi]``, for the LP oracle."""
    d = len(lo)
    return np.vstack([-np.eye(d), np.eye(d)]), np.concatenate([np.asarray(lo, float), -np.asarray(hi, float)])


@pytest.mark.parametrize("widths,lo,hi", [
    ((2, 8, 30, 1), (-1, -1), (1, 1)),
    ((2, 5, 6, 7, 1), (-1, -1), (1, 1)),
    ((2, 6, 20, 1), (0, 0), (1, 1)),  # the origin a corner of the box
    ((2, 6, 20, 1), (-1, 0), (1, 1)),  # on an edge
    ((3, 5, 10, 1), (-1, -1, -1), (1, 1, 1)),
])
def test_a_network_without_biases_is_settled_at_the_origin_in_float64(widths, lo, hi, monkeypatch):
    """Every hyperplane of every layer passes through the origin, exactly. Its rows' ``t``
    coefficients are exactly zero, so at the origin (exact once a question has found it) each
    value is exactly zero with a zero bound; a cell on which one unit of a layer is on makes the
    next layer's rows multiples of that unit's, answered together. A kernel pass per layer and
    one more at most (before: a pass per hyperplane asked about, 13 to 33 here). Checked against
    linear programming, region by region, and by certificate."""
    net = _bias_free(widths, len(widths))
    box = rn.Box(lo, hi)
    passes = _passes(monkeypatch)
    count = rn.count_regions(net, box)
    assert len(passes) <= len(widths) + 1
    regions = rn.enumerate_regions(net, box)
    assert sorted(map(tuple, regions.patterns.tolist())) == lp_regions(net, *_box_matrix(lo, hi)) and len(regions) == count
    rn.certify(regions, backend="fractions")


def test_one_bias_ends_the_exact_offsets():
    """A bias in the second of three layers: its hyperplanes and the third layer's no longer pass
    through the origin; the count still matches linear programming (the origin's signs are the
    exact stages' again)."""
    rng = np.random.default_rng(3)
    layers = [(rng.standard_normal((b, a)), np.zeros(b)) for a, b in [(2, 6), (6, 8), (8, 8), (8, 1)]]
    layers[1][1][3] = 0.25
    net = rn.Network.from_layers(layers)
    box = rn.Box([-1, -1], [1, 1])
    regions = rn.enumerate_regions(net, box)
    assert sorted(map(tuple, regions.patterns.tolist())) == lp_regions(net, *_box_matrix([-1, -1], [1, 1]))
    assert rn.count_regions(net, box) == len(regions)


def test_a_layer_through_one_point_is_answered_together(monkeypatch):
    """The network without biases moved to the point ``p = (1/2, 1/4)`` (first layer's weights
    in quarters, so its biases ``-W p`` are exact): the same arrangement, on the box moved by
    ``-p``. The second layer's 400 lines meet at ``p``, which is not the origin: their signs there
    are exact arithmetic's, and the first question of each cell at ``p`` answers every line nearly
    zero there (51 s and 406 kernel passes when each line asked on its own; now 0.55 s and 9)."""
    rng = np.random.default_rng(0)
    W1 = rng.integers(-8, 9, (4, 2)) / 4.0
    W2, w3 = rng.standard_normal((400, 4)), rng.standard_normal((1, 400))
    p = np.array([0.5, 0.25])
    moved = rn.Network.from_layers([(W1, -W1 @ p), (W2, np.zeros(400)), (w3, np.zeros(1))])
    centred = rn.Network.from_layers([(W1, np.zeros(4)), (W2, np.zeros(400)), (w3, np.zeros(1))])
    passes = _passes(monkeypatch)
    count = rn.count_regions(moved, rn.Box([-1, -1], [1, 1]))
    assert len(passes) < 40
    assert count == rn.count_regions(centred, rn.Box(-1 - p, 1 - p)) == 387


def test_copies_of_a_unit_are_answered_together(monkeypatch):
    """Three lines, each repeated 300 times: four regions, as without the copies. A copy is a
    multiple of one of the constraints tight where it is asked about: every copy of it is zero
    wherever that constraint is tight, one answer each (2.0 s and 612 kernel passes when each
    copy asked on its own; now 25)."""
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((3, 2)), 0.3 * rng.standard_normal(3)
    box = rn.Box([-1, -1], [1, 1])
    single = rn.count_regions(rn.Network.from_layers([(W, b), (np.ones((1, 3)), np.zeros(1))]), box)
    copies = rn.Network.from_layers([(np.repeat(W, 300, axis=0), np.repeat(b, 300)),
                                     (rng.standard_normal((1, 900)), np.zeros(1))])
    passes = _passes(monkeypatch)
    count = rn.count_regions(copies, box)
    assert count == single == 4 and len(passes) < 40
    assert len(rn.enumerate_regions(copies, box)) == 4


def test_a_layer_of_multiples_of_one_unit(monkeypatch):
    """One unit, then 500 without biases: on the cell where the unit is on, each of the 500 is a
    multiple of it, zero along its line, which bounds the cell; two regions (509 kernel passes
    when each asked on its own; now 17)."""
    net = _bias_free((2, 1, 500, 1), 0)
    passes = _passes(monkeypatch)
    assert rn.count_regions(net, rn.Box([-1, -1], [1, 1])) == 2 and len(passes) < 30
