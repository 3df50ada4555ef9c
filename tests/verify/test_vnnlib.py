"""VNN-LIB properties: exact parsing (flat boxes, disjunctions of input boxes and of output
conjunctions), decisions against a MILP oracle, the competition's answer format and
`regionenum verify`."""
import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.errors import VnnLibError
from regionenum.verify.counterexamples import exact_outputs
from regionenum.verify.vnnlib import check_vnnlib, competition_answer, parse_vnnlib, parse_vnnlib_text
from tests.oracles import milp_min_max, random_net

HEAD = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)" \
       "(declare-const Y_2 Real)\n"
PROP = HEAD + """
; robustness-style property: inputs in a box, violated if output 0 is not the largest
(assert (<= X_0 {hi}))
(assert (>= X_0 {lo}))
(assert (<= X_1 {hi}))
(assert (>= X_1 {lo}))
(assert (or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0))))
"""


def test_parse_is_exact_and_grouped():
    prop = parse_vnnlib_text(PROP.format(lo=-0.5, hi=0.1))
    assert (prop.n_inputs, prop.n_outputs, len(prop.cases)) == (2, 3, 1)
    case = prop.cases[0]
    assert case.lo == (Fraction(-1, 2), Fraction(-1, 2)) and case.hi == (Fraction(1, 10), Fraction(1, 10))
    assert len(case.outputs) == 2
    assert case.outputs[0].A == ((Fraction(1), Fraction(-1), Fraction(0)),) and case.outputs[0].b == (0,)
    lin = parse_vnnlib_text("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
                            "(assert (<= (+ X_0 (* 2 X_1)) 3))(assert (>= X_0 -1))(assert (<= X_0 1))"
                            "(assert (>= X_1 -1))(assert (<= X_1 1))(assert (<= (- Y_0 0.5) (* -1 0.25)))")
    case = lin.cases[0]
    assert case.rows.A == ((1, 2),) and case.rows.b == (-3,)
    assert case.outputs[0].A == ((1,),) and case.outputs[0].b == (Fraction(-1, 4),)


def test_flat_boxes_and_input_disjunctions():
    text = HEAD + ("(assert (or (and (>= X_0 0) (<= X_0 1) (>= X_1 0.25) (<= X_1 0.25))"
                   "            (and (>= X_0 2) (<= X_0 3) (>= X_1 -1) (<= X_1 1))))"
                   "(assert (or (<= Y_0 Y_1) (and (<= Y_0 Y_2) (>= Y_2 1))))")
    prop = parse_vnnlib_text(text)
    assert len(prop.cases) == 2 and all(len(c.outputs) == 2 for c in prop.cases)
    flat = prop.cases[0]
    assert flat.lo[1] == flat.hi[1] == Fraction(1, 4)
    assert len(flat.outputs[1].A) == 2  # a conjunction of two rows


@pytest.mark.parametrize("text,message", [
    ("(declare-const X_0 Real)\n(assert (<= X_0 1)", "line 2: '\\(' is never closed"),
    ("(declare-const X_0 Real)\n(assert (<= X_0 Z))", "line 2: undeclared variable"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 Y_0))", "line 3: .*not both"),
    ("(declare-const X_0 Real)\n(assert (< X_0 1))", "line 2: unsupported operator '<'"),
    ("(declare-const A Real)", "line 1: variables must be named"),
    ("(push 1)", "line 1: unsupported command 'push'"),
    ("(declare-const X_0 Real)\n(assert (>= X_0 (-)))", "line 2: '-' needs at least one argument"),
    # exact as a fraction, but no float64 holds it (an OverflowError came out of the search)
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1e999))", "line 3: the number 1e999 "
     "is beyond float64's range"),
    # every input would be a counterexample (the search raised numpy's "argmax of an empty sequence")
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1))\n(assert (>= X_0 0))",
     "says nothing of the outputs"),
])
def test_malformed_vnnlib_names_the_line(text, message):
    with pytest.raises(VnnLibError, match=message):
        parse_vnnlib_text(text)


def test_a_folder_is_not_a_property_file(tmp_path):
    with pytest.raises(rn.RegionEnumError, match="is not a file"):
        rn.verify.parse_vnnlib(tmp_path)
    binary = tmp_path / "p.vnnlib"
    binary.write_bytes(bytes(range(128, 256)))  # not UTF-8: a UnicodeDecodeError came out
    with pytest.raises(VnnLibError, match="not a text file"):
        rn.verify.parse_vnnlib(binary)


def test_unbounded_or_empty_input_sets_are_errors():
    with pytest.raises(rn.InvalidDomainError, match="X_0 has no upper bound"):
        parse_vnnlib_text("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 1))(assert (>= Y_0 0))")
    with pytest.raises(rn.InvalidDomainError, match="empty"):
        parse_vnnlib_text("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 1))(assert (<= X_0 0))"
                          "(assert (>= Y_0 0))")


def _violated_by_milp(net, prop):
    """Whether some case's box meets some output set, by the MILP oracle (a margin away from 0)."""
    values = []
    for case in prop.cases:
        lo, hi = np.array(case.lo, float), np.array(case.hi, float)
        for out in case.outputs:
            values.append(milp_min_max(net, lo, hi, out.A_f, out.b_f)[0])
    return min(values)


