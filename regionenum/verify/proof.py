"""Proofs of ``unsat`` from the property-directed search, and their re-check.

A :class:`Proof` is what the search (:mod:`regionenum.verify.search`) did on every case: the
tree of its cells (the root box; children by a unit's hyperplane, one per state, or by halving
the box) and, per cell and in order, every claim it relied on:

* ``bounds``: lower bounds of linear functions on the cell (its box's extent, units' ranges),
  each with the multipliers ``W`` of the cell's rows that prove it;
* ``empty``: for an output set, the multipliers ``mu`` of its relaxed (or, past the last layer,
  exact) rows and ``w`` of the cell's rows whose combination is positive on the box, so no point
  of the cell meets the set;
* ``fix``: the states of a layer's units, all decided on the cell;
* ``choice``: how the cell was split (or that it was decided).

:func:`check_proof` (``rn.certify(proof)``) replays the tree: it recomputes every float
quantity the search computed (the cells' maps, boxes and relaxations, with their rigorous
rounding bounds), and checks every claim that rests on multipliers in exact rational arithmetic,
against the exact rows of the cells' hyperplanes (:class:`~regionenum.core.exact.ExactNetwork`)
and the exact input and output constraints: a bound holds if the exact minimum of the combination
over the box reaches it, an output set is excluded if that minimum is positive. Cells past the
last layer are checked wholly exactly (their outputs are exact affine maps); cells decided
earlier rest, in addition, on the relaxation's rigorous float64 bounds. The leaves cover the
input set because every split has both children. Any failure raises
:class:`~regionenum.errors.CertificationError` naming the case and cell.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..core.exact import ExactNetwork
from ..core.tolerances import U
from ..errors import CertificationError

__all__ = ["Proof", "ProofBuilder", "ProofCheck", "check_proof"]


@dataclass
class CaseProof:
    """One case's tree: ``nodes[i] = (parent, how)`` (``how``: ``("root",)``,
    ``("split", bit, state)`` or ``("bisect", input, mid, side)``), and ``events[i]``, the
    claims of cell ``i`` in order (see the module's description)."""

    nodes: list = field(default_factory=list)
    events: dict = field(default_factory=dict)

    @property
    def leaves(self) -> int:
        parents = {p for p, _ in self.nodes}
        return sum(i not in parents for i in range(len(self.nodes)))


@dataclass
class Proof:
    """A proof that ``network`` meets no output set of any case: one :class:`CaseProof` per
    case. Check it with :func:`regionenum.certify`."""

    network: object
    cases: list
    trees: list

    @property
    def cells(self) -> int:
        return sum(len(t.nodes) for t in self.trees)

    @property
    def leaves(self) -> int:
        return sum(t.leaves for t in self.trees)

    def __repr__(self) -> str:
        return f"Proof({len(self.cases)} cases, {self.cells} cells, {self.leaves} leaves)"


@dataclass
class ProofCheck:
    """What :func:`check_proof` verified: ``cells`` and ``leaves`` replayed, ``claims`` checked
    in exact arithmetic, how long it took."""

    cells: int
    leaves: int
    claims: int
    seconds: float


class ProofBuilder:
    """The search's ledger while it runs: hands out cell ids and records every claim."""

    replay = False

    def __init__(self):
        self.tree = CaseProof()

    def new_cell(self, parent, how) -> int:
        self.tree.nodes.append((parent, how))
        return len(self.tree.nodes) - 1

    def record(self, cell, *event):
        self.tree.events.setdefault(cell.id, []).append(event)

    def finish(self) -> CaseProof:
        return self.tree


class ProofReplay:
    """The ledger of a replay (:func:`check_proof`): hands out the recorded cells' ids in the
    same order, and gives back each cell's claims in order, for checking."""

    replay = True

    def __init__(self, tree: CaseProof, case_index: int):
        self.tree = tree
        self.case_index = case_index
        self.next_id = 0
        self.cursor = {}
        self.claims = 0

    def new_cell(self, parent, how) -> int:
        i = self.next_id
        if i >= len(self.tree.nodes) or tuple(self.tree.nodes[i]) != (parent, how):
            self.fail(i, f"the search made cell {i} as {how!r} of {parent}; the proof says "
                         f"{self.tree.nodes[i] if i < len(self.tree.nodes) else 'nothing'}")
        self.next_id += 1
        return i

    def next_event(self, cell, kind):
        events = self.tree.events.get(cell.id, [])
        k = self.cursor.get(cell.id, 0)
        if k >= len(events) or events[k][0] != kind:
            got = events[k][0] if k < len(events) else "nothing"
            self.fail(cell.id, f"expected a {kind!r} claim, the proof has {got!r}")
        self.cursor[cell.id] = k + 1
        return events[k][1:]

    def fail(self, cell_id, message):
        raise CertificationError(f"case {self.case_index + 1}, cell {cell_id}: {message}")

    def finish(self):
        if self.next_id != len(self.tree.nodes):
            raise CertificationError(f"case {self.case_index + 1}: the proof has {len(self.tree.nodes)} cells "
                                     f"but its replay makes {self.next_id}")


# -- exact arithmetic ----------------------------------------------------------------------------


@dataclass
class RowSet:
    """Rows ``c + a . x`` known exactly: ``q`` (tuples of Fractions) with their nearest floats
    ``f`` (an array) and a bound ``err`` on each float row's error over the search's box."""

    q: list
    f: np.ndarray
    err: np.ndarray

    @classmethod
    def exact(cls, rows, reach) -> "RowSet":
        """From exact rows; ``reach`` bounds ``|x|`` coordinate-wise."""
        f = np.array([[float(v) for v in r] for r in rows], dtype=np.float64).reshape(len(rows), len(reach) + 1)
        err = 2 * U * (np.abs(f[:, 1:]) @ reach + np.abs(f[:, 0]))
        return cls(list(rows), f, err)

    @classmethod
    def floats(cls, M) -> "RowSet":
        """From float rows, which are exact as they are."""
        M = np.atleast_2d(np.asarray(M, dtype=np.float64))
        return cls([tuple(Fraction(float(v)) for v in row) for row in M], M, np.zeros(len(M)))

    def __add__(self, other: "RowSet") -> "RowSet":
        return RowSet(self.q + other.q, np.vstack([self.f, other.f]), np.concatenate([self.err, other.err]))

    def negated(self) -> "RowSet":
        return RowSet([tuple(-v for v in r) for r in self.q], -self.f, self.err)

    def take(self, idx) -> "RowSet":
        return RowSet([self.q[int(i)] for i in idx], self.f[idx], self.err[idx])


def settled_min(weights, rows: RowSet, lo, hi, at_least, strict: bool):
    """Whether ``min over the box of sum_r w_r row_r`` is ``> at_least`` (``strict``) or
    ``>= at_least``, for multipliers ``w >= 0`` (a float array, or a list of Fractions) and
    exact rows: decided in float64 where a rigorous bound on its error allows, else in Fractions.
    Returns the verdict and whether the Fractions were needed."""
    ok, exact = settled_mins(np.atleast_2d(weights) if isinstance(weights, np.ndarray) else [list(weights)],
                             None, rows, lo, hi, [at_least], strict)
    return bool(ok[0]), bool(exact[0])


def settled_mins(W, objs, rows: RowSet, lo, hi, at_least, strict: bool):
    """:func:`settled_min` for several combinations at once: row ``k`` is ``objs[k]`` (if
    ``objs`` is a RowSet) plus ``sum_r W[k, r] rows_r``, compared with ``at_least[k]``."""
    floats = isinstance(W, np.ndarray)
    if floats and (W < 0).any():
        return np.zeros(len(W), bool), np.zeros(len(W), bool)
    ok, exact = np.zeros(len(W), bool), np.zeros(len(W), bool)
    todo = np.arange(len(W))
    if floats:
        lo_f, hi_f = np.array([float(v) for v in lo]), np.array([float(v) for v in hi])
        reach = np.maximum(np.abs(lo_f), np.abs(hi_f))
        F = W @ rows.f
        size = W @ (np.abs(rows.f[:, 1:]) @ reach + np.abs(rows.f[:, 0]))
        error = W @ rows.err
        if objs is not None:
            F = F + objs.f
            size = size + np.abs(objs.f[:, 1:]) @ reach + np.abs(objs.f[:, 0])
            error = error + objs.err
        value = F[:, 0] + np.minimum(F[:, 1:] * lo_f, F[:, 1:] * hi_f).sum(axis=1)
        # the box's floats are its bounds, or within U of them (a case's exact decimal bounds)
        error = error + 1.01 * (W.shape[1] + len(lo) + 8) * U * size
        bound = np.array([float(v) for v in at_least])
        sure = value - error > bound if strict else value - error >= bound
        ok[sure] = True
        todo = np.flatnonzero(~sure & (value + error >= bound))
    for k in todo:
        w = [Fraction(float(v)) for v in W[k]] if floats else [Fraction(v) for v in W[k]]
        if any(v < 0 for v in w):
            continue
        terms, q = (w, rows.q) if objs is None else ([Fraction(1)] + w, [objs.q[k]] + rows.q)
        ok[k] = _exact_min(terms, q, lo, hi, Fraction(at_least[k]), strict)
        exact[k] = True
    return ok, exact


def _exact_min(weights, rows, lo, hi, at_least, strict):
    n = len(rows[0]) if rows else len(lo) + 1
    F = [Fraction(0)] * n
    for q, r in zip(weights, rows):
        if q:
            F = [a + q * b for a, b in zip(F, r)]
    value = exact_box_min(F, lo, hi)
    return value > at_least if strict else value >= at_least


class ExactRows:
    """Exact rows over ``(1, x_free)`` of a case's cells: input rows, units' hyperplanes and
    output maps on a pattern (:class:`RowSet`)."""

    def __init__(self, network, net, case):
        self.network, self.net, self.case = network, net, case
        self.exact = ExactNetwork(network)
        self.free = [int(i) for i in net.free]
        self.fixed = [(int(i), case.lo[int(i)]) for i in net.fixed]
        self.reach = np.maximum(np.abs(net.lo[net.free]), np.abs(net.hi[net.free]))
        self.inputs = RowSet.exact([self._restrict([b] + list(a)) for a, b in zip(case.rows.A, case.rows.b)],
                                   self.reach)
        self._layers = OrderedDict()

    def _restrict(self, row):
        """A row over ``(1, x_full)`` (Fractions) as a row over ``(1, x_free)``."""
        const = row[0] + sum(row[1 + i] * v for i, v in self.fixed)
        return (const,) + tuple(row[1 + i] for i in self.free)

    def _layer(self, l, bits) -> RowSet:
        """Layer ``l``'s pre-activations (``l = len(layers)``: the outputs) on the pattern (the
        bits of the layers before ``l``); the last few are kept."""
        net = self.network
        used = net.unit_offsets[l] if l < len(net.layers) else net.n_units
        key = (l, np.packbits(bits[:used]).tobytes())
        rows = self._layers.get(key)
        if rows is None:
            E = self.exact.rows(l, bits)
            scale = Fraction(int(E[0, 0]))
            rows = RowSet.exact([self._restrict([Fraction(int(v)) / scale for v in row]) for row in E[1:]],
                                self.reach)
            self._layers[key] = rows
            if len(self._layers) > 256:
                self._layers.popitem(last=False)
        return rows

    def units(self, l, units, bits) -> RowSet:
        """The hyperplanes of units ``units`` of layer ``l`` on a cell with pattern ``bits``."""
        return self._layer(l, bits).take(np.asarray(units, dtype=np.int64))

    def cell_rows(self, row_bits, bits) -> RowSet:
        """The rows of a cell, in the order the search keeps them: the input rows, then per split
        bit its hyperplane oriented to be ``<= 0`` on the cell."""
        out = self.inputs
        net = self.network
        for b in row_bits[len(self.inputs.q):]:
            b = int(b)
            r = self.units(int(net.unit_layer[b]), [int(net.unit_index[b])], bits)
            out = out + (r.negated() if bits[b] else r)
        return out

    def outputs(self, bits) -> RowSet:
        """The exact output map on a cell past every two-state layer."""
        return self._layer(len(self.network.layers), bits)


def exact_box_min(row, lo, hi):
    """The exact minimum of ``row[0] + row[1:] . x`` over the box (Fractions)."""
    total = row[0]
    for a, l, h in zip(row[1:], lo, hi):
        total += a * (l if a > 0 else h)
    return total


def check_proof(proof: Proof) -> ProofCheck:
    """Replay ``proof`` and check every claim (see the module's description).

    This is what :func:`regionenum.certify` does with a proof (or with a result that carries
    one). The search is run again on each case, following the recorded tree instead of
    choosing; every claim resting on multipliers is checked in exact rational arithmetic.

    Parameters
    ----------
    proof : Proof
        From an ``unsat`` answer of the property-directed search (``result.proof`` of
        :func:`~regionenum.verify.verify_property`, :func:`~regionenum.verify.is_invariant` or
        :func:`~regionenum.verify.check_vnnlib`). Its ``network`` and ``cases`` are what is
        proven: check that they are the network and property you mean.

    Returns
    -------
    ProofCheck
        The ``cells`` and ``leaves`` replayed, the ``claims`` checked exactly and the
        ``seconds`` it took.

    Raises
    ------
    CertificationError
        A claim that does not hold, or a tree that does not match its replay.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.zeros(1))])   # |x|
    >>> r = rn.verify.verify_property(net, rn.Box([-1.0], [0.5]), [[1.0]], [-1.0])   # |x| <= 1
    >>> check = rn.verify.check_proof(r.proof)
    >>> (check.cells, check.leaves) == (r.proof.cells, r.proof.leaves)
    True
    """
    from .search import replay_case
    start = time.perf_counter()
    cells = leaves = claims = 0
    if len(proof.trees) != len(proof.cases):
        raise CertificationError(f"the proof has {len(proof.trees)} trees for {len(proof.cases)} cases")
    for index, (case, tree) in enumerate(zip(proof.cases, proof.trees)):
        ledger = ProofReplay(tree, index)
        replay_case(proof.network, case, ledger)
        ledger.finish()
        cells += len(tree.nodes)
        leaves += tree.leaves
        claims += ledger.claims
    return ProofCheck(cells, leaves, claims, time.perf_counter() - start)
