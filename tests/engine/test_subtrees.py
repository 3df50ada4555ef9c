"""A run cut into subtrees after its first layer, enumerated on the threads of idle cores, gives
the result of one uncut run: the same regions in the same order, the same counts; and the same
result, sign counts included, however many threads take the subtrees."""
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import regionenum as rn
from regionenum.engine import subtrees
from regionenum.engine.api import _checked
from regionenum.engine.assemble import SECONDS_PER_GENERATOR
from regionenum.engine.polytope_step import PolytopeStep
from tests.engine.test_parallel import CASES, _same
from tests.oracles import random_net


@pytest.fixture
def cut(monkeypatch):
    """Every run with enough first-layer pieces is cut into subtrees, however small."""
    monkeypatch.setattr(subtrees, "SUBTREE_WORK", 0)
    monkeypatch.setattr(subtrees, "SUBTREE_CELLS", 4)
    monkeypatch.setattr(subtrees, "LINE_SUBTREE_WORK", 0)
    monkeypatch.setattr(subtrees, "LINE_SUBTREE_CELLS", 4)


def _uncut(run, *args, **kwargs):
    """``run(*args, **kwargs)`` in one step, batch after batch in this thread."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subtrees, "SUBTREE_WORK", np.inf)
        patch.setattr(subtrees, "LINE_SUBTREE_WORK", np.inf)
        return run(*args, **kwargs)


@pytest.mark.parametrize("net,domain", CASES, ids=["box2d", "box3d", "plane", "triangle", "one_layer",
                                                    "max_and_linear"])
def test_subtrees_give_the_uncut_result(net, domain, cut):
    whole = _uncut(rn.enumerate_regions, net, domain)
    regions = rn.enumerate_regions(net, domain)
    _same(whole, regions)
    np.testing.assert_allclose(regions.jacobians, whole.jacobians, rtol=1e-12, atol=1e-12)
    counted = rn.count_regions(net, domain)
    assert counted == len(whole) and counted.bounded == int(whole.bounded.sum()) and counted.complete


def test_the_cut_is_made_and_does_not_depend_on_the_threads(cut, monkeypatch):
    net, box = CASES[0]
    entries = []
    original = subtrees.runs_of_pieces
    monkeypatch.setattr(subtrees, "runs_of_pieces", lambda *a: entries.append(original(*a)) or entries[-1])
    on_two = rn.enumerate_regions(net, box)
    assert len(entries[-1]) == subtrees.SUBTREES  # the run was cut, into the most subtrees
    monkeypatch.setattr(subtrees, "steady_idle_cpus", lambda: 1)  # one thread takes every subtree in turn
    on_one = rn.enumerate_regions(net, box)
    assert on_one.sign_stages == on_two.sign_stages
    _same(on_one, on_two)
    np.testing.assert_allclose(on_one.output_errors, on_two.output_errors, rtol=1e-12)


def test_how_many_subtrees():
    def count_for(net, domain):
        run = _checked(net, domain, 1e-9, None, None, 1024, 1, None)
        step = PolytopeStep(run.floats, run.run_domain, 1e-9, 1024, keep=False)
        tally = subtrees.Tally()
        return subtrees.subtree_count(step, subtrees.first_split(step, tally))

    square, cube = rn.Box([-1, -1], [1, 1]), rn.Box(-np.ones(4), np.ones(4))
    assert count_for(random_net([2, 8, 8, 1], 0), square) == 1  # small work: not cut
    # 1,949 pieces: seven subtrees of 256, rounded up to a multiple of the step (so that two or
    # four threads share them evenly)
    assert count_for(random_net([2, 64, 64, 64, 1], 0), square) == 2 * subtrees.SUBTREES_STEP
    assert count_for(random_net([2, 128, 128, 128, 1], 0), square) == subtrees.SUBTREES
    # large work is cut finer: 1,000 lines foretell about 460,000 pieces, times 2,000 units
    wide = random_net([2, 1000, 1000, 1000, 1], 0)
    assert subtrees.SUBTREES < count_for(wide, square) <= subtrees.MOST_SUBTREES
    assert count_for(random_net([4, 24, 64, 64, 1], 0), cube) == 1  # four inputs: each batch's split is shared
    assert count_for(random_net([2, 64, 1], 0), square) == 1  # one layer that splits: nothing after it
    line = rn.Box([-1], [1])
    assert count_for(random_net([1, 128, 128, 1], 0), line) == 1  # one input: small work
    assert count_for(random_net([1, 512, 512, 512, 1], 0), line) >= 2


@pytest.mark.parametrize("leaky", [False, True])
def test_one_input_cut_gives_the_uncut_result(leaky, cut, monkeypatch):
    """On one input the pieces are intervals: a run cut after its first layer gives the uncut
    run's regions, in order, with its maps; a Slice along a line too."""
    acts = [("leaky_relu", 0.1)] * 3 + ["identity"] if leaky else None
    net = random_net([1, 24, 24, 16, 2], 3, activations=acts)
    line = rn.Box([-2.0], [2.5])
    runs = []
    original = subtrees.runs_of_pieces
    monkeypatch.setattr(subtrees, "runs_of_pieces", lambda *a: runs.append(original(*a)) or runs[-1])
    whole = _uncut(rn.enumerate_regions, net, line)
    regions = rn.enumerate_regions(net, line)
    assert len(runs) == 1 and len(runs[0]) > 1  # the cut run was cut, the uncut one not
    _same(whole, regions)
    np.testing.assert_allclose(regions.jacobians, whole.jacobians, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(regions.volumes, whole.volumes, rtol=1e-12)
    along = rn.Slice([0.3, -0.1], [[1.0], [0.5]], rn.Box([-1.0], [1.0]))
    net2 = random_net([2, 24, 24, 1], 4)
    _same(_uncut(rn.enumerate_regions, net2, along), rn.enumerate_regions(net2, along))


def test_a_slice_is_cut_after_its_first_layer_that_splits(cut, monkeypatch):
    """A Slice's map is a linear first layer: the run is cut after the layer behind it."""
    net = random_net([3, 12, 12, 1], 7)
    plane = rn.Slice([0.1, 0.0, -0.2], [[1.0, 0.0], [0.5, 1.0], [0.0, -0.7]], rn.Box([-1, -1], [1, 1]))
    whole = _uncut(rn.enumerate_regions, net, plane)
    runs = []
    original = subtrees.runs_of_pieces
    monkeypatch.setattr(subtrees, "runs_of_pieces", lambda *a: runs.append(original(*a)) or runs[-1])
    _same(whole, rn.enumerate_regions(net, plane))
    assert len(runs[-1]) > 1 and rn.count_regions(net, plane) == len(whole)


def test_exact_answers_from_several_threads(cut):
    """Hyperplanes of the second layer through the vertices of a grid cut by the first: their
    signs there are exact zeros, asked from the subtrees on every thread; the count is the
    uncut run's."""
    k = np.arange(1, 8) / 8.0
    grid = np.vstack([np.column_stack([np.ones(7), np.zeros(7)]), np.column_stack([np.zeros(7), np.ones(7)])])
    first = (grid, -np.concatenate([k, k]))
    # x + y = c and x - y = c through the grid's vertices, read through the first layer's ReLUs
    # (each on where its coordinate exceeds its line): sums of the units' outputs
    relu_sum = np.vstack([np.concatenate([np.ones(7), np.ones(7)]), np.concatenate([np.ones(7), -np.ones(7)])])
    second = (np.repeat(relu_sum, 5, axis=0), -np.repeat([[0.25, 0.5, 1.0, 1.5, 2.0]], 2, axis=0).ravel())
    net = rn.Network.from_layers([first, second, (np.ones((1, 10)), np.zeros(1))])
    box = rn.Box([0, 0], [1, 1])
    whole, counted = _uncut(rn.count_regions, net, box), rn.count_regions(net, box)
    assert counted == whole and counted.complete
    stages = counted.sign_stages
    assert stages["exact zeros"] + stages["float64 expansions"] + stages["exact arithmetic"] > 0
    _same(_uncut(rn.enumerate_regions, net, box), rn.enumerate_regions(net, box))


def test_progress_from_the_threads_adds_up(cut):
    net, box = CASES[0]
    seen = []
    counted = rn.count_regions(net, box, progress=seen.append)
    regions = [p.regions for p in seen]
    assert regions == sorted(regions) and regions[-1] == counted
    assert seen[-1].pending_cells == 0 and seen[-1].done == pytest.approx(1.0)
    assert seen[0].layer == 0 and seen[0].pending_cells > 0  # the first layer's report


def test_a_time_limit_stops_every_subtree(cut):
    """A run of seconds (6 layers of 300 units: about 5 s here, a hundred times the limit) stops
    at the limit; a smaller net counted in less than the limit once the count got faster."""
    rng = np.random.default_rng(5)
    widths = [2] + [300] * 6 + [1]
    net = rn.Network.from_layers([(rng.normal(size=(b, a)), rng.normal(size=b))
                                  for a, b in zip(widths[:-1], widths[1:])])
    counted = rn.count_regions(net, rn.Box([-1, -1], [1, 1]), time_limit=0.05)
    assert not counted.complete and counted.stop_reason == "time_limit"
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]), time_limit=0.05)
    assert not regions.complete and regions.stop_reason == "time_limit"


