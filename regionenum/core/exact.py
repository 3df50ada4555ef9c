"""Exact rational arithmetic for the signs float64 cannot settle.

Every float64 is a dyadic rational, so a layer ``z = W a + b`` is exactly an integer matrix
divided by a power of two. Working in homogeneous coordinates ``(t, x)``, where positive scale
factors never change a sign, the pre-activation of unit ``j`` of layer ``l`` on a cell is exactly
an integer row ``E_l[j]`` over ``(t, x)``, built from the integer layer matrices and the cell's
activation pattern on the layers before ``l``. A generator of a cell is the (one-dimensional)
kernel of the exact rows of the constraints tight at it, so its exact sign against any hyperplane
follows with Python integers and fractions alone.
"""
from __future__ import annotations

import math
from collections import OrderedDict, namedtuple
from fractions import Fraction

import numpy as np

from ..errors import InternalError
from .modular import PiecedMatrix, ResidueSystem, dyadic_parts, dyadic_shift

__all__ = ["ConstraintIds", "ExactNetwork", "ExactOracle", "ExactSign", "dyadic_integers", "exact_rank",
           "kernel_vector", "oriented"]


def dyadic_integers(values) -> tuple[np.ndarray, int]:
    """Write a float array exactly as ``ints / 2**shift``: return (object array of ints, shift),
    with the least ``shift >= 0`` that makes every entry an integer."""
    odd, exp = dyadic_parts(values)
    shift = dyadic_shift(odd, exp)
    return np.left_shift(odd.astype(object), (exp + shift).astype(object)), shift


class ConstraintIds:
    """Numbering of every constraint a cell can meet, shared by the engine, kernels and results.

    ``[0, n_domain)`` rows of the domain ``A x + b <= 0``; ``n_domain`` the face at infinity
    (tight at rays); then ``n_artificial`` cuts used only to make pieces pointed or bounded
    (never reported); then one id per unit of the network with several states, in pattern
    order; then one per tie of a max group (``Network.tie_units``). Ids from ``end`` on are
    free for analyses' own cuts.
    """

    def __init__(self, n_domain: int, n_artificial: int, n_units: int, n_ties: int = 0):
        self.n_domain = n_domain
        self.infinity = n_domain
        self.artificial_start = n_domain + 1
        self.n_artificial = n_artificial
        self.unit_start = self.artificial_start + n_artificial
        self.n_units = n_units
        self.tie_start = self.unit_start + n_units
        self.n_ties = n_ties
        self.end = self.tie_start + n_ties

    def is_artificial(self, cid):
        return (cid >= self.artificial_start) & (cid < self.unit_start)


#: The most memory an :class:`ExactNetwork` keeps in single exact rows as Python integers (see
#: :meth:`ExactNetwork._row`).
ROW_CACHE_BYTES = 16 << 20

#: A layer's product is updated from its previous one (see :meth:`ExactNetwork._product`) when at
#: most this share of its inputs' rows changed.
UPDATE_SHARE = 0.25

#: The most memory an :class:`ExactNetwork` keeps in recent layers (residues and integers; the
#: layers' previous products among them).
CACHE_BYTES = 64 << 20


class _Recent:
    """The values used most recently: at most ``count`` of them (any number if None) and
    ``limit`` bytes in all, each value's size given when it is put (a least-recently-used
    cache)."""

    def __init__(self, limit: int, count: int | None = None):
        self.limit, self.count = limit, count
        self._items: OrderedDict = OrderedDict()  # key -> (value, its size)
        self._bytes = 0

    def __contains__(self, key) -> bool:
        return key in self._items

    def get(self, key):
        """The value under ``key`` (now the most recent), or None."""
        hit = self._items.get(key)
        if hit is None:
            return None
        self._items.move_to_end(key)
        return hit[0]

    def put(self, key, value, size: int):
        """Keep ``value`` under ``key`` (replacing what was there), dropping the least recent
        values beyond the limits; returns it."""
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._items[key] = value, size
        self._bytes += size
        while self._bytes > self.limit or (self.count is not None and len(self._items) > self.count):
            self._bytes -= self._items.popitem(last=False)[1][1]
        return value


