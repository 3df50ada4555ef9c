"""The property-directed search against a big-M MILP oracle, exact re-checks of its answers
(counterexamples in exact arithmetic and with onnxruntime, proofs replayed), ties decided
exactly, budgets and progress."""
import time
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.verify.counterexamples import exact_outputs
from regionenum.verify.proof import check_proof
from regionenum.verify.search import search
from regionenum.verify.spec import Case
from tests.oracles import milp_max, milp_min_max, random_net


def _exact_row_value(c, e, y):
    return sum(Fraction(float(a)) * v for a, v in zip(c, y)) + Fraction(float(e))


@pytest.mark.parametrize("widths,seed,gap", [([2, 10, 10, 2], 0, 1e-3), ([3, 12, 8, 3], 1, 1e-3),
                                             ([4, 8, 8, 8, 2], 2, 1e-2), ([6, 10, 10, 2], 3, 1e-2)])
def test_verdicts_match_milp(widths, seed, gap):
    net = random_net(widths, seed)
    d, k = widths[0], widths[-1]
    rng = np.random.default_rng(seed)
    box = rn.Box(-np.ones(d), np.ones(d))
    for trial in range(3):
        c = rng.normal(size=k)
        top, _ = milp_max(net, box.lo, box.hi, c)
        # thresholds just below and just above the true maximum: violated, then holding
        for gap, holds in ((-gap, False), (gap, True)):
            e = -(top + gap * (1 + abs(top)))
            res = rn.verify.verify_property(net, box, [c], [e])
            assert res.holds is holds, (trial, gap, top)
            if holds:
                assert check_proof(res.proof).claims > 0
            else:
                y = exact_outputs(net, res.counterexample_exact)
                assert _exact_row_value(c, e, y) > 0
                assert all(lo <= float(v) <= hi for v, lo, hi in zip(res.counterexample, box.lo, box.hi))


def test_conjunctions_match_milp():
    net = random_net([3, 10, 10, 3], 5)
    lo, hi = -np.ones(3), np.ones(3)
    rng = np.random.default_rng(5)
    for trial in range(5):
        C = rng.normal(size=(2, 3))
        value, _ = milp_min_max(net, lo, hi, C, np.zeros(2))
        for gap in (-1e-3, 1e-3):  # the set {C y + e <= 0} is met iff value + shift <= 0
            e = -(value + gap * (1 + abs(value))) * np.ones(2)
            case = Case.from_box(lo, hi, [(C, e)])
            res = search(net, [case])
            assert res.status == ("unsat" if gap < 0 else "sat"), (trial, gap, value)
            if res.status == "sat":
                y = exact_outputs(net, res.counterexample_exact)
                assert all(_exact_row_value(C[i], e[i], y) <= 0 for i in range(2))
            else:
                rn.certify(res)


def test_counterexample_rechecked_with_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from tests.models import float32_net, to_onnx
    net = float32_net(random_net([4, 16, 16, 3], 7))
    to_onnx(net, tmp_path / "net.onnx")
    loaded = rn.Network.from_onnx(tmp_path / "net.onnx")
    box = rn.Box(-np.ones(4), np.ones(4))
    top, _ = milp_max(loaded, box.lo, box.hi, [1.0, -1.0, 0.0])
    res = rn.verify.verify_property(loaded, box, [[1.0, -1.0, 0.0]], [-(top - 0.05)])
    assert res.holds is False
    session = ort.InferenceSession(str(tmp_path / "net.onnx"))
    y = session.run(None, {"x": res.counterexample[None].astype(np.float32)})[0][0]
    assert y[0] - y[1] > top - 0.05 - 1e-4  # onnxruntime (float32) agrees up to its rounding
    np.testing.assert_allclose(y, res.outputs, rtol=1e-5, atol=1e-5)


def test_ties_are_decided_exactly():
    # y = ReLU(x0 + x1) - ReLU(x0) on [-1, 1]^2 with integer weights: the maximum is exactly 1
    net = rn.Network.from_layers([(np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2)),
                                  (np.array([[-1.0, 1.0]]), np.zeros(1))], ["relu", "identity"])
    box = rn.Box([-1, -1], [1, 1])
    holds = rn.verify.verify_property(net, box, [[1.0]], [-1.0])          # y - 1 <= 0: no margin at all
    assert holds.holds is True
    rn.certify(holds)
    eps = 2.0 ** -52
    fails = rn.verify.verify_property(net, box, [[1.0]], [-(1.0 - eps)])  # y <= 1 - 2^-52
    assert fails.holds is False
    assert exact_outputs(net, fails.counterexample_exact)[0] > Fraction(1) - Fraction(eps)
    # the closed output set {y >= 1} is met, exactly on the boundary of the box
    met = search(net, [Case.from_box([-1, -1], [1, 1], [([[-1.0]], [1.0])])])
    assert met.status == "sat" and exact_outputs(net, met.counterexample_exact)[0] >= 1


def test_fixed_inputs_drop_out_of_the_search():
    net = random_net([3, 10, 10, 1], 9)
    lo, hi = np.array([-1.0, 0.25, -1.0]), np.array([1.0, 0.25, 1.0])   # x1 fixed at 0.25
    top, _ = milp_max(net, lo, hi, [1.0])
    for gap, status in ((1e-3, "unsat"), (-1e-3, "sat")):
        case = Case.from_box(lo, hi, [([[-1.0]], [top + gap * (1 + abs(top))])])   # y >= top + gap
        res = search(net, [case])
        assert res.status == status
        if status == "sat":
            assert res.counterexample_exact[1] == Fraction(1, 4)
        else:
            rn.certify(res)


