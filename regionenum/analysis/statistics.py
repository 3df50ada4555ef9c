"""Shape statistics of activation regions, and how often each unit is on.

Per region (:func:`region_statistics`): the volume; the Chebyshev ball (the largest ball inside
the region: its radius, the *inradius*, and centre, by one linear programme over the region's
facets ``a x + b <= 0`` with ``|a| = 1``: maximise ``r`` subject to ``a x + b + r <= 0``); the
centroid and the eccentricity, from the region's second moments (summed over the simplices
joining its vertices' mean to the triangulated boundary of its convex hull); the number of
facets and vertices, and the degree (neighbours across a facet), counted on the face lattice.
Per unit (:func:`unit_statistics`): in how many regions and on what share of the domain's volume
it is on, and whether it is dead (never on) or always on.
"""
from __future__ import annotations

from math import factorial

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, QhullError

from .faces import require_complete

__all__ = ["region_statistics", "unit_statistics", "chebyshev_ball", "moments"]


def chebyshev_ball(equations) -> tuple:
    """The largest ball inside ``{x : a x + b <= 0}`` (rows ``[a | b]``, ``|a| = 1``): its
    radius and centre (``inf`` and NaNs when the set holds arbitrarily large balls)."""
    A, b = equations[:, :-1], equations[:, -1]
    d = A.shape[1]
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.hstack([A, np.ones((len(A), 1))]), b_ub=-b,
                  bounds=[(None, None)] * d + [(0, None)], method="highs")
    if res.status == 3:  # unbounded
        return np.inf, np.full(d, np.nan)
    return float(res.x[-1]), res.x[:d]


def moments(points) -> tuple:
    """Volume, centroid and covariance of the convex hull of ``points`` (``(m, d)``,
    full-dimensional), from the simplices joining the points' mean to the hull's facets."""
    points = np.asarray(points, np.float64)
    d = points.shape[1]
    if d == 1:
        lo, hi = points.min(), points.max()
        return hi - lo, np.array([(lo + hi) / 2]), np.array([[(hi - lo) ** 2 / 12]])
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
    return total, centroid, second / total - np.outer(centroid, centroid)


def region_statistics(regions) -> np.ndarray:
    """One row per region: see :meth:`Regions.statistics <regionenum.Regions.statistics>`."""
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
    for i in range(n):
        out["inradius"][i], out["center"][i] = chebyshev_ball(regions.facets_of(i)[0])
        if regions.bounded[i]:
            _, out["centroid"][i], cov = moments(regions.vertices_of(i))
            eig = np.linalg.eigvalsh(cov)
            out["eccentricity"][i] = np.sqrt(eig[-1] / eig[0]) if eig[0] > 0 else np.inf
        else:
            out["centroid"][i], out["eccentricity"][i] = np.nan, np.inf
    return out


def unit_statistics(regions) -> np.ndarray:
    """One row per unit with several states: see
    :meth:`Regions.statistics <regionenum.Regions.statistics>` (``per="unit"``)."""
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
