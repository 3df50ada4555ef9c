"""Numba kernels: split polyhedral cells by hyperplanes.

Cells live in flat CSR arrays. A cell is a pointed polyhedron given by its generators in
homogeneous coordinates ``(t, x)`` (points have ``t = 1``, rays ``t = 0`` and unit length) and,
for every generator, the sorted ids of the constraints tight at it (its *incidence*). Two
generators are joined by an edge exactly when no third generator of the cell is tight on every
constraint the two share (the combinatorial test of the double description method), so the
splitting needs no geometry beyond signs, and is exact whenever the signs are.

Signs come from float64 dot products, trusted only where a rigorous bound on every rounding
error behind the value proves them (see ``_values``): the hyperplane's rows carry a bound on
their own error (accumulated through the layers' products), and every generator a bound on the
distance of its float coordinates from the exact vertex it stands for (accumulated through the
interpolations that made it, see ``_crossing``). Where both the generator and the row are exact
float64 numbers (zero bounds), the sign is computed without error in float64 (``_exact_sign``).
A sign neither proves is looked up in a table of exact answers; when it is not there, the cell
is abandoned and the question returned, so that the caller can settle it in exact arithmetic and
split that cell again; an answer's generator, where float64 holds it exactly, replaces the float
one with a zero bound (``_adopt``). The kernels never
call back into Python, so they run without the GIL.

Most of a layer's hyperplanes miss a small cell. On a cell of points (up to :data:`BOX_INPUTS`
inputs, every coordinate and error bound finite), each is first tested against the cell's
bounding box (``_box_sides``: one value at the box's centre and the box's radius along the row,
with bounds that imply the test at every generator), so that only the few left undecided get a
value per generator; a cell's pieces then get the same bits, and the same counts of signs, as
from that test alone. The tests of which generators are joined by an edge read each generator's
incidence as a bit mask over the cell's constraints (at most :data:`MASK_BITS` of them).

Arguments and results travel in named groups of arrays (the namedtuples below): Numba compiles
each group as one typed tuple, and callers read fields by name.
"""
from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

from ...core.tolerances import ETA, U
from .error_free import two_product, two_sum

__all__ = ["INCIDENCE_DTYPE", "Answers", "CellArrays", "Hyperplanes", "Pieces", "Questions", "SignRule",
           "no_sides", "split_cells"]

_JIT = dict(cache=True)
# Helpers called per generator or per edge are inlined at Numba's level (inline='always'): a
# compiled call increfs every array argument on entry and decrefs it on exit (atomic operations
# that Numba's pruning leaves in place across the callee's loops), which cost more than the
# helpers' arithmetic.

#: Cells in CSR arrays: generators (homogeneous ``(t, x)``; points have ``t = 1``, rays ``t = 0``
#: and unit length) with a bound ``gen_err`` on the max-norm distance of each from (a positive
#: multiple of) the exact vertex or ray it stands for, their sorted incidence, and the constraints
#: tight somewhere on each cell with rows oriented so that ``row . (t, x) <= 0`` and a bound
#: ``con_err`` on each row's distance from the exact one (summed over its entries).
CellArrays = namedtuple("CellArrays", "gen_off gens gen_err inc_off inc con_off con_ids con_rows con_err")
#: The incidences' type (``inc``): constraint ids are far below 2^31, and the incidences are an
#: enumeration's largest integer array (four ids per vertex in 4-D: 20 million on the suite's
#: r4_small, 82 MB less in int32 than in int64).
INCIDENCE_DTYPE = np.int32
#: Per cell ``c`` and hyperplane ``h``: its row ``rows[c, :, h]`` over ``(t, x)``, a rigorous bound
#: ``errors[c, 0, h]`` on ``sum_k |rows[c, k, h] - exact[c, k, h]|`` (zero for rows that are
#: exactly the network's weights or the domain's rows), and its global constraint id ``ids[h]``
#: (consecutive, increasing). ``exact_offsets`` (bool): every row's ``t``-coefficient is exact,
#: so the error lies in its ``x``-coefficients alone (rows of a network without biases up to
#: their layer: all zero, in float64 and exactly). At a generator exactly at the origin their
#: values are then exactly zero with a zero bound: every hyperplane of such a layer passes
#: through it, and none asks for its sign there. ``row_of[c]`` (int64, per cell) is the index of
#: cell ``c``'s rows and errors in ``rows`` and ``errors`` (read ``rows[c]`` above as
#: ``rows[row_of[c]]``): pieces of one cell cut in stages share its rows without a copy each.
#: ``sides`` (int8, ``(rows, hyperplanes)``, or no rows at all: not known) holds, per row of
#: ``rows``, the side +1 (-1) of each hyperplane proven to have every point of the cell (and so
#: of its pieces) strictly beyond its threshold on the positive (negative) side, 0 where not
#: known: those hyperplanes are taken as decided without a test, and their rows and errors are
#: never read (a count's screened last rows, :mod:`~regionenum.engine.kernels.screening`, are not
#: formed there). Where it is not given, the kernel's own box test (:func:`_box_sides`) decides.
Hyperplanes = namedtuple("Hyperplanes", "rows errors ids exact_offsets row_of sides")


def no_sides(hyperplanes: int) -> np.ndarray:
    """The ``sides`` of :data:`Hyperplanes` where none is known, for ``hyperplanes`` of them."""
    return np.zeros((0, hyperplanes), np.int8)


#: The sign rule: the domain's coordinate scale ``ref`` and the relative band ``tol`` of signs
#: settled exactly even where the rounding bound would prove them (see ``_values``).
SignRule = namedtuple("SignRule", "ref tol")
#: Exact signs settled so far, sorted by cell: ``sign`` of ``hyperplane`` at the generator of
#: ``cell`` with incidence ``inc[inc_off[q]:inc_off[q+1]]``, or where ``within[q]`` at every
#: generator whose incidence holds that one (an empty one: the hyperplane vanishes on the cell;
#: a tight constraint's: the hyperplane is a multiple of it on the cell, zero wherever it is
#: tight), and that generator's exact coordinates ``point[q]`` (``(1, x)``) where float64 holds
#: them exactly, else NaN: the kernel then takes them, with a zero error bound (see ``_adopt``).
Answers = namedtuple("Answers", "cell hyperplane inc_off inc within sign point")
#: The pieces of the split cells: parent cell, one state per hyperplane (1: > 0 somewhere, 0:
#: < 0 somewhere and never > 0, 2: identically zero), generators with their error bounds and
#: incidence, constraints.
Pieces = namedtuple("Pieces", "parent states gen_off gens gen_err inc_off inc con_off con_ids con_rows con_err")
#: Signs the kernel could not settle: the cell, the hyperplane, the generator's incidence (CSR)
#: and its float coordinates.
Questions = namedtuple("Questions", "cell hyperplane inc_off inc generator")


# --------------------------------------------------------------------------------------------
# growable buffers
@nb.njit(inline='always', **_JIT)
def _capacity(need, have):
    """The capacity a buffer of ``have`` rows grows to when it needs ``need``: at least double,
    so that growing is rare."""
    return max(need, 2 * have + 16)


@nb.njit(inline='always', **_JIT)
def _paced_capacity(need, have, done, total):
    """The capacity an output buffer of ``have`` rows grows to when it needs ``need`` after
    ``done`` of the ``total`` units of input (generators): what the whole input needs at the
    pace so far, an eighth more, but at most eight times ``need`` (cells whose pieces are many
    first overstate it; a buffer left more than twice as large as its pieces is copied to their
    size at the end, :func:`_fitted1`) and at least half as much again as ``have`` (pieces
    that pile up last would otherwise make a growth, a copy, of every eighth); where under a
    sixteenth is done, too little to tell, double. Doubling alone grew every split's outputs two
    or three times on 3-D and 4-D networks (their pieces have 3-6 times their cells'
    generators; a cap of four times made r4_small's calls grow twice)."""
    if 16 * done < total:
        return _capacity(need, have)
    paced = need * total // done
    return max(need + 16, have + have // 2, min(paced + paced // 8, 8 * need))


@nb.njit(**_JIT)
def _copied1(a, n, cap):
    """A new array of ``cap`` rows holding the first ``n`` rows of ``a``."""
    out = np.empty(cap, a.dtype)
    for i in range(n):  # a loop, not a slice assignment: no shape check to compile
        out[i] = a[i]
    return out


@nb.njit(**_JIT)
def _copied2(a, n, cap):
    """As :func:`_copied1`, for rows of a 2-D array."""
    out = np.empty((cap, a.shape[1]), a.dtype)
    for i in range(n):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j]
    return out


@nb.njit(**_JIT)
def _sized1(a, cap):
    """``a`` with room for ``cap`` rows (``a`` itself where it has them)."""
    return a if cap <= a.shape[0] else _copied1(a, a.shape[0], cap)


@nb.njit(**_JIT)
def _sized2(a, cap):
    """As :func:`_sized1`, for rows of a 2-D array."""
    return a if cap <= a.shape[0] else _copied2(a, a.shape[0], cap)


@nb.njit(**_JIT)
def _fitted1(a, n):
    """The first ``n`` rows of the output buffer ``a``: a view, or a copy where the buffer is
    more than twice as large (a view would keep it all alive, and :func:`_paced_capacity` may
    overshoot where doubling would not have)."""
    return a[:n] if a.shape[0] <= 2 * n + 16 else _copied1(a, n, n)


