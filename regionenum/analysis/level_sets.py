"""Level sets and sublevel sets of one output, exactly, as polyhedral complexes.

On every activation region the output ``y_o`` is affine, so ``{y_o = c}`` is cut out of the
subdivision of the domain cell by cell (:func:`~regionenum.analysis.topology.cut_complex`): a
segment per crossed region in 2-D, a convex polygon in 3-D, plus faces of the subdivision where
``y_o = c`` all along. Only the sign of ``y_o - c`` at each vertex of the subdivision decides
the combinatorics. As in the engine, float64 decides it only where ``|y_o - c|`` exceeds a
rigorous bound on every rounding behind it (the vertex's error bound from the engine, the output
map's ``Regions.output_errors``, the evaluation's own rounding) and also ``tol`` times the size
of the terms behind it (``sum_k |J_ok| max(|x_k|, scale) + |b_o| + |c|``, ``scale`` the domain's
coordinate scale); every other sign, and every sign at a vertex an earlier cut made (it has no
such bound), is settled exactly: the vertex as the exact rational kernel of the constraints
tight at it (or the exact cut of its edge), the output by the region's exact integer map
(:class:`~regionenum.analysis.exact_geometry.ExactGeometry`). Vertices of the level set on an
edge of the subdivision are named by that edge, so polygons of neighbouring regions share them
by index: a 3-D mesh is watertight wherever the level set stays inside the domain.

The same cuts give ``{y_o <= c}`` (:func:`sublevel_set`) and, one tie hyperplane ``y_j = y_c``
after another, the closed region where class ``c`` wins (:func:`class_region`); their Betti
numbers come from :func:`~regionenum.analysis.topology.betti_numbers`.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.arrays import checked_index, whole_number
from ..core.tolerances import DEFAULT_TOL, U
from ..errors import FileFormatError, InternalError, InvalidArgumentError, MissingFileError
from .exact_geometry import ExactGeometry
from .topology import (
    PolyhedralComplex,
    betti_numbers,
    cell_volumes,
    csr_rows,
    cut_complex,
    polygon_cycles,
    require_polytopes,
    subdivision_complex,
)

__all__ = ["LevelSet", "SublevelSet", "level_set", "sublevel_set", "class_region", "VertexSigns"]


class VertexSigns:
    """Signs of ``f = w . y - c`` (``y`` the network's outputs) at vertices of a
    :class:`~regionenum.analysis.topology.VertexStore`: float64 where a rigorous bound and the
    ``tol`` band allow, exactly otherwise (see the module's text). ``exact_signs`` counts the
    signs settled exactly.

    Parameters
    ----------
    regions : Regions
        The result the store's vertices come from.
    tol : float
        Relative width of the band of signs settled exactly; ``1`` settles every sign exactly.
    """

    def __init__(self, regions, tol: float = DEFAULT_TOL):
        if not (0 < tol <= 1):
            raise InvalidArgumentError(f"tol must be in (0, 1], got {tol}")
        self.regions = regions
        self.tol = tol
        self.ref = float(regions.complex.constraints.ref)
        self.exact_signs = 0
        self._geometry = None
        self._points = {}
        self._rows = {}

    def __call__(self, store, ids, function: int):
        """``(signs, values)`` of function ``store.functions[function]`` at store ids ``ids``;
        where a sign is settled exactly, its value is the exact one rounded (so that the cuts
        of the edges there are placed accurately)."""
        w, c = store.functions[function]
        aw = np.abs(w)
        r = store.region[ids]
        X = store.coords[ids]
        J, b, E = self.regions.jacobians[r], self.regions.offsets[r], self.regions.output_errors[r]
        # f's row over (t, x) on each vertex's region, and a rigorous bound on its error (summed
        # over the row): the outputs' bounds, and the rounding of combining them and subtracting c
        row0 = b @ w - c
        rowx = np.einsum("nkd,k->nd", J, w)
        terms = np.abs(b) @ aw + abs(c) + np.einsum("nkd,k->n", np.abs(J), aw)
        err_row = (E @ aw + 2 * (np.count_nonzero(w) + 1) * U * terms) * (1 + 4 * U)
        values = row0 + np.einsum("nd,nd->n", X, rowx)
        # the vertex's distance from the exact one: the engine's bound at the subdivision's
        # vertices; none (never trusted) at the cuts of earlier functions
        g = store.generator[ids]
        dg = np.where(g >= 0, self.regions.cells.gen_err[np.maximum(g, 0)], np.inf)
        D = X.shape[1] + 1
        gamma = D * U / (1 - D * U)
        s_abs = np.abs(row0) + np.einsum("nd,nd->n", np.abs(X), np.abs(rowx))
        s_row = np.abs(rowx).sum(axis=1)
        g_max = np.maximum(1.0, np.abs(X).max(axis=1, initial=0.0) + dg)
        with np.errstate(invalid="ignore", over="ignore"):
            bound = (gamma * s_abs + dg * s_row + g_max * err_row) * (1 + 4 * gamma) + 2.0 ** -1000
            size = np.abs(row0) + np.einsum("nd,nd->n", np.maximum(np.abs(X), self.ref), np.abs(rowx))
            trusted = np.abs(values) > np.maximum(bound, self.tol * size)  # NaN: not trusted
        signs = np.sign(values).astype(np.int8)
        for i in np.flatnonzero(~trusted):
            self.exact_signs += 1
            exact = self._exact_value(store, int(ids[i]), function, int(store.region[ids[i]]))
            signs[i], values[i] = (exact > 0) - (exact < 0), float(exact)
        return signs, values

    def _exact_value(self, store, v: int, function: int, region: int) -> Fraction:
        """``f`` at store vertex ``v``, exactly, through ``region``'s output map."""
        w, c = store.functions[function]
        if region not in self._rows:
            self._rows[region] = self._exact_geometry().output_rows(region)
        E = self._rows[region]
        p = self._exact_point(store, v)
        y = [Fraction(int(row[0]) + sum(int(a) * x for a, x in zip(row[1:], p)), int(E[0, 0])) for row in E[1:]]
        return sum((Fraction(float(wk)) * yk for wk, yk in zip(w, y) if wk), Fraction(0)) - Fraction(float(c))

    def _exact_point(self, store, v: int) -> list:
        """Store vertex ``v`` as exact Fractions: a vertex of the subdivision from its generator;
        a cut vertex on its edge, where the exact values of its cut's function vanish."""
        if v not in self._points:
            g = int(store.generator[v])
            if g >= 0:
                self._points[v] = self._exact_geometry().point(g)
            else:
                a, b = (int(x) for x in store.parents[v])
                fn, r = int(store.function[v]), int(store.region[v])
                fa, fb = self._exact_value(store, a, fn, r), self._exact_value(store, b, fn, r)
                pa, pb = self._exact_point(store, a), self._exact_point(store, b)
                t = fa / (fa - fb)
                self._points[v] = [x + t * (y - x) for x, y in zip(pa, pb)]
        return self._points[v]

    def _exact_geometry(self) -> ExactGeometry:
        if self._geometry is None:
            self._geometry = ExactGeometry(self.regions)
        return self._geometry


def _function(regions, output, weights=None, value=0.0):
    """``(w, c)`` for ``w . y - c``: output ``output`` (or the weights given) less ``value``."""
    k = regions.network.output_dim
    if weights is None:
        try:  # an integer, or a float with an integer's value
            known = not isinstance(output, bool) and int(output) == output and 0 <= output < k
        except (TypeError, ValueError):  # None, a list, a string
            known = False
        if not known:
            raise InvalidArgumentError(f"output must be in [0, {k}), got {output!r}")
        weights = np.eye(k)[int(output)]
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"value must be a number, got {value!r}") from None
    if not np.isfinite(value):
        raise InvalidArgumentError(f"value must be finite, got {value}")
    return np.asarray(weights, np.float64), value


def _cut(regions, K, function, keep, signer):
    """``K`` cut by ``function`` (a ``(w, c)`` pair), keeping ``keep``."""
    K.store.functions.append(function)
    fid = len(K.store.functions) - 1
    signs, values = signer(K.store, K.vertex_ids, fid)
    return cut_complex(K, signs, values, fid, keep)


class _Complexes:
    """The topology every set shares: ``f_vector``, ``euler_characteristic``, ``betti``."""

    complex: PolyhedralComplex

    @property
    def vertices(self) -> np.ndarray:
        """``(V, d)`` float64 coordinates (float approximations of exact rational points)."""
        return self.complex.vertices

    @property
    def f_vector(self) -> np.ndarray:
        """Cells per dimension ``(n_0, n_1, ...)``."""
        return self.complex.f_vector

    @property
    def euler_characteristic(self) -> int:
        """``sum_k (-1)^k n_k``, exactly (it equals ``sum_k (-1)^k b_k``)."""
        return self.complex.euler_characteristic

    @property
    def betti(self) -> tuple:
        """Betti numbers ``(b_0, b_1, ...)``: connected components, independent loops, enclosed
        cavities, ... computed exactly over GF(2) from the cells' incidences (equal to the
        rational ones in 3-D and below)."""
        if self._betti is None:
            self._betti = betti_numbers(self.complex)
        return self._betti


class LevelSet(_Complexes):
    """The level set ``{y_output = value}`` in the domain, as a polyhedral complex: segments in
    2-D, convex polygons (and a triangle mesh) in 3-D, points in 1-D (see
    :func:`level_set`).

    Attributes
    ----------
    value : float
    output : int
    complex : PolyhedralComplex
        Its cells of every dimension (``(d - 1)``-cells the pieces; lower ones where the level
        set only touches a face) with their incidences and regions.
    vertices : ndarray, shape (V, d)
    vertex_faces : ndarray of int, shape (V, 2)
        The face of the subdivision each vertex lies on, as ``(dimension, index)`` into
        ``regions.faces().by_dim``: a vertex of the subdivision (0) or an edge it crosses (1).
    segments : ndarray of int, shape (E, 2)
        The 1-cells' vertices (the whole level set in 2-D).
    polygons : list of ndarray
        3-D: each 2-cell's vertices in cyclic order, counter-clockwise seen from where the
        output is above ``value``.
    triangles : ndarray of int, shape (T, 3)
        3-D: the polygons as triangle fans, oriented like them; ``triangle_polygon`` their
        polygon.
    cell_region : ndarray of int
        An activation region holding each ``(d - 1)``-cell.
    cell_volumes : ndarray
        Each ``(d - 1)``-cell's ``(d - 1)``-volume; ``volume`` their sum.
    closed : bool
        Whether the level set stays off the domain's boundary (then a 3-D mesh is closed).
    exact_signs : int
        Signs of ``y - value`` at vertices settled in exact arithmetic.
    """

    def __init__(self, complex, value, output, vertex_faces, closed, exact_signs, gradients):
        self.complex = complex
        self.value = value
        self.output = output
        self.vertex_faces = vertex_faces
        self.closed = closed
        self.exact_signs = exact_signs
        self._gradients = gradients
        self._betti = None
        self._polygons = None
        self._volumes = None
        self.dim = complex.vertices.shape[1]

    def __repr__(self) -> str:
        return (f"LevelSet(value={self.value!r}, output={self.output}, f_vector={self.f_vector.tolist()}, "
                f"volume={self.volume:.6g})")

    @property
    def segments(self) -> np.ndarray:
        if len(self.complex.incidence) < 2:
            return np.zeros((0, 2), np.int64)
        return self.complex.incidence[1].indices.reshape(-1, 2)

    @property
    def cell_region(self) -> np.ndarray:
        return self.complex.first_region(self.dim - 1)

    @property
    def cell_volumes(self) -> np.ndarray:
        if self._volumes is None:
            self._volumes = cell_volumes(self.complex, self.dim - 1)
        return self._volumes

    @property
    def volume(self) -> float:
        """The ``(d - 1)``-volume: length in 2-D, area in 3-D, number of points in 1-D."""
        return float(self.cell_volumes.sum())

    @property
    def polygons(self) -> list:
        if self.dim != 3:
            raise InvalidArgumentError("polygons are the 2-cells of a level set in 3-D; this one is in "
                                       f"{self.dim}-D")
        if self._polygons is None:
            cycles = polygon_cycles(self.complex)
            X = self.vertices
            G = self._gradients
            for i, cyc in enumerate(cycles):
                P = X[cyc]
                normal = np.cross(P - P.mean(axis=0), np.roll(P, -1, axis=0) - P.mean(axis=0)).sum(axis=0)
                if normal @ G[i] < 0:
                    cycles[i] = cyc[::-1]
            self._polygons = cycles
        return self._polygons

    @property
    def triangles(self) -> np.ndarray:
        return self._fans()[0]

    @property
    def triangle_polygon(self) -> np.ndarray:
        return self._fans()[1]

    def _fans(self):
        tris, owner = [], []
        for i, cyc in enumerate(self.polygons):
            for j in range(1, len(cyc) - 1):
                tris.append((cyc[0], cyc[j], cyc[j + 1]))
                owner.append(i)
        return np.array(tris, np.int64).reshape(-1, 3), np.array(owner, np.int64)

    def plot(self, ax=None, **options):
        """Draw it with matplotlib: a 2-D level set with
        :func:`regionenum.plotting.plot_level_set`, a 3-D one with
        :func:`regionenum.plotting.plot_mesh` (their options). Returns the axes.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw: a 2-D axes for a 2-D level set, a 3-D one
            (``projection="3d"``) for a 3-D level set. None (default) draws on a new figure.
        **options
            Passed on as keywords: in 2-D ``regions`` (the result, drawn underneath coloured by
            the output), ``color`` and ``linewidth``; in 3-D ``color``, ``edgecolor``,
            ``linewidth``, ``light``, ``elev`` and ``azim``. Any other keyword is a
            ``TypeError``.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on (an ``Axes3D`` in 3-D).

        Raises
        ------
        InvalidDomainError
            A level set in neither 2-D nor 3-D (a 1-D level set is a set of points).
        MissingDependencyError
            matplotlib is not installed (the ``plot`` extra).
        """
        # a lazy facade: pictures sit above the analyses
        from ..plotting import plot_level_set, plot_mesh
        return (plot_mesh if self.dim == 3 else plot_level_set)(self, ax, **options)

    def save(self, path) -> None:
        """Write the level set as a mesh: ``.obj`` (Wavefront) or ``.ply`` (ASCII).

        In 3-D, the triangles (oriented towards where the output exceeds ``value``), and any
        edges or points of the level set outside every polygon (``l``/``p`` records, a PLY
        ``edge`` element); in 2-D, the segments (with ``z = 0``).

        Parameters
        ----------
        path : str or path
            Ending in ``.obj`` or ``.ply``; its folder must exist.

        Raises
        ------
        FileFormatError
            Another suffix, or a level set in neither 2-D nor 3-D.
        MissingFileError
            The folder does not exist.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".obj", ".ply"):
            raise FileFormatError(f"{path}: level sets are saved as .obj or .ply")
        if self.dim not in (2, 3):
            raise FileFormatError(f"meshes are 2-D or 3-D; this level set is in {self.dim}-D")
        if not path.parent.exists():
            raise MissingFileError(f"no such folder: {path.parent}")
        X = self.vertices if self.dim == 3 else np.c_[self.vertices, np.zeros(len(self.vertices))]
        tris = self.triangles if self.dim == 3 else np.zeros((0, 3), np.int64)
        lines, points = self._lone_cells()
        with open(path, "w") as fh:
            if suffix == ".obj":
                fh.write(f"# level set y{self.output} = {self.value!r} (regionenum)\n")
                fh.writelines(f"v {x!r} {y!r} {z!r}\n" for x, y, z in X.tolist())
                fh.writelines(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in tris.tolist())
                fh.writelines(f"l {a + 1} {b + 1}\n" for a, b in lines.tolist())
                fh.writelines(f"p {a + 1}\n" for a in points.tolist())
            else:
                fh.write("ply\nformat ascii 1.0\n"
                         f"comment level set y{self.output} = {self.value!r} (regionenum)\n"
                         f"element vertex {len(X)}\nproperty double x\nproperty double y\nproperty double z\n"
                         f"element face {len(tris)}\nproperty list uchar int vertex_indices\n"
                         f"element edge {len(lines)}\nproperty int vertex1\nproperty int vertex2\n"
                         "end_header\n")
                fh.writelines(f"{x!r} {y!r} {z!r}\n" for x, y, z in X.tolist())
                fh.writelines(f"3 {a} {b} {c}\n" for a, b, c in tris.tolist())
                fh.writelines(f"{a} {b}\n" for a, b in lines.tolist())

    def _lone_cells(self):
        """Edges on no triangle of the mesh (all edges in 2-D) and vertices on no edge."""
        K = self.complex
        seg = self.segments
        if self.dim == 3 and len(K.facets) > 2:
            used = np.asarray(K.facets[2].sum(axis=0)).ravel() > 0
            seg = seg[~used]
        on_edge = np.zeros(len(self.vertices), bool)
        on_edge[self.segments.ravel()] = True
        return seg, np.flatnonzero(~on_edge)


class SublevelSet(_Complexes):
    """The sublevel set ``{y_output <= value}`` in the domain: convex polytopes, one per
    activation region where it has interior, with the complex of all their faces (see
    :func:`sublevel_set`).

    Attributes
    ----------
    value : float
    output : int
    complex : PolyhedralComplex
    vertices : ndarray, shape (V, d)
    polytope_region : ndarray of int
        The activation region of each polytope (the ``d``-cells).
    volumes : ndarray
        Each polytope's volume; ``volume`` their sum.
    exact_signs : int
    """

    def __init__(self, complex, value, output, exact_signs):
        self.complex = complex
        self.value = value
        self.output = output
        self.exact_signs = exact_signs
        self.dim = complex.vertices.shape[1]
        self._betti = None
        self._volumes = None

    def __repr__(self) -> str:
        return (f"SublevelSet(value={self.value!r}, output={self.output}, {len(self)} polytopes, "
                f"volume={self.volume:.6g})")

    def __len__(self) -> int:
        return int(self.complex.f_vector[self.dim])

    @property
    def polytope_region(self) -> np.ndarray:
        return self.complex.first_region(self.dim)

    def vertices_of(self, i: int) -> np.ndarray:
        """The vertices (coordinates) of polytope ``i``.

        Parameters
        ----------
        i : int
            A polytope (a ``d``-cell of ``complex``), ``-len(self) <= i < len(self)``
            (negative counts from the end); the same numbering as ``polytope_region`` and
            ``volumes``.

        Returns
        -------
        ndarray, shape (m, d)
            Float64 coordinates (float approximations of exact rational points), one row per
            vertex, in no particular (not cyclic) order.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> W = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])      # |x| + |y|
        >>> net = rn.Network.from_layers([(W, np.zeros(4)), (np.ones((1, 4)), np.zeros(1))])
        >>> below = rn.enumerate_regions(net, rn.Box([-2, -2], [2, 2])).sublevel_set(1.0)
        >>> len(below), below.vertices_of(0).shape    # a triangle in each quadrant
        (4, (3, 2))
        """
        i = checked_index(i, len(self), "polytope")
        inc = self.complex.incidence[self.dim]
        return self.vertices[inc.indices[inc.indptr[i]: inc.indptr[i + 1]]]

    @property
    def volumes(self) -> np.ndarray:
        if self._volumes is None:
            self._volumes = cell_volumes(self.complex, self.dim)
        return self._volumes

    @property
    def volume(self) -> float:
        return float(self.volumes.sum())


def _subdivision(regions):
    """The faces of a result and its subdivision complex (checked first: complete, bounded)."""
    require_polytopes(regions)
    faces = regions.faces()
    return faces, subdivision_complex(regions, faces)


def level_set(regions, value: float = 0.0, output: int = 0, tol: float = DEFAULT_TOL) -> LevelSet:
    """The level set ``{y_output = value}`` of a result's network on its (bounded) domain.

    Parameters
    ----------
    regions : Regions
        A complete result on a bounded domain.
    value : float, optional
    output : int, optional
    tol : float, optional
        Relative width of the band of float64 signs settled exactly (``1``: all of them).

    Returns
    -------
    LevelSet

    Raises
    ------
    IncompleteResultError, InvalidDomainError, InvalidArgumentError
        See :meth:`Regions.level_set <regionenum.Regions.level_set>`.
    """
    function = _function(regions, output, value=value)
    signer = VertexSigns(regions, tol)
    faces, K = _subdivision(regions)
    L = _cut(regions, K, function, "level", signer)
    d = regions.dim
    flat = L.f_vector[d] if len(L.f_vector) > d else 0
    if flat:
        raise InvalidArgumentError(f"the output equals {value!r} on {flat} whole region(s) (for example "
                                   f"region {int(L.first_region(d)[0])}): the level set has interior there; "
                                   "use sublevel_set, or another value")
    L = PolyhedralComplex(L.store, L.vertex_ids, L.incidence[:d], L.facets[:d], L.regions[:d])
    vertex_faces = _vertex_faces(K, L)
    # a vertex lies on a vertex or an edge of the subdivision; in one dimension the edges are the
    # regions themselves, whose insides are off the domain's boundary
    boundary = [faces.by_dim[k].on_boundary for k in range(min(2, d))]
    closed = not any(k < d and boundary[k][i] for k, i in vertex_faces.tolist())
    gradients = None
    if d == 3:
        gradients = _polygon_gradients(regions, L, function)
    return LevelSet(L, function[1], int(output), vertex_faces, closed, signer.exact_signs, gradients)


def _vertex_faces(K, L) -> np.ndarray:
    """``(dimension, index)`` of the face of ``K`` (the subdivision) each vertex of ``L`` lies on."""
    store = L.store
    out = np.zeros((len(L.vertex_ids), 2), np.int64)
    is_cut = store.generator[L.vertex_ids] < 0
    out[~is_cut, 1] = L.vertex_ids[~is_cut]  # the subdivision's vertices are the store's first ids
    if is_cut.any():  # a cut vertex lies on the edge between its two parents
        ends = np.sort(K.incidence[1].indices.reshape(-1, 2), axis=1).astype(np.int64)
        parents = np.sort(store.parents[L.vertex_ids[is_cut]], axis=1).astype(np.int64)
        n = int(max(ends.max(), parents.max())) + 1
        edge_key, parent_key = ends[:, 0] * n + ends[:, 1], parents[:, 0] * n + parents[:, 1]
        order = np.argsort(edge_key)
        at = np.minimum(np.searchsorted(edge_key[order], parent_key), len(order) - 1)
        if not np.array_equal(edge_key[order[at]], parent_key):
            raise InternalError("a vertex of the level set is cut on no edge of the subdivision")
        out[is_cut, 0] = 1
        out[is_cut, 1] = order[at]
    return out


def _polygon_gradients(regions, L, function) -> np.ndarray:
    """Per 2-cell of a 3-D level set, the gradient of ``f`` on a region holding it that is not
    flat: the side where ``f`` grows."""
    w, _ = function
    grads = np.einsum("nkd,k->nd", regions.jacobians, w)
    m = L.regions[2]
    out = np.zeros((m.shape[0], 3))
    for i, row in enumerate(csr_rows(m)):
        g = grads[row]
        out[i] = g[np.argmax(np.linalg.norm(g, axis=1))]
    return out


def sublevel_set(regions, value: float = 0.0, output: int = 0, tol: float = DEFAULT_TOL) -> SublevelSet:
    """The sublevel set ``{y_output <= value}`` of a result's network on its (bounded) domain.

    Parameters
    ----------
    regions, value, output, tol
        As for :func:`level_set`.

    Returns
    -------
    SublevelSet

    Raises
    ------
    IncompleteResultError, InvalidDomainError, InvalidArgumentError
        See :meth:`Regions.sublevel_set <regionenum.Regions.sublevel_set>`.
    """
    function = _function(regions, output, value=value)
    signer = VertexSigns(regions, tol)
    _, K = _subdivision(regions)
    S = _cut(regions, K, function, "below", signer)
    return SublevelSet(S, function[1], int(output), signer.exact_signs)


def class_region(regions, cls: int, tol: float = DEFAULT_TOL) -> PolyhedralComplex:
    """The closed region where class ``cls`` wins, as a complex: the subdivision cut by
    ``y_j - y_cls <= 0`` for each other class in turn (exact signs at every cut's vertices,
    those made by earlier cuts included).

    Parameters
    ----------
    regions : Regions
        A complete result on a bounded domain.
    cls : int
        The class: ``{y_cls >= y_j for every j}``; for one output (a logit), class 1 is
        ``{y_0 >= 0}`` and class 0 ``{y_0 <= 0}``.
    tol : float, optional
        As for :func:`level_set`.

    Returns
    -------
    PolyhedralComplex

    Raises
    ------
    InvalidArgumentError
        ``cls`` out of range.
    IncompleteResultError, InvalidDomainError
        As for :func:`level_set`.
    """
    k = regions.network.output_dim
    n_classes = max(k, 2)
    if not 0 <= whole_number(cls, "class", least=0) < n_classes:
        raise InvalidArgumentError(f"class must be in [0, {n_classes}), got {cls!r}")
    signer = VertexSigns(regions, tol)
    _, K = _subdivision(regions)
    if k == 1:
        functions = [np.array([1.0 if cls == 0 else -1.0])]
    else:
        functions = [np.eye(k)[j] - np.eye(k)[cls] for j in range(k) if j != cls]
    for w in functions:
        K = _cut(regions, K, (w, 0.0), "below", signer)
    return K
