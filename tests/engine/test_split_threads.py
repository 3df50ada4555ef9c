"""Splitting in threads: in 4-D a batch's cells are cut into chunks that threads on idle cores
split side by side; the result is the one thread's, bit for bit, exact questions included."""
import numpy as np
import pytest

import regionenum as rn
from regionenum.core import threads
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
