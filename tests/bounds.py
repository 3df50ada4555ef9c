"""Running the engine on one of its row-error bounds alone, to check that bound by itself:
every sign it lets float64 decide must still be right; and on a network as given, not balanced."""
import contextlib

import numpy as np

from regionenum.core import balance
from regionenum.engine.polytope_step import PolytopeStep


@contextlib.contextmanager
def norm_bounds_only():
    """Within the block, every unit's row-error bound is its cell's norm bound ``N`` (the bound
    carried by ``||W||_2``), not the smaller of that and the unit-by-unit bound."""
    original = PolytopeStep.next_layer_rows

    def rows(self, l, J, E, N, parent, bits):
        J, E, N = original(self, l, J, E, N, parent, bits)
        return J, np.ascontiguousarray(np.broadcast_to(N[:, None, None], E.shape)), N

    PolytopeStep.next_layer_rows = rows
    try:
        yield
    finally:
        PolytopeStep.next_layer_rows = original


@contextlib.contextmanager
def unit_norm_bounds_only():
    """Within the block, every unit's row-error bound is the per-unit norm bound (its row's norm
    times its cell's carried norm), never the unit-by-unit product through ``|W|``."""
    original = PolytopeStep._products_pay
    PolytopeStep._products_pay = lambda self, l: False
    try:
        yield
    finally:
        PolytopeStep._products_pay = original


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