@nb.njit(**_JIT)
def _fitted2(a, n):
    """As :func:`_fitted1`, for rows of a 2-D array."""
    return a[:n] if a.shape[0] <= 2 * n + 16 else _copied2(a, n, n)


@nb.njit(**_JIT)
def _grow1(a, need):
    """``a`` with room for ``need`` rows, at least doubled where it grows (:func:`_capacity`)."""
    return a if need <= a.shape[0] else _sized1(a, _capacity(need, a.shape[0]))


@nb.njit(**_JIT)
def _grow2(a, need):
    """As :func:`_grow1`, for rows of a 2-D array."""
    return a if need <= a.shape[0] else _sized2(a, _capacity(need, a.shape[0]))


# --------------------------------------------------------------------------------------------
# sorted id sets
@nb.njit(inline='always', **_JIT)
def _intersect_ranges(a, sa, la, b, sb, lb, out):
    """Write the intersection of the sorted ``a[sa:sa+la]`` and ``b[sb:sb+lb]`` into ``out``
    (which may be ``a`` itself when ``sa == 0``: it is written behind the reading); return its
    length. Indices, not views: a view costs a reference count in the kernels' hot loops."""
    i = sa
    j = sb
    ea = sa + la
    eb = sb + lb
    n = 0
    while i < ea and j < eb:
        if a[i] == b[j]:
            out[n] = a[i]
            n += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return n


@nb.njit(inline='always', **_JIT)
def _is_subset_pool(a, na, pool, sb, lb):
    """Whether the sorted ``a[:na]`` is a subset of the sorted ``pool[sb:sb+lb]`` (indices, not
    views, as in :func:`_intersect_ranges`)."""
    j = sb
    eb = sb + lb
    for i in range(na):
        while j < eb and pool[j] < a[i]:
            j += 1
        if j == eb or pool[j] != a[i]:
            return False
        j += 1
    return True


@nb.njit(inline='always', **_JIT)
def _at_least(bits, k):
    """Whether the mask ``bits`` (uint64) has at least ``k`` bits set."""
    n = 0
    while bits != 0 and n < k:
        bits &= bits - np.uint64(1)
        n += 1
    return n >= k


@nb.njit(inline='always', **_JIT)
def _local_bit(ids, n_sorted, n_ids, cid):
    """The mask bit (uint64) of constraint ``cid`` among a cell's ``ids``: the sorted
    ``ids[:n_sorted]`` (searched by bisection), then the hyperplanes added after them
    (``ids[n_sorted:n_ids]``, searched in turn); 0 if it is not there."""
    a = _find(ids, 0, n_sorted, cid)
    if a >= 0:
        return np.uint64(1) << np.uint64(a)
    for k in range(n_sorted, n_ids):
        if ids[k] == cid:
            return np.uint64(1) << np.uint64(k)
    return np.uint64(0)


@nb.njit(inline='always', **_JIT)
def _hyperplane_bit(ids, n_sorted, n_ids, hid):
    """The mask bit of the hyperplane ``hid`` on a cell whose constraints so far are ``ids[:n_ids]``
    (see :func:`_local_bit`), appended to them if new, and their new number; bit 0 if they are
    already :data:`MASK_BITS`."""
    bit = _local_bit(ids, n_sorted, n_ids, hid)
    if bit == 0 and n_ids < MASK_BITS:
        ids[n_ids] = hid
        bit = np.uint64(1) << np.uint64(n_ids)
        n_ids += 1
    return bit, n_ids


@nb.njit(inline='always', **_JIT)
def _insert_pool(a, sa, na, value, out, so):
    """Write the sorted ``a[sa:sa+na]`` with ``value`` inserted (once) into ``out[so:]``, which
    must not overlap it; return the length (indices, not views, as in :func:`_is_subset_pool`)."""
    n = so
    placed = False
    for i in range(sa, sa + na):
        if not placed and value < a[i]:
            out[n] = value
            n += 1
            placed = True
        if a[i] == value:
            placed = True
        out[n] = a[i]
        n += 1
    if not placed:
        out[n] = value
        n += 1
    return n - so


@nb.njit(inline='always', **_JIT)
def _add_unique_sorted(buf, n, value):
    """Insert ``value`` into the sorted ``buf[:n]`` unless present; return the new length."""
    i = n
    while i > 0 and buf[i - 1] > value:
        i -= 1
    if i > 0 and buf[i - 1] == value:
        return n
    for k in range(n, i, -1):
        buf[k] = buf[k - 1]
    buf[i] = value
    return n + 1


# --------------------------------------------------------------------------------------------
# signs
#: Added to every nonzero error bound: below it (about 1e-301) subnormal numbers lose relative
#: precision, so no value that small is ever trusted.
TINY = 2.0 ** -1000

#: Up to this many inputs, hyperplanes are first tested against a cell's bounding box
#: (``_box_sides``). In 2-D it leaves about 1.5% of them to the test at each vertex and the kernel
#: took 0.55 times as long on r2_big's cells; in 3-D 11% (0.94 times); in 4-D 42%, on cells
#: with many vertices whose cutting is most of the work, and the kernel took 1.05 times as long.
BOX_INPUTS = 3

#: A cell's generators carry their incidences also as masks over its constraints when it has at
#: most this many (a uint64 each).
MASK_BITS = 64


@nb.njit(inline='always', **_JIT)
def _values(px, pdg, first, stop, rows, errors, exact_offsets, n_live, ref, tol, out_v, out_e, out_t, sa):
    """Values of the hyperplanes ``rows[:, j]`` (``j < n_live``: a cell's rows over ``(t, x)``
    not yet decided, copied side by side) at each homogeneous generator ``g = px[i]``, ``first
    <= i < stop``, with error bound ``dg = pdg[i]``: the values (``out_v[i, j]``), a rigorous
    bound on their distance from the exact values (``out_e[i, j]``), and the thresholds below
    which their signs are not trusted (``out_t[i, j]``). Arrays are passed with indices, not as views, and
    the generators go a range at a time (a cell's, a cut's): in the kernel's loops every view
    and every call with arrays costs reference counts taken and dropped.

    With ``g`` within ``dg`` (max-norm) of a positive multiple ``g*`` of the exact generator (its
    homogeneous coordinate ``g_0``, 1 for points and 0 for rays, is exact) and ``J = rows[:, j]``
    within ``errors[j]`` (summed over ``k``) of the exact row ``J*``,
    ``|fl(g . J) - g* . J*| <= gamma sum_k |g_k J_k| + dg sum_{k >= 1} |J_k| + m errors`` with
    ``m = max(|g_0|, max_{k >= 1} |g_k| + dg)`` (``gamma`` the rounding of a ``D``-term dot
    product), or ``m = max_{k >= 1} |g_k| + dg`` where the rows' ``J_0`` are exact
    (``exact_offsets``: their errors are in ``k >= 1`` alone). A sign is trusted when the value's size
    exceeds this bound and also ``tol`` times the hyperplane's size at the point (coordinates
    counted at least at the domain's scale ``ref``; rays are unit vectors): that band is always
    settled exactly, as a margin of caution. A bound that is not finite (overflow) never trusts.
    A row that is exactly zero with no error (a unit masked off on the cell) is exactly zero, and
    so is a value whose products are all exactly zero, unless one of them underflowed (see
    :func:`_underflowed`). ``sa`` is scratch of length ``n_live``."""
    D = px.shape[1]
    gamma = (D + 2) * U / (1.0 - (D + 2) * U)
    for i in range(first, stop):
        dg = pdg[i]
        g0 = px[i, 0]
        r = ref if g0 > 0 else 1.0
        gmax = 0.0
        for k in range(1, D):
            gmax = max(gmax, abs(px[i, k]))
        gmax = gmax + dg if exact_offsets else max(abs(g0), gmax + dg)
        a0 = abs(g0)
        for j in range(n_live):
            v = rows[0, j]
            out_v[i, j] = g0 * v
            out_e[i, j] = a0 * abs(v)  # sum_k |g_k J_k|
            out_t[i, j] = a0 * abs(v)  # the size, for the tol band
            sa[j] = 0.0  # sum_{k >= 1} |J_k|
        for k in range(1, D):
            gk = px[i, k]
            ak = abs(gk)
            m = max(ak, r)
            for j in range(n_live):
                v = rows[k, j]
                av = abs(v)
                out_v[i, j] += gk * v
                out_e[i, j] += ak * av
                sa[j] += av
                out_t[i, j] += m * av
        moved = dg > 0.0
        for j in range(n_live):  # selects, not branches, so that the loop vectorises
            ej = errors[j]
            se = out_e[i, j]
            e = gamma * se + dg * sa[j] + gmax * ej
            grown = e * (1.0 + 4.0 * gamma) + TINY  # the bound's own rounding, and subnormals
            e = grown if (se > 0.0) | ((ej > 0.0) & (gmax > 0.0)) | (moved & (sa[j] > 0.0)) else e
            e = e if e < np.inf else np.inf  # overflow or NaN: no bound
            t = tol * out_t[i, j]
            out_e[i, j] = e
            out_t[i, j] = t if t > e else e


