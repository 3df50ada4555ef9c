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

from ..core.exact import ExactNetwork, kernel_vector

__all__ = ["ExactGeometry"]


class ExactGeometry:
    """Exact vertices and output maps of the cells of a :class:`~regionenum.Regions`."""

    def __init__(self, regions):
        self.regions = regions
        self.net = ExactNetwork(regions.network)
        self.oracle = regions.complex.constraints.oracle(self.net, [], regions.cells.packed)
        self._points = {}  # generator -> its exact point, asked for again by several checks

    def generator(self, g: int):
        """Generator ``g`` of the cells as an exact homogeneous integer vector ``(t, x)``
        (``t > 0`` for a point, ``t = 0`` for a ray), in the direction of the float one."""
        cells = self.regions.cells
        c = int(np.searchsorted(cells.gen_off, g, side="right") - 1)
        inc = cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]]
        v = kernel_vector([self.oracle.row(c, int(cid)) for cid in inc], cells.gens.shape[1])
        approx = sum(float(Fraction(a, max(abs(x) for x in v) or 1)) * b
                     for a, b in zip(v, cells.gens[g]))
        return [-a for a in v] if approx < 0 else v

    def point(self, g: int) -> list:
        """Generator ``g`` (a point) as exact Fractions ``x``."""
        point = self._points.get(g)
        if point is None:
            v = self.generator(g)
            if v[0] == 0:
                raise ValueError(f"generator {g} is a ray, not a point")
            point = self._points[g] = [Fraction(a, v[0]) for a in v[1:]]
        return point

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
