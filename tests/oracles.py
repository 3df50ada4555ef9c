"""Independent ways to know the right answer, written for clarity rather than speed.

None of these share code with the engine: the 1-D oracle works in Python fractions on intervals,
the LP reference splits H-polytopes with scipy's linear programming, and the constructions come
with closed-form counts.
"""
from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
from scipy.optimize import linprog

import regionenum as rn


def random_net(widths, seed, bias_std=0.1, activations=None):
    """He-initialised random MLP (like the benchmark suite); ReLU after all but the last layer."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers.append((rng.normal(0, np.sqrt(2 / fan_in), (fan_out, fan_in)),
                       rng.normal(0, bias_std, fan_out)))
    return rn.Network.from_layers(layers, activations)


def stretched_net(net, scale, centre=0.0):
    """``net`` seen through ``x = centre + scale * u``: the first layer's columns divided by
    ``scale``, its bias moved to match (with powers of two and no centre, exactly the same
    problem on the box stretched by ``scale``)."""
    W = net.layers[0].W / scale
    return rn.Network.from_layers([(W, net.layers[0].b - W @ (np.zeros(len(scale)) + centre)),
                                   *[(layer.W, layer.b) for layer in net.layers[1:]]])


# ---------------------------------------------------------------------------------------------
def regions_1d(network, lo, hi):
    """Activation regions of a 1-input network on [lo, hi], exactly, as a sorted list of
    (left, right, pattern) with Fraction endpoints: split intervals at the root of every unit's
    affine pre-activation (for max groups, of every pairwise difference, merging neighbours with
    the same winners; linear units never split and have no bit), layer by layer."""
    layers = [([[Fraction(float(w)) for w in row] for row in layer.W],
               [Fraction(float(v)) for v in layer.b], layer.activation) for layer in network.layers]
    # each item: (left, right, slope list, intercept list of the current layer's inputs, pattern)
    items = [(Fraction(float(lo)), Fraction(float(hi)), [Fraction(1)], [Fraction(0)], ())]
    for W, b, act in layers:
        nxt = []
        for left, right, s_in, c_in, pattern in items:
            slope = [sum(w * s for w, s in zip(row, s_in)) for row in W]
            icpt = [sum(w * c for w, c in zip(row, c_in)) + bb for row, bb in zip(W, b)]
            pieces = [(left, right)]
            if act.splits:
                roots = sorted({-c / s for s, c in _differences(slope, icpt, act)
                                if s != 0 and left < -c / s < right})
                cuts = [left] + roots + [right]
                pieces = list(zip(cuts[:-1], cuts[1:]))
            for a, z in pieces:
                mid = (a + z) / 2
                if act.kind == "max":
                    on, s_out, c_out = _winners([s * mid + c for s, c in zip(slope, icpt)], slope,
                                                icpt, act.groups)
                    piece = (a, z, s_out, c_out, pattern + on)
                    if nxt and nxt[-1][4] == piece[4] and nxt[-1][1] == a:  # same winners: one region
                        piece = (nxt.pop()[0],) + piece[1:]
                    nxt.append(piece)
                elif act.splits:
                    on = [s * mid + c > 0 or i in act.linear for i, (s, c) in enumerate(zip(slope, icpt))]
                    k = Fraction(act.off_slope)
                    s_out = [s if o else k * s for s, o in zip(slope, on)]
                    c_out = [c if o else k * c for c, o in zip(icpt, on)]
                    bits = tuple(o for i, o in enumerate(on) if i not in act.linear)
                    nxt.append((a, z, s_out, c_out, pattern + bits))
                else:
                    nxt.append((a, z, slope, icpt, pattern))
        items = nxt
    return [(a, z, p) for a, z, _, _, p in items]


def _differences(slope, icpt, act):
    """(slope, intercept) of the lines whose roots may change a state: each unit, or for a max
    layer each pair of arguments in a group."""
    if act.kind != "max":
        return [line for i, line in enumerate(zip(slope, icpt)) if i not in act.linear]
    out, start = [], 0
    for k in act.groups:
        idx = range(start, start + k)
        out += [(slope[i] - slope[j], icpt[i] - icpt[j]) for i in idx for j in idx if i < j]
        start += k
    return out


def _winners(values, slope, icpt, groups):
    """One-hot winners (first maximum) of each group, and the winners' lines."""
    on, s_out, c_out, start = [], [], [], 0
    for k in groups:
        group = values[start: start + k]
        w = start + group.index(max(group))
        on += [i == w for i in range(start, start + k)]
        s_out.append(slope[w])
        c_out.append(icpt[w])
        start += k
    return tuple(on), s_out, c_out