class ExactNetwork:
    """Exact integer rows of every unit's hyperplane on a cell, given the cell's pattern.

    ``rows(l, prefix_bits)`` returns the integer matrix ``E_l`` (``(width_l + 1, d + 1)``, row 0
    the homogeneous coordinate) for the pattern ``prefix_bits`` on the two-state units of the
    layers before ``l``; ``l = len(layers)`` gives the network's outputs. Row 0 is the same for
    every pattern.

    The products run on residues modulo primes (:mod:`regionenum.core.modular`) whose product
    exceeds twice a bound on every entry of every ``E_l``, proven from the layers' largest
    entries, widths and slopes; only the rows a question reads become Python integers.
    Recent results are cached, since the cells of a batch share prefixes.
    """

    def __init__(self, network, cache_size: int = 512):
        self.network = network
        self._H = None  # the integer layer matrices in pieces (PiecedMatrix), built on the first question
        self._mask = None
        self._residues = None  # the primes, and how many of them each layer's rows need
        self._primes = None
        self._first = None  # layer 0's rows (its matrix), as residues
        self._cache = _Recent(CACHE_BYTES, cache_size)  # recent layers, as residues or integers
        # recent single rows as integers: a row is read again for every generator of the cells
        # around it whose patterns agree on the bits it depends on
        self._row_cache = _Recent(ROW_CACHE_BYTES)

    def _build(self):
        """The layers' integer matrices ``[[1, 0], [b, W]] 2**s`` (``s``: the layer's shift, the
        least that makes every entry an integer), a bound on every exact row's entries, and the
        residue system it needs."""
        net = self.network
        layers, slopes, bits, terms, layer_bits = [], [], 0, 1, []
        for layer in net.layers:
            values = np.zeros((layer.width + 1, layer.W.shape[1] + 1))
            values[0, 0] = 1.0
            values[1:, 0], values[1:, 1:] = layer.b, layer.W
            odd, exp = dyadic_parts(values)
            shift = dyadic_shift(odd, exp)
            top = int(np.frexp(np.abs(values).max())[1])  # every |value| < 2**top
            off_ints, off_shift = dyadic_integers([layer.activation.off_slope])
            on, off = 1 << off_shift, int(off_ints[0])
            group = max(layer.activation.groups, default=1) if layer.activation.kind == "max" else 1
            # |E_l| <= (row sum of |H_l|) |inputs of l|; |inputs of l + 1| <= max(on, |off|) group |E_l|
            bits += top + shift + (values.shape[1] - 1).bit_length()
            layer_bits.append(bits)  # layer l's rows
            bits += (max(on, abs(off)) - 1).bit_length() + (int(group) - 1).bit_length()
            layers.append((odd, np.where(odd != 0, exp + shift, 0)))
            slopes.append((on, off, layer.activation))
            terms = max(terms, values.shape[1])
        layer_bits.append(bits)  # the outputs
        self._residues = res = ResidueSystem(bits + 1, terms)
        self._primes = [res.primes_for(b + 1) for b in layer_bits]  # enough to read layer l's rows
        self._H = [PiecedMatrix(odd, exp, res) for odd, exp in layers]
        self._mask = [(res.of_ints(on), res.of_ints(off), on == 1 and off == 0, act) for on, off, act in slopes]
        d1 = self.network.layers[0].W.shape[1] + 1
        self._first = self._H[0].times(res.of_ints(np.eye(d1, dtype=np.int64).astype(object)))

    def rows(self, layer: int, prefix_bits: np.ndarray) -> np.ndarray:
        """Exact rows of layer ``layer`` for the given pattern bits of the earlier layers."""
        key = ("ints",) + self._key(layer, prefix_bits)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        E = self._rows_mod(layer, prefix_bits)  # (builds the residue system on the first question)
        E = self._residues.to_ints(E, self._primes[layer])
        return self._cache.put(key, E, E.nbytes)

    def _rows_mod(self, layer: int, prefix_bits) -> np.ndarray:
        """:meth:`rows` as residues ``(width + 1, d + 1, K)``."""
        key = self._key(layer, prefix_bits)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if layer == 0:
            self._matrices()
            return self._first
        E = self._inputs(layer, prefix_bits)
        if layer < len(self.network.layers):
            E = self._product(layer, E)
        return self._cache.put(key, E, E.nbytes)

    def _product(self, layer: int, inputs: np.ndarray) -> np.ndarray:
        """Residues of layer ``layer``'s matrix times ``inputs``. Cells met one after the other are
        mostly neighbours, whose inputs differ in the rows of the few units whose state differs:
        then the product is the layer's previous one plus the changed columns times the change."""
        H = self._H[layer]
        key = ("previous", layer)  # kept among the recent layers, so within their memory
        previous = self._cache.get(key)
        E = None
        if previous is not None:
            before, product = previous
            changed = np.flatnonzero((inputs != before).any(axis=(1, 2)))
            if len(changed) <= UPDATE_SHARE * len(inputs):
                change = self._residues.reduce(inputs[changed] - before[changed])
                E = self._residues.reduce(product + H.times(change, columns=changed))
        if E is None:
            E = H.times(inputs)
        self._cache.put(key, (inputs, E), inputs.nbytes + E.nbytes)
        return E

    def _key(self, layer: int, prefix_bits) -> tuple:
        net = self.network
        used = net.unit_offsets[layer] if layer < len(net.layers) else net.n_units
        return layer, np.packbits(prefix_bits[:used]).tobytes()

    def _matrices(self) -> list:
        if self._H is None:
            self._build()
        return self._H

    def _inputs(self, layer: int, prefix_bits) -> np.ndarray:
        """Residues of the exact rows of layer ``layer - 1``'s activations (its rows times the
        slopes of the pattern's states, max groups collected), with the homogeneous row first:
        the right factor of layer ``layer``'s rows."""
        net = self.network
        self._matrices()
        prev = self._rows_mod(layer - 1, prefix_bits)
        on, off, plain, act = self._mask[layer - 1]
        units = net.split_units[layer - 1]
        if plain:  # ReLU: the slopes are 1 and 0, a selection of rows
            keep = np.ones(prev.shape[0])
            if len(units):
                o = net.unit_offsets[layer - 1]
                keep[1 + units] = prefix_bits[o: o + len(units)]
            E = prev * keep[:, None, None]
        else:
            mask = np.repeat(on[None, :], prev.shape[0], axis=0)
            if len(units):
                o = net.unit_offsets[layer - 1]
                states = prefix_bits[o: o + len(units)]
                mask[1 + units] = np.where(states[:, None], on[None, :], off[None, :])
            E = self._residues.reduce(prev * mask[:, None, :])
        if act.kind == "max":
            E = np.concatenate([E[:1], self._residues.reduce(act.collect(E[1:], axis=0))])
        return E

    def _row(self, layer: int, j: int, bits, key=None) -> np.ndarray:
        """Row ``j`` of layer ``layer`` (``j >= 1``): from the cached layer when it is there,
        else one row of the product alone (a cell's deepest constraints seldom need the whole
        layer). ``key``: ``_key(layer, bits)``, where the caller has it."""
        key = self._key(layer, bits) if key is None else key
        row_key = (j,) + key
        hit = self._row_cache.get(row_key)
        if hit is not None:
            return hit
        if layer == 0 or key in self._cache:
            row = self._rows_mod(layer, bits)[j]
        else:
            inputs_key = ("inputs",) + key  # kept for the cell's other rows of this layer
            inputs = self._cache.get(inputs_key)
            if inputs is None:
                inputs = self._inputs(layer, bits)
                self._cache.put(inputs_key, inputs, inputs.nbytes)
            row = self._H[layer].row_times(j, inputs)
        row = self._residues.to_ints(row, self._primes[layer])
        # about its size: per entry a pointer and a Python int of the primes' bits
        return self._row_cache.put(row_key, row, row.size * (36 + 3 * self._primes[layer]))

    def region_constraints(self, pattern: np.ndarray) -> list:
        """What the pattern of a region says, as exact rows ``>= 0`` on it: per unit with
        several states (its row, negated when off) and per tie of each max group's winner
        (``z_winner - z_j``), the tuple ``(k, row, may_vanish)``: ``k`` numbers it as in
        :meth:`constraint_row`, and ``may_vanish`` says whether the row may be identically zero
        (an off unit, or an argument after the winner: ties go to the first)."""
        net = self.network
        out = []
        for l in net.split_layers:
            E = self.rows(l, pattern)[1:]
            o = net.unit_offsets[l]
            act = net.layers[l].activation
            if act.kind != "max":
                for i, j in enumerate(net.split_units[l]):
                    on = bool(pattern[o + i])
                    out.append((o + i, E[j] if on else -E[j], not on))
                continue
            for g, (start, k) in enumerate(zip(act.group_starts, act.groups)):
                w = int(np.flatnonzero(pattern[o + start: o + start + k])[0])
                others = [c for c in range(k) if c != w]
                for t, c in zip(net.ties_of(l, g, w), others):
                    out.append((net.n_units + int(t), E[start + w] - E[start + c], c > w))
        return out

    def constraint_rows(self, ks, bits: np.ndarray) -> list:
        """:meth:`constraint_row` of each of ``ks`` for one pattern ``bits``, the pattern's key
        for each layer made once (the rows tight at a point where hundreds of hyperplanes meet
        are hundreds of rows of a few layers)."""
        net = self.network
        keys, out = {}, []
        for k in ks:
            if k >= net.n_units:
                out.append(self.constraint_row(k, bits))
                continue
            layer = int(net.unit_layer[k])
            if layer not in keys:
                keys[layer] = self._key(layer, bits)
            out.append(self._row(layer, 1 + int(net.unit_index[k]), bits, keys[layer]))
        return out

    def constraint_row(self, k: int, bits: np.ndarray) -> np.ndarray:
        """Exact row of unit ``k`` (``k < n_units``) or tie ``k - n_units`` (``z_c - z_j``) for a
        cell with pattern ``bits`` (only the bits of earlier layers are read)."""
        net = self.network
        if k < net.n_units:
            return self._row(net.unit_layer[k], 1 + net.unit_index[k], bits)
        c, j = net.tie_units[k - net.n_units]
        E = self.rows(net.unit_layer[c], bits)
        return E[1 + net.unit_index[c]] - E[1 + net.unit_index[j]]


