"""The count on one input by values at the breakpoints (:mod:`regionenum.engine.line_step`): its
error bounds hold at the exact breakpoints, it decides generic networks by itself, hands
degenerate ones to the general step, and gives the exact oracle's count either way."""
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regionenum as rn
from regionenum.core.balance import for_float_stages
from regionenum.core.network import LAYER_BOUNDS
from regionenum.engine import api, line_step
from regionenum.engine.driver import Tally
from regionenum.engine.kernels.breakpoints import UP
from tests.oracles import random_net, regions_1d
from tests.rewrites import duplicated, permuted, rescaled


@pytest.fixture
def watched(monkeypatch):
    """Records of the line step's runs: ``values`` (each layer's :class:`LayerValues`, in the
    order the runs came) and ``unproven`` (the reasons it handed a count on)."""
    seen = {"values": [], "unproven": []}
    init, process = line_step.LayerValues.__init__, line_step.LineStep.process

    def values_init(self, layer, points, tol):
        init(self, layer, points, tol)
        seen["values"].append(self)

    def watched_process(self, entry, tally):
        try:
            return process(self, entry, tally)
        except line_step.Unproven as err:
            seen["unproven"].append(str(err))
            raise

    monkeypatch.setattr(line_step.LayerValues, "__init__", values_init)
    monkeypatch.setattr(line_step.LineStep, "process", watched_process)
    return seen


def _general_count(net, box, monkeypatch):
    """The count of the general step (the line step switched off)."""
    with monkeypatch.context() as m:
        m.setattr(api, "line_applies", lambda network, domain: False)
        return rn.count_regions(net, box)


def _exact_values(network, layer, x):
    """Layer ``layer``'s pre-activations at the exact point ``x`` (a Fraction), in fractions."""
    h = [x]
    for l, lay in enumerate(network.layers[:layer + 1]):
        z = [sum(Fraction(float(w)) * v for w, v in zip(row, h)) + Fraction(float(b)) for row, b in zip(lay.W, lay.b)]
        if l == layer:
            return z
        act = lay.activation
        h = [v if (v > 0 or i in act.linear or not act.splits) else Fraction(act.off_slope) * v
             for i, v in enumerate(z)]


def _breakpoints(network, layer, lo, hi):
    """The exact breakpoints before ``layer`` splits: the ends of the regions of the layers before it."""
    if layer == 0:
        return [Fraction(lo), Fraction(hi)]
    before = rn.Network.from_layers([(lay.W, lay.b) for lay in network.layers[:layer]],
                                    [lay.activation for lay in network.layers[:layer]])
    pieces = regions_1d(before, lo, hi)
    return [pieces[0][0]] + [right for _, right, _ in pieces]


def _nets():
    """Networks whose signs the line step proves: random, mixed magnitudes, LeakyReLU of several
    slopes, linear units and an identity layer, layers scaled by 2^+-200, a tiny box far out."""
    rng = np.random.default_rng(5)
    mixed = [(W * 10.0 ** rng.uniform(-3, 3, W.shape), b) for W, b in
             [(rng.normal(size=(6, 1)), rng.normal(size=6)), (rng.normal(size=(5, 6)), rng.normal(size=5)),
              (rng.normal(size=(1, 5)), np.zeros(1))]]
    scaled = [(np.ldexp(W, 200), np.ldexp(b, 200)) if l == 1 else (W, b) for l, (W, b) in enumerate(
        [(rng.normal(size=(7, 1)), rng.normal(size=7)), (rng.normal(size=(7, 7)), rng.normal(size=7)),
         (rng.normal(size=(6, 7)), rng.normal(size=6)), (rng.normal(size=(1, 6)), np.zeros(1))])]
    scaled[2] = (np.ldexp(scaled[2][0], -200), scaled[2][1])
    return [
        (random_net([1, 8, 8, 8, 1], 1, bias_std=0.5), -2.0, 2.0),
        (random_net([1, 24, 24, 1], 2), -1.0, 1.0),
        (random_net([1, 10, 10, 10, 1], 3, activations=[("leaky_relu", 0.1), ("leaky_relu", -0.5),
                                                         ("leaky_relu", 3.0), "identity"]), -2.0, 2.0),
        (random_net([1, 9, 9, 1], 4, activations=[("leaky_relu", 1e-3), rn.Activation("relu", linear=(0, 3)),
                                                   "identity"]), -2.0, 2.0),
        (random_net([1, 6, 5, 6, 1], 6, bias_std=0.5, activations=["relu", "identity", "relu", "identity"]), -2.0, 2.0),
        (rn.Network.from_layers(mixed), -1.0, 1.0),
        (rn.Network.from_layers(scaled), -1.0, 1.0),
        (random_net([1, 8, 8, 1], 7, bias_std=0.0), 1e4 - 1e-3, 1e4 + 1e-3),
        # a row spanning more than float64's exponents (no balancing), values near 2^-900: the
        # 2-norm bound of its rounding once lost its Frobenius factor to underflow
        (rn.Network.from_layers([(np.array([[4.84e-322]]), np.array([5.63e-321])),
                                 (np.array([[1.0], [-1e-319]]), np.array([-1.0, 1e-320]))], ["relu", "relu"]),
         2.5404095197500706e61, 1.2824813003007608e62),
    ]


