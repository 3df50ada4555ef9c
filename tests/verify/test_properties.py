"""Exact properties from the regions, against a MILP oracle and sampling."""
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.analysis.exact_geometry import ExactGeometry
from tests.oracles import milp_max, random_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("d,widths,seed", [(2, [8, 8], 0), (2, [12, 6], 1), (3, [6, 6], 2)])
def test_output_range_matches_milp_and_sampling(d, widths, seed):
    net = random_net([d] + widths + [2], seed)
    box = rn.Box(-np.ones(d), np.ones(d))
    regions = rn.enumerate_regions(net, box)
    for k in range(2):
        r = rn.verify.output_range(regions, output=k)
        top, _ = milp_max(net, box.lo, box.hi, np.eye(2)[k])
        low, _ = milp_max(net, box.lo, box.hi, -np.eye(2)[k])
        assert float(r.max) == pytest.approx(top, rel=1e-7, abs=1e-7)
        assert float(r.min) == pytest.approx(-low, rel=1e-7, abs=1e-7)
        assert net(r.argmax[None])[0, k] == pytest.approx(float(r.max), rel=1e-9, abs=1e-12)
        X = np.random.default_rng(seed).uniform(-1, 1, (20000, d))
        y = net(X)[:, k]
        assert y.max() <= float(r.max) + 1e-12 and y.min() >= float(r.min) - 1e-12


def test_property_verdicts_are_exact():
    # y = ReLU(x0 + x1) - ReLU(x0) on [-1, 1]^2, integer weights: the maximum is exactly 1
    net = rn.Network.from_layers([(np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2)),
                                  (np.array([[-1.0, 1.0]]), np.zeros(1))], ["relu", "identity"])
    holds = rn.verify.check_property(net, [[1.0]], [-1.0], domain=BOX2)     # y - 1 <= 0
    assert holds.holds and holds.worst == [Fraction(0)]
    eps = 2.0 ** -52
    fails = rn.verify.check_property(net, [[1.0]], [-(1.0 - eps)], domain=BOX2)  # y <= 1 - 2^-52
    assert not fails.holds and fails.worst == [Fraction(eps)] and fails.violated == [0]
    assert net(fails.counterexample[None])[0, 0] - (1.0 - eps) > 0
    with pytest.raises(rn.RegionEnumError, match=r"C must have shape \(m, 1\)"):
        rn.verify.check_property(net, [[1.0, 2.0]], [0.0], domain=BOX2)
    with pytest.raises(rn.RegionEnumError, match="e must have shape"):
        rn.verify.check_property(net, [[1.0]], [0.0, 1.0], domain=BOX2)


def test_property_against_milp_on_a_random_classifier():
    net = random_net([2, 10, 10, 3], 3)
    C, e = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]]), np.array([0.1, -0.2])
    res = rn.verify.check_property(net, C, e, domain=BOX2)
    for i in range(2):
        top, _ = milp_max(net, BOX2.lo, BOX2.hi, C[i])
        assert float(res.worst[i]) == pytest.approx(top + e[i], rel=1e-7, abs=1e-7)
    assert res.holds == all(w <= 0 for w in res.worst)


def test_lipschitz_constants():
    net = random_net([2, 8, 8, 2], 4)
    regions = rn.enumerate_regions(net, BOX2)
    X = np.random.default_rng(0).uniform(-1, 1, (4000, 2))
    Y = np.random.default_rng(1).uniform(-1, 1, (4000, 2))
    for norm, p in ((1, 1), (2, 2), (np.inf, np.inf)):
        L = rn.verify.lipschitz(regions, norm=norm)
        ratio = np.linalg.norm(net(X) - net(Y), ord=p, axis=1) / np.linalg.norm(X - Y, ord=p, axis=1)
        assert ratio.max() <= float(L.value) * (1 + 1e-9)
        assert float(L.value) == pytest.approx(np.linalg.norm(regions.jacobians[L.region], ord=p))
    geo = ExactGeometry(regions)  # against every region's exact norms
    exact = []
    for r in range(len(regions)):
        E = geo.output_rows(r)
        A = [[Fraction(int(a), int(E[0, 0])) for a in row[1:]] for row in E[1:]]
        exact.append((max(sum(abs(A[i][j]) for i in range(len(A))) for j in range(len(A[0]))),
                      max(sum(abs(a) for a in row) for row in A)))
    assert rn.verify.lipschitz(regions, norm=1).value == max(e[0] for e in exact)
    assert rn.verify.lipschitz(regions, norm=np.inf).value == max(e[1] for e in exact)
    one_d = rn.Network.from_layers([(np.array([[2.0], [-3.0]]), np.array([0.0, 1.0])),
                                    (np.array([[1.0, 1.0]]), np.zeros(1))])
    assert rn.verify.lipschitz(one_d, rn.Box([-1.0], [1.0]), norm=1).value == 3


