"""The exact changes of coordinates the engine runs a problem in, and their undoing on a result.

Two, both by powers of two, so that nothing is rounded:

- **Inputs.** A generator's rounding bound is one number for all its coordinates (a max-norm
  distance), and a value's bound multiplies it by the sum of the row's entries. On a bounded
  domain whose coordinates differ in spread by orders (raw physical units: metres beside
  radians) the thin coordinates' rows are large while the wide coordinates' rounding sets the
  generators' bounds, so bounds grow by about the spreads' ratio at every crossing, and signs
  that float64 settles on the same problem in balanced coordinates fall to exact arithmetic (a
  box stretched by ``2^-20`` and ``2^20``: every sign). Such a domain is run with each
  coordinate ``x_k = s_k y_k``, ``s_k`` the power of two that brings its spread into one binade
  for all (that of the spreads' geometric mean, so that volumes keep their size), and the first
  layer's columns multiplied by ``s_k``: the same network on the same domain, exactly. It is
  done where a model of the bounds' growth (:func:`bound_growth`) gains :data:`GAIN` or more:
  a thin coordinate far from the origin has its rounding set by its distance, not its spread,
  and rescaling it gains nothing.
- **Outputs.** The network's hidden rows may be brought near magnitude 1
  (:func:`~regionenum.core.balance.for_float_stages`); the outputs then come out ``2^shift``
  times the network's.

:meth:`Rescaled.back` maps a result found in those coordinates to the user's: vertices,
interior points, volumes, facets, affine maps and the cell complex, exactly but for the
renormalised facet equations; rounding-error bounds grow to stay bounds.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.balance import for_float_stages
from ..core.domain import Box, Polytope
from ..core.network import Network
from ..core.tolerances import ETA
from .assemble import facet_equations
from .cells import CellComplex, Constraints

__all__ = ["GAIN", "Rescaled", "bound_growth", "input_scales"]

#: A bounded domain is run in rescaled coordinates where :func:`bound_growth` is this many times
#: smaller there. Below, the result is left bit for bit as it was.
GAIN = 16.0


class Rescaled:
    """A problem (``network`` on ``domain``, both checked) as the engine runs it.

    Attributes
    ----------
    network, domain
        The problem as given.
    scales : ndarray or None
        ``x = scales * y``: the input coordinates ``y`` the engine runs in (powers of two), or
        None when it runs in ``x``.
    run_network, run_domain
        The network and domain in ``y``.
    floats, shift
        The network the float64 stages read (``run_network`` balanced) and the power of two its
        outputs are of the network's.
    """

    def __init__(self, network: Network, domain: Polytope):
        self.network, self.domain = network, domain
        self.scales = input_scales(network, domain)
        self.run_network, self.run_domain = network, domain
        if self.scales is not None:
            self.run_network, self.run_domain = _scaled_inputs(network, domain, self.scales)
        self.floats, self.shift = for_float_stages(self.run_network)

    def back(self, regions):
        """``regions``, found on ``run_network`` and ``run_domain`` with the float stages'
        outputs, in the problem's own coordinates and outputs (changed in place, returned)."""
        if self.shift:
            regions.jacobians = np.ldexp(regions.jacobians, -self.shift)
            regions.offsets = np.ldexp(regions.offsets, -self.shift)
            regions.output_errors = np.ldexp(regions.output_errors, -self.shift) + (regions.dim + 2) * ETA
        if self.scales is not None:
            _inputs_back(regions, self.scales)
        regions.network, regions.domain = self.network, self.domain
        return regions


