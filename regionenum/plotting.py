"""Pictures of results (matplotlib, the ``plot`` extra).

- 2-D: the partition into regions, with every edge drawn, filled by
  - ``region``: a colouring of the adjacency graph in which neighbouring regions always differ
    (the colours mean nothing else, so there is no legend),
  - ``linear``: the same for linear regions (touching linear regions differ; edges between
    activation regions inside one linear region are dotted),
  - ``output``: one output, shaded continuously from its exact affine map at every region's
    vertices (so there are no false jumps between regions), with a colour bar,
  - ``class``: the winning output (pieces of regions, see ``decision_regions``), with the
    decision boundary and a legend;
- 1-D: the network's function with its breakpoints;
- level sets: a 2-D level set over the regions (:func:`plot_level_set`), a 3-D one as a shaded
  mesh (:func:`plot_mesh`).

Axes are named after the inputs they show (``labels``, e.g. ``x2``, ``x5`` for a slice through
inputs 2 and 5, ``t1``, ``t2`` for a plane through data points), and data points can be marked
(``points``). For a 3-D domain, restrict the network to a plane first (:class:`~regionenum.Slice`);
the command line's ``plot --slice`` and ``--through`` do that.
"""
from __future__ import annotations

import functools

import numpy as np

from .core.arrays import checked_instance, float_array, whole_number
from .errors import ArgumentTypeError, InvalidArgumentError, InvalidDomainError, MissingDependencyError
from .result import Regions

__all__ = ["COLOR_BY", "PALETTE", "neighbour_colouring", "plot_level_set", "plot_mesh", "plot_regions"]

COLOR_BY = ("region", "linear", "output", "class")

#: Fills for colourings that only keep neighbours apart: Paul Tol's "light" qualitative scheme
#: (made for areas under lines and labels, distinguishable with colour-blindness), then more
#: distinct pale colours in case a colouring needs them (a planar graph never needs more than 6
#: with the greedy order used).
PALETTE = ("#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#DDDDDD",
           "#C5B0D5", "#F7B6D2", "#C49C94", "#DBDB8D")

_EDGE = (0.15, 0.15, 0.15)  # region edges: dark grey, thin


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("pictures need matplotlib: pip install 'regionenum[plot]'") from None
    return plt


def _axes(ax, figsize, three_d: bool = False):
    """``ax`` where it is matplotlib Axes (3-D ones where ``three_d``), checked before any drawing;
    a new figure's of ``figsize`` inches where it is None."""
    plt = _pyplot()
    if ax is None:
        return plt.figure(figsize=figsize).add_subplot(projection="3d" if three_d else None)
    from matplotlib.axes import Axes
    checked_instance(ax, Axes, "ax", "matplotlib Axes (3-D ones)" if three_d else "matplotlib Axes")
    if three_d and ax.name != "3d":
        raise ArgumentTypeError("ax must be 3-D matplotlib Axes (fig.add_subplot(projection='3d'))")
    return ax


