"""The exact answers handed back to the splitting kernel: an exact point is passed on as float64
only where float64 holds it exactly, and each pass of the kernel gets the answers of the cells it
splits, sorted by cell, each cell's in the order they came."""
from fractions import Fraction

import numpy as np

from regionenum.engine.split import _Answers, _in_float64


def _exactly_float64(point) -> bool:
    """The definition, in Fractions: every coordinate ``p / t`` equals its float64 rounding."""
    t = point[0]
    try:
        return all(Fraction(p, t) == Fraction(p / t) for p in point[1:])
    except OverflowError:
        return False


def test_exact_points_become_float64_only_where_they_are_float64():
    """Against the definition in Fractions, on points whose coordinates are dyadic, thirds,
    numerators at float64's last bit (``2^53 + 1``), tiny, huge and beyond float64's range."""
    rng = np.random.default_rng(0)
    points = [[1, 3, -5], [3, 1, 2], [4, 1, -3], [1, 2 ** 53 + 1, 1], [2, 2 ** 54 + 2, 7],
              [2 ** 1100, 1, 2 ** 1100], [1, 2 ** 1024, 0], [3 * 2 ** 60, 3, -6], [7, 0, 0]]
    for _ in range(300):
        t = int(rng.choice([1, 3, 2 ** int(rng.integers(0, 80)), int(rng.integers(1, 10 ** 6))]))
        scale = 2 ** int(rng.integers(0, 120))
        points.append([t] + [int(rng.integers(-10 ** 9, 10 ** 9)) * scale for _ in range(2)])
    kept = 0
    for point in points:
        got = _in_float64(point)
        assert (got is not None) == _exactly_float64(point), point
        if got is not None:
            kept += 1
            assert got[0] == 1.0
            assert all(Fraction(float(x)) == Fraction(p, point[0]) for x, p in zip(got[1:], point[1:]))
    assert 0 < kept < len(points)
    assert _in_float64(None) is None and _in_float64([0, 1, 2]) is None  # a ray


def test_a_pass_gets_the_answers_of_its_cells_in_order():
    """Answers for cells 5, 2, 5, 9 and 2, a pass over cells 2 and 5: their four answers, by cell,
    each cell's in the order they came, with their incidences, points (NaN where none) and
    whether each holds wherever its incidence is held (a hyperplane vanishing on the cell)."""
    answers = _Answers()
    answers.add(5, 0, [7, 8], 1, np.array([1.0, 0.5, 0.25]))
    answers.add(2, 3, [1], -1, None)
    answers.add(5, 4, [], 0, None, within=True)
    answers.add(9, 1, [2, 3], 1, None)
    answers.add(2, 6, [4, 5, 6], 1, np.array([1.0, 2.0, 3.0]))
    table = answers.table(3, np.array([2, 5]))
    assert table.cell.tolist() == [2, 2, 5, 5]
    assert table.hyperplane.tolist() == [3, 6, 0, 4]
    assert table.sign.tolist() == [-1, 1, 1, 0]
    assert [table.inc[a:b].tolist() for a, b in zip(table.inc_off[:-1], table.inc_off[1:])] == [
        [1], [4, 5, 6], [7, 8], []]
    assert table.within.tolist() == [False, False, False, True]
    assert np.isnan(table.point[[0, 3]]).all()
    assert table.point[1].tolist() == [1.0, 2.0, 3.0] and table.point[2].tolist() == [1.0, 0.5, 0.25]
    empty = answers.table(3, np.array([], np.int64))
    assert len(empty.cell) == 0 and empty.inc_off.tolist() == [0]
    assert len(answers) == 5


def test_an_answer_within_covers_every_incidence_holding_its_own():
    """A hyperplane that is a multiple of constraint 7 on cell 3 is zero wherever 7 is tight:
    one answer covers every generator whose incidence holds 7, and no other; one vanishing on
    cell 4 (an empty incidence) covers every generator there."""
    answers = _Answers()
    answers.add(3, 2, [7], 0, None, within=True)
    answers.add(4, 1, [], 0, None, within=True)
    answers.add(3, 5, [7, 9], 1, None)
    assert answers.covers(3, 2, np.array([1, 7, 12])) and answers.covers(3, 2, [7])
    assert not answers.covers(3, 2, [1, 9]) and not answers.covers(3, 5, [7, 9])  # an exact match is not within
    assert not answers.covers(2, 2, [7]) and not answers.covers(3, 1, [7])
    assert answers.covers(4, 1, []) and answers.covers(4, 1, [5, 6])