def test_check_vnnlib_against_milp():
    net = random_net([2, 10, 10, 3], 1)
    for lo, hi in ((-0.05, 0.05), (-1.0, 1.0), (0.3, 0.4)):
        prop = parse_vnnlib_text(PROP.format(lo=lo, hi=hi))
        res = check_vnnlib(net, prop)
        value = _violated_by_milp(net, prop)
        assert abs(value) > 1e-6
        assert res.status == ("sat" if value <= 0 else "unsat"), (lo, hi, value)
        if res.status == "sat":
            y = exact_outputs(net, res.counterexample_exact)
            assert max(y[1], y[2]) >= y[0]
            assert all(Fraction(lo) <= v <= Fraction(hi) for v in res.counterexample_exact)
        else:
            rn.certify(res)


def test_disjunctive_and_flat_properties_against_milp():
    net = random_net([3, 12, 12, 3], 4)
    text = ("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const X_2 Real)"
            "(declare-const Y_0 Real)(declare-const Y_1 Real)(declare-const Y_2 Real)"
            "(assert (or (and (>= X_0 -1) (<= X_0 0) (>= X_1 0.5) (<= X_1 0.5) (>= X_2 -1) (<= X_2 1))"
            "            (and (>= X_0 0.5) (<= X_0 1) (>= X_1 -1) (<= X_1 1) (>= X_2 0) (<= X_2 0))))"
            "(assert (or (and (>= Y_0 {a}) (<= Y_1 Y_2)) (and (>= Y_2 {b}))))")
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (4000, 3))
    Y = net(X)
    q0, q2 = (lambda p: np.quantile(Y[:, 0], p)), (lambda p: np.quantile(Y[:, 2], p))
    for a, b in ((q0(0.5), q2(0.5)), (q0(0.99), Y[:, 2].max() + 0.5), (Y[:, 0].max() + 0.5, Y[:, 2].max() + 0.5)):
        prop = parse_vnnlib_text(text.format(a=float(a), b=float(b)))
        assert len(prop.cases) == 2
        value = _violated_by_milp(net, prop)
        if abs(value) < 1e-6:
            continue
        res = check_vnnlib(net, prop)
        assert res.status == ("sat" if value <= 0 else "unsat"), (a, b, value)
        if res.status == "unsat":
            rn.certify(res)
        else:  # the counterexample lies in one of the boxes, exactly, fixed inputs included
            x = res.counterexample_exact
            assert x[1] == Fraction(1, 2) or x[2] == 0


def test_competition_answer_format():
    net = random_net([2, 8, 3], 2)
    sat = check_vnnlib(net, parse_vnnlib_text(PROP.format(lo=-1, hi=1)))
    assert sat.status == "sat"
    text = competition_answer(sat)
    lines = text.splitlines()
    assert lines[0] == "sat" and lines[1].startswith("((X_0 ") and text.rstrip().endswith("))")
    values = [float(t.strip("()").split()[1]) for t in text.split("\n")[1:] if t.strip()]
    assert len(values) == 5 and np.allclose(values[2:], net(np.array(values[:2])[None])[0], atol=1e-9)
    assert competition_answer(rn.verify.VnnResult("unsat")) == "unsat\n"
    timed_out = rn.verify.VnnResult("unknown", reason="the time limit of 1 s ran out", stop_reason="time_limit")
    assert competition_answer(timed_out) == "timeout\n"
    assert competition_answer(rn.verify.VnnResult("unknown", stop_reason="interrupted")) == "unknown\n"


def test_cli_verify(tmp_path):
    pytest.importorskip("onnx")
    from tests.models import float32_net, to_onnx
    net = float32_net(random_net([2, 8, 8, 3], 3))
    to_onnx(net, tmp_path / "net.onnx")
    (tmp_path / "narrow.vnnlib").write_text(PROP.format(lo=0.1, hi=0.1001))
    (tmp_path / "wide.vnnlib").write_text(PROP.format(lo=-1.0, hi=1.0))
    (tmp_path / "broken.vnnlib").write_text("(declare-const X_0 Real)\n(assert (<= X_0 1)")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "regionenum.cli", "verify", *map(str, args)],
                              capture_output=True, text=True, timeout=600)

    loaded = rn.Network.from_onnx(tmp_path / "net.onnx")
    for name in ("narrow", "wide"):
        r = run(tmp_path / "net.onnx", tmp_path / f"{name}.vnnlib", "--json", "--certify")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        expected = check_vnnlib(loaded, parse_vnnlib(tmp_path / f"{name}.vnnlib"))
        assert out["status"] == expected.status
        assert ("certified" in out) == (out["status"] == "unsat")
    r = run(tmp_path / "net.onnx", tmp_path / "wide.vnnlib", "--vnncomp", "--answer", tmp_path / "answer.txt")
    assert r.returncode == 0 and r.stdout.split()[0] in ("sat", "unsat")
    assert (tmp_path / "answer.txt").read_text() == r.stdout
    bad = run(tmp_path / "net.onnx", tmp_path / "broken.vnnlib")
    assert bad.returncode == 2 and "line 2" in bad.stderr
    mismatch = tmp_path / "one.vnnlib"
    mismatch.write_text("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1))(assert (>= X_0 0))"
                        "(assert (>= Y_0 0))")
    bad = run(tmp_path / "net.onnx", mismatch)
    assert bad.returncode == 2 and "the property has 1 inputs" in bad.stderr
