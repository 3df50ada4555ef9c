"""The engine's general step: cells given by their vertices (and rays) with incidence.

A batch of cells waiting for layer ``l`` comes with, per cell, the matrix ``J`` whose columns
are the layer's pre-activations as rows over ``(t, x)``, and ``E``, a rigorous bound per column
on its distance from the exact rows (summed over the rows), which the kernel's sign rule needs.
:meth:`PolytopeStep.process` splits the batch by the layer's units
(:func:`~regionenum.engine.split.split` by each unit's sign, or
:func:`~regionenum.engine.argmax.split_by_argmax` by the winner of each max group), records the
state bits on the pieces, and hands them on in batches for layer ``l + 1``, whose rows come
from a matrix product when the batch is popped: ``J' = (slopes * J[parent]) @ W'^T`` plus the
bias on the ``t`` row, one block of it shared by siblings that differ on few units, each adding
its own terms of those (:meth:`PolytopeStep._wide_rows`); ``E`` follows by the standard bound on
a dot product's rounding, ``|fl(x . y) - x . y| <= gamma_n |x| . |y|`` (for the sum's terms in
any order), applied to each product and to the errors carried in: one more product, on
magnitudes. After the last layer that splits, pieces are regions.

Carried unit by unit through ``|W|``, ``E`` grows by the weights' absolute row sums per layer,
far faster than errors can grow on wide deep networks. So each cell also carries ``N``, a bound
on the 2-norm of its rows' errors, which grows by a proven bound on ``||W||_2`` per layer
(:mod:`~regionenum.core.norm_bounds`, :meth:`PolytopeStep._norm_bounds`); each unit's error is
also at most its row's norm times that carried norm (:meth:`PolytopeStep._unit_bounds`), and
its bound is the smaller of the two. On the suite's 512-wide network of eight layers this leaves
no sign to exact arithmetic where the unit-by-unit bound left 27. The product through ``|W|``, as
large as the rows' own, is computed in a count only on layers where the norm bound alone left
signs to the stronger stages (:meth:`PolytopeStep._products_pay`): on every network of the suite
the float64 filter decides the same signs without it.

Either bound still grows by about ``||W||_2`` per layer while the rows keep their size, so on
deep networks a run carries its rows in two parts, ``J + lo`` (:class:`Rows`,
:mod:`~regionenum.engine.two_part`), whose products round some thirty binary digits lower; it
decides at its start (:attr:`PolytopeStep.in_two_parts`), the kernel reads ``J`` alone.
"""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..core.arrays import batches, get_bits, kernel_array, set_bits
from ..core.exact import ExactNetwork
from ..core.network import RUN_TABLES, work_out_bounds
from ..core.threads import blas_on_one_thread
from ..core.tolerances import ETA, U, gamma, quantum
from .argmax import split_by_argmax
from .assemble import SECONDS_PER_GENERATOR
from .cells import CellParts, CellSet
from .driver import Entry, Tally
from .kernels.crossings import most_crossed
from .kernels.rows import (
    add_own_bounds,
    add_own_terms,
    block_bounds,
    gather_masked,
    narrow_rows_and_bounds,
    own_room,
    shared_rows_and_bounds,
    unit_error_bounds,
)
from .kernels.screening import screened_rows
from .kernels.splitting import BOX_INPUTS, no_sides
from .roots import Roots, root_cells
from .split import SIGN_STAGES, split
from .two_part import SlicedColumns, absolute_term, two_part_product

__all__ = ["FIRST_LAYER_PIECES", "MAX_DIM", "PendingRows", "PolytopeStep", "REST_PIECES", "Rows", "STAGE",
           "TWO_PARTS_DEPTH", "TWO_PARTS_FROM", "TWO_PARTS_POINTS", "TakenRows"]

#: The first of the :data:`~regionenum.engine.split.SIGN_STAGES` after the float64 filter and the
#: exact zeros: a sign decided there was a question the filter's error bounds could not answer.
ASKED = SIGN_STAGES.index("float64 expansions")
#: Hyperplanes per stage when a few cells are split by many (see :meth:`PolytopeStep.split_layer`).
STAGE = 64
#: In higher dimensions fewer: a stage of ``s`` hyperplanes may cut a cell into up to
#: ``sum_{j <= d} C(s, j)`` pieces in one kernel call, each with some ``2^d`` vertices; this bounds
#: their product, so that a call takes well under a second and budgets and Ctrl-C are seen
#: (in 7-D a stage of 8 hyperplanes on a cube took 18 s, one of 6 about a second).
STAGE_WORK = 1 << 13
#: The same for the later stages of a split in stages, once the pieces are many and small (see
#: :func:`_stage_size`): a cell the rest of the hyperplanes happen to cross together is cut
#: into at most about 30,000 pieces in 2-D.
LATER_STAGE, LATER_STAGE_WORK = 16 * STAGE, 16 * STAGE_WORK
#: Pieces the first layer that splits may cut the root cells into at once, as its first stages'
#: pieces foretell (see :meth:`PolytopeStep._rest_waits`): beyond, those pieces wait on the
#: stack for the rest of the layer, which cuts each batch of them when it is popped, into about
#: ``REST_PIECES`` pieces. So a run holds the first layer's pieces a batch at a time, not all
#: of them: 1,232 lines on a square make 695,000 pieces, whose patterns alone (4,928 units, two
#: bits each) took 0.8 GB.
FIRST_LAYER_PIECES, REST_PIECES = 1 << 17, 1 << 14
#: The unit-by-unit bound on a layer's rows is computed, once wanted (see
#: :meth:`PolytopeStep._products_pay`), while it comes out below the per-unit norm bound on more
#: than ``PAYS`` of a batch's entries, and on a layer that splits for at most ``RECHECK`` batches in
#: a row before the norm bound alone is tried again; on a layer that does not split it is tried
#: again every ``RECHECK``-th batch.
PAYS, RECHECK = 0.01, 16
#: A batch split with the norm bound alone makes the unit-by-unit product wanted on the next
#: batches (:meth:`PolytopeStep._signs_escaped`) where it left at least one sign per
#: ``PRODUCT_PAYS_PER`` of its cells to the stronger stages. Measured (thread seconds): a sign
#: in exact arithmetic took 8.5 ms on the 768-wide net of ``benchmarks/scaling.py`` (layers of
#: 768), about as long as the products of 290 cells through ``|W|`` of the layers before it at
#: BLAS's speed, and 0.16 ms on four 64-wide layers (500 cells' products); the product spared
#: a third to two thirds of the signs (1,232 wide: 651 left against 1,013; four 64-wide layers:
#: 5,727 against 12,448): a sign the product spares is worth the products of about 290 x 0.4,
#: some 120 cells. Fewer signs than that are cheaper to settle than to avoid: on the ten-million
#: count one sign now and then had the product computed on 16 batches of every layer before it
#: (up to 6% of the count's time; the count without them, 1,013 exact signs, was the faster).
PRODUCT_PAYS_PER = 120
#: Layers of at most this many units (the output layer, as a rule) get their rows as a few sums
#: per child (dot products, or term by term from four units), without masked copies of the
#: parents' rows (as large as those rows, for a matrix product of a few columns):
#: :func:`~regionenum.engine.kernels.rows.narrow_rows_and_bounds`.
#: At 7 (layers of 8 units or more by a matrix product) r4_small's count (16-unit layers in 4-D)
#: took 1.36 times as long; an output layer of ten classes gained 1-9% (the digits plane's
#: enumeration 1% in one in-process A/B, 4% in another), also with the product kept to layers
#: of 32 inputs or more.
NARROW = 16
#: On layers after at least ``SHARE_FROM`` units, siblings share a block of their rows' matrix
#: product while it pays (see :func:`~regionenum.engine.kernels.rows.shared_rows_and_bounds`):
#: ``OWN_TERM_COST`` is what adding one unit's terms to a child's rows costs (a pass over the
#: rows), in units of one unit's share of a block's product (BLAS, near the core's peak).
#: Measured per core: 2.4 at 128 units, 3.3 at 512 (3.8 on r2_wide's first layer); counts of the
#: suite's widest networks were as fast at 3 as at 5 (and, with an earlier rule that grew chunks
#: far larger, slower at 8). After fewer units the products are small and the copies of the
#: shared blocks to every child cost about what they save: sharing after 64 units made r2_mid's
#: count 0.95-0.96 of the time and its enumeration 0.98-0.99; after 32 or 16, r2_deep's, r2_small's
#: and r4_small's counts and enumerations took 0.98-1.02 of the time.
SHARE_FROM, OWN_TERM_COST = 64, 5
#: The unit-by-unit bound's product is shared by siblings as their rows' product is where the
#: blocks are at most this share of the children: with more, the product saved is small, and the
#: blocks' bounds and their product are held beside the children's (r1_deep, about three blocks
#: for four children, held 10 MB more and gained nothing; r2_wide's second layer has a block for
#: ten children).
SHARE_BOUNDS_BELOW = 0.75
#: In a count, the last layer that splits has its rows made by a float32 product and screened
#: (:meth:`PolytopeStep._screened`) where it has at least this many units: the product halves,
#: and the screen's own pass costs a few microseconds a child plus the rows it recomputes, which
#: grow with the layer's width squared (the float32 bound grows with it). On the scaling nets
#: ``[2] + [w] * 4 + [1]`` (fresh processes, alternating, medians): w = 1,232 took 352 s against
#: 394 (one run each), w = 768 0.95-0.97 of the time, w = 512 1.02, w = 384 1.02, w = 256 1.03, and
#: the suite's r2_wide (a 256-wide last layer after another) 1.16.
SCREEN_FROM = 768
#: A run carries its rows in two parts, ``hi + lo`` (:mod:`~regionenum.engine.two_part`), where
#: rows in one part would end with error bounds above this share of their size at the last
#: layer that splits (the median over the units of a few points' cells, :meth:`PolytopeStep.start`).
#: An error made is carried on, so rows go in two parts from the first product on, or not at
#: all. On He-initialised networks of 32 units the share grows about 2^1.5 per layer, and the
#: float64 filter's questions with it: 16 exact signs after fifteen layers (a share of about
#: 2^-21), 2,958 after twenty (2^-16, 6.4 s of exact arithmetic in a count of 8.5 s), where two
#: parts cost about 2 s more than one.
TWO_PARTS_FROM = 2.0 ** -18
#: Points of the domain whose cells' bounds that share is read from.
TWO_PARTS_POINTS = 8
#: Networks with fewer layers than this up to the last that splits keep one part without that
#: reading (about 0.1 ms per layer; a tenth of a small count's time): their bounds end some
#: 2^-38 of the rows' size at 2^1.5 per layer, below the share even at 2^3.
TWO_PARTS_DEPTH = 7
#: The most inputs this cell representation takes: a cell of a ``d``-dimensional box starts with
#: ``2^d`` corners, and its pieces' vertex lists grow much faster than their number, so beyond
#: this a single cell's split can take minutes and gigabytes in one uninterruptible kernel call.
MAX_DIM = 10