def plot_regions(regions, ax=None, color_by: str = "region", output: int = 0, boundary: bool = True,
                 edges: bool = True, cmap: str | None = None, labels=None, points=None):
    """Draw ``regions`` on ``ax`` (a new figure's if None) and return the axes.

    Parameters
    ----------
    regions : Regions
        A 1-D or 2-D result on a bounded domain.
    ax : matplotlib.axes.Axes, optional
    color_by : {"region", "linear", "output", "class"}, optional
        See the module's description. ``region`` and ``output`` also draw an incomplete result
        (neighbours found by shared vertices then, which can miss a few); ``linear`` and
        ``class`` need a complete one.
    output : int, optional
        The output shown by ``color_by="output"`` and in 1-D.
    boundary : bool, optional
        Draw the decision boundary when colouring by class.
    edges : bool, optional
        Draw the regions' edges.
    cmap : str, optional
        A matplotlib colour map for ``output`` (default ``viridis``) or ``class`` (``tab10``, or
        ``tab20`` for more than 10 outputs).
    labels : sequence of str, optional
        Names of the axes' inputs (default ``x0``, ``x1``: the regions' own coordinates).
    points : dict, optional
        Points to mark, ``{label: coordinates}`` in the regions' coordinates (e.g. the data points
        a plane passes through); they get a legend entry each.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidArgumentError
        Unknown ``color_by``, ``output`` out of range, wrong number of ``labels`` or point
        coordinates.
    ArgumentTypeError
        ``regions`` is not a Regions, ``ax`` not matplotlib Axes, ``output`` not an integer or a
        point not numbers.
    InvalidDomainError
        The domain is unbounded or not 1-D or 2-D.
    IncompleteResultError
        ``linear`` or ``class`` on an incomplete result.
    MissingDependencyError
        matplotlib is not installed.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> ax = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).plot(color_by="output")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('x0', 'x1')
    """
    checked_instance(regions, Regions, "regions", "a regionenum.Regions (from enumerate_regions)")
    if color_by not in COLOR_BY:
        raise InvalidArgumentError(f"color_by must be one of {COLOR_BY}, got {color_by!r}")
    if not regions.domain.is_bounded:
        raise InvalidDomainError("pictures need a bounded domain")
    if not whole_number(output, "output", least=0) < regions.network.output_dim:
        raise InvalidArgumentError(f"output must be in [0, {regions.network.output_dim}), got {output}")
    if regions.dim not in (1, 2):
        raise InvalidDomainError(f"pictures are 1-D or 2-D; this domain is {regions.dim}-D: restrict "
                                 "the network to a plane (rn.Slice, or plot --slice / --through)")
    labels = tuple(labels) if labels is not None else tuple(f"x{i}" for i in range(regions.dim))
    if len(labels) != regions.dim:
        raise InvalidArgumentError(f"labels must name {regions.dim} axes, got {len(labels)}")
    points = {str(k): float_array(v, f"points[{k!r}]").reshape(-1) for k, v in (points or {}).items()}
    if any(p.shape != (regions.dim,) for p in points.values()):
        raise InvalidArgumentError(f"points must have {regions.dim} coordinates each")
    ax = _axes(ax, (6.5, 5.5))
    if regions.dim == 1:
        return _plot_1d(regions, ax, output, labels[0], points)
    lo, hi = regions.domain.bounds
    part = _Partition(regions)
    legend = []
    if color_by == "class":
        legend += _fill_classes(regions, ax, cmap, boundary)
    elif color_by == "output":
        _fill_output(regions, ax, part.polygons, output, cmap)
    else:
        _fill_neighbour_coloured(part, ax, linear=color_by == "linear")
    if edges:
        legend += _draw_edges(part, ax, color_by)
    if points:
        legend += _mark_points(ax, points)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if legend:
        _legend(ax, legend, below=color_by == "output")
    return ax


def _legend(ax, handles: list, below: bool) -> None:
    """The legend outside the axes: on the right, or below them (under the axis label) where a
    colour bar takes the right. Save with ``bbox_inches="tight"`` to keep it in the picture."""
    from matplotlib.transforms import offset_copy
    if below:
        ax.legend(handles=handles, fontsize=8, loc="upper center", ncol=min(len(handles), 4), frameon=False,
                  bbox_to_anchor=(0.5, 0.0), bbox_transform=offset_copy(ax.transAxes, ax.figure, y=-0.5,
                                                                        units="inches"))
    else:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, frameon=False)


# -- fills ----------------------------------------------------------------------------------
def _fill_neighbour_coloured(part, ax, linear: bool) -> None:
    """Each region (or linear region) one colour of :data:`PALETTE`, neighbours different."""
    from matplotlib.collections import PolyCollection
    a, b = part.neighbours
    if linear:
        group = part.regions.linear_regions().region_group
        across = group[a] != group[b]
        n_groups = int(group.max()) + 1 if len(group) else 0
        colours = neighbour_colouring(n_groups, group[a][across], group[b][across])[group]
    else:
        colours = neighbour_colouring(len(part.regions), a, b)
    palette = np.array([_rgba(c) for c in PALETTE])
    ax.add_collection(PolyCollection(part.polygons, facecolors=palette[colours % len(palette)],
                                     edgecolors="face", linewidths=0.3))


def _fill_output(regions, ax, polygons, output: int, cmap) -> None:
    """Gouraud shading of each region's exact affine map at its vertices: within a region the
    output is affine, so interpolating it linearly over a fan of triangles is exact, and
    neighbours agree on their shared edges."""
    import matplotlib.tri as mtri
    points, triangles, start = [], [], 0
    for poly in polygons:
        points.append(poly)
        k = len(poly)
        triangles.append(start + np.stack([np.zeros(k - 2, np.int64), np.arange(1, k - 1), np.arange(2, k)], 1))
        start += k
    xy = np.concatenate(points)
    region_of = np.repeat(np.arange(len(polygons)), [len(p) for p in polygons])
    values = np.einsum("nd,nd->n", regions.jacobians[region_of, output], xy) + regions.offsets[region_of, output]
    tri = mtri.Triangulation(xy[:, 0], xy[:, 1], np.concatenate(triangles))
    shade = ax.tripcolor(tri, values, shading="gouraud", cmap=cmap or "viridis", rasterized=True)
    ax.figure.colorbar(shade, ax=ax, label=f"output {output}", fraction=0.046, pad=0.03)


