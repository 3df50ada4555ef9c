"""Sets of cells in flat CSR arrays, the root cells of a domain, and splitting them.

A :class:`CellSet` is what the kernels read and write: per cell its generators (homogeneous
``(t, x)``), each generator's incidence (sorted ids of tight constraints, see
``exact.ConstraintIds``), the constraints tight somewhere on the cell with float rows oriented so
that ``row . (t, x) <= 0`` on it, and its activation pattern so far.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._kernels import split_cells
from .domain import Box
from .exact import ConstraintIds, ExactOracle, dyadic_integers

__all__ = ["CellSet", "Roots", "kernel_array", "offsets_of", "per_cell_count", "root_cells", "set_bits", "split",
           "unpack_bits"]


@dataclass
class CellSet:
    gen_off: np.ndarray   # (n + 1,) generators of cell i: gens[gen_off[i]:gen_off[i+1]]
    gens: np.ndarray      # (G, d + 1) homogeneous generators
    inc_off: np.ndarray   # (G + 1,)
    inc: np.ndarray       # incidence ids, sorted per generator
    con_off: np.ndarray   # (n + 1,)
    con_ids: np.ndarray   # constraint ids tight somewhere on the cell, increasing
    con_rows: np.ndarray  # (C, d + 1) their oriented rows
    packed: np.ndarray    # (n, ceil(n_units / 8)) uint8: activation bits so far, np.packbits order
    zero: np.ndarray      # the same layout: units identically zero on the cell (their bit is off)

    def __len__(self) -> int:
        return len(self.gen_off) - 1

    def bounded(self) -> np.ndarray:
        """Per cell, whether it has no rays."""
        return per_cell_count(self.gens[:, 0] == 0, self.gen_off) == 0

    def take(self, index) -> "CellSet":
        """The cells ``index`` (an integer array), in that order."""
        index = np.asarray(index, dtype=np.int64)
        gsel, gen_off = _ranges(self.gen_off, index)
        isel, inc_off = _ranges(self.inc_off, gsel)
        csel, con_off = _ranges(self.con_off, index)
        return CellSet(gen_off, self.gens[gsel], inc_off, self.inc[isel], con_off,
                       self.con_ids[csel], self.con_rows[csel], self.packed[index], self.zero[index])

    @staticmethod
    def concat(parts: list["CellSet"]) -> "CellSet":
        return CellSet(
            _concat_offsets([p.gen_off for p in parts]), np.concatenate([p.gens for p in parts]),
            _concat_offsets([p.inc_off for p in parts]), np.concatenate([p.inc for p in parts]),
            _concat_offsets([p.con_off for p in parts]), np.concatenate([p.con_ids for p in parts]),
            np.concatenate([p.con_rows for p in parts]), np.concatenate([p.packed for p in parts]),
            np.concatenate([p.zero for p in parts]))


def kernel_array(a, dtype) -> np.ndarray:
    """``a`` as a writable C-contiguous array of ``dtype`` (a copy only where it is not one): the
    kernels then see one array type per argument, and Numba compiles each of them once."""
    return np.require(a, dtype, ["C", "W"])


def per_cell_count(flags, offsets) -> np.ndarray:
    """How many of ``flags[offsets[i]:offsets[i+1]]`` are true, for every cell ``i``."""
    cs = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return cs[offsets[1:]] - cs[offsets[:-1]]


def offsets_of(counts) -> np.ndarray:
    """CSR offsets of consecutive runs of ``counts[i]`` items."""
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _concat_offsets(arrays) -> np.ndarray:
    """CSR offsets of the concatenation of several CSR arrays."""
    out = [np.zeros(1, np.int64)]
    base = 0
    for a in arrays:
        out.append(a[1:] + base)
        base += a[-1]
    return np.concatenate(out)


def _ranges(offsets, index):
    """Concatenated ranges ``offsets[i]:offsets[i+1]`` for ``i`` in ``index``, and new offsets."""
    starts = offsets[index]
    lengths = offsets[index + 1] - starts
    new_off = offsets_of(lengths)
    sel = np.repeat(starts - new_off[:-1], lengths) + np.arange(new_off[-1])
    return sel, new_off


#: Signs within this many units of roundoff of the magnitudes behind a hyperplane (``Jabs``) are
#: always settled exactly, whatever ``tol`` says: that is where cancellation leaves only noise.
NOISE = 8 * 2.0 ** -53


def split(cells: CellSet, J: np.ndarray, Jabs: np.ndarray, ref: float, hyp_ids: np.ndarray,
          tol: float, oracle: ExactOracle, want_cons: bool = True):
    """Split every cell by its hyperplanes ``J[c, :, h]`` (ids ``hyp_ids``); ``Jabs`` bounds the
    magnitudes behind each entry of ``J`` (or, with one row, their sum over the rows) and ``ref``
    is the domain's coordinate scale.

    Signs the kernel cannot settle in float64 come back as questions; ``oracle`` answers them
    exactly and the cells that asked are split again, until none asks. Returns the pieces (their
    patterns still the parents'), each piece's parent cell, per hyperplane whether it is on
    (> 0) and whether it is identically zero on the piece, and the number of signs settled
    exactly.
    """
    if Jabs.shape[1] != 1:
        Jabs = Jabs.sum(axis=1, keepdims=True, dtype=np.float32)
    fixed = (cells.gen_off, cells.gens, cells.inc_off, cells.inc, cells.con_off, cells.con_ids,
             cells.con_rows, kernel_array(J, np.float64), kernel_array(Jabs, np.float32), float(ref),
             np.asarray(hyp_ids, np.int64), float(tol), NOISE, want_cons)
    answers = _Answers()

    def run(todo):
        return split_cells(*fixed, todo, *answers.arrays())

    out = run(np.arange(len(cells), dtype=np.int64))
    passes = [out]
    while len(out[9]):  # the cells that asked, their questions, and so on until none asks
        q_cell, q_h, q_off, q_inc, q_gen = out[9:]
        for k, (c, h) in enumerate(zip(q_cell, q_h)):
            if (c, h) in answers.vanishing:  # another generator of this pass asked it too
                continue
            if oracle.vanishes(int(c), int(h)):  # one answer for every generator of the cell
                answers.vanishing.add((c, h))
                answers.add(c, h, [], 0)
                continue
            inc = q_inc[q_off[k]: q_off[k + 1]]
            answers.add(c, h, inc, oracle.sign(int(c), inc, int(h), q_gen[k]))
        out = run(np.unique(q_cell))
        passes.append(out)
    parent = np.concatenate([o[0] for o in passes])
    pieces = CellSet(_concat_offsets([o[2] for o in passes]), np.concatenate([o[3] for o in passes]),
                     _concat_offsets([o[4] for o in passes]), np.concatenate([o[5] for o in passes]),
                     _concat_offsets([o[6] for o in passes]), np.concatenate([o[7] for o in passes]),
                     np.concatenate([o[8] for o in passes]), cells.packed[parent], cells.zero[parent])
    states = np.concatenate([o[1] for o in passes])
    if len(answers):
        order = np.argsort(parent, kind="stable")  # cells split again go back to their place
        pieces, parent, states = pieces.take(order), parent[order], states[order]
    return pieces, parent, states == 1, states == 2, len(answers)


class _Answers:
    """Exact signs settled so far, as the flat table the kernel looks them up in."""

    def __init__(self):
        self.cell, self.h, self.sign, self.inc = [], [], [], []
        self.vanishing = set()  # (cell, hyperplane) identically zero on the cell

    def __len__(self):
        return len(self.cell)

    def add(self, cell, h, incidence, sign):
        self.cell.append(cell)
        self.h.append(h)
        self.sign.append(sign)
        self.inc.append(np.asarray(incidence, np.int64))

    def arrays(self):
        """The table sorted by cell (the kernel looks a cell's answers up by bisection)."""
        order = np.argsort(np.array(self.cell, np.int64), kind="stable")
        incs = [self.inc[i] for i in order]
        off = offsets_of([len(i) for i in incs])
        inc = np.concatenate(incs) if incs else np.zeros(0, np.int64)
        return (np.array(self.cell, np.int64)[order], np.array(self.h, np.int64)[order], off, inc,
                np.array(self.sign, np.int8)[order])


def set_bits(packed: np.ndarray, offset: int, bits: np.ndarray) -> None:
    """Write ``bits`` (``(n, w)`` bool) into the packed patterns at unit ``offset``, in place."""
    w = bits.shape[1]
    b0, b1 = offset // 8, (offset + w + 7) // 8
    seg = np.unpackbits(packed[:, b0:b1], axis=1)
    s = offset - 8 * b0
    seg[:, s: s + w] = bits
    packed[:, b0:b1] = np.packbits(seg, axis=1)


def unpack_bits(packed: np.ndarray, n_units: int) -> np.ndarray:
    """Packed patterns back to a bool array ``(..., n_units)``."""
    return np.unpackbits(packed, axis=-1, count=n_units).view(bool)


@dataclass
class Roots:
    """Root cells of a domain with the constraint numbering and the exact fixed rows."""

    cells: CellSet
    ids: ConstraintIds
    rows: dict            # constraint id -> float64 row over (t, x), for non-unit ids
    merge_pieces: bool    # True when a region may be split over several roots (orthants)
    exact_calls: int
    ref: float            # coordinate scale of the domain, for rounding-error bounds

    def __post_init__(self):
        # the same rows exactly, as integers (each float64 is a dyadic rational)
        self.exact_rows = {cid: dyadic_integers(row)[0] for cid, row in self.rows.items()}


def root_cells(domain, n_units: int, tol: float = 1e-9, n_ties: int = 0) -> Roots:
    """Pointed cells covering ``domain`` exactly, with no pattern bits set.

    A :class:`~regionenum.Box` is its own root. Another bounded polytope is cut out of a box
    strictly containing it; an unbounded one out of the ``2^d`` orthants around an interior point
    (so one region may come in several pieces: ``merge_pieces``).
    """
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
    roots = Roots(cells, ids, fixed_float, merge, 0, max(1.0, float(np.abs(points).max(initial=0.0))))
    if need_cut and m > 0:
        J = np.broadcast_to(domain_rows.T[None], (len(cells), d + 1, m))
        oracle = ExactOracle(ids, roots.exact_rows, None, np.arange(m))
        cells, _, bits, _, roots.exact_calls = split(cells, J, np.abs(J).astype(np.float32),
                                                     roots.ref, np.arange(m), tol, oracle)
        roots.cells = cells.take(np.flatnonzero(~bits.any(axis=1)))
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
    return CellSet(np.array(gen_off, np.int64), np.concatenate(gens), np.array(inc_off, np.int64),
                   np.array(inc, np.int64), np.array(con_off, np.int64), np.array(con_ids, np.int64),
                   np.array(con_rows, np.float64).reshape(-1, d + 1), no_bits, no_bits.copy())
