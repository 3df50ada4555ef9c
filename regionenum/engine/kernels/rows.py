"""Numba kernels: the hyperplane rows of a batch of cells for the next layer, and the bounds on
their errors.

Each child cell of a split takes its parent's rows ``J`` (the layer's pre-activations as rows over
``(t, x)``) scaled by its units' slopes (1 where its state bit ``on`` is set, the activation's
``off`` slope elsewhere); the next layer's rows are those masked rows
times the layer's weights, plus the bias on the ``t`` row. Every entry of them is one sum of the
products of a weight with a masked row entry, and the bias; its rounding is bounded as that of a
dot product in any order (``gamma_(width + 1)`` times the sum of the terms' sizes), so the sum may
be formed in whatever order is cheapest: by a matrix product of masked rows shared by siblings
(:func:`shared_rows_and_bounds` then BLAS, then :func:`add_own_terms`) or entry by entry for
narrow layers (:func:`narrow_rows_and_bounds`).
"""
from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["BY_TERM_FROM", "add_own_bounds", "add_own_terms", "block_bounds", "child_rows", "child_unit_bounds",
           "gather_masked", "narrow_rows_and_bounds", "own_room", "shared_rows_and_bounds", "unit_error_bounds"]

#: The kernels release the GIL, as the splitting kernel and BLAS do: subtrees on two threads run
#: them side by side (holding it, they made the 2-D enumerations 10-13% slower, the output
#: layer's rows waiting for the other thread's Python).
_JIT = dict(cache=True, nogil=True)


@nb.njit(**_JIT)
def gather_masked(J, parent, on, off):
    """``J[parent] * slopes[:, None, :]`` in one pass, the slope being 1 where ``on`` and ``off``
    elsewhere: each child's copy of its parent's hyperplane rows (or their error bounds, with
    ``|off|``), scaled by the child's activation slopes; 0 where the slope is 0, even for an
    infinite bound (whose product would be NaN)."""
    n = parent.shape[0]
    D = J.shape[1]
    W = J.shape[2]
    out = np.empty((n, D, W), J.dtype)
    slopes = np.empty(W)
    for i in range(n):
        p = parent[i]
        _child_slopes(on[i], off, slopes)
        for k in range(D):
            for h in range(W):
                v = J[p, k, h] * slopes[h]
                out[i, k, h] = v if slopes[h] != 0.0 else 0.0
    return out