def linear_pieces_1d(network, lo, hi):
    """Number of linear regions of a 1-input, 1-output network on [lo, hi]: the activation
    intervals of :func:`regions_1d`, with neighbours merged when the output is the same line,
    found by evaluating the network in Fractions at two points inside each interval."""
    def value(x):
        a = [x]
        for layer in network.layers:
            z = [sum(Fraction(float(w)) * v for w, v in zip(row, a)) + Fraction(float(bb))
                 for row, bb in zip(layer.W, layer.b)]
            k = Fraction(layer.activation.off_slope)
            a = [v if (v > 0 or not layer.activation.splits) else k * v for v in z]
        return a[0]

    lines = []
    for left, right, _ in regions_1d(network, lo, hi):
        x1, x2 = left + (right - left) / 3, left + 2 * (right - left) / 3
        slope = (value(x2) - value(x1)) / (x2 - x1)
        lines.append((slope, value(x1) - slope * x1))
    return 1 + sum(p != q for p, q in zip(lines, lines[1:]))


# ---------------------------------------------------------------------------------------------
def lp_regions(network, A, b, eps=1e-7):
    """Activation patterns of the regions of ``network`` on ``{A x + b <= 0}`` by brute force:
    keep H-polytopes, and split one by a unit's hyperplane when linear programming finds a ball
    of radius > eps on both sides. Float LPs: use on nets without tiny regions."""
    d = network.input_dim
    cells = [(np.asarray(A, float), np.asarray(b, float), np.eye(d), np.zeros(d), ())]
    for layer in network.layers:
        nxt = []
        for cA, cb, M, c, pattern in cells:
            Wc = layer.W @ M
            bc = layer.W @ c + layer.b
            if not layer.activation.splits:
                nxt.append((cA, cb, Wc, bc, pattern))
                continue
            if layer.activation.kind == "max":
                nxt.extend(_lp_max_split(cA, cb, Wc, bc, pattern, layer.activation.groups, eps))
                continue
            parts = [(cA, cb, ())]
            units = [j for j in range(layer.width) if j not in layer.activation.linear]
            for j in units:
                new_parts = []
                for pA, pb, bits in parts:
                    if not np.any(Wc[j]):  # constant unit: on exactly where its value is > 0
                        new_parts.append((pA, pb, bits + (bool(bc[j] > 0),)))
                        continue
                    for state, sign in ((False, 1.0), (True, -1.0)):
                        qA = np.vstack([pA, sign * Wc[j]])
                        qb = np.append(pb, sign * bc[j])
                        if _inner_radius(qA, qb) > eps:
                            new_parts.append((qA, qb, bits + (state,)))
                parts = new_parts
            k = layer.activation.off_slope
            for pA, pb, bits in parts:
                scale = np.ones(layer.width)
                scale[units] = np.where(bits, 1.0, k)
                nxt.append((pA, pb, scale[:, None] * Wc, scale * bc, pattern + bits))
        cells = nxt
    return sorted(p for _, _, _, _, p in cells)


