"""VNN-LIB properties: parsing, exact decisions against a MILP oracle, and regionenum verify."""
import json
import subprocess
import sys

import numpy as np
import pytest

import regionenum as rn
from regionenum.errors import VnnLibError
from regionenum.verify.vnnlib import check_vnnlib, parse_vnnlib, parse_vnnlib_text
from tests.oracles import milp_max, random_net

PROP = """
; robustness-style property: inputs in a box, violated if output 0 is not the largest
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(declare-const Y_2 Real)
(assert (<= X_0 {hi}))
(assert (>= X_0 {lo}))
(assert (<= X_1 {hi}))
(assert (>= X_1 {lo}))
(assert (or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0))))
"""


def test_parse_vnnlib():
    prop = parse_vnnlib_text(PROP.format(lo=-0.5, hi=0.25))
    assert (prop.n_inputs, prop.n_outputs) == (2, 3)
    dom = prop.input_domain()
    assert isinstance(dom, rn.Box) and dom.lo.tolist() == [-0.5, -0.5] and dom.hi.tolist() == [0.25, 0.25]
    assert len(prop.output_sets) == 2
    C, e = prop.output_sets[0]
    np.testing.assert_array_equal(C, [[1.0, -1.0, 0.0]]) and np.testing.assert_array_equal(e, [0.0])
    lin = parse_vnnlib_text("(declare-const X_0 Real)(declare-const Y_0 Real)"
                            "(assert (<= (+ X_0 (* 2 X_0)) 3))(assert (>= X_0 -1))"
                            "(assert (<= (- Y_0 0.5) (* -1 0.25)))")
    assert lin.input_A.tolist() == [[3.0], [-1.0]] and lin.input_b.tolist() == [-3.0, -1.0]
    C, e = lin.output_sets[0]
    assert C.tolist() == [[1.0]] and e.tolist() == [-0.25]


@pytest.mark.parametrize("text,message", [
    ("(declare-const X_0 Real)\n(assert (<= X_0 1)", "line 2: '\\(' is never closed"),
    ("(declare-const X_0 Real)\n(assert (<= X_0 Z))", "line 2: undeclared variable"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 Y_0))", "line 3: .*not both"),
    ("(declare-const X_0 Real)\n(assert (< X_0 1))", "line 2: unsupported operator '<'"),
    ("(declare-const A Real)", "line 1: variables must be named"),
    ("(push 1)", "line 1: unsupported command 'push'"),
])
def test_malformed_vnnlib_names_the_line(text, message):
    with pytest.raises(VnnLibError, match=message):
        parse_vnnlib_text(text)


def test_check_vnnlib_against_milp():
    net = random_net([2, 10, 10, 3], 1)
    for lo, hi in ((-0.05, 0.05), (-1.0, 1.0), (0.3, 0.4)):
        prop = parse_vnnlib_text(PROP.format(lo=lo, hi=hi))
        res = check_vnnlib(net, prop)
        box = rn.Box([lo, lo], [hi, hi])
        # independent: the property is violated iff max(y1 - y0) >= 0 or max(y2 - y0) >= 0
        worst = max(milp_max(net, box.lo, box.hi, c)[0] for c in ([-1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]))
        assert res.status == ("sat" if worst >= 0 else "unsat"), (lo, hi, worst)
        if res.status == "sat":
            y = net(res.counterexample[None])[0]
            assert box.contains(res.counterexample[None], tol=1e-12)[0] and y[1:].max() >= y[0] - 1e-9


def test_check_vnnlib_multi_row_conjunction():
    net = random_net([2, 8, 8, 2], 2)
    text = ("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)"
            "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))"
            "(assert (and (>= Y_0 {a}) (<= Y_1 {b})))")
    X = np.random.default_rng(0).uniform(-1, 1, (20000, 2))
    Y = net(X)
    a, b = np.quantile(Y[:, 0], 0.5), np.quantile(Y[:, 1], 0.5)
    res = check_vnnlib(net, parse_vnnlib_text(text.format(a=a, b=b)))
    assert np.any((Y[:, 0] >= a) & (Y[:, 1] <= b))  # sampling finds a violation, so must we
    assert res.status == "sat"
    y = net(res.counterexample[None])[0]
    assert y[0] >= a - 1e-9 and y[1] <= b + 1e-9
    top = rn.verify.output_range(net, rn.Box([-1, -1], [1, 1]), output=0).max
    assert check_vnnlib(net, parse_vnnlib_text(text.format(a=float(top) + 1.0, b=b))).status == "unsat"


def test_cli_verify(tmp_path):
    pytest.importorskip("onnx")
    from tests.models import float32_net, to_onnx
    net = float32_net(random_net([2, 8, 8, 3], 3))
    to_onnx(net, tmp_path / "net.onnx")
    (tmp_path / "robust.vnnlib").write_text(PROP.format(lo=0.1, hi=0.1001))
    (tmp_path / "wide.vnnlib").write_text(PROP.format(lo=-1.0, hi=1.0))
    (tmp_path / "broken.vnnlib").write_text("(declare-const X_0 Real)\n(assert (<= X_0 1)")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "regionenum.cli", "verify", *map(str, args)],
                              capture_output=True, text=True, timeout=600)

    outs = {}
    for name in ("robust", "wide"):
        r = run(tmp_path / "net.onnx", tmp_path / f"{name}.vnnlib", "--json")
        assert r.returncode == 0, r.stderr
        outs[name] = json.loads(r.stdout)
    expected = check_vnnlib(rn.Network.from_onnx(tmp_path / "net.onnx"), parse_vnnlib(tmp_path / "wide.vnnlib"))
    assert outs["wide"]["status"] == expected.status
    assert outs["robust"]["status"] in ("sat", "unsat")
    count = subprocess.run([sys.executable, "-m", "regionenum.cli", "count", tmp_path / "net.onnx", "--lo", "-1",
                            "-1", "--hi", "1", "1", "--json"], capture_output=True, text=True, timeout=600)
    assert json.loads(count.stdout)["regions"] == rn.count_regions(net, rn.Box([-1, -1], [1, 1]))
    no_box = subprocess.run([sys.executable, "-m", "regionenum.cli", "count", tmp_path / "net.onnx"],
                            capture_output=True, text=True, timeout=600)
    assert no_box.returncode == 2 and "pass --lo and --hi" in no_box.stderr
    bad = run(tmp_path / "net.onnx", tmp_path / "broken.vnnlib")
    assert bad.returncode == 2 and "line 2" in bad.stderr
    mismatch = tmp_path / "one.vnnlib"
    mismatch.write_text("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1))(assert (>= X_0 0))"
                        "(assert (>= Y_0 0))")
    bad = run(tmp_path / "net.onnx", mismatch)
    assert bad.returncode == 2 and "the property has 1 inputs" in bad.stderr


def test_empty_input_set_is_an_error():
    text = ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 1))(assert (<= X_0 0))"
            "(assert (>= Y_0 0))")
    with pytest.raises(rn.InvalidDomainError, match="empty or flat"):
        check_vnnlib(random_net([1, 4, 1], 5), parse_vnnlib_text(text))