@nb.njit(inline='always', **_JIT)
def _box_point(x, g, dg):
    """Whether the generator ``x[g]``, with error bound ``dg``, is one the box test
    (:func:`_box_sides`) takes: a point (not a ray) with finite coordinates and bound. A cell's
    generators all must be."""
    ok = (x[g, 0] == 1.0) & (dg < np.inf)
    for k in range(1, x.shape[1]):
        ok &= abs(x[g, k]) < np.inf
    return ok


@nb.njit(inline='always', **_JIT)
def _box_side(x, s_c, s_g, s_t, radius, size, error, gamma, dgmax, gmax, tol, slack) -> int:
    """:func:`_box_sides`' test of one hyperplane: +1 (-1) where its value ``x`` at the box's
    centre exceeds (is below minus) the margin from its sums (``|c|``, ``|g|`` and tol sizes,
    radius, the row's size) and its row's error bound ``error``, else 0 (NaN or no bound: 0)."""
    e = (gamma * s_g + dgmax * size + gmax * error) * (1.0 + 4.0 * gamma) + TINY
    e = e if e < np.inf else np.inf  # NaN (inf * 0, a NaN bound): no bound, as in _values
    t = max(tol * s_t, e)
    margin = (gamma * (s_c + s_g) + radius + t) * slack + 2.0 * TINY
    return 1 if x > margin else (-1 if x < -margin else 0)


@nb.njit(inline='always', **_JIT)
def _box_sides(px, pdg, ng, J, errors, r, ref, tol, centre, half, top, sums, whole, live):
    """Per hyperplane of a cell (generators ``px[:ng]``, all points; rows ``J[r]``), ``whole[h]`` = +1
    (-1) where a bound on the cell's bounding box alone proves that the generator-by-generator
    test (:func:`_values` at every generator, each value beyond its threshold) would find every
    generator on the positive (negative) side, else 0; the hyperplanes left at 0 are listed in
    ``live``, and their number returned. Far hyperplanes (all but a few of a layer, on a small
    cell) are so decided at the cost of one value each instead of one per generator.

    With the box's centre ``c`` and half-widths ``w`` (``|g_k - c_k| <= w_k`` for every float
    generator ``g``), ``|x_k| <= M_k`` on it, and a row ``J``: the float value at ``g`` is at
    least ``fl(J . (1, c)) - gamma S_c - R - gamma S_g`` (``S`` the sums of the products' sizes,
    ``S_g <= |J_0| + sum M_k |J_k|``, ``R = sum w_k |J_k|``), and ``g``'s threshold at most the
    one :func:`_values` would compute with ``M_k`` for ``|g_k|`` and the largest generator bound
    for ``dg``; the sums' own rounding is covered by a relative slack, and products below
    float64's normal range (at most ``D 2^-1075`` each sum) by ``2 TINY``. The cell's coordinates
    and generator bounds must be finite (the caller checks: the minima and maxima here would skip
    a NaN); a bound that overflows or is NaN here is infinite and decides nothing. So where the
    centre's value exceeds all of that, every generator passes the test: the cell's pieces get the same
    bits, and the same counts of signs, as from the test itself. ``centre``, ``half`` and
    ``top`` are scratch of length ``D``, ``sums`` of shape ``(6, H)``: in more than two inputs the
    sums per hyperplane are formed a coordinate at a time, so that the loops over the hyperplanes
    vectorise; in two, each hyperplane's at once, in the same order (the same sums), without
    going through ``sums``."""
    H = J.shape[2]
    D = px.shape[1]
    gamma = (D + 2) * U / (1.0 - (D + 2) * U)
    dgmax = 0.0
    for k in range(ng):
        dgmax = max(dgmax, pdg[k])
    biggest = 0.0
    for k in range(1, D):
        lo = px[0, k]
        hi = lo
        for g in range(1, ng):
            lo = min(lo, px[g, k])
            hi = max(hi, px[g, k])
        mid = 0.5 * lo + 0.5 * hi
        centre[k] = mid
        half[k] = max(hi - mid, mid - lo) * (1.0 + 4.0 * U)
        top[k] = max(abs(lo), abs(hi))
        biggest = max(biggest, top[k])
    gmax = max(1.0, biggest + dgmax)
    slack = 1.0 + 16.0 * gamma
    if D == 3:  # two inputs: every sum of a hyperplane in one pass (selects, not branches)
        c1, c2 = centre[1], centre[2]
        a1, a2 = abs(c1), abs(c2)
        t1, t2 = top[1], top[2]
        m1, m2 = max(t1, ref), max(t2, ref)
        w1, w2 = half[1], half[2]
        for h in range(H):
            j0, j1, j2 = J[r, 0, h], J[r, 1, h], J[r, 2, h]
            b0, b1, b2 = abs(j0), abs(j1), abs(j2)
            whole[h] = _box_side(j0 + c1 * j1 + c2 * j2, b0 + a1 * b1 + a2 * b2, b0 + t1 * b1 + t2 * b2,
                                 b0 + m1 * b1 + m2 * b2, 0.0 + w1 * b1 + w2 * b2, 0.0 + b1 + b2, errors[r, 0, h],
                                 gamma, dgmax, gmax, tol, slack)
    else:
        # the sums' rows (value, |c| size, |g| size, tol size, radius, row size) by index, not as
        # views: a view costs reference counts per call
        for h in range(H):
            j = J[r, 0, h]
            sums[0, h] = j
            sums[1, h] = abs(j)
            sums[2, h] = abs(j)
            sums[3, h] = abs(j)
            sums[4, h] = 0.0
            sums[5, h] = 0.0
        for k in range(1, D):
            ck = centre[k]
            ack = abs(ck)
            tk = top[k]
            mk = max(tk, ref)
            wk = half[k]
            for h in range(H):
                j = J[r, k, h]
                aj = abs(j)
                sums[0, h] += ck * j
                sums[1, h] += ack * aj
                sums[2, h] += tk * aj
                sums[3, h] += mk * aj
                sums[4, h] += wk * aj
                sums[5, h] += aj
        for h in range(H):
            whole[h] = _box_side(sums[0, h], sums[1, h], sums[2, h], sums[3, h], sums[4, h], sums[5, h],
                                 errors[r, 0, h], gamma, dgmax, gmax, tol, slack)
    n_live = 0
    for h in range(H):
        live[n_live] = h
        n_live += whole[h] == 0
    return n_live


@nb.njit(**_JIT)
def _underflowed(px, i, J, r, h) -> bool:
    """Whether a product of generator ``px[i]`` and row ``J[r, :, h]`` has two nonzero factors:
    asked only where every product came out zero with a zero bound (see :func:`_values`), where
    such a product underflowed and the value must not be trusted to be zero. Apart from the hot
    loop, which it would slow."""
    for k in range(1, px.shape[1]):
        if px[i, k] != 0.0 and J[r, k, h] != 0.0:
            return True
    return False


@nb.njit(**_JIT)
def _exact_sign(px, i, J, r, h, terms):
    """The exact sign of ``px[i] . J[r, :, h]`` for float64 vectors taken as exact numbers
    (a generator with a zero error bound, a row with none), or 2 where this cannot be done
    safely. Each product is split into its rounded value and its error by Dekker's product
    (exact while no factor is near overflow and no nonzero product below ``2^-960``), and the
    ``2 D`` terms are summed without error into a nonoverlapping expansion by Shewchuk's
    Grow-Expansion, whose largest component has the sum's sign. ``terms`` is scratch of length
    ``2 D``. A stage between the float filter and exact integers: a dyadic point met by many
    hyperplanes, or a box corner near one, is settled here."""
    n = 0
    for k in range(px.shape[1]):
        a = px[i, k]
        b = J[r, k, h]
        p = a * b
        if p == 0.0:
            if a != 0.0 and b != 0.0:
                return 2  # underflowed
            continue
        if not (abs(a) < 2.0 ** 990 and abs(b) < 2.0 ** 990 and 2.0 ** -960 < abs(p) < 2.0 ** 1000):
            return 2
        p, err = two_product(a, b)
        # grow the expansion terms[:n] (nonoverlapping, increasing) by p, then by err
        for q in (p, err):
            m = 0
            for j in range(n):
                q, e = two_sum(q, terms[j])
                if e != 0.0:
                    terms[m] = e
                    m += 1
            if q != 0.0:
                terms[m] = q
                m += 1
            n = m
    if n == 0:
        return 0
    return 1 if terms[n - 1] > 0.0 else -1


@nb.njit(inline='always', **_JIT)
def _interval(v, e, s):
    """The interval ``(lo, hi)`` holding ``|v*|`` for the exact value ``v*`` of sign ``s`` (+1
    or -1) with ``|v - v*| <= e``, rounded outwards; ``lo >= 0``, ``hi > 0``."""
    a = s * v
    slack = 2.0 * U * (abs(a) + e)
    return max(a - e - slack, 0.0), max(a + e + slack, TINY)


@nb.njit(inline='always', **_JIT)
def _within(num, den, lo, hi):
    """The float weight ``num / den`` moved into ``[lo, hi]``, which holds the exact one (the
    interval's middle where the quotient is undefined), and its largest distance from the exact
    weight, ``max(w - lo, hi - w)``: infinite where ``hi`` is."""
    w = num / den if den != 0.0 else np.nan
    if not hi < np.inf:
        return (max(w, lo) if w < np.inf else lo), np.inf
    if not w == w:
        w = 0.5 * (lo + hi)
    w = min(max(w, lo), hi)
    return w, max(w - lo, hi - w)