class Magnitudes:
    """What a layer's error bounds read: ``|W|`` (C-contiguous), ``|b|``, the row sums of ``|W|``
    and proven bounds on the rows' 2-norms.

    ``|W|`` and its row sums are made on first use: only the unit-by-unit bound's product, the
    narrow layers' rows and the bounds on underflow read them, and a count whose norm bounds
    decide every sign never reads a wide layer's (r1_deep's first count made seven 2 MB copies
    it never read)."""

    def __init__(self, layer):
        self.layer = layer
        self.abs_b = np.abs(layer.b)
        self.row_norms = layer.row_norms

    @functools.cached_property
    def abs_W(self) -> np.ndarray:
        """``|W|``, made on first use."""
        return np.abs(self.layer.W)

    @functools.cached_property
    def abs_W_T(self) -> np.ndarray:
        """``|W|^T``, C-contiguous, made on first use (the narrow layers' rows summed term by
        term read it)."""
        return np.ascontiguousarray(self.abs_W.T)

    @functools.cached_property
    def row_sums(self) -> np.ndarray:
        """The row sums of ``|W|``, made on first use."""
        return self.abs_W.sum(axis=1)

    @functools.cached_property
    def single_weights_T(self) -> np.ndarray:
        """``[W | b]^T`` rounded to float32, for products screened in float32 (see
        :meth:`PolytopeStep._screened`), made on first use."""
        return self.layer.weights_and_bias_T.astype(np.float32)

    @functools.cached_property
    def largest_weight(self) -> float:
        """The largest ``|w|`` of ``[W | b]``."""
        return float(max(self.abs_W.max(initial=0.0), self.abs_b.max(initial=0.0)))

    @functools.cached_property
    def sliced_columns(self) -> SlicedColumns:
        """``[W | b]^T`` cut into slices for products in two parts, made on first use."""
        return SlicedColumns(self.layer.weights_and_bias_T)


class SharedBlocks(NamedTuple):
    """How :meth:`PolytopeStep._wide_rows` shared a batch's masked rows among siblings (see
    :func:`~regionenum.engine.kernels.rows.shared_rows_and_bounds`): the number of ``blocks``,
    each child's block ``owner`` and own units ``own[span[i, 0]:span[i, 1]]``; the unit-by-unit
    bound's product is shared the same way."""

    blocks: int
    owner: np.ndarray
    span: np.ndarray
    own: np.ndarray


class Rows(NamedTuple):
    """A batch's hyperplane rows for one layer: ``J`` (``(cells, D, units)``, the rows over ``(t,
    x)``), ``lo`` (None, or low parts of the same shape: the rows are then ``J + lo``), a bound
    ``E`` per cell and unit (``(cells, 1, units)``) on ``sum_k |rows - exact|`` and one ``N`` per
    cell on ``sum_k ||rows_k - exact_k||_2``. ``sides`` (None, or int8 ``(cells, units)``) holds
    per cell and unit +1 (-1) where the unit's hyperplane is proven to miss the cell on that
    side, 0 elsewhere: the rows and bounds of those units are not formed, and the norm bound of
    a cell with any of them is infinite (a count's screened last rows,
    :meth:`PolytopeStep._screened`)."""

    J: np.ndarray
    E: np.ndarray
    N: np.ndarray
    lo: np.ndarray | None = None
    sides: np.ndarray | None = None

    def one_part(self) -> Rows:
        """The same rows as ``J`` alone: the low parts' sizes added to the bounds (``sum_k
        ||lo_k||_2`` at most the sum of ``|lo|``)."""
        if self.lo is None:
            return self
        D, units = self.J.shape[1], self.J.shape[2]
        low = np.abs(self.lo).sum(axis=1, keepdims=True)  # per cell and unit, over the D rows
        E = (self.E + low) * (1.0 + gamma(D + 4))
        N = (self.N + low.sum(axis=(1, 2))) * (1.0 + gamma(D * units + 4))
        return Rows(self.J, E, N, sides=self.sides)

    def take(self, index) -> Rows:
        """The rows of the cells ``index`` (an index array or a slice)."""
        return Rows(self.J[index], self.E[index], self.N[index], None if self.lo is None else self.lo[index],
                    None if self.sides is None else self.sides[index])


@dataclass
class ProductRecord:
    """Per layer, whether its next batch's rows get the unit-by-unit bound (``wanted``),
    whether the last batch's had it (``used``), how many batches came (``batches``) and how many
    in a row had it (``streak``); see :meth:`PolytopeStep._products_pay`."""

    wanted: bool
    used: bool = False
    batches: int = 0
    streak: int = 0


class PendingRows:
    """The hyperplane rows of layer ``layer`` for the ``children`` (a :class:`CellSet`) of cells
    whose :class:`Rows` for ``layer - 1`` are ``rows``: each child's ``parent``, and its layer
    ``layer - 1`` units' states in its pattern (``children`` None where that layer has one
    state). Calling it computes them; until then a waiting batch holds only its cells, whose
    patterns hold the states in a bit each."""

    def __init__(self, step: "PolytopeStep", layer: int, rows: Rows, parent, children: CellSet | None):
        self.step, self.layer, self.rows = step, layer, rows
        self.parent, self.children = parent, children

    def __call__(self) -> Rows:
        bits = None if self.children is None else self.step.layer_bits(self.layer - 1, self.children)
        return self.step.next_layer_rows(self.layer, self.rows, self.parent, bits, self.children)


class TakenRows:
    """The :class:`Rows` of layer ``layer`` for cells that have their ``parent`` cells' rows of
    it (pieces waiting for the rest of a layer, see :data:`FIRST_LAYER_PIECES`): taken when
    called. As :class:`PendingRows`, its cells' patterns hold no states it reads (``children``
    None)."""

    children = None

    def __init__(self, layer: int, rows: Rows, parent):
        self.layer, self.rows, self.parent = layer, rows, parent

    def __call__(self) -> Rows:
        return self.rows.take(self.parent)


