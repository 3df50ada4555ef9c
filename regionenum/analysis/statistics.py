"""Shape statistics of activation regions, and how often each unit is on.

Per region (:func:`region_statistics`): the volume; the Chebyshev ball (the largest ball inside
the region: its radius, the *inradius*, and centre, by one linear programme over the region's
facets ``a x + b <= 0`` with ``|a| = 1``: maximise ``r`` subject to ``a x + b + r <= 0``); the
centroid and the eccentricity, from the region's second moments (summed over the simplices of
a pulling triangulation of the face lattice: cones from each face's centre over its facets);
the number of facets and vertices, and the degree (neighbours across a facet), counted on the
face lattice. The balls of bounded regions come from small linear programmes solved one after
another in one kernel call (HiGHS takes those the kernel cannot finish).
Per unit (:func:`unit_statistics`): in how many regions and on what share of the domain's volume
it is on, and whether it is dead (never on) or always on.
"""
from __future__ import annotations

from math import factorial

import numpy as np

from ..core.arrays import batches, offsets_of, ranges
from ..core.threads import map_in_threads
from ..engine.kernels.moments import flag_moments
from ..engine.kernels.simplex import OPTIMAL, solve_lp_blocks
from ..errors import InternalError, InvalidArgumentError
from .faces import require_complete
from .topology import subdivision_complex

#: A direction of a region's recession cone at least this far inside every facet (facet normals
#: of length 1, directions in the unit cube) counts as interior: the region holds balls of any
#: size. Rounding leaves a cone without interior at about 1e-16.
CONE_INTERIOR = 1e-9

# scipy is imported by the functions that use it: about a third of the package's import time
__all__ = ["region_statistics", "unit_statistics", "chebyshev_ball", "chebyshev_balls", "moments",
           "complex_moments"]


def chebyshev_ball(equations) -> tuple:
    """The largest ball inside ``{x : a x + b <= 0}`` (its Chebyshev ball), by linear
    programming.

    Parameters
    ----------
    equations : ndarray, shape (m, d + 1)
        Rows ``[a | b]`` with ``|a| = 1`` (as ``Regions.facet_equations``).

    Returns
    -------
    radius : float
        ``inf`` when the set holds arbitrarily large balls.
    centre : ndarray, shape (d,)
        NaNs when the radius is infinite.

    Raises
    ------
    InternalError
        The solver found no ball (a set with an interior always has one).

    Examples
    --------
    >>> import numpy as np
    >>> from regionenum.analysis.statistics import chebyshev_ball
    >>> square = np.array([[1.0, 0, -1], [-1, 0, 0], [0, 1, -1], [0, -1, 0]])   # [0, 1]^2
    >>> r, c = chebyshev_ball(square)
    >>> round(r, 9), np.round(c, 9).tolist()
    (0.5, [0.5, 0.5])
    """
    from scipy.optimize import linprog
    A, b = equations[:, :-1], equations[:, -1]
    d = A.shape[1]
    lifted = np.hstack([A, np.ones((len(A), 1))])  # a x + r <= -b: the ball of radius r about x inside
    largest = np.r_[np.zeros(d), -1.0]  # the last variable (r, or s below), maximised
    # Arbitrarily large balls fit exactly where the recession cone {a y <= 0} has an interior: a
    # direction y with a y + s <= 0 for some s > 0. Asked first, in a bounded programme: where
    # it holds, the ball's programme is unbounded, which HiGHS does not always say (it can end
    # with an unknown status and no point, as on some unbounded regions in four dimensions).
    cone = linprog(largest, A_ub=lifted, b_ub=np.zeros(len(A)),
                   bounds=[(-1, 1)] * d + [(0, 1)], method="highs")
    if cone.status == 0 and cone.x[-1] > CONE_INTERIOR:
        return np.inf, np.full(d, np.nan)
    res = linprog(largest, A_ub=lifted, b_ub=-b, bounds=[(None, None)] * d + [(0, None)],
                  method="highs")
    if res.status == 3:  # unbounded after all
        return np.inf, np.full(d, np.nan)
    if res.status != 0:
        raise InternalError(f"the largest ball of a region was not found: {res.message}")
    return float(res.x[-1]), res.x[:d]