def _lp_max_split(A, b, Wc, bc, pattern, groups, eps):
    """Split an H-polytope by the winner of each max group (``z_w >= z_j`` for every other
    argument ``j``; arguments equal everywhere go to the first); the layer's outputs are the
    winners' maps."""
    parts = [(A, b, (), [])]
    start = 0
    for k in groups:
        new_parts = []
        for pA, pb, bits, rows in parts:
            for w in range(start, start + k):
                others = [j for j in range(start, start + k) if j != w]
                same = [j for j in others if np.array_equal(Wc[j], Wc[w]) and bc[j] == bc[w]]
                if any(j < w for j in same):
                    continue
                cut = [j for j in others if j not in same]
                qA = np.vstack([pA] + [Wc[j] - Wc[w] for j in cut])
                qb = np.concatenate([pb, [bc[j] - bc[w] for j in cut]])
                if _inner_radius(qA, qb) > eps:
                    one_hot = tuple(j == w for j in range(start, start + k))
                    new_parts.append((qA, qb, bits + one_hot, rows + [w]))
        parts = new_parts
        start += k
    return [(pA, pb, Wc[rows], bc[rows], pattern + bits) for pA, pb, bits, rows in parts]


def _inner_radius(A, b):
    norms = np.linalg.norm(A, axis=1)
    d = A.shape[1]
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.hstack([A, norms[:, None]]), b_ub=-b,
                  bounds=[(None, None)] * d + [(0, 10.0)], method="highs")
    return res.x[-1] if res.status == 0 else 0.0


# ---------------------------------------------------------------------------------------------
def zaslavsky(n, d):
    """(all regions, bounded regions) of n hyperplanes in general position in R^d."""
    return sum(comb(n, j) for j in range(d + 1)), comb(n - 1, d)


# ---------------------------------------------------------------------------------------------
def milp_max(network, lo, hi, c):
    """max of c . y(x) over the box [lo, hi] by a big-M mixed-integer programme (scipy's HiGHS):
    per ReLU unit, a = max(0, z) with a binary and bounds from interval arithmetic. Independent
    of the enumeration; returns (value, x)."""
    enc = _milp_encoding(network, lo, hi)
    cost = np.zeros(enc["n"])
    cost[enc["out"]] = -np.asarray(c, float)
    value, x = _milp_solve(enc, cost)
    return -value, x[:network.input_dim]


def milp_min_max(network, lo, hi, C, e):
    """min over the box of max_i (C_i y(x) + e_i) by the same mixed-integer programme with one
    more variable t >= every row: the output set {C y + e <= 0} is met somewhere on the box iff
    the value is <= 0. Returns (value, x)."""
    enc = _milp_encoding(network, lo, hi)
    C, e = np.atleast_2d(np.asarray(C, float)), np.atleast_1d(np.asarray(e, float))
    t = enc["new"](-1e9, 1e9)
    for row, const in zip(C, e):  # C_i y - t <= -e_i
        r = {t: -1.0}
        for i, v in zip(enc["out"], row):
            r[i] = r.get(i, 0.0) + v
        enc["rows"].append(r), enc["rlo"].append(-np.inf), enc["rhi"].append(-const)
    cost = np.zeros(len(enc["lb"]))
    cost[t] = 1.0
    enc["n"] = len(enc["lb"])
    value, x = _milp_solve(enc, cost)
    return value, x[:network.input_dim]


