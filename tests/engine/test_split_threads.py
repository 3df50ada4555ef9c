"""Splitting in threads: in 4-D a batch's cells are cut into chunks that threads on idle cores
split side by side; the result is the one thread's, bit for bit, exact questions included. The
same for the chunks' pieces joined array by array (large splits, such as a wide first layer's)."""
import numpy as np
import pytest

import regionenum as rn
from regionenum.core import threads
from regionenum.engine import cells as cells_module
from regionenum.engine import split as split_module
from tests.oracles import random_net


def _coinciding_net():
    """A 4-input net whose second layer has a unit equal to ``x_1 + 0.1`` everywhere
    (``relu(x_1 + 0.1) - relu(-x_1 - 0.1)``): its hyperplane is a first-layer one, so its signs
    there are exactly zero and asked of exact arithmetic."""
    rng = np.random.default_rng(5)
    W1 = np.vstack([rng.normal(size=(6, 4)), [[1.0, 0, 0, 0], [-1.0, 0, 0, 0]]])
    b1 = np.concatenate([0.1 * rng.normal(size=6), [0.1, -0.1]])
    W2 = np.vstack([rng.normal(size=(5, 8)), np.r_[np.zeros(6), 1.0, -1.0]])
    return rn.Network.from_layers([(W1, b1), (W2, rng.normal(size=6) * 0.1), (np.ones((1, 6)), np.zeros(1))])


@pytest.mark.parametrize("net,asks", [(random_net([4, 10, 10, 1], 3), False), (_coinciding_net(), True)],
                         ids=["random", "coinciding"])
def test_threads_split_as_one_thread_does(monkeypatch, net, asks):
    box = rn.Box(-np.ones(4), np.ones(4))
    monkeypatch.setattr(split_module, "SHARED_DIM", 99)  # batches in chunks of CHUNK_WORK only
    one = rn.enumerate_regions(net, box)
    one_count = rn.count_regions(net, box)

    shared = []

    def recording(fn, items):
        shared.append(len(items))
        return threads.map_in_threads(fn, items)

    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)
    monkeypatch.setattr(split_module, "usable_cpus", lambda: 2)  # as many chunks on any machine
    monkeypatch.setattr(split_module, "SHARED_DIM", 4)
    monkeypatch.setattr(split_module, "SHARED_WORK", 0)  # every batch shared, however small
    monkeypatch.setattr(split_module, "map_in_threads", recording)
    both = rn.enumerate_regions(net, box)
    both_count = rn.count_regions(net, box)
    assert shared and max(shared) >= split_module.SHARES * 2  # the batches did go to threads
    assert len(both) == len(one) == int(both_count) == int(one_count)
    for name in ("packed_patterns", "vertex_offsets", "vertices", "facet_offsets", "facet_equations",
                 "volumes", "jacobians", "offsets"):
        assert np.array_equal(getattr(both, name), getattr(one, name)), name
    assert both.sign_stages == one.sign_stages and both_count.sign_stages == one_count.sign_stages
    assert (one.exact_calls > 0) == asks  # the coinciding unit's questions, asked from threads


