"""The worked example of docs/verification.md: a double integrator under a saturating ReLU
controller. Writes docs/closed_loop.png; prints the figures the text quotes.

    python docs/closed_loop.py
"""
from pathlib import Path

import numpy as np
from scipy.linalg import solve_discrete_are
from scipy.optimize import linprog

import regionenum as rn

HERE = Path(__file__).resolve().parent

dt = 0.1
A = np.array([[1.0, dt], [0.0, 1.0]])          # state: position, velocity
B = np.array([[dt * dt / 2], [dt]])             # input: an acceleration
S = solve_discrete_are(A, B, np.eye(2), np.eye(1))
k = np.linalg.solve(np.eye(1) + B.T @ S @ B, B.T @ S @ A)[0]   # LQR gain: u = -k x
# the controller: u = sat(-k x) = relu(-k x + 1) - relu(-k x - 1) - 1, two ReLUs
controller = rn.Network.from_layers([(np.array([-k, -k]), np.array([1.0, -1.0])),
                                     (np.array([[1.0, -1.0]]), np.array([-1.0]))])
step = rn.verify.closed_loop(controller, A=A, B=B)

# forward: exact reachable sets from a box of initial states, against simulated trajectories
initial = rn.Box([-3.0, -1.0], [3.0, 1.0])
steps = 12
sets = rn.verify.forward_reachable(step, initial, steps)
X0 = initial.lo + (initial.hi - initial.lo) * np.random.default_rng(0).random((60, 2))
trajectories = rn.verify.simulate(step, X0, steps)
inside = all(sets[t].contains(trajectories[i, t + 1]) for i in range(len(X0)) for t in range(steps))
lo, hi = sets[-1].bounds()
print(f"LQR gain k = {np.round(k, 4).tolist()}")
print(f"pieces per step: {[len(s) for s in sets]}")
print(f"after {steps} steps the states lie in [{lo[0]:.3f}, {hi[0]:.3f}] x [{lo[1]:.3f}, {hi[1]:.3f}]")
print(f"every simulated state inside its step's reachable set: {inside}")

# invariance: a box is not invariant (a counterexample), a polytope built from the closed loop is
box = rn.Box([-1.0, -1.0], [1.0, 1.0])
res = rn.verify.is_invariant(step, box)
print(f"[-1, 1]^2 invariant: {res.holds}; the state {res.counterexample.tolist()} steps to "
      f"{np.round(step(res.counterexample[None])[0], 4).tolist()}")
# {x : |k (A - B k)^j x| <= 0.97^j, j >= 0}: the controller never saturates there, and the loop
# contracts every row by 0.97; rows implied by the others are dropped
Acl = A - B @ k[None]
rows, bounds, M = [], [], np.eye(2)
for j in range(300):
    rows += [k @ M, -(k @ M)]
    bounds += [-0.97 ** j] * 2
    M = Acl @ M
R, b = np.array(rows), np.array(bounds)
keep = [i for i in range(len(R)) if -linprog(-R[i], A_ub=np.delete(R, i, 0), b_ub=-np.delete(b, i),
                                               bounds=[(None, None)] * 2).fun > -b[i] + 1e-12]
invariant = rn.Polytope(R[keep], b[keep])
res = rn.verify.is_invariant(step, invariant)
check = rn.certify(res)
print(f"the {len(keep)}-sided polytope invariant: {res.holds} (proof re-checked: {check.claims} claims)")

# backward: the initial states that are in [-0.5, 0.5]^2 after `steps` steps
target = rn.Box([-0.5, -0.5], [0.5, 0.5])
back = rn.verify.preimage(rn.verify.unroll(step, steps, all_states=False), initial, target.A, target.b)
ends = trajectories[:, -1]
agree = all(back.contains(x, tol=1e-9) == bool(target.contains(y[None])[0]) for x, y in zip(X0, ends))
print(f"initial states that reach [-0.5, 0.5]^2 at step {steps}: {len(back)} pieces; "
      f"the samples agree: {agree}")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from scipy.spatial import ConvexHull, HalfspaceIntersection  # noqa: E402


def polygon(A, b):
    """The vertices of {A x + b <= 0} in order."""
    inner = linprog(np.r_[0, 0, -1], A_ub=np.c_[A, np.linalg.norm(A, axis=1)], b_ub=-b,
                    bounds=[(None, None)] * 2 + [(0, None)]).x[:2]
    V = HalfspaceIntersection(np.c_[A, b], inner).intersections
    return V[ConvexHull(V).vertices]


fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
shown = [sets[t - 1] for t in (1, 4, 8, 12)]
rn.verify.plot_reachable(shown, left, initial=initial, trajectories=trajectories)
left.set_title("exact reachable sets at steps 1, 4, 8, 12; 60 trajectories (dots: their states)", fontsize=10)
left.set_xlabel("position")
left.set_ylabel("velocity")
right.add_collection(PolyCollection([polygon(invariant.A, invariant.b)], facecolor="#9ecae1", edgecolor="#08519c",
                                    label=f"invariant polytope ({len(keep)} sides)"))
pieces = [polygon(p[:, :-1], p[:, -1]) for p in back.pieces]
right.add_collection(PolyCollection(pieces, facecolor="#fdae6b", edgecolor="#a63603", alpha=0.7, linewidth=0.5,
                                    label=f"states in [-0.5, 0.5]$^2$ after {steps} steps"))
right.plot(*np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]]).T, "k--", linewidth=0.8,
           label="[-0.5, 0.5]$^2$")
right.set_xlim(-3.5, 3.5)
right.set_ylim(-2.0, 2.0)
right.set_xlabel("position")
right.set_ylabel("velocity")
right.set_title("proven invariant set, and a backward reachable set", fontsize=10)
right.legend(loc="upper right", fontsize=8)
fig.suptitle("double integrator with a saturating ReLU controller")
fig.tight_layout()
fig.savefig(HERE / "closed_loop.png", dpi=100)