@nb.njit(**_JIT)
def shared_rows_and_bounds(J, E, parent, on, off, rounding, M, pre, sizes, owner, own_span, own, term_cost):
    """The masked rows of a batch's children for a matrix product with the next layer's
    ``[W | b]^T``, and the bounds their errors carry into it, for layers wider than a few units.

    Child ``i`` of cell ``p = parent[i]`` takes its parent's rows scaled by its slopes ``s`` (1
    where ``on[i]``, ``off`` elsewhere; read from the state bits, a byte per unit, rather than
    from float masks eight times their size): ``J[p] * s``. Its ``pre[i] = rounding * a + E[p, 0]
    * |s|`` with ``a = sum_k |J[p, k]| * |s|`` is the bound its errors carry into the product (0
    where the slope is 0: the row is then exactly zero, even where its bound was infinite);
    ``rounding`` multiplies ``a``, not the parent's sum before the slope: with rows below
    float64's normal range and a large slope, the product taken first would underflow and the
    slope would then magnify what was lost. ``sizes[i]`` gets the sum and the largest of ``a``
    over the units, then the same of ``pre[i]`` (for the norm bounds).

    Consecutive children of one parent (siblings: a split's children come together) share one
    block of masked rows in ``M``, with their common slopes and 0 on the units they differ on:
    the block's product then holds the terms of every unit they agree on, and
    :func:`add_own_terms` adds each child's terms of the units the chunk differs on (on wide
    layers deep in a network a parent has a few children that differ in one to four units: one
    product per parent instead of one per child). A chunk's cost, in units of one unit's share
    of a block's product, is ``width`` for its block and ``term_cost`` for each own term a child
    adds (one unit's terms added to its rows; a unit whose slope is 0 adds none): a chunk grows,
    child by child, while its cost per child does not grow. (Growing it while it costs no more
    than a block per child would make chunks of about ``width / term_cost`` children where each
    adds a unit, as the many children of a cell cut by a whole layer do: a chunk of ``c``
    children differing on about ``c`` units costs ``width / c + term_cost t c`` per child, with
    ``t`` the share of children whose slope on such a unit is not 0 (1 for leaky slopes, about a
    half for ReLU), least at ``c = sqrt(width / (term_cost t))``.) A child that would break that
    starts the next chunk; one alone gets a block of its own (every child, at once, where
    ``term_cost`` is infinite).

    Into the given arrays: the blocks ``M`` (room for ``(n, D, width + 1)``), each child's block
    ``owner[i]`` and its own units ``own[own_span[i, 0]:own_span[i, 1]]`` (room for
    :func:`own_room` units), ``pre`` (or, where it has one row only, each child's in turn, for
    ``sizes`` alone: the unit-by-unit bound that reads it is not always wanted) and ``sizes``.
    Returns the number of blocks. A block has
    one column more than the units: 1 on the ``t`` row (``k = 0``), 0 on the others, so that the
    product adds the bias to the ``t`` row as a term of its sum.

    Each entry of a child's rows is then one sum of ``width`` products and the bias, each term
    formed as in a block of its own: a term left out of the shared block is an exact zero there,
    whose addition rounds nothing, so the sum's rounding is within the bound of a product of
    the child's own masked rows (``gamma_{width + 1}`` times the sum of the terms' sizes, from
    its ``pre`` and ``sizes``). That holds of finite rows: an infinite entry makes its term NaN,
    and with it the rows of every child of the chunk, where a slope of 0 made its own child's
    NaN; rows that are not finite were no bound either way, and a NaN decides no sign in the
    splitting kernel."""
    n = parent.shape[0]
    D = J.shape[1]
    W = J.shape[2]
    slopes = np.empty(W)
    blocks = 0
    filled = 0
    seen = np.full(W, -1)  # the chunk (by its first child) in which a unit was found to differ
    fresh = np.empty(W, np.int64)
    start = 0
    kept = pre.shape[0] == n
    while start < n:
        p = parent[start]
        end, nd = _chunk(parent, on, off, start, term_cost, seen, fresh, own[filled:])
        for i in range(start, end):
            _child_slopes(on[i], off, slopes)
            _carried_bounds(J[p], E[p, 0], slopes, rounding, pre[i if kept else 0], sizes[i])
            own_span[i, 0] = filled
            own_span[i, 1] = filled + nd
            if i == start:  # the chunk's block: its slopes, 0 where its children differ
                for h in own[filled: filled + nd]:
                    slopes[h] = 0.0
                for k in range(D):
                    for h in range(W):
                        M[blocks, k, h] = J[p, k, h] * slopes[h]
                    M[blocks, k, W] = 1.0 if k == 0 else 0.0  # the bias's column
                blocks += 1
            owner[i] = blocks - 1
        filled += nd
        start = end
    return blocks


def own_room(n: int, width: int, term_cost: float) -> int:
    """How many units :func:`shared_rows_and_bounds` may write to ``own`` for ``n`` children of
    ``width`` units: ``n * width // min(floor(term_cost), width) + 1`` for ``term_cost >= 1``,
    ``n * width + 1`` below. A chunk's cost per child is at most a block's, ``width``, so a chunk
    of ``c`` children adds at most ``(c - 1) width / term_cost`` own terms, and each of its units
    adds at least one (a unit it differs on has slope 1 for some child); below a cost of 1 a
    chunk differs on at most ``width`` units. (The kernel does not check: numba reads and
    writes without bounds checks.)"""
    return n * width // int(min(max(term_cost, 1.0), width)) + 1


