"""The enumeration result: one row per activation region, in columnar arrays (like scipy.spatial).

Ragged per-region data (vertices, facets) is stored CSR-style: region ``i`` owns rows
``offsets[i]:offsets[i + 1]``. Regions are sorted by activation pattern (unit 0 of the first
two-state layer most significant, on after off), so equal inputs give equal results.
"""
from __future__ import annotations

import functools

import numpy as np

from ._geometry import facet_flags, polytope_volumes
from .cells import CellSet, offsets_of, per_cell_count, unpack_bits

__all__ = ["Regions"]


class Regions:
    """Activation regions of a network on a domain.

    Attributes (``n`` regions, input dimension ``d``, ``k`` outputs):

    - ``patterns``: ``(n, n_units)`` bool, the state of every unit (True = on; in a max layer,
      True for the winner of each group);
      ``packed_patterns`` the same through ``np.packbits`` (one row of bytes per region).
    - ``interior_points``: ``(n, d)``, a point inside each region.
    - ``bounded``: ``(n,)`` bool; ``volumes``: ``(n,)`` (``inf`` when unbounded).
    - ``vertex_offsets``, ``vertices``: the vertices of each bounded region (none for unbounded).
    - ``facet_offsets``, ``facet_equations`` ``(F, d + 1)`` rows ``[a | b]`` with ``a x + b <= 0``
      on the region and ``|a| = 1``; ``facet_layers``, ``facet_units``: where each facet comes
      from, ``(layer, unit)`` for a network unit (in a max layer, the argument tied with the
      winner there), ``(-1, row)`` for a row of the domain's ``A``.
    - ``jacobians`` ``(n, k, d)`` and ``offsets`` ``(n, k)``: the network is
      ``y = jacobians[i] @ x + offsets[i]`` on region ``i``.
    - ``complete``, ``stop_reason``: whether the run finished, and if not why
      (``"max_regions"``, ``"time_limit"``, ``"interrupted"``); ``seconds``, ``exact_calls``.
    - ``cells``: the underlying cell complex (generators with incidence), one cell per region for
      bounded domains; ``cell_region`` maps cells to regions (pieces of one region on unbounded
      domains).
    """

    def __init__(self, network, domain, *, packed_patterns, interior_points, bounded, volumes,
                 vertex_offsets, vertices, facet_offsets, facet_equations, facet_layers,
                 facet_units, jacobians, offsets, cells, cell_region, complete=True,
                 roots, stop_reason=None, seconds=0.0, exact_calls=0):
        self.network = network
        self.domain = domain
        self.packed_patterns = packed_patterns
        self.interior_points = interior_points
        self.bounded = bounded
        self.volumes = volumes
        self.vertex_offsets = vertex_offsets
        self.vertices = vertices
        self.facet_offsets = facet_offsets
        self.facet_equations = facet_equations
        self.facet_layers = facet_layers
        self.facet_units = facet_units
        self.jacobians = jacobians
        self.offsets = offsets
        self.cells = cells
        self.cell_region = cell_region
        self.roots = roots
        self.complete = complete
        self.stop_reason = stop_reason
        self.seconds = seconds
        self.exact_calls = exact_calls
        self._lookup = None

    def __len__(self) -> int:
        return len(self.packed_patterns)

    def __repr__(self) -> str:
        tail = "" if self.complete else f", incomplete: {self.stop_reason}"
        return (f"Regions({len(self)} regions, {int(self.bounded.sum())} bounded, "
                f"d={self.network.input_dim}{tail})")

    @functools.cached_property
    def patterns(self) -> np.ndarray:
        """``(n, n_units)`` bool: the state of every two-state unit (True = on)."""
        return unpack_bits(self.packed_patterns, self.network.n_units)

    @property
    def dim(self) -> int:
        return self.network.input_dim

    def vertices_of(self, i: int) -> np.ndarray:
        """The vertices of region ``i`` (empty if it is unbounded)."""
        return self.vertices[self.vertex_offsets[i]: self.vertex_offsets[i + 1]]

    def facets_of(self, i: int):
        """``(equations, layers, units)`` of the facets of region ``i``."""
        s = slice(self.facet_offsets[i], self.facet_offsets[i + 1])
        return self.facet_equations[s], self.facet_layers[s], self.facet_units[s]

    @property
    def constraint_ids(self):
        return self.roots.ids

    def pattern_of(self, i: int) -> list:
        """The pattern of region ``i`` as one bool array per layer, over the layer's units with
        several states (``network.split_units[l]``; empty for identity layers)."""
        net = self.network
        out = []
        for l, units in enumerate(net.split_units):
            o = net.unit_offsets[l]
            out.append(self.patterns[i, o: o + len(units)].copy())
        return out

    def locate(self, X) -> np.ndarray:
        """Index of the region holding each row of ``X``; ``-1`` outside the domain.

        A point is matched by its activation pattern (a unit is on where its pre-activation is
        > 0), so a point on a boundary goes to the region on the 'off' side of it. A pattern
        that matches no region comes from rounding: the point is within rounding of a boundary,
        or on a region where some unit is identically zero but evaluates to a few ulps. Such a
        point goes to the region whose facet inequalities it violates least, if that is within
        ``1e-9`` of the coordinates' scale; otherwise (or in an incomplete result) ``-1``.
        """
        X = self.network._check_inputs(X)
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

    # -- analyses ------------------------------------------------------------------------------
    def faces(self, min_dim: int = 0):
        """The faces of the subdivision of the domain into these regions (vertices, edges, ...,
        facets), each once, with the regions around it: a :class:`~regionenum.Faces`."""
        from .complex import compute_faces
        return compute_faces(self, min_dim)

    def adjacency_graph(self):
        """A ``networkx.Graph`` with one node per region and one edge per pair of regions
        sharing a facet (a (d-1)-dimensional face).

        Node attributes: ``pattern``, ``interior_point``, ``volume``, ``bounded`` and
        ``boundary_facets`` (``(domain rows, volume)`` of each facet on the domain's boundary).
        Edge attributes: ``units``, a tuple of the ``(layer, unit)`` pairs whose state flips
        across the facet; ``tight``, the same for all units zero on it (more where hyperplanes
        coincide, or where a unit is identically zero); ``volume``, its (d-1)-dimensional volume.
        """
        from .complex import adjacency_graph
        return adjacency_graph(self)

    def linear_regions(self):
        """Group adjacent regions on which the output is the same affine map: a
        :class:`~regionenum.LinearRegions` (``count``, ``region_group``, each group's map)."""
        from .linear import linear_regions
        return linear_regions(self)

    def decision_regions(self):
        """For a classifier (two or more outputs): where each output is the largest, as a
        :class:`~regionenum.DecisionRegions` with the decision boundary and its graph."""
        from .decision import decision_regions
        return decision_regions(self)

    def plot(self, ax=None, **options):
        """Draw the regions with matplotlib (1-D or 2-D); see :func:`regionenum.plotting.plot_regions`
        for ``color_by`` ("region", "linear", "output", "class") and the other options."""
        from .plotting import plot_regions
        return plot_regions(self, ax, **options)

    def save(self, path) -> None:
        """Write everything to ``path`` (``.npz`` or ``.json``); read it back with
        :func:`regionenum.load_regions`."""
        from .export import save_regions
        save_regions(self, path)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def build(cls, network, domain, roots, stats) -> "Regions":
        """Assemble the result from the engine's finished cells (see ``engine``)."""
        d = network.input_dim
        if stats.finished:
            cells = CellSet.concat([c for c, _ in stats.finished])
            J_out = np.concatenate([j for _, j in stats.finished])
        else:
            cells = roots.cells.take(np.zeros(0, np.int64))
            J_out = np.zeros((0, d + 1, network.output_dim))
        packed = cells.packed
        order = (np.argsort(np.ascontiguousarray(packed).view(f"V{packed.shape[1]}").ravel(),
                            kind="stable") if packed.shape[1] else np.arange(len(cells)))
        cells, J_out, packed = cells.take(order), J_out[order], packed[order]
        ids = roots.ids
        flags = facet_flags(cells.gen_off, cells.gens, cells.inc_off, cells.inc, cells.con_off,
                            cells.con_ids)
        real = flags & ~ids.is_artificial(cells.con_ids) & (cells.con_ids != ids.infinity)

        is_point = cells.gens[:, 0] > 0
        bounded = cells.bounded()
        volumes = np.full(len(cells), np.inf)
        if bounded.any():
            b = cells.take(np.flatnonzero(bounded))
            volumes[bounded] = polytope_volumes(b.gen_off, b.gens, b.inc_off, b.inc)
        geometry = dict(
            interior_points=_interior_points(cells), bounded=bounded, volumes=volumes,
            vertex_offsets=offsets_of(per_cell_count(is_point, cells.gen_off) * bounded),
            vertices=cells.gens[is_point & np.repeat(bounded, np.diff(cells.gen_off)), 1:],
            facet_offsets=offsets_of(per_cell_count(real, cells.con_off)),
            facet_rows=np.flatnonzero(real))
        first = np.arange(len(cells))
        if roots.merge_pieces and len(cells):
            first, geometry = _merge_pieces(cells, packed, geometry, real, ids)
        cell_region = np.cumsum(np.isin(np.arange(len(cells)), first)) - 1

        fq = geometry.pop("facet_rows")
        rows = cells.con_rows[fq]
        norms = np.linalg.norm(rows[:, 1:], axis=1, keepdims=True)
        equations = np.concatenate([rows[:, 1:], rows[:, :1]], axis=1) / np.where(norms > 0, norms, 1)
        layers, units = _facet_sources(cells.con_ids[fq], ids, network)
        Jf = J_out[first]
        return cls(network, domain, packed_patterns=packed[first], **geometry,
                   facet_equations=equations, facet_layers=layers, facet_units=units,
                   jacobians=np.ascontiguousarray(Jf[:, 1:, :].transpose(0, 2, 1)),
                   offsets=Jf[:, 0, :].copy(), cells=cells, cell_region=cell_region, roots=roots,
                   complete=stats.complete, stop_reason=stats.stop_reason,
                   seconds=stats.seconds, exact_calls=stats.exact_calls)


