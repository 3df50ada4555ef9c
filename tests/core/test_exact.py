"""The exact integer rows behind every sign the engine settles exactly, against Fractions."""
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from regionenum.core.exact import ExactNetwork, exact_rank, kernel_vector


def _fraction_rows(layers, slopes, bits):
    """Each unit's pre-activation as exact affine rows over (1, x), layer by layer, in Fractions."""
    d = layers[0][0].shape[1]
    rows = [[Fraction(int(i == k)) for k in range(d + 1)] for i in range(1, d + 1)]  # x_i
    out, offset = [], 0
    for l, (W, b) in enumerate(layers):
        pre = [[Fraction(float(b[u])) * (k == 0)
                + sum(Fraction(float(W[u, i])) * rows[i][k] for i in range(len(rows)))
                for k in range(d + 1)] for u in range(W.shape[0])]
        out.append(pre)
        if l < len(layers) - 1:
            rows = [[v * (1 if bits[offset + u] else slopes[l]) for v in pre[u]] for u in range(len(pre))]
            offset += len(pre)
    return out


@pytest.mark.parametrize("alpha", [0.01, 1e-30, 2.0 ** -300])
def test_leaky_rows_of_any_slope_are_exact(alpha):
    """Slopes whose dyadic integers exceed 64 bits (alpha = 1e-30 needs about 150) stay Python
    integers: no overflow, and the rows equal the Fraction computation up to their scale."""
    rng = np.random.default_rng(3)
    layers = [(rng.normal(size=(3, 2)), rng.normal(size=3)), (rng.normal(size=(2, 3)), rng.normal(size=2)),
              (rng.normal(size=(1, 2)), np.zeros(1))]
    net = rn.Network.from_layers(layers, [("leaky_relu", alpha), ("leaky_relu", alpha), "identity"])
    exact = ExactNetwork(net)
    bits = np.array([True, False, True, False, True])
    truth = _fraction_rows(layers, [Fraction(alpha), Fraction(alpha)], bits)
    for l in (1, 2):
        E = exact.rows(l, bits)
        scale = Fraction(int(E[0, 0]))  # row 0 is the homogeneous coordinate's scale
        for u, row in enumerate(truth[l]):
            assert [Fraction(int(v)) / scale for v in E[1 + u]] == row


def test_rows_of_one_pattern_together_equal_each_alone():
    """``constraint_rows`` (each layer's pattern key made once, for the hundreds of rows tight at
    a point where many hyperplanes meet) gives each row as ``constraint_row`` does, in the order
    asked, ties of a max layer among them; and the oracle's ``rows`` puts the domain's rows in
    their places. A fresh network for each path, so that neither reads the other's caches."""
    from regionenum.core.exact import ConstraintIds, ExactOracle
    rng = np.random.default_rng(5)
    layers = [(rng.normal(size=(4, 2)), rng.normal(size=4)), (rng.normal(size=(4, 4)), rng.normal(size=4)),
              (rng.normal(size=(3, 2)), rng.normal(size=3))]
    net = rn.Network.from_layers(layers, ["relu", ("max", (2, 2)), "identity"])
    bits = np.array([True, False, True, True, True, False, True, False][: net.n_units])
    ks = [5, 0, net.n_units, 3, 6, 1, 5] + [net.n_units + t for t in range(net.n_ties)]
    alone = [ExactNetwork(net).constraint_row(k, bits) for k in ks]
    together = ExactNetwork(net).constraint_rows(ks, bits)
    assert [list(r) for r in together] == [list(r) for r in alone]
    fixed = {0: np.array([-1, 1, 0], dtype=object), 1: np.array([-1, 0, 1], dtype=object)}
    oracle = ExactOracle(ConstraintIds(2, 0, net.n_units, net.n_ties), fixed, ExactNetwork(net), [])
    oracle.pattern_bits = lambda cell: bits
    start = oracle.ids.unit_start
    got = oracle.rows(0, [start + ks[0], 1, start + ks[1], 0])
    assert [list(r) for r in got] == [list(alone[0]), [-1, 0, 1], list(alone[1]), [-1, 1, 0]]


def test_rank_and_kernel():
    rows = [[1, 2, 3], [2, 4, 6], [0, 1, 1]]
    assert exact_rank(rows, 3) == 2 and exact_rank([], 3) == 0
    v = kernel_vector(rows, 3)
    assert all(sum(a * b for a, b in zip(r, v)) == 0 for r in rows) and any(v)


def test_kernel_vector_in_the_plane_checks_every_row():
    """The cross-product shortcut for rows of length 3 agrees with elimination, falls back to
    it when the first two rows are parallel, and never hides a rank other than 2."""
    from regionenum.errors import InternalError
    assert kernel_vector([[1, 0, -2], [0, 2, -6]], 3) == [2, 3, 1]  # coprime
    v = kernel_vector([[2, 4, 6], [1, 2, 3], [0, 1, 1]], 3)  # first two parallel
    assert v[0] * 1 + v[1] * 2 + v[2] * 3 == 0 and v[1] + v[2] == 0 and any(v)
    with pytest.raises(InternalError):
        kernel_vector([[1, 0, 0], [0, 1, 0], [0, 0, 1]], 3)  # rank 3: no kernel
    with pytest.raises(InternalError):
        kernel_vector([[1, 2, 3], [2, 4, 6]], 3)  # rank 1: a line of solutions


def test_exact_sign_at_a_point_does_not_trust_the_float_point():
    """The exact vertex (5, 7) of x = 5 and y = 7, asked about y - 8 (-1 there) with a float
    point far from it, as far-out vertices made on edges can be: the answer comes from the exact
    vertex's positive homogeneous coordinate (the float point once flipped it to +1). Tight
    constraints that meet only at infinity are an internal error for a point."""
    from regionenum.core.exact import ConstraintIds, ExactOracle
    from regionenum.errors import InternalError
    rows = {0: np.array([-5, 1, 0], dtype=object), 1: np.array([-7, 0, 1], dtype=object),
            2: np.array([-8, 0, 1], dtype=object), 3: np.array([-6, 1, 0], dtype=object)}
    oracle = ExactOracle(ConstraintIds(4, 0, 0), rows, None, [2])
    far = np.array([1.0, -1000.0, -1000.0])
    assert oracle.sign(0, [0, 1], 0, far) == -1
    assert oracle.sign(0, [0, 1], 0, np.array([1.0, 5.0, 7.0])) == -1
    with pytest.raises(InternalError, match="meeting only at infinity"):
        oracle.sign(0, [0, 3], 0, far)  # x = 5 and x = 6: parallel