#: An exact sign at a generator (see :meth:`ExactOracle.sign_and_point`): ``sign``; ``point``, the
#: exact generator as an integer vector ``(t, x)``, or None where the hyperplane is a multiple of
#: one of the constraints tight there, ``along`` (its id: it vanishes there, and no kernel is
#: computed).
ExactSign = namedtuple("ExactSign", "sign point along")


class ExactOracle:
    """Answers the exact sign questions the kernels return for one batch of cells.

    ``fixed_rows`` maps the ids of domain, infinity and artificial constraints to exact integer
    rows over ``(t, x)``; unit rows come from ``exact_net`` and each cell's pattern ``prefixes``
    (packed bits; those of the layers before the batch's are set). ``hyp_ids`` are the batch's
    hyperplanes.
    """

    def __init__(self, ids: ConstraintIds, fixed_rows: dict, exact_net, hyp_ids, prefixes=None):
        self.ids = ids
        self.fixed_rows = fixed_rows
        self.exact_net = exact_net
        self.hyp_ids = np.asarray(hyp_ids)
        self.prefixes = prefixes

    def row(self, cell: int, cid: int, bits=None) -> np.ndarray:
        """Exact row of constraint ``cid`` on ``cell`` (``bits``: the cell's unpacked pattern,
        when the caller has it)."""
        if cid < self.ids.unit_start:
            return self.fixed_rows[cid]
        if bits is None:
            bits = self.pattern_bits(cell)
        return self.exact_net.constraint_row(cid - self.ids.unit_start, bits)

    def rows(self, cell: int, cids, bits=None) -> list:
        """:meth:`row` of each of the constraints ``cids`` on ``cell``: the units' and ties' rows
        together (:meth:`ExactNetwork.constraint_rows`), any other (the domain's) by :meth:`row`;
        every one by :meth:`row` where a subclass has its own (an analysis's oracle)."""
        if bits is None:
            bits = self.pattern_bits(cell)
        cids = [int(cid) for cid in cids]
        if type(self).row is not ExactOracle.row:  # an oracle of its own rows: each through them
            return [self.row(cell, cid, bits) for cid in cids]
        start, end = self.ids.unit_start, self.ids.end
        units = [cid - start for cid in cids if start <= cid < end]
        units = iter(self.exact_net.constraint_rows(units, bits) if units else ())
        return [next(units) if start <= cid < end else self.row(cell, cid, bits) for cid in cids]

    def pattern_bits(self, cell):
        """The cell's pattern bits, unpacked (None for cells without a network)."""
        if self.prefixes is None:
            return None
        return np.unpackbits(self.prefixes[cell], count=self.ids.n_units).astype(bool)

    def vanishes(self, cell: int, hyperplane: int, bits=None) -> bool:
        """Whether the hyperplane is identically zero on the cell (its exact row is zero);
        ``bits`` as for :meth:`row`."""
        return not any(self.row(cell, int(self.hyp_ids[hyperplane]), bits))

    def sign(self, cell: int, incidence, hyperplane: int, generator) -> int:
        """The exact sign of the hyperplane at the generator of ``cell`` tight on ``incidence``
        (``generator``: its float coordinates, which orient the exact one)."""
        return self.sign_and_point(cell, incidence, hyperplane, generator)[0]

    def sign_and_point(self, cell: int, incidence, hyperplane: int, generator, bits=None) -> ExactSign:
        """:meth:`sign`, with the exact generator or the tight constraint it comes from (see
        :data:`ExactSign`); ``bits`` as for :meth:`row`."""
        if bits is None:
            bits = self.pattern_bits(cell)
        target = self.row(cell, int(self.hyp_ids[hyperplane]), bits)
        rows = self.rows(cell, incidence, bits)
        # a hyperplane that is one of the constraints tight at the generator up to a factor (a
        # max-pooling argument's tie after a ReLU, a repeated unit, a layer whose rows on the
        # cell are multiples of one earlier unit's) vanishes there: no kernel needed
        along = next((int(cid) for cid, r in zip(incidence, rows) if _proportional(r, target)), None)
        if along is not None:
            return ExactSign(0, None, along)
        point = oriented(kernel_vector(rows, len(generator)), generator)
        return ExactSign(_sign_of(target, point), point, None)

    def signs_at(self, cell: int, point, candidates, bits=None) -> list:
        """The exact signs ``(h, sign)`` of the hyperplanes ``candidates`` (indices into
        ``hyp_ids``) at the exact ``point`` (an integer vector ``(t, x)``) of ``cell``; ``bits``
        as for :meth:`row`."""
        candidates = np.asarray(candidates).tolist()
        rows = self.rows(cell, self.hyp_ids[candidates], bits)
        return [(h, _sign_of(row, point)) for h, row in zip(candidates, rows)]

    def multiples(self, cell: int, cid: int, candidates, bits=None) -> list:
        """The hyperplanes among ``candidates`` (indices into ``hyp_ids``) whose rows on ``cell``
        are nonzero multiples of constraint ``cid``'s: each is zero wherever that constraint is
        tight; ``bits`` as for :meth:`row`."""
        if bits is None:
            bits = self.pattern_bits(cell)
        base = self.row(cell, cid, bits)
        candidates = np.asarray(candidates).tolist()
        rows = self.rows(cell, self.hyp_ids[candidates], bits)
        return [h for h, row in zip(candidates, rows) if _proportional(row, base)]