def _merge_pieces(cells: CellSet, packed, geometry, real, ids):
    """Regions of an unbounded domain come in pieces (one per orthant they meet), sorted so a
    region's pieces are consecutive: merge each run of equal patterns into one region."""
    starts = np.flatnonzero(np.r_[True, np.any(packed[1:] != packed[:-1], axis=1)])
    groups = np.split(np.arange(len(cells)), starts[1:])
    d = cells.gens.shape[1] - 1
    interior, bounded, volumes, verts, facets = [], [], [], [], []
    for g in groups:
        is_bounded = bool(geometry["bounded"][g].all())
        v = _merged_vertices(cells, g, ids) if is_bounded else np.zeros((0, d))
        bounded.append(is_bounded)
        volumes.append(geometry["volumes"][g].sum())
        verts.append(v)
        interior.append(v.mean(axis=0) if is_bounded and len(g) > 1
                        else geometry["interior_points"][g[0]])
        facets.append(_merged_facets(cells, g, real))
    merged = dict(interior_points=np.array(interior).reshape(-1, d), bounded=np.array(bounded),
                  volumes=np.array(volumes), vertex_offsets=offsets_of([len(v) for v in verts]),
                  vertices=np.concatenate(verts), facet_offsets=offsets_of([len(f) for f in facets]),
                  facet_rows=np.concatenate(facets))
    return starts, merged


