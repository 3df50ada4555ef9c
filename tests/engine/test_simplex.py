"""The small dual simplex kernel and its exact twin against scipy's HiGHS; their Farkas rays
certify infeasibility."""
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog

from regionenum.engine.exact_lp import exact_lp
from regionenum.engine.kernels.simplex import INFEASIBLE, OPTIMAL, solve_lp, solve_lp_blocks, solve_lps


def _random_lp(rng, t):
    n, m = int(rng.integers(1, 9)), int(rng.integers(0, 40))
    G = rng.normal(size=(m, n))
    h = rng.normal(size=m) * (0.3 if t % 3 else 2.0)
    lo, hi = -rng.random(n), rng.random(n)
    return G, h, lo, hi, rng.normal(size=n)


def test_float_kernel_matches_highs():
    rng = np.random.default_rng(1)
    for t in range(400):
        G, h, lo, hi, c = _random_lp(rng, t)
        r = solve_lp(G, h, lo, hi, c)
        ref = linprog(c, A_ub=G if len(G) else None, b_ub=h if len(G) else None, bounds=list(zip(lo, hi)),
                      method="highs")
        if ref.status == 2:
            assert r.status == INFEASIBLE
            # the ray: nonnegative multipliers combining rows and bounds into 0 . x <= negative
            y, act = r.lam, r.active
            rows = np.vstack([G, -np.eye(len(lo)), np.eye(len(lo))])
            rhs = np.concatenate([h, -lo, hi])
            assert (y >= 0).all()
            assert np.allclose(y @ rows[act], 0, atol=1e-8) and y @ rhs[act] < 0
        else:
            assert r.status == OPTIMAL and c @ r.x == pytest.approx(ref.fun, abs=1e-7)
            assert (G @ r.x <= h + 1e-7).all() and (r.x >= lo - 1e-9).all() and (r.x <= hi + 1e-9).all()


def test_many_objectives_in_one_call():
    rng = np.random.default_rng(2)
    G, h = rng.normal(size=(30, 5)), rng.random(30)
    C = rng.normal(size=(20, 5))
    status, X, _, _, _ = solve_lps(G, h, -np.ones(5), np.ones(5), C)
    for k in range(20):
        ref = linprog(C[k], A_ub=G, b_ub=h, bounds=[(-1, 1)] * 5, method="highs")
        assert status[k] == OPTIMAL and C[k] @ X[k] == pytest.approx(ref.fun, abs=1e-8)


def test_exact_programmes_match_highs_and_certify_themselves():
    rng = np.random.default_rng(3)
    for t in range(40):
        G, h, lo, hi, c = _random_lp(rng, t)
        q = lambda a: [Fraction(float(v)) for v in a]  # noqa: E731
        status, x, mult = exact_lp([q(r) for r in G], q(h), q(lo), q(hi), q(c))
        ref = linprog(c, A_ub=G if len(G) else None, b_ub=h if len(G) else None, bounds=list(zip(lo, hi)),
                      method="highs")
        if ref.status == 2:
            assert status == "infeasible"
            # the combination of rows is positive at every point of the box: nothing is feasible
            F = [sum(mult.get(i, 0) * (Fraction(float(G[i, j])) if j >= 0 else -Fraction(float(h[i])))
                     for i in range(len(G))) for j in [-1] + list(range(len(lo)))]
            low = F[0] + sum(a * (Fraction(float(lo[j])) if a > 0 else Fraction(float(hi[j])))
                             for j, a in enumerate(F[1:]))
            assert low > 0 and all(v >= 0 for v in mult.values())
        else:
            assert status == "optimal"
            assert all(sum(Fraction(float(a)) * v for a, v in zip(G[i], x)) <= Fraction(float(h[i]))
                       for i in range(len(G)))
            assert float(sum(Fraction(float(a)) * v for a, v in zip(c, x))) == pytest.approx(ref.fun, abs=1e-9)


