"""Errors before work starts, budgets, progress, the file format and the command line."""

import numpy as np
import pytest

import regionenum as re
from oracles import random_net

BOX2 = re.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("layers,activations,message", [
    ([(np.array([[np.nan, 0.0]]), np.zeros(1))], None, "layer 0 weight W has a non-finite"),
    ([(np.ones((2, 2)), np.array([0.0, np.inf]))], None, "layer 0 bias b has a non-finite"),
    ([(np.ones((2, 2)), np.zeros(3))], None, "layer 0: b has shape"),
    ([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 2)), np.zeros(1))], None, "layer 1: W takes 2 inputs"),
    ([(np.ones(2), np.zeros(1))], None, "layer 0: W must be 2-D"),
    ([(np.ones((2, 2)), np.zeros(2))], ["tanh"], "layer 0: unknown activation 'tanh'"),
    ([(np.ones((2, 2)), np.zeros(2))], ["relu", "relu"], "2 activations given for 1 layers"),
    ([], None, "at least one layer"),
])
def test_bad_networks_are_rejected_by_name(layers, activations, message):
    with pytest.raises(re.InvalidNetworkError, match=message.replace("(", r"\(")):
        re.Network.from_layers(layers, activations)


@pytest.mark.parametrize("make,message", [
    (lambda: re.Box([0, 0], [1, 0]), r"lo\[1\] = 0.0 is not below hi\[1\] = 0.0"),
    (lambda: re.Box([0, 2], [1, 1]), r"lo\[1\] = 2.0 is not below"),
    (lambda: re.Box([0, np.nan], [1, 1]), "non-finite"),
    (lambda: re.Box([0, 0], [1, 1, 1]), "shape"),
    (lambda: re.Polytope(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, 1.0])), "empty"),
    (lambda: re.Polytope(np.array([[0.0, 0.0]]), np.array([-1.0])), "row 0 of A is zero"),
    (lambda: re.Polytope(np.ones((2, 2)), np.zeros(3)), "b has shape"),
])
def test_bad_domains_are_rejected(make, message):
    with pytest.raises(re.InvalidDomainError, match=message):
        make()


def test_domain_dimension_must_match_network():
    with pytest.raises(re.InvalidDomainError, match="dimension 3 but the network takes 2"):
        re.enumerate_regions(random_net([2, 4, 1], 0), re.Box([0, 0, 0], [1, 1, 1]))


@pytest.mark.parametrize("kwargs,message", [({"max_regions": 0}, "max_regions"),
                                            ({"time_limit": -1}, "time_limit"),
                                            ({"tol": 0.0}, "tol")])
def test_bad_budgets(kwargs, message):
    with pytest.raises(re.RegionEnumError, match=message):
        re.count_regions(random_net([2, 4, 1], 0), BOX2, **kwargs)


def test_max_regions_stops_cleanly():
    net = random_net([2, 32, 32, 1], 1)
    full = re.enumerate_regions(net, BOX2)
    part = re.enumerate_regions(net, BOX2, max_regions=50, batch_size=16)
    assert len(part) == 50 and not part.complete and part.stop_reason == "max_regions"
    assert full.complete and full.stop_reason is None
    assert {p.tobytes() for p in part.patterns} <= {p.tobytes() for p in full.patterns}
    counted = re.count_regions(net, BOX2, max_regions=50, batch_size=16)
    assert int(counted) == 50 and not counted.complete
    exactly = re.count_regions(net, BOX2, max_regions=len(full))
    assert exactly.complete and exactly == len(full)


def test_time_limit_and_progress():
    net = random_net([2, 64, 64, 64, 1], 2)
    seen = []
    part = re.count_regions(net, BOX2, time_limit=1e-6, batch_size=8, progress=seen.append)
    assert not part.complete and part.stop_reason == "time_limit"
    assert seen and isinstance(seen[0], re.Progress)
    assert seen[-1].elapsed >= 1e-6


def test_save_load_round_trip(tmp_path):
    net = re.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((3, 2)), np.ones(3)),
                                  (np.ones((1, 3)), np.zeros(1))],
                                 ["relu", ("leaky_relu", 0.25), "identity"])
    path = tmp_path / "net.npz"
    re.save(path, net, BOX2)
    net2, box2 = re.load(path)
    assert [l.activation for l in net2.layers] == [l.activation for l in net.layers]
    assert all(np.array_equal(a.W, b.W) for a, b in zip(net.layers, net2.layers))
    assert np.array_equal(box2.lo, BOX2.lo) and np.array_equal(box2.hi, BOX2.hi)


def test_load_rejects_unknown_and_missing_arrays(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, W0=np.eye(2), b0=np.zeros(2), origin=np.zeros(2))
    with pytest.raises(re.RegionEnumError, match="unknown arrays \\['origin'\\]"):
        re.load(path)
    np.savez(path, W0=np.eye(2), b0=np.zeros(2), W2=np.eye(2), b2=np.zeros(2))
    with pytest.raises(re.InvalidNetworkError, match="none missing"):
        re.load(path)
    with pytest.raises(re.RegionEnumError, match="no such file"):
        re.load(tmp_path / "missing.npz")


def test_progress_bar_reports_and_stays_quiet_off_terminal(monkeypatch):
    import builtins
    import io

    from regionenum.progress import ProgressBar
    net = random_net([2, 32, 32, 1], 5)
    quiet = io.StringIO()
    with ProgressBar(file=quiet) as bar:  # not a terminal: silent
        re.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    with ProgressBar(file=shown, enabled=True) as bar:  # tqdm
        n = re.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert f"{int(n)}" in shown.getvalue() and "layer=" in shown.getvalue()
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError)
                        if name == "tqdm" else real_import(name, *a, **k))
    plain = io.StringIO()
    with ProgressBar(file=plain, enabled=True, min_interval=0.0) as bar:  # no tqdm: a plain line
        re.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert f"regions {int(n)}" in plain.getvalue() and "regions/s" in plain.getvalue()
