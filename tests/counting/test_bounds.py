"""Upper bounds from the literature bracket exact counts."""
import pytest

import regionenum as rn
from regionenum import bounds
from tests.oracles import random_net

NETS = [(1, [6, 6, 5]), (1, [10, 8]), (2, [8, 8]), (2, [12, 6, 4]), (2, [16]), (3, [8, 8]), (3, [5, 5, 5])]


@pytest.mark.parametrize("n0,widths", NETS)
def test_upper_bounds_bracket_exact_counts(n0, widths):
    for seed in range(3):
        net = random_net([n0] + widths + [1], seed, bias_std=0.5)
        count = rn.count_regions(net, rn.Polytope.whole_space(n0))
        assert count <= bounds.serra(n0, widths) <= bounds.trivial(widths)
        if n0 == 1:
            assert count <= bounds.one_dimensional(widths)
        if len(widths) == 1:  # one layer in general position reaches Zaslavsky on R^n0
            assert count == bounds.zaslavsky(widths[0], n0) == bounds.serra(n0, widths)


def test_bound_formulas_on_known_values():
    assert bounds.zaslavsky(3, 2) == 7 and bounds.zaslavsky(5, 1) == 6
    assert bounds.trivial([3, 4]) == 128 and bounds.one_dimensional([3, 4]) == 20
    # Serra et al., by hand: one input, [2, 2]: j1 = 0 gives C(2,0) (C(2,0) + C(2,1)) = 3,
    # j1 = 1 gives C(2,1) (C(2,0) + C(2,1)) = 6; the 1-D product bound is the same 9
    assert bounds.serra(1, [2, 2]) == 9 == bounds.one_dimensional([2, 2])
    # four inputs, [2, 2]: both off leaves 1 region, one on a line (3 each), both on a plane (4)
    assert bounds.serra(4, [2, 2]) == 1 + 3 + 3 + 4
    assert bounds.serra(2, [3]) == bounds.zaslavsky(3, 2) == 7
    assert bounds.montufar(2, [4, 4, 3]) == 4 * 4 * 7 and bounds.pascanu(2, [4, 4, 3]) == 2 * 2 * 7