def chebyshev_balls(regions, which) -> tuple:
    """The Chebyshev balls of several bounded regions at once.

    Each region's programme (maximise ``r`` subject to ``a x + b + r <= 0`` over its facets) is
    small: ``d + 1`` variables, a few rows. They are solved one after another in one kernel call
    (:func:`~regionenum.engine.kernels.simplex.solve_lp_blocks`, a dual simplex), in the box
    around each region's vertices (which holds its ball, so ``r`` is at most half the box's
    narrowest side), in coordinates about the box's centre. Regions where the kernel finds no
    optimum in float64 (a singular basis) are solved by HiGHS, in one programme with a block
    per region (maximising the sum of the radii maximises each, the blocks being independent).

    Parameters
    ----------
    regions : Regions
    which : array_like of int
        Bounded regions.

    Returns
    -------
    radii : ndarray, shape (m,)
    centres : ndarray, shape (m, d)
        A centre of each ball (not unique where the largest ball can move, as in a
        rectangle).

    Raises
    ------
    InvalidArgumentError
        A region of ``which`` is unbounded.
    InternalError
        The solver failed (bounded regions always have a ball).
    """
    d = regions.dim
    which = np.asarray(which, np.int64)
    if not len(which):
        return np.zeros(0), np.zeros((0, d))
    unbounded = which[~regions.bounded[which]]
    if len(unbounded):
        raise InvalidArgumentError(f"chebyshev_balls takes bounded regions; region {int(unbounded[0])} is "
                                   "unbounded (chebyshev_ball takes its facets)")
    rows, row_off = ranges(regions.facet_offsets, which)
    eq = regions.facet_equations[rows]
    vsel, voff = ranges(regions.vertex_offsets, which)
    corners = regions.vertices[vsel]
    vlo, vhi = np.minimum.reduceat(corners, voff[:-1]), np.maximum.reduceat(corners, voff[:-1])
    # each programme in coordinates about its box's centre: the kernel's tolerance is relative
    # to the rows' offsets, which far from the origin would exceed a small region's ball
    mid = (vlo + vhi) / 2
    eq = np.c_[eq[:, :-1], eq[:, -1] + np.einsum("ij,ij->i", eq[:, :-1], np.repeat(mid, np.diff(row_off), axis=0))]
    lo = np.c_[vlo - mid, np.zeros(len(which))]
    hi = np.c_[vhi - mid, np.min(vhi - vlo, axis=1) / 2]
    status, x = solve_lp_blocks(np.c_[eq[:, :-1], np.ones(len(eq))], -eq[:, -1], row_off, lo, hi,
                                np.r_[np.zeros(d), -1.0], feas_tol=1e-12)
    failed = np.flatnonzero(status != OPTIMAL)
    for part in np.array_split(failed, max(1, len(failed) // 500)) if len(failed) else ():  # HiGHS: superlinear
        x[part] = _balls_by_highs(eq, row_off, part, d)
    return x[:, d].copy(), x[:, :d] + mid


def _balls_by_highs(eq, row_off, which, d):
    """``[centre | radius]`` of the balls of the blocks ``which`` (of the facet rows ``eq``
    under ``row_off``), by HiGHS: one programme with a block per region."""
    import scipy.sparse as sp
    from scipy.optimize import linprog
    rows, offsets = ranges(row_off, which)
    eq = eq[rows]
    counts = np.diff(offsets)
    block = np.repeat(np.arange(len(which)), counts)
    m = len(eq)
    cols = np.concatenate([block[:, None] * d + np.arange(d), (len(which) * d + block)[:, None]], axis=1)
    vals = np.concatenate([eq[:, :-1], np.ones((m, 1))], axis=1)
    A = sp.csr_matrix((vals.ravel(), (np.repeat(np.arange(m), d + 1), cols.ravel())),
                      shape=(m, len(which) * (d + 1)))
    cost = np.r_[np.zeros(len(which) * d), -np.ones(len(which))]
    bounds = [(None, None)] * (len(which) * d) + [(0, None)] * len(which)
    res = linprog(cost, A_ub=A, b_ub=-eq[:, -1], bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - bounded regions always have a ball
        raise InternalError(f"the Chebyshev balls' linear programme failed: {res.message}")
    return np.c_[res.x[: len(which) * d].reshape(-1, d), res.x[len(which) * d:]]


def moments(points) -> tuple:
    """Volume, centroid and covariance of the uniform distribution on the convex hull of
    ``points``, from the simplices joining the points' mean to the hull's (triangulated) facets.

    Parameters
    ----------
    points : array_like, shape (m, d)
        Full-dimensional.

    Returns
    -------
    volume : float
    centroid : ndarray, shape (d,)
    covariance : ndarray, shape (d, d)

    Examples
    --------
    >>> import numpy as np
    >>> from regionenum.analysis.statistics import moments
    >>> v, c, cov = moments([[0, 0], [3, 0], [0, 1], [3, 1]])   # a 3 x 1 box
    >>> round(v, 12), np.round(c, 12).tolist(), np.round(cov * 12, 9).tolist()
    (3.0, [1.5, 0.5], [[9.0, 0.0], [0.0, 1.0]])
    """
    from scipy.spatial import ConvexHull, QhullError
    points = np.asarray(points, np.float64)
    d = points.shape[1]
    if d == 1:
        lo, hi = points.min(), points.max()
        return float(hi - lo), np.array([(lo + hi) / 2]), np.array([[(hi - lo) ** 2 / 12]])
    try:
        hull = ConvexHull(points)
    except QhullError:
        hull = ConvexHull(points, qhull_options="QJ")
    apex = points.mean(axis=0)
    S = np.concatenate([np.broadcast_to(apex, (len(hull.simplices), 1, d)), points[hull.simplices]], axis=1)
    vol = np.abs(np.linalg.det(S[:, 1:] - S[:, :1])) / factorial(d)
    total = vol.sum()
    sums = S.sum(axis=1)
    centroid = (vol @ sums) / ((d + 1) * total)
    second = np.einsum("s,sij->ij", vol / ((d + 1) * (d + 2)),
                       np.einsum("svi,svj->sij", S, S) + np.einsum("si,sj->sij", sums, sums))
    return float(total), centroid, second / total - np.outer(centroid, centroid)


def complex_moments(K, chunk: int = 4096) -> tuple:
    """Volume, centroid and covariance of every top cell of a polyhedral complex.

    From the simplices of its pulling triangulation: a cell is the union of the cones from its
    centre (the mean of its vertices) over its facets, each facet the same way, down to the
    edges; one simplex per flag (cell, facet, ..., 2-face, edge), summed by the kernel
    :func:`~regionenum.engine.kernels.moments.flag_moments` (cells shared out among threads).

    Parameters
    ----------
    K : PolyhedralComplex
        Its top dimension is the space's (2 or more).
    chunk : int, optional
        Top cells in one piece of work for the threads.

    Returns
    -------
    volumes : ndarray, shape (n,)
    centroids : ndarray, shape (n, d)
    covariances : ndarray, shape (n, d, d)
    """
    D = len(K.incidence) - 1
    X = np.ascontiguousarray(K.vertices, np.float64)
    n = K.incidence[D].shape[0]
    levels = range(D, 1, -1)  # the top cells, their facets, ..., the 2-faces
    centres = np.concatenate([(K.incidence[k].astype(np.float64) @ X) / np.diff(K.incidence[k].indptr)[:, None]
                              for k in levels])
    centre_base = offsets_of([K.incidence[k].shape[0] for k in levels])[:-1]
    facets = [K.facets[k] for k in levels]
    idx_base = offsets_of([len(f.indices) for f in facets])
    ptr = np.concatenate([f.indptr.astype(np.int64) + base for f, base in zip(facets, idx_base)])
    ptr_base = offsets_of([len(f.indptr) for f in facets])[:-1]
    idx = np.concatenate([f.indices for f in facets]).astype(np.int64)
    ends = np.ascontiguousarray(K.incidence[1].indices.reshape(-1, 2), np.int64)
    vol, first, second = np.zeros(n), np.zeros((n, D)), np.zeros((n, D, D))
    map_in_threads(lambda b: flag_moments(ptr, ptr_base, idx, centres, centre_base, X, ends, *b, vol, first,
                                          second), batches(n, chunk))
    centroid = first / vol[:, None]
    return vol, centroid, second / vol[:, None, None] - np.einsum("ni,nj->nij", centroid, centroid)


def region_statistics(regions) -> np.ndarray:
    """One row per region (a structured array).

    Parameters
    ----------
    regions : Regions
        A complete result.

    Returns
    -------
    ndarray
        Fields ``volume``, ``bounded``, ``inradius``, ``center``, ``centroid``,
        ``eccentricity``, ``n_facets``, ``n_vertices``, ``degree``: see
        :meth:`Regions.statistics <regionenum.Regions.statistics>`.

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    """
    require_complete(regions, "region statistics")
    d, n = regions.dim, len(regions)
    faces = regions.faces()
    n_vertices = np.bincount(faces.by_dim[0].region_ids, minlength=n)
    facets = faces.by_dim[d - 1]
    n_facets = np.bincount(facets.region_ids, minlength=n)
    shared = np.flatnonzero(np.diff(facets.region_offsets) == 2)
    ends = facets.region_ids[facets.region_offsets[shared][:, None] + np.arange(2)]
    degree = np.bincount(ends.ravel(), minlength=n)
    out = np.zeros(n, dtype=[("volume", "f8"), ("bounded", "?"), ("inradius", "f8"), ("center", "f8", (d,)),
                             ("centroid", "f8", (d,)), ("eccentricity", "f8"), ("n_facets", "i8"),
                             ("n_vertices", "i8"), ("degree", "i8")])
    out["volume"], out["bounded"] = regions.volumes, regions.bounded
    out["n_facets"], out["n_vertices"], out["degree"] = n_facets, n_vertices, degree
    bounded = np.flatnonzero(regions.bounded)
    out["inradius"][bounded], out["center"][bounded] = chebyshev_balls(regions, bounded)
    for i in np.flatnonzero(~regions.bounded):
        out["inradius"][i], out["center"][i] = chebyshev_ball(regions.facets_of(i)[0])
    out["centroid"], out["eccentricity"] = np.nan, np.inf
    if d == 1:
        ends = np.array([np.sort(regions.vertices_of(i)[:, 0]) for i in bounded]).reshape(-1, 2)
        out["centroid"][bounded, 0], out["eccentricity"][bounded] = ends.mean(axis=1), 1.0
    elif regions.domain.is_bounded:
        _, out["centroid"], cov = complex_moments(subdivision_complex(regions, faces))
        out["eccentricity"] = _eccentricity(cov)
    else:
        for i in bounded:
            _, out["centroid"][i], cov = moments(regions.vertices_of(i))
            out["eccentricity"][i] = _eccentricity(cov[None])[0]
    return out


def _eccentricity(cov) -> np.ndarray:
    """``sqrt(largest / smallest eigenvalue)`` of each covariance matrix."""
    eig = np.linalg.eigvalsh(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(eig[:, 0] > 0, np.sqrt(eig[:, -1] / eig[:, 0]), np.inf)


def unit_statistics(regions) -> np.ndarray:
    """One row per unit with several states (a structured array).

    Parameters
    ----------
    regions : Regions
        A complete result.

    Returns
    -------
    ndarray
        Fields ``layer``, ``unit``, ``on_regions``, ``on_volume`` (share of the domain's
        volume where the unit is on; NaN on unbounded domains), ``dead``, ``always_on``.

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    """
    require_complete(regions, "unit statistics")
    net = regions.network
    on = regions.patterns
    volume = regions.volumes
    out = np.zeros(net.n_units, dtype=[("layer", "i8"), ("unit", "i8"), ("on_regions", "i8"),
                                       ("on_volume", "f8"), ("dead", "?"), ("always_on", "?")])
    out["layer"], out["unit"] = net.unit_layer, net.unit_index
    out["on_regions"] = on.sum(axis=0)
    total = volume.sum()
    out["on_volume"] = (volume @ on) / total if np.isfinite(total) and total > 0 else np.nan
    out["dead"] = out["on_regions"] == 0
    out["always_on"] = out["on_regions"] == len(regions)
    return out