@nb.njit(inline='always', **_JIT)
def _crossing(x, ia, dga, va, ea, ib, dgb, vb, eb, io):
    """Where the edge from generator ``ga = x[ia]`` (value ``va > 0`` exactly, float ``va``
    within ``ea``) to ``gb = x[ib]`` (value ``< 0``) crosses the hyperplane: writes the new
    generator into ``out = x[io]`` and returns the bound on its distance from the exact one.
    (Rows by index, not views: each view costs reference counts in the kernel's loop.)

    The exact crossing is a combination of the exact ends weighted by their exact values; these
    lie in intervals around the float values (:func:`_interval`, which also covers values whose
    float sign was wrong and was settled exactly), so the weight lies in an interval too. The
    new generator takes the float weight, moved into that interval where it is outside
    (:func:`_within`), and its bound grows by the weight's largest distance from the interval's
    ends times the edge's length, plus the ends' own bounds and the rounding. Not the interval's
    middle: where the ends' bounds are pessimistic (coordinates of very different scales make
    them so) the interval is wide and lopsided, and its middle would move the generator far
    from the float one, which is nearly always closer to the exact one. Points stay points
    (``t = 1``), two rays give a unit ray, a point and a ray a point."""
    D = x.shape[1]
    a_lo, a_hi = _interval(va, ea, 1.0)
    b_lo, b_hi = _interval(vb, eb, -1.0)
    gamma = 8.0 * U
    na = 0.0
    nb_ = 0.0
    diff = 0.0
    for k in range(1, D):
        na = max(na, abs(x[ia, k]))
        nb_ = max(nb_, abs(x[ib, k]))
        diff = max(diff, abs(x[ib, k] - x[ia, k]))
    if x[ia, 0] > 0 and x[ib, 0] > 0:  # two points: ga + lam (gb - ga), lam = a / (a + b)
        lo = a_lo / (a_lo + b_hi) * (1.0 - gamma)
        hi = min(a_hi / (a_hi + b_lo) * (1.0 + gamma), 1.0)
        lam, off = _within(va, va - vb, lo, hi)
        x[io, 0] = 1.0
        for k in range(1, D):
            x[io, k] = x[ia, k] + lam * (x[ib, k] - x[ia, k])
        return max(dga, dgb) + off * (diff + dga + dgb) + gamma * (na + nb_)
    if x[ia, 0] > 0 or x[ib, 0] > 0:  # a point p and a ray q: p + mu q, mu = |v(p)| / |v(q)|
        if x[ia, 0] > 0:
            ip, dp, vp, p_lo, p_hi, iq, dq, vq, q_lo, q_hi = ia, dga, va, a_lo, a_hi, ib, dgb, vb, b_lo, b_hi
        else:
            ip, dp, vp, p_lo, p_hi, iq, dq, vq, q_lo, q_hi = ib, dgb, vb, b_lo, b_hi, ia, dga, va, a_lo, a_hi
        lo = p_lo / q_hi * (1.0 - gamma)
        hi = p_hi / q_lo * (1.0 + gamma) if q_lo > 0 else np.inf
        mu, off = _within(abs(vp), abs(vq), lo, hi)
        nq = 0.0
        npt = 0.0
        x[io, 0] = 1.0
        for k in range(1, D):
            x[io, k] = x[ip, k] + mu * x[iq, k]
            nq = max(nq, abs(x[iq, k]))
            npt = max(npt, abs(x[ip, k]))
        err = dp + off * (nq + dq) + mu * dq + gamma * (npt + mu * nq)
        return err if err < np.inf else np.inf
    # two rays: the direction b ga + a gb, made a unit vector
    lo = b_lo / (b_lo + a_hi) * (1.0 - gamma)
    hi = min(b_hi / (b_hi + a_lo) * (1.0 + gamma), 1.0)
    lam, off = _within(vb, vb - va, lo, hi)
    nrm = 0.0
    x[io, 0] = 0.0
    for k in range(1, D):
        x[io, k] = lam * x[ia, k] + (1.0 - lam) * x[ib, k]
        nrm += x[io, k] * x[io, k]
    nrm = np.sqrt(nrm)
    if not nrm > 0.0:
        return np.inf
    for k in range(1, D):
        x[io, k] /= nrm
    err = (max(dga, dgb) + off * (diff + dga + dgb) + gamma * (na + nb_)) / nrm
    return err * (1.0 + gamma) + gamma


@nb.njit(**_JIT)
def _answer(c, h, inc, ans_cell, ans_h, ans_inc_off, ans_inc, ans_within):
    """Where the exact sign of hyperplane ``h`` at the generator of cell ``c`` with (sorted)
    incidence ``inc`` is recorded, or -1 when it is not. The table is sorted by cell; an answer
    ``within`` holds at every generator whose incidence holds its own (see :data:`Answers`)."""
    lo = np.searchsorted(ans_cell, c)
    hi = np.searchsorted(ans_cell, c, side="right")
    for q in range(lo, hi):
        if ans_h[q] != h:
            continue
        a = ans_inc_off[q]
        b = ans_inc_off[q + 1]
        if ans_within[q]:
            if _is_subset_pool(ans_inc[a:b], b - a, inc, 0, inc.shape[0]):
                return q
            continue
        if b - a != inc.shape[0]:
            continue
        same = True
        for k in range(inc.shape[0]):
            if ans_inc[a + k] != inc[k]:
                same = False
                break
        if same:
            return q
    return -1


@nb.njit(**_JIT)
def _adopt(px, pdg, g, point):
    """Give generator ``g`` the exact coordinates ``point`` (an answer's, where float64 holds
    them exactly; NaN where it does not) and a zero error bound; whether it did. Where many
    hyperplanes pass through one dyadic point (a layer without biases meets at the origin), their
    values there are then exactly zero with a zero bound, trusted as such (see ``_values``),
    instead of one exact question per hyperplane and piece around the point."""
    if not point[0] == 1.0 or px[g, 0] <= 0.0:
        return False
    for k in range(px.shape[1]):
        px[g, k] = point[k]
    pdg[g] = 0.0
    return True


#: A generator's interpolation bound below this many units of roundoff of its coordinates'
#: size is kept; above it, the bound from its tight constraints is computed too.
_SETTLED = 2.0 ** -32
#: The same where the pieces are final (their constraint rows are not wanted: the last split of
#: a count), whose generators' bounds only need to settle the rest of this call's signs; looser,
#: since computing them costs. Without it a cell cut by hundreds of lines in one call left its
#: signs to exact arithmetic (``[2, 100, 3, 300, 1]``: 22 s, 72,599 exact signs; now 0.36 s, 4);
#: at 2^-32 r4_small's count took 1.14 times as long, at 2^-24 no longer.
_SETTLED_FINAL = 2.0 ** -24


@nb.njit(inline='always', **_JIT)
def _max_abs(x, i):
    """``max(1, max_k |x[i, k]|)`` over the coordinates ``k >= 1`` (a row by index, not a view)."""
    m = 1.0
    for k in range(1, x.shape[1]):
        m = max(m, abs(x[i, k]))
    return m


@nb.njit(inline='always', **_JIT)
def _find(ids, lo, hi, cid):
    """Where ``cid`` is in the sorted ``ids[lo:hi]``, or -1."""
    a = lo  # a binary search by hand: a slice of ids would cost reference counts
    b = hi
    while a < b:
        mid = (a + b) >> 1
        if ids[mid] < cid:
            a = mid + 1
        else:
            b = mid
    return a if a < hi and ids[a] == cid else -1