@pytest.mark.parametrize("case", range(len(_nets())))
def test_bounds_hold_at_the_exact_breakpoints(case, watched):
    """At every layer, every breakpoint and every unit, the computed value is within its bound
    of the exact value at the exact breakpoint (the oracle's, in fractions), and the 2-norm
    bound ``a + c`` covers the whole vector; the count is the oracle's, with no sign left to
    the general step."""
    net, lo, hi = _nets()[case]
    counted = rn.count_regions(net, rn.Box([lo], [hi]), batch_size=1 << 20)  # one run per layer
    assert not watched["unproven"]
    assert counted == len(regions_1d(net, lo, hi)) and counted.exact_calls == 0
    seen, _ = for_float_stages(net)  # rows brought near magnitude 1 by powers of two, where far from it
    for l, values in enumerate(watched["values"]):
        exact = _breakpoints(seen, l, lo, hi)
        assert len(exact) == len(values.Z)
        for i, x in enumerate(exact):
            z = _exact_values(seen, l, x)
            misses = [abs(Fraction(float(zi)) - e) for zi, e in zip(values.Z[i], z)]
            bounds = (values.rn * (values.alpha[i] + values.c_in[i]) + values.beta) * UP
            assert all(m <= Fraction(float(b)) for m, b in zip(misses, bounds)), (l, i)
            assert sum(m * m for m in misses) <= (Fraction(float(values.a[i])) + Fraction(float(values.c[i]))) ** 2


@pytest.mark.parametrize("batch_size", [1, 2, 5, 1024])
@pytest.mark.parametrize("seed", range(4))
def test_the_line_step_counts_generic_networks_itself(seed, batch_size, watched, monkeypatch):
    """Random widths and depths, runs cut anywhere: the same count as the general step and the
    oracle, every sign decided by the float64 filter of the line step."""
    rng = np.random.default_rng(seed)
    widths = [1] + list(rng.integers(2, 30, size=rng.integers(1, 5))) + [1]
    net = random_net(widths, seed, bias_std=0.3)
    box = rn.Box([-3.0], [2.0])
    counted = rn.count_regions(net, box, batch_size=batch_size)
    assert not watched["unproven"]
    assert counted == _general_count(net, box, monkeypatch) == len(regions_1d(net, -3.0, 2.0))
    assert counted.sign_stages["float64 filter"] > 0 and counted.exact_calls == 0


def test_several_workers_count_on_the_line_step_and_hand_on_to_processes(watched, monkeypatch):
    """With ``workers`` above one the line step still counts, in this process (it is faster
    than the general step on several); a count it cannot prove goes to the general step on
    that many processes."""
    net = random_net([1, 12, 12, 1], 3, bias_std=0.3)
    box = rn.Box([-2.0], [2.0])
    assert rn.count_regions(net, box, workers=2) == len(regions_1d(net, -2.0, 2.0))
    assert watched["values"] and not watched["unproven"]
    ran = []

    def unproven(self, entry, tally):
        raise line_step.Unproven("a sign the bounds do not prove")

    def processes(step, budget, progress, workers, client):  # where the count went, not the count
        ran.append((type(step).__name__, workers))
        return Tally()

    monkeypatch.setattr(line_step.LineStep, "process", unproven)
    monkeypatch.setattr(api, "run_parallel", processes)
    rn.count_regions(net, box, workers=2)
    assert ran == [("PolytopeStep", 2)]


def test_a_wide_deep_network_is_counted_without_the_general_step(watched, monkeypatch):
    net = random_net([1] + [128] * 5 + [1], 8)
    box = rn.Box([-1.0], [1.0])
    counted = rn.count_regions(net, box)
    assert not watched["unproven"]
    assert counted == _general_count(net, box, monkeypatch)


def _line_net(rows, later=None):
    """A one-input net whose first layer's units are ``w x + b`` for ``(w, b)`` in ``rows``."""
    W, b = np.array([[w] for w, _ in rows]), np.array([v for _, v in rows])
    layers = [(W, b)] + (later or []) + [(np.ones((1, len(later[-1][1]) if later else len(rows))), np.zeros(1))]
    return rn.Network.from_layers(layers)