def oriented(v, generator) -> list:
    """The exact homogeneous vector ``v`` (a kernel, known up to sign) of the float ``generator``
    ``(t, x)``, signed as the generator: for a point (``t > 0``) so that its exact ``t`` is
    positive, whatever the float coordinates' error (far out, a vertex made on an edge may lie
    far from the exact one); for a ray (``t = 0``) in the direction nearest the float one.

    Raises
    ------
    InternalError
        The generator is a point but ``v`` is a ray: its tight constraints meet only at infinity.
    """
    if generator[0] > 0:
        if v[0] == 0:
            raise InternalError("a generator that is a point has tight constraints meeting only at "
                                "infinity: its incidence does not pin down a point")
        flip = v[0] < 0
    else:
        flip = sum(float(Fraction(p) / _max_abs(v)) * g for p, g in zip(v, generator)) < 0
    return [-p for p in v] if flip else v


def float_coordinates(v) -> list | None:
    """The exact point ``v`` (an integer vector ``(t, x)``, ``t > 0``) as its coordinates ``x / t``
    correctly rounded to float64 (Python's division of integers), or None where one is beyond
    float64's range."""
    t = int(v[0])
    try:
        return [int(p) / t for p in v[1:]]
    except OverflowError:
        return None


def _sign_of(row, point) -> int:
    """The sign of the integer row times the integer vector ``point``, exactly."""
    value = sum(int(a) * p for a, p in zip(row, point))
    return (value > 0) - (value < 0)