@nb.njit(**_JIT)
def _vertex_error(x, incidence, c, rc, J, J_err, hyp_lo, hyp_hi, cell_con_off, con_ids, con_rows, con_err,
                  rows, work, errs, elim, chosen, used):
    """A bound on the max-norm distance of the point ``x`` (``x[0] = 1``) from the exact vertex of
    the constraints ``incidence`` (rows from this layer's ``J[rc]`` or cell ``c``'s constraints,
    each with its error bound), which does not grow with the history of ``x``.

    ``d`` independent rows ``A x + b`` are chosen by elimination with partial pivoting; ``R``
    approximates ``A^-1``. If ``||I - R A*|| <= kappa < 1`` for every exact ``A*`` within the
    rows' error bounds, then ``A*`` is invertible, ``||A*^-1|| <= ||R|| / (1 - kappa)``, and the
    exact vertex ``x*`` (on every exact constraint) is within ``||A*^-1|| max_i |r*_i|`` of ``x``,
    ``r*`` the exact residuals at ``x`` (Rump's verified bound for linear systems). Returns
    ``inf`` where that cannot be shown (rows that are nearly dependent). The last six arguments
    are scratch, with room for the incidence's rows."""
    D = x.shape[0]
    d = D - 1
    m = incidence.shape[0]
    for i in range(m):
        cid = incidence[i]
        if hyp_lo <= cid <= hyp_hi:
            for k in range(D):
                rows[i, k] = J[rc, k, cid - hyp_lo]
            errs[i] = J_err[rc, 0, cid - hyp_lo]
        else:
            q = _find(con_ids, cell_con_off[c], cell_con_off[c + 1], cid)
            if q < 0:
                return np.inf
            for k in range(D):
                rows[i, k] = con_rows[q, k]
            errs[i] = con_err[q]
    # choose d rows: elimination on copies of the x-parts, with partial pivoting
    for i in range(m):
        used[i] = False
        for k in range(d):
            elim[i, k] = rows[i, k + 1]
    for col in range(d):
        best, arg = 0.0, -1
        for i in range(m):
            if not used[i]:
                nrm = 0.0
                for k in range(d):
                    nrm = max(nrm, abs(elim[i, k]))
                if nrm > 0.0 and abs(elim[i, col]) / nrm > best:
                    best, arg = abs(elim[i, col]) / nrm, i
        if arg < 0:
            return np.inf
        used[arg] = True
        chosen[col] = arg
        for i in range(m):
            if not used[i] and elim[i, col] != 0.0:
                f = elim[i, col] / elim[arg, col]
                for k in range(d):
                    elim[i, k] -= f * elim[arg, k]
    # R = A^-1 by Gauss-Jordan with partial pivoting on [A | I]
    for i in range(d):
        for k in range(d):
            work[i, k] = rows[chosen[i], k + 1]
            work[i, d + k] = 1.0 if i == k else 0.0
    for col in range(d):
        piv = col
        for i in range(col + 1, d):
            if abs(work[i, col]) > abs(work[piv, col]):
                piv = i
        if work[piv, col] == 0.0:
            return np.inf
        for k in range(2 * d):
            work[col, k], work[piv, k] = work[piv, k], work[col, k]
        inv = 1.0 / work[col, col]
        for k in range(2 * d):
            work[col, k] *= inv
        for i in range(d):
            if i != col and work[i, col] != 0.0:
                f = work[i, col]
                for k in range(2 * d):
                    work[i, k] -= f * work[col, k]
    # kappa >= ||I - R A*||: the computed residual matrix, its rounding (each product also an
    # absolute ETA for underflow), and the rows' errors. R is only an approximation, but a row of
    # R that overflowed is NaN, which max() would drop: every row must be finite.
    gamma = (d + 2) * U / (1.0 - (d + 2) * U)
    norm_r, kappa, max_err = 0.0, 0.0, 0.0
    for i in range(d):
        max_err = max(max_err, errs[chosen[i]])
    for i in range(d):
        row_r, row_c = 0.0, 0.0
        for k in range(d):
            row_r += abs(work[i, d + k])
            s, sabs = 1.0 if i == k else 0.0, 0.0
            for j in range(d):
                t = work[i, d + j] * rows[chosen[j], k + 1]
                s -= t
                sabs += abs(t)
            row_c += abs(s) + gamma * (sabs + 1.0) + (d + 1) * ETA
        if not (row_r < np.inf and row_c < np.inf):
            return np.inf
        norm_r = max(norm_r, row_r)
        kappa = max(kappa, row_c)
    kappa = kappa * (1.0 + 4.0 * gamma) + norm_r * max_err * (1.0 + 4.0 * gamma)
    if not kappa < 0.5:
        return np.inf
    # the exact residuals of x on the chosen rows: computed value, its rounding, the row's error
    xmax = 1.0
    for k in range(1, D):
        xmax = max(xmax, abs(x[k]))
    res = 0.0
    for i in range(d):
        row = rows[chosen[i]]
        s, sabs = 0.0, 0.0
        for k in range(D):
            t = row[k] * x[k]
            s += t
            sabs += abs(t)
        r_i = abs(s) + gamma * sabs + errs[chosen[i]] * xmax + (D + 1) * ETA
        if not r_i < np.inf:  # NaN too, which max() would drop
            return np.inf
        res = max(res, r_i)
    bound = norm_r / (1.0 - kappa) * res * (1.0 + 8.0 * gamma) + TINY
    return bound if bound < np.inf else np.inf


#: Why a cell did not fit the buffers (flags, or'd): the generator pool, the incidence pool, the
#: intersection scratch, the pieces' member lists, the pieces, the unanswered questions, the
#: vertex-error scratch (all grown :data:`_GROWTH` times over, and the cell split again from its
#: start), the outputs and the questions returned (grown to what the cell needs, and the cell,
#: already split, written out).
_SHORT_POOL, _SHORT_INC, _SHORT_TMP, _SHORT_MEM, _SHORT_PIECES, _SHORT_ASK, _SHORT_SYS = 1, 2, 4, 8, 16, 32, 64
_SHORT_OUT, _SHORT_QUESTIONS = 128, 256
#: How many times over scratch grows when a cell does not fit: large, so that a cell is rarely
#: split twice (the first layer's one cell grows the pool most).
_GROWTH = 8
#: The ``state`` of a split in progress (int64): the lengths of the outputs and questions, the
#: signs per stage of the cells split so far and, of a cell split but not yet written out, its
#: pieces, unanswered questions, members, incidences (over all its pieces) and its questions'
#: incidences.
_N_OUT, _N_GENS, _N_INC, _N_CONS, _N_Q, _FILTER, _ZERO, _EXPANSION = 0, 1, 2, 3, 4, 5, 6, 7
_PIECES, _ASKED, _MEMBERS, _INCS, _ASKED_INCS = 8, 9, 10, 11, 12
_STATE = 13

#: A cell's generator pool (one capacity): coordinates, error bounds, incidence (start and length
#: in the incidence pool), sign caches (the hyperplane a sign is for, the sign, the hyperplane it
#: was made tight on), values with their error bounds and thresholds per live hyperplane, masks.
_Pool = namedtuple("_Pool", "x err inc_start inc_len sign_stamp sign touch_stamp values errors thresholds mask")
#: The rest of the scratch that grows: the incidence pool, the pieces' members, intersections,
#: a piece's constraint ids, unanswered questions, the pieces (start and length in the members,
#: state bits) and :func:`_vertex_error`'s rows.
_Work = namedtuple("_Work", "inc mem tmp ids ask piece_start piece_len piece_bits sys_a sys_e sys_m sys_u")
#: Scratch of fixed size: :func:`_values`' row sizes, an expansion, whole-cell sides, the live
#: hyperplanes with their rows and bounds, the box test's centre, half-widths, tops and sums, the
#: cell's sorted constraint ids, :func:`_vertex_error`'s system and pivots.
_Fixed = namedtuple("_Fixed",
                    "scratch expansion whole live live_rows live_err centre half top sums loc_ids sys_b sys_c")


@nb.njit(**_JIT)
def _grown_pool(pool):
    """``pool`` with room for :data:`_GROWTH` times as many generators (and at least one more)."""
    n = _GROWTH * pool.x.shape[0] + 1
    return _Pool(_grow2(pool.x, n), _grow1(pool.err, n), _grow1(pool.inc_start, n), _grow1(pool.inc_len, n),
                 _grow1(pool.sign_stamp, n), _grow1(pool.sign, n), _grow1(pool.touch_stamp, n),
                 _grow2(pool.values, n), _grow2(pool.errors, n), _grow2(pool.thresholds, n), _grow1(pool.mask, n))


@nb.njit(**_JIT)
def _grown_work(work, short):
    """``work`` with the buffers ``short`` names :data:`_GROWTH` times as large (and at least one
    entry more)."""
    n_i = _GROWTH * work.inc.shape[0] + 1 if short & _SHORT_INC else 0
    n_m = _GROWTH * work.mem.shape[0] + 1 if short & _SHORT_MEM else 0
    n_t = _GROWTH * work.tmp.shape[0] + 1 if short & _SHORT_TMP else 0
    n_a = _GROWTH * work.ask.shape[0] + 1 if short & _SHORT_ASK else 0
    n_p = _GROWTH * work.piece_start.shape[0] + 1 if short & _SHORT_PIECES else 0
    n_s = _GROWTH * work.sys_a.shape[0] + 1 if short & _SHORT_SYS else 0
    return _Work(_grow1(work.inc, n_i), _grow1(work.mem, n_m), _grow1(work.tmp, n_t), work.ids,
                 _grow2(work.ask, n_a), _grow1(work.piece_start, n_p), _grow1(work.piece_len, n_p),
                 _grow2(work.piece_bits, n_p), _grow2(work.sys_a, n_s), _grow1(work.sys_e, n_s),
                 _grow2(work.sys_m, n_s), _grow1(work.sys_u, n_s))


