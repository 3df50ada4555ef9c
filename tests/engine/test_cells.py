"""Cell sets: gathering finished cells from their batches into one set, in pattern order."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(3), np.ones(3)), rn.Polytope.whole_space(2)])
def test_gathering_cells_from_batches_is_concatenating_then_taking(domain):
    """``CellSet.gather`` (each cell's rows copied once, as blocks) against the plain way."""
    from regionenum.engine.cells import CellSet
    cells = rn.enumerate_regions(random_net([domain.dim, 8, 8, 1], 7), domain).complex.cells
    rng = np.random.default_rng(0)
    cuts = np.r_[0, np.sort(rng.choice(np.arange(1, len(cells)), 6, replace=False)), len(cells)]
    parts = [cells.take(np.arange(a, b)) for a, b in zip(cuts[:-1], cuts[1:])] + [cells.take(np.zeros(0, int))]
    order = rng.permutation(len(cells))
    plain, gathered = CellSet.concat(parts).take(order), CellSet.gather(parts, order)
    for name in plain.__dataclass_fields__:
        a, b = getattr(plain, name), getattr(gathered, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    consumed = CellSet.gather(parts, order, consume=True)  # as the assembly does: the batches freed
    for name in plain.__dataclass_fields__:
        a, b = getattr(plain, name), getattr(consumed, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert parts == []