#: A 2-D net whose count is cut into subtrees and takes over a minute (a net of 6 x 160 units,
#: 2-4 s, came within 2.5 times of the test's 1 s before its signal). It says when it has cut
#: the run into subtrees (on a loaded machine that took more than a second).
SUBTREES_RUN = textwrap.dedent("""
    import numpy as np, regionenum as rn, sys
    from regionenum.engine import subtrees
    rng = np.random.default_rng(0)
    widths = [2] + [400] * 8 + [1]
    net = rn.Network.from_layers([(rng.normal(0, np.sqrt(2 / a), size=(b, a)), rng.normal(0, 0.1, size=b))
                                  for a, b in zip(widths[:-1], widths[1:])])
    cuts = []
    original = subtrees.runs_of_pieces

    def cut(*args):
        runs = original(*args)
        cuts.append(len(runs))
        print("cut", flush=True)
        return runs

    subtrees.runs_of_pieces = cut
    print("started", flush=True)
    result = getattr(rn, sys.argv[1])(net, rn.Box([-1, -1], [1, 1]))
    print(result.stop_reason, cuts, flush=True)
""")


@pytest.mark.parametrize("call", ["count_regions", "enumerate_regions"])
def test_sigint_stops_every_subtree(call):
    run = subprocess.Popen([sys.executable, "-c", SUBTREES_RUN, call], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    assert run.stdout.readline().strip() == "started"
    assert run.stdout.readline().strip() == "cut"
    time.sleep(0.5)  # the subtrees at work
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err  # no traceback, no SystemError, no crash
    assert out.strip() == f"interrupted [{subtrees.SUBTREES}]"


def test_the_assembly_estimate_counts_the_finished_subtrees():
    """A time limit leaves room for assembling what every subtree kept: a subtree's step
    estimates the finished subtrees' generators once, and its own once per thread running."""
    net, box = CASES[0]
    run = _checked(net, box, 1e-9, None, None, 1024, 1, None)
    floats, domain = run.floats, run.run_domain
    step = PolytopeStep(floats, domain, 1e-9, 1024, keep=True)
    kept = subtrees._Kept(2)
    kept.add(1000.0)
    sub = step.fork(2, None, kept.before())
    sub.kept_generators += 10  # what this subtree kept
    assert sub.assembly_seconds() == pytest.approx((1000 + 2 * 10) * SECONDS_PER_GENERATOR)


def test_a_progress_callback_that_raises_is_not_called_again(cut):
    net, box = CASES[0]
    calls = []

    def fails(p):
        calls.append(p)
        if len(calls) == 3:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        rn.count_regions(net, box, progress=fails)
    assert len(calls) == 3


def test_a_progress_callback_that_interrupts_stops_every_subtree(cut):
    """A callback raising ``KeyboardInterrupt`` is Ctrl-C: the run ends incomplete, every
    subtree stopped, not only the one whose report it was."""
    rng = np.random.default_rng(5)
    net = rn.Network.from_layers([(rng.normal(size=(60, 2)), rng.normal(size=60)),
                                  (rng.normal(size=(60, 60)), rng.normal(size=60)),
                                  (np.ones((1, 60)), np.zeros(1))])
    box = rn.Box([-1, -1], [1, 1])
    calls = []

    def interrupts(p):
        calls.append(p)
        if len(calls) == 3:
            raise KeyboardInterrupt

    counted = rn.count_regions(net, box, progress=interrupts)
    assert not counted.complete and counted.stop_reason == "interrupted"
    assert int(counted) < rn.count_regions(net, box) // 2 and len(calls) == 3