@nb.njit(**_JIT)
def _room_for_pieces(out, work, state, want_cons, done, total):
    """``out`` (:data:`Pieces`) and ``work`` with room for the pieces of the cell split in
    ``state``, ``done`` of the ``total`` input generators split so far (arrays that grow
    together get one capacity, :func:`_paced_capacity`, and offsets one more)."""
    parent, states, gen_off, gens, gen_err, inc_off, inc, con_off, con_ids, con_rows, con_err = out
    n = state[_N_OUT] + state[_PIECES]
    if n > parent.shape[0]:
        cap = _paced_capacity(n, parent.shape[0], done, total)
        parent, states = _sized1(parent, cap), _sized2(states, cap)
        gen_off, con_off = _sized1(gen_off, cap + 1), _sized1(con_off, cap + 1)
    n = state[_N_GENS] + state[_MEMBERS]
    if n > gens.shape[0]:
        cap = _paced_capacity(n, gens.shape[0], done, total)
        gens, gen_err, inc_off = _sized2(gens, cap), _sized1(gen_err, cap), _sized1(inc_off, cap + 1)
    n = state[_N_INC] + state[_INCS]
    if n > inc.shape[0]:
        inc = _sized1(inc, _paced_capacity(n, inc.shape[0], done, total))
    n = state[_N_CONS] + state[_INCS]  # a piece's constraints: at most its members' incidences
    if want_cons and n > con_ids.shape[0]:
        cap = _paced_capacity(n, con_ids.shape[0], done, total)
        con_ids, con_rows, con_err = _sized1(con_ids, cap), _sized2(con_rows, cap), _sized1(con_err, cap)
    ids = _grow1(work.ids, state[_INCS])
    return (Pieces(parent, states, gen_off, gens, gen_err, inc_off, inc, con_off, con_ids, con_rows, con_err),
            _Work(work.inc, work.mem, work.tmp, ids, work.ask, work.piece_start, work.piece_len, work.piece_bits,
                  work.sys_a, work.sys_e, work.sys_m, work.sys_u))


@nb.njit(**_JIT)
def _room_for_questions(asked, state):
    """``asked`` (:data:`Questions`) with room for the questions of the cell split in ``state``."""
    cell, hyperplane, inc_off, inc, generator = asked
    n = state[_N_Q] + state[_ASKED]
    if n > cell.shape[0]:
        cap = _capacity(n, cell.shape[0])
        cell, hyperplane, generator = _grow1(cell, cap), _grow1(hyperplane, cap), _grow2(generator, cap)
        inc_off = _grow1(inc_off, cap + 1)
    n = inc_off[state[_N_Q]] + state[_ASKED_INCS]
    if n > inc.shape[0]:
        inc = _grow1(inc, n)
    return Questions(cell, hyperplane, inc_off, inc, generator)


