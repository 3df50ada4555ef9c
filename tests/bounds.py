"""Running the engine on one of its row-error bounds alone, to check that bound by itself:
every sign it lets float64 decide must still be right; on a network as given, not balanced; and
checking the bounds the cells of a result carry on their vertices against the exact vertices."""
import contextlib
from fractions import Fraction

import numpy as np

from regionenum.analysis.exact_geometry import ExactGeometry
from regionenum.core import balance
from regionenum.core.tolerances import ETA, U
from regionenum.engine import polytope_step
from regionenum.engine.polytope_step import PolytopeStep


@contextlib.contextmanager
def norm_bounds_only():
    """Within the block, every unit's row-error bound is its cell's norm bound ``N`` (the bound
    carried by ``||W||_2``), not the smaller of that and the unit-by-unit bound."""
    original = PolytopeStep.next_layer_rows

    def rows(self, l, parent_rows, parent, bits, children=None):
        out = original(self, l, parent_rows, parent, bits, children)
        return out._replace(E=np.ascontiguousarray(np.broadcast_to(out.N[:, None, None], out.E.shape)))

    PolytopeStep.next_layer_rows = rows
    try:
        yield
    finally:
        PolytopeStep.next_layer_rows = original


@contextlib.contextmanager
def shared_rows_everywhere():
    """Within the block, every layer's rows (narrow ones too) come from matrix products of
    blocks shared by all the consecutive siblings of a parent, whatever they differ on, each
    child adding its own terms of those units: the path wide layers take for siblings that
    differ on few units, on every layer and every run of siblings."""
    before = polytope_step.NARROW, polytope_step.SHARE_FROM, polytope_step.OWN_TERM_COST
    polytope_step.NARROW, polytope_step.SHARE_FROM, polytope_step.OWN_TERM_COST = 0, 0, 0
    try:
        yield
    finally:
        polytope_step.NARROW, polytope_step.SHARE_FROM, polytope_step.OWN_TERM_COST = before


@contextlib.contextmanager
def unit_norm_bounds_only():
    """Within the block, every unit's row-error bound is the per-unit norm bound (its row's norm
    times its cell's carried norm), never the unit-by-unit product through ``|W|`` (which narrow
    layers otherwise always use, computed with their rows: they take the matrix products here)."""
    original, narrow = PolytopeStep._products_pay, polytope_step.NARROW
    PolytopeStep._products_pay = lambda self, l: False
    polytope_step.NARROW = 0
    try:
        yield
    finally:
        PolytopeStep._products_pay, polytope_step.NARROW = original, narrow


@contextlib.contextmanager
def unbalanced():
    """Within the block, the float stages run on the network as given, never on its balanced
    one (rows brought near magnitude 1 by powers of two, :mod:`regionenum.core.balance`): to
    check the engine's own handling of values far from 1."""
    original = balance.needs_balance
    balance.needs_balance = lambda network: False
    try:
        yield
    finally:
        balance.needs_balance = original


def misplaced_vertex(regions, tight: float) -> str | None:
    """None when every generator of the cells of ``regions`` (a bounded domain's) is within its
    error bound of the exact vertex (the kernel of its tight constraints' exact rows, computed
    in integers) and that bound is at most ``tight`` times its cell's extent (the vertices a
    result hands on are close), or at most the exact vertex's rounding (a cell narrower than
    float64 resolves there); else the first generator that is not, and why."""
    cells, geo = regions.complex.cells, ExactGeometry(regions)
    for c in range(len(cells)):
        g0, g1 = cells.gen_off[c], cells.gen_off[c + 1]
        x = cells.gens[g0:g1, 1:]
        extent = (x.max(axis=0) - x.min(axis=0)).max()
        for g in range(g0, g1):
            error = max(abs(Fraction(float(a)) - b) for a, b in zip(cells.gens[g, 1:], geo.point(g, c)))
            if error > Fraction(float(cells.gen_err[g])):
                return (f"cell {c}: vertex {g} is {float(error):.3g} from the exact one, its bound "
                        f"{cells.gen_err[g]:.3g}")
            rounding = U * np.abs(cells.gens[g, 1:]).max() + ETA
            if not cells.gen_err[g] <= max(tight * extent, rounding):
                return f"cell {c}: vertex {g} has a bound {cells.gen_err[g]:.3g}, its cell's extent {extent:.3g}"
    return None