class PolytopeStep:
    """Split cells of ``network`` layer by layer (see the module's description).

    ``keep`` keeps finished cells with their output maps (for a full result); otherwise they are
    only counted, and cells stop at the last layer that splits. ``roots`` are the domain's root
    cells (made from ``domain`` by :meth:`start` when not given). For the estimate of the
    assembly's time (:meth:`assembly_seconds`), ``kept_generators`` counts the generators of the
    cells kept, from ``kept_before`` (a worker's earlier pieces of the same result), and
    ``keepers`` is how many runs keep cells at about this one's pace for one result (the workers
    of a parallel run).
    """

    def __init__(self, network, domain, tol: float, batch_size: int, keep: bool, roots: Roots | None = None,
                 keepers: int = 1, kept_before: int = 0):
        self.net = network
        self.domain = domain
        self.tol = float(tol)
        self.batch_size = int(batch_size)
        self.keep = keep
        self.roots = roots
        self.keepers = keepers
        self.kept_generators = kept_before
        self.exact_net = ExactNetwork(network)
        self._last_split = max(network.split_layers, default=0)
        #: The first layer that splits: the one the run's split by runs alone, before any
        #: subtrees (:mod:`~regionenum.engine.subtrees`) or worker processes take the pieces on.
        self.first_split = min(network.split_layers, default=0)
        self._buffers = {}
        self._product_record = self._first_records()

    def fork(self, keepers: int, buffers: dict | None = None, kept_before: int = 0) -> PolytopeStep:
        """A step for one subtree of this run, run beside others (``keepers`` in all) on threads:
        the same network, domain, root cells and tables (shared, read only; exact answers are
        asked one thread at a time, see :func:`~regionenum.engine.split.split`), with its own
        records of the bounds' products, as a fresh step would have, its count of kept
        generators starting from ``kept_before`` (see :meth:`assembly_seconds`), and the
        temporary ``buffers`` given (those of the thread's earlier subtrees: a thread runs one
        at a time) or new ones."""
        self.share_tables()
        sub = copy.copy(self)
        sub._buffers = {} if buffers is None else buffers
        sub._product_record = self._first_records()
        sub.keepers, sub.kept_generators = keepers, kept_before
        return sub

    def share_tables(self) -> None:
        """Make the tables the steps of one run's subtrees share (:meth:`fork`), before threads
        could each make them: the layers' bounds and magnitudes, the underflow flags, and (once
        the root cells are there, :meth:`start`) whether rows go in two parts."""
        self._magnitude_layers, self._may_underflow  # noqa: B018 (cached on this step, copied)
        if self.roots is not None:
            self.in_two_parts  # noqa: B018

    def _first_records(self) -> list:
        """Per layer, the :class:`ProductRecord` a run starts with: when its rows get the product
        through ``|W|`` (see :meth:`_products_pay`)."""
        return [ProductRecord(wanted=self._bounds_handed_on(l)) for l in range(len(self.net.layers))]

    # -- the driver's interface ---------------------------------------------------------------
    def start(self, tally: Tally) -> list:
        """Cut the domain into root cells (unless given); the first stack entry. First the layers'
        bounds are worked out, all at once on the idle cores
        (:func:`~regionenum.core.network.work_out_bounds`, under the run's budgets): before any
        split, because BLAS's threads wait spinning for a while after their work and would take
        a core from them (after the first layer's split one of r1_deep's 512 x 512 certificates
        took 17 ms in the calling thread, against 6 ms in the other). With them, the tables the
        run reads of each layer (:data:`~regionenum.core.network.RUN_TABLES`; but where a max
        layer's sums take the place of the weights' second copy)."""
        maxed = any(layer.activation.kind == "max" for layer in self.net.layers)
        work_out_bounds(self.net.layers[1:], tally.check, () if maxed else RUN_TABLES)
        if self.roots is None:
            self.roots = root_cells(self.domain, self.net.n_units, self.tol, self.net.n_ties, tally.check)
            if self.roots.signs is not None:
                tally.signs += self.roots.signs
        self.in_two_parts  # noqa: B018 (decided before any product, and before subtrees copy the step)
        return [Entry(0, self.roots.cells, self.first_layer_rows)]

    @functools.cached_property
    def in_two_parts(self) -> bool:
        """Whether this run's rows go in two parts (see :data:`TWO_PARTS_FROM`): the layers up to
        the last that splits have a slope per unit (not max groups), and on the cells of
        :data:`TWO_PARTS_POINTS` points of the domain (the root cells' points, mixed at random
        with a fixed seed) rows in one part end with bounds above that share of their size (read
        only after :data:`TWO_PARTS_DEPTH` layers), and rows in two parts below their share (the
        bound in two parts goes by each row's and column's largest entries, one part's by every
        term: on rows of widely mixed magnitudes the first can be the larger)."""
        net = self.net
        carried = all(_masks_in_two_parts(layer.activation) for layer in net.layers[: self._last_split])
        if self._last_split < TWO_PARTS_DEPTH or not carried:
            return False
        gens = self.roots.cells.gens
        points = gens[gens[:, 0] > 0]
        if not len(points):
            return False
        mix = np.random.default_rng(0).dirichlet(np.ones(len(points)), TWO_PARTS_POINTS)
        # small products on one BLAS thread: threads left spinning after them would take a core
        # from the first layer's split (r1_deep's enumeration took 1.0 s against 0.62 s)
        with blas_on_one_thread():
            bits = net.pattern_bits(mix @ (points[:, 1:] / points[:, :1]))
            one = self._share_at_last_split(bits, two_parts=False)
            if one <= TWO_PARTS_FROM:
                return False
            two = self._share_at_last_split(bits, two_parts=True)
            return two < one or (np.isnan(one) and not np.isnan(two))  # NaN: bounds not finite

    def _share_at_last_split(self, bits, two_parts: bool) -> float:
        """The median over units of the error bounds of the rows of the last layer that splits,
        as a share of their size, on the cells of pattern ``bits`` (one per row), with rows in one
        part or in two (a count's: the norm bounds alone); infinite or NaN where bounds are not
        finite."""
        net = self.net
        probe = copy.copy(self)  # records and buffers of its own
        probe.in_two_parts, probe._buffers = two_parts, {}
        probe._product_record = [ProductRecord(wanted=False) for _ in net.layers]
        rows = self.first_layer_rows().take(slice(0, 1))
        parent = np.zeros(len(bits), np.int64)
        for l in range(1, self._last_split + 1):
            o, k = net.unit_offsets[l - 1], len(net.split_units[l - 1])
            # a layer's states in C order, as a run's are: the rows' kernels compiled for the
            # layout of a slice of these few rows would be loaded for them alone (about 10 ms)
            layer_bits = np.ascontiguousarray(bits[:, o: o + k]) if k else None
            rows = probe.next_layer_rows(l, rows, parent, layer_bits)
            parent = np.arange(len(bits))
        size = np.abs(rows.J).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = rows.E[:, 0][size > 0] / size[size > 0]
        return float(np.median(share)) if len(share) else 0.0

    def assembly_seconds(self) -> float:
        """A generous estimate of the seconds the result's assembly will take on the cells kept
        so far (see :data:`~regionenum.engine.assemble.SECONDS_PER_GENERATOR`), which a time
        limit leaves room for."""
        return self.kept_generators * self.keepers * SECONDS_PER_GENERATOR

    def process(self, entry: Entry, tally: Tally) -> list:
        """Split ``entry``'s cells by its layer; the children's entries for the next layer (or
        none, after the last layer, the pieces being finished)."""
        l, cells = entry.layer, entry.cells
        rows = entry.rows()
        J, E, sides = rows.J, rows.one_part().E, rows.sides  # the kernel reads rows in one part
        net = self.net
        splits = len(net.split_units[l]) > 0
        # a count's finished pieces are counted as the split made them (a full result's are
        # joined: the kernel's buffers hold more than their pieces, which held r4_small's kept
        # cells at 80 MB more)
        counted = not self.keep and l >= self._last_split
        if splits:
            asked = tally.signs[ASKED:].sum()
            children, parent, done = self.split_layer(l, cells, J, E, tally, entry.units_done, join=not counted,
                                                      sides=sides)
            escaped = int(tally.signs[ASKED:].sum() - asked)
            if escaped:
                self._signs_escaped(l, escaped, len(cells))
            if done < len(net.split_units[l]):  # the rest of the layer waits on the stack
                return self.batch_entries(l, children, rows, parent, False, units_done=done)
        else:
            children, parent = cells, np.arange(len(cells))
        if counted:
            self._finish(children, None, None, tally)  # no later layer splits: the cells are regions
            return []
        last = len(net.layers) - 1
        if l == last:
            bits = self.layer_bits(l, children) if splits else None
            self._finish(children, *self._collected(l, J, E, parent, self._states(l, bits, len(children))), tally)
            return []
        if l + 1 == last and not len(net.split_units[l + 1]):
            # the last layer only maps the children, which are regions: finished here, in one go
            # (batches of them would be copies for nothing)
            pending = PendingRows(self, l + 1, rows, parent, children if splits else None)
            return self.process(Entry(l + 1, children, pending), tally)
        return self.batch_entries(l + 1, children, rows, parent, splits)

    def batch_entries(self, layer, cells: CellSet, rows: Rows, parent, states: bool, share: float = 1.0,
                      units_done: int = 0) -> list:
        """The stack entries of ``cells`` waiting for ``layer``, in batches of at most the batch
        size, each with its :class:`PendingRows` (its cells' patterns hold the states the rows
        read where ``states``) and its part of ``share``; ``rows`` are the :class:`Rows` of the
        cells' ``parent`` cells for ``layer - 1``. Where ``units_done`` is given, ``cells`` are
        pieces of ``layer``'s first ``units_done`` units, ``rows`` their parents' rows of
        ``layer`` (:class:`TakenRows`), and each batch is as many as the rest of the layer cuts
        into about :data:`REST_PIECES` pieces."""
        n, entries = len(cells), []
        size = max(1, int(REST_PIECES / self.rest_growth(layer, units_done))) if units_done else self.batch_size
        for lo, hi in batches(n, size):
            batch = cells if (lo, hi) == (0, n) else cells.run(lo, hi)
            if units_done:
                pending = TakenRows(layer, rows, parent[lo:hi])
            else:
                pending = PendingRows(self, layer, rows, parent[lo:hi], batch if states else None)
            entries.append(Entry(layer, batch, pending, share * (hi - lo) / n, units_done))
        return entries

    def rest_growth(self, l, units_done) -> float:
        """About how many pieces the rest of layer ``l``'s units cut each piece of its first
        ``units_done`` into: ``m`` hyperplanes in general position make about ``m^d / d!``
        pieces."""
        return (len(self.net.split_units[l]) / units_done) ** self.net.input_dim

    def _rest_waits(self, l, started: int, pieces: int, done: int) -> bool:
        """Whether the rest of layer ``l``, after its first ``done`` units have cut the root
        cells into ``pieces`` (``started``: units done before this entry), waits on the stack:
        on the first layer that splits, when it would make more than
        :data:`FIRST_LAYER_PIECES` pieces."""
        return (l == self.first_split and not started and done < len(self.net.split_units[l])
                and pieces * self.rest_growth(l, done) > FIRST_LAYER_PIECES)

    def layer_bits(self, l, cells: CellSet) -> np.ndarray:
        """The states of layer ``l``'s units with several states on ``cells``, from their patterns
        (``(cells, units)`` bool)."""
        return get_bits(cells.packed, self.net.unit_offsets[l], len(self.net.split_units[l]))

    # -- layers --------------------------------------------------------------------------------
    def first_layer_rows(self):
        """The first layer's hyperplane rows, the same for every root cell: exactly its weights
        and biases, so their error bounds are zero."""
        first = self.net.layers[0]
        J0 = np.concatenate([first.b[None, :], first.W.T], axis=0)  # (d + 1, width_0)
        n = len(self.roots.cells)
        return Rows(kernel_array(np.broadcast_to(J0, (n,) + J0.shape), np.float64),
                    np.zeros((n, 1, first.width)), np.zeros(n))

    def next_layer_rows(self, l, rows: Rows, parent, bits, children: CellSet | None = None) -> Rows:
        """The :class:`Rows` of layer ``l`` for children of cells with ``rows`` of layer ``l -
        1`` (``parent`` and state ``bits`` per child), with bounds on their errors (see the
        module's description): in two parts where the run's are (:attr:`in_two_parts`) and the
        layer has a slope per unit (not a max group's sums). Where the ``children`` are given
        and :meth:`_screens` says so, most rows come from a float32 product
        (:func:`~regionenum.engine.kernels.screening.screened_rows`)."""
        on = self._states(l - 1, bits, len(parent))
        act = self.net.layers[l - 1].activation
        off = act.off_slope
        if self.in_two_parts and _masks_in_two_parts(act):
            two = self._two_part_rows(l, rows, parent, on)
            if two is not None:
                return two
        J, E, N = rows.one_part()[:3]
        layer = self.net.layers[l]
        n, D, width = len(parent), J.shape[1], J.shape[2]
        # errors carried in (slopes 0 and 1 are exact; another slope rounds once) and this
        # product's rounding, both through |W|: E' = (gamma |M| + dM) |W|^T + gamma |b|
        g = gamma(width + D + 2)
        rounding = g + (U if off not in (0.0, 1.0) else 0.0)
        product = None  # the unit-by-unit bound's product, where computed with the rows
        blocks = None  # how siblings shared their rows' product, where they did
        products = None  # whether the unit-by-unit bound is wanted, where asked before the rows
        if act.kind != "max":  # |M| + dM = |slope| (|J| + dJ), into buffers kept between calls
            sizes = self._buffer("sizes", (n, 4))
            if layer.width <= NARROW:  # no masked rows M: a few sums per child
                rows, product = np.empty((n, D, layer.width)), np.empty((n, layer.width))
                mags = self._magnitude_layers[l]
                narrow_rows_and_bounds(J, E, parent, on, off, rounding, layer.W, layer.weights_and_bias_T[:-1],
                                       layer.b, mags.abs_W, mags.abs_W_T, rows, product, sizes)
                pre = None
            else:
                single = self._magnitude_layers[l] if self._screens(l, children) else None
                products = self._products_pay(l)
                rows, pre, blocks = self._wide_rows(layer, J, E, parent, on, off, rounding, sizes, single,
                                                    products)
        else:  # a group's winner: sums over the group
            M, carried = self._collected(l - 1, J, E, parent, on)
            carried = carried[:, 0, :]
            a = np.abs(M).sum(axis=1)
            pre = rounding * a + carried
            sizes = np.stack([a.sum(axis=1), a.max(axis=1), pre.sum(axis=1), pre.max(axis=1)], axis=1)
            rows = (M.reshape(n * D, M.shape[2]) @ layer.W.T).reshape(n, D, layer.width)
            rows[:, 0, :] += layer.b
        with np.errstate(over="ignore"):  # a bound beyond float64 is infinite, as it should be
            N, scale = self._norm_bounds(l, D, width, N, parent, sizes)
        screened = rows.dtype == np.float32  # the blocks' products, each child's own terms added by the screen
        E = self._unit_bounds(l, pre, scale, g, product, blocks=blocks, products=products,
                              deferred=screened and not self._may_underflow[l])
        E, N = self._with_underflow(l, D, width, E, N)
        if screened:
            return self._screened(l, rows, blocks, E, N, sizes, J, parent, on, off, children, scale, g)
        return Rows(rows, E[:, None, :], N)

    def _screens(self, l, children: CellSet | None) -> bool:
        """Whether the rows of layer ``l`` for ``children`` (None: not given) are formed in
        float32 and screened (:mod:`~regionenum.engine.kernels.screening`): in a count, on the
        last layer that splits, where it has at least :data:`SCREEN_FROM` units, on inputs the
        splitting kernel's box test takes (up to
        :data:`~regionenum.engine.kernels.splitting.BOX_INPUTS`); the product is then most of a
        wide network's count, and its rows serve that layer's split alone."""
        return (children is not None and not self.keep and l == self._last_split
                and self.net.layers[l].width >= SCREEN_FROM and self.net.input_dim <= BOX_INPUTS)

    def _single_bounds(self, l, sizes, n):
        """The floors of the rounding of layer ``l``'s rows made in float32 (:meth:`_wide_rows`)
        for ``n`` children with ``sizes``
        (:func:`~regionenum.engine.kernels.rows.shared_rows_and_bounds`): the rounding, on top
        of the float64 bound, is ``gamma_(m_i + 4) (||a_i||_2 ||W_u||_2 + |b_u|) + unit_floor[u] +
        child_floor[i]``, the first term formed by
        :func:`~regionenum.engine.kernels.screening.screened_rows` (``m_i`` the child's units of
        layer ``l - 1`` with a slope other than 0, ``gamma`` of float32's unit roundoff ``u =
        2^-24``).

        Each entry is a sum of terms ``m w`` (a masked row's entry times a weight, or the bias
        times 1), the block's rounded to float32 before BLAS's product, the own terms
        (:func:`~regionenum.engine.kernels.rows.add_own_terms`) formed in float64 and added in
        float32: each term within ``2 u`` of its exact value. At most ``m_i + 1`` terms are not
        zero (the block's entries of units off on the child, and of its children's own units,
        are zeros, and so are their products), and a zero added rounds nothing, in whatever
        order BLAS sums: at most ``m_i`` of the additions round, so the entry is within
        ``gamma_(m_i + 4) sum |m| |w|`` of the exact sum of the masked rows' products, in
        float32's normal range. Summed over the ``D`` rows that is ``gamma sum_j a_j |w_j|``
        with ``a = sum_k |M_k|``, at most ``gamma (||a||_2 ||W_u||_2 + |b_u|)``. Below float32's
        normal range a product or a rounded entry errs by up to ``2^-150`` absolutely (sums of
        such are exact): at most ``2^-149`` per term and row, through ``sum_j |w_j| + sum(a) +
        width + 1``, the floors. :meth:`_wide_rows` makes float32 rows only where no entry can
        overflow."""
        mags = self._magnitude_layers[l]
        width = mags.layer.W.shape[1]
        floor = (self.net.input_dim + 1) * 2.0 ** -149
        child_floor = floor * (sizes[:n, 0] + width + 1) * (1.0 + 8.0 * U)
        unit_floor = floor * mags.row_sums * (1.0 + 8.0 * U)
        return child_floor, unit_floor

    def _screened(self, l, shared, blocks: SharedBlocks, E, N, sizes, J, parent, on, off,
                  children: CellSet, scale, g) -> Rows:
        """The :class:`Rows` of layer ``l`` from its float32 rows (the blocks' products
        ``shared``, shared by the children as ``blocks`` says, and each child's own terms) and
        float64 bounds ``E`` and ``N``: each unit's side of each child where the float32 rows,
        with their rounding added to the bounds, prove that its hyperplane misses the child
        (those rows and bounds are not formed, and the norm bound of a child with any of them
        is infinite), the other units' rows recomputed in float64 with their float64 bounds
        (:func:`~regionenum.engine.kernels.screening.screened_rows`). Where ``E`` is None
        (:meth:`_unit_bounds` deferred it: the norm bound alone) the screen forms each child's
        from its carried norm ``scale`` and the rounding ``g``, and writes those of the
        recomputed rows only."""
        layer, mags = self.net.layers[l], self._magnitude_layers[l]
        n = len(parent)
        child_floor, unit_floor = self._single_bounds(l, sizes, n)
        # (into buffers kept between calls: these rows, bounds and sides serve this batch's split
        # alone, which is over before the next batch's rows are made)
        out = self._buffer("screened", (n,) + shared.shape[1:])
        form_E = E is None
        E = self._buffer("screened bounds", (n, 1, layer.width)) if form_E else E[:, None, :]
        sides = self._buffer("sides", (n, layer.width), np.int8)
        cells = children.arrays
        screened_rows(shared, blocks.owner, blocks.span, blocks.own, mags.single_weights_T, E, form_E, scale,
                      mags.abs_b, g, 1.0 + 2.0 * g, child_floor, unit_floor, mags.row_norms, J, parent, on, off,
                      layer.W, layer.b, cells.gen_off, cells.gens, cells.gen_err, self.roots.constraints.ref,
                      self.tol, out, sides)
        return Rows(out, E, np.where(sides.any(axis=1), np.inf, N), sides=sides)

    def _with_underflow(self, l, D, width, E, N):
        """The bounds ``E`` and ``N`` of layer ``l``'s rows (``D`` coefficients, from ``width``
        inputs) with what products below float64's normal range may add, on layers where they
        may occur (:meth:`_underflow`)."""
        if not self._may_underflow[l]:
            return E, N
        floor = self._underflow(l, D, width)  # the same for every child
        # sum_k ||.||_2 <= sqrt(D) ||floor||_2
        return E + floor, N + np.sqrt(D * len(floor)) * floor.max(initial=0.0)

    def _two_part_rows(self, l, rows: Rows, parent, on) -> Rows | None:
        """:meth:`next_layer_rows` in two parts (:func:`~regionenum.engine.two_part.two_part_product`):
        the children's masked rows ``A`` (and low parts) are exact, or for slopes other than 0
        and 1 their rounding is the product's, so the new rows' error is the product's, at most
        ``factor_i 2^f_o`` per row (summed over the ``D`` rows into each unit's bound), plus the
        parents' errors carried through ``W`` as in one part, by the smaller of the unit-by-unit
        and the norm bound, without a rounding term. None where the rows' scales leave the
        product's safe range (rows in one part then)."""
        J, E, N, lo = rows[:4]
        act = self.net.layers[l - 1].activation
        mags = self._magnitude_layers[l]
        n, D, width = len(parent), J.shape[1], J.shape[2]
        terms = width + 1
        if not (np.isfinite(E).all() and np.isfinite(N).all()):
            return None
        scratch = self._buffer("slices", (n * D * 4 * terms,))
        product = two_part_product(J, lo, parent, on, act.off_slope, mags.sliced_columns, scratch)
        if product is None:
            return None
        hi, lo, factor = product
        scale = mags.sliced_columns.scale
        # the product's rounding per child and unit, summed over the rows, and as a norm bound
        child_factor = factor.sum(axis=1)
        rounding = np.outer(child_factor, scale)
        nonzero = np.count_nonzero(factor, axis=1)  # rows not zero: an exact zero row has no error
        absolute = absolute_term(terms) * np.outer(nonzero, scale > 0)
        scale_norm = np.sqrt(np.sum(scale * scale)) * (1.0 + gamma(len(scale) + 2))
        rounding_norm = child_factor * scale_norm + nonzero * absolute_term(terms) * np.sqrt(len(scale))
        # the parents' errors carried through W (|s| E: exactly for slopes 0 and 1)
        pre = gather_masked(E, parent, on, abs(act.off_slope))[:, 0, :]
        if act.off_slope not in (0.0, 1.0):
            # |s| E rounded: a little more, so as to stay above it, and ETA where the bound was
            # not zero (below the normal range a product rounds absolutely)
            bounded = gather_masked(E, parent, on, 1.0)[:, 0, :] > 0
            pre = pre * (1.0 + 4.0 * U) + ETA * bounded
        sizes = np.zeros((n, 4))
        sizes[:, 2], sizes[:, 3] = pre.sum(axis=1), pre.max(axis=1, initial=0.0)
        g = gamma(width + D + 2)
        with np.errstate(over="ignore"):
            N, carried = self._norm_bounds(l, D, width, N, parent, sizes, rounded=False)
        E = self._unit_bounds(l, pre, carried, g, bias_rounding=False)
        # (the sums' own rounding: a few additions of non-negative terms)
        E, N = self._with_underflow(l, D, width, (E + rounding + absolute) * (1.0 + 8.0 * U),
                                    (N + rounding_norm) * (1.0 + 8.0 * U))
        return Rows(hi, E[:, None, :], N, lo)

    def _wide_rows(self, layer, J, E, parent, on, off, rounding, sizes, single: Magnitudes | None = None,
                   pre_wanted: bool = True):
        """The rows of ``layer`` (wider than :data:`NARROW`) for children of cells with rows ``J``
        and bounds ``E``, and each child's ``pre`` and ``sizes`` (see
        :func:`~regionenum.engine.kernels.rows.shared_rows_and_bounds`): one matrix product with
        ``[W | b]^T`` per block of masked rows, a block shared by siblings that differ on few
        units (after at least :data:`SHARE_FROM` units), to which each child's terms of those
        units are added (:func:`~regionenum.engine.kernels.rows.add_own_terms`); the bias is the
        blocks' last column (1 on the ``t`` row) times ``b``, a term of each ``t`` row's sum.
        Also returns how the blocks were shared (:class:`SharedBlocks`; in float64, None where no
        siblings shared one), for the unit-by-unit bound's product.

        With ``single`` (the layer's :class:`Magnitudes`), the product is taken in float32, where
        no entry can overflow there (the masked rows' largest entry, ``sizes``, times the largest
        weight, times the terms, below ``2^120``), for :meth:`_screened`: the blocks' products
        are returned in float32 (``(blocks, D, units)``) with how they were shared (always), and
        the screen adds each child's own terms as it reads them (written out as rows and read
        back, they took 39 s of the ten-million count's 608 s of CPU). Without ``pre_wanted`` (the
        unit-by-unit bound, which reads it, not computed for this batch) ``pre`` is not kept
        (None)."""
        n, D, width = len(parent), J.shape[1], J.shape[2]
        M, pre = self._buffer("rows", (n, D, width + 1)), self._buffer("bounds", (n if pre_wanted else 1, width))
        owner, span = self._buffer("owner", (n,), np.int64), self._buffer("span", (n, 2), np.int64)
        cost = float(OWN_TERM_COST) if width >= SHARE_FROM else np.inf  # one type: one compiled kernel
        own = self._buffer("own", (own_room(n, width, cost),), np.int64)
        blocks = shared_rows_and_bounds(J, E, parent, on, off, rounding, M, pre, sizes, owner, span, own, cost)
        pre = pre if pre_wanted else None
        blocks_M = M[:blocks].reshape(blocks * D, width + 1)
        if single is not None and sizes[:n, 1].max(initial=0.0) * single.largest_weight * (width + 2) < 2.0 ** 120:
            single_M = self._buffer("single blocks", blocks_M.shape, np.float32)
            single_M[...] = blocks_M
            shared = self._buffer("shared float32", (blocks * D, layer.width), np.float32)
            np.matmul(single_M, single.single_weights_T, out=shared)
            return shared.reshape(blocks, D, layer.width), pre, SharedBlocks(blocks, owner, span, own)
        weights_T = layer.weights_and_bias_T
        if blocks == n:  # no siblings shared a block: each child's rows are its block's
            return (blocks_M @ weights_T).reshape(n, D, layer.width), pre, None
        shared = self._buffer("shared float64", (blocks * D, layer.width))
        np.matmul(blocks_M, weights_T, out=shared)
        rows = np.empty((n, D, layer.width))
        add_own_terms(shared.reshape(blocks, D, layer.width), owner, J, parent, on, off, span, own, weights_T,
                      rows)
        return rows, pre, SharedBlocks(blocks, owner, span, own)

    def _unit_bounds(self, l, pre, scale, g, product=None, bias_rounding=True, blocks=None, products=None,
                     deferred=False):
        """Per child and unit of layer ``l``, the bound on its row's error: the smaller of the
        unit-by-unit bound ``(pre |W|^T + gamma |b|)`` (a matrix product as large as the rows'
        own, computed only where it pays, :meth:`_products_pay`) and the per-unit norm bound.

        The latter follows from the child's ``scale`` (:meth:`_norm_bounds`): unit ``u``'s error
        is ``sum_k |W_u . d_k + r_ku|`` with ``|W_u . d_k| <= ||W_u||_2 ||d_k||_2`` and ``sum_k
        |r_ku| <= gamma (|W_u| . a + |b_u|)``, ``|W_u| . a <= ||W_u||_2 ||a||_2``, so at most
        ``||W_u||_2 scale + gamma |b_u|``: the norm bound ``N`` with each unit's own row norm in
        place of ``||W||_2``, about half of it on random layers. Both get ``(1 + 2 gamma)`` for
        their own rounding (non-negative terms). ``product``, where given, is the first's product
        already computed (it is then always used). Without ``bias_rounding`` the rows'
        rounding is left out (``gamma |b_u|``; rows in two parts bound theirs apart), ``g`` only
        the factor for the bounds' own. Where siblings shared their rows' product (``blocks``),
        the first's is shared the same way: one product per block and each child's own units'
        terms added (:func:`~regionenum.engine.kernels.rows.add_own_bounds`; r2_wide's second
        layer has about ten children per block). ``products``, where given, is
        :meth:`_products_pay`'s answer for this batch, asked before (``pre`` is then None where
        it was no). With ``deferred``, where the norm bound alone is the bound (no product, and
        no term for products below the normal range) returns None, for the screen to form it
        child by child (:meth:`_screened`)."""
        mags = self._magnitude_layers[l]
        record = self._product_record[l]
        lowest = scale[scale > 0].min(initial=np.inf) * mags.row_norms[mags.row_norms > 0].min(initial=np.inf)
        if product is not None:
            products, E = True, product
        else:
            products = self._products_pay(l) if products is None else products
            if not products and deferred and lowest >= 2.0 ** -1000 and bias_rounding:
                record.used = False
                return None
            if not products:
                E = np.empty((len(scale), len(mags.abs_b)))
            elif blocks is None or blocks.blocks > SHARE_BOUNDS_BELOW * len(pre):
                E = pre @ mags.abs_W.T
            else:
                E = np.empty((len(pre), len(mags.abs_b)))
                shared = block_bounds(pre, blocks.owner, blocks.span, blocks.own, blocks.blocks) @ mags.abs_W.T
                weights_T = mags.layer.weights_and_bias_T
                add_own_bounds(shared, blocks.owner, pre, blocks.span, blocks.own, weights_T, E)
        g_bias = g if bias_rounding else 0.0
        smaller = unit_error_bounds(E, scale, mags.row_norms, mags.abs_b, g_bias, 1.0 + 2.0 * g, products)
        record.used = products
        if products and product is None:
            record.streak += 1
            if smaller <= PAYS * E.size or (not self._bounds_handed_on(l) and record.streak >= RECHECK):
                record.wanted, record.streak = False, 0
        if lowest < 2.0 ** -1000:  # a product below the normal range rounds by up to ETA, absolutely
            E += (4.0 * ETA) * np.multiply.outer(scale > 0, mags.row_norms > 0)
        return E

    def _products_pay(self, l) -> bool:
        """Whether the unit-by-unit bound on layer ``l``'s rows, a matrix product as large as the
        rows' own, is worth computing for the next batch. Either bound alone is proven; this
        only decides the time.

        On a layer that splits, in a count as in a full result, only a sign the float64 filter
        could not decide makes a tighter bound worth anything, so the product is wanted once a
        batch split with the norm bound alone has left signs to the stronger stages, enough of
        them to cost more there than the product (:meth:`_signs_escaped`). It is then computed
        while it comes out below the norm bound on more than :data:`PAYS` of a batch's entries,
        for :data:`RECHECK` batches at most, before the norm bound alone is tried again. (On the
        suite's networks the filter decides every sign it decided with the product; on its
        512-wide network of eight layers the product, computed on the first batch of every
        layer, was a fifth of the count's floating-point work.)

        Elsewhere (:meth:`_bounds_handed_on`: the output layer, max layers) the bounds are handed
        on as well, so it is computed while it pays, and tried again every :data:`RECHECK`-th
        batch."""
        record = self._product_record[l]
        record.batches += 1
        if self._bounds_handed_on(l) and record.batches % RECHECK == 0:
            record.wanted = True
        return record.wanted

    def _bounds_handed_on(self, l) -> bool:
        """Whether the bounds on layer ``l``'s rows matter beyond the signs of its own split: on a
        layer that does not split (the output layer), which has no signs to tell and whose
        bounds become the output maps' error bounds; and on a max layer, whose rows are often
        exactly zero (the max-pooling of ReLU units that are off): only the product bounds their
        errors by zero, so that the ties among them are exact zeros. With the norm bound each
        went to exact arithmetic, and a count of the README's max-pooling network on a plane had
        decided none of its batches after minutes.

        In a full result the bounds of the layers that split also go into the generators' error
        bounds (which decide which vertices are constructed exactly) and the output maps'. The
        product tightens those 1.5 to 6 times on the suite's networks and changed nothing that
        depends on them there: the same signs at every stage, no vertex constructed exactly.
        It cost a tenth of the enumeration of the deep 512-wide network on one input (r1_deep),
        3% on r2_big and r2_deep: a full result takes a count's rule."""
        return not len(self.net.split_units[l]) or self.net.layers[l].activation.kind == "max"

    def _signs_escaped(self, l, escaped: int, cells: int) -> None:
        """The split of a batch of ``cells`` cells by layer ``l`` left ``escaped`` signs to the
        stages after the float64 filter: where the rows of layer ``l`` had the norm bound alone
        and those signs are at least one per :data:`PRODUCT_PAYS_PER` cells, the product through
        ``|W|`` is wanted on it and on every layer before it (a tighter bound there tightens the
        errors carried into layer ``l``) for the next batches."""
        if not self._product_record[l].used and escaped * PRODUCT_PAYS_PER >= cells:
            for record in self._product_record[1: l + 1]:
                record.wanted = True

    def _underflow(self, l, D, width):
        """What products below float64's normal range may add to the errors of the rows of layer
        ``l`` (``D`` coefficients each, from ``width`` inputs; only on layers where such products
        may occur, see :attr:`_may_underflow`), per unit: relative bounds do not hold there, each
        product rounds by up to ``ETA = 2^-1074`` absolutely. For each unit with a nonzero
        weight: the ``D`` dot products of ``width + 1`` terms; the slopes' products with the
        inputs (``D`` per input) and the inputs' bounds (``pre``, a few products each) carried
        through ``|W|``; with a factor of two for the term's own rounding. Units without weights
        get none: their rows are the bias, exactly; and a row exactly zero with no error is
        trusted to be zero, which a product underflowed to zero must never pass for."""
        row_sums = self._magnitude_layers[l].row_sums
        return ETA * (2.0 * (D + 1) * (width + 2) + (2.0 * D + 4.0) * row_sums + 4.0) * (row_sums > 0)

    def _norm_bounds(self, l, D, width, N, parent, sizes, rounded=True):
        """Per child, a bound on ``sum_k ||J'[k] - exact||_2`` over the rows ``J'`` of layer ``l``
        it is given (see the module's description), from its parent's bound ``N`` on the rows of
        layer ``l - 1`` (``D`` coefficients of ``width`` units) and the child's ``sizes``: the
        sum and largest entry of ``a = sum_k |M_k|`` (its masked rows ``M``, up to their
        rounding) and of ``pre`` (per unit, a bound on the error of ``M`` summed over ``k``, as
        for ``E``).

        With ``d_k`` the error of the masked rows ``M = fl(s J)`` (slopes ``|s| <= smax``, rounded
        once unless 0 or 1), the child's error is ``W d_k + r_k``, the product's rounding ``|r_k|
        <= gamma |W| |M_k|`` (and ``gamma |b|`` on the bias row), so ``sum_k ||.||_2 <= ||W||_2
        sum_k ||d_k||_2 + gamma || |W| ||_2 sum_k ||M_k||_2 + gamma ||b||_2``, where ``sum_k
        ||d_k||_2`` is at most ``smax N + 2 u sum_k ||M_k||_2`` (carried from the parent's norm;
        not after a max layer) and at most ``sqrt(D) ||pre||_2`` (from the unit-by-unit bounds,
        which restarts the norm's growth where those are smaller), and ``sum_k ||x_k||_2 <=
        sqrt(D) ||a||_2 <= sqrt(D) sqrt(sum(a) max(a))`` with ``a = sum_k |x_k|``.

        Also returns, per child, ``scale``: the bound on ``sum_k ||d_k||_2`` plus ``gamma
        ||a||_2`` for the masked rows' ``a``, which :meth:`_unit_bounds` multiplies by each
        unit's row norm (:meth:`_unit_bounds`). Where not ``rounded`` (rows in two parts, whose
        product's rounding is bounded apart) the product's rounding is left out: only the
        errors carried in, through ``||W||_2``."""
        act = self.net.layers[l - 1].activation
        layer = self.net.layers[l]
        g = gamma(width + D + 2) if rounded else 0.0
        u = U if act.off_slope not in (0.0, 1.0) else 0.0
        root_d = np.sqrt(D)
        size = root_d * np.sqrt(sizes[:, 0]) * np.sqrt(sizes[:, 1])
        seeded = root_d * np.sqrt(sizes[:, 2]) * np.sqrt(sizes[:, 3])
        if act.kind == "max":
            masked = seeded
        else:
            smax = max(1.0, abs(act.off_slope))
            carried = np.where(np.isfinite(N), smax * N, np.inf)[parent] + 2.0 * u * size
            masked = np.minimum(carried, seeded)
        sigma = layer.norm_bounds[0] if masked.any() else 0.0  # none on exact rows (the first layer's)
        out = sigma * masked if sigma else np.zeros(len(parent))
        out += g * layer.norm_bounds[1] * size + g * layer.bias_norm
        out *= 1.0 + 2.0 * gamma(width + D + 8)  # this bound's own rounding (non-negative terms)
        scale = masked + g * (np.sqrt(sizes[:, 0]) * np.sqrt(sizes[:, 1]))
        scale *= 1.0 + 2.0 * gamma(width + D + 8)
        return out, scale

    def _buffer(self, name, shape, dtype=np.float64):
        """An array of ``shape`` (float64 unless ``dtype``) for a temporary of
        :meth:`next_layer_rows`, kept between calls: fresh arrays cost page faults every time,
        and on virtual machines that hand freed pages back to their host a fault costs
        microseconds."""
        size = math.prod(shape)
        if self._buffers.get(name, np.empty(0, dtype)).size < size:
            self._buffers[name] = np.empty(size, dtype)
        return self._buffers[name][:size].reshape(shape)

    @functools.cached_property
    def _may_underflow(self):
        """Per layer, whether a product in its rows (or their bounds) may fall below float64's
        normal range. Every entry of every row of layer ``l`` on any cell is a multiple of a
        power of two ``2^q_l`` (:func:`~regionenum.core.tolerances.quantum` per array, kept on each
        layer as :attr:`~regionenum.core.network.Layer.quanta`): row entries are sums of products of
        the layers' entries and the slopes, and rounding keeps such multiples (a float64 rounded
        to 53 bits stays a multiple of any power of two below its last bit). So each nonzero
        product of layer ``l``'s weights with its inputs is at least ``2^(qW_l + q_(l-1) +
        q_slope)`` in size, each product of a slope with a row of layer ``l - 1`` at least
        ``2^(q_(l-1) + q_slope)``, and each product of such a product (a row's absolute sum
        times the slope, see :func:`~regionenum.engine.kernels.rows.shared_rows_and_bounds`)
        with a bound's rounding factor (``gamma``, at least ``2^-60``) at least ``2^(q_(l-1) +
        q_slope - 60)``; while all are above ``2^-1000`` no product underflows and the relative
        bounds hold. Rows in two parts keep this (:mod:`~regionenum.engine.two_part`): their
        slices are runs of the entries' own bits and their low parts exact remainders of sums of
        such multiples (with a leaky slope, Dekker's two parts of its products too), so both stay
        multiples of ``2^q_l``; their bounds' factors are ``gamma`` (at least ``2^-60``) times a
        low part, or constants times a scale within ``2^+-400``. (Their products with a leaky
        slope get ``ETA`` each besides, and the product's own terms cover rows whose products
        all fell to zero, whatever these flags say.)"""
        out, q = [], 0
        for l, layer in enumerate(self.net.layers):
            q_weights, q_bias = layer.quanta
            q_in = q_weights + (q if l else 0)
            # the layer's products, and the rows before it times their slopes (q) times the
            # rounding factors of their bounds (2^-60 or more)
            out.append(l > 0 and min(q_in, q - 60) < -1000)
            q = min(q_in, q_bias) + min(0, quantum([layer.activation.off_slope]))
        return out

    @functools.cached_property
    def _exact_offsets(self):
        """Per layer, whether its rows' ``t``-coefficients are exact on every cell: zero, where
        no layer up to it has a bias (the first layer's rows are its weights and biases, exactly;
        each later layer's ``t``-coefficients are sums of products of the earlier ones, all zero,
        plus its own biases). Every hyperplane of such a layer passes through the origin, and the
        kernel's bound leaves ``t`` out there (see
        :data:`~regionenum.engine.kernels.splitting.Hyperplanes`)."""
        return np.cumprod([not np.any(layer.b) for layer in self.net.layers]).astype(bool).tolist()

    @functools.cached_property
    def _magnitude_layers(self):
        """Each layer's :class:`Magnitudes`, for the error bounds; the first use also works out
        the later layers' bounds, all at once (:func:`~regionenum.core.network.work_out_bounds`;
        the first layer's rows are exact: of its bounds only the row norms are read, which its
        :class:`Magnitudes` asks for)."""
        work_out_bounds(self.net.layers[1:])
        return [Magnitudes(layer) for layer in self.net.layers]

    def _states(self, l, bits, n):
        """Per unit of layer ``l`` on ``n`` cells with state ``bits`` (None: one state), whether
        its slope is 1 (on, a max group's winner, or a linear unit) rather than the activation's
        ``off_slope``, a byte each: the bits themselves where every unit has states, otherwise
        a copy with the linear units set."""
        layer = self.net.layers[l]
        units = self.net.split_units[l]
        if bits is not None and len(units) == layer.width:
            return bits
        on = np.ones((n, layer.width), bool)  # linear units keep slope 1
        if bits is not None:
            on[:, units] = bits
        return on

    def _collected(self, l, J, E, parent, on):
        """The outputs of layer ``l``'s activation as rows over ``(t, x)`` for children of cells
        with that layer's rows ``J`` (error bounds ``E``), each child's units on where ``on``:
        the masked rows and bounds, summed over each max group."""
        act = self.net.layers[l].activation
        return (act.collect(gather_masked(J, parent, on, act.off_slope), axis=2),
                act.collect(gather_masked(E, parent, on, abs(act.off_slope)), axis=2))

    def split_layer(self, l, cells: CellSet, J, E, tally: Tally, units_done: int = 0, join: bool = True,
                    sides=None):
        """Split ``cells`` (cut by layer ``l``'s first ``units_done`` units already) by the
        units of layer ``l``: the pieces, each one's parent cell, and how many of the layer's
        units have cut them (all, but where the rest waits, see :meth:`_rest_waits`). Without
        ``join``, the pieces of the layer's last stage are the passes' own
        :class:`~regionenum.engine.cells.CellParts` (for a count's finished cells). The
        units' states on each piece are written into its pattern, and which units are
        identically zero on it (for a max group: tied with its winner) into its zero bits, stage
        by stage: the first layer of a wide network cuts the domain into hundreds of thousands of
        pieces, and a table of bytes per piece and unit would be many times their cells.
        ``sides`` (see :class:`Rows`), where given, are the units' known sides of each cell of
        ``J``."""
        layer = self.net.layers[l]
        constraints = self.roots.constraints
        ids = constraints.ids
        o = self.net.unit_offsets[l]

        def oracle(sub, hyp_ids, winner=None):
            return constraints.oracle(self.exact_net, hyp_ids, sub.packed)

        if layer.activation.kind != "max":
            units = self.net.split_units[l]
            if len(units) < layer.width:
                J, E = J[:, :, units], E[:, :, units]
                sides = None if sides is None else sides[:, units]
            known = no_sides(len(units)) if sides is None else kernel_array(sides, np.int8)
            hyp_ids = ids.unit_start + o + np.arange(len(units))
            # a few cells cut by many hyperplanes (the domain by the first layer, large cells by a
            # wide layer after a narrow one) go in stages: one cell's table of values at its
            # vertices, and its pieces, would be huge; once the pieces are many (each small), the
            # rest in one stage
            parent = np.arange(len(cells))
            lo = units_done
            while lo < len(units):
                # (the crossing count reads the batch's own cells and rows: the first stage only;
                # asked, not computed, here: most stages never need it)
                crossed = None if lo else (lambda batch=cells: most_crossed(batch.gen_off, batch.gens,
                                                                            kernel_array(J, np.float64), known))
                size = _stage_size(len(cells), len(units) - lo, self.net.input_dim, lo, crossed)
                cols = slice(lo, lo + size)
                # the stage's columns of the rows of the cells given: each piece reads its cell's
                # (``row_of``), not a copy of its own (the first layer's pieces number hundreds
                # of thousands when its units do, and their rows are all the same)
                Jc, Ec, Sc = ((J, E, known) if size == len(units)
                              else (J[:, :, cols], E[:, :, cols], known[:, cols]))
                # the pieces' constraint rows: for results, and for the generator error bounds of
                # later cuts (not needed after the last cut of a count)
                want_cons = self.keep or l < self._last_split or lo + size < len(units)
                cut = split(cells, Jc, Ec, constraints.ref, hyp_ids[cols], self.tol,
                            oracle(cells, hyp_ids[cols]), want_cons, tally.check,
                            alone=l == self.first_split and not units_done, exact_offsets=self._exact_offsets[l],
                            row_of=parent, bits_at=o + lo, join=join or lo + size < len(units), sides=Sc)
                tally.signs += cut.signs
                # (the pieces' patterns are copies of their cells' with this stage's states
                # written in: the earlier stages' states follow each piece)
                cells, parent = cut.pieces, parent[cut.parent]
                lo += size
                if self._rest_waits(l, units_done, len(cells), lo):
                    break
            return cells, parent, lo
        # one group after another: each piece gets the winner of every group
        parent = np.arange(len(cells))
        bits = np.zeros((len(cells), layer.width), bool)
        zero = np.zeros_like(bits)
        act = layer.activation
        for g, (start, k) in enumerate(zip(act.group_starts, act.groups)):
            cols = slice(start, start + k)
            cut = split_by_argmax(cells, J[parent, :, cols], E[parent, :, cols], constraints.ref, self.tol,
                                  lambda w, g=g: ids.tie_start + self.net.ties_of(l, g, w), oracle,
                                  self.keep or l < self._last_split or g < len(act.groups) - 1,
                                  tally.check)
            tally.signs += cut.signs
            cells = cut.pieces
            parent, bits, zero = parent[cut.parent], bits[cut.parent], zero[cut.parent]
            bits[np.arange(len(cells)), start + cut.winner] = True
            zero[:, cols] = cut.tied
        set_bits(cells.packed, o, bits)
        if zero.any():
            set_bits(cells.zero, o, zero)
        return cells, parent, len(self.net.split_units[l])

    def _finish(self, cells: CellSet | CellParts, J_out, E_out, tally: Tally):
        """Count (and when keeping them, store with their output maps ``J_out`` and those maps'
        error bounds ``E_out``) finished cells (parts of them only in a count)."""
        parts = cells.parts if isinstance(cells, CellParts) else [cells]
        ends = np.cumsum([len(p) for p in parts])
        n = tally.room(int(ends[-1]))
        if n < ends[-1]:  # the parts holding the first n cells
            k = int(np.searchsorted(ends, n))
            parts = parts[:k] + [parts[k].take(np.arange(n - (ends[k - 1] if k else 0)))]
            J_out = None if J_out is None else J_out[:n]
            E_out = None if E_out is None else E_out[:n]
        for p in parts:
            has_ray = ~p.bounded()
            if self.roots.merge_pieces:  # pieces of one region (one per orthant) merge by pattern
                if tally.patterns is None:
                    tally.patterns = {}
                for row, ray in zip(p.packed, has_ray):
                    key = row.tobytes()
                    tally.patterns[key] = tally.patterns.get(key, True) and not ray
            tally.count += len(p)
            tally.bounded += int(np.count_nonzero(~has_ray))
        if self.keep:
            cells, = parts
            tally.finished.append((cells, np.ascontiguousarray(J_out), np.ascontiguousarray(E_out)))
            self.kept_generators += len(cells.gens)