@nb.njit(nogil=True, **_JIT)
def _split_some(cells, planes, rule, want_cons, todo, answers, start, resume, out, asked, pool, work, fixed,
                state):
    """The body of :func:`split_cells`: split the cells ``todo[start:]`` one by one and write
    their pieces (or questions) into ``out`` (:data:`Pieces`; ``asked``, :data:`Questions`),
    updating ``state`` (see :data:`_STATE`) after each, until one does not fit: returns the
    index of that cell in ``todo`` and why (:data:`_SHORT_POOL` and the rest), or ``(len(todo),
    0)``. Where only the outputs were short, the cell is split already and its pieces wait in the
    scratch: the caller makes room and calls again with ``resume`` to write them out.

    Nothing here grows an array: an array variable that a loop may reassign costs a reference
    count taken and dropped on every pass of that loop (atomic operations: once a third of the
    time of r2_big's split). The caller grows them between calls.
    """
    cell_gen_off, gens, gen_err, gen_inc_off, gen_inc, cell_con_off, con_ids, con_rows, con_err = cells
    J, J_err, hyp_ids, exact_offsets, row_of, sides = planes
    ref, tol = rule
    ans_cell, ans_h, ans_inc_off, ans_inc, ans_within, ans_sign, ans_point = answers
    o_parent, o_bits, o_gen_off, o_gens, o_gen_err, o_inc_off, o_inc = out[:7]
    o_con_off, o_con_ids, o_con_rows, o_con_err = out[7:]
    q_cell, q_h, q_inc_off, q_inc, q_gen = asked
    px, pdg, p_inc_start, p_inc_len, sign_stamp, sign_val, touch_stamp, pv, pe, pt, p_mask = pool
    inc_pool, mem, tmp, ids_buf, ask, piece_start, piece_len, piece_bits, sys_a, sys_e, sys_m, sys_u = work
    scratch, expansion, whole, live, live_rows, live_err, centre, half, top, sums, loc_ids, sys_b, sys_c = fixed
    n_cells = todo.shape[0]
    D = gens.shape[1]
    d = D - 1
    H = hyp_ids.shape[0]
    HB = max(H, 1)
    hyp_lo = hyp_ids[0] if H > 0 else 0
    hyp_hi = hyp_ids[H - 1] if H > 0 else -1
    settled = _SETTLED if want_cons else _SETTLED_FINAL
    n_out, n_og, n_oi, n_oc, n_q = state[_N_OUT], state[_N_GENS], state[_N_INC], state[_N_CONS], state[_N_Q]
    n_filter, n_zero, n_expansion = state[_FILTER], state[_ZERO], state[_EXPANSION]
    n_pieces, n_ask = state[_PIECES], state[_ASKED]

    cell = start
    pending = resume  # the cell split, its pieces (or questions) not yet written out
    c = todo[cell]
    rc = row_of[c]
    while True:
        if pending and n_ask > 0:
            # abandon the cell; return its questions
            n_asked = 0
            for k in range(n_ask):
                n_asked += ask[k, 3]
            if n_q + n_ask > q_cell.shape[0] or q_inc_off[n_q] + n_asked > q_inc.shape[0]:
                state[_ASKED_INCS] = n_asked
                return cell, _SHORT_QUESTIONS
            for k in range(n_ask):
                q_cell[n_q] = c
                q_h[n_q] = ask[k, 1]
                for kk in range(D):
                    q_gen[n_q, kk] = px[ask[k, 0], kk]
                for t in range(ask[k, 3]):
                    q_inc[q_inc_off[n_q] + t] = inc_pool[ask[k, 2] + t]
                q_inc_off[n_q + 1] = q_inc_off[n_q] + ask[k, 3]
                n_q += 1
        elif pending:
            # write out the pieces, once there is room for all of them
            n_members = 0
            n_incs = 0
            for p in range(n_pieces):
                n_members += piece_len[p]
                for mi in range(piece_start[p], piece_start[p] + piece_len[p]):
                    n_incs += p_inc_len[mem[mi]]
            if (n_out + n_pieces > o_parent.shape[0] or n_og + n_members > o_gens.shape[0]
                    or n_oi + n_incs > o_inc.shape[0]
                    or want_cons and (n_oc + n_incs > o_con_ids.shape[0] or n_incs > ids_buf.shape[0])):
                state[_MEMBERS], state[_INCS] = n_members, n_incs
                return cell, _SHORT_OUT
            for p in range(n_pieces):
                m0 = piece_start[p]
                m1 = m0 + piece_len[p]
                o_parent[n_out] = c
                for hh in range(HB):
                    o_bits[n_out, hh] = piece_bits[p, hh]
                for mi in range(m0, m1):
                    g = mem[mi]
                    for k in range(D):
                        o_gens[n_og, k] = px[g, k]
                    o_gen_err[n_og] = pdg[g]
                    st = p_inc_start[g]
                    ln = p_inc_len[g]
                    for q in range(ln):
                        o_inc[n_oi + q] = inc_pool[st + q]
                    n_oi += ln
                    n_og += 1
                    o_inc_off[n_og] = n_oi
                o_gen_off[n_out + 1] = n_og
                if want_cons:
                    # constraints tight somewhere on the piece, each once, in increasing id order
                    n_ids = 0
                    for mi in range(m0, m1):
                        g = mem[mi]
                        st = p_inc_start[g]
                        for q in range(st, st + p_inc_len[g]):
                            n_ids = _add_unique_sorted(ids_buf, n_ids, inc_pool[q])
                    q = cell_con_off[c]  # the cell's rows, walked with the sorted ids (no search)
                    for ii in range(n_ids):
                        cid = ids_buf[ii]
                        o_con_ids[n_oc] = cid
                        if hyp_lo <= cid <= hyp_hi:
                            hh = cid - hyp_lo
                            sgn = -1.0 if piece_bits[p, hh] == 1 else 1.0
                            for k in range(D):
                                o_con_rows[n_oc, k] = sgn * J[rc, k, hh]
                            o_con_err[n_oc] = J_err[rc, 0, hh]
                        else:
                            while q < cell_con_off[c + 1] and con_ids[q] < cid:
                                q += 1
                            if not (q < cell_con_off[c + 1] and con_ids[q] == cid):
                                raise RuntimeError("a tight constraint has no row in its cell")
                            for k in range(D):
                                o_con_rows[n_oc, k] = con_rows[q, k]
                            o_con_err[n_oc] = con_err[q]
                        n_oc += 1
                o_con_off[n_out + 1] = n_oc
                n_out += 1
        if pending:  # written out: the cell is done
            state[_N_OUT], state[_N_GENS], state[_N_INC] = n_out, n_og, n_oi
            state[_N_CONS], state[_N_Q] = n_oc, n_q
            cell += 1
            pending = False
        if cell == n_cells:
            return cell, 0
        c = todo[cell]
        rc = row_of[c]  # the cell's rows in J and J_err
        g0 = cell_gen_off[c]
        ng = cell_gen_off[c + 1] - g0
        npool = ng
        n_ask = 0  # unanswered questions (they abandon the cell): generator, hyperplane, incidence
        short = 0  # the buffers the cell found too small (it is then left for the caller to redo)
        short |= _SHORT_POOL if ng > px.shape[0] else 0
        short |= _SHORT_MEM if ng > mem.shape[0] else 0
        short |= _SHORT_INC if gen_inc_off[g0 + ng] - gen_inc_off[g0] > inc_pool.shape[0] else 0
        if short != 0:
            return cell, short
        ninc = 0
        points = True
        for k in range(ng):
            for kk in range(D):
                px[k, kk] = gens[g0 + k, kk]
            # (the box test wants finite points with finite bounds: a generator whose coordinates or
            # bound are not is never trusted, its values go to exact signs)
            points &= _box_point(px, k, gen_err[g0 + k])
            pdg[k] = gen_err[g0 + k]
            a = gen_inc_off[g0 + k]
            b = gen_inc_off[g0 + k + 1]
            p_inc_start[k] = ninc
            p_inc_len[k] = b - a
            for q in range(a, b):
                inc_pool[ninc] = gen_inc[q]
                ninc += 1
            sign_stamp[k] = -1
            touch_stamp[k] = -1
            mem[k] = k
        # the cell's constraints (sorted, unique) and each generator's mask over them; a cell with
        # more than MASK_BITS is tested on the sorted lists alone
        n_loc = 0
        masks = True
        for q in range(ninc):
            n_loc = _add_unique_sorted(loc_ids, n_loc, inc_pool[q])  # room for one past MASK_BITS
            if n_loc > MASK_BITS:
                masks = False
                break
        n_sorted = n_loc
        if masks:
            for k in range(ng):
                bits = np.uint64(0)
                a = 0  # a generator's incidence and the cell's ids are sorted: a walk along both
                for q in range(p_inc_start[k], p_inc_start[k] + p_inc_len[k]):
                    while loc_ids[a] < inc_pool[q]:
                        a += 1
                    bits |= np.uint64(1) << np.uint64(a)
                p_mask[k] = bits
        # per hyperplane, +1 (-1) if every generator is strictly beyond its bound on the positive
        # (negative) side, 0 otherwise: first from the sides known (or the cell's bounding box),
        # then, for the hyperplanes that leaves (``live``), from the values at each generator
        if sides.shape[0] > 0:
            n_live = 0
            for h in range(H):
                whole[h] = sides[rc, h]
                live[n_live] = h
                n_live += whole[h] == 0
        elif points and ng > 0 and H > 0 and d <= BOX_INPUTS:
            n_live = _box_sides(px, pdg, ng, J, J_err, rc, ref, tol, centre, half, top, sums, whole, live)
        else:
            n_live = H
            for h in range(H):
                live[h] = h
        for j in range(n_live):
            for k in range(D):
                live_rows[k, j] = J[rc, k, live[j]]
            live_err[j] = J_err[rc, 0, live[j]]
        _values(px, pdg, 0, ng, live_rows, live_err, exact_offsets, n_live, ref, tol, pv, pe, pt, scratch)
        for j in range(n_live):
            h = live[j]
            pos = True
            neg = True
            for k in range(ng):
                if not pv[k, j] > pt[k, j]:
                    pos = False
                if not pv[k, j] < -pt[k, j]:
                    neg = False
            whole[h] = 1 if pos else (-1 if neg else 0)
        n_mem = ng
        n_pieces = 1
        piece_start[0] = 0
        piece_len[0] = ng
        # where the cell's vertices are all strictly on one side, so are all its pieces' vertices:
        # those bits are set once, here, and copied to each new piece with the rest of its row
        for h in range(H):
            piece_bits[0, h] = whole[h] > 0
        decided = 0  # the hyperplanes before ``decided`` are counted in the signs
        for j in range(n_live + 1):
            if n_ask > 0 or short != 0:
                # the answers still wanted are provisional zeros, which entered incidences; the
                # next hyperplanes' questions would carry them, so the first hyperplane with
                # questions is the last one split (and a cell short of room is redone whole).
                # Skipped by ``continue``, not left by ``break``: with arrays reassigned in the
                # loop a second exit defeated Numba's pruning of reference counts (none is now)
                continue
            h = live[j] if j < n_live else H  # (H: past the last, to count the ones before it)
            n_filter += ng * (h - decided)  # whole-cell signs from the box
            decided = h + 1
            if h == H:
                continue
            if whole[h] != 0:  # whole-cell signs from the generators
                n_filter += ng
                continue
            hid = hyp_ids[h]
            hbit = np.uint64(0)  # its mask bit, given when a generator first lies on it
            for p in range(n_pieces):  # pieces appended below are already decided for h
                if short != 0:
                    continue
                m0 = piece_start[p]
                m1 = m0 + piece_len[p]
                npos = 0
                nneg = 0
                for mi in range(m0, m1):
                    g = mem[mi]
                    if sign_stamp[g] != h:
                        v = pv[g, j]
                        r = 2
                        if abs(v) > pt[g, j]:
                            r = 1 if v > 0 else -1
                            n_filter += 1
                        elif pe[g, j] == 0.0 and not _underflowed(px, g, J, rc, h):
                            r = 0  # every product exactly zero, no error: zero here
                            n_zero += 1
                        elif pdg[g] == 0.0 and J_err[rc, 0, h] == 0.0:  # exact numbers: summed so
                            r = _exact_sign(px, g, J, rc, h, expansion)
                            if r != 2:
                                n_expansion += 1
                        if r == 2:
                            inc_g = inc_pool[p_inc_start[g]: p_inc_start[g] + p_inc_len[g]]
                            q = _answer(c, h, inc_g, ans_cell, ans_h, ans_inc_off, ans_inc, ans_within)
                            r = 2 if q < 0 else ans_sign[q]
                            if q >= 0 and _adopt(px, pdg, g, ans_point[q]):
                                # its values at the exact point, for the hyperplanes still to come
                                _values(px, pdg, g, g + 1, live_rows, live_err, exact_offsets, n_live, ref, tol,
                                        pv, pe, pt, scratch)
                            if r == 2 and n_ask >= ask.shape[0]:
                                short |= _SHORT_ASK
                            elif r == 2:  # unanswered: finish the cell anyway, then drop it
                                ask[n_ask, 0] = g
                                ask[n_ask, 1] = h
                                ask[n_ask, 2] = p_inc_start[g]  # the pool keeps this incidence as is
                                ask[n_ask, 3] = p_inc_len[g]
                                n_ask += 1
                            r = 0 if r == 2 else r
                        sign_val[g] = r
                        sign_stamp[g] = h
                    if sign_val[g] > 0:
                        npos += 1
                    elif sign_val[g] < 0:
                        nneg += 1
                if npos == 0 and nneg == 0:
                    piece_bits[p, h] = 2  # identically zero here: off, and not a constraint
                    continue
                # the hyperplane is a valid constraint of this piece: record where it is tight
                for mi in range(m0, m1):
                    g = mem[mi]
                    if sign_val[g] == 0 and touch_stamp[g] != h:
                        touch_stamp[g] = h
                        st = p_inc_start[g]
                        ln = p_inc_len[g]
                        if ninc + ln + 1 > inc_pool.shape[0]:
                            short |= _SHORT_INC
                            break
                        nl = _insert_pool(inc_pool, st, ln, hid, inc_pool, ninc)  # st + ln <= ninc
                        p_inc_start[g] = ninc
                        p_inc_len[g] = nl
                        if masks and hbit == 0:
                            hbit, n_loc = _hyperplane_bit(loc_ids, n_sorted, n_loc, hid)
                            masks = hbit != 0
                        p_mask[g] |= hbit
                        ninc += nl
                if short != 0:
                    continue
                if npos == 0 or nneg == 0:
                    piece_bits[p, h] = 1 if npos > 0 else 0
                    continue
                # cut: new generators on the edges that cross the hyperplane
                first_new = npool
                for ai in range(m0, m1):
                    ga = mem[ai]
                    if sign_val[ga] <= 0 or short != 0:
                        continue
                    sa_ = p_inc_start[ga]
                    la_ = p_inc_len[ga]
                    for bi in range(m0, m1):
                        gb = mem[bi]
                        if sign_val[gb] >= 0:
                            continue
                        if min(la_, p_inc_len[gb]) + 1 > tmp.shape[0]:
                            short |= _SHORT_TMP
                            break
                        adjacent = True
                        if masks:  # the same tests on the masks
                            common = p_mask[ga] & p_mask[gb]
                            if not _at_least(common, d - 1):
                                continue
                            for ci in range(m0, m1):
                                gc = mem[ci]
                                if gc != ga and gc != gb and (common & ~p_mask[gc]) == 0:
                                    adjacent = False
                                    break
                            if not adjacent:
                                continue
                        nc = _intersect_ranges(inc_pool, sa_, la_, inc_pool, p_inc_start[gb], p_inc_len[gb], tmp)
                        if not masks:  # common = tmp[:nc]
                            if nc < d - 1:
                                continue
                            for ci in range(m0, m1):
                                gc = mem[ci]
                                if gc == ga or gc == gb:
                                    continue
                                if _is_subset_pool(tmp, nc, inc_pool, p_inc_start[gc], p_inc_len[gc]):
                                    adjacent = False
                                    break
                            if not adjacent:
                                continue
                        # the new generator, with incidence common + {hid}
                        short |= _SHORT_POOL if npool + 1 > px.shape[0] else 0
                        short |= _SHORT_INC if ninc + nc + 1 > inc_pool.shape[0] else 0
                        if short != 0:
                            break
                        pdg[npool] = _crossing(px, ga, pdg[ga], pv[ga, j], pe[ga, j], gb, pdg[gb],
                                               pv[gb, j], pe[gb, j], npool)
                        nl = _insert_pool(tmp, 0, nc, hid, inc_pool, ninc)
                        p_inc_start[npool] = ninc
                        p_inc_len[npool] = nl
                        if masks and hbit == 0:
                            hbit, n_loc = _hyperplane_bit(loc_ids, n_sorted, n_loc, hid)
                            masks = hbit != 0
                        p_mask[npool] = (p_mask[ga] & p_mask[gb]) | hbit
                        ninc += nl
                        # interpolation bounds compound along a generator's history; past a few
                        # roundings of its coordinates, a bound from its constraints replaces it
                        # (the cell's own rows and this call's: also where the pieces' rows are not
                        # wanted, the last split of a count, whose cells may be cut many times in
                        # one call)
                        if px[npool, 0] > 0 and pdg[npool] > settled * _max_abs(px, npool):
                            if nl > sys_a.shape[0]:
                                short |= _SHORT_SYS
                                break
                            pdg[npool] = min(pdg[npool], _vertex_error(
                                px[npool], inc_pool[p_inc_start[npool]: p_inc_start[npool] + nl], c, rc, J, J_err,
                                hyp_lo, hyp_hi, cell_con_off, con_ids, con_rows, con_err, sys_a, sys_b, sys_e,
                                sys_m, sys_c, sys_u))
                        sign_stamp[npool] = h
                        sign_val[npool] = 0
                        touch_stamp[npool] = h
                        npool += 1
                # piece p keeps the side <= 0, a new piece takes the side >= 0
                short |= _SHORT_PIECES if n_pieces + 1 > piece_start.shape[0] else 0
                short |= _SHORT_MEM if n_mem + 2 * (m1 - m0 + npool - first_new) > mem.shape[0] else 0
                if short != 0:
                    continue
                # the new generators' values, for the hyperplanes still to come (none of them is
                # a member of a piece cut again by this one)
                _values(px, pdg, first_new, npool, live_rows, live_err, exact_offsets, n_live, ref, tol, pv, pe,
                        pt, scratch)
                for side in range(2):
                    members = n_mem
                    for mi in range(m0, m1):
                        g = mem[mi]
                        if (side == 0 and sign_val[g] <= 0) or (side == 1 and sign_val[g] >= 0):
                            mem[n_mem] = g
                            n_mem += 1
                    for g in range(first_new, npool):
                        mem[n_mem] = g
                        n_mem += 1
                    q = p if side == 0 else n_pieces
                    if side == 1:
                        piece_bits[q] = piece_bits[p]
                    piece_start[q] = members
                    piece_len[q] = n_mem - members
                    piece_bits[q, h] = side
                n_pieces += 1
        if short != 0:  # split again from its start, with more room (its signs are not kept)
            return cell, short
        # split: its signs count from here, and its pieces or questions wait to be written out
        state[_FILTER], state[_ZERO], state[_EXPANSION] = n_filter, n_zero, n_expansion
        state[_PIECES], state[_ASKED] = n_pieces, n_ask
        pending = True


