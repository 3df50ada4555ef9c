"""Budgets and progress: bad values are refused before work; max_regions and time_limit stop cleanly with the result marked incomplete."""
import pytest

import regionenum as rn
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("kwargs,message", [({"max_regions": 0}, "max_regions"),
                                            ({"time_limit": -1}, "time_limit"),
                                            ({"tol": 0.0}, "tol")])
def test_bad_budgets(kwargs, message):
    with pytest.raises(rn.RegionEnumError, match=message):
        rn.count_regions(random_net([2, 4, 1], 0), BOX2, **kwargs)


def test_max_regions_stops_cleanly():
    net = random_net([2, 32, 32, 1], 1)
    full = rn.enumerate_regions(net, BOX2)
    part = rn.enumerate_regions(net, BOX2, max_regions=50, batch_size=16)
    assert len(part) == 50 and not part.complete and part.stop_reason == "max_regions"
    assert full.complete and full.stop_reason is None
    assert {p.tobytes() for p in part.patterns} <= {p.tobytes() for p in full.patterns}
    counted = rn.count_regions(net, BOX2, max_regions=50, batch_size=16)
    assert int(counted) == 50 and not counted.complete
    exactly = rn.count_regions(net, BOX2, max_regions=len(full))
    assert exactly.complete and exactly == len(full)


def test_time_limit_and_progress():
    net = random_net([2, 64, 64, 64, 1], 2)
    seen = []
    part = rn.count_regions(net, BOX2, time_limit=1e-6, batch_size=8, progress=seen.append)
    assert not part.complete and part.stop_reason == "time_limit"
    assert seen and isinstance(seen[0], rn.Progress)
    assert seen[-1].elapsed >= 1e-6


def test_a_budget_spent_while_the_root_cells_are_built(monkeypatch):
    """Found by a review: a time limit that ran out while the domain's root cells were being
    built (a polytope of many facets in five dimensions) crashed the enumeration with an
    AttributeError; it gives an incomplete result without regions, as the count does."""
    import time

    from regionenum.engine import polytope_step
    build = polytope_step.root_cells

    def slow(domain, n_units, tol, n_ties, check):
        time.sleep(0.05)
        check()
        return build(domain, n_units, tol, n_ties, check)

    monkeypatch.setattr(polytope_step, "root_cells", slow)
    net = random_net([2, 4, 1], 0)
    regions = rn.enumerate_regions(net, BOX2, time_limit=0.01)
    assert len(regions) == 0 and not regions.complete and regions.stop_reason == "time_limit"
    counted = rn.count_regions(net, BOX2, time_limit=0.01)
    assert int(counted) == 0 and not counted.complete