def _fill_classes(regions, ax, cmap, boundary: bool) -> list:
    """The pieces of regions where each class wins, in that class's colour; returns the legend."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    plt = _pyplot()
    dec = regions.decision_regions()
    k = regions.network.output_dim
    colours = plt.get_cmap(cmap or ("tab10" if k <= 10 else "tab20"))
    n_colours = getattr(colours, "N", 256)
    cls = dec.piece_class[dec.piece_cells]
    fill = np.array([_lighter(colours(c % n_colours), 0.35) for c in cls]) if len(cls) else np.zeros((0, 4))
    ax.add_collection(PolyCollection(_piece_polygons(dec), facecolors=fill, edgecolors="face", linewidths=0.3))
    legend = [Patch(facecolor=_lighter(colours(c % n_colours), 0.35), edgecolor=_EDGE, linewidth=0.4,
                    label=f"class {c}") for c in np.unique(dec.classes)]
    lines = dec.polylines() if boundary else []
    if lines:
        ax.add_collection(LineCollection(lines, colors="black", linewidths=1.4))
        legend.append(Line2D([], [], color="black", linewidth=1.4, label="decision boundary"))
    return legend


# -- edges, points --------------------------------------------------------------------------
def _draw_edges(part, ax, color_by: str) -> list:
    """Every region edge; in ``linear`` mode, edges inside one linear region dotted. Returns
    the legend entries that explain line styles (if two are used)."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D
    regions = part.regions
    width = 0.45 if len(regions) < 3000 else 0.25
    alpha = 0.55 if color_by == "output" else 0.8
    colour = (1.0, 1.0, 1.0, alpha) if color_by == "output" else (*_EDGE, alpha)
    if part.edges is None:  # an incomplete result has no faces: each region's outline
        ax.add_collection(PolyCollection(part.polygons, facecolors="none", edgecolors=[colour], linewidths=width))
        return []
    segments, a, b = part.edges
    inside = np.zeros(len(segments), bool)
    if color_by == "linear":
        group = regions.linear_regions().region_group
        inside = (b >= 0) & (group[a] == group[np.maximum(b, 0)])
    ax.add_collection(LineCollection(segments[~inside], colors=[colour], linewidths=width))
    if not inside.any():
        return []
    faint = (*_EDGE, 0.45)
    ax.add_collection(LineCollection(segments[inside], colors=[faint], linewidths=width, linestyles=(0, (1, 2))))
    return [Line2D([], [], color=colour, linewidth=0.8, label="edge of a linear region"),
            Line2D([], [], color=faint, linewidth=0.8, linestyle=(0, (1, 2)),
                   label="edge between activation\nregions with one map")]


def _point_style(i: int) -> dict:
    """How the ``i``-th marked point looks: white with a black edge, a shape of its own."""
    return dict(marker="osD^v<>p"[i % 8], markersize=7, markerfacecolor="white", markeredgecolor="black",
                markeredgewidth=1.3, linestyle="none")


def _mark_points(ax, points: dict) -> list:
    from matplotlib.lines import Line2D
    legend = []
    for i, (label, p) in enumerate(points.items()):
        ax.plot([p[0]], [p[1]], zorder=5, **_point_style(i))
        legend.append(Line2D([], [], label=label, **_point_style(i)))
    return legend


