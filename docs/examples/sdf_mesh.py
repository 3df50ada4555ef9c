"""A worked example: the exact surface of a small ReLU signed distance function (SDF).

Trains a 3-32-32-1 ReLU network with PyTorch to approximate the signed distance to a torus
(major radius 0.6, minor 0.25) in [-1, 1]^3, enumerates its activation regions exactly, cuts out
the zero level set (a closed triangle mesh, exact up to the float64 coordinates of its vertices),
checks its topology (a torus has Betti numbers (1, 2, 1), Euler characteristic 0), saves it as
.obj and .ply and draws it:

    python docs/examples/sdf_mesh.py            # writes torus.obj, torus.ply, docs/sdf_torus.png

Needs torch and matplotlib (``pip install -e ".[torch,plot]"``); a few minutes on two cores, almost all
of it training (the regions, the surface and its topology take about a second).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import regionenum as rn  # noqa: E402

R, r = 0.6, 0.25  # the torus: sqrt((sqrt(x^2 + y^2) - R)^2 + z^2) - r = 0


def torus_sdf(X):
    ring = torch.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2) - R
    return torch.sqrt(ring ** 2 + X[:, 2] ** 2) - r


def train(steps: int = 3000, seed: int = 0):
    """A 3-32-32-1 ReLU network fitted to the torus's SDF on uniform samples of the cube and
    samples near the surface."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                                torch.nn.ReLU(), torch.nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        X = torch.rand(2048, 3) * 2 - 1
        near = X[:1024] * 0.1 + _surface_points(1024)
        X = torch.cat([X, near])
        loss = torch.mean((model(X)[:, 0] - torus_sdf(X)) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model, float(loss.detach())


def _surface_points(n):
    u, v = torch.rand(n) * 2 * np.pi, torch.rand(n) * 2 * np.pi
    return torch.stack([(R + r * torch.cos(v)) * torch.cos(u), (R + r * torch.cos(v)) * torch.sin(u),
                        r * torch.sin(v)], dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for torus.obj and torus.ply")
    parser.add_argument("--png", type=Path, default=Path(__file__).resolve().parent.parent / "sdf_torus.png")
    args = parser.parse_args()
    start = time.perf_counter()
    model, loss = train()
    print(f"trained in {time.perf_counter() - start:.0f} s, mean squared error {loss:.2e}")

    net = rn.Network.from_torch(model, input_shape=(3,))
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    surface = regions.level_set(0.0)                 # {x : net(x) = 0}, exactly
    print(f"{len(regions)} regions in {regions.seconds:.1f} s; {surface}")
    print(f"Betti numbers {surface.betti}, Euler characteristic {surface.euler_characteristic}, "
          f"closed: {surface.closed}; area {surface.volume:.3f} (the torus: {4 * np.pi ** 2 * R * r:.3f})")
    inside = regions.sublevel_set(0.0)               # {x : net(x) <= 0}: the solid torus
    print(f"enclosed volume {inside.volume:.3f} (the torus: {2 * np.pi ** 2 * R * r ** 2:.3f}), "
          f"Betti numbers {inside.betti}")
    surface.save(args.out / "torus.obj")
    surface.save(args.out / "torus.ply")

    fig = plt.figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot(projection="3d")
    surface.plot(ax, elev=38, azim=-55)
    ax.set_zlim(-0.5, 0.5)
    ax.set_box_aspect((1, 1, 0.5))
    ax.set_title(f"Exact zero set of a 3-32-32-1 ReLU SDF: {len(surface.polygons)} polygons,\n"
                 f"Betti numbers {surface.betti}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print(f"wrote {args.png}, {args.out / 'torus.obj'}, {args.out / 'torus.ply'}")


if __name__ == "__main__":
    main()
