"""Exact vertices of a result (regionenum.analysis.exact_geometry)."""
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.analysis import exact_geometry
from regionenum.analysis.exact_geometry import ExactGeometry
from regionenum.core.exact import ExactNetwork, kernel_vector, oriented
from tests.oracles import random_net


def _maxout_net(seed):
    rng = np.random.default_rng(seed)
    return rn.Network.from_layers([(rng.normal(size=(8, 2)), rng.normal(size=8) * 0.1),
                                   (rng.normal(size=(6, 4)), rng.normal(size=6) * 0.1),
                                   (rng.normal(size=(1, 6)), rng.normal(size=1))],
                                  [("maxout", 2), "relu", "identity"])


@pytest.mark.parametrize("make,shared", [
    (lambda: random_net([2, 8, 8, 8, 1], 3), True),
    (lambda: random_net([2, 6, 6, 1], 4, activations=[("leaky_relu", 0.25)] * 2 + ["identity"]), True),
    (lambda: random_net([3, 6, 6, 1], 5), True),
    (lambda: _maxout_net(6), False),  # a tie's constraint ids name the winner: nothing to share
])
def test_each_vertex_is_the_kernel_of_its_own_cells_rows(make, shared, monkeypatch):
    """Every point generator of every cell, as ExactGeometry gives it (computed once for the
    cells around it whose patterns differ only in units tight there), equals the kernel of
    that cell's own exact rows, computed afresh. And the sharing happened: fewer kernels than
    the cells' distinct (tight constraints, every bit their rows read) pairs, where units
    of one layer are tight at points with units of a later one."""
    net = make()
    d = net.input_dim
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(d), np.ones(d)))
    geo = ExactGeometry(regions)
    kernels = []
    counted = exact_geometry.kernel_vector
    monkeypatch.setattr(exact_geometry, "kernel_vector", lambda rows, n: kernels.append(1) or counted(rows, n))
    cells = regions.cells
    fresh = regions.complex.constraints.oracle(ExactNetwork(net), [], cells.packed)
    full_keys = set()
    for c in range(len(cells)):
        bits = fresh.pattern_bits(c)
        for g in range(cells.gen_off[c], cells.gen_off[c + 1]):
            if cells.gens[g, 0] <= 0:
                continue
            inc = cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]]
            own = oriented(kernel_vector([fresh.row(c, int(cid), bits) for cid in inc], cells.gens.shape[1]),
                           cells.gens[g])
            assert geo.generator(g, c) == own, (c, g)
            used = max(geo._reads[cid] if cid < len(geo._reads) else 0 for cid in inc)
            full_keys.add((inc.tobytes(), bits[:used].tobytes()))
    assert (len(kernels) < len(full_keys)) == shared


@pytest.mark.parametrize("make", [lambda: random_net([2, 10, 10, 1], 21), lambda: random_net([3, 6, 6, 1], 22),
                                  lambda: _maxout_net(23)])
def test_generators_in_blocks_are_those_one_at_a_time(make):
    """A block's generators (their keys made with arrays, in blocks that cut through cells) are
    the ones asked for one at a time from a fresh geometry (keys made in Python), each within its
    float error bound of the float generator, compared exactly; asked for again, the same
    objects. The two ways of making a key agree on every generator."""
    net = make()
    d = net.input_dim
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(d), np.ones(d)))
    cells = regions.cells
    cell_of = np.repeat(np.arange(len(cells)), np.diff(cells.gen_off))
    n, geo, alone = len(cell_of), ExactGeometry(regions), ExactGeometry(regions)
    assert geo._keys(np.arange(n), cell_of) == [geo._key(g, int(c)) for g, c in enumerate(cell_of)]
    found = [v for lo in range(0, n, 97) for v in geo.generators(lo, min(lo + 97, n), cell_of[lo: lo + 97])]
    for g in range(n):
        assert found[g] == alone.generator(g, int(cell_of[g])) and geo.generator(g) is found[g]
        t = found[g][0]
        if t > 0:
            off = max(abs(Fraction(float(x)) - Fraction(a, t)) for x, a in zip(cells.gens[g, 1:], found[g][1:]))
            assert off <= Fraction(float(cells.gen_err[g]))
