"""Constructions reach their closed-form counts."""
import pytest

import regionenum as rn
from regionenum import bounds, constructions


@pytest.mark.parametrize("kind", ["montufar", "pascanu"])
@pytest.mark.parametrize("n0,folds,last", [(1, [3, 3], 3), (2, [4, 6], 3), (3, [6], 3)])
def test_constructions_reach_their_lower_bounds(kind, n0, folds, last):
    c = getattr(constructions, kind)(n0, folds, last)
    assert c.count == getattr(bounds, kind)(n0, folds + [last])
    assert rn.count_regions(c.network, c.domain) == c.count
    assert c.count <= bounds.serra(n0, folds + [last])


def test_deep_beats_shallow_at_equal_units():
    deep = constructions.montufar(2, [4, 4, 4], 4)
    assert deep.count > bounds.zaslavsky(16, 2)  # 16 units in one layer, at most
    assert rn.count_regions(deep.network, deep.domain) == deep.count
