"""Pictures of results (matplotlib, the ``plot`` extra).

- 2-D: the partition, each region filled by its index, linear region, output value or class,
  with region edges and (for classifiers) the decision boundary on top;
- 1-D: the network's function with its breakpoints.

For a 3-D domain, restrict the network to a plane first (:meth:`Network.restricted`); the
command line's ``plot --slice`` does that.
"""
from __future__ import annotations

import numpy as np

from .errors import InvalidArgumentError, InvalidDomainError, MissingDependencyError

__all__ = ["plot_regions"]

COLOR_BY = ("region", "linear", "output", "class")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("pictures need matplotlib: pip install 'regionenum[plot]'") from None
    return plt


def plot_regions(regions, ax=None, color_by: str = "region", output: int = 0,
                 boundary: bool = True, edges: bool = True, cmap: str | None = None):
    """Draw ``regions`` on ``ax`` (a new figure's if None) and return the axes.

    ``color_by``: ``"region"`` (each activation region its own colour), ``"linear"`` (each
    linear region), ``"output"`` (the value of output ``output`` at each region's interior
    point) or ``"class"`` (the winning output; pieces of regions, see ``decision_regions``).
    ``boundary`` draws the decision boundary when colouring by class; ``edges`` the regions'
    edges. In 1-D, draws output ``output`` against the input with the breakpoints marked.
    """
    if color_by not in COLOR_BY:
        raise InvalidArgumentError(f"color_by must be one of {COLOR_BY}, got {color_by!r}")
    if not regions.domain.is_bounded:
        raise InvalidDomainError("pictures need a bounded domain")
    if not 0 <= output < regions.network.output_dim:
        raise InvalidArgumentError(f"output must be in [0, {regions.network.output_dim}), got {output}")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5.5))
    if regions.dim == 1:
        return _plot_1d(regions, ax, output)
    if regions.dim != 2:
        raise InvalidDomainError(f"pictures are 1-D or 2-D; this domain is {regions.dim}-D: restrict "
                              "the network to a plane (Network.restricted, or plot --slice)")
    from matplotlib.collections import LineCollection, PolyCollection

    if color_by == "class":
        dec = regions.decision_regions()
        polygons = _piece_polygons(dec)
        values = dec.piece_class[dec.piece_cells]
        k = regions.network.output_dim
        cmap = cmap or ("tab10" if k <= 10 else "tab20")
        vmin, vmax = -0.5, (10 if k <= 10 else 20) - 0.5
    else:
        polygons = [_ordered(regions.vertices_of(i)) for i in range(len(regions))]
        if color_by == "output":
            y = np.einsum("nkd,nd->nk", regions.jacobians, regions.interior_points) + regions.offsets
            values, cmap, vmin, vmax = y[:, output], cmap or "viridis", None, None
        else:
            ids = regions.linear_regions().region_group if color_by == "linear" else np.arange(len(regions))
            values = np.random.default_rng(0).permutation(int(ids.max()) + 1)[ids] if len(ids) else ids
            cmap, vmin, vmax = cmap or "tab20", None, None
    coll = PolyCollection(polygons, array=np.asarray(values, float), cmap=cmap,
                          edgecolors="face" if not edges else (0, 0, 0, 0.35),
                          linewidths=0.2 if edges else 0.0)
    if vmin is not None:
        coll.set_clim(vmin, vmax)
    ax.add_collection(coll)
    if color_by == "output":
        ax.figure.colorbar(coll, ax=ax, label=f"output {output}")
    if color_by == "class":
        from matplotlib.patches import Patch
        if boundary:
            ax.add_collection(LineCollection(dec.polylines(), colors="black", linewidths=1.2))
        ax.legend(handles=[Patch(color=coll.cmap(coll.norm(c)), label=f"class {c}")
                           for c in np.unique(dec.classes)], fontsize=8, loc="upper right")
    lo, hi = regions.domain.bounds
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    return ax


def _ordered(points):
    """The vertices of a convex polygon in counter-clockwise order."""
    c = points.mean(axis=0)
    return points[np.argsort(np.arctan2(points[:, 1] - c[1], points[:, 0] - c[0]))]


def _piece_polygons(dec):
    cells = dec.pieces
    out = []
    for c in range(len(cells)):
        g = cells.gens[cells.gen_off[c]: cells.gen_off[c + 1]]
        out.append(_ordered(g[g[:, 0] > 0, 1:]))
    return out


def _plot_1d(regions, ax, output):
    order = np.argsort(regions.interior_points[:, 0])
    for i in order:
        x = np.sort(regions.vertices_of(i)[:, 0])
        y = regions.jacobians[i, output, 0] * x + regions.offsets[i, output]
        ax.plot(x, y, color="C0")
    breaks = np.unique(np.concatenate([regions.vertices_of(i)[:, 0] for i in range(len(regions))]))
    lo, hi = regions.domain.bounds
    inner = breaks[(breaks > lo[0]) & (breaks < hi[0])]
    net_y = regions.network(inner[:, None])[:, output] if len(inner) else np.zeros(0)
    ax.plot(inner, net_y, "o", color="C3", markersize=3, label=f"{len(inner)} breakpoints")
    ax.set_xlabel("x0")
    ax.set_ylabel(f"output {output}")
    ax.legend(fontsize=8)
    return ax
