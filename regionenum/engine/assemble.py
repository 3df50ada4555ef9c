"""Assembling a :class:`~regionenum.Regions` from the cells a run kept.

Regions are sorted by activation pattern (unit 0 of the first two-state layer most significant,
on after off), so equal inputs give equal results in the same order, however the cells were
found (serially, by workers, by batches of any size).
"""
from __future__ import annotations

import numpy as np

from ..core.arrays import batches, offsets_of, pattern_order, per_cell_count, run_starts
from ..core.memory import release_free_memory
from ..core.threads import map_in_threads
from ..result import Regions
from .cells import TRIM_BYTES, CellComplex, CellSet
from .exact_vertices import tighten_loose_generators
from .kernels.blocks import generator_means
from .kernels.equations import unit_equations
from .kernels.lattice import facets_and_volumes, fill_cell_volumes

__all__ = ["GATHER_FROM", "SECONDS_PER_GENERATOR", "CellFacets", "assemble_regions", "facet_equations"]

#: What :func:`assemble_regions` costs per kept generator (a vertex or ray of a kept cell), set
#: generously: 0.34-0.62 microseconds were measured on the suite's 2-D to 4-D nets (2-core AMD
#: EPYC VM; benchmarks/README). A run with a time limit stops when the estimate for what it
#: keeps would not fit, so that the result is assembled within the limit.
SECONDS_PER_GENERATOR = 0.75e-6
#: Kept cells of at least this many bytes are gathered into pattern order array by array, the
#: batches freed as they go (:meth:`CellSet.gather <regionenum.engine.cells.CellSet.gather>`);
#: fewer are concatenated and taken in one pass, which made the digits plane's and r2_small's
#: enumerations (0.7 and 1.5 MB of cells) 0.93-0.98 of the time in in-process A/Bs, and r2_mid's
#: (14 MB) 0.95-1.02 for some 15 MB more at its peak.
GATHER_FROM = 4 << 20


def assemble_regions(network, domain, roots, tally) -> Regions:
    """The :class:`~regionenum.Regions` of a finished run: the kept cells sorted by pattern, their
    geometry (interior points, volumes, vertices, facets) and output maps; on unbounded domains
    the pieces of each region merged."""
    d = network.input_dim
    if roots is None:  # stopped (a budget, Ctrl-C) while the domain's root cells were built
        return _nothing_found(network, domain, tally)
    parts = [c for c, _, _ in tally.finished] or [roots.cells.take(np.zeros(0, np.int64))]
    packed = np.concatenate([c.packed for c in parts])
    order = pattern_order(packed)
    if tally.finished:
        J_out = np.concatenate([j for _, j, _ in tally.finished])[order]
        E_out = np.concatenate([e for _, _, e in tally.finished])[order]
    else:
        J_out = np.zeros((0, d + 1, network.output_dim))
        E_out = np.zeros((0, 1, network.output_dim))
    tally.finished.clear()  # the run's cells are gathered into one set, and freed as they are
    cells = CellSet.join(parts, order, gather_from=GATHER_FROM)
    tighten_loose_generators(cells, network, roots.constraints)
    _hand_back_freed_memory(cells)
    packed = cells.packed
    ids = roots.constraints.ids
    arrays, chunks = cells.arrays, _chunks(len(cells))
    flags, volumes = map(np.concatenate, zip(*map_in_threads(lambda c: facets_and_volumes(arrays, *c), chunks)))
    fill_cell_volumes(arrays, volumes, flags)
    real = flags & ~ids.is_artificial(cells.con_ids) & (cells.con_ids != ids.infinity)

    is_point = cells.gens[:, 0] > 0
    if is_point.all():  # a bounded domain: every cell bounded, its generators its vertices (a view)
        bounded, vertex_offsets, vertices = np.ones(len(cells), bool), cells.gen_off.copy(), cells.gens[:, 1:]
    else:  # the points of the bounded cells
        bounded = cells.bounded()
        vertex_offsets = offsets_of(per_cell_count(is_point, cells.gen_off) * bounded)
        vertices = cells.gens[is_point & np.repeat(bounded, np.diff(cells.gen_off)), 1:]
    geometry = dict(
        interior_points=generator_means(cells.gen_off, cells.gens), bounded=bounded,
        volumes=volumes, vertex_offsets=vertex_offsets, vertices=vertices,
        facet_offsets=offsets_of(per_cell_count(real, cells.con_off)),
        facet_rows=np.flatnonzero(real))
    if roots.merge_pieces and len(cells):  # each region's pieces, from its first
        first, geometry = _merge_pieces(cells, packed, geometry, real, ids)
        cell_region = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(cells))))
        packed, J_out, E_out = packed[first], J_out[first], E_out[first]
    else:  # a cell per region (whose patterns are the cells' own, not a copy)
        cell_region = np.arange(len(cells))
    _hand_back_freed_memory(cells)

    facets = CellFacets(cells, geometry.pop("facet_rows"), ids, network)
    return Regions(network, domain, packed_patterns=packed, **geometry, facet_source=facets,
                   jacobians=np.ascontiguousarray(J_out[:, 1:, :].transpose(0, 2, 1)),
                   offsets=J_out[:, 0, :].copy(), output_errors=E_out[:, 0, :].copy(),
                   complex=CellComplex(cells, cell_region, roots.constraints), **tally.outcome())