def test_robustness_of_a_linear_classifier():
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2))],
                                 ["identity", "identity"])   # class 0 where x0 > 0
    ok = rn.verify.robustness(net, [0.3, 0.0], 0.2)
    assert ok.robust and ok.label == 0
    bad = rn.verify.robustness(net, [0.3, 0.0], 0.5)
    assert not bad.robust and bad.label_found == 1
    assert bad.distance == pytest.approx(0.3, abs=1e-6) and bad.counterexample[0] < 0
    l1 = rn.verify.robustness(net, [0.3, 0.0], 0.5, norm=1)
    assert not l1.robust and np.abs(l1.counterexample - [0.3, 0.0]).sum() <= 0.5 + 1e-9
    with pytest.raises(rn.RegionEnumError, match="radius must be positive"):
        rn.verify.robustness(net, [0.0, 0.0], -1.0)
    # one logit, y = relu(x) - 1 on a line: class 1 where x > 1, as the decision regions say
    logit = rn.Network.from_layers([(np.array([[1.0]]), np.zeros(1)), (np.array([[1.0]]), np.array([-1.0]))])
    near = rn.verify.robustness(logit, [2.0], 0.5)
    assert near.robust and near.label == 1
    far = rn.verify.robustness(logit, [2.0], 1.5)
    assert not far.robust and far.label == 1 and far.label_found == 0
    assert far.counterexample[0] <= 1.0 and far.distance == pytest.approx(1.0, abs=1e-6)


def test_reachable_sets():
    net = random_net([2, 8, 8, 1], 5)
    regions = rn.enumerate_regions(net, BOX2)
    pieces = rn.verify.reachable_set(regions)
    r = rn.verify.output_range(regions)
    assert min(lo for lo, _ in pieces) == pytest.approx(float(r.min))
    assert max(hi for _, hi in pieces) == pytest.approx(float(r.max))
    net2 = random_net([2, 8, 8, 2], 6)
    reg2 = rn.enumerate_regions(net2, BOX2)
    polys = rn.verify.reachable_set(reg2)
    X = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    for x, i in zip(X, reg2.locate(X)):
        y, P = net2(x[None])[0], polys[i]
        if len(P) >= 3:  # inside the counter-clockwise polygon
            edges = np.roll(P, -1, axis=0) - P
            cross = edges[:, 0] * (y[1] - P[:, 1]) - edges[:, 1] * (y[0] - P[:, 0])
            assert np.all(cross >= -1e-9 * (1 + np.abs(P).max()))
    with pytest.raises(rn.RegionEnumError, match="1 or 2 outputs"):
        rn.verify.reachable_set(random_net([2, 4, 3], 7), BOX2)


def test_results_without_vertices_point_to_the_search():
    """Regions enumerated by their inequalities (more than five inputs) have no vertices: the
    vertex-based properties say so and name what decides them instead."""
    net = random_net([6, 8, 2], 0)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(6), np.ones(6)))
    for call in (lambda: rn.verify.reachable_set(regions), lambda: rn.verify.output_range(regions),
                 lambda: rn.verify.check_property(regions, np.ones((1, 2)), np.zeros(1))):
        with pytest.raises(rn.RegionEnumError, match="verify_property"):
            call()


def test_bad_arguments_are_refused_before_enumerating():
    net = random_net([2, 4, 2], 1)
    with pytest.raises(rn.RegionEnumError, match="output must be an integer"):
        rn.verify.output_range(net, BOX2, output=True)
    with pytest.raises(rn.RegionEnumError, match="C must have shape"):
        rn.verify.check_property(net, np.ones((1, 3)), np.zeros(1), BOX2)
    step = rn.verify.closed_loop(rn.Network.from_layers([(np.ones((1, 2)), np.zeros(1))], ["identity"]),
                                 A=np.eye(2), B=np.ones((2, 1)))
    with pytest.raises(rn.RegionEnumError, match="steps must be a non-negative integer"):
        rn.verify.simulate(step, [0.0, 0.0], steps=-1)
    with pytest.raises(rn.RegionEnumError, match="bounded domain"):
        rn.estimators.sample_domain(rn.Polytope.whole_space(2), 3, np.random.default_rng(0))