def test_polytope_domains_keep_their_rows():
    net = random_net([2, 8, 8, 1], 11)
    triangle = rn.Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0]))
    regions = rn.enumerate_regions(net, triangle)
    top = float(rn.verify.output_range(regions).max)
    assert rn.verify.verify_property(net, triangle, [[1.0]], [-(top + 1e-6)]).holds is True
    res = rn.verify.verify_property(net, triangle, [[1.0]], [-(top - 1e-6)])
    assert res.holds is False and triangle.contains(res.counterexample[None], tol=1e-15)[0]


def test_tampered_proofs_fail():
    net = random_net([3, 12, 12, 2], 12)
    box = rn.Box(-np.ones(3), np.ones(3))
    top, _ = milp_max(net, box.lo, box.hi, [1.0, 0.0])
    res = rn.verify.verify_property(net, box, [[1.0, 0.0]], [-(top + 0.01)])
    assert res.holds and res.proof.cells > 1
    tree = res.proof.trees[0]
    for events in tree.events.values():
        for i, ev in enumerate(events):
            if ev[0] == "empty" and ev[2]:  # a cell decided by multipliers: halve them
                events[i] = (ev[0], ev[1], ev[2], ev[3] * 0.0, ev[4] * 0.0)
                with pytest.raises(rn.CertificationError, match="do not exclude"):
                    rn.certify(res.proof)
                return
    raise AssertionError("no decided cell found")


def test_time_limit_is_honoured_with_a_reason():
    net = random_net([8, 64, 64, 64, 1], 13)
    box = rn.Box(-np.ones(8), np.ones(8))
    X = np.random.default_rng(0).uniform(-1, 1, (20000, 8))
    y = net(X)[:, 0]
    rn.verify.verify_property(net, box, [[1.0]], [-y.max()], time_limit=0.05)  # the kernels loaded first
    start = time.perf_counter()
    # well above the largest sampled output, yet far too many cells for a third of a second
    res = rn.verify.verify_property(net, box, [[1.0]], [-(y.max() + 0.5 * np.ptp(y))], time_limit=0.3)
    elapsed = time.perf_counter() - start
    assert res.holds is None and res.proof is None
    assert "time limit of 0.3 s ran out" in res.reason and "undecided" in res.reason
    assert elapsed < 3.0  # the search stops at its next cell (generous: the machine is shared)
    with pytest.raises(rn.InvalidArgumentError, match="time_limit"):
        rn.verify.verify_property(net, box, [[1.0]], [0.0], time_limit=0)


def test_progress_is_reported():
    net = random_net([3, 16, 16, 1], 14)
    box = rn.Box(-np.ones(3), np.ones(3))
    seen = []
    top, _ = milp_max(net, box.lo, box.hi, [1.0])
    rn.verify.verify_property(net, box, [[1.0]], [-(top + 1e-3)], progress=seen.append)
    assert seen and seen[-1].done == pytest.approx(1.0) and isinstance(seen[-1], rn.Progress)


def test_bad_arguments_are_named():
    net = random_net([2, 4, 2], 0)
    box = rn.Box([-1, -1], [1, 1])
    with pytest.raises(rn.InvalidArgumentError, match=r"C must have shape \(m, 2\)"):
        rn.verify.verify_property(net, box, [[1.0]], [0.0])
    with pytest.raises(rn.InvalidDomainError, match="dimension 3"):
        rn.verify.verify_property(net, rn.Box([0, 0, 0], [1, 1, 1]), [[1.0, 0.0]], [0.0])
    maxnet = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 1)), np.zeros(1))],
                                    ["max:2", "identity"])
    with pytest.raises(rn.InvalidNetworkError, match="max layer"):
        rn.verify.verify_property(maxnet, box, [[1.0]], [0.0])


def test_a_concave_leaky_relu_is_refused_and_checked_by_enumeration():
    """A LeakyReLU of slope above 1 is concave where it bends (min(z, 3z)): the relaxation's
    chord lay below it, and the search proved a violated property (found by a review: the exact
    minimum -0.91482 at (-1, 0.736) is below t = -0.91348, yet it held, and the certificate
    replayed the same relaxation). The search refuses it, naming the layer; the enumeration
    decides the property."""
    W = np.array([[0.5004207311825053, 0.7033272376323464], [0.9233344351065464, 0.8739572548599488]])
    b = np.array([-0.01723501465472419, -0.6312691825483644])
    net = rn.Network.from_layers([(W, b), (np.array([[-0.7812315724231464, 0.33459613838192825]]), np.zeros(1))],
                                 [("leaky_relu", 3.0), "identity"])
    box, t = rn.Box([-1.0, -1.0], [1.0, 1.0]), -0.9134764597216007
    with pytest.raises(rn.InvalidNetworkError, match="layer 0 is a LeakyReLU of slope 3, above 1"):
        rn.verify.verify_property(net, box, [[-1.0]], [t])
    assert not rn.verify.check_property(net, [[-1.0]], [t], box).holds


def test_ctrl_c_stops_the_search_cleanly():
    import os
    import signal
    import threading
    net = random_net([8, 64, 64, 64, 1], 13)
    box = rn.Box(-np.ones(8), np.ones(8))
    y = net(np.random.default_rng(0).uniform(-1, 1, (20000, 8)))[:, 0]
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        res = rn.verify.verify_property(net, box, [[1.0]], [-(y.max() + 0.5 * np.ptp(y))], time_limit=30)
    finally:
        timer.cancel()
    assert res.holds is None and "interrupted" in res.reason
