"""The enumeration result: one row per activation region, in columnar arrays (like scipy.spatial).

Ragged per-region data (vertices, facets) is stored CSR-style: region ``i`` owns rows
``offsets[i]:offsets[i + 1]``. Regions are sorted by activation pattern (unit 0 of the first
two-state layer most significant, on after off), so equal inputs give equal results.
"""
from __future__ import annotations

import numpy as np

from ._kernels import facet_flags, polytope_volumes
from .cells import CellSet

__all__ = ["Regions"]


class Regions:
    """Activation regions of a network on a domain.

    Attributes (``n`` regions, input dimension ``d``, ``k`` outputs):

    - ``patterns``: ``(n, n_units)`` bool, the state of every two-state unit (True = on).
    - ``interior_points``: ``(n, d)``, a point inside each region.
    - ``bounded``: ``(n,)`` bool; ``volumes``: ``(n,)`` (``inf`` when unbounded).
    - ``vertex_offsets``, ``vertices``: the vertices of each bounded region (none for unbounded).
    - ``facet_offsets``, ``facet_equations`` ``(F, d + 1)`` rows ``[a | b]`` with ``a x + b <= 0``
      on the region and ``|a| = 1``; ``facet_layers``, ``facet_units``: where each facet comes
      from, ``(layer, unit)`` for a network unit, ``(-1, row)`` for a row of the domain's ``A``.
    - ``jacobians`` ``(n, k, d)`` and ``offsets`` ``(n, k)``: the network is
      ``y = jacobians[i] @ x + offsets[i]`` on region ``i``.
    - ``complete``, ``stop_reason``: whether the run finished, and if not why
      (``"max_regions"``, ``"time_limit"``, ``"interrupted"``); ``seconds``, ``exact_calls``.
    - ``cells``: the underlying cell complex (generators with incidence), one cell per region for
      bounded domains; ``cell_region`` maps cells to regions (pieces of one region on unbounded
      domains).
    """

    def __init__(self, network, domain, *, patterns, interior_points, bounded, volumes,
                 vertex_offsets, vertices, facet_offsets, facet_equations, facet_layers,
                 facet_units, jacobians, offsets, cells, cell_region, complete=True,
                 stop_reason=None, seconds=0.0, exact_calls=0):
        self.network = network
        self.domain = domain
        self.patterns = patterns
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
        self.complete = complete
        self.stop_reason = stop_reason
        self.seconds = seconds
        self.exact_calls = exact_calls
        self._lookup = None

    def __len__(self) -> int:
        return len(self.patterns)

    def __repr__(self) -> str:
        tail = "" if self.complete else f", incomplete: {self.stop_reason}"
        return (f"Regions({len(self)} regions, {int(self.bounded.sum())} bounded, "
                f"d={self.network.input_dim}{tail})")

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

    def pattern_of(self, i: int) -> list:
        """The pattern of region ``i`` as one bool array per layer (empty for identity layers)."""
        net = self.network
        out = []
        for l, layer in enumerate(net.layers):
            if layer.activation.splits:
                o = net.unit_offsets[l]
                out.append(self.patterns[i, o: o + layer.width].copy())
            else:
                out.append(np.zeros(0, bool))
        return out

    def locate(self, X) -> np.ndarray:
        """Index of the region holding each row of ``X``; ``-1`` outside the domain.

        A point is matched by its activation pattern (a unit is on where its pre-activation is
        > 0), so a point on a boundary goes to the region on the 'off' side of it; points within
        rounding of a boundary may go to either neighbour, and an unmatched pattern (possible
        only there, or in an incomplete result) gives ``-1``.
        """
        X = self.network._check_inputs(X)
        if self._lookup is None:
            self._lookup = {row.tobytes(): i for i, row in enumerate(np.packbits(self.patterns, axis=1))}
        keys = np.packbits(self.network.pattern_bits(X), axis=1)
        inside = self.domain.contains(X)
        return np.array([self._lookup.get(k.tobytes(), -1) if ok else -1
                         for k, ok in zip(keys, inside)], dtype=np.int64)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def build(cls, network, domain, roots, stats) -> "Regions":
        """Assemble the result from the engine's finished cells (see ``engine``)."""
        d = network.input_dim
        k = network.output_dim
        if stats.finished:
            cells = CellSet.concat([c for c, _ in stats.finished])
            J_out = np.concatenate([j for _, j in stats.finished])
        else:
            cells = CellSet.concat([roots.cells.take(np.zeros(0, np.int64))])
            J_out = np.zeros((0, d + 1, k))
        ids = roots.ids
        flags = facet_flags(cells.gen_off, cells.gens, cells.inc_off, cells.inc, cells.con_off,
                            cells.con_ids)
        real = flags & ~ids.is_artificial(cells.con_ids) & (cells.con_ids != ids.infinity)

        packed = np.packbits(cells.patterns, axis=1)
        order = np.lexsort(packed.T[::-1]) if packed.shape[1] else np.arange(len(cells))
        if roots.merge_pieces and len(cells):
            sorted_packed = packed[order]
            new_group = np.ones(len(order), bool)
            new_group[1:] = np.any(sorted_packed[1:] != sorted_packed[:-1], axis=1)
            groups = np.split(order, np.flatnonzero(new_group)[1:])
        else:
            groups = [order[i: i + 1] for i in range(len(order))]
        region_of_cell = np.empty(len(cells), np.int64)
        for r, g in enumerate(groups):
            region_of_cell[g] = r

        cell_points = cells.gens[:, 0] > 0
        cell_bounded = ~np.logical_or.reduceat(~cell_points, cells.gen_off[:-1]) \
            if len(cells) else np.zeros(0, bool)
        cell_volumes = np.full(len(cells), np.inf)
        if cell_bounded.any():
            b = cells.take(np.flatnonzero(cell_bounded))
            cell_volumes[cell_bounded] = polytope_volumes(b.gen_off, b.gens, b.inc_off, b.inc)
        interior = _interior_points(cells)

        n = len(groups)
        first = np.array([g[0] for g in groups], np.int64)
        bounded = np.array([cell_bounded[g].all() for g in groups], bool)
        volumes = np.array([cell_volumes[g].sum() for g in groups]) if n else np.zeros(0)
        vert_lists, facet_lists = [], []
        for g, is_bounded in zip(groups, bounded):
            vert_lists.append(_merged_vertices(cells, g, ids) if is_bounded else np.zeros((0, d)))
            facet_lists.append(_merged_facets(cells, g, real))
        interior_points = interior[first].copy()
        for r, g in enumerate(groups):
            if len(g) > 1 and bounded[r]:
                interior_points[r] = vert_lists[r].mean(axis=0)

        vertex_offsets = np.zeros(n + 1, np.int64)
        np.cumsum([len(v) for v in vert_lists], out=vertex_offsets[1:])
        facet_offsets = np.zeros(n + 1, np.int64)
        np.cumsum([len(f) for f in facet_lists], out=facet_offsets[1:])
        fq = np.concatenate(facet_lists) if n else np.zeros(0, np.int64)
        rows = cells.con_rows[fq]
        norms = np.linalg.norm(rows[:, 1:], axis=1, keepdims=True)
        equations = np.concatenate([rows[:, 1:], rows[:, :1]], axis=1) / np.where(norms > 0, norms, 1)
        layers, units = _facet_sources(cells.con_ids[fq], ids, network)

        Jf = J_out[first]
        return cls(network, domain,
                   patterns=cells.patterns[first], interior_points=interior_points,
                   bounded=bounded, volumes=volumes, vertex_offsets=vertex_offsets,
                   vertices=np.concatenate(vert_lists) if n else np.zeros((0, d)),
                   facet_offsets=facet_offsets, facet_equations=equations,
                   facet_layers=layers, facet_units=units,
                   jacobians=np.ascontiguousarray(Jf[:, 1:, :].transpose(0, 2, 1)),
                   offsets=Jf[:, 0, :].copy(), cells=cells, cell_region=region_of_cell,
                   complete=stats.complete, stop_reason=stats.stop_reason,
                   seconds=stats.seconds, exact_calls=stats.exact_calls)


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
    if len(group) == 1:
        c = group[0]
        return cells.gens[cells.gen_off[c]: cells.gen_off[c + 1], 1:].copy()
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
    """(layer, unit) of each constraint id; (-1, row) for domain rows."""
    layers = np.full(len(con_ids), -1, np.int64)
    units = con_ids.astype(np.int64).copy()
    is_unit = con_ids >= ids.unit_start
    u = con_ids[is_unit] - ids.unit_start
    offsets = np.array([network.unit_offsets[l] for l in network.split_layers], np.int64)
    which = np.searchsorted(offsets, u, side="right") - 1
    layers[is_unit] = np.array(network.split_layers, np.int64)[which] if len(u) else []
    units[is_unit] = u - offsets[which] if len(u) else []
    return layers, units