def _masks_in_two_parts(activation) -> bool:
    """Whether rows in two parts carry ``activation``'s masked rows: a slope per unit (not a max
    group's sums), finite. Slopes 0 and 1 leave them exact, another slope's products are split
    in two exact parts (:func:`~regionenum.engine.two_part.two_part_product`)."""
    return activation.kind != "max" and bool(np.isfinite(activation.off_slope))


def _stage_size(n_cells: int, n_hyperplanes: int, d: int, done: int = 0, most_crossed=None) -> int:
    """Hyperplanes to split ``n_cells`` cells by at once, of ``n_hyperplanes`` left after
    ``done`` in earlier stages: at most ``s`` (:data:`STAGE`, and in ``d`` dimensions few enough
    that one cell's pieces times their vertices stay under :data:`STAGE_WORK`), or all of them
    when the cells are many and small.

    The cells count as many where they would cut each other's hyperplanes no more than a stage
    does on average: ``m`` hyperplanes in general position make about ``m^d / d!`` pieces, each
    cut by about ``d k / m`` of ``k`` more, so ``n`` cells count for ``m = (d! n)^(1/d)``
    hyperplanes and the ``k`` left must have ``d k <= s m``.

    - The first stage (``done == 0``) takes them all where the cells are many. Where they are
      not, but at least ``n_hyperplanes / s``, ``most_crossed()`` (when given) is asked for the
      most hyperplanes cutting one of them, and up to ``d s`` they all go at once: the estimate
      is an average, and each stage copies every piece. (A batch of 1,024 cells of a 3-D net of
      two 128-wide layers: the estimate says 21 of the next 128 planes cut each, above ``s =
      18``, and none is cut by more than about 20; in stages the count took twice as long.) A
      narrow layer before a wide one leaves a few large cells: ten cells of a square, each cut
      by some 250 of the next 400 lines, take 0.67 s in one stage and 0.14 s in stages.
      Hyperplanes through a vertex of a cell are not counted (see
      :func:`~regionenum.engine.kernels.crossings.most_crossed`).
    - Later stages take the rest at once, up to :data:`LATER_STAGE_WORK`, where the pieces of
      the stages before are many; otherwise ``s`` more. (Each stage copies every piece: the
      first layer of the suite's r2_wide, 256 lines on a square, took five stages of 63 lines
      and 0.16 s, two stages 0.06 s. Hyperplanes that miss the domain, or parallel ones, make
      few pieces, which then go on in stages.)"""
    s = _largest_stage(d)
    many = d * n_hyperplanes <= s * (math.factorial(d) * n_cells) ** (1.0 / d)
    if done:
        return min(max(n_hyperplanes, 1), _largest_stage(d, LATER_STAGE_WORK, LATER_STAGE)) if many else s
    if n_cells * s < n_hyperplanes or not (many or most_crossed is None or most_crossed() <= d * s):
        return s
    return max(n_hyperplanes, 1)


@functools.cache
def _largest_stage(d: int, work: int = STAGE_WORK, most: int = STAGE) -> int:
    """The most hyperplanes (up to ``most``) one cell in ``d`` dimensions is split by at once
    for at most ``work`` pieces times vertices (see :func:`_stage_size`)."""
    s = 1
    while s < most and sum(math.comb(s + 1, j) for j in range(d + 1)) << d <= work:
        s += 1
    return s


