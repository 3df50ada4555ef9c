"""Budgets and progress: bad values are refused before work; max_regions and time_limit stop cleanly with the result marked incomplete."""
import time

import numpy as np
import pytest

import regionenum as rn
from regionenum.engine.driver import Budget, Driver, Entry, TimeUp
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("kwargs,message", [({"max_regions": 0}, "max_regions"),
                                            ({"time_limit": -1}, "time_limit"),
                                            ({"tol": 0.0}, "tol")])
def test_bad_budgets(kwargs, message):
    with pytest.raises(rn.RegionEnumError, match=message):
        rn.count_regions(random_net([2, 4, 1], 0), BOX2, **kwargs)


@pytest.mark.parametrize("kwargs,error,message", [
    ({"tol": "1e-9"}, rn.ArgumentTypeError, "tol must be a number, got '1e-9'"),
    ({"tol": None}, rn.ArgumentTypeError, "tol must be a number"),
    ({"time_limit": "5"}, rn.ArgumentTypeError, "time_limit must be a number"),
    ({"max_regions": "10"}, rn.ArgumentTypeError, "max_regions must be a number, got '10'"),
    ({"max_regions": float("nan")}, rn.InvalidArgumentError, "max_regions must be a positive integer"),
    ({"max_regions": 2.5}, rn.InvalidArgumentError, "max_regions must be a positive integer"),
    ({"batch_size": True}, rn.ArgumentTypeError, "batch_size must be a number"),
    ({"workers": None}, rn.ArgumentTypeError, "workers must be a number"),
    ({"progress": 5}, rn.ArgumentTypeError, "progress must be callable"),
    ({"client": "x"}, rn.ArgumentTypeError, "client must be a dask.distributed Client"),
    ({"certify": "no"}, rn.ArgumentTypeError, "certify must be True or False, got 'no'"),
    ({"certify": None}, rn.ArgumentTypeError, "certify must be True or False"),
    ({"certify": 1}, rn.ArgumentTypeError, "certify must be True or False")])
def test_options_of_the_wrong_kind_are_refused_by_name_before_any_work(kwargs, error, message, monkeypatch):
    """A string where a number belongs raised a bare TypeError; the string "no" for certify
    certified; a progress that cannot be called failed after the first batch. Refused before
    the run starts (no step is made), by both calls."""
    from regionenum.engine import api
    with monkeypatch.context() as patched:
        patched.setattr(api, "PolytopeStep", None)  # a run that got as far would fail otherwise
        for run in (rn.count_regions, rn.enumerate_regions):
            with pytest.raises(error, match=message):
                run(random_net([2, 4, 1], 0), BOX2, **kwargs)
    # the kinds that are right: numpy's numbers and bools, a whole float
    assert int(rn.count_regions(random_net([2, 4, 1], 0), BOX2, max_regions=10.0, time_limit=np.float32(60),
                                workers=np.int64(1), certify=np.bool_(False))) > 0


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


def test_a_budget_spent_while_the_layers_bounds_are_worked_out(monkeypatch):
    """A run works out every layer's norm bounds at its start (certificates of wide layers take
    milliseconds each): a time limit stops that work between two bounds, and the run ends
    incomplete without regions, the bounds not worked out left for later."""
    import time

    from regionenum.core import network
    keep = network._keep_bound

    def slow(layer, name):
        time.sleep(0.02)
        keep(layer, name)

    monkeypatch.setattr(network, "_keep_bound", slow)
    for run in (rn.count_regions, rn.enumerate_regions):
        net = random_net([2, 8, 8, 8, 1], 1)
        found = run(net, BOX2, time_limit=0.01)
        assert len(found) == 0 if run is rn.enumerate_regions else int(found) == 0
        assert not found.complete and found.stop_reason == "time_limit"
        assert any("norm_bounds" not in vars(layer) for layer in net.layers[1:])


class _SlowStep:
    """A step of ``batches`` batches of ``seconds`` each (one region per batch), whose kept results
    would take ``assembly`` seconds per region to assemble."""

    def __init__(self, batches: int, seconds: float, assembly: float):
        self.batches, self.seconds, self.assembly, self.kept = batches, seconds, assembly, 0

    def start(self, tally):
        return [Entry(0, [None], lambda: None)]

    def process(self, entry, tally):
        time.sleep(self.seconds)
        tally.count += 1
        self.kept += 1
        return [Entry(entry.layer + 1, [None], lambda: None)] if entry.layer + 1 < self.batches else []

    def assembly_seconds(self):
        return self.kept * self.assembly


def test_a_time_limit_leaves_room_for_the_assembly():
    """A run that keeps results stops while their assembly still fits in the time limit (the
    enumeration of a 4-D net overran a 1 s limit by 0.9 s assembling what it had found)."""
    tally = Driver(_SlowStep(100, 0.001, 20.0), Budget(time_limit=30.0)).run()
    assert not tally.complete and tally.stop_reason == "time_limit" and tally.count == 2
    tally = Driver(_SlowStep(100, 0.001, 0.0), Budget(time_limit=30.0)).run()
    assert tally.complete and tally.count == 100


def test_a_run_whose_last_batch_ends_late_is_complete():
    # the limit passes inside the one batch (the first in a process starts a few ms late)
    tally = Driver(_SlowStep(1, 0.5, 0.0), Budget(time_limit=0.2)).run()
    assert tally.complete and tally.stop_reason is None and tally.count == 1


@pytest.mark.parametrize("limit", [0.3, 1.0])
def test_enumerations_stop_with_room_to_assemble(limit, monkeypatch):
    """Whatever the limit, an enumeration stopped by it is assembled with a consistent result.
    Each batch is slowed down (10 ms) so that the limit stops the run: the whole enumeration
    takes 0.2 s."""
    from regionenum.engine.polytope_step import PolytopeStep
    net = random_net([3, 24, 24, 1], 5)
    box = rn.Box(-np.ones(3), np.ones(3))
    full = rn.enumerate_regions(net, box)
    process = PolytopeStep.process
    monkeypatch.setattr(PolytopeStep, "process", lambda *a: (time.sleep(0.01), process(*a))[1])
    part = rn.enumerate_regions(net, box, time_limit=limit, batch_size=16)
    assert not part.complete and part.stop_reason == "time_limit" and 0 < len(part) < len(full)
    assert {p.tobytes() for p in part.patterns} <= {p.tobytes() for p in full.patterns}
    assert np.all(part.volumes > 0) and np.all(np.diff(part.vertex_offsets) >= 4)


class _StopsInBatch(_SlowStep):
    """A step whose third batch finds a region and then meets the deadline inside."""

    def process(self, entry, tally):
        if entry.layer == 2:
            tally.count += 1
            raise TimeUp
        return super().process(entry, tally)


def test_progress_is_reported_where_a_budget_stops_a_later_batch():
    seen = []
    tally = Driver(_StopsInBatch(10, 0.0, 0.0), Budget(time_limit=30.0), progress=seen.append).run()
    assert tally.stop_reason == "time_limit" and tally.count == 3
    assert [p.regions for p in seen] == [1, 2, 3]
