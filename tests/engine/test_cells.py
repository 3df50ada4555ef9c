"""Cell sets: gathering finished cells from their batches into one set, in pattern order."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("domain", [rn.Box(-np.ones(3), np.ones(3)), rn.Polytope.whole_space(2)])
def test_gathering_cells_from_batches_is_concatenating_then_taking(monkeypatch, domain, threads):
    """``CellSet.gather`` (each cell's rows copied once, as blocks, the parts shared out among
    ``threads``, however small the arrays) against the plain way."""
    from regionenum.core import threads as thread_counts
    from regionenum.engine import cells as cells_module
    from regionenum.engine.cells import CellSet
    monkeypatch.setattr(thread_counts, "idle_cpus", lambda: threads)
    monkeypatch.setattr(cells_module, "THREADED_COPY_BYTES", 0)
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


def test_gathering_from_more_parts_than_sixteen_bits_number():
    """Parts are numbered in 16 bits where they fit (sorted by radix), in 64 where there are more
    of them: 65,538 parts, nearly all empty, against the plain way (the test above has few)."""
    from regionenum.engine.cells import CellSet
    cells = rn.enumerate_regions(random_net([2, 8, 8, 1], 3), rn.Box(-np.ones(2), np.ones(2))).complex.cells
    n = len(cells)
    parts = [cells.run(0, 0)] * (1 << 16) + [cells.run(0, n // 2), cells.run(n // 2, n)]
    parts[1000] = cells.run(0, 1)  # cells in a part among the empty ones, and in the last two
    parts[-2] = cells.run(1, n // 2)
    order = np.random.default_rng(0).permutation(n)
    plain, gathered = CellSet.concat(parts).take(order), CellSet.gather(parts, order)
    for name in plain.__dataclass_fields__:
        a, b = getattr(plain, name), getattr(gathered, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(3), np.ones(3)), rn.Polytope.whole_space(2)])
def test_a_run_of_cells_is_taking_them_without_a_copy(domain):
    """``CellSet.run(lo, hi)`` (batches and subtrees' runs of a layer's pieces) holds the same
    cells as ``take(arange(lo, hi))``, in views of the set's arrays."""
    cells = rn.enumerate_regions(random_net([domain.dim, 8, 8, 1], 7), domain).complex.cells
    n = len(cells)
    for lo, hi in [(0, n), (0, 1), (3, 17), (n - 5, n), (7, 7)]:
        taken, run = cells.take(np.arange(lo, hi)), cells.run(lo, hi)
        for name in taken.__dataclass_fields__:
            a, b = getattr(taken, name), getattr(run, name)
            assert a.dtype == b.dtype and np.array_equal(a, b), (lo, hi, name)
        if hi > lo:
            for name in ("gens", "inc", "con_rows", "packed"):
                assert np.shares_memory(getattr(run, name), getattr(cells, name)), name
    total = sum(getattr(cells, name).nbytes for name in cells.__dataclass_fields__)
    assert cells.run(0, n).nbytes == cells.nbytes == total


