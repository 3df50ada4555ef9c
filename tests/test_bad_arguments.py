"""Arguments of the wrong kind, across the public API: each is refused by name with one of the
library's errors, before any work (they used to fail deep inside with an AttributeError, a
TypeError from ``int()`` or ``pathlib``, or NumPy's "could not convert string to float")."""
import numpy as np
import pytest

import regionenum as rn

NET = rn.Network.from_layers([(np.array([[1.0, 0.3], [0.2, -1.0], [1.0, 1.0]]), np.array([0.1, 0.0, -0.2])),
                              (np.ones((2, 3)), np.array([0.0, 0.1]))])
BOX = rn.Box([-1, -1], [1, 1])
CONTROLLER = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.array([[1.0, -1.0]]), np.zeros(1))])
STEP = rn.verify.closed_loop(CONTROLLER, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])


def plot_regions(*args, **kwargs):
    pytest.importorskip("matplotlib").use("Agg")
    from regionenum.plotting import plot_regions
    return plot_regions(*args, **kwargs)


@pytest.fixture(scope="module")
def regions():
    return rn.enumerate_regions(NET, BOX)


#: (name, call taking the regions, error, words the message must hold)
CASES = [
    ("certify None", lambda R: rn.certify(None), rn.ArgumentTypeError, "regions must be"),
    ("save a string as network", lambda R: rn.save("/tmp/x.npz", "net"), rn.ArgumentTypeError, "network must be"),
    ("save to None", lambda R: rn.save(None, NET), rn.ArgumentTypeError, "path must be a file name"),
    ("load None", lambda R: rn.load(None), rn.ArgumentTypeError, "path must be a file name"),
    ("load a number", lambda R: rn.load(3), rn.ArgumentTypeError, "path must be a file name"),
    ("load_regions None", lambda R: rn.load_regions(None), rn.ArgumentTypeError, "path must be"),
    ("save_regions a list", lambda R: rn.save_regions([], "/tmp/r.npz"), rn.ArgumentTypeError, "regions must be"),
    ("write_graph a dict", lambda R: rn.write_graph({}, "/tmp/g.json"), rn.ArgumentTypeError, "G must be"),
    ("read_graph None", lambda R: rn.read_graph(None), rn.ArgumentTypeError, "path must be"),
    ("parse_vnnlib None", lambda R: rn.verify.parse_vnnlib(None), rn.ArgumentTypeError, "path must be"),
    ("parse_vnnlib_text None", lambda R: rn.verify.parse_vnnlib_text(None), rn.ArgumentTypeError, "text must be"),
    ("output_range a string", lambda R: rn.verify.output_range("x", BOX), rn.ArgumentTypeError, "target must be"),
    ("check_property None", lambda R: rn.verify.check_property(None, np.eye(2), np.ones(2), BOX),
     rn.ArgumentTypeError, "target must be"),
    ("lipschitz a number", lambda R: rn.verify.lipschitz(1.5, BOX), rn.ArgumentTypeError, "target must be"),
    ("reachable_set a list", lambda R: rn.verify.reachable_set([], BOX), rn.ArgumentTypeError, "target must be"),
    ("verify_property None", lambda R: rn.verify.verify_property(None, BOX, np.eye(2), np.ones(2)),
     rn.ArgumentTypeError, "network must be"),
    ("check_vnnlib None", lambda R: rn.verify.check_vnnlib(None, None), rn.ArgumentTypeError, "network must be"),
    ("C as text", lambda R: rn.verify.check_property(R, "x", np.ones(2)), rn.ArgumentTypeError, "C must be real"),
    ("e as a dict", lambda R: rn.verify.check_property(R, np.eye(2), {}), rn.ArgumentTypeError, "e must be real"),
    ("robustness radius as text", lambda R: rn.verify.robustness(NET, [0.5, 0.5], "0.1"),
     rn.ArgumentTypeError, "radius must be a number"),
    ("robustness center NaN", lambda R: rn.verify.robustness(NET, [np.nan, 0.5], 0.1),
     rn.InvalidArgumentError, "center must be finite"),
    ("closed_loop A as text", lambda R: rn.verify.closed_loop(NET, A="x", B=np.ones((2, 2))),
     rn.ArgumentTypeError, "A must be real"),
    ("forward_reachable None", lambda R: rn.verify.forward_reachable(None, BOX, 2), rn.ArgumentTypeError,
     "step must be"),
    ("forward_reachable steps None", lambda R: rn.verify.forward_reachable(STEP, BOX, None),
     rn.ArgumentTypeError, "steps must be an integer"),
    ("unroll steps NaN", lambda R: rn.verify.unroll(STEP, float("nan")), rn.InvalidArgumentError,
     "steps must be a positive integer"),
    ("simulate a string", lambda R: rn.verify.simulate("x", np.zeros(2), 2), rn.ArgumentTypeError,
     "step must be"),
    ("simulate X0 as text", lambda R: rn.verify.simulate(STEP, "x", 2), rn.ArgumentTypeError, "X0 must be real"),
    ("preimage None", lambda R: rn.verify.preimage(None, BOX, np.eye(2), np.ones(2)), rn.ArgumentTypeError,
     "network must be"),
    ("preimage on the whole plane", lambda R: rn.verify.preimage(NET, rn.Polytope.whole_space(2), np.eye(2),
                                                                 np.ones(2)),
     rn.InvalidDomainError, "bounded"),
    ("plot_reachable None", lambda R: rn.verify.plot_reachable(None), rn.ArgumentTypeError, "sets must be"),
    ("plot_reachable dims beyond the states",
     lambda R: rn.verify.plot_reachable(rn.verify.forward_reachable(STEP, rn.Box([-.1, -.1], [.1, .1]), 1),
                                        dims=(0, 5)),
     IndexError, "dims[1] 5 is out of range"),
    ("sampled_patterns n_samples None", lambda R: rn.estimators.sampled_patterns(NET, BOX, None),
     rn.ArgumentTypeError, "n_samples must be an integer"),
    ("sampled_patterns beyond memory", lambda R: rn.estimators.sampled_patterns(NET, BOX, 10 ** 15),
     rn.InvalidArgumentError, "this machine has"),
    ("chao1 seed -1", lambda R: rn.estimators.chao1(NET, BOX, 10, seed=-1), rn.InvalidArgumentError,
     "seed must be"),
    ("grid_patterns n_per_axis as text", lambda R: rn.estimators.grid_patterns(NET, BOX, "10"),
     rn.ArgumentTypeError, "n_per_axis must be an integer"),
    ("compare budgets beyond memory", lambda R: rn.estimators.compare(R, [10, 10 ** 15]),
     rn.InvalidArgumentError, "this machine has"),
    ("trajectory points as text", lambda R: rn.estimators.trajectory_regions(NET, "x"), rn.ArgumentTypeError,
     "points must be real"),
    ("line_regions x1 as a dict", lambda R: rn.estimators.line_regions(NET, [0, 0], {}), rn.ArgumentTypeError,
     "x1 must be real"),
    ("local_complexity radius None", lambda R: rn.estimators.local_complexity(NET, np.zeros((2, 2)), None),
     rn.ArgumentTypeError, "radius must be a number"),
    ("locate text", lambda R: R.locate("x"), rn.ArgumentTypeError, "X must be real"),
    ("bounds n0 None", lambda R: rn.bounds.zaslavsky(10, None), rn.ArgumentTypeError, "n0 must be an integer"),
    ("bounds widths None", lambda R: rn.bounds.pascanu(2, None), rn.ArgumentTypeError, "widths must be"),
    ("constructions fold_widths a float", lambda R: rn.constructions.montufar(2, 1.5, 4), rn.ArgumentTypeError,
     "fold_widths must be"),
    ("from_layers None", lambda R: rn.Network.from_layers(None), rn.ArgumentTypeError, "layers must be"),
    ("from_layers activations a number", lambda R: rn.Network.from_layers([(np.eye(2), np.zeros(2))],
                                                                          activations=1.5),
     rn.ArgumentTypeError, "activations must be"),
    ("a LeakyReLU slope as text", lambda R: rn.Network.from_layers([(np.eye(2), np.zeros(2))],
                                                                   activations=[("leaky_relu", "a")]),
     rn.InvalidNetworkError, "cannot read numbers from 'a'"),
    ("a LeakyReLU slope None", lambda R: rn.Network.from_layers([(np.eye(2), np.zeros(2))],
                                                                activations=[("leaky_relu", None)]),
     rn.InvalidNetworkError, "leaky_relu's parameter must be real numbers"),
    ("plot_regions a string", lambda R: plot_regions("x"), rn.ArgumentTypeError, "regions must be"),
    ("plot_regions ax a string", lambda R: plot_regions(R, ax="x"), rn.ArgumentTypeError,
     "ax must be matplotlib Axes"),
    ("plot_regions output as text", lambda R: plot_regions(R, output="1"), rn.ArgumentTypeError,
     "output must be an integer"),
]


@pytest.mark.parametrize("name, call, error, words", CASES, ids=[c[0] for c in CASES])
def test_arguments_of_the_wrong_kind_are_refused_by_name(regions, name, call, error, words):
    if "plot" in name:
        pytest.importorskip("matplotlib").use("Agg")
    with pytest.raises(error) as caught:
        call(regions)
    assert words in str(caught.value)


def test_whole_floats_and_numpy_integers_are_still_taken():
    """What the checks let through: counts as whole floats or NumPy integers, points as lists,
    Fractions as numbers."""
    from fractions import Fraction
    assert rn.bounds.zaslavsky(np.int64(4), 2.0) == rn.bounds.zaslavsky(4, 2) == 11
    assert rn.constructions.montufar(2.0, [4.0], 4.0).count == rn.constructions.montufar(2, [4], 4).count
    assert len(rn.verify.unroll(STEP, 2.0).layers) == len(rn.verify.unroll(STEP, 2).layers)
    assert rn.estimators.sampled_patterns(NET, BOX, np.int32(50), seed=0).samples == 50
    assert rn.verify.robustness(NET, [Fraction(1, 2), 0.5], Fraction(1, 10)).label in (0, 1)