def test_chunks_are_even_and_cover_the_cells():
    """At least ``parts`` runs (cells permitting) of about equal generator counts, in order."""
    gen_off = np.concatenate([[0], np.cumsum(np.random.default_rng(0).integers(3, 40, size=1000))])
    for size, parts in ((10**9, 8), (500, 1), (500, 8), (1, 1)):
        chunks = split_module._chunks(gen_off, size, parts)
        assert np.array_equal(np.concatenate(chunks), np.arange(1000))
        counts = [gen_off[c[-1] + 1] - gen_off[c[0]] for c in chunks]
        assert len(chunks) >= min(max(parts, -(-gen_off[-1] // size)), 1000)
        assert max(counts) <= max(-(-gen_off[-1] // len(chunks)), 1) + 40  # within a cell of even
    assert len(split_module._chunks(np.array([0, 5, 9]), 10**9, 8)) == 2  # a run per cell at most


def _recorded_splits(monkeypatch, net, box):
    """An enumeration and a count of ``net`` on ``box``, and every split's pieces (their arrays)
    and parents, in the order made."""
    from regionenum.engine import polytope_step
    splits = []
    original = polytope_step.split

    def recorded(*args, **kwargs):
        cut = original(*args, **kwargs)
        pieces = cut.pieces
        if isinstance(pieces, split_module.CellParts):  # a count's finished pieces: as one set
            pieces = split_module.CellSet.concat(pieces.parts)
        splits.append([getattr(pieces, name).copy() for name in pieces.__dataclass_fields__] + [cut.parent])
        return cut

    monkeypatch.setattr(polytope_step, "split", recorded)
    return rn.enumerate_regions(net, box), rn.count_regions(net, box), splits


@pytest.mark.parametrize("net,dim", [(random_net([2, 40, 12, 1], 4), 2), (_coinciding_net(), 4)],
                         ids=["random", "coinciding"])
def test_pieces_joined_array_by_array_are_the_concatenated_ones(monkeypatch, net, dim):
    """Every split's pieces joined by a consuming gather (as large ones are, each chunk's arrays
    freed once copied; with exact questions, in their parents' order): the same pieces in the
    same order, and so the same enumeration and count, bit for bit, as the plain
    concatenation."""
    box = rn.Box(-np.ones(dim), np.ones(dim))
    with monkeypatch.context() as m:
        one, one_count, one_splits = _recorded_splits(m, net, box)
    gathered = []
    original = split_module.CellSet.gather

    def recording(parts, order, consume=False):
        gathered.append(consume)
        return original(parts, order, consume)

    monkeypatch.setattr(cells_module, "TRIM_BYTES", 0)
    monkeypatch.setattr(split_module.CellSet, "gather", staticmethod(recording))
    joined, joined_count, joined_splits = _recorded_splits(monkeypatch, net, box)
    assert gathered and all(gathered)
    assert len(joined_splits) == len(one_splits)
    for a, b in zip(joined_splits, one_splits):
        assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b))
    assert len(joined) == len(one) == int(joined_count) == int(one_count)
    for name in ("packed_patterns", "vertices", "facet_equations", "volumes", "jacobians", "offsets"):
        assert np.array_equal(getattr(joined, name), getattr(one, name)), name
    assert joined.sign_stages == one.sign_stages and joined_count.sign_stages == one_count.sign_stages
    assert (one.exact_calls > 0) == (dim == 4)


@pytest.mark.parametrize("large", [False, True])
def test_joined_pieces_are_concatenated_then_taken(monkeypatch, large):
    """``CellSet.join`` (a split's passes put together, in their parents' order after exact
    answers; a result's cells in pattern order) against ``CellSet.concat(parts).take(order)``,
    for small parts (concatenated, then taken in one pass) and large ones (gathered array by
    array, the parts consumed); and the concatenation against each part's cells taken."""
    if large:
        monkeypatch.setattr(cells_module, "TRIM_BYTES", 0)
    cells = rn.enumerate_regions(random_net([2, 10, 10, 1], 3), rn.Box([-1, -1], [1, 1])).cells
    rng = np.random.default_rng(2)
    cuts = np.r_[0, np.sort(rng.choice(np.arange(1, len(cells)), 4, replace=False)), len(cells)]
    for order in (None, rng.permutation(len(cells))):
        parts = [cells.take(np.arange(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
        want = split_module.CellSet.concat(parts)
        want = want if order is None else want.take(order)
        if order is None:
            for part, (a, b) in zip(parts, zip(cuts[:-1], cuts[1:])):
                taken = want.take(np.arange(a, b))
                for name in want.__dataclass_fields__:
                    assert np.array_equal(getattr(part, name), getattr(taken, name)), name
        got = split_module.CellSet.join(parts, order)
        for name in want.__dataclass_fields__:
            assert getattr(got, name).dtype == getattr(want, name).dtype
            assert np.array_equal(getattr(got, name), getattr(want, name)), name
        assert (parts == []) == large  # consumed where gathered


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(2), np.ones(2)), rn.Polytope(np.array([[1.0, 2.0]]), [-0.5])],
                         ids=["box", "half-plane"])
def test_a_counts_finished_parts_are_counted_as_they_are(monkeypatch, domain):
    """A count's last split hands its pieces on in the parts its chunks made, not joined
    (``CellParts``): with a chunk per cell they are many, and the count (bounded regions too,
    and on a half-plane the pieces of each region merged by pattern) is the enumeration's;
    ``max_regions`` stops within any part."""
    from regionenum.engine import polytope_step
    net = random_net([2, 12, 12, 1], 8, bias_std=0.5)
    full = rn.enumerate_regions(net, domain)
    monkeypatch.setattr(split_module, "CHUNK_WORK", 1)  # a chunk, and so a part, per cell
    finished = []
    original = polytope_step.PolytopeStep._finish

    def recorded(self, cells, *args):
        finished.append(len(cells.parts) if isinstance(cells, split_module.CellParts) else 1)
        return original(self, cells, *args)

    monkeypatch.setattr(polytope_step.PolytopeStep, "_finish", recorded)
    count = rn.count_regions(net, domain)
    assert max(finished) > 10  # the parts were many
    assert count == len(full) and count.bounded == int(full.bounded.sum()) and count.complete
    if isinstance(domain, rn.Box):
        for n in (1, 7, len(full) // 2 + 1, len(full) - 1):
            part = rn.count_regions(net, domain, max_regions=n)
            assert int(part) == n and not part.complete and part.stop_reason == "max_regions"


def test_a_splits_pieces_hold_at_most_twice_their_room(monkeypatch):
    """The kernel's output buffers grow at the pace of the input split so far; where that
    overshoots (here: 400 nearly horizontal lines that all cut the first of 32 strips of the
    plane, which come first), the pieces are copied to their size rather than handed on as views
    of buffers more than twice as large (4.8 times, before)."""
    k, m = 32, 400
    rng = np.random.default_rng(0)
    cuts = np.linspace(-1, 1, k + 1)[1:-1]
    W1 = np.vstack([np.kron(np.eye(2), np.ones((k - 1, 1))), np.eye(2)])  # strips both ways, and x, y
    W2 = np.hstack([np.zeros((m, 2 * k - 2)), rng.uniform(-0.001, 0.001, (m, 1)), np.ones((m, 1))])
    net = rn.Network.from_layers([(W1, np.concatenate([-cuts, -cuts, np.zeros(2)])),
                                  (W2, -rng.uniform(-1, -1 + 2 / k, m)), (np.ones((1, m)), np.zeros(1))],
                                 [rn.Activation("relu", linear=(2 * k - 2, 2 * k - 1)), "relu", "identity"])
    held = []
    original = split_module.split_cells

    def recorded(*args):
        pieces, questions = original(*args)
        for a in pieces:
            if a.nbytes > 100_000:  # the buffer behind the view (a kernel's array) against the view
                held.append((a.nbytes, memoryview(a.base).nbytes if a.base is not None else a.nbytes))
        return pieces, questions

    monkeypatch.setattr(split_module, "split_cells", recorded)
    box = rn.Box([-1, -1], [1, 1])
    assert int(rn.count_regions(net, box)) == len(rn.enumerate_regions(net, box)) > 15000
    assert held and max(buffer / used for used, buffer in held) <= 2.05