def test_states_go_into_packed_patterns_as_bits_would():
    """``states_into_patterns`` (a split's states written into its pieces' patterns, in place)
    against unpacking and packing the bits (``set_bits``): on bits into the patterns, zero
    states into the zero bits, both cleared where off, other bits untouched, on strided
    tables as the kernel hands them over."""
    from regionenum.core.arrays import set_bits
    from regionenum.engine.kernels.blocks import states_into_patterns
    rng = np.random.default_rng(1)
    for _ in range(300):
        n, width = int(rng.integers(0, 20)), int(rng.integers(1, 80))
        offset = int(rng.integers(0, width))
        h = int(rng.integers(0, width - offset + 1))
        states = rng.integers(0, 3, size=(n, h + 5)).astype(np.uint8)[:, :h]
        packed = rng.integers(0, 256, size=(n, (width + 7) // 8)).astype(np.uint8)
        zero = rng.integers(0, 256, size=packed.shape).astype(np.uint8)
        want_packed, want_zero = packed.copy(), zero.copy()
        set_bits(want_packed, offset, states == 1)
        set_bits(want_zero, offset, states == 2)
        states_into_patterns(states, offset, packed, zero)
        assert np.array_equal(packed, want_packed) and np.array_equal(zero, want_zero)


def test_states_of_whole_bytes_go_in_as_bits_would():
    """Layers that start on a byte with a multiple of eight units (their states read eight at a
    time as words), and ones that do not, on tables in rows, in columns and every other row:
    the same bits as packing them one by one (``set_bits``)."""
    from regionenum.core.arrays import set_bits
    from regionenum.engine.kernels.blocks import states_into_patterns
    rng = np.random.default_rng(2)
    for offset, h in [(0, 8), (8, 16), (16, 64), (0, 256), (8, 13), (3, 16), (5, 3), (0, 0)]:
        table = rng.integers(0, 3, size=(12, h)).astype(np.uint8)
        for states in (table, np.asfortranarray(table), table[::2]):
            packed = rng.integers(0, 256, size=(len(states), (offset + h + 7) // 8 + 1)).astype(np.uint8)
            zero = rng.integers(0, 256, size=packed.shape).astype(np.uint8)
            want_packed, want_zero = packed.copy(), zero.copy()
            set_bits(want_packed, offset, states == 1)
            set_bits(want_zero, offset, states == 2)
            states_into_patterns(states, offset, packed, zero)
            assert np.array_equal(packed, want_packed) and np.array_equal(zero, want_zero), (offset, h)


def test_gathering_hands_memory_back_only_after_large_arrays(monkeypatch):
    """A consuming gather asks the C heap to return freed memory after each array at least
    ``TRIM_BYTES`` large (the parts freed as much, or the incidence offsets' temporary counts),
    and never for small ones."""
    from regionenum.engine import cells as cells_module
    calls = []
    monkeypatch.setattr(cells_module, "release_free_memory", lambda: calls.append(1))
    cells = rn.enumerate_regions(random_net([2, 8, 8, 1], 7), rn.Box([-1, -1], [1, 1])).complex.cells

    def halves():
        return [cells.take(np.arange(len(cells) // 2)), cells.take(np.arange(len(cells) // 2, len(cells)))]

    cells_module.CellSet.gather(halves(), np.arange(len(cells)), consume=True)
    assert calls == []
    names = ("gens", "gen_err", "inc_off", "inc", "con_ids", "con_rows", "con_err")
    sizes = sorted(getattr(cells, name).nbytes for name in names)
    monkeypatch.setattr(cells_module, "TRIM_BYTES", sizes[3])  # the four largest arrays
    cells_module.CellSet.gather(halves(), np.arange(len(cells)), consume=True)
    assert len(calls) == sum(size >= sizes[3] for size in sizes)


@pytest.mark.parametrize("threads", [1, 2])
def test_large_arrays_are_gathered_a_step_of_parts_at_a_time(monkeypatch, threads):
    """A consuming gather copies a large array's parts ``GATHER_STEP_BYTES`` at a time and
    drops each step's parts' arrays, handing the memory back, before the next step (so the new
    array does not come on top of all the parts): the same cells as the plain way, and before
    each hand-back of the generators fewer parts still hold theirs, down to none."""
    from regionenum.core import threads as thread_counts
    from regionenum.engine import cells as cells_module
    from regionenum.engine.cells import CellSet
    monkeypatch.setattr(thread_counts, "idle_cpus", lambda: threads)
    monkeypatch.setattr(cells_module, "THREADED_COPY_BYTES", 0)
    cells = rn.enumerate_regions(random_net([2, 8, 8, 1], 7), rn.Box([-1, -1], [1, 1])).complex.cells
    cuts = np.linspace(0, len(cells), 13).astype(int)
    parts = [cells.take(np.arange(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    order = np.random.default_rng(3).permutation(len(cells))
    plain = CellSet.concat(parts).take(order)
    held = []
    monkeypatch.setattr(cells_module, "release_free_memory",
                        lambda: held.append(sum(p.gens is not None for p in parts)))
    monkeypatch.setattr(cells_module, "TRIM_BYTES", 0)  # every array large
    monkeypatch.setattr(cells_module, "GATHER_STEP_BYTES", 2 * parts[0].gens.nbytes)  # about two parts a step
    gathered = CellSet.gather(parts, order, consume=True)
    for name in plain.__dataclass_fields__:
        a, b = getattr(plain, name), getattr(gathered, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    steps = held[: held.index(0) + 1]  # the generators' steps come first
    assert 4 <= len(steps) <= 8 and steps == sorted(set(steps), reverse=True), held


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(2), np.ones(2)), rn.Polytope.whole_space(2),
                                    rn.Box(-np.ones(3), np.ones(3))])
def test_loose_generators_are_constructed_exactly(domain, monkeypatch):
    """With every generator taken as loose (a negative threshold), each point comes back as its
    exact vertex correctly rounded and each ray as its exact direction, within the bounds they
    then carry, and the regions are the same and pass the exact certificate."""
    from fractions import Fraction

    from regionenum.analysis.exact_geometry import ExactGeometry
    from regionenum.engine import exact_vertices
    net = random_net([domain.dim, 6, 6, 1], 3, bias_std=0.5)
    before = rn.enumerate_regions(net, domain)
    monkeypatch.setattr(exact_vertices, "LOOSE", -1.0)
    after = rn.enumerate_regions(net, domain)
    assert np.array_equal(before.packed_patterns, after.packed_patterns)
    cells, geo = after.complex.cells, ExactGeometry(after)
    for g in range(len(cells.gens)):
        v = geo.generator(g)
        if v[0]:
            assert all(float(Fraction(p, v[0])) == x for p, x in zip(v[1:], cells.gens[g, 1:]))
        else:
            m = max(abs(p) for p in v)
            ray = np.array([float(Fraction(p, m)) for p in v[1:]])
            ray /= np.linalg.norm(ray)
            assert np.abs(ray - cells.gens[g, 1:]).max() <= cells.gen_err[g] / 2
    rn.certify(after, backend="fractions")


def test_a_loose_vertex_beyond_float64_keeps_its_float_coordinates():
    """Two lines crossing at x1 = -2^1060, on the whole plane: a piece's vertex there has an
    infinite bound, so it is loose, but its exact coordinates are beyond float64's range; it
    keeps its float ones (found by a review: an OverflowError)."""
    W = np.array([[-2.0 ** -1060, 1.0], [0.0, 1.0]])
    net = rn.Network.from_layers([(W, np.array([-1.0, 0.0])), (np.ones((1, 2)), np.zeros(1))])
    plane = rn.Polytope.whole_space(2)
    assert len(rn.enumerate_regions(net, plane)) == 4 and rn.count_regions(net, plane) == 4


@pytest.mark.parametrize("domain", [rn.Box([-1, -1, -1], [1, 1, 1]), rn.Polytope.whole_space(3)])
def test_interior_points_are_the_means_of_points_and_rays(domain):
    """Each region's interior point, from its cell's generators in one pass, is the mean of its
    vertices plus the mean of its rays (an unbounded domain's cells have rays), as numpy works
    them out (regions of one cell; a region of several pieces gets the mean of its merged
    vertices); and it lies strictly inside the region (below every facet's row)."""
    regions = rn.enumerate_regions(random_net([3, 6, 6, 1], 5), domain)
    cells, cell_region = regions.complex.cells, regions.complex.cell_region
    assert len(regions) > 20 and (cells.gens[:, 0] == 0).any() != domain.is_bounded
    alone = np.flatnonzero(np.bincount(cell_region, minlength=len(regions)) == 1)
    assert len(alone) > 20
    for c in np.flatnonzero(np.isin(cell_region, alone)):
        gens = cells.gens[cells.gen_off[c]: cells.gen_off[c + 1]]
        points, rays = gens[gens[:, 0] > 0, 1:], gens[gens[:, 0] == 0, 1:]
        expected = points.mean(axis=0) + (rays.mean(axis=0) if len(rays) else 0.0)
        np.testing.assert_allclose(regions.interior_points[cell_region[c]], expected, rtol=1e-12, atol=1e-12)
    for i in range(len(regions)):
        rows = regions.facet_equations[regions.facet_offsets[i]: regions.facet_offsets[i + 1]]
        assert (rows[:, :-1] @ regions.interior_points[i] + rows[:, -1] < 0).all()


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(3), np.ones(3)), rn.Polytope.whole_space(2)])
def test_results_gathered_or_taken_are_the_same(monkeypatch, domain):
    """The assembly takes a small result's cells into pattern order in one pass and gathers a
    large one's block by block (``GATHER_FROM``): with every result gathered, the same regions,
    geometry, output maps and cells, bit for bit."""
    from regionenum.engine import assemble
    net = random_net([domain.dim, 8, 8, 2], 5)
    taken = rn.enumerate_regions(net, domain)
    monkeypatch.setattr(assemble, "GATHER_FROM", 0)
    gathered = rn.enumerate_regions(net, domain)
    for name in ("packed_patterns", "vertices", "vertex_offsets", "volumes", "interior_points", "facet_offsets",
                 "facet_equations", "jacobians", "offsets", "output_errors"):
        a, b = getattr(taken, name), getattr(gathered, name)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name
    for name in taken.complex.cells.__dataclass_fields__:
        assert np.array_equal(getattr(taken.complex.cells, name), getattr(gathered.complex.cells, name)), name


@pytest.mark.parametrize("consume", [False, True])
@pytest.mark.parametrize("flagged", [False, True])
def test_units_identically_zero_are_gathered_where_any_cell_has_one(consume, flagged):
    """A gather copies the parts' flags of units identically zero where some cell has one, and
    otherwise makes them zeros without copying the parts' (the rule: no cell has one): both
    as the plain way, with the dtype and shape of the parts' flags."""
    from regionenum.engine.cells import CellSet
    cells = rn.enumerate_regions(random_net([2, 8, 8, 1], 7), rn.Box([-1, -1], [1, 1])).complex.cells
    assert not cells.zero.any() and cells.zero.shape[1] == 2
    third = len(cells) // 3
    parts = [cells.take(np.arange(third)), cells.take(np.arange(third, len(cells)))]
    if flagged:
        parts[0].zero[3, 1] = 0b0100_0000
        parts[1].zero[[0, -1], 0] = 0b1000_0001
    order = np.random.default_rng(5).permutation(len(cells))
    plain = CellSet.concat(parts).take(order)
    gathered = CellSet.gather(parts, order, consume=consume)
    assert gathered.zero.dtype == plain.zero.dtype and gathered.zero.shape == plain.zero.shape
    assert np.array_equal(gathered.zero, plain.zero)
    assert np.count_nonzero(gathered.zero) == (3 if flagged else 0)  # three flagged bytes
