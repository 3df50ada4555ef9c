"""Closed loops: the step network is the loop, reachable sets hold every simulated trajectory and
reach the MILP oracle's extremes, preimages agree with sampling, invariance is decided exactly."""
import json
import subprocess
import sys

import numpy as np
import pytest

import regionenum as rn
from tests.oracles import milp_max, random_net


def _loop(seed=0):
    rng = np.random.default_rng(seed)
    controller = random_net([2, 6, 5, 1], seed)
    A = np.array([[1.0, 0.1], [0.0, 1.0]]) + 0.05 * rng.normal(size=(2, 2))
    B = np.array([[0.005], [0.1]])
    c = 0.01 * rng.normal(size=2)
    return controller, A, B, c


def test_step_networks_are_the_loop():
    controller, A, B, c = _loop(1)
    step = rn.verify.closed_loop(controller, A=A, B=B, c=c)
    X = np.random.default_rng(1).uniform(-2, 2, (50, 2))
    np.testing.assert_allclose(step(X), X @ A.T + controller(X) @ B.T + c, atol=1e-12)
    # a piecewise-affine plant given as a network of (x, u): x' = A x + B relu(u) (an actuator
    # that only pushes)
    plant = rn.Network.from_layers([(np.vstack([np.eye(2, 3), [[0.0, 0.0, 1.0]]]), np.zeros(3)),
                                    (np.concatenate([A, B], axis=1), c)],
                                   [rn.Activation("relu", linear=(0, 1)), "identity"])
    step2 = rn.verify.closed_loop(controller, plant=plant)
    np.testing.assert_allclose(step2(X), X @ A.T + np.maximum(controller(X), 0) @ B.T + c, atol=1e-12)
    unrolled = rn.verify.unroll(step, 4)
    traj = rn.verify.simulate(step, X, 4)
    np.testing.assert_allclose(unrolled(X), traj[:, 1:].reshape(len(X), -1), atol=1e-12)
    np.testing.assert_allclose(rn.verify.unroll(step, 4, all_states=False)(X), traj[:, -1], atol=1e-12)
    with pytest.raises(rn.InvalidArgumentError, match="give the plant"):
        rn.verify.closed_loop(controller)
    for twice in (dict(A=A, B=B), dict(A=A), dict(c=c)):  # A and B were dropped for the plant
        with pytest.raises(rn.InvalidArgumentError, match="give the plant once"):
            rn.verify.closed_loop(controller, plant=plant, **twice)
    with pytest.raises(rn.InvalidNetworkError, match="the plant must take"):
        rn.verify.closed_loop(controller, plant=random_net([2, 3, 2], 0))


def test_reachable_sets_hold_every_trajectory_and_match_milp():
    controller, A, B, c = _loop(2)
    step = rn.verify.closed_loop(controller, A=A, B=B, c=c)
    box = rn.Box([-1.0, -1.0], [1.0, 1.0])
    sets = rn.verify.forward_reachable(step, box, 3)
    X0 = box.lo + (box.hi - box.lo) * np.random.default_rng(2).random((200, 2))
    traj = rn.verify.simulate(step, X0, 3)
    for t, reach in enumerate(sets):
        assert reach.step == t + 1
        assert all(reach.contains(traj[i, t + 1]) for i in range(0, 200, 7))
        lo, hi = reach.bounds()
        assert (traj[:, t + 1] >= lo - 1e-9).all() and (traj[:, t + 1] <= hi + 1e-9).all()
        # the exact extremes of each state coordinate, by the MILP oracle on the unrolled loop
        net = rn.verify.unroll(step, t + 1, all_states=False)
        for k in range(2):
            top, _ = milp_max(net, box.lo, box.hi, np.eye(2)[k])
            low, _ = milp_max(net, box.lo, box.hi, -np.eye(2)[k])
            assert hi[k] == pytest.approx(top, abs=1e-7) and lo[k] == pytest.approx(-low, abs=1e-7)
    # a state far outside is in no set
    assert not sets[0].contains([50.0, 50.0])


def test_preimages_agree_with_sampling():
    controller, A, B, c = _loop(3)
    step = rn.verify.closed_loop(controller, A=A, B=B, c=c)
    net = rn.verify.unroll(step, 2, all_states=False)
    box = rn.Box([-1.0, -1.0], [1.0, 1.0])
    target = rn.Box([-0.5, -0.5], [0.5, 0.5])
    back = rn.verify.preimage(net, box, target.A, target.b)
    X = box.lo + (box.hi - box.lo) * np.random.default_rng(3).random((500, 2))
    inside = target.contains(net(X), tol=0.0)
    margin = np.abs(net(X) @ target.A.T + target.b).min(axis=1) > 1e-7  # away from the target's boundary
    assert np.array_equal(np.array([back.contains(x) for x in X])[margin], inside[margin])
    assert len(back) > 0


def test_invariance_is_decided_exactly():
    k = np.array([0.9171, 1.6356])
    controller = rn.Network.from_layers([(np.array([-k, -k]), np.array([1.0, -1.0])),
                                         (np.array([[1.0, -1.0]]), np.array([-1.0]))])
    A, B = np.array([[1.0, 0.1], [0.0, 1.0]]), np.array([[0.005], [0.1]])
    step = rn.verify.closed_loop(controller, A=A, B=B)
    res = rn.verify.is_invariant(step, rn.Box([-1, -1], [1, 1]))
    assert res.holds is False
    x = res.counterexample
    assert rn.Box([-1, -1], [1, 1]).contains(x[None], tol=0.0)[0] and not rn.Box([-1, -1], [1, 1]).contains(
        step(x[None]), tol=0.0)[0]
    # a contracting polytope of the linear loop, where the controller never saturates
    Acl = A - B @ k[None]
    rows, bounds, M = [], [], np.eye(2)
    for j in range(60):
        rows += [k @ M, -(k @ M)]
        bounds += [-0.97 ** j] * 2
        M = Acl @ M
    P = rn.Polytope(np.array(rows), np.array(bounds))
    res = rn.verify.is_invariant(step, P)
    assert res.holds is True
    rn.certify(res)


def test_cli_reach(tmp_path):
    controller, A, B, c = _loop(4)
    rn.save(tmp_path / "k.npz", controller)
    np.savez(tmp_path / "plant.npz", A=A, B=B, c=c)
    out = subprocess.run([sys.executable, "-m", "regionenum.cli", "reach", tmp_path / "k.npz", tmp_path / "plant.npz",
                          "--steps", "2", "--x0-lo", "-1", "-1", "--x0-hi", "1", "1", "--invariant", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    step = rn.verify.closed_loop(controller, A=A, B=B, c=c)
    sets = rn.verify.forward_reachable(step, rn.Box([-1, -1], [1, 1]), 2)
    assert [s["pieces"] for s in info["sets"]] == [len(s) for s in sets]
    assert info["invariant"] == rn.verify.is_invariant(step, rn.Box([-1, -1], [1, 1])).holds
