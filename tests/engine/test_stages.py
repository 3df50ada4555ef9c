"""A few cells cut by many hyperplanes (the domain by the first layer) are cut in stages, so that
no one cell is cut into too many pieces in one kernel call; once the pieces are many and small,
the rest of the hyperplanes go at once."""
import numpy as np

import regionenum as rn
from regionenum.engine import polytope_step
from regionenum.engine.polytope_step import LATER_STAGE, LATER_STAGE_WORK, _largest_stage, _stage_size


def _first_layer_stages(net, box, monkeypatch):
    """``(cells, hyperplanes)`` of every split of the first layer in a count of ``net``."""
    calls = []
    original = polytope_step.split

    def recorded(cells, J, *args, **kwargs):
        calls.append((len(cells), J.shape[2]))
        return original(cells, J, *args, **kwargs)

    monkeypatch.setattr(polytope_step, "split", recorded)
    first = net.layers[0].width
    rn.count_regions(net, box)
    stages, seen = [], 0
    for cells, hyperplanes in calls:
        if seen < first:
            stages.append((cells, hyperplanes))
            seen += hyperplanes
    return stages


def test_many_small_pieces_take_the_rest_at_once(monkeypatch):
    rng = np.random.default_rng(0)
    net = rn.Network.from_layers([(rng.normal(size=(256, 2)), rng.uniform(-0.5, 0.5, 256)),
                                  (np.ones((1, 256)), np.zeros(1))])
    stages = _first_layer_stages(net, rn.Box([-1, -1], [1, 1]), monkeypatch)
    s = _largest_stage(2)
    assert stages[0] == (1, s) and len(stages) == 2 and stages[1][1] == 256 - s and stages[1][0] > 1000


def test_hyperplanes_that_miss_the_domain_leave_the_rest_in_stages(monkeypatch):
    """The first stage's lines are parallel and miss the square: one piece, which the rest (300
    lines through it) would cut into some 45,000 pieces in one call; they go in stages."""
    rng = np.random.default_rng(1)
    s = _largest_stage(2)
    dead = np.zeros((s, 2))
    dead[:, 0] = 1.0
    W = np.vstack([dead, rng.normal(size=(300, 2))])
    b = np.concatenate([5.0 + np.arange(s), rng.uniform(-0.5, 0.5, 300)])
    net = rn.Network.from_layers([(W, b), (np.ones((1, len(b))), np.zeros(1))])
    stages = _first_layer_stages(net, rn.Box([-1, -1], [1, 1]), monkeypatch)
    assert stages[:2] == [(1, s), (1, s)]  # the dead lines, then the first live ones, each a stage
    assert all(hyperplanes <= _largest_stage(2, LATER_STAGE_WORK, LATER_STAGE) for _, hyperplanes in stages)


def test_stage_sizes():
    s2, s3 = _largest_stage(2), _largest_stage(3)
    assert _stage_size(1, 256, 2) == s2 and _stage_size(1024, 128, 2) == 128  # many cells: all at once
    assert _stage_size(1900, 193, 2, done=63) == 193  # the pieces of 63 lines: the rest at once
    assert _stage_size(1, 700, 2, done=63) == s2  # 63 lines made one piece: on in stages
    assert _stage_size(2000, 1000, 2, done=126) == _largest_stage(2, LATER_STAGE_WORK, LATER_STAGE)
    assert _stage_size(800, 14, 3, done=18) == 14 and _stage_size(20, 100, 3, done=18) == s3