@nb.njit(inline='always', **_JIT)
def _chunk(parent, on, off, start, term_cost, seen, fresh, own):
    """The chunk of siblings that starts at child ``start`` (see :func:`shared_rows_and_bounds`):
    returns its end and ``nd``, the number of units its children differ on, written to
    ``own[:nd]``; ``seen[h] == start`` marks those units, ``fresh`` is scratch."""
    n, W = on.shape
    end, nd, terms = start + 1, 0, 0
    while term_cost < np.inf and end < n and parent[end] == parent[start]:
        new = 0
        for h in range(W):  # the units this child adds, into fresh, without branches
            fresh[new] = h
            new += (on[end, h] ^ on[start, h]) & (seen[h] != start)
        c = end - start  # the children so far
        more = _terms(on[end], off, own[:nd])  # the new child's terms of the chunk's units
        for i in range(start, end + 1):  # every child's of the units it adds
            more += _terms(on[i], off, fresh[:new])
        if (W + term_cost * (terms + more)) * c > (W + term_cost * terms) * (c + 1):
            break
        terms += more
        for h in fresh[:new]:
            seen[h] = start
            own[nd] = h
            nd += 1
        end += 1
    return end, nd


@nb.njit(inline='always', **_JIT)
def _terms(on, off, units):
    """How many of ``units`` add terms for a child with states ``on``: those whose slope (1
    where on, ``off`` elsewhere) is not 0."""
    if off != 0.0:
        return units.shape[0]
    count = 0
    for h in units:
        count += on[h]
    return count


@nb.njit(**_JIT)
def add_own_terms(shared, owner, J, parent, on, off, own_span, own, weights_T, out):
    """Each child's rows ``out[i]``: its block's product ``shared[owner[i]]`` plus, one by one,
    the terms of its own units ``own[own_span[i, 0]:own_span[i, 1]]`` with its own slopes (see
    :func:`shared_rows_and_bounds`; ``weights_T`` is ``W^T``, a row per input unit), by
    :func:`child_rows`."""
    for i in range(parent.shape[0]):
        child_rows(shared[owner[i]], J[parent[i]], on[i], off, own[own_span[i, 0]: own_span[i, 1]], weights_T,
                   out[i])


@nb.njit(**_JIT)
def child_rows(shared, J, on, off, own, weights_T, out):
    """One child's rows ``out`` (``(D, units)``): its block's product ``shared`` plus, one by one,
    the terms of its own units ``own`` with its slopes (1 where ``on``, ``off`` elsewhere), each
    term its parent's row entry ``J[k, h]`` times the slope times the weight ``weights_T[h, o]``
    (float64 products, added to ``out`` in its own type). A unit whose slope is 0 (a ReLU unit
    off) is skipped: its terms are exact zeros, as in the block. :func:`add_own_terms` and the
    screen (:func:`~regionenum.engine.kernels.screening.screened_rows`) both run it: the same
    terms in the same order (where the screen's compilation fuses a multiply-add, a last bit may
    differ; the rows' rounding bound holds either way)."""
    D = J.shape[0]
    units = weights_T.shape[1]
    for k in range(D):
        for o in range(units):
            out[k, o] = shared[k, o]
    for h in own:
        m = 1.0 if on[h] else off
        if m == 0.0:
            continue
        for k in range(D):
            c = J[k, h] * m
            for o in range(units):
                out[k, o] += c * weights_T[h, o]


@nb.njit(**_JIT)
def block_bounds(pre, owner, own_span, own, blocks):
    """Per block of :func:`shared_rows_and_bounds`, its children's common ``pre``: its first
    child's, 0 on the units its children differ on (their own units), whose product with
    ``|W|^T`` the children share (:func:`add_own_bounds`)."""
    out = np.empty((blocks, pre.shape[1]))
    for i in range(owner.shape[0]):
        b = owner[i]
        if i == 0 or owner[i - 1] != b:
            for h in range(pre.shape[1]):
                out[b, h] = pre[i, h]
            for h in own[own_span[i, 0]: own_span[i, 1]]:
                out[b, h] = 0.0
    return out


@nb.njit(**_JIT)
def add_own_bounds(shared, owner, pre, own_span, own, weights_T, out):
    """Each child's unit-by-unit bound ``out[i] = pre[i] @ |W|^T`` from its block's product
    ``shared[owner[i]]`` (of the block's common ``pre``, 0 on the units its children differ
    on: :func:`block_bounds`) plus, one by one, the terms of its own units
    ``own[own_span[i, 0]: own_span[i, 1]]`` (``weights_T``: ``W^T``, a row per input unit,
    whose magnitudes are taken here: no copy of ``|W|^T`` is kept). Every term is non-negative
    and each of the child's units' terms is in the sum once, as in its own product: the same sum
    in another order, within the same bound on its rounding. A term whose ``pre`` is 0 (a unit
    off) is skipped, as its exact zero adds nothing."""
    units = out.shape[1]
    for i in range(owner.shape[0]):
        b = owner[i]
        for o in range(units):
            out[i, o] = shared[b, o]
        for h in own[own_span[i, 0]: own_span[i, 1]]:
            v = pre[i, h]
            if v == 0.0:
                continue
            for o in range(units):
                out[i, o] += v * abs(weights_T[h, o])


