"""Splitting cells by hyperplanes: the kernel, and the exact answers to its questions.

:func:`split` hands a batch of cells and hyperplanes to the kernel
(:func:`~regionenum.engine.kernels.splitting.split_cells`); the signs it cannot trust in float64
come back as questions, an :class:`~regionenum.core.exact.ExactOracle` answers them in exact
arithmetic, and the cells that asked are split again with the answers, until none asks. The
kernel never calls back into Python: questions and answers are plain arrays.
"""
from __future__ import annotations

import threading
from collections import namedtuple

import numpy as np

from ..core.arrays import distinct_sorted, kernel_array, offsets_of
from ..core.exact import ExactOracle, float_coordinates
from ..core.threads import map_in_threads, usable_cpus
from ..errors import InternalError
from .cells import CellParts, CellSet
from .kernels.blocks import states_into_patterns
from .kernels.splitting import Answers, Hyperplanes, SignRule, no_sides, split_cells

__all__ = ["EXACT_STAGES", "SIGN_STAGES", "Split", "split"]

#: Generators times hyperplanes times ``2^d`` (cells' vertex lists grow like that with the
#: dimension ``d``) handed to one kernel call: enough that the calls' overhead does not show, few
#: enough that one call takes a small fraction of a second.
CHUNK_WORK = 1 << 22

#: Input dimension from which a batch's chunks are shared out among threads on idle cores.
#: There a cell's split is long work on few rows (4-D: about 0.3 microseconds per generator
#: and hyperplane) and two threads split about 1.6 times as fast as one; in 2-D and 3-D (0.01 and
#: 0.05) two threads gained nothing on the benchmark machine, each chunk taking longer when
#: another ran beside it (``benchmarks/README.md``, "Threads that split"): there the subtrees of
#: a run go to the threads instead (:mod:`~regionenum.engine.subtrees`), and only the first
#: layer's split, which runs before them and alone, is shared (its stages are long calls: the
#: suite's r2_wide, 256 lines on a square, in 0.070 s against 0.105 s in one thread).
SHARED_DIM = 4

#: Work from which a batch is shared out (about 5 ms of kernel time in 4-D): below it, handing
#: chunks to threads costs more than they gain.
SHARED_WORK = CHUNK_WORK >> 4

#: Chunks per core of a shared batch: several, so that uneven chunks even out.
SHARES = 4

#: How far from 1 the cosine of the angle between two float rows may be for them to be checked
#: as exact multiples of each other (rounding moves it by some 1e-20; any value is safe).
PARALLEL = 1e-9

#: Relative size below which a hyperplane's float value at a generator whose exact point is
#: being computed counts as nearly zero, its exact sign there computed too (see :func:`_answer`):
#: far above the filter's rounding bounds, so that the hyperplanes it leaves undecided are met.
NEAR_ZERO = 2.0 ** -16

#: Held while the exact stages answer a pass's questions: one thread at a time in a process
#: (chunks of one batch, and subtrees of one run, share the network's exact tables and their
#: caches; questions are rare, so nothing waits long).
EXACT_STAGES = threading.Lock()

#: The stages that decide a sign, in the order they are tried: the float64 filter (a value beyond
#: its rigorous error bound), exact zeros (every product exactly zero), exact float64 expansions
#: (exact numbers summed without error) and exact arithmetic (rationals or integers).
SIGN_STAGES = ("float64 filter", "exact zeros", "float64 expansions", "exact arithmetic")

#: What :func:`split` returns: the pieces (their patterns the parents', or with the states
#: written in, see ``bits_at``), each piece's parent cell, per hyperplane whether it is on (> 0)
#: and whether it is identically zero on the piece (both ``(pieces, hyperplanes)`` bool; None
#: where the states went into the patterns), and how many signs each of the :data:`SIGN_STAGES`
#: decided (int64, in that order; a cell split again after exact answers counts its float signs
#: again, as do the pieces of a layer cut in stages).
Split = namedtuple("Split", "pieces parent on zero signs")