def _milp_encoding(network, lo, hi):
    """The big-M encoding of a ReLU network on a box: variables x, then per layer z (pre) and,
    for ReLU layers, a and a binary; rows as dicts with their bounds."""
    d = network.input_dim
    lb, ub, integrality = list(lo), list(hi), [0] * d
    rows, rlo, rhi = [], [], []
    prev_idx = list(range(d))
    prev_lo, prev_hi = np.array(lo, float), np.array(hi, float)

    def new(lo_, hi_, integer=0):
        lb.append(lo_)
        ub.append(hi_)
        integrality.append(integer)
        return len(lb) - 1

    for layer in network.layers:
        W, b = layer.W, layer.b
        z_lo = np.maximum(W, 0) @ prev_lo + np.minimum(W, 0) @ prev_hi + b
        z_hi = np.maximum(W, 0) @ prev_hi + np.minimum(W, 0) @ prev_lo + b
        z_idx = [new(z_lo[j], z_hi[j]) for j in range(len(b))]
        for j in range(len(b)):  # z = W a_prev + b
            row = {z_idx[j]: 1.0}
            for i, w in zip(prev_idx, W[j]):
                row[i] = row.get(i, 0.0) - w
            rows.append(row), rlo.append(b[j]), rhi.append(b[j])
        if not layer.activation.splits:
            prev_idx, prev_lo, prev_hi = z_idx, z_lo, z_hi
            continue
        assert layer.activation.kind == "relu"
        a_idx = []
        linear = set(layer.activation.linear)  # units carried past the ReLU unchanged
        for j in range(len(b)):
            if j in linear:
                a_idx.append(z_idx[j])
                continue
            a = new(0.0, max(z_hi[j], 0.0))
            t = new(0.0, 1.0, 1)
            a_idx.append(a)
            L, U = min(z_lo[j], 0.0), max(z_hi[j], 0.0)
            rows.append({a: 1.0, z_idx[j]: -1.0}), rlo.append(0.0), rhi.append(np.inf)          # a >= z
            rows.append({a: 1.0, z_idx[j]: -1.0, t: -L}), rlo.append(-np.inf), rhi.append(-L)  # a <= z - L(1-t)
            rows.append({a: 1.0, t: -U}), rlo.append(-np.inf), rhi.append(0.0)                 # a <= U t
        keep = np.isin(np.arange(len(b)), list(linear))
        prev_idx = a_idx
        prev_lo, prev_hi = np.where(keep, z_lo, np.maximum(z_lo, 0)), np.where(keep, z_hi, np.maximum(z_hi, 0))
    return dict(lb=lb, ub=ub, integrality=integrality, rows=rows, rlo=rlo, rhi=rhi, out=prev_idx, n=len(lb),
                new=new)


def _milp_solve(enc, cost):
    from scipy.optimize import Bounds, LinearConstraint, milp
    n = len(enc["lb"])
    A = np.zeros((len(enc["rows"]), n))
    for r, row in enumerate(enc["rows"]):
        for i, v in row.items():
            A[r, i] = v
    res = milp(cost, constraints=LinearConstraint(A, enc["rlo"], enc["rhi"]), integrality=enc["integrality"],
               bounds=Bounds(enc["lb"], enc["ub"]), options={"mip_rel_gap": 1e-9})
    assert res.status == 0, res.message
    return res.fun, res.x


# ---------------------------------------------------------------------------------------------
def check_against_samples(net, dom, regions, X):
    """Sampling oracle: every point of ``X`` (in ``dom``) lies in an enumerated region, satisfies
    that region's facet inequalities, and the region's affine map is the network there."""
    idx = regions.locate(X)
    assert np.all(idx >= 0), "every sampled point lies in an enumerated region"
    # the point satisfies its region's facet inequalities
    for i in range(min(len(X), 500)):
        eq, _, _ = regions.facets_of(idx[i])
        assert np.all(eq[:, :-1] @ X[i] + eq[:, -1] <= 1e-9)
    # the region's affine map is the network there
    y = np.einsum("nkd,nd->nk", regions.jacobians[idx], X) + regions.offsets[idx]
    np.testing.assert_allclose(y, net(X), rtol=1e-9, atol=1e-9)
    assert len(np.unique(idx)) <= len(regions)