#: Narrow layers of at least this many units sum their rows term by term, a unit's terms for
#: all the layer's units at once (a loop that vectorizes over them), rather than as one dot
#: product per unit and row: the digits plane's output layer (ten units) in 0.61-0.66 of the
#: time, r4_small's 16-unit layers in 0.57-0.79; with one unit the dot products' four partial
#: sums were faster (the term-by-term sums took 1.2-1.5 times as long).
BY_TERM_FROM = 4


@nb.njit(**_JIT)
def narrow_rows_and_bounds(J, E, parent, on, off, rounding, weights, weights_T, bias, abs_weights, abs_weights_T,
                           out, product, sizes):
    """:func:`shared_rows_and_bounds` and the next layer's products in one pass, for a layer of
    few units (``weights``: ``(units, width)``, the output layer as a rule; ``weights_T`` and
    ``abs_weights_T`` its and ``|weights|``'s transposes, C-contiguous), without the masked
    rows ``M`` (as large as the parents' rows, per child) or ``pre`` (as large as a row): into
    the given arrays, each child's rows ``out[i] = M[i] @ weights.T`` with ``bias`` added to row
    0, the unit-by-unit bound ``product[i] = pre[i] @ abs_weights.T``, and ``sizes`` as there.

    Consecutive children of one parent (siblings: a split's children come together) share the
    terms of the units on which their states agree: those are summed once for the run of
    siblings (:func:`_shared_terms`), and each child adds the terms of the few units on which
    the siblings differ (:func:`_own_terms`; on wide layers a parent has a few children that
    differ in one to four units). Siblings that differ on more than a quarter of the units (a
    cell cut by many of the split layer's hyperplanes) sum each on their own: the own terms,
    added one by one, cost more per term than the shared sums.

    Each entry is still one sum of ``width`` products and the bias, each term formed as before.
    A term left out of the shared sum is an exact zero there, whose addition rounds nothing; so
    the sum's rounding is that of a sum of the same terms in another order, within the same
    bound (``gamma_{width + 1}`` times the sum of the terms' sizes, as for a matrix product).
    On a finite row that holds of every way the shared sums are formed (:func:`_shared_terms`):
    an infinite entry makes its term NaN where the sums are dot products, as a slope of 0 always
    did, and a NaN is no bound downstream; summed term by term, a unit whose slope is 0 adds
    nothing, as in the wide layers' masked rows (:func:`gather_masked`), and its exact term is
    0 whatever its row's float value. A parent with one child gets the sums of a single pass."""
    if weights.shape[0] >= BY_TERM_FROM:  # the flag a constant in each call, for the compiler
        _narrow_runs(J, E, parent, on, off, rounding, weights, weights_T, bias, abs_weights, abs_weights_T, out,
                     product, sizes, True)
    else:
        _narrow_runs(J, E, parent, on, off, rounding, weights, weights_T, bias, abs_weights, abs_weights_T, out,
                     product, sizes, False)


