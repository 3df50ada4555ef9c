"""A wide first layer's pieces wait on the stack for the rest of the layer: the root cells are cut
by its first stage, and each batch of those pieces by the rest when it is popped, so that a run
never holds all of the first layer's pieces. The regions, counts and order are those of the
layer cut at once, serially, in subtrees, on worker processes and under budgets."""
import numpy as np
import pytest

import regionenum as rn
from regionenum.engine import polytope_step, subtrees
from tests.engine.test_parallel import CASES
from tests.oracles import random_net

SQUARE = rn.Box([-1, -1], [1, 1])
PLANE = rn.Slice([0.1, 0.0, -0.2], [[1.0, 0.0], [0.5, 1.0], [0.0, -0.7]], SQUARE)


@pytest.fixture
def waits(monkeypatch):
    """The rest of every first layer that would make more than a few dozen pieces waits, in
    batches cut into a few dozen pieces; returns the ``units_done`` of the entries made."""
    monkeypatch.setattr(polytope_step, "FIRST_LAYER_PIECES", 40)
    monkeypatch.setattr(polytope_step, "REST_PIECES", 30)
    made = []
    original = polytope_step.PolytopeStep.batch_entries

    def recorded(self, *args, **kwargs):
        entries = original(self, *args, **kwargs)
        made.extend(e.units_done for e in entries)
        return entries

    monkeypatch.setattr(polytope_step.PolytopeStep, "batch_entries", recorded)
    return made


def _same(a, b):
    """The same regions in the same order: the same patterns, vertex and facet counts; vertices,
    and so volumes, to the last bits (the pieces of a layer cut in other stages get their
    vertices from other intersections: a region of area 1e-12 differed by 2e-22)."""
    assert np.array_equal(a.packed_patterns, b.packed_patterns) and np.array_equal(a.bounded, b.bounded)
    assert np.array_equal(a.vertex_offsets, b.vertex_offsets) and np.array_equal(a.facet_offsets, b.facet_offsets)
    np.testing.assert_allclose(a.vertices, b.vertices, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.volumes, b.volumes, rtol=1e-10, atol=1e-18)
    assert a.complete and b.complete


def _at_once(run, *args, **kwargs):
    """``run(*args, **kwargs)`` with the first layer cut at once, however wide."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(polytope_step, "FIRST_LAYER_PIECES", np.inf)
        return run(*args, **kwargs)


@pytest.mark.parametrize("net,domain", [(random_net([2, 150, 20, 1], 1), SQUARE),
                                        (random_net([3, 40, 10, 1], 2), rn.Box(-np.ones(3), np.ones(3))),
                                        (random_net([3, 100, 12, 1], 3), PLANE),
                                        (random_net([2, 120, 1], 4), SQUARE),
                                        (random_net([2, 200, 8, 1], 5), rn.Polytope.whole_space(2))],
                         ids=["square", "cube", "slice", "one_layer", "whole_plane"])
def test_the_rest_of_a_wide_first_layer_waits_and_the_regions_stay(net, domain, waits):
    whole = _at_once(rn.enumerate_regions, net, domain)
    whole_count = _at_once(rn.count_regions, net, domain)
    waits.clear()
    regions = rn.enumerate_regions(net, domain)
    assert max(waits) > 0  # some batches waited for the rest of the first layer
    _same(whole, regions)
    np.testing.assert_allclose(regions.jacobians, whole.jacobians, rtol=1e-12, atol=1e-12)
    assert np.array_equal(regions.facet_units, whole.facet_units)
    counted = rn.count_regions(net, domain)
    assert counted == whole_count == len(whole) and counted.bounded == whole_count.bounded and counted.complete


@pytest.mark.parametrize("threads", [1, 2])
def test_subtrees_and_workers_take_the_waiting_pieces(threads, waits, monkeypatch):
    """Subtrees (on one thread or two) and worker processes each cut their runs of waiting
    pieces by the rest of the layer: the serial result, and subtrees' sign counts do not depend
    on the threads."""
    net = random_net([2, 150, 30, 1], 6)
    whole = _at_once(rn.enumerate_regions, net, SQUARE)
    cuts = []
    original = subtrees.runs_of_pieces
    monkeypatch.setattr(subtrees, "runs_of_pieces", lambda *a: cuts.append(original(*a)) or cuts[-1])
    monkeypatch.setattr(subtrees, "SUBTREE_WORK", 0)
    monkeypatch.setattr(subtrees, "steady_idle_cpus", lambda: threads)
    regions = rn.enumerate_regions(net, SQUARE)
    assert len(cuts[-1]) == subtrees.SUBTREES  # the pieces foretold: the most subtrees
    assert all(part.units_done > 0 for run in cuts[-1] for part in run)
    _same(whole, regions)
    if threads == 2:
        monkeypatch.setattr(subtrees, "steady_idle_cpus", lambda: 1)
        assert rn.enumerate_regions(net, SQUARE).sign_stages == regions.sign_stages
    _same(whole, rn.enumerate_regions(net, SQUARE, workers=2))
    assert rn.count_regions(net, SQUARE, workers=2) == len(whole)


def test_budgets_stop_a_run_whose_first_layer_waits(waits):
    net = random_net([2, 150, 30, 1], 7)
    total = _at_once(rn.count_regions, net, SQUARE)
    some = rn.count_regions(net, SQUARE, max_regions=500)
    assert int(some) == 500 and not some.complete and some.stop_reason == "max_regions"
    partial = rn.enumerate_regions(net, SQUARE, time_limit=1e-4)
    assert not partial.complete and partial.stop_reason == "time_limit" and len(partial) < int(total)


def test_only_the_first_layer_waits_and_only_when_wide(waits):
    """A later layer is cut at once however many pieces it makes, and a first layer whose
    pieces are few (here a 4-line layer) is cut at once too."""
    rng = np.random.default_rng(0)
    narrow_then_wide = rn.Network.from_layers([(rng.normal(size=(4, 2)), 0.3 * rng.normal(size=4)),
                                               (rng.normal(size=(150, 4)), 0.3 * rng.normal(size=150)),
                                               (np.ones((1, 150)), np.zeros(1))])
    rn.count_regions(narrow_then_wide, SQUARE)
    assert not any(waits)
    step = polytope_step.PolytopeStep(CASES[0][0], SQUARE, 1e-9, 1024, keep=False)
    assert step.rest_growth(0, 4) == (16 / 4) ** 2
    assert not step._rest_waits(1, 0, 10**6, 4)  # not the first layer that splits
    assert not step._rest_waits(0, 4, 10**6, 8)  # a batch of waiting pieces: the rest at once
    assert not step._rest_waits(0, 0, 10**6, 16)  # nothing left
    assert step._rest_waits(0, 0, 11, 8) and not step._rest_waits(0, 0, 10, 8)  # 44 and 40 foretold
