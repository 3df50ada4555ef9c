"""The small dual simplex kernel and its exact twin against scipy's HiGHS; their Farkas rays
certify infeasibility."""
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog

from regionenum.engine.exact_lp import exact_lp
from regionenum.engine.kernels.simplex import INFEASIBLE, OPTIMAL, solve_lp, solve_lps


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