# ---------------------------------------------------------------------------------------------
def _unit_functions(act, width):
    """Per unit of a source layer, its activation as (breakpoints, slopes, value at the first
    breakpoint) in Fractions over the pre-activation z, and whether pieces count downwards
    (a hard-sigmoid with a negative alpha), or None for a unit that stays linear. Written from
    each kind's definition, independently of regionenum's rewrite."""
    F = Fraction
    p = [F(float(x)) for x in act.params] if act.kind != "spline" else None
    one = {
        "relu": ([F(0)], [F(0), F(1)], F(0)),
        "leaky_relu": ([F(0)], [F(float(act.alpha)), F(1)], F(0)),
        "relu6": ([F(0), F(6)], [F(0), F(1), F(0)], F(0)),
        "abs": ([F(0)], [F(-1), F(1)], F(0)),
    }
    out = []
    for j in range(width):
        if j in act.linear or act.kind == "identity":
            out.append(None)
            continue
        if act.kind in one:
            out.append(one[act.kind] + (False,))
        elif act.kind == "hardtanh":
            out.append(([p[0], p[1]], [F(0), F(1), F(0)], p[0], False))
        elif act.kind == "clipped_relu":
            out.append(([F(0), p[0]], [F(0), F(1), F(0)], F(0), False))
        elif act.kind == "hard_sigmoid":  # max(0, min(1, a z + b)): kinks where a z + b is 0 and 1
            a, b = p
            kinks = sorted([-b / a, (1 - b) / a])
            out.append((kinks, [F(0), a, F(0)], F(0) if a > 0 else F(1), a < 0))
        elif act.kind == "prelu":
            alpha = p[j] if len(p) > 1 else p[0]
            out.append(None if alpha == 1 else ([F(0)], [alpha, F(1)], F(0), False))
        elif act.kind == "spline":
            t, s, v = act.params[j] if len(act.params) > 1 else act.params[0]
            out.append(([F(x) for x in t], [F(x) for x in s], F(v), False))
        else:
            raise NotImplementedError(act.kind)
    return out


def _evaluate(fn, z):
    """The piecewise-linear function (breakpoints, slopes, value) at z, and its piece."""
    t, s, v, _ = fn
    piece = sum(1 for x in t if x < z)
    if piece == 0:
        return v + s[0] * (z - t[0]), 0
    value = v
    for k in range(1, piece):
        value += s[k] * (t[k] - t[k - 1])
    return value + s[piece] * (z - t[piece - 1]), piece


def piecewise_regions_1d(network, lo, hi):
    """Activation regions of a 1-input network with any activations but max on [lo, hi],
    from its layers as built (``network.source_layers``, before any rewrite), as a sorted list
    of (left, right, pieces) with Fraction ends: every unit's pre-activation is affine on an
    interval, so the interval splits where it crosses one of its activation's breakpoints;
    pieces count the unit's breakpoints below its input, ReLU units 0/1."""
    items = [(Fraction(float(lo)), Fraction(float(hi)), [Fraction(1)], [Fraction(0)], ())]
    for layer in network.source_layers:
        W = [[Fraction(float(w)) for w in row] for row in layer.W]
        b = [Fraction(float(v)) for v in layer.b]
        fns = _unit_functions(layer.activation, layer.width)
        nxt = []
        for left, right, s_in, c_in, pieces in items:
            slope = [sum(w * s for w, s in zip(row, s_in)) for row in W]
            icpt = [sum(w * c for w, c in zip(row, c_in)) + bb for row, bb in zip(W, b)]
            roots = set()
            for fn, s, c in zip(fns, slope, icpt):
                if fn is not None and s != 0:
                    roots |= {(t - c) / s for t in fn[0] if left < (t - c) / s < right}
            cuts = [left] + sorted(roots) + [right]
            for a, z in zip(cuts[:-1], cuts[1:]):
                mid = (a + z) / 2
                s_out, c_out, new = [], [], []
                for fn, s, c in zip(fns, slope, icpt):
                    if fn is None:
                        s_out.append(s)
                        c_out.append(c)
                        continue
                    y_mid, piece = _evaluate(fn, s * mid + c)
                    k = fn[1][piece]  # the slope of the piece
                    s_out.append(k * s)
                    c_out.append(y_mid - k * s * mid)
                    new.append(len(fn[0]) - piece if fn[3] else piece)
                nxt.append((a, z, s_out, c_out, pieces + tuple(new)))
        items = nxt
    return [(a, z, p) for a, z, _, _, p in items]
