"""Sets of cells in flat CSR arrays, and the cell complex a finished run hands on.

A :class:`CellSet` is what the kernels read and write: per cell its generators (homogeneous
``(t, x)``), each generator's incidence (sorted ids of tight constraints, see
:class:`~regionenum.core.exact.ConstraintIds`), the constraints tight somewhere on the cell with
float rows oriented so that ``row . (t, x) <= 0`` on it, and its activation pattern so far.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..core.arrays import concat_offsets, offsets_of, per_cell_count
from ..core.exact import ConstraintIds, ExactOracle, dyadic_integers
from ..core.memory import release_free_memory
from ..core.threads import map_in_threads
from .kernels.blocks import copy_blocks, take_cells
from .kernels.splitting import CellArrays

__all__ = ["CellComplex", "CellParts", "CellSet", "Constraints"]

#: A gathered array at least this large frees as much from the parts, worth handing back to the
#: system (:func:`~regionenum.core.memory.release_free_memory`); below it, a trim (a fraction of a
#: millisecond, six per run) would only slow small runs down.
TRIM_BYTES = 16 << 20
#: A large array gathered from parts that are dropped as they go (``CellSet.gather(...,
#: consume=True)``) is copied this many bytes of parts at a time, the copied parts' arrays freed
#: and handed back after each: otherwise the whole new array comes on top of the parts (r4_small's
#: generators, 195 MB, made the enumeration's peak).
GATHER_STEP_BYTES = 32 << 20
#: A gathered array smaller than this is copied in the calling thread: handing the parts to
#: threads cost more than the copy (r2_small's enumeration, arrays of 40-400 KB: its gathering
#: 1.2-1.5 ms against 2.0-2.2 ms in threads; r2_mid's arrays, up to 3 MB, gain from threads).
THREADED_COPY_BYTES = 512 << 10


@dataclass
class CellSet:
    """Cells in flat CSR arrays, with their activation patterns so far."""

    gen_off: np.ndarray   # (n + 1,) generators of cell i: gens[gen_off[i]:gen_off[i+1]]
    gens: np.ndarray      # (G, d + 1) homogeneous generators
    gen_err: np.ndarray   # (G,) bound on each one's max-norm distance from the exact generator
    inc_off: np.ndarray   # (G + 1,)
    inc: np.ndarray       # incidence ids, sorted per generator
    con_off: np.ndarray   # (n + 1,)
    con_ids: np.ndarray   # constraint ids tight somewhere on the cell, increasing
    con_rows: np.ndarray  # (C, d + 1) their oriented rows
    con_err: np.ndarray   # (C,) bound on each row's distance from the exact one (summed)
    packed: np.ndarray    # (n, ceil(n_units / 8)) uint8: activation bits so far, np.packbits order
    zero: np.ndarray      # the same layout: units identically zero on the cell (their bit is off)

    def __len__(self) -> int:
        return len(self.gen_off) - 1

    @property
    def arrays(self) -> CellArrays:
        """The geometry as the kernels take it (everything but the patterns)."""
        return CellArrays(self.gen_off, self.gens, self.gen_err, self.inc_off, self.inc, self.con_off,
                          self.con_ids, self.con_rows, self.con_err)

    def bounded(self) -> np.ndarray:
        """Per cell, whether it has no rays."""
        rays = self.gens[:, 0] == 0
        if not rays.any():  # a bounded domain: no cell has any (and no count is needed)
            return np.ones(len(self), bool)
        return per_cell_count(rays, self.gen_off) == 0

    @property
    def nbytes(self) -> int:
        """The bytes of the set's arrays."""
        return sum(getattr(self, name).nbytes for name in self.__dataclass_fields__)

    def run(self, lo: int, hi: int) -> "CellSet":
        """The cells ``lo .. hi - 1``: views of this set's arrays, with their own offsets (a
        batch of a layer's pieces, or a subtree's run of them, costs no copy; the pieces of a
        wide first layer take gigabytes). The views share this set's memory: nothing writes
        into a cell's arrays but the cell's own step."""
        g0, g1 = self.gen_off[lo], self.gen_off[hi]
        i0, i1 = self.inc_off[g0], self.inc_off[g1]
        c0, c1 = self.con_off[lo], self.con_off[hi]
        return CellSet(self.gen_off[lo: hi + 1] - g0, self.gens[g0:g1], self.gen_err[g0:g1],
                       self.inc_off[g0: g1 + 1] - i0, self.inc[i0:i1], self.con_off[lo: hi + 1] - c0,
                       self.con_ids[c0:c1], self.con_rows[c0:c1], self.con_err[c0:c1], self.packed[lo:hi],
                       self.zero[lo:hi])

    def take(self, index) -> "CellSet":
        """The cells ``index`` (an integer array), in that order (a copy, in one pass:
        :func:`~regionenum.engine.kernels.blocks.take_cells`)."""
        index = np.ascontiguousarray(index, dtype=np.int64)
        return CellSet(*take_cells(index, *(getattr(self, name) for name in self.__dataclass_fields__)))

    @staticmethod
    def concat(parts: list["CellSet"]) -> "CellSet":
        """The cells of ``parts``, one after another."""
        return CellSet(
            concat_offsets([p.gen_off for p in parts]), np.concatenate([p.gens for p in parts]),
            np.concatenate([p.gen_err for p in parts]),
            concat_offsets([p.inc_off for p in parts]), np.concatenate([p.inc for p in parts]),
            concat_offsets([p.con_off for p in parts]), np.concatenate([p.con_ids for p in parts]),
            np.concatenate([p.con_rows for p in parts]), np.concatenate([p.con_err for p in parts]),
            np.concatenate([p.packed for p in parts]),
            np.concatenate([p.zero for p in parts]))

    @staticmethod
    def join(parts: list["CellSet"], order=None, gather_from: int | None = None) -> "CellSet":
        """The cells of ``parts`` one after another, or in ``order`` (an index array into them)
        where given, in arrays of their own (a split's parts are views of the kernel's larger
        buffers). Small ones (under ``gather_from`` bytes in all, by default
        :data:`TRIM_BYTES`) are concatenated, then taken (:meth:`concat`, :meth:`take`; a lone
        part taken at once); large ones are gathered array by array, each part's array dropped
        once copied (:meth:`gather`; the parts are then unusable), so that they are not held
        twice (the pieces of a wide first layer, a large result's cells)."""
        if sum(p.nbytes for p in parts) >= (TRIM_BYTES if gather_from is None else gather_from):
            n = sum(len(p) for p in parts)
            return CellSet.gather(parts, np.arange(n) if order is None else order, consume=True)
        if order is None:
            return CellSet.concat(parts)
        return (parts[0] if len(parts) == 1 else CellSet.concat(parts)).take(order)

    @staticmethod
    def gather(parts: list["CellSet"], order, consume: bool = False) -> "CellSet":
        """``CellSet.concat(parts).take(order)``, without the concatenation: every cell's rows
        are copied once, as one block, from its part straight to its place (``order`` indexes
        the cells of all ``parts`` one after another). With ``consume``, each array of the
        parts is dropped from them (set to None) as soon as it is gathered, so that at most one
        array is held twice, not every cell: the parts are unusable afterwards. The parts are
        copied by threads on idle cores (filling fresh pages is most of the cost, and page
        faults on two cores proceed side by side), but for arrays under
        :data:`THREADED_COPY_BYTES`, copied in this thread. The flags of units identically zero
        are made as zeros, not copied, where no part has one set (the rule)."""
        order = np.asarray(order, dtype=np.int64)
        counts = [len(p) for p in parts]
        # parts numbered in 16 bits where they fit, which NumPy's stable sort orders by radix:
        # 4 ms against 20 for 64-bit numbers on r4_small's 318,765 cells
        number = np.uint16 if len(parts) <= 1 << 16 else np.int64
        part_of = np.repeat(np.arange(len(parts), dtype=number), counts)[order]
        local = order - offsets_of(counts)[part_of]
        by_part = np.argsort(part_of, kind="stable")
        places = np.split(by_part, np.cumsum(np.bincount(part_of, minlength=len(parts)))[:-1])
        moves = [(local[dst], dst) for dst in places]  # per part: its cells, and their places

        def new_offsets(offsets):
            """The offsets, in ``order``, of the rows each part has under ``offsets(part)``."""
            return offsets_of(np.concatenate([np.diff(offsets(p)) for p in parts])[order])

        def gathered(offsets, new_off, column, drop=(), out=None):
            """The rows ``column(part)`` (each part's CSR rows under ``offsets(part)``) of every
            cell, in ``order``, under ``new_off`` (into ``out`` where given); the parts' arrays
            named in ``drop`` dropped from them as they are copied (see
            :data:`GATHER_STEP_BYTES`)."""
            first = column(parts[0])
            if out is None:
                out = np.empty((new_off[-1],) + first.shape[1:], first.dtype)
            width = int(np.prod(out.shape[1:]))  # rows of 2-D views: one kernel for 1-D and 2-D
            if width == 0:  # rows without entries (patterns of a network without two-state units)
                return out
            flat = out.reshape(-1, width)

            def copy_part(move):  # one part's cells onto their places (no place is written twice)
                p, (src, dst) = move
                copy_blocks(offsets(p), column(p).reshape(-1, width), src, new_off, flat, dst)

            threads = None if out.nbytes >= THREADED_COPY_BYTES else 1
            work = list(zip(parts, moves))
            large = out.nbytes >= TRIM_BYTES  # freeing as much: worth handing back
            for lo, hi in _steps([column(p).nbytes for p in parts]) if drop and large else [(0, len(work))]:
                map_in_threads(copy_part, work[lo:hi], threads)
                if drop:
                    for p in parts[lo:hi]:
                        for name in drop:
                            setattr(p, name, None)
                    if large:
                        release_free_memory()  # or the rest of the array comes on top of them
            return out

        def field(name, offsets, new_off, also=()):
            """The gathered array ``name`` (dropped from the parts if ``consume``, with the arrays
            named in ``also``, which only its offsets read)."""
            return gathered(offsets, new_off, lambda p: getattr(p, name), (name, *also) if consume else ())

        gen_off, con_off = new_offsets(lambda p: p.gen_off), new_offsets(lambda p: p.con_off)
        gens = field("gens", lambda p: p.gen_off, gen_off)
        gen_err = field("gen_err", lambda p: p.gen_off, gen_off)
        # each generator's count of incidences, summed into offsets in place (a copy of them
        # would be the gathering's peak: 39 MB on r4_small), and the parts' counts, made one
        # part at a time, handed back
        inc_off = np.zeros(gen_off[-1] + 1, np.int64)
        gathered(lambda p: p.gen_off, gen_off, lambda p: np.diff(p.inc_off), out=inc_off[1:])
        np.cumsum(inc_off[1:], out=inc_off[1:])
        if consume and inc_off.nbytes >= TRIM_BYTES:
            release_free_memory()
        # a cell's incidences are one run
        inc = field("inc", lambda p: p.inc_off[p.gen_off], inc_off[gen_off], also=("inc_off",))
        con_ids = field("con_ids", lambda p: p.con_off, con_off)
        con_rows = field("con_rows", lambda p: p.con_off, con_off)
        con_err = field("con_err", lambda p: p.con_off, con_off)
        def one_row(p):  # packed patterns and zero flags: a row per cell
            return np.arange(len(p) + 1)

        packed = field("packed", one_row, np.arange(len(order) + 1))
        if any(p.zero.any() for p in parts):
            zero = field("zero", one_row, np.arange(len(order) + 1))
        else:  # a copy of the parts' zeros would cost as much as the patterns (r2_big: 16 MB)
            zero = np.zeros((len(order),) + parts[0].zero.shape[1:], parts[0].zero.dtype)
            if consume:
                for p in parts:
                    p.zero = None
        if consume:
            parts.clear()
        return CellSet(gen_off, gens, gen_err, inc_off, inc, con_off, con_ids, con_rows, con_err, packed, zero)