def input_scales(network: Network, domain: Polytope):
    """The powers of two ``s`` (``x = s * y``) that bring the spread of every coordinate of a
    bounded ``domain`` of two or more dimensions into the binade of their geometric mean, where
    that makes :func:`bound_growth` at least :data:`GAIN` times smaller and every entry of the
    first layer and the domain stays exact in ``y``; else None."""
    if domain.dim < 2 or not domain.is_bounded:
        return None
    lo, hi = domain.bounds
    spread, reach = hi - lo, np.maximum(np.abs(lo), np.abs(hi))
    if not np.all(np.isfinite(spread)):  # a spread beyond float64's range: the range check refuses it
        return None
    binade = np.frexp(spread)[1]
    scales = np.ldexp(1.0, binade - int(np.round(binade.mean())))
    if not np.all((scales > 0) & (scales < np.inf)):  # spreads too far apart: a power of two beyond float64
        return None
    if not bound_growth(spread / scales, reach / scales) * GAIN <= bound_growth(spread, reach):
        return None
    corners = (domain.lo, domain.hi) if isinstance(domain, Box) else ()
    exact = _exact(network.layers[0].W, scales) and _exact(domain.A, scales)
    return scales if exact and all(_exact(c, 1 / scales) for c in corners) else None


def bound_growth(spread, reach) -> float:
    """How much a crossing's rounding bound grows, up to a common factor, on a box of these
    coordinate spreads and largest magnitudes, for a network whose first layer suits the box
    (its columns in proportion to ``1 / spread``): a generator's bound is set by the largest
    coordinate's rounding, ``max(reach)``, and a value's bound multiplies it by its row's
    entries, ``sum(1 / spread)``; ``inf`` where that overflows (a strip 1e200 long and 1e-200
    wide)."""
    with np.errstate(over="ignore"):
        return float(np.sum(1.0 / spread) * np.max(reach))


def _exact(a, factors) -> bool:
    """Whether ``a * factors`` (powers of two, along the last axis) loses no bit and stays finite."""
    with np.errstate(over="ignore", under="ignore"):
        scaled = a * factors
        return bool(np.all(np.isfinite(scaled)) and np.array_equal(scaled / factors, a))


def _scaled_inputs(network: Network, domain: Polytope, scales):
    """The network and domain in ``y = x / scales``."""
    first = network.layers[0]
    run_network = Network([replace(first, W=first.W * scales), *network.layers[1:]])
    if isinstance(domain, Box):
        return run_network, Box(domain.lo / scales, domain.hi / scales)
    return run_network, Polytope(domain.A * scales, domain.b)


def _inputs_back(regions, scales) -> None:
    """Map ``regions`` from ``y`` to ``x = scales * y`` in place. Coordinates, volumes, Jacobians
    and constraint rows are multiplied or divided by powers of two, exactly; a bound in a
    max-norm (a generator's, the coordinate scale ``ref``) grows by the largest factor, a bound
    on a sum over a row's entries (a constraint row's, a map's) by the largest divisor. Facet
    equations made already are renormalised; those made on demand come from the rows scaled
    here."""
    grow, shrink = max(1.0, scales.max()), max(1.0, 1.0 / scales.min())
    regions.interior_points = regions.interior_points * scales
    views = False  # whether the vertices are a view of the cells' generators
    if isinstance(regions.complex, CellComplex):
        cells, constraints = regions.complex.cells, regions.complex.constraints
        views = np.may_share_memory(regions.vertices, cells.gens)  # as on bounded domains
        cells.gens[:, 1:] *= scales  # in place: the result's arrays are its own, and large
        cells.gen_err *= grow
        cells.con_rows[:, 1:] /= scales
        cells.con_err *= shrink
        fixed = {cid: np.concatenate([row[:1], row[1:] / scales]) for cid, row in constraints.fixed_rows.items()}
        regions.complex = CellComplex(cells, regions.complex.cell_region,
                                      Constraints(constraints.ids, fixed, constraints.ref * grow))
    if not views:
        regions.vertices = regions.vertices * scales
    # by the exponents' sum: their product alone may leave float64's range where the volumes do not
    regions.volumes = np.ldexp(regions.volumes, int(np.frexp(scales)[1].sum() - len(scales)))
    if "facet_equations" in vars(regions):  # made already (not when made from the rows on demand)
        a, c = regions.facet_equations[:, :-1], regions.facet_equations[:, -1:]
        regions.facet_equations = facet_equations(np.concatenate([c, a / scales], axis=1))
    regions.jacobians = regions.jacobians / scales
    regions.output_errors = regions.output_errors * shrink