@pytest.mark.parametrize("net,reason", [
    (_line_net([(1.0, -0.5), (2.0, -1.0), (-3.0, 1.5)]), "order"),       # three roots at one point
    (_line_net([(1.0, -1.0), (1.0, 0.5)]), "sign"),                      # a root on the domain's end
    (_line_net([(0.75, 0.1), (0.75, 0.1), (-1.0, 0.3)]), "order"),       # a duplicated unit
    (_line_net([(1.0, 0.0), (-1.0, 0.5)], [(np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([0.5, -0.3]))]),
     "sign"),                                                            # a later unit zero at a breakpoint
])
def test_degenerate_networks_go_to_the_general_step(net, reason, watched):
    """Exact zeros at breakpoints and roots that meet are never decided by the line step: it
    hands the count on, and the general step's count is the oracle's."""
    box = rn.Box([-1.0], [1.0])
    counted = rn.count_regions(net, box)
    assert len(watched["unproven"]) == 1 and reason in watched["unproven"][0]
    assert counted == len(regions_1d(net, -1.0, 1.0)) and counted.complete


def test_values_within_the_tolerance_band_go_to_the_general_step(watched):
    """A root 1e-12 from the domain's end: its value there is proven by the bounds, but lies
    within ``tol`` (1e-9 by default) of its size, a band the general step settles exactly."""
    net = _line_net([(1.0, 1.0 - 1e-12), (2.0, 0.3)])
    box = rn.Box([-1.0], [1.0])
    assert rn.count_regions(net, box) == len(regions_1d(net, -1.0, 1.0)) == 3
    assert len(watched["unproven"]) == 1 and "sign" in watched["unproven"][0]
    assert rn.count_regions(net, box, tol=1e-15) == 3 and len(watched["unproven"]) == 1


def test_ctrl_c_in_the_line_step_stops_the_general_step(monkeypatch):
    """Ctrl-C seen by the line step just before it hands the count on stops the general step."""
    process = line_step.LineStep.process

    def interrupted(self, entry, tally):
        os.kill(os.getpid(), signal.SIGINT)  # under the run's handler: only a flag
        raise line_step.Unproven("for the test")

    monkeypatch.setattr(line_step.LineStep, "process", interrupted)
    counted = rn.count_regions(random_net([1, 8, 1], 1), rn.Box([-1.0], [1.0]))
    assert not counted.complete and counted.stop_reason == "interrupted"
    monkeypatch.setattr(line_step.LineStep, "process", process)


def test_kernels_loaded_before_the_general_step_are_reported_apart(monkeypatch):
    """Seconds the line step spent loading kernels before it handed the count on go into the
    count's ``kernel_seconds``, not its ``seconds`` (the general step's own are counted there)."""
    from numba.core import event

    def loading_then_unproven(self, entry, tally):
        event.start_event("numba:compiler_lock")  # as Numba marks loading a kernel
        time.sleep(0.5)
        event.end_event("numba:compiler_lock")
        raise line_step.Unproven("for the test")

    monkeypatch.setattr(line_step.LineStep, "process", loading_then_unproven)
    net, box = random_net([1, 8, 1], 1), rn.Box([-1.0], [1.0])
    counted = rn.count_regions(net, box)
    assert counted == len(regions_1d(net, -1.0, 1.0)) and counted.complete
    assert counted.kernel_seconds >= 0.5 > counted.seconds


def test_the_layers_bounds_are_worked_out_beside_the_count(monkeypatch):
    """A network's first count works out its layers' bounds in a thread of its own (where a core
    is idle), which has ended when the count returns, with every bound kept on the layers; a
    second count starts none; a time limit is seen while a layer waits for its bounds."""
    started = []
    thread_start = threading.Thread.start

    def watched_start(self):
        started.append(self.name)
        thread_start(self)

    monkeypatch.setattr(threading.Thread, "start", watched_start)
    monkeypatch.setattr(line_step, "idle_cpus", lambda: 2)
    net = random_net([1, 64, 64, 64, 1], 3)
    box = rn.Box([-1.0], [1.0])
    first = rn.count_regions(net, box)
    assert started.count("regionenum-bounds") == 1
    assert not any(t.name == "regionenum-bounds" for t in threading.enumerate())
    assert all(name in vars(layer) for layer in net.layers for name in LAYER_BOUNDS)
    assert rn.count_regions(net, box) == first and started.count("regionenum-bounds") == 1
    slow = line_step.keep_bounds
    monkeypatch.setattr(line_step, "keep_bounds", lambda layer: (time.sleep(0.5), slow(layer)))
    late = rn.count_regions(random_net([1, 64, 64, 64, 1], 4), box, time_limit=0.2)
    assert not late.complete and late.stop_reason == "time_limit"