def _proportional(a, b) -> bool:
    """Whether the nonzero integer row ``a`` is a multiple of ``b`` (true if ``b`` is 0)."""
    i = next((k for k, v in enumerate(b) if v != 0), None)
    if i is None:
        return True
    ai, bi = int(a[i]), int(b[i])
    # a nonzero multiple of b is nonzero where b is; zero there, a is zero or no multiple
    return ai != 0 and all(int(x) * bi == int(y) * ai for x, y in zip(a, b))


def _max_abs(v):
    return max(abs(x) for x in v) or 1


def _bareiss(rows, n: int):
    """Fraction-free (Bareiss) elimination of integer ``rows`` of length ``n``: the reduced rows,
    the pivot columns and the last pivot (the pivot block's determinant, up to sign). Every
    intermediate is an integer minor of ``rows``, so no fractions are formed."""
    M = [[int(x) for x in r] for r in rows]
    pivots = []
    r, prev = 0, 1
    for col in range(n):
        p = next((i for i in range(r, len(M)) if M[i][col]), None)
        if p is None:
            continue
        M[r], M[p] = M[p], M[r]
        pr, pivot = M[r], M[r][col]
        for i in range(r + 1, len(M)):
            row = M[i]
            f = row[col]
            M[i] = [(pivot * a - f * b) // prev for a, b in zip(row, pr)]
        prev = pivot
        pivots.append(col)
        r += 1
        if r == len(M):
            break
    return M, pivots, prev


def _cross_kernel(rows):
    """The kernel of integer rows of length 3 as the cross product of the first two, when that
    is not zero and every other row is orthogonal to it (then the rows have rank 2 exactly and
    it spans their kernel), with coprime entries; None otherwise (left to elimination)."""
    a0, a1, a2 = (int(x) for x in rows[0])
    b0, b1, b2 = (int(x) for x in rows[1])
    v = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    if not any(v):
        return None
    for r in rows[2:]:
        if int(r[0]) * v[0] + int(r[1]) * v[1] + int(r[2]) * v[2]:
            return None
    g = math.gcd(*v)
    return [x // g for x in v] if g > 1 else v


def exact_rank(rows, n: int) -> int:
    """The rank of integer ``rows`` of length ``n``, exactly."""
    return len(_bareiss(rows, n)[1]) if len(rows) else 0


def kernel_vector(rows, n: int) -> list:
    """The integer vector spanning the kernel of ``rows`` (integer rows of length ``n``, which must
    have rank ``n - 1``), with coprime entries.

    Fraction-free (Bareiss) elimination (see :func:`_bareiss`); back-substitution from the last
    pivot divides exactly, since the result is the adjugate's column.

    Raises
    ------
    InternalError
        The rows do not have rank ``n - 1`` (the incidence of a generator does not pin down one
        point: the engine's bookkeeping is wrong).
    """
    if n == 3 and len(rows) >= 2:  # in the plane: a cross product, checked against every row
        v = _cross_kernel(rows)
        if v is not None:
            return v
    M, pivots, prev = _bareiss(rows, n)
    free = [c for c in range(n) if c not in pivots]
    if len(free) != 1:
        raise InternalError(
            f"the constraints tight at a generator have rank {len(pivots)}, expected {n - 1}: "
            "its incidence does not pin down one point")
    f = free[0]
    v = [0] * n
    v[f] = prev if pivots else 1  # the pivot block's determinant (up to sign)
    for i in range(len(pivots) - 1, -1, -1):
        col, row = pivots[i], M[i]
        v[col] = -sum(row[j] * v[j] for j in range(col + 1, n)) // row[col]
    g = 0
    for x in v:
        g = math.gcd(g, x)
    return [x // g for x in v] if g > 1 else v