# -- geometry and colouring -----------------------------------------------------------------
def neighbour_colouring(n: int, a, b, colours: int = 6) -> np.ndarray:
    """Colours ``0, 1, ...`` for ``n`` nodes such that the ends of every edge ``(a[i], b[i])``
    differ, using ``colours`` colours about equally often (more only if a node's neighbours
    already use them all, which cannot happen on a planar graph with 6).

    Nodes are coloured in smallest-last order (each has at most 5 neighbours coloured before it
    on a planar graph, as the graphs of 2-D partitions are), each with the least used colour
    its neighbours leave free, so that the picture has variety (a partition by lines alone is
    2-colourable, and a 2-colouring reads as a checkerboard).

    Parameters
    ----------
    n : int
        Number of nodes.
    a, b : array of int
        The edges' ends.
    colours : int, optional
        How many colours to use when the graph allows it.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` colour per node.

    Examples
    --------
    >>> c = neighbour_colouring(4, [0, 1, 2, 3], [1, 2, 3, 0])   # a square
    >>> bool(np.all(c[[0, 1, 2, 3]] != c[[1, 2, 3, 0]]))
    True
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    keep = a != b
    a, b = np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]])
    order = np.argsort(a, kind="stable")
    offsets = np.searchsorted(a[order], np.arange(n + 1))
    adj = b[order].tolist()
    off = offsets.tolist()
    colour = [-1] * n
    used = [0] * colours
    for v in _smallest_last(n, adj, off):
        taken = {colour[u] for u in adj[off[v]: off[v + 1]]}
        free = [c for c in range(len(used)) if c not in taken]
        if not free:
            used.append(0)
            free = [len(used) - 1]
        c = min(free, key=used.__getitem__)
        colour[v] = c
        used[c] += 1
    return np.array(colour, np.int64)


def _smallest_last(n: int, adj: list, off: list) -> list:
    """The nodes in smallest-last order: reversed, the order of repeatedly removing a node of
    least remaining degree."""
    import heapq
    degree = [off[v + 1] - off[v] for v in range(n)]
    heap = [(d, v) for v, d in enumerate(degree)]
    heapq.heapify(heap)
    removed = [False] * n
    out = []
    while heap:
        d, v = heapq.heappop(heap)
        if removed[v] or d != degree[v]:
            continue
        removed[v] = True
        out.append(v)
        for u in adj[off[v]: off[v + 1]]:
            if not removed[u]:
                degree[u] -= 1
                heapq.heappush(heap, (degree[u], u))
    return out[::-1]


class _Partition:
    """The geometry of a 2-D result a picture needs, each piece computed once: the regions'
    polygons, their edges and which regions neighbour each other."""

    def __init__(self, regions):
        self.regions = regions
        self.polygons = [_ordered(regions.vertices_of(i)) for i in range(len(regions))]

    @functools.cached_property
    def edges(self):
        """``(E, 2, 2)`` end points of every edge, the region on one side and the one on the
        other (``-1`` on the domain's boundary); None for an incomplete result (no faces)."""
        if not self.regions.complete:
            return None
        faces = self.regions.faces()
        edges = faces.by_dim[1]
        count = np.diff(edges.region_offsets)
        first = edges.region_offsets[:-1]
        a = edges.region_ids[first]
        b = np.where(count == 2, edges.region_ids[np.minimum(first + 1, len(edges.region_ids) - 1)], -1)
        return faces.vertices[faces.edges], a, b

    @functools.cached_property
    def neighbours(self):
        """The pairs of regions sharing an edge: from the faces of a complete result, else (an
        incomplete one) those sharing two vertices, to ``1e-9`` of the domain's scale (which
        misses neighbours whose common edge ends inside an edge of one of them)."""
        if self.edges is not None:
            _, a, b = self.edges
            return a[b >= 0], b[b >= 0]
        regions = self.regions
        lo, hi = regions.domain.bounds
        keys = np.round(regions.vertices / (1e-9 * float(np.max(hi - lo)))).astype(np.int64)
        vertex = np.unique(keys, axis=0, return_inverse=True)[1].ravel()
        owner = np.repeat(np.arange(len(regions)), np.diff(regions.vertex_offsets))
        order = np.lexsort((owner, vertex))
        vertex, owner = vertex[order], owner[order]
        shared = {}
        for start, stop in zip(*_runs(vertex)):
            around = owner[start:stop].tolist()
            for i, r in enumerate(around):
                for q in around[i + 1:]:
                    shared[(r, q)] = shared.get((r, q), 0) + 1
        pairs = np.array([k for k, c in shared.items() if c >= 2 and k[0] != k[1]], np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]


def _runs(values):
    """Starts and stops of the runs of equal entries of a sorted array."""
    cut = np.flatnonzero(np.diff(values)) + 1
    return np.r_[0, cut], np.r_[cut, len(values)]


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


def _rgba(colour):
    from matplotlib.colors import to_rgba
    return to_rgba(colour)


def _lighter(rgba, amount: float):
    """``rgba`` mixed with ``amount`` of white."""
    r, g, b, a = rgba
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount, a)


def _plot_1d(regions, ax, output: int, label: str, points: dict):
    order = np.argsort(regions.interior_points[:, 0])
    for i in order:
        x = np.sort(regions.vertices_of(i)[:, 0])
        y = regions.jacobians[i, output, 0] * x + regions.offsets[i, output]
        ax.plot(x, y, color="C0", linewidth=1.2)
    breaks = np.unique(np.concatenate([regions.vertices_of(i)[:, 0] for i in range(len(regions))]))
    lo, hi = regions.domain.bounds
    inner = breaks[(breaks > lo[0]) & (breaks < hi[0])]
    net_y = regions.network(inner[:, None])[:, output] if len(inner) else np.zeros(0)
    ax.plot(inner, net_y, "o", color="C3", markersize=3, label=f"{len(inner)} breakpoints")
    for i, (name, p) in enumerate(points.items()):
        ax.axvline(p[0], color="0.3", linewidth=0.8, linestyle=(0, (4, 2)))
        ax.plot(p, regions.network(p[None])[:, output], label=name, zorder=5, **_point_style(i))
    ax.set_xlim(lo[0], hi[0])
    ax.set_xlabel(label)
    ax.set_ylabel(f"output {output}")
    ax.legend(fontsize=8, frameon=False)
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
    ax = _axes(ax, (6, 5.5))
    from matplotlib.collections import LineCollection
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
    ax = _axes(ax, (6, 6), three_d=True)
    from matplotlib.colors import to_rgba
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection
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