@nb.njit(inline='always', **_JIT)
def _narrow_runs(J, E, parent, on, off, rounding, weights, weights_T, bias, abs_weights, abs_weights_T, out,
                 product, sizes, by_term):
    """:func:`narrow_rows_and_bounds`, run of siblings after run, with the shared sums term by
    term where ``by_term``."""
    n = parent.shape[0]
    W = J.shape[2]
    shared = np.empty(W)  # the run's slopes, 0 on the units it differs on
    differ = np.empty(W, np.int64)
    flag = np.empty(W, np.bool_)
    ones = np.ones(W)  # the bound's sum has two factors per term: times 1, exactly
    pre = np.empty(W)
    live = np.empty(W, np.int64)
    start = 0
    while start < n:
        p, end = parent[start], start + 1
        while end < n and parent[end] == p:
            end += 1
        nd = 0  # the units on which the run's children differ: a pass per sibling, then the
        # units in order, without branches (unit by unit, with a branch per sibling, this took
        # about a quarter of the kernel's time on r2_wide's output)
        if end - start > 1:
            for h in range(W):
                flag[h] = on[start + 1, h] ^ on[start, h]
            for i in range(start + 2, end):
                for h in range(W):
                    flag[h] |= on[i, h] ^ on[start, h]
            for h in range(W):
                differ[nd] = h
                nd += flag[h]
        alone = 4 * nd > W  # siblings that differ on many units: each child's own sums
        own = differ[:0] if alone else differ[:nd]
        for i in range(end - 1, start - 1, -1):  # the run's first child last: it holds the shared sums
            at = i if alone else start
            if alone or i == end - 1:
                _child_slopes(on[at], off, shared)
                for h in own:
                    shared[h] = 0.0
                _carried_bounds(J[p], E[p, 0], shared, rounding, pre, sizes[at])
                if by_term:
                    _shared_terms_by_term(J[p], shared, weights_T, abs_weights_T, pre, live, out[at], product[at])
                else:
                    _shared_terms(J[p], shared, weights, abs_weights, ones, pre, out[at], product[at])
            if i != at:  # the shared sums, to which the child's own terms are added
                out[i], product[i], sizes[i] = out[at], product[at], sizes[at]
            _own_terms(J[p], E[p, 0], on[i], off, own, rounding, weights, abs_weights, out[i], product[i],
                       sizes[i])
            for o in range(weights.shape[0]):
                out[i, 0, o] += bias[o]
        start = end


@nb.njit(inline='always', **_JIT)
def _shared_terms(Jp, slopes, weights, abs_weights, ones, pre, out, product):
    """The sums over the units of one run of siblings with their ``slopes`` (0 on the units they
    differ on), into the given child's arrays (the run's first child, or a child that sums
    alone, whose slopes are then all its own): per next-layer unit ``o`` and row ``k``,
    ``out[k, o] = sum_h (Jp[k, h] * slopes[h]) * weights[o, h]``; ``product[o]``, the
    unit-by-unit bound's sum of ``pre`` (as :func:`_carried_bounds` gives it) times ``|W|``
    (``ones``, the bound's third factor, as its sum has two factors per term), as dot products."""
    for o in range(weights.shape[0]):
        for k in range(Jp.shape[0]):
            out[k, o] = _dot4(Jp[k], slopes, weights[o])
        product[o] = _dot4(pre, abs_weights[o], ones)


@nb.njit(inline='always', **_JIT)
def _shared_terms_by_term(Jp, slopes, weights_T, abs_weights_T, pre, live, out, product):
    """:func:`_shared_terms` term by term: the units whose slope is not 0 (into ``live``, its
    scratch), one after another, each adding its terms to every next-layer unit's sums."""
    n = 0
    for h in range(slopes.shape[0]):  # without branches
        live[n] = h
        n += slopes[h] != 0.0
    units = weights_T.shape[1]
    for k in range(Jp.shape[0]):
        for o in range(units):
            out[k, o] = 0.0
    for o in range(units):
        product[o] = 0.0
    for h in live[:n]:
        s = slopes[h]
        for k in range(Jp.shape[0]):
            x = Jp[k, h] * s
            for o in range(units):
                out[k, o] += x * weights_T[h, o]
        v = pre[h]
        for o in range(units):
            product[o] += v * abs_weights_T[h, o]


@nb.njit(inline='always', **_JIT)
def _own_terms(Jp, Ep, on, off, differ, rounding, weights, abs_weights, out, product, sizes):
    """Adds to one child's rows ``out``, bound ``product`` and ``sizes``, which hold its run's
    shared sums, the terms of the units in ``differ`` with the child's own slopes (each formed
    as in :func:`_carried_bounds` and :func:`_shared_terms`)."""
    for h in differ:
        m = 1.0 if on[h] else off
        s = abs(Jp[0, h])
        for k in range(1, Jp.shape[0]):
            s += abs(Jp[k, h])
        a = s * abs(m)
        v = rounding * a + Ep[h] * abs(m) if m != 0.0 else 0.0
        sizes[0] += a
        sizes[1] = max(sizes[1], a)
        sizes[2] += v
        sizes[3] = max(sizes[3], v)
        for o in range(weights.shape[0]):
            for k in range(Jp.shape[0]):
                out[k, o] += (Jp[k, h] * m) * weights[o, h]
            product[o] += (v * abs_weights[o, h]) * 1.0