class CellFacets:
    """The regions' facets as rows of their cells' constraints (``rows``, indices into
    ``cells.con_rows``), made into the facets' equations and sources when first asked for: a
    result holds them as :class:`~regionenum.Regions` attributes read on demand. They would be
    a fifth of a 4-D result's memory (r4_small: 136 MB of 668, as large as the constraint rows
    they repeat) and a few per cent of a 2-D enumeration's time (r2_wide: 14 of 375 ms), and
    most uses of a result never read them.

    The equations are made from the cells' rows as they are when asked: a result mapped back to
    its own coordinates (:mod:`~regionenum.engine.rescaling`) has its rows rescaled in place, so
    they come out in the result's coordinates."""

    def __init__(self, cells: CellSet, rows, ids, network):
        self.cells, self.rows, self.ids, self.network = cells, rows, ids, network
        self._sources = None

    def equations(self) -> np.ndarray:
        """The facet equations (:func:`facet_equations` of the rows)."""
        return facet_equations(self.cells.con_rows, self.rows)

    def sources(self) -> tuple:
        """Each facet's ``(layer, unit)``, as two arrays (see :func:`_facet_sources`)."""
        if self._sources is None:
            self._sources = _facet_sources(self.cells.con_ids[self.rows], self.ids, self.network)
        return self._sources


def _hand_back_freed_memory(cells: CellSet) -> None:
    """Return the C heap's free memory to the system where ``cells`` are large (from
    :data:`~regionenum.engine.cells.TRIM_BYTES`): the assembly's temporaries under glibc's mmap
    threshold lie freed in the heap, where the result's next large arrays (mapped apart) do
    not reuse them, so they would add to the peak and stay with the process after the call
    (r4_small's enumeration: 85 to 105 MB at its end)."""
    if cells.nbytes >= TRIM_BYTES:
        release_free_memory()


def _nothing_found(network, domain, tally) -> Regions:
    """An incomplete result without regions, for a run stopped before it had cells (``tally``
    says how it stopped): no cell complex (the analyses need a complete result anyway)."""
    d, k = network.input_dim, network.output_dim
    return Regions(network, domain, packed_patterns=np.zeros((0, (network.n_units + 7) // 8), np.uint8),
                   interior_points=np.zeros((0, d)), bounded=np.zeros(0, bool), volumes=np.zeros(0),
                   vertex_offsets=np.zeros(1, np.int64), vertices=np.zeros((0, d)),
                   facet_offsets=np.zeros(1, np.int64), facet_equations=np.zeros((0, d + 1)),
                   facet_layers=np.zeros(0, np.int64), facet_units=np.zeros(0, np.int64),
                   jacobians=np.zeros((0, k, d)), offsets=np.zeros((0, k)), output_errors=np.zeros((0, k)),
                   complex=None, **tally.outcome())


#: Rows in one piece of work of :func:`facet_equations`.
_EQUATION_BLOCK = 1 << 16


def facet_equations(rows, which=None) -> np.ndarray:
    """Constraint rows ``(m, d + 1)`` over ``(t, x)`` (``row . (1, x) <= 0``), or the rows
    ``which`` (an index array) of them, as facet equations ``[a | c]`` with ``a . x + c <= 0``
    and ``|a| = 1`` (rows with ``a = 0`` are left as they are), each scaled by a power of two
    first (:func:`~regionenum.engine.kernels.equations.unit_equations`); blocks of rows are
    shared out among idle cores."""
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    which = np.arange(len(rows)) if which is None else np.asarray(which, dtype=np.int64)
    out = np.empty((len(which), rows.shape[1]))
    map_in_threads(lambda b: unit_equations(rows, which, out, *b), batches(len(which), _EQUATION_BLOCK))
    return out


#: Cells in one piece of work of the per-cell kernels (facet flags, volumes), which threads
#: share out (:func:`~regionenum.core.threads.map_in_threads`; each cell's answer is its own,
#: so they do not depend on the threads).
_CELL_CHUNK = 8192


def _chunks(n: int) -> list:
    """``(lo, hi)`` bounds of consecutive runs of at most :data:`_CELL_CHUNK` of ``n`` cells
    (one, perhaps empty, at least: the results are concatenated)."""
    return batches(n, _CELL_CHUNK) or [(0, 0)]


def _merge_pieces(cells: CellSet, packed, geometry, real, ids):
    """Regions of an unbounded domain come in pieces (one per orthant they meet), sorted so a
    region's pieces are consecutive: merge each run of equal patterns into one region."""
    starts = np.flatnonzero(run_starts(packed))
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
    names the argument the winner ties with there. Read off a table per id (one gather per
    facet, where masks and several passes over millions of facets took tens of
    milliseconds)."""
    layer = np.full(ids.end, -1, np.int64)
    unit = np.arange(ids.end, dtype=np.int64)
    u = np.arange(ids.end - ids.unit_start)
    tie = u >= network.n_units
    u[tie] = network.tie_units[u[tie] - network.n_units, 1]
    layer[ids.unit_start:] = network.unit_layer[u]
    unit[ids.unit_start:] = network.unit_index[u]
    return layer[con_ids], unit[con_ids]
