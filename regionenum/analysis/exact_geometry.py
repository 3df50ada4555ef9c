"""Exact rational geometry of an enumerated result: vertices, output values and maps.

Every vertex of a region is the kernel of the exact integer rows of the constraints tight at it
(domain rows, and units' hyperplanes through the region's pattern; see :mod:`regionenum.core.exact`),
so it is a rational point, computed here with Python integers. The network's output on a region
is an exact integer map over ``(t, x)`` with a common scale. Verification, certificates and the
level sets' exact signs read it.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.arrays import ranges
from ..core.exact import ExactNetwork, kernel_vector, oriented

__all__ = ["ExactGeometry"]


class ExactGeometry:
    """Exact vertices and output maps of the cells of a :class:`~regionenum.Regions`."""

    def __init__(self, regions):
        self.regions = regions
        self.net = ExactNetwork(regions.network)
        self.oracle = regions.complex.constraints.oracle(self.net, [], regions.cells.packed)
        self._generators = {}  # generator -> its exact vector, asked for again by several checks
        self._vertices = {}  # (tight ids, the pattern bits their rows read) -> exact point
        net = regions.network
        ids = regions.complex.constraints.ids
        # for each constraint id: how many leading pattern bits its exact row depends on
        reads = [0] * ids.unit_start + [net.unit_offsets[l] for l in net.unit_layer]
        reads += [net.unit_offsets[net.unit_layer[c]] for c, _ in net.tie_units]
        self._reads = np.array(reads, np.int64)
        self._unit_start = ids.unit_start
        self._n_bits = 8 * regions.cells.packed.shape[1]

    def generator(self, g: int, cell: int | None = None):
        """Generator ``g`` of the cells as an exact homogeneous integer vector ``(t, x)``
        (``t > 0`` for a point, ``t = 0`` for a ray), in the direction of the float one
        (``cell``: the cell it belongs to, when the caller knows)."""
        v = self._generators.get(g)
        if v is None:
            cells = self.regions.cells
            c = int(np.searchsorted(cells.gen_off, g, side="right") - 1) if cell is None else int(cell)
            v = self._generators[g] = self._shared(g, c, self._key(g, c))
        return v

    def generators(self, g0: int, g1: int, cell_of) -> list:
        """:meth:`generator` of each of the generators ``g0`` to ``g1 - 1``, ``cell_of`` their
        cells (an array), their keys among the points made for all of them at once (a key per
        point in Python took a tenth of a certificate's time)."""
        out = [self._generators.get(g) for g in range(g0, g1)]
        todo = [i for i, v in enumerate(out) if v is None]
        if todo:
            gens = g0 + np.array(todo, np.int64)
            owners = np.asarray(cell_of, np.int64)[todo]
            for i, g, c, key in zip(todo, gens.tolist(), owners.tolist(), self._keys(gens, owners)):
                self._generators[g] = out[i] = self._shared(g, c, key)
        return out

    def _shared(self, g: int, c: int, key):
        """Generator ``g`` of cell ``c``: the point computed for ``key`` if there is one, else the
        kernel of the cell's tight rows (kept for ``key``; None, a ray's, keeps nothing)."""
        v = None if key is None else self._vertices.get(key)
        if v is None:
            v = self._kernel(g, c)
            if key is not None:
                self._vertices[key] = v
        return v

    def _key(self, g: int, c: int):
        """:meth:`_keys` of one generator, in Python: a vertex asked for alone (level sets,
        verification) would pay for the arrays of a block (four times as long)."""
        cells = self.regions.cells
        if not cells.gens[g, 0] > 0:
            return None
        inc = cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]]
        reads = self._reads
        tight = inc.tolist()
        used = max([int(reads[cid]) if cid < len(reads) else 0 for cid in tight], default=0)
        read = bytearray(cells.packed[c].tobytes())
        whole = (used + 7) // 8
        if used % 8:  # the bits past those read: zero
            read[whole - 1] &= (0xFF << (8 - used % 8)) & 0xFF
        read[whole:] = bytes(len(read) - whole)
        for cid in tight:
            unit = cid - self._unit_start
            if 0 <= unit < used:  # a unit tight at the point (ties come after every unit)
                read[unit // 8] &= ~(0x80 >> (unit % 8)) & 0xFF
        return inc.tobytes(), bytes(read)

    def _keys(self, gens, cell_of) -> list:
        """Per generator of ``gens`` (of the cells ``cell_of``), what its point is computed once
        for (None for a ray): its tight ids, and the bits of its cell's pattern that their exact
        rows read, but for the bits of the units tight there. A point is shared by the cells
        around it, and computed once for those whose patterns agree on those bits: the network is
        continuous, so flipping those units' states (taken in layer order) changes each later row
        by multiples of their rows, which vanish at the point; the two cells' tight rows span the
        same space (the rows differ, their common zero does not)."""
        cells = self.regions.cells
        sel, off = ranges(cells.inc_off, gens)
        tight = cells.inc[sel].astype(np.int64)
        owner = np.repeat(np.arange(len(gens)), np.diff(off))
        reads = np.where(tight < len(self._reads), self._reads[np.minimum(tight, len(self._reads) - 1)], 0)
        used = np.zeros(len(gens), np.int64)
        np.maximum.at(used, owner, reads)
        read = np.arange(self._n_bits) < used[:, None]
        units = tight - self._unit_start  # (ties come after every unit: beyond the bits read)
        tight_unit = (units >= 0) & (units < used[owner])
        read[owner[tight_unit], units[tight_unit]] = False
        read = cells.packed[cell_of] & np.packbits(read, axis=1)
        is_point = (cells.gens[gens, 0] > 0).tolist()
        starts, ends = cells.inc_off[gens].tolist(), cells.inc_off[gens + 1].tolist()
        return [(cells.inc[a:b].tobytes(), row.tobytes()) if point else None
                for point, a, b, row in zip(is_point, starts, ends, read)]

    def _kernel(self, g: int, c: int):
        """The kernel of the exact rows of cell ``c``'s constraints tight at its generator ``g``,
        in the direction of the float one."""
        cells = self.regions.cells
        inc = cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]]
        bits = self.oracle.pattern_bits(c)
        return oriented(kernel_vector([self.oracle.row(c, int(cid), bits) for cid in inc], cells.gens.shape[1]),
                        cells.gens[g])

    def point(self, g: int, cell: int | None = None) -> list:
        """Generator ``g`` (a point) as exact Fractions ``x`` (``cell``: as in :meth:`generator`)."""
        v = self.generator(g, cell)
        if v[0] == 0:
            raise ValueError(f"generator {g} is a ray, not a point")
        return [Fraction(a, v[0]) for a in v[1:]]

    def output_rows(self, region: int):
        """The exact output map of ``region``: integer rows ``E`` (``(k + 1, d + 1)``) with
        ``y = E[1:] @ (t, x) / (E[0, 0] t)``."""
        return self.net.rows(len(self.regions.network.layers), self.regions.patterns[region])

    def outputs_at(self, region: int, g: int) -> list:
        """The exact outputs (Fractions) of the network at point generator ``g`` of ``region``."""
        E = self.output_rows(region)
        v = self.generator(g)
        scale = int(E[0, 0]) * v[0]
        return [Fraction(sum(int(a) * b for a, b in zip(row, v)), scale) for row in E[1:]]