@pytest.mark.parametrize("stretch", [0, 20])
def test_rows_far_smaller_than_the_others_are_not_read_as_zeros(stretch):
    """Rows scaled by ``2^-40``, and variables by ``2^-stretch .. 2^stretch`` (the same
    programme, exactly) give the same answer: the ratio test once compared an entering row's
    coefficients with an absolute threshold, so a tiny row entering looked like a Farkas ray and
    feasible programmes were called infeasible."""
    rng = np.random.default_rng(4)
    for t in range(300):
        G, h, lo, hi, c = _random_lp(rng, t)
        if not len(G):
            continue
        rows = np.where(rng.random(len(G)) < 0.3, 2.0 ** -40, 1.0)
        s = 2.0 ** rng.integers(-stretch, stretch + 1, len(lo))  # x = s * u
        plain = solve_lp(G, h, lo, hi, c)
        scaled = solve_lp(G * rows[:, None] * s, h * rows, lo / s, hi / s, c * s)
        assert scaled.status == plain.status
        if plain.status == OPTIMAL:
            assert c @ (s * scaled.x) == pytest.approx(c @ plain.x, abs=1e-9)


def _rational_lp(rng, t):
    """A random programme with non-dyadic entries (thirds, sevenths, ...), some rows repeated."""
    n, m = int(rng.integers(1, 7)), int(rng.integers(0, 25))
    q = lambda size: [Fraction(int(a), int(b)) for a, b in  # noqa: E731
                      zip(rng.integers(-20, 21, size), rng.choice([1, 2, 3, 7, 9, 11], size))]
    G = [q(n) for _ in range(m)]
    if m > 2:
        G[1] = list(G[0])  # a repeated row: bases holding both are singular
    h = q(m) if t % 2 else [Fraction(abs(v)) for v in q(m)]  # (half of them feasible at 0)
    lo = [Fraction(-1, 3) - abs(v) for v in q(n)]
    return G, h, lo, [-v for v in lo], q(n)


def _check_exact_answer(G, h, lo, hi, c, status, x, mult):
    """Certify an answer of :func:`exact_lp` by itself, exactly: an optimum is feasible and its
    multipliers bound the objective from below by its value; an infeasible answer's Farkas
    combination of rows is positive everywhere on the box."""
    n = len(c)
    assert all(v >= 0 for k, v in mult.items() if k < len(G))
    if status == "optimal":
        assert all(sum(a * v for a, v in zip(g, x)) <= b for g, b in zip(G, h))
        assert all(a <= v <= b for a, v, b in zip(lo, x, hi))
        r = [c[j] + sum(mult.get(i, 0) * G[i][j] for i in range(len(G))) for j in range(n)]
        bound = -sum(mult.get(i, 0) * h[i] for i in range(len(G))) + sum(min(r[j] * lo[j], r[j] * hi[j])
                                                                           for j in range(n))
        assert sum(a * v for a, v in zip(c, x)) == bound
    else:
        assert status == "infeasible"
        F = [sum(mult.get(i, 0) * G[i][j] for i in range(len(G))) for j in range(n)]
        low = -sum(mult.get(i, 0) * h[i] for i in range(len(G))) + sum(min(F[j] * lo[j], F[j] * hi[j])
                                                                        for j in range(n))
        assert low > 0


def test_exact_programmes_on_rational_data_certify_themselves_from_any_start():
    """Non-dyadic data and repeated rows; started at the box corner, at the float kernel's
    basis, at a random basis and at a singular one: the same status and optimal value, and each
    answer certified by its own multipliers."""
    rng = np.random.default_rng(5)
    for t in range(60):
        G, h, lo, hi, c = _rational_lp(rng, t)
        m, n = len(G), len(c)
        status, x, mult = exact_lp(G, h, lo, hi, c)
        _check_exact_answer(G, h, lo, hi, c, status, x, mult)
        f = lambda a: np.array([float(v) for v in a])  # noqa: E731
        guess = solve_lp(np.array([f(g) for g in G]).reshape(m, n), f(h), f(lo), f(hi), f(c)).active[:n]
        starts = [guess, rng.permutation(m + 2 * n)[:n], [0, 1] + list(range(m, m + n - 2)),
                  [m + 2 * n] * n]  # (the last two: singular where m > 2, out of range)
        for start in starts:
            again = exact_lp(G, h, lo, hi, c, start=[int(i) for i in start])
            _check_exact_answer(G, h, lo, hi, c, *again)
            assert again[0] == status
            if status == "optimal":
                assert sum(a * v for a, v in zip(c, again[1])) == sum(a * v for a, v in zip(c, x))