def test_lipschitz_of_an_incomplete_result_and_wrong_types_are_refused():
    net = random_net([2, 4, 1], 2)
    stopped = rn.enumerate_regions(net, BOX2, max_regions=2)
    with pytest.raises(rn.IncompleteResultError, match="lower bound"):
        rn.verify.lipschitz(stopped)
    with pytest.raises(rn.RegionEnumError, match="norm must be"):
        rn.verify.lipschitz(net, BOX2, norm=3)
    with pytest.raises(rn.ArgumentTypeError, match="network must be"):
        rn.verify.robustness("net", [0.0, 0.0], 0.1)
    with pytest.raises(rn.ArgumentTypeError, match="step must be"):
        rn.verify.is_invariant(None, BOX2)


def test_extremes_take_the_float_values_error_bounds():
    """Found by a review: a region's Jacobian of about 7e123 times a vertex 3e-15 from its exact
    place (within its bound) made a float value of -2.2e109; the candidates were taken within
    1e-6 of the spread of the float values, which that value set, and the true minimum, about
    -7.2e93, fell outside: output_range reported 1.9e-310 and check_property held. Every vertex
    whose value could reach the extreme within its error bound is now re-valued exactly."""
    layers = [(np.array([[8.4e-323, -3.4181e-319, -1.2664892500331903e+83],
                         [0.0, 0.7286889415434207, 0.0],
                         [2.363767319274445e-08, -8.229612647760906e-307, 4.4e-323]]),
               np.array([5.497123169354346e-302, 2.785056654073413e-309, -0.6884055862034255])),
              (np.array([[-0.4371294946964276, -0.6492400211935218, -2.413441518597062],
                         [0.45204971802015875, 1.076810389305613, 0.46086742473831777],
                         [2.127234115576448, 1.5577614941377669, 0.8454575963161979],
                         [-0.00892384855406432, -0.8509684185092534, 0.1393736107632248]]),
               np.array([-0.018246978634678824, -0.13754711056336116, -0.17754720531053453, 0.36536821366258343])),
              (np.array([[-0.28807770896665386, 0.1018816669686754, 0.7264209197923949, 0.7336526217200353]]),
               np.array([-7.425721785982287e-12])),
              (np.array([[-11972509384.74272]]), np.array([1.857743190881e-310]))]
    acts = [("leaky_relu", 7.0), ("leaky_relu", -0.5), ("leaky_relu", 1e+30), "identity"]
    net = rn.Network.from_layers(layers, acts)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    x = [Fraction(-240873011061945, 562949953421312), Fraction(-1), Fraction(1)]
    v = x
    for (W, b), a in zip(layers, acts):  # the network at x, exactly
        z = [sum(Fraction(float(W[i, j])) * v[j] for j in range(len(v))) + Fraction(float(b[i]))
             for i in range(len(b))]
        v = z if a == "identity" else [t if t > 0 else Fraction(a[1]) * t for t in z]
    assert v[0] < -7e93
    assert rn.verify.output_range(regions).min <= v[0]
    assert not rn.verify.check_property(regions, [[-1.0]], [0.0]).holds


def test_a_domain_given_with_regions_is_refused():
    """The regions carry their own domain: another one given beside them used to be ignored
    (y = x0 <= 0.6 'failed' on the quarter box [0, 0.5]^2, where it holds, from the regions of
    [-1, 1]^2)."""
    net = rn.Network.from_layers([(np.array([[1.0, 0.0]]), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    quarter = rn.Box([0, 0], [0.5, 0.5])
    for call in (lambda d: rn.verify.check_property(regions, [[1.0]], [-0.6], domain=d),
                 lambda d: rn.verify.output_range(regions, d), lambda d: rn.verify.lipschitz(regions, d),
                 lambda d: rn.verify.reachable_set(regions, d)):
        with pytest.raises(rn.InvalidArgumentError, match="give a domain with a network only"):
            call(quarter)
        call(None)  # without one, the regions' own
    assert rn.verify.check_property(net, [[1.0]], [-0.6], domain=quarter).holds
