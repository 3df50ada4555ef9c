"""A few cells cut by many hyperplanes (the domain by the first layer, large cells by a wide layer
after a narrow one) are cut in stages, so that no one cell is cut into too many pieces in one
kernel call; once the pieces are many and small, the rest of the hyperplanes go at once."""
import numpy as np

import regionenum as rn
from regionenum.engine import polytope_step
from regionenum.engine.kernels.crossings import most_crossed
from regionenum.engine.kernels.splitting import no_sides
from regionenum.engine.polytope_step import LATER_STAGE, LATER_STAGE_WORK, _largest_stage, _stage_size


def _splits(net, box, monkeypatch):
    """``(cells, hyperplanes)`` of every split in a count of ``net``, and the count."""
    calls = []
    original = polytope_step.split

    def recorded(cells, J, *args, **kwargs):
        calls.append((len(cells), J.shape[2]))
        return original(cells, J, *args, **kwargs)

    monkeypatch.setattr(polytope_step, "split", recorded)
    return calls, rn.count_regions(net, box)


def _first_layer_stages(net, box, monkeypatch):
    """``(cells, hyperplanes)`` of every split of the first layer in a count of ``net``."""
    calls, _ = _splits(net, box, monkeypatch)
    first = net.layers[0].width
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
    # few cells, not many for the hyperplanes: all at once only if none is cut by more than d s
    assert _stage_size(10, 400, 2, most_crossed=lambda: 250) == s2
    assert _stage_size(10, 400, 2, most_crossed=lambda: 2 * s2) == 400
    assert _stage_size(1024, 128, 3, most_crossed=lambda: 20) == 128
    assert _stage_size(1024, 128, 2, most_crossed=lambda: 1 / 0) == 128  # many: not asked


def _narrow_then_wide(width):
    """Four lines on a square (ten cells), then ``width`` lines crossing most of them."""
    rng = np.random.default_rng(0)
    layers = [(rng.standard_normal((b, a)), 0.3 * rng.standard_normal(b)) for a, b in [(2, 4), (4, width), (width, 1)]]
    return rn.Network.from_layers(layers), rn.Box([-1, -1], [1, 1])


def test_few_large_cells_of_a_later_layer_go_in_stages(monkeypatch):
    """Ten cells, each cut by some 250 of the next 400 lines: in stages (0.14 s; in one stage
    0.67 s)."""
    net, box = _narrow_then_wide(400)
    calls, _ = _splits(net, box, monkeypatch)
    s = _largest_stage(2)
    second = calls[1:]  # after the first layer's one split of the square
    assert second[0][0] <= 12 and second[0][1] == s
    assert all(hyperplanes < 400 for _, hyperplanes in second)


def test_stages_do_not_change_the_count(monkeypatch):
    """The same regions whether a wide layer after a narrow one goes in one stage or in stages
    of seven."""
    net, box = _narrow_then_wide(150)
    counts = []
    for size in (lambda n_cells, n_hyp, *args, **kwargs: n_hyp, lambda n_cells, n_hyp, *args, **kwargs: min(n_hyp, 7)):
        monkeypatch.setattr(polytope_step, "_stage_size", size)
        counts.append(rn.count_regions(net, box))
    assert counts[0] == counts[1] and int(counts[0]) > 1000


def test_the_pieces_of_stages_read_their_cells_rows(monkeypatch):
    """A layer cut in stages hands every stage the rows of the cells it was given (the first
    layer's: the square's one cell), each piece reading its cell's (``row_of``), not a copy per
    piece; and each stage's states go into the pieces' patterns: the regions, patterns and maps
    alike, are those of one stage per layer."""
    net, box = _narrow_then_wide(150)
    original = polytope_step.split
    calls = []

    def recorded(cells, J, E, *args, row_of=None, **kwargs):
        calls.append((len(cells), J.shape[0], E.shape[0], int(row_of.max(initial=0))))
        return original(cells, J, E, *args, row_of=row_of, **kwargs)

    monkeypatch.setattr(polytope_step, "split", recorded)
    monkeypatch.setattr(polytope_step, "_stage_size", lambda n_cells, n_hyp, *args, **kwargs: min(n_hyp, 7))
    staged = rn.enumerate_regions(net, box)
    assert len(calls) > 20 and all(J <= cells and E == J and last < J for cells, J, E, last in calls)
    assert calls[0][:2] == (1, 1)  # the first layer: the square and its rows
    assert sum(J < cells for cells, J, _, _ in calls) > 10  # later stages: pieces sharing their cells' rows
    monkeypatch.setattr(polytope_step, "_stage_size", lambda n_cells, n_hyp, *args, **kwargs: n_hyp)
    whole = rn.enumerate_regions(net, box)
    assert len(staged) == len(whole) > 1000
    assert np.array_equal(staged.patterns, whole.patterns)
    assert np.allclose(staged.jacobians, whole.jacobians) and np.allclose(staged.volumes, whole.volumes)