class CellParts:
    """Cells held as the :class:`CellSet` parts a split made, one after another, not copied into
    one set: a count's finished cells, counted part by part (joining them copied r4_small's
    last layer, 470 MB of pieces, for nothing). Reads as much of a :class:`CellSet` as a split
    reads of its pieces: their number."""

    def __init__(self, parts: list):
        self.parts = parts

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)


def _steps(sizes: list) -> list:
    """``(lo, hi)`` runs of consecutive parts whose arrays have ``sizes`` (bytes), each run
    (but the last) of at least :data:`GATHER_STEP_BYTES`."""
    bounds, held = [0], 0
    for i, size in enumerate(sizes[:-1]):
        held += size
        if held >= GATHER_STEP_BYTES:
            bounds.append(i + 1)
            held = 0
    return list(zip(bounds, bounds[1:] + [len(sizes)]))


@dataclass
class Constraints:
    """A run's constraint numbering (``ids``), the float64 rows of the constraints that do not
    come from the network (the domain's rows, the face at infinity, artificial cuts; exact as
    dyadic rationals) by id, and the domain's coordinate scale ``ref`` (for rounding bounds)."""

    ids: ConstraintIds
    fixed_rows: dict
    ref: float

    @functools.cached_property
    def exact_rows(self) -> dict:
        """``fixed_rows`` as exact integer rows (each float64 a dyadic rational, scaled)."""
        return {cid: dyadic_integers(row)[0] for cid, row in self.fixed_rows.items()}

    def oracle(self, exact_net, hyp_ids, prefixes=None) -> ExactOracle:
        """An exact sign oracle for hyperplanes ``hyp_ids`` on cells with packed patterns
        ``prefixes`` (``exact_net``: the network's :class:`~regionenum.core.exact.ExactNetwork`,
        or None for cuts of the domain alone)."""
        return ExactOracle(self.ids, self.exact_rows, exact_net, np.asarray(hyp_ids, np.int64), prefixes)


@dataclass
class CellComplex:
    """What the engine hands to the analyses besides the regions' arrays: the cells (one per
    region, or several per region on unbounded domains, see ``cell_region``), each generator's
    incidence in the numbering of ``constraints``. Faces, decision regions, exact geometry and
    certificates read this and nothing else of the engine."""

    cells: CellSet
    cell_region: np.ndarray
    constraints: Constraints
