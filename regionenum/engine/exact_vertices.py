"""Float vertices replaced by their exact ones, rounded, where their error bound is loose.

The splitting kernels make each new vertex by interpolation along an edge and carry a rigorous
bound on its distance from the exact vertex it stands for (see
:mod:`~regionenum.engine.kernels.splitting`). The bound keeps the signs proven, whatever its size:
a wide bound only sends more signs to exact arithmetic. But the vertices are also what a result
hands on (its vertices, interior points and volumes), and where the hyperplanes' values are
below float64's relative precision (rows of subnormal size, say) an interpolated vertex can be
anywhere on its edge. So, as a filtered kernel does when its filter fails, every generator
whose bound exceeds :data:`LOOSE` times its cell's extent is constructed exactly (the kernel of
its tight constraints' exact rows) and rounded. On well-scaled networks that is a handful of
generators, if any; the rest keep their float coordinates.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.exact import ExactNetwork, float_coordinates, kernel_vector, oriented
from ..core.tolerances import ETA, U
from .kernels.lattice import loose_generators

__all__ = ["LOOSE", "tighten_loose_generators"]

#: A generator whose error bound exceeds this fraction of its cell's extent (the largest spread
#: of one coordinate over its points) is constructed exactly. Deep networks' bounds reach a few
#: per cent of their cells (r1_deep 4%, r2_deep 3%), where the vertices are still close, and an
#: exact row through many layers costs tens of milliseconds: the threshold leaves them be.
LOOSE = 2.0 ** -3


def tighten_loose_generators(cells, network, constraints) -> int:
    """Replace, in place, the coordinates and error bounds of ``cells``' generators whose bound is
    loose (see :data:`LOOSE`) by their exact vertex or ray rounded to float64; returns how many
    were constructed (those beyond float64's range among them keep their float coordinates).

    Parameters
    ----------
    cells : CellSet
        A finished run's cells, their patterns complete.
    network : Network
        The network the exact rows come from (the user's: a balanced copy's rows are positive
        multiples of them, with the same kernels).
    constraints : Constraints
        The run's constraint numbering and fixed rows.
    """
    done = np.zeros(len(cells.gens), bool)
    oracle, bits = None, {}
    while True:  # a cell's extent shrinks as its far-off vertices are corrected: look again
        loose = np.flatnonzero(loose_generators(cells.gen_off, cells.gens, cells.gen_err, LOOSE) & ~done)
        if not len(loose):
            return int(done.sum())
        if oracle is None:
            oracle = constraints.oracle(ExactNetwork(network), [], cells.packed)
        owner = np.searchsorted(cells.gen_off, loose, side="right") - 1
        for g, c in zip(loose.tolist(), owner.tolist()):
            if c not in bits:
                bits[c] = oracle.pattern_bits(c)
            inc = cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]].tolist()
            v = oriented(kernel_vector([oracle.row(c, cid, bits[c]) for cid in inc], cells.gens.shape[1]),
                         cells.gens[g])
            rounded = _rounded(v)
            if rounded is not None:
                cells.gens[g], cells.gen_err[g] = rounded
        done[loose] = True


def _rounded(v: list) -> tuple | None:
    """The exact homogeneous integer vector ``v`` as float64 ``(t, x)`` with a bound on the
    max-norm distance from it (of a positive multiple, for rays): a point's coordinates are
    correctly rounded, within half an ulp or, below the normal range, half of ``ETA``; a ray is
    scaled to unit length in float64, a few roundings of a unit vector. None for a point beyond
    float64's range (far out on an unbounded domain), which keeps its float coordinates and
    bound."""
    if v[0]:
        x = float_coordinates(v)
        return None if x is None else ([1.0] + x, U * max(abs(c) for c in x) + ETA)
    m = max(abs(p) for p in v)
    x = np.array([float(Fraction(p, m)) for p in v[1:]])
    x /= np.sqrt(x @ x)
    return [0.0] + x.tolist(), (2 * len(v) + 4) * U