def test_rows_of_sizes_far_apart_give_the_optimum():
    """Each row scaled by its own power of two between ``2^-60`` and ``2^60``: the same optimum
    as the rows at unit length (the ratio test once took ratios within an absolute ``1e-15`` for
    ties, which at ratios near ``1e-18`` lumped unrelated rows together and left the method at a
    vertex that is not optimal)."""
    rng = np.random.default_rng(6)
    for t in range(400):
        G, h, lo, hi, c = _random_lp(rng, t)
        if not len(G):
            continue
        norms = np.linalg.norm(G, axis=1)
        G, h = G / norms[:, None], h / norms
        plain = solve_lp(G, h, lo, hi, c)
        s = 2.0 ** rng.integers(-60, 61, len(G))
        scaled = solve_lp(G * s[:, None], h * s, lo, hi, c)
        assert scaled.status == plain.status
        if plain.status == OPTIMAL:
            assert c @ scaled.x == pytest.approx(c @ plain.x, abs=1e-9)


def test_exact_programmes_take_numpy_integers_no_variables_and_malformed_starts():
    """numpy integers are read as Python integers (the elimination once overflowed in int64 and
    answered wrongly), a programme without variables is decided by its right-hand sides, and a
    start with repeated indices is ignored (it once raised IndexError)."""
    G = [[np.int64(3 ** 30), np.int64(-3 ** 29 + 1)], [np.int64(2 ** 31 + 1), np.int64(5 ** 13)]]
    h, box, c = [Fraction(1), Fraction(1)], [Fraction(-1)] * 2, [Fraction(-1), Fraction(-1)]
    as_ints = exact_lp([[int(a) for a in g] for g in G], h, box, [-v for v in box], c)
    assert exact_lp(G, h, box, [-v for v in box], c) == as_ints
    assert as_ints[1] == [Fraction(-1220703124, 2147483649), Fraction(1)]
    assert exact_lp([[]], [Fraction(1)], [], [], [])[0] == "optimal"
    assert exact_lp([[]], [Fraction(-1)], [], [], [])[0] == "infeasible"
    G, h = [[Fraction(1), Fraction(1)]], [Fraction(1)]
    for start in ([0, 0, 1], [0, 1, 1], [2, 1, 1, 2]):
        answer = exact_lp(G, h, [Fraction(0)] * 2, [Fraction(1)] * 2, [Fraction(-1), Fraction(0)], start)
        assert answer[0] == "optimal"


def test_programmes_in_blocks_are_the_programmes_one_by_one():
    """``solve_lp_blocks``: each block (its own rows and box, one objective; empty blocks too)
    gets the status and vertex :func:`solve_lp` gives it alone."""
    rng = np.random.default_rng(4)
    n = 3
    blocks = [_random_lp(rng, t) for t in range(300)]
    blocks = [(G[:, :n] if G.shape[1] >= n else np.c_[G, np.zeros((len(G), n - G.shape[1]))], h,
               np.resize(lo, n), np.resize(hi, n)) for G, h, lo, hi, _ in blocks]
    c = rng.normal(size=n)
    G = np.concatenate([b[0] for b in blocks]).reshape(-1, n)
    row_off = np.r_[0, np.cumsum([len(b[1]) for b in blocks])]
    status, x = solve_lp_blocks(G, np.concatenate([b[1] for b in blocks]), row_off,
                                np.array([b[2] for b in blocks]), np.array([b[3] for b in blocks]), c)
    outcomes = set()
    for (Gb, hb, lo, hi), s, xb in zip(blocks, status, x):
        alone = solve_lp(Gb, hb, lo, hi, c)
        assert s == alone.status
        outcomes.add(int(s))
        if s == OPTIMAL:
            assert np.array_equal(xb, alone.x)
    assert outcomes == {OPTIMAL, INFEASIBLE}