def split(cells: CellSet, J: np.ndarray, E: np.ndarray, ref: float, hyp_ids: np.ndarray,
          tol: float, oracle: ExactOracle, want_cons: bool = True, check=None, alone: bool = False,
          exact_offsets: bool = False, row_of: np.ndarray | None = None, bits_at: int | None = None,
          join: bool = True, sides: np.ndarray | None = None) -> Split:
    """Split every cell by its hyperplanes ``J[c, :, h]`` (ids ``hyp_ids``); ``E[c, 0, h]`` is a
    rigorous bound on ``sum_k |J[c, k, h] - exact|``, all of it in ``k >= 1`` where
    ``exact_offsets`` (see :data:`~regionenum.engine.kernels.splitting.Hyperplanes`), and ``ref``
    the domain's coordinate scale. Where ``row_of`` is given, cell ``c``'s rows are
    ``J[row_of[c]]`` and ``E[row_of[c]]`` instead (pieces of the cells ``J`` belongs to, which
    share their rows). Where ``sides`` is given (int8, per row of ``J`` and hyperplane: +1 or -1
    where the hyperplane is proven to miss the cell on that side, 0 elsewhere; see
    :data:`~regionenum.engine.kernels.splitting.Hyperplanes`), those hyperplanes are not tested
    again and their rows not read. Where ``bits_at`` is given, each piece's states are written
    into its pattern from that bit on (on into ``packed``, identically zero into ``zero``), pass by pass,
    instead of coming back as tables: on the first layer of a wide network (hundreds of
    thousands of pieces, a thousand hyperplanes) the tables took gigabytes.

    Signs the kernel cannot settle in float64 come back as questions; ``oracle`` answers them
    exactly and the cells that asked are split again, until none asks. The kernel is called on
    chunks of cells of at most about :data:`CHUNK_WORK` work (see there); from
    :data:`SHARED_WORK` work, in :data:`SHARED_DIM` inputs or more or when the split runs
    ``alone`` (nothing else of the run beside it: its first layer), :data:`SHARES` chunks per
    core at least, shared out among threads on idle cores
    (:func:`~regionenum.core.threads.map_in_threads`; each chunk's pieces are its own, and they
    are put together in the chunks' order, so the threads change nothing). ``check`` (if
    given) is called after each chunk and between exact answers, so that a budget or Ctrl-C is
    seen within a fraction of a second (a signal that arrives inside a kernel is raised when it
    returns). With ``join`` false, the pieces come as the :class:`~regionenum.engine.cells.CellParts`
    the passes made, unless exact answers put them in order (a count's finished pieces, only
    counted). Returns a :data:`Split`.
    """
    arrays = cells.arrays
    row_of = np.arange(len(cells)) if row_of is None else row_of
    sides = no_sides(len(hyp_ids)) if sides is None else sides
    planes = Hyperplanes(kernel_array(J, np.float64), kernel_array(E, np.float64), kernel_array(hyp_ids, np.int64),
                         bool(exact_offsets), kernel_array(row_of, np.int64), kernel_array(sides, np.int8))
    rule = SignRule(float(ref), float(tol))
    d = cells.gens.shape[1] - 1

    def pass_pieces(done):
        """A pass's :data:`~regionenum.engine.kernels.splitting.Pieces` as a :class:`CellSet`
        with their cells' patterns (the states written in where ``bits_at`` is given), each
        piece's parent, and the states (None where written in)."""
        # rows taken whole: NumPy's fancy indexing copies a uint8 row byte by byte (these two
        # lines took 1.2-2.4 times as long so, summed over a count of the suite's 2-D nets)
        packed, zero = np.take(cells.packed, done.parent, axis=0), np.take(cells.zero, done.parent, axis=0)
        states = done.states
        if bits_at is not None:
            states_into_patterns(states, bits_at, packed, zero)
            states = None
        return (CellSet(done.gen_off, done.gens, done.gen_err, done.inc_off, done.inc, done.con_off, done.con_ids,
                        done.con_rows, done.con_err, packed, zero), done.parent, states)

    def split_chunk(todo):
        """The passes of the kernel over the cells ``todo`` (the last with every question
        answered) and how many signs each stage decided."""
        signs = np.zeros(len(SIGN_STAGES), np.int64)
        answers = _Answers()
        done, asked = split_cells(arrays, planes, rule, want_cons, todo, answers.table(d + 1, todo[:0]), signs)
        passes = [pass_pieces(done)]
        while len(asked.cell):  # the cells that asked, their questions, and so on until none asks
            known = len(answers)
            with EXACT_STAGES:
                _answer(asked, answers, oracle, planes, check)
            if len(answers) == known:  # the kernel did not find the answers it asked for
                raise InternalError("the splitting kernel asked again questions already answered")
            again = distinct_sorted(asked.cell)
            done, asked = split_cells(arrays, planes, rule, want_cons, again, answers.table(d + 1, again), signs)
            passes.append(pass_pieces(done))
        signs[-1] += len(answers)
        if check is not None:
            check()
        return passes, signs

    per_generator = max(len(hyp_ids), 1) << d
    work = int(cells.gen_off[-1]) * per_generator
    shared = (alone or d >= SHARED_DIM) and work >= SHARED_WORK
    chunks = _chunks(cells.gen_off, max(CHUNK_WORK // per_generator, 1), SHARES * usable_cpus() if shared else 1)
    results = map_in_threads(split_chunk, chunks) if shared else [split_chunk(todo) for todo in chunks]
    passes = [p for chunk_passes, _ in results for p in chunk_passes]
    signs = np.sum([chunk_signs for _, chunk_signs in results], axis=0, dtype=np.int64)
    parent = np.concatenate([p for _, p, _ in passes])
    states = None if bits_at is not None else np.concatenate([s for _, _, s in passes])
    order = np.argsort(parent, kind="stable") if signs[-1] else None  # cells split again go back to their place
    parts = [p for p, _, _ in passes]
    pieces = CellSet.join(parts, order) if join or order is not None else CellParts(parts)
    if order is not None:
        parent = parent[order]
        states = None if states is None else states[order]
    on, zero = (None, None) if states is None else (states == 1, states == 2)
    return Split(pieces, parent, on, zero, signs)


def _answer(asked, answers: _Answers, oracle: ExactOracle, planes: Hyperplanes, check) -> None:
    """Add to ``answers`` the exact answer to each of the kernel's questions ``asked``
    (:data:`~regionenum.engine.kernels.splitting.Questions`) about the hyperplanes ``planes``
    (whose float rows point to the ones worth answering together), calling ``check`` (if given)
    before each."""
    row_of = planes.row_of
    bits = {}  # each cell's pattern, unpacked once for all its questions
    for k, (c, h) in enumerate(zip(asked.cell.tolist(), asked.hyperplane.tolist())):
        if check is not None:
            check()
        inc = asked.inc[asked.inc_off[k]: asked.inc_off[k + 1]]
        held = frozenset(inc.tolist())  # the incidence as a set, for the answers within it
        if answers.covers(c, h, held):  # another generator of this pass asked it too
            continue
        if c not in bits:
            bits[c] = oracle.pattern_bits(c)
        J, E = planes.rows[row_of[c]], planes.errors[row_of[c]]  # the cell's rows (views)
        # the hyperplanes whose side of the cell is not known (the others' rows may not be formed)
        unknown = np.flatnonzero(planes.sides[row_of[c]] == 0) if len(planes.sides) else np.arange(J.shape[1])
        if oracle.vanishes(c, h, bits[c]):  # one answer for every generator of the cell
            answers.add(c, h, [], 0, None, within=True)
            continue
        generator = asked.generator[k]
        found = oracle.sign_and_point(c, inc, h, generator, bits[c])
        if found.along is not None:
            # a multiple of a constraint tight here: so are the batch's other multiples of it (a
            # repeated unit's copies, a layer whose rows on the cell all come from one earlier
            # unit), each zero wherever it is tight; one answer each, not a question (and a
            # pass) each
            along = np.array([found.along], np.int64)
            answers.add(c, h, along, 0, None, within=True)
            for m in oracle.multiples(c, found.along, _parallel(J, h, unknown), bits[c]):
                if not answers.covers(c, m, {found.along}):
                    answers.add(c, m, along, 0, None, within=True)
        elif found.point is not None and found.point[0] > 0:
            # a point: its incidence pins it down, so the answer holds at every generator whose
            # incidence holds this one (the same point, as more hyperplanes through it join its
            # incidence). The batch's other hyperplanes nearly zero there get theirs now: lines
            # through one point would otherwise ask one at a time, a pass each
            point = _in_float64(found.point)
            answers.add(c, h, inc, found.sign, point, within=True, held=held)
            near = _near_zero(J, generator, h, unknown)
            if point is not None:  # the kernel takes the point (no error), and settles the rows
                # whose values' bounds are then zero: the ``m errors`` of ``_values``
                m = np.abs(point[1:]).max(initial=0.0) if planes.exact_offsets else max(1.0, np.abs(point).max())
                near = near[m * E[0, near] > 0]
            for m, sign in oracle.signs_at(c, found.point, near, bits[c]):
                if not answers.covers(c, m, held):
                    answers.add(c, m, inc, sign, point, within=True, held=held)
        else:  # a ray (or no point): this incidence only
            answers.add(c, h, inc, found.sign, _in_float64(found.point))


def _parallel(rows, h: int, columns) -> np.ndarray:
    """The columns ``columns`` (indices, ``h`` among them) of ``rows`` (a cell's float hyperplane
    rows, ``(D, H)``) other than ``h`` parallel to column ``h`` up to rounding, which may be exact
    multiples of it: a guess, which the exact rows settle (one missed is asked about on its
    own)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        unit = rows[:, columns] / np.abs(rows[:, columns]).max(axis=0)  # (norms of tiny or huge rows
        unit /= np.linalg.norm(unit, axis=0)  # would underflow or overflow)
        one = rows[:, h] / np.abs(rows[:, h]).max()
        near = columns[np.abs(unit.T @ (one / np.linalg.norm(one))) > 1.0 - PARALLEL]
    return near[near != h]


def _near_zero(rows, generator, h: int, columns) -> np.ndarray:
    """The columns ``columns`` (indices) of ``rows`` (a cell's float hyperplane rows, ``(D, H)``)
    other than ``h`` whose values at the float ``generator`` are within :data:`NEAR_ZERO` of their
    size: those whose signs there the float filter may leave to exact arithmetic (a guess: one
    missed is asked about on its own)."""
    values = generator @ rows[:, columns]
    near = columns[np.abs(values) <= NEAR_ZERO * (np.abs(generator) @ np.abs(rows[:, columns]))]
    return near[near != h]


def _chunks(gen_off, size: int, parts: int = 1):
    """Consecutive runs of cells (index arrays) holding about ``size`` generators each, or fewer
    so that there are ``parts`` runs at least (as many as there are cells at most), as even as
    whole cells allow."""
    n = len(gen_off) - 1
    if n == 0:
        return [np.zeros(0, np.int64)]
    total = int(gen_off[-1])
    k = max(-(-total // size), parts)
    bounds = np.searchsorted(gen_off, np.arange(1, k) * (total / k), side="right") - 1
    bounds = np.unique(np.concatenate([[0], bounds[bounds > 0], [n]]))
    return [np.arange(a, b, dtype=np.int64) for a, b in zip(bounds[:-1], bounds[1:])]


def _in_float64(point) -> np.ndarray | None:
    """The exact point ``point`` (an integer vector ``(t, x)``, ``t > 0``) as float64 ``(1, x)``
    where every coordinate is exactly a float64 (dyadic, within range), else None (rays too)."""
    if point is None or point[0] <= 0:
        return None
    x = float_coordinates(point)
    t = int(point[0])
    if x is None or any(_ratio_differs(c, int(p), t) for c, p in zip(x, point[1:])):
        return None
    return np.array([1.0] + x)


def _ratio_differs(c: float, p: int, t: int) -> bool:
    """Whether the finite float ``c`` differs from ``p / t`` (``t > 0``), in integers:
    ``c = n / m`` exactly with ``m > 0``, so they are equal when ``n t = p m``."""
    n, m = c.as_integer_ratio()
    return n * t != p * m


class _Answers:
    """Exact signs settled so far, as the flat table the kernel looks them up in, with the
    exact generators where float64 holds them exactly."""

    def __init__(self):
        self.cell, self.h, self.sign, self.inc, self.within, self.point = [], [], [], [], [], []
        self.of_cell = {}  # cell -> its answers' positions, in the order they came
        self.within_of = {}  # (cell, hyperplane) -> the incidences of its answers ``within``

    def __len__(self):
        return len(self.cell)

    def add(self, cell, h, incidence, sign, point, within=False, held=None):
        """Record the exact ``sign`` of hyperplane ``h`` at the generator of ``cell`` with
        ``incidence`` (sorted), or where ``within`` at every generator of the cell whose
        incidence holds that one (see :data:`~regionenum.engine.kernels.splitting.Answers`): one
        that vanishes on the cell (an empty incidence), one that is a multiple of a constraint
        (its id), or a point's sign (its incidence has rank ``d``: no other point holds it).
        ``held``: the incidence as a frozenset, where the caller has it (the answers at one
        point share theirs, and its array: neither is changed)."""
        self.of_cell.setdefault(cell, []).append(len(self.cell))
        self.cell.append(cell)
        self.h.append(h)
        self.sign.append(sign)
        self.inc.append(np.asarray(incidence, np.int64))
        self.within.append(within)
        self.point.append(point)
        if within:
            held = frozenset(np.asarray(incidence).tolist()) if held is None else held
            self.within_of.setdefault((cell, h), []).append(held)

    def covers(self, cell, h, incidence) -> bool:
        """Whether an answer ``within`` holds for hyperplane ``h`` at the generator of ``cell``
        with ``incidence`` (constraint ids; a set is read fastest)."""
        wanted = self.within_of.get((cell, h), ())
        return any(w.issubset(incidence) for w in wanted)

    def table(self, D: int, cells) -> Answers:
        """The answers of ``cells`` (increasing), the only ones a kernel pass over them looks up,
        as a table sorted by cell (the kernel looks a cell's answers up by bisection); points
        have ``D`` coordinates, NaN where there is none. (A table of every answer so far,
        rebuilt for each pass, grew with the answers of cells long finished.)"""
        order = [i for c in cells.tolist() for i in self.of_cell.get(c, ())]
        incs = [self.inc[i] for i in order]
        off = offsets_of([len(i) for i in incs])
        inc = np.concatenate(incs) if incs else np.zeros(0, np.int64)
        points = np.full((len(order), D), np.nan)
        for row, i in enumerate(order):
            if self.point[i] is not None:
                points[row] = self.point[i]
        return Answers(np.array([self.cell[i] for i in order], np.int64),
                       np.array([self.h[i] for i in order], np.int64), off, inc,
                       np.array([self.within[i] for i in order], np.bool_),
                       np.array([self.sign[i] for i in order], np.int8), points)
