"""Linear regions: maximal unions of activation regions, connected through shared facets, on
which the network's output is one affine map.

Two adjacent regions are merged when their output maps are equal. Maps that differ by more than
``1e-6`` of their size in float64 are different; closer ones (including equal ones) are compared
exactly, in the integer arithmetic of :mod:`regionenum.exact`, as the engine does for signs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.arrays import checked_index
from ..core.exact import ExactNetwork
from .faces import compute_faces, renumber_by_first, require_complete

# scipy is imported by the functions that use it: about a third of the package's import time
__all__ = ["LinearRegions", "linear_regions"]

#: Output maps closer than this, relative to their largest entry, are compared exactly.
CLOSE = 1e-6


@dataclass
class LinearRegions:
    """The linear regions of a result (from :meth:`Regions.linear_regions
    <regionenum.Regions.linear_regions>`).

    Attributes
    ----------
    region_group : ndarray of int, shape (n,)
        The linear region of each activation region, numbered in the order of their first
        activation region.
    jacobians, offsets : ndarray, shapes (m, k, d) and (m, k)
        The output map of each linear region.
    exact_checks : int
        How many pairs of neighbouring maps were compared in exact arithmetic.
    count : int
        ``m``.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> W = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])   # |x0| is x0 on one side, -x0 on the other
    >>> net = rn.Network.from_layers([(W, np.zeros(3)), (np.array([[1.0, -1.0, 0.0]]), [0.0])])
    >>> regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    >>> len(regions), regions.linear_regions().count    # x0 = relu(x0) - relu(-x0) has no kink
    (4, 1)
    """

    region_group: np.ndarray
    jacobians: np.ndarray
    offsets: np.ndarray
    exact_checks: int

    def __len__(self) -> int:
        return len(self.offsets)

    @property
    def count(self) -> int:
        """The number of linear regions."""
        return len(self)

    def members(self, g: int) -> np.ndarray:
        """The activation regions making up linear region ``g``.

        Parameters
        ----------
        g : int
            Counted from the end where negative, as in a sequence.

        Returns
        -------
        ndarray of int

        Raises
        ------
        ArgumentTypeError, IndexError
            ``g`` is not an integer, or beyond the linear regions (an empty array came out).
        """
        g = checked_index(g, len(self), "linear region")
        return np.flatnonzero(self.region_group == g)


def linear_regions(regions, faces=None) -> LinearRegions:
    """Merge adjacent activation regions with equal output maps; see :class:`LinearRegions`.

    Regions are adjacent when they share a facet. Maps that differ by more than ``CLOSE``
    (``1e-6``) of their largest entry in float64 are different; closer ones are compared
    exactly, in integer arithmetic. Merging is transitive: a linear region is a connected
    component of the equal-map neighbours.

    Parameters
    ----------
    regions : Regions
        A complete result with a cell complex (not one enumerated by its inequalities: more
        than five inputs).
    faces : Faces, optional
        ``regions.faces()`` if already computed (only the facets are read, so
        ``regions.faces(min_dim=d - 1)`` is enough); it must come from ``regions`` (not
        checked). Default: computed here, facets only.

    Returns
    -------
    LinearRegions
        ``count``, each activation region's ``region_group`` and each group's map (that of
        its first activation region).

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    InvalidArgumentError
        The result has no cell complex (it was enumerated by its inequalities).

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> from regionenum.analysis import linear_regions
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> lin = linear_regions(rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])))
    >>> lin.count, lin.region_group.tolist()     # relu(x0) + relu(x1) kinks along both axes
    (4, [0, 1, 2, 3])
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    require_complete(regions, "linear regions")
    d = regions.dim
    if faces is None:
        faces = compute_faces(regions, min_dim=d - 1)
    facets = faces.by_dim[d - 1]
    shared = np.flatnonzero(np.diff(facets.region_offsets) == 2)
    a = facets.region_ids[facets.region_offsets[shared]]
    b = facets.region_ids[facets.region_offsets[shared] + 1]
    maps = np.concatenate([regions.jacobians, regions.offsets[:, :, None]], axis=2)
    entries = maps.shape[1] * maps.shape[2]  # (given, not -1: there may be no shared facet)
    gap = np.abs(maps[a] - maps[b]).reshape(len(a), entries).max(axis=1, initial=0.0)
    size = np.maximum(np.abs(maps[a]).reshape(len(a), entries).max(axis=1, initial=0.0),
                      np.abs(maps[b]).reshape(len(b), entries).max(axis=1, initial=0.0))
    close = np.flatnonzero(gap <= CLOSE * size)
    same = np.zeros(len(a), bool)
    exact = _ExactMaps(regions)
    for e in close:
        same[e] = exact.equal(a[e], b[e])
    n = len(regions)
    graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
    group = renumber_by_first(connected_components(graph, directed=False)[1])
    _, lead = np.unique(group, return_index=True)
    return LinearRegions(group, regions.jacobians[lead].copy(), regions.offsets[lead].copy(),
                         len(close))


class _ExactMaps:
    """Exact output maps of regions, as integer matrices over ``(t, x)`` (all with the same
    scale, so equal maps have equal matrices)."""

    def __init__(self, regions):
        self.regions = regions
        self.exact = ExactNetwork(regions.network)

    def matrix(self, r):
        net = self.regions.network
        return self.exact.rows(len(net.layers), self.regions.patterns[r])[1:]

    def equal(self, r1, r2) -> bool:
        return bool(np.array_equal(self.matrix(r1), self.matrix(r2)))
