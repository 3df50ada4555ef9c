"""The root cells of a domain: the pointed cells the engine starts from.

A :class:`~regionenum.Box` is its own root. Another bounded polytope is cut out of a box strictly
containing it; an unbounded one out of the ``2^d`` orthants around an interior point (so one
region may come in several pieces, merged when the result is assembled).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..core.domain import Box
from ..core.exact import ConstraintIds
from ..core.tolerances import DEFAULT_TOL
from .cells import CellSet, Constraints
from .kernels.splitting import INCIDENCE_DTYPE
from .split import split

__all__ = ["Roots", "root_cells"]


@dataclass
class Roots:
    """Root cells of a domain, the run's :class:`~regionenum.engine.cells.Constraints`, whether
    a region may come in several pieces (``merge_pieces``) and the signs each stage decided in the
    cut (:data:`~regionenum.engine.split.SIGN_STAGES`; none without a cut)."""

    cells: CellSet
    constraints: Constraints
    merge_pieces: bool
    signs: np.ndarray | None = None


def root_cells(domain, n_units: int, tol: float = DEFAULT_TOL, n_ties: int = 0, check=None) -> Roots:
    """Pointed cells covering ``domain`` exactly, with no pattern bits set (see the module's
    description; ``merge_pieces`` says whether a region may come in several pieces). ``check``
    is called during long cuts (see :func:`~regionenum.engine.split.split`)."""
    d = domain.dim
    A, b = domain.A, domain.b
    m = len(b)
    domain_rows = np.concatenate([b[:, None], A], axis=1)
    if isinstance(domain, Box):
        ids = ConstraintIds(m, 0, n_units, n_ties)
        pieces = [_box(domain.lo, domain.hi, lambda k: k)]
        need_cut, merge = False, False
    elif domain.is_bounded:
        lo, hi = domain.bounds
        pad = 0.25 * np.maximum(hi - lo, 1.0)
        ids = ConstraintIds(m, 2 * d, n_units, n_ties)
        pieces = [_box(lo - pad, hi + pad, lambda k: ids.artificial_start + k)]
        need_cut, merge = True, False
    else:
        ids = ConstraintIds(m, d, n_units, n_ties)
        pieces = _orthants(domain.interior_point, ids)
        need_cut, merge = True, True

    fixed_float = {i: domain_rows[i] for i in range(m)}
    fixed_float[ids.infinity] = np.concatenate([[-1.0], np.zeros(d)])
    for _, _, rows in pieces:
        fixed_float.update(rows)
    cells = _cellset(pieces, d, n_units)
    points = cells.gens[cells.gens[:, 0] > 0, 1:]
    constraints = Constraints(ids, fixed_float, max(1.0, float(np.abs(points).max(initial=0.0))))
    roots = Roots(cells, constraints, merge)
    if need_cut and m > 0:
        J = np.broadcast_to(domain_rows.T[None], (len(cells), d + 1, m))
        # the domain's rows are exact: no error to bound
        cut = split(cells, J, np.zeros((len(cells), 1, m)), constraints.ref, np.arange(m), tol,
                    constraints.oracle(None, np.arange(m)), True, check)
        roots.signs = cut.signs
        roots.cells = cut.pieces.take(np.flatnonzero(~cut.on.any(axis=1)))
    return roots


def _box(lo, hi, facet_id):
    """A box cell: corners with incidence; facet ``k`` (``k < d`` lower, else upper) has id
    ``facet_id(k)``."""
    d = len(lo)
    gens, inc = [], []
    for corner in itertools.product((0, 1), repeat=d):
        x = np.where(np.array(corner) == 0, lo, hi)
        gens.append(np.concatenate([[1.0], x]))
        inc.append(sorted(facet_id(i if c == 0 else d + i) for i, c in enumerate(corner)))
    rows = {}
    for i in range(d):
        lower = np.zeros(d + 1)
        lower[0], lower[1 + i] = lo[i], -1.0
        upper = np.zeros(d + 1)
        upper[0], upper[1 + i] = -hi[i], 1.0
        rows[facet_id(i)] = lower
        rows[facet_id(d + i)] = upper
    return np.array(gens), inc, rows


def _orthants(center, ids: ConstraintIds):
    """The ``2^d`` orthant cones at ``center``; artificial id ``i`` is the plane ``x_i = c_i``."""
    d = len(center)
    out = []
    for signs in itertools.product((1.0, -1.0), repeat=d):
        gens = [np.concatenate([[1.0], center])]
        inc = [[ids.artificial_start + k for k in range(d)]]
        rows = {}
        for i, s in enumerate(signs):
            ray = np.zeros(d + 1)
            ray[1 + i] = s
            gens.append(ray)
            inc.append(sorted([ids.infinity] + [ids.artificial_start + k for k in range(d) if k != i]))
            row = np.zeros(d + 1)
            row[0], row[1 + i] = s * center[i], -s  # s * (c_i - x_i) <= 0
            rows[ids.artificial_start + i] = row
        out.append((np.array(gens), inc, rows))
    return out


def _cellset(pieces, d, n_units) -> CellSet:
    gen_off, inc_off, con_off = [0], [0], [0]
    gens, inc, con_ids, con_rows = [], [], [], []
    for g, incs, rows in pieces:
        gens.append(g)
        gen_off.append(gen_off[-1] + len(g))
        for s in incs:
            inc.extend(s)
            inc_off.append(inc_off[-1] + len(s))
        used = sorted(set(itertools.chain.from_iterable(incs)))
        for cid in used:
            con_ids.append(cid)
            con_rows.append(rows[cid] if cid in rows else np.concatenate([[-1.0], np.zeros(d)]))
        con_off.append(con_off[-1] + len(used))
    no_bits = np.zeros((len(pieces), (n_units + 7) // 8), dtype=np.uint8)
    gens = np.concatenate(gens)
    # corners of boxes, and the orthants' centre and axis rays, are exactly what they stand for
    return CellSet(np.array(gen_off, np.int64), gens, np.zeros(len(gens)), np.array(inc_off, np.int64),
                   np.array(inc, INCIDENCE_DTYPE), np.array(con_off, np.int64), np.array(con_ids, np.int64),
                   np.array(con_rows, np.float64).reshape(-1, d + 1), np.zeros(len(con_ids)), no_bits,
                   no_bits.copy())