def test_most_crossed_against_numpy():
    """The kernel's count against the signs of the same values from NumPy, with rays (``t = 0``)
    and generators on a hyperplane (value 0: neither side); hyperplanes with a known side are
    not counted, whatever their rows hold (NaN here)."""
    rng = np.random.default_rng(3)
    none = no_sides(30)
    for d in (1, 2, 3):
        counts = rng.integers(1, 9, size=40)
        gen_off = np.concatenate([[0], np.cumsum(counts)])
        gens = np.column_stack([rng.integers(0, 2, gen_off[-1]).astype(float), rng.integers(-2, 3, (gen_off[-1], d))])
        J = rng.integers(-2, 3, (40, d + 1, 30)).astype(float)
        sides = rng.choice(np.array([-1, 0, 0, 1], np.int8), size=(40, 30))
        expected, unknown = 0, 0
        for i in range(40):
            values = gens[gen_off[i]:gen_off[i + 1]] @ J[i]
            crossed = (values > 0).any(axis=0) & (values < 0).any(axis=0) & ~(values == 0).any(axis=0)
            expected = max(expected, int(crossed.sum()))
            unknown = max(unknown, int((crossed & (sides[i] == 0)).sum()))
        assert most_crossed(gen_off, gens, J, none) == expected
        unformed = np.where(sides[:, None, :] != 0, np.nan, J)
        assert most_crossed(gen_off, gens, unformed, sides) == unknown < expected
    # two lines across the segment [-1, 1]: the second passes through its end 1, and is left out
    line = np.array([[1.0, -1.0], [1.0, 1.0]])
    assert most_crossed(np.array([0, 2]), line, np.array([[[0.0, 1.0], [1.0, -1.0]]]), none[:, :2]) == 1


def test_lines_through_a_vertex_go_in_one_stage(monkeypatch):
    """A bias-free layer's lines all pass through the origin, a vertex of every cell after the
    first layer: their signs there are exact arithmetic's, once per piece, so stages would ask
    them again for every stage's pieces (eight cells and 400 lines: 75 s in stages of 63). They
    go in one stage, each (cell, line) asked at most once (6 s)."""
    rng = np.random.default_rng(0)
    net = rn.Network.from_layers([(rng.standard_normal((b, a)), np.zeros(b)) for a, b in [(2, 4), (4, 400), (400, 1)]])
    calls, count = _splits(net, rn.Box([-1, -1], [1, 1]), monkeypatch)
    assert calls[1:] == [(8, 400)] and 0 < count.exact_calls <= 4 + 8 * 400  # (the first layer: 1 cell, 4 lines)


def test_the_last_split_of_a_count_refreshes_vertex_bounds():
    """A count's last split keeps no constraint rows for its pieces, but a cell cut by many lines
    in one call still gets its new vertices' error bounds from the tight rows once interpolation
    has compounded them: hardly a sign goes to exact arithmetic (2 here; 1,138 did when those
    bounds were refreshed only where the rows were kept)."""
    rng = np.random.default_rng(0)
    net = rn.Network.from_layers([(rng.standard_normal((b, a)), 0.3 * rng.standard_normal(b))
                                  for a, b in [(2, 100), (100, 3), (3, 150), (150, 1)]])
    box = rn.Box([-1, -1], [1, 1])
    count = rn.count_regions(net, box)
    assert count.exact_calls < 20 and count == len(rn.enumerate_regions(net, box))
