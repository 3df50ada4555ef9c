"""Pictures of results (matplotlib, the ``plot`` extra).

- 2-D: the partition, each region filled by its index, linear region, output value or class,
  with region edges and (for classifiers) the decision boundary on top;
- 1-D: the network's function with its breakpoints;
- level sets: a 2-D level set over the regions (:func:`plot_level_set`), a 3-D one as a shaded
  mesh (:func:`plot_mesh`).

For a 3-D domain, restrict the network to a plane first (:meth:`Network.restricted`); the
command line's ``plot --slice`` does that.
"""
from __future__ import annotations

import numpy as np

from .errors import InvalidArgumentError, InvalidDomainError, MissingDependencyError

__all__ = ["plot_regions", "plot_level_set", "plot_mesh"]

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


# -- level sets ---------------------------------------------------------------------------------
def plot_level_set(level, ax=None, regions=None, color: str = "crimson", linewidth: float = 2.0):
    """Draw a 2-D level set (see :meth:`Regions.level_set <regionenum.Regions.level_set>`) on
    ``ax`` (a new figure's if None), over ``regions`` coloured by the same output if given, and
    return the axes.

    Parameters
    ----------
    level : LevelSet
        A level set of a 2-D input.
    ax : matplotlib.axes.Axes, optional
    regions : Regions, optional
        The result it comes from: drawn underneath, coloured by the output's value.
    color : str, optional
        The level set's colour; points where it only touches (lone vertices) are dots.
    linewidth : float, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidDomainError
        The level set is not in 2-D.
    MissingDependencyError
        matplotlib is not installed.
    """
    if level.dim != 2:
        raise InvalidDomainError(f"plot_level_set draws 2-D level sets; this one is {level.dim}-D "
                                 "(plot_mesh draws 3-D ones)")
    plt = _pyplot()
    from matplotlib.collections import LineCollection
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5.5))
    if regions is not None:
        plot_regions(regions, ax, color_by="output", output=level.output)
    X = level.vertices
    ax.add_collection(LineCollection(X[level.segments], colors=color, linewidths=linewidth,
                                     label=f"y{level.output} = {level.value:g}"))
    lone = np.setdiff1d(np.arange(len(X)), level.segments.ravel())
    if len(lone):
        ax.plot(X[lone, 0], X[lone, 1], "o", color=color, markersize=4)
    if regions is None and len(X):
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.05 * max(float(np.max(hi - lo)), 1e-12)
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)
        ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_mesh(level, ax=None, color=(0.55, 0.7, 0.95), edgecolor=(0.1, 0.1, 0.2, 0.6),
              linewidth: float = 0.4, light=(1.0, -1.0, 2.0), elev: float = 25, azim: float = -60):
    """Draw a 3-D level set as a shaded polygon mesh (each polygon one piece of the exact
    surface, lit from ``light``) on a 3-D ``ax`` (a new figure's if None) and return the axes.

    Parameters
    ----------
    level : LevelSet
        A level set of a 3-D input.
    ax : mpl_toolkits.mplot3d.axes3d.Axes3D, optional
    color, edgecolor : matplotlib colours, optional
        The surface's colour (shaded by each polygon's normal) and the polygons' edges.
    linewidth : float, optional
    light : sequence of 3 floats, optional
        Direction the light comes from.
    elev, azim : float, optional
        The view (degrees).

    Returns
    -------
    Axes3D

    Raises
    ------
    InvalidDomainError
        The level set is not in 3-D.
    MissingDependencyError
        matplotlib is not installed.
    """
    if level.dim != 3:
        raise InvalidDomainError(f"plot_mesh draws 3-D level sets; this one is {level.dim}-D")
    plt = _pyplot()
    from matplotlib.colors import to_rgba
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection
    if ax is None:
        fig = plt.figure(figsize=(6, 6))
        ax = fig.add_subplot(projection="3d")
    X = level.vertices
    polygons = [X[p] for p in level.polygons]
    light = np.asarray(light, float) / np.linalg.norm(light)
    shade = []
    for P in polygons:
        n = np.cross(P - P.mean(axis=0), np.roll(P, -1, axis=0) - P.mean(axis=0)).sum(axis=0)
        shade.append(0.35 + 0.65 * abs(n @ light) / max(np.linalg.norm(n), 1e-300))
    base = np.array(to_rgba(color))
    faces = [np.r_[base[:3] * s, base[3]] for s in shade]
    ax.add_collection3d(Poly3DCollection(polygons, facecolors=faces, edgecolors=edgecolor, linewidths=linewidth))
    if len(X):
        lo, hi = X.min(axis=0), X.max(axis=0)
        centre, half = (lo + hi) / 2, max(float(np.max(hi - lo)) / 2, 1e-12)
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_zlabel("x2")
    return ax
