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
        self._reads = reads
        self._unit_start = ids.unit_start

    def generator(self, g: int, cell: int | None = None):
        """Generator ``g`` of the cells as an exact homogeneous integer vector ``(t, x)``
        (``t > 0`` for a point, ``t = 0`` for a ray), in the direction of the float one
        (``cell``: the cell it belongs to, when the caller knows)."""
        v = self._generators.get(g)
        if v is None:
            cells = self.regions.cells
            c = int(np.searchsorted(cells.gen_off, g, side="right") - 1) if cell is None else cell
            v = self._generators[g] = self._generator(g, c)
        return v

    def _generator(self, g: int, c: int):
        """The kernel of the exact rows tight at generator ``g`` of cell ``c``. A point is shared
        by the cells around it, and computed once for those whose patterns agree on every bit
        its tight rows read, except the bits of the units tight there: the network is continuous,
        so flipping those units' states (taken in layer order) changes each later row by
        multiples of their rows, which vanish at the point; the two cells' tight rows span the
        same space (the rows differ, their common zero does not)."""
        cells = self.regions.cells
        inc = cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]]
        key = None
        if cells.gens[g, 0] > 0:
            used = max((self._reads[cid] if cid < len(self._reads) else 0) for cid in inc)
            read = bytearray(cells.packed[c][: (used + 7) // 8])
            if used % 8:
                read[-1] &= (0xFF << (8 - used % 8)) & 0xFF
            for cid in inc.tolist():
                unit = cid - self._unit_start
                if 0 <= unit < used:  # a unit tight at the point (ties come after every unit)
                    read[unit // 8] &= ~(0x80 >> (unit % 8))
            key = (inc.tobytes(), bytes(read))
            v = self._vertices.get(key)
            if v is not None:
                return v
        bits = self.oracle.pattern_bits(c)
        v = oriented(kernel_vector([self.oracle.row(c, int(cid), bits) for cid in inc], cells.gens.shape[1]),
                     cells.gens[g])
        if key is not None:
            self._vertices[key] = v
        return v

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