def test_units_whose_weights_and_bias_are_zero_cut_nothing(watched, monkeypatch):
    """Pruned units (weights and bias all zero) are exactly zero everywhere: the line step counts
    such networks itself, a last layer that splits of them only included."""
    rng = np.random.default_rng(12)
    W1, W2, W3 = rng.normal(size=(9, 1)), rng.normal(size=(8, 9)), rng.normal(size=(4, 8))
    b1, b2, b3 = rng.normal(size=9), rng.normal(size=8), np.zeros(4)
    W1[[2, 5]], b1[[2, 5]], W2[3], b2[3] = 0.0, 0.0, 0.0, 0.0
    W3[:] = 0.0
    for layers in ([(W1, b1), (W2, b2), (np.ones((1, 8)), np.zeros(1))], [(W1, b1), (W2, b2), (W3, b3)]):
        net = rn.Network.from_layers(layers, ["relu", ("leaky_relu", 0.2), "relu"][:len(layers)])
        box = rn.Box([-2.0], [2.0])
        counted = rn.count_regions(net, box)
        assert not watched["unproven"]
        assert counted == _general_count(net, box, monkeypatch) == len(regions_1d(net, -2.0, 2.0))


def test_roots_one_bit_apart_are_told_apart():
    """Roots 2^-52 apart (distinct) give three regions, by the line step or the general one."""
    net = _line_net([(3.0, -1.0), (3.0 + 2.0 ** -50, -1.0)])
    assert rn.count_regions(net, rn.Box([-1.0], [1.0])) == len(regions_1d(net, -1.0, 1.0)) == 3


def test_too_many_roots_at_once_go_to_the_general_step(watched, monkeypatch):
    monkeypatch.setattr(line_step, "MOST_VALUES", 100)
    net = random_net([1, 40, 40, 1], 9)
    box = rn.Box([-2.0], [2.0])
    counted = rn.count_regions(net, box)
    assert watched["unproven"] and "roots" in watched["unproven"][0]
    assert counted == len(regions_1d(net, -2.0, 2.0))


def test_a_time_limit_spent_by_the_line_step_is_not_given_again(monkeypatch):
    """When the line step hands a count on, the general step gets what is left of the time."""
    budgets = []
    run = api.Driver.run

    def slow_then_unproven(self, stack=None, tally=None):
        if isinstance(self.step, line_step.LineStep):
            time.sleep(0.3)
            raise line_step.Unproven("for the test")
        budgets.append(self.budget.time_limit)
        return run(self, stack, tally)

    monkeypatch.setattr(api.Driver, "run", slow_then_unproven)
    monkeypatch.setattr(api, "_execute", lambda step, budget, progress, workers, client:
                        api.Driver(step, budget, progress).run())
    rn.count_regions(random_net([1, 8, 1], 1), rn.Box([-1.0], [1.0]), time_limit=1.0)
    assert len(budgets) == 1 and 0.0 < budgets[0] < 0.75


HEAVY_LINE = textwrap.dedent("""
    import numpy as np, regionenum as rn
    from tests.oracles import random_net
    net = random_net([1] + [512] * 40 + [1], 0)
    print("started", flush=True)
    print(rn.count_regions(net, rn.Box([-1.0], [1.0])).stop_reason, flush=True)
""")


def test_sigint_during_a_count_on_one_input():
    run = subprocess.Popen([sys.executable, "-c", HEAVY_LINE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    assert run.stdout.readline().strip() == "started"
    time.sleep(1.0)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert out.strip() == "interrupted"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), k=st.integers(-60, 60), scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_invariances_on_one_input(seed, k, scale):
    """Rescaling a layer by 2^k (the next divided back), permuting units and duplicating a unit
    (its outgoing weights halved) leave the count the oracle's, whichever step counts."""
    rng = np.random.default_rng(seed)
    widths = [1] + [int(w) for w in rng.integers(2, 7, size=rng.integers(1, 4))] + [1]
    layers = [(rng.normal(size=(o, i)) * scale ** rng.uniform(-1, 1, (o, i)), rng.normal(size=o) * 0.5)
              for i, o in itertools.pairwise(widths)]
    box = rn.Box([-1.5], [1.0])
    truth = len(regions_1d(rn.Network.from_layers(layers), -1.5, 1.0))
    l = int(rng.integers(len(layers) - 1)) if len(layers) > 1 else 0
    variants = [layers, rescaled(layers, l, k), permuted(layers, l, rng.permutation(len(layers[l][1]))),
                duplicated(layers, l, int(rng.integers(len(layers[l][1]))))]
    for variant in variants:
        assert rn.count_regions(rn.Network.from_layers(variant), box) == truth