@nb.njit(inline='always', **_JIT)
def _child_slopes(on, off, slopes):
    """A child's slope per unit into ``slopes``: 1 where ``on``, ``off`` elsewhere."""
    for h in range(slopes.shape[0]):
        slopes[h] = 1.0 if on[h] else off


@nb.njit(inline='always', **_JIT)
def _dot4(x, y, z):
    """``sum_h (x[h] * y[h]) * z[h]``, summed in four partial sums over every fourth term, then
    pairwise."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    h = 0
    while h + 4 <= n:
        s0 += (x[h] * y[h]) * z[h]
        s1 += (x[h + 1] * y[h + 1]) * z[h + 1]
        s2 += (x[h + 2] * y[h + 2]) * z[h + 2]
        s3 += (x[h + 3] * y[h + 3]) * z[h + 3]
        h += 4
    while h < n:
        s0 += (x[h] * y[h]) * z[h]
        h += 1
    return (s0 + s1) + (s2 + s3)


@nb.njit(inline='always', **_JIT)
def _carried_bounds(Jp, Ep, slopes, rounding, pre, sizes):
    """A child's ``pre`` and ``sizes`` (see :func:`shared_rows_and_bounds`) from its parent's
    rows ``Jp`` and their bounds ``Ep``, and its ``slopes``."""
    W = Jp.shape[1]
    for h in range(W):  # the rows' absolute sums first, row after row (a loop that vectorizes)
        pre[h] = abs(Jp[0, h])
    for k in range(1, Jp.shape[0]):
        for h in range(W):
            pre[h] += abs(Jp[k, h])
    sum_a = 0.0
    max_a = 0.0
    sum_pre = 0.0
    max_pre = 0.0
    for h in range(W):
        m = abs(slopes[h])
        a = pre[h] * m
        v = rounding * a + Ep[h] * m
        v = v if m != 0.0 else 0.0  # a select, not a branch: states are as good as random
        pre[h] = v
        sum_a += a
        max_a = max(max_a, a)
        sum_pre += v
        max_pre = max(max_pre, v)
    sizes[0] = sum_a
    sizes[1] = max_a
    sizes[2] = sum_pre
    sizes[3] = max_pre


@nb.njit(**_JIT)
def unit_error_bounds(E, scale, row_norms, abs_bias, g, factor, products):
    """Each child's bound per unit, in place in ``E`` (``(children, units)``), by
    :func:`child_unit_bounds`. Returns how many entries the product bound decided. One pass
    instead of an outer product, a minimum, a comparison and two updates over the whole
    array."""
    smaller = 0
    for i in range(E.shape[0]):
        smaller += child_unit_bounds(scale[i], row_norms, abs_bias, g, factor, products, E[i])
    return smaller


@nb.njit(**_JIT)
def child_unit_bounds(scale, row_norms, abs_bias, g, factor, products, E):
    """One child's bound per unit, in place in ``E`` (``(units,)``): the smaller of ``E[h]`` (the
    unit-by-unit product, when ``products``; otherwise ``E`` is only written) and ``scale *
    row_norms[h]`` (0 where either is: no error carried in, or a unit without weights, even where
    the other is infinite), plus ``g * abs_bias[h]``, times ``factor``. Returns how many entries
    the product bound decided. :func:`unit_error_bounds` and the screen
    (:func:`~regionenum.engine.kernels.screening.screened_rows`) both run it (where the screen's
    compilation fuses the multiply-add, the last bit may differ: ``factor`` covers the
    formula's own rounding either way)."""
    s = scale if scale == scale else np.inf  # NaN (never expected): no bound
    smaller = 0
    for h in range(E.shape[0]):
        p = s * row_norms[h] if s > 0.0 and row_norms[h] > 0.0 else 0.0
        if products and E[h] < p:
            p = E[h]
            smaller += 1
        E[h] = (p + g * abs_bias[h]) * factor
    return smaller

