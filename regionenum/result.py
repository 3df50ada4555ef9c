"""The enumeration result: one row per activation region, in columnar arrays (like scipy.spatial).

Ragged per-region data (vertices, facets) is stored CSR-style: region ``i`` owns rows
``offsets[i]:offsets[i + 1]``. Regions are sorted by activation pattern, so equal inputs give
equal results. The analyses (faces and the adjacency graph, linear and decision regions,
verification, files, pictures) read a result and its cell complex; the methods below hand over
to them (imported when called, so that a result does not pull in every analysis).
"""
from __future__ import annotations

import functools

import numpy as np

from .core.arrays import checked_index, unpack_bits
from .core.tolerances import DEFAULT_TOL
from .errors import InternalError, InvalidArgumentError

__all__ = ["Regions"]


class Regions:
    """Activation regions of a network on a domain (made by :func:`~regionenum.enumerate_regions`).

    Attributes
    ----------
    network : Network
        The network (restricted to the slice, when the domain was a :class:`~regionenum.Slice`).
    domain : Box or Polytope
        The domain, in the result's coordinates.
    patterns : ndarray of bool, shape (n, n_units)
        The state of every unit with several states (True = on; in a max layer, True for the
        winner of each group); ``packed_patterns`` the same through ``np.packbits``.
    interior_points : ndarray, shape (n, d)
        A point inside each region.
    bounded : ndarray of bool, shape (n,)
        Whether each region is bounded.
    volumes : ndarray, shape (n,)
        Each region's volume (``inf`` when unbounded).
    vertex_offsets, vertices : ndarray
        The vertices of bounded region ``i``: ``vertices[vertex_offsets[i]:vertex_offsets[i+1]]``.
    facet_offsets, facet_equations : ndarray
        The non-redundant facets of region ``i`` as rows ``[a | b]`` with ``a x + b <= 0`` on the
        region and ``|a| = 1`` (CSR, like the vertices).
    facet_layers, facet_units : ndarray of int
        Where each facet comes from: ``(layer, unit)`` for a network unit (in a max layer, the
        argument tied with the winner there), ``(-1, row)`` for a row of the domain's ``A``.
        The facets' equations, layers and units are made from the cell complex when first
        read (most uses of a result never read them, and on 4-D networks they are a fifth of
        its memory).
    jacobians, offsets : ndarray, shapes (n, k, d) and (n, k)
        The network is ``jacobians[i] @ x + offsets[i]`` on region ``i``.
    output_errors : ndarray, shape (n, k)
        A rigorous bound on how far each output's map (its offset and Jacobian row, summed) is
        from the exact one; analyses trust float comparisons of maps only beyond it.
    complete : bool
        False when a budget or Ctrl-C stopped the run early; ``stop_reason`` then says which
        (``"max_regions"``, ``"time_limit"``, ``"interrupted"``).
    seconds, kernel_seconds : float
        Time of the enumeration, and time spent compiling or loading kernels apart.
    exact_calls : int
        Signs settled in exact arithmetic.
    sign_stages : dict of str to int
        How many signs each stage decided (as for :class:`~regionenum.RegionCount`).
    certificate : Certificate or None
        The exact re-check of the result (:func:`regionenum.certify`) when it was asked for
        with ``enumerate_regions(..., certify=True)`` and the run was complete.
    complex : CellComplex
        The cells behind the regions (generators with the constraints tight at each) and the
        constraint numbering; ``cells`` and ``cell_region`` (the region of each cell: one cell
        per region on bounded domains, several pieces on unbounded ones) read from it.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    >>> regions
    Regions(4 regions, 4 bounded, d=2)
    >>> int(regions.locate([[0.5, 0.5]])[0]), regions.patterns[3].tolist()
    (3, [True, True])
    """

    def __init__(self, network, domain, *, packed_patterns, interior_points, bounded, volumes,
                 vertex_offsets, vertices, facet_offsets, facet_equations=None, facet_layers=None,
                 facet_units=None, facet_source=None, jacobians, offsets, output_errors, complex, complete=True,
                 stop_reason=None, seconds=0.0, kernel_seconds=0.0, exact_calls=0, sign_stages=None):
        # the facets' arrays, or what makes them when first read (``facet_source``: its
        # ``equations()`` and ``sources()``, the latter the layers and units)
        given = [a is not None for a in (facet_equations, facet_layers, facet_units)]
        if all(given) == (facet_source is not None) or any(given) != all(given):
            raise InternalError("a result takes its facets' equations, layers and units, or a source of them")
        self.network = network
        self.domain = domain
        self.packed_patterns = packed_patterns
        self.interior_points = interior_points
        self.bounded = bounded
        self.volumes = volumes
        self.vertex_offsets = vertex_offsets
        self.vertices = vertices
        self.facet_offsets = facet_offsets
        self._facet_source = facet_source
        if facet_source is None:  # (the cached properties below then read these)
            self.facet_equations, self.facet_layers, self.facet_units = facet_equations, facet_layers, facet_units
        self.jacobians = jacobians
        self.offsets = offsets
        self.output_errors = output_errors
        self.complex = complex
        self.complete = complete
        self.stop_reason = stop_reason
        self.seconds = seconds
        self.kernel_seconds = kernel_seconds
        self.exact_calls = exact_calls
        self.sign_stages = sign_stages or {}
        self.certificate = None  # set by enumerate_regions(..., certify=True)
        self._lookup = None

    def __len__(self) -> int:
        return len(self.packed_patterns)

    def __repr__(self) -> str:
        tail = "" if self.complete else f", incomplete: {self.stop_reason}"
        return (f"Regions({len(self)} regions, {int(self.bounded.sum())} bounded, "
                f"d={self.network.input_dim}{tail})")

    @functools.cached_property
    def patterns(self) -> np.ndarray:
        """``(n, n_units)`` bool: the state of every unit with several states (True = on)."""
        return unpack_bits(self.packed_patterns, self.network.n_units)

    @functools.cached_property
    def facet_equations(self) -> np.ndarray:
        """``(F, d + 1)``: each facet as ``[a | b]``, ``a x + b <= 0`` on its region, ``|a| = 1``."""
        return self._facet_source.equations()

    @functools.cached_property
    def facet_layers(self) -> np.ndarray:
        """``(F,)`` int: each facet's layer, ``-1`` for a row of the domain's ``A``."""
        return self._facet_source.sources()[0]

    @functools.cached_property
    def facet_units(self) -> np.ndarray:
        """``(F,)`` int: each facet's unit in its layer, or its row of the domain's ``A``."""
        return self._facet_source.sources()[1]

    @functools.cached_property
    def pieces(self) -> np.ndarray:
        """``(n, len(network.piece_map))`` int: the linear piece of every unit of the network as
        it was built (``network.source_layers``) on each region: ReLU-type units 0 (off) or 1
        (on), max groups the winner's position, piecewise-linear units (hardtanh, splines, ...)
        the number of their breakpoints below their input; ``network.piece_map.units`` names
        the ``(layer, unit)`` of each column."""
        return self.network.piece_map.pieces(self.patterns)

    @property
    def dim(self) -> int:
        """The input dimension ``d``."""
        return self.network.input_dim

    @property
    def cells(self):
        """The cells behind the regions (a ``CellSet``: generators with incidence)."""
        return self.complex.cells

    @property
    def cell_region(self) -> np.ndarray:
        """The region of each cell."""
        return self.complex.cell_region

    @property
    def constraint_ids(self):
        """The numbering of the constraints in the cells' incidence
        (:class:`~regionenum.core.exact.ConstraintIds`)."""
        return self.complex.constraints.ids

    def vertices_of(self, i: int) -> np.ndarray:
        """The vertices of region ``i``.

        Parameters
        ----------
        i : int
            A region, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        ndarray, shape (m, d)
            Empty if the region is unbounded.

        Raises
        ------
        ArgumentTypeError
            ``i`` is not an integer.
        IndexError
            ``i`` is out of range.
        """
        i = checked_index(i, len(self), "region")
        return self.vertices[self.vertex_offsets[i]: self.vertex_offsets[i + 1]]

    def facets_of(self, i: int):
        """The facets of region ``i``.

        Parameters
        ----------
        i : int
            A region, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        equations : ndarray, shape (f, d + 1)
            Rows ``[a | b]`` with ``a x + b <= 0`` on the region, ``|a| = 1``.
        layers, units : ndarray of int, shape (f,)
            Where each facet comes from (see the class's attributes).

        Raises
        ------
        ArgumentTypeError
            ``i`` is not an integer.
        IndexError
            ``i`` is out of range.
        """
        i = checked_index(i, len(self), "region")
        s = slice(self.facet_offsets[i], self.facet_offsets[i + 1])
        return self.facet_equations[s], self.facet_layers[s], self.facet_units[s]

    def pattern_of(self, i: int) -> list:
        """The pattern of region ``i``, layer by layer.

        Parameters
        ----------
        i : int
            A region, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        list of ndarray of bool
            One array per layer, over the layer's units with several states
            (``network.split_units[l]``; empty for identity layers).

        Raises
        ------
        ArgumentTypeError
            ``i`` is not an integer.
        IndexError
            ``i`` is out of range.
        """
        i = checked_index(i, len(self), "region")
        net = self.network
        out = []
        for l, units in enumerate(net.split_units):
            o = net.unit_offsets[l]
            out.append(self.patterns[i, o: o + len(units)].copy())
        return out

    def locate(self, X) -> np.ndarray:
        """The region holding each point.

        Parameters
        ----------
        X : array_like, shape (m, d)
            Points in the result's coordinates.

        Returns
        -------
        ndarray of int, shape (m,)
            The index of each point's region; ``-1`` outside the domain.

        Raises
        ------
        InvalidArgumentError
            A point has a coordinate that is not finite (NaN or infinite).

        Notes
        -----
        A point is matched by its activation pattern (a unit is on where its pre-activation is
        > 0), so a point on a boundary goes to the region on the 'off' side of it. A pattern
        that matches no region comes from rounding: the point is within rounding of a boundary,
        or on a region where some unit is identically zero but evaluates to a few ulps. Such a
        point goes to the region whose facet inequalities it violates least, if that is within
        ``1e-9`` of the coordinates' scale; otherwise (or in an incomplete result) ``-1``.
        """
        X = self.network._check_points(X)
        if self._lookup is None:
            self._lookup = {row.tobytes(): i for i, row in enumerate(self.packed_patterns)}
        keys = np.packbits(self.network.pattern_bits(X), axis=1)
        inside = self.domain.contains(X)
        out = np.array([self._lookup.get(k.tobytes(), -1) if ok else -1
                        for k, ok in zip(keys, inside)], dtype=np.int64)
        for i in np.flatnonzero((out < 0) & inside):
            out[i] = self._nearest_by_facets(X[i])
        return out

    def _nearest_by_facets(self, x) -> int:
        """The region whose facet inequalities ``x`` violates least, or -1 beyond rounding."""
        if not len(self) or not len(self.facet_equations):
            return -1
        violation = self.facet_equations[:, :-1] @ x + self.facet_equations[:, -1]
        counts = np.diff(self.facet_offsets)
        worst = np.full(len(self), -np.inf)
        has = counts > 0
        worst[has] = np.maximum.reduceat(violation, self.facet_offsets[:-1][has])
        best = int(np.argmin(worst))
        return best if worst[best] <= 1e-9 * max(1.0, float(np.abs(x).max())) else -1

    # -- analyses (lazy facades: each imports its module when called) --------------------------
    def faces(self, min_dim: int = 0):
        """The faces of the subdivision of the domain into these regions.

        Parameters
        ----------
        min_dim : int, optional
            The lowest dimension wanted (faces below it are left empty, which is faster).

        Returns
        -------
        Faces
            Vertices, edges, ..., facets, each once, with the regions around it.

        Raises
        ------
        IncompleteResultError
            The enumeration stopped early.

        Notes
        -----
        Each face is made once per cell it bounds, then matched across cells by its exact name:
        in four inputs about 80 faces per cell. On two cores the standard suite's r4_small
        (318,765 regions) took 9-11 s and peaked at 3.1-3.3 GB, four to five times its enumeration's
        time; r3_small (90,020 regions) 0.7 s. The facets alone (``min_dim = d - 1``), which the
        adjacency graph reads, took 2.1 s and 1.4 GB on r4_small (the graph 3.2 s, 1.8 GB).
        """
        from .analysis.faces import compute_faces
        return compute_faces(self, min_dim)

    def adjacency_graph(self):
        """The regions as a graph: one node per region, one edge per pair of regions sharing a
        facet (a (d-1)-dimensional face).

        Returns
        -------
        networkx.Graph
            Node attributes ``pattern``, ``interior_point``, ``volume``, ``bounded`` and
            ``boundary_facets`` (``(domain rows, volume)`` of each facet on the domain's
            boundary); edge attributes ``units`` (the ``(layer, unit)`` pairs whose state flips
            across the facet), ``tight`` (all units zero on it: more where hyperplanes coincide
            or a unit is identically zero) and ``volume`` (its (d-1)-dimensional volume).

        Raises
        ------
        IncompleteResultError
            The enumeration stopped early.
        """
        from .analysis.graph import adjacency_graph
        return adjacency_graph(self)

    def linear_regions(self):
        """Adjacent regions on which the output is the same affine map, merged.

        Returns
        -------
        LinearRegions
            ``count``, ``region_group``, each group's map.

        Raises
        ------
        IncompleteResultError
            The enumeration stopped early.
        """
        from .analysis.linear_regions import linear_regions
        return linear_regions(self)

    def decision_regions(self, tol: float = DEFAULT_TOL):
        """For a classifier: where each output is the largest.

        Parameters
        ----------
        tol : float, optional
            The band of float64 signs of output differences always settled exactly (as ``tol``
            of :func:`~regionenum.enumerate_regions`); in ``(0, 1e-3)``.

        Returns
        -------
        DecisionRegions
            The pieces of each region by winning class (one output: a logit, class 1 where it
            is positive), the decision regions, the boundary, its graph and each class's Betti
            numbers.

        Raises
        ------
        IncompleteResultError
            The enumeration stopped early.
        InvalidArgumentError
            ``tol`` out of range.
        """
        from .analysis.decision_regions import decision_regions
        return decision_regions(self, tol)

    def level_set(self, value: float = 0.0, output: int = 0, tol: float = DEFAULT_TOL):
        """The level set ``{y_output = value}`` on the domain, exactly, as a polyhedral complex.

        Parameters
        ----------
        value : float, optional
            The level.
        output : int, optional
            Which output (any network: one output or several).
        tol : float, optional
            Relative width of the band of float64 signs of ``y - value`` at the subdivision's
            vertices that are settled in exact arithmetic even where a rigorous bound on their
            rounding proves them (the engine's rule); ``1`` settles every sign exactly.

        Returns
        -------
        LevelSet
            Segments (2-D), a triangle mesh (3-D) or points (1-D) with ``vertices``,
            ``volume`` (the ``(d - 1)``-measure), ``euler_characteristic``, ``betti``,
            ``closed`` and ``save(path)`` (``.obj``, ``.ply``); vertices on an edge of the
            subdivision are named by that edge, so they are shared exactly.

        Raises
        ------
        IncompleteResultError
            The enumeration stopped early.
        InvalidDomainError
            The domain is unbounded.
        InvalidArgumentError
            ``output`` out of range, a non-finite ``value``, or an output equal to ``value`` on
            a whole region (the level set has interior: use :meth:`sublevel_set`).

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> W = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])      # |x| + |y|
        >>> net = rn.Network.from_layers([(W, np.zeros(4)), (np.ones((1, 4)), np.zeros(1))])
        >>> diamond = rn.enumerate_regions(net, rn.Box([-2, -2], [2, 2])).level_set(1.0)
        >>> round(diamond.volume ** 2, 9), diamond.betti, diamond.closed          # 4 sqrt(2)
        (32.0, (1, 1), True)
        """
        from .analysis.level_sets import level_set
        return level_set(self, value, output, tol)

    def sublevel_set(self, value: float = 0.0, output: int = 0, tol: float = DEFAULT_TOL):
        """The sublevel set ``{y_output <= value}`` on the domain: one convex polytope per
        region it fills part of, with the complex of their faces.

        Parameters
        ----------
        value, output, tol
            As for :meth:`level_set`.

        Returns
        -------
        SublevelSet
            ``vertices``, ``vertices_of(i)``, ``polytope_region``, ``volumes``, ``volume``,
            ``euler_characteristic`` and ``betti`` (exact, over GF(2)).

        Raises
        ------
        IncompleteResultError, InvalidDomainError, InvalidArgumentError
            As for :meth:`level_set` (a flat output is fine here).
        """
        from .analysis.level_sets import sublevel_set
        return sublevel_set(self, value, output, tol)

    def statistics(self, per: str = "region"):
        """Shape statistics of the regions (or of the units) as a numpy structured array.

        Parameters
        ----------
        per : {"region", "unit"}, optional
            ``"region"``: one row per region with ``volume``, ``bounded``, ``inradius`` and
            ``center`` (the Chebyshev ball: the largest ball inside, by linear programming),
            ``centroid``, ``eccentricity`` (``sqrt`` of the largest over the smallest
            eigenvalue of the region's covariance: 1 for balls, cubes and regular simplices),
            ``n_facets`` and ``n_vertices`` (from the face lattice), ``degree`` (regions
            sharing a facet). ``"unit"``: one row per unit with several states, ``layer``,
            ``unit``, ``on_regions``, ``on_volume`` (share of the domain's volume where it is
            on), ``dead`` (off on every region) and ``always_on``.

        Returns
        -------
        numpy.ndarray
            A structured array (``stats["inradius"]``, ``stats["center"]``, ...).

        Raises
        ------
        IncompleteResultError
            The enumeration stopped early.
        InvalidArgumentError
            ``per`` is neither ``"region"`` nor ``"unit"``.
        """
        from .analysis.statistics import region_statistics, unit_statistics
        if per not in ("region", "unit"):
            raise InvalidArgumentError(f"per must be 'region' or 'unit', got {per!r}")
        return region_statistics(self) if per == "region" else unit_statistics(self)

    def plot(self, ax=None, **options):
        """Draw the regions with matplotlib (1-D or 2-D).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        **options
            See :func:`regionenum.plotting.plot_regions`.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plotting import plot_regions
        return plot_regions(self, ax, **options)

    def save(self, path) -> None:
        """Write everything to a file; read it back with :func:`regionenum.load_regions`.

        Parameters
        ----------
        path : str or path
            ``.npz`` or ``.json``; its folder must exist.

        Raises
        ------
        FileFormatError, MissingFileError
            Another suffix, or no such folder.
        """
        from .io.results import save_regions
        save_regions(self, path)