@nb.njit(cache=True, nogil=True)
def split_cells(cells, planes, rule, want_cons, todo, answers, signs):
    """Split the cells ``todo`` (indices into ``cells``, a :data:`CellArrays`, in order) by every
    hyperplane of ``planes`` (:data:`Hyperplanes`), trusting float64 signs by ``rule``
    (:data:`SignRule`) and looking the others up in ``answers`` (:data:`Answers`).

    Adds to ``signs[:3]`` (int64) how many signs each float64 stage decided: the filter
    (a value beyond its error bound, a generator at a time or a whole cell's at once), exact
    zeros (every product exactly zero) and the exact expansions (``_exact_sign``).

    Returns ``(pieces, questions)``: the :data:`Pieces` of the cells that could be split (their
    constraints only if ``want_cons``), and the :data:`Questions` of the cells left unsplit (all
    the questions met while finishing each such cell), for the caller to settle exactly and ask
    again.

    The cells are split by :func:`_split_some`, which grows no array; where one is too small for
    a cell, it returns, and the array grows here before it goes on.
    """
    cell_gen_off, gens, _, gen_inc_off, _, cell_con_off = cells[:6]
    n_cells = todo.shape[0]
    D = gens.shape[1]
    d = D - 1
    HB = max(planes.ids.shape[0], 1)

    # outputs, first as large as the cells todo have (they grow when the pieces need more;
    # threads split chunks of one set of cells, each sizing its own)
    n_gen, n_inc, n_con = 0, 0, 0
    for i in range(n_cells):
        c = todo[i]
        n_gen += cell_gen_off[c + 1] - cell_gen_off[c]
        n_inc += gen_inc_off[cell_gen_off[c + 1]] - gen_inc_off[cell_gen_off[c]]
        n_con += cell_con_off[c + 1] - cell_con_off[c]
    out = Pieces(np.empty(n_cells, np.int64), np.empty((n_cells, HB), np.uint8), np.zeros(n_cells + 1, np.int64),
                 np.empty((n_gen, D), np.float64), np.empty(n_gen, np.float64), np.zeros(n_gen + 1, np.int64),
                 np.empty(n_inc, INCIDENCE_DTYPE), np.zeros(n_cells + 1, np.int64), np.empty(n_con + 16, np.int64),
                 np.empty((n_con + 16, D), np.float64), np.empty(n_con + 16, np.float64))
    asked = Questions(np.empty(4, np.int64), np.empty(4, np.int64), np.zeros(5, np.int64), np.empty(16, np.int64),
                      np.empty((4, D), np.float64))
    # per-cell scratch: the generator pool (coordinates, error bounds, incidence, sign caches,
    # values, masks) and the pieces' lists ...
    pool = _Pool(np.empty((64, D), np.float64), np.empty(64, np.float64), np.empty(64, np.int64),
                 np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int8), np.empty(64, np.int64),
                 np.empty((64, HB), np.float64), np.empty((64, HB), np.float64), np.empty((64, HB), np.float64),
                 np.empty(64, np.uint64))
    work = _Work(np.empty(512, np.int64), np.empty(256, np.int64), np.empty(64, np.int64), np.empty(64, np.int64),
                 np.empty((4, 4), np.int64), np.empty(16, np.int64), np.empty(16, np.int64),
                 np.empty((16, HB), np.uint8), np.empty((max(d, 1) + 64, D), np.float64),
                 np.empty(max(d, 1) + 64, np.float64), np.empty((max(d, 1) + 64, max(d, 1)), np.float64),
                 np.empty(max(d, 1) + 64, np.bool_))
    # ... and scratch of fixed size
    fixed = _Fixed(np.empty(HB, np.float64), np.empty(2 * D, np.float64), np.empty(HB, np.int8),
                   np.empty(HB, np.int64), np.empty((D, HB), np.float64), np.empty(HB, np.float64),
                   np.empty(D, np.float64), np.empty(D, np.float64), np.empty(D, np.float64),
                   np.empty((6, HB), np.float64), np.empty(MASK_BITS + 1, np.int64),
                   np.empty((max(d, 1), 2 * max(d, 1)), np.float64), np.empty(max(d, 1), np.int64))
    state = np.zeros(_STATE, np.int64)
    start, resume = 0, False
    while start < n_cells:
        start, short = _split_some(cells, planes, rule, want_cons, todo, answers, start, resume, out, asked, pool,
                                   work, fixed, state)
        resume = (short & (_SHORT_OUT | _SHORT_QUESTIONS)) != 0
        if short & _SHORT_OUT:
            done = 0  # the input generators of the cells split so far, for the pace
            for i in range(start):
                done += cell_gen_off[todo[i] + 1] - cell_gen_off[todo[i]]
            out, work = _room_for_pieces(out, work, state, want_cons, done, n_gen)
        if short & _SHORT_QUESTIONS:
            asked = _room_for_questions(asked, state)
        if short & _SHORT_POOL:
            pool = _grown_pool(pool)
        if short & ~(_SHORT_POOL | _SHORT_OUT | _SHORT_QUESTIONS):
            work = _grown_work(work, short)
    n_out, n_og, n_oi, n_oc, n_q = state[_N_OUT], state[_N_GENS], state[_N_INC], state[_N_CONS], state[_N_Q]
    pieces = Pieces(_fitted1(out.parent, n_out), _fitted2(out.states, n_out)[:, :planes.ids.shape[0]],
                    _fitted1(out.gen_off, n_out + 1), _fitted2(out.gens, n_og), _fitted1(out.gen_err, n_og),
                    _fitted1(out.inc_off, n_og + 1), _fitted1(out.inc, n_oi), _fitted1(out.con_off, n_out + 1),
                    _fitted1(out.con_ids, n_oc), _fitted2(out.con_rows, n_oc), _fitted1(out.con_err, n_oc))
    questions = Questions(asked.cell[:n_q], asked.hyperplane[:n_q], asked.inc_off[: n_q + 1],
                          asked.inc[: asked.inc_off[n_q]], asked.generator[:n_q])
    signs[0] += state[_FILTER]
    signs[1] += state[_ZERO]
    signs[2] += state[_EXPANSION]
    return pieces, questions