def _interior_points(cells: CellSet) -> np.ndarray:
    """Mean of a cell's points plus mean of its rays: a strictly positive combination of all
    generators, hence inside the cell."""
    if not len(cells):
        return np.zeros((0, cells.gens.shape[1] - 1))
    is_point = cells.gens[:, 0] > 0
    starts = cells.gen_off[:-1]
    n_pts = np.add.reduceat(is_point.astype(float), starts)
    n_rays = np.add.reduceat((~is_point).astype(float), starts)
    x = cells.gens[:, 1:]
    pts = np.add.reduceat(x * is_point[:, None], starts, axis=0) / n_pts[:, None]
    rays = np.add.reduceat(x * ~is_point[:, None], starts, axis=0) / np.maximum(n_rays, 1)[:, None]
    return pts + rays


def _merged_vertices(cells: CellSet, group, ids) -> np.ndarray:
    """Vertices of the union of a region's pieces: their points, less those that lie on an
    artificial cut only (dominated: another point is tight on all their real constraints)."""
    found = {}
    for c in group:
        for gi in range(cells.gen_off[c], cells.gen_off[c + 1]):
            inc = cells.inc[cells.inc_off[gi]: cells.inc_off[gi + 1]]
            key = frozenset(int(i) for i in inc if not ids.is_artificial(i))
            found.setdefault(key, cells.gens[gi, 1:])
    keys = list(found)
    keep = [found[k] for k in keys if not any(k < other for other in keys)]
    return np.array(keep)


def _merged_facets(cells: CellSet, group, real) -> np.ndarray:
    """Row indices into the cells' constraint lists of a region's facets, one per constraint id."""
    out, seen = [], set()
    for c in group:
        for q in range(cells.con_off[c], cells.con_off[c + 1]):
            if real[q] and cells.con_ids[q] not in seen:
                seen.add(cells.con_ids[q])
                out.append(q)
    return np.array(out, np.int64)


def _facet_sources(con_ids, ids, network):
    """(layer, unit) of each constraint id; (-1, row) for domain rows. A tie of a max group
    names the argument the winner ties with there."""
    layers = np.full(len(con_ids), -1, np.int64)
    units = con_ids.astype(np.int64).copy()
    is_unit = con_ids >= ids.unit_start
    u = con_ids[is_unit] - ids.unit_start
    tie = u >= network.n_units
    u[tie] = network.tie_units[u[tie] - network.n_units, 1]
    layers[is_unit] = network.unit_layer[u]
    units[is_unit] = network.unit_index[u]
    return layers, units
