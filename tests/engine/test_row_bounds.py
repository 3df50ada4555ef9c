"""The engine's error bounds on a cell's hyperplane rows hold against the exact rows, layer after
layer, on deep, leaky, badly scaled and mixed-magnitude networks; on wide deep networks the bound
carried as a norm per cell (``||W||_2`` per layer) is the one that decides; it is tight for an
error in the worst direction; and alone it keeps counts exact."""
import contextlib
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import regionenum as rn
from regionenum.core.exact import ExactNetwork
from regionenum.engine import api, polytope_step, subtrees
from regionenum.engine.driver import Tally
from regionenum.engine.exact_vertices import LOOSE
from regionenum.engine.kernels import rows
from regionenum.engine.polytope_step import PolytopeStep, Rows
from tests.bounds import misplaced_vertex, norm_bounds_only, unbalanced, unit_norm_bounds_only
from tests.engine.test_hypothesis import networks
from tests.oracles import lp_regions, regions_1d


def _network(kind, seed, depth=6, width=128, bias=0.1):
    rng = np.random.default_rng(seed)
    widths = [2] + [width] * depth + [1]
    layers = []
    for l, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        b = rng.normal(0.0, bias, size=fan_out)
        if kind == "scaled":  # whole layers by powers of two, up and down
            s = 2.0 ** int(rng.integers(-40, 41))
            W, b = W * s, b * s
        if kind == "mixed":  # entries spanning ten orders of magnitude within a layer
            W = W * 10.0 ** rng.uniform(-5, 5, size=W.shape)
        layers.append((W, b))
    act = {"relu": "relu", "scaled": "relu", "mixed": "relu", "leaky": ("leaky_relu", 0.1),
           "steep": ("leaky_relu", 3.0), "negative": ("leaky_relu", -0.5)}[kind]
    return rn.Network.from_layers(layers, [act] * depth + ["identity"])


def _pattern(net, x):
    """The pattern bits of the point ``x`` (in pattern order)."""
    bits, a = [], np.asarray(x, float)
    for l, layer in enumerate(net.layers):
        z = layer.W @ a + layer.b
        bits.append(z[net.split_units[l]] > 0)
        a = np.where(z > 0, z, layer.activation.off_slope * z)
    return np.concatenate(bits)


def _step(net):
    step = PolytopeStep(net, rn.Box([-1, -1], [1, 1]), 1e-9, 64, keep=False)
    step.start(Tally())
    return step


def _float_rows(net, bits, norms=True, products=True, two_parts=False):
    """Every layer's rows and error bounds for one cell of pattern ``bits``, as the engine
    computes them (without the per-cell norm bound when ``norms`` is False; with the
    unit-by-unit product on every layer unless ``products`` is False, as the engine computes
    it once the norm bound alone has left signs undecided; in two parts where ``two_parts``,
    the rows then ``J + lo``)."""
    step = _step(net)
    step.in_two_parts = two_parts
    for record in step._product_record:
        record.wanted = products
    if not norms:
        step._norm_bounds = lambda l, D, width, N, parent, sizes, rounded=True: (np.full(len(parent), np.inf),) * 2
    rows = step.first_layer_rows()
    out = [(rows.J[0], rows.E[0, 0])]
    for l in range(1, len(net.layers)):
        o, k = net.unit_offsets[l - 1], len(net.split_units[l - 1])
        rows = step.next_layer_rows(l, rows, np.array([0]), bits[None, o: o + k])
        out.append((rows.J[0], rows.E[0, 0], None if rows.lo is None else rows.lo[0]))
    return out


def _assert_bounds_hold(exact, bits, rows):
    """Every unit's float rows at every layer (``rows``, as :func:`_float_rows` gives them) are
    within their bounds of the exact rows of the cell of pattern ``bits``, in Fractions."""
    for l, (J, bound, *lo) in enumerate(rows):
        _assert_layer_bounds_hold(exact, bits, l, J, bound, *lo)


def _assert_layer_bounds_hold(exact, bits, l, J, bound, lo=None):
    """The float rows ``J`` of layer ``l`` (plus their low parts ``lo``, where given) are within
    ``bound`` of the exact rows of the cell of pattern ``bits``, unit by unit, in Fractions."""
    E = exact.rows(l, bits)
    scale = Fraction(int(E[0, 0]))
    for u in range(J.shape[1]):
        error = sum(abs(Fraction(float(J[k, u])) + (0 if lo is None else Fraction(float(lo[k, u])))
                        - Fraction(int(E[1 + u, k])) / scale) for k in range(J.shape[0]))
        assert error <= Fraction(float(bound[u])), (l, u)


@pytest.mark.parametrize("kind", ["relu", "leaky", "steep", "scaled", "mixed"])
def test_row_bounds_hold_against_exact_rows(kind):
    """Every unit's bound, on three cells, at every layer, against the exact rows in Fractions;
    on all but the mixed-magnitude network the norm bound is the smaller one somewhere."""
    net = _network(kind, seed=5)
    exact = ExactNetwork(net)
    rng = np.random.default_rng(1)
    decided = False
    for x in rng.uniform(-1, 1, size=(3, 2)):
        bits = _pattern(net, x)
        unit_by_unit = _float_rows(net, bits, norms=False)
        rows = _float_rows(net, bits)
        _assert_bounds_hold(exact, bits, rows)
        _assert_bounds_hold(exact, bits, _float_rows(net, bits, products=False))
        decided |= any(bool((bound < unit_by_unit[l][1]).any()) for l, (_, bound, *_) in enumerate(rows))
    assert decided or kind == "mixed"


@pytest.mark.parametrize("kind", ["relu", "steep", "scaled", "mixed"])
def test_row_bounds_hold_on_narrow_layers(kind):
    """Layers of at most ``NARROW`` units get their rows as dot products per child, without masked
    copies of the parents' rows: their bounds hold against the exact rows too."""
    net = _network(kind, seed=7, depth=4, width=12)
    assert max(layer.width for layer in net.layers) <= polytope_step.NARROW
    exact = ExactNetwork(net)
    for x in np.random.default_rng(2).uniform(-1, 1, size=(3, 2)):
        bits = _pattern(net, x)
        _assert_bounds_hold(exact, bits, _float_rows(net, bits))


@pytest.mark.parametrize("cost", [None, 0.0])
@pytest.mark.parametrize("width", [12, 40])
@pytest.mark.parametrize("kind", ["relu", "steep", "negative", "mixed"])
def test_row_bounds_hold_for_siblings(kind, width, cost, monkeypatch):
    """Children of one cell (siblings, consecutive) share the sums of the units on which their
    states agree and add their own terms for the rest, as dot products on narrow layers (12
    units) and as a shared block of the matrix product on wide ones (40): on every layer,
    siblings that differ in one to three units, and siblings that differ in all (each then sums
    on its own, on wide layers where the own terms are priced; with a cost of 0 every run of
    siblings is one chunk), have rows within their bounds of the exact rows, and within both
    bounds of the rows of the same child computed alone, whose bounds (sums of the same terms in
    another order) they equal but for rounding (the smaller of the unit-by-unit bound and the
    norm bound, from the sizes summed with the terms)."""
    monkeypatch.setattr(polytope_step, "SHARE_FROM", 0)  # blocks shared after 40 units too
    if cost is not None:
        monkeypatch.setattr(polytope_step, "OWN_TERM_COST", cost)
    net = _network(kind, seed=11, depth=4, width=width)
    exact = ExactNetwork(net)
    bits = _pattern(net, np.array([0.3, -0.4]))
    step = _step(net)
    J, E, N = step.first_layer_rows()[:3]
    for l in range(1, len(net.layers)):
        o, k = net.unit_offsets[l - 1], len(net.split_units[l - 1])
        block = bits[o: o + k]
        flipped = [block.copy() for _ in range(5)]
        flipped[1][0] ^= True
        flipped[2][[1, 5]] ^= True
        flipped[4][:] ^= True
        kids = np.array(flipped)  # a run of three siblings (3 of 12 units differ), then a run of two (all)
        parents = np.array([0, 0, 0, 1, 1])
        two = Rows(np.concatenate([J, J]), np.concatenate([E, E]), np.concatenate([N, N]))
        rows, bounds = step.next_layer_rows(l, two, parents, kids)[:2]
        if cost == 0.0 and net.layers[l].width > polytope_step.NARROW:  # a chunk per run of siblings
            assert list(step._buffers["owner"][:5]) == [0, 0, 0, 1, 1]
        for c, child in enumerate(kids):
            pattern = bits.copy()
            pattern[o: o + k] = child
            _assert_layer_bounds_hold(exact, pattern, l, rows[c], bounds[c, 0])
            alone, alone_bounds = step.next_layer_rows(l, Rows(J, E, N), np.array([0]), child[None])[:2]
            gap = np.abs(rows[c] - alone[0]).sum(axis=0)
            assert np.all(gap <= bounds[c, 0] + alone_bounds[0, 0]), (l, c)
            assert np.allclose(bounds[c, 0], alone_bounds[0, 0], rtol=1e-12, atol=0), (l, c)
        J, E, N = step.next_layer_rows(l, Rows(J, E, N), np.array([0]), block[None])[:3]


def _two_parents(rng, D, W):
    """Two parents' rows ``J`` (entries from 1e-3 to 1e3, the largest terms on unit 3) and their
    bounds ``E``, a child's states ``base``, and ``near``: ``base`` and two siblings of it that
    differ on unit 3, and on units 2 and 7."""
    J = rng.normal(size=(2, D, W)) * 10.0 ** rng.uniform(-3, 3, size=W)
    J[:, :, 3] *= 1e4  # the largest terms on a unit that siblings differ on
    E = np.abs(rng.normal(size=(2, 1, W))) * 1e-14
    base = rng.random(W) < 0.5
    return J, E, base, [base, base ^ (np.arange(W) == 3), base ^ np.isin(np.arange(W), [2, 7])]


@pytest.mark.parametrize("units", [2, 5])
@pytest.mark.parametrize("off", [0.0, 0.1, 3.0, -0.5])
def test_narrow_kernel_gives_siblings_their_sums_alone(off, units):
    """The narrow layers' kernel gives each child in a run of siblings the rows, unit-by-unit
    bound and sizes it gives the child alone, but for the rounding of sums in another order (the
    largest entries exactly): siblings that differ in one or two units share sums, siblings that
    differ in all sum on their own, and a parent's children need not all be consecutive. Its
    rows are the masked rows' matrix product, and its bounds ``pre @ |W|^T``, up to rounding:
    as dot products (fewer units than ``BY_TERM_FROM``) and term by term."""
    rng = np.random.default_rng(3)
    D, W = 3, 24
    J, E, base, near = _two_parents(rng, D, W)
    kids = np.array(near + [base, ~base, base])
    parent = np.array([0, 0, 0, 1, 1, 0])
    weights = rng.normal(size=(units, W))
    bias = rng.normal(size=units)
    assert (units >= rows.BY_TERM_FROM) == (units == 5)

    def kernel(parent, kids):
        out = np.empty((len(kids), D, units)), np.empty((len(kids), units)), np.empty((len(kids), 4))
        rows.narrow_rows_and_bounds(J, E, parent, kids, off, 1e-15, weights, np.ascontiguousarray(weights.T), bias,
                                    np.abs(weights), np.ascontiguousarray(np.abs(weights).T), *out)
        return out

    together = kernel(parent, kids)
    for i in range(len(kids)):
        alone = kernel(parent[i: i + 1], kids[i: i + 1])
        terms = np.abs(J[parent[i]]).sum() * np.abs(weights).max() * max(1.0, off)
        assert np.allclose(together[0][i], alone[0][0], rtol=0, atol=1e-13 * terms)
        assert np.allclose(together[1][i], alone[1][0], rtol=1e-13, atol=0)
        assert np.allclose(together[2][i], alone[2][0], rtol=1e-13, atol=0)
        assert together[2][i, 1] == alone[2][0, 1] and together[2][i, 3] == alone[2][0, 3]
        slopes = np.where(kids[i], 1.0, off)
        masked = J[parent[i]] * slopes
        product = masked @ weights.T
        product[0] += bias
        assert np.allclose(together[0][i], product, rtol=0, atol=1e-13 * terms)
        pre = 1e-15 * np.abs(masked).sum(axis=0) + E[parent[i], 0] * np.abs(slopes)
        assert np.allclose(together[1][i], pre @ np.abs(weights).T, rtol=1e-13, atol=0)


@pytest.mark.parametrize("off", [0.0, 0.1, 3.0, -0.5])
def test_wide_rows_give_siblings_their_sums_alone(off, monkeypatch):
    """On wide layers siblings share a block of the matrix product and each adds its own terms:
    each child gets the rows it gets alone, and the unit-by-unit bound's product, but for the
    rounding of sums in another order, and bit for bit the same ``pre`` and ``sizes`` (its own).
    Siblings that differ in one or two units share a block; one that differs in all starts a
    block of its own, and the chunk after it shares again; a parent's children need not all be
    consecutive; with sharing priced out, or after fewer than ``SHARE_FROM`` units, every child
    has a block."""
    rng = np.random.default_rng(4)
    D, W, units = 3, 64, 30
    assert units > polytope_step.NARROW
    net = rn.Network.from_layers([(rng.normal(size=(W, 2)), rng.normal(size=W)),
                                  (rng.normal(size=(units, W)), rng.normal(size=units)),
                                  (rng.normal(size=(1, units)), np.zeros(1))],
                                 [("leaky_relu", off) if off else "relu", "relu", "identity"])
    step = _step(net)
    J, E, base, near = _two_parents(rng, D, W)
    kids = np.array(near + [~base] + near + [base, ~base, base])
    parent = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 0])

    abs_W = np.abs(net.layers[1].W)

    def wide(parent, kids):
        """The rows, ``pre``, sizes and blocks of the children, and their unit-by-unit bounds'
        product (``pre @ |W|^T``) as the run forms it: per block and own terms where shared."""
        sizes = np.empty((len(kids), 4))
        out, pre, blocks = step._wide_rows(net.layers[1], J, E, parent, kids, off, 1e-15, sizes)
        bound = pre @ abs_W.T
        if blocks is not None:
            shared = rows.block_bounds(pre, blocks.owner, blocks.span, blocks.own, blocks.blocks) @ abs_W.T
            weights_T = net.layers[1].weights_and_bias_T
            rows.add_own_bounds(shared, blocks.owner, pre, blocks.span, blocks.own, weights_T, bound)
        return out.copy(), pre.copy(), sizes, step._buffers["owner"][: len(kids)].copy(), bound

    monkeypatch.setattr(polytope_step, "SHARE_FROM", W + 1)
    assert list(wide(parent, kids)[3]) == list(range(len(kids)))
    monkeypatch.setattr(polytope_step, "SHARE_FROM", 0)
    together = wide(parent, kids)
    assert list(together[3]) == [0, 0, 0, 1, 2, 2, 2, 3, 4, 5]
    for i in range(len(kids)):
        alone = wide(parent[i: i + 1], kids[i: i + 1])
        terms = np.abs(J[parent[i]]).sum() * np.abs(net.layers[1].W).max() * max(1.0, abs(off))
        assert np.allclose(together[0][i], alone[0][0], rtol=0, atol=1e-13 * terms)
        assert np.array_equal(together[1][i], alone[1][0]) and np.array_equal(together[2][i], alone[2][0])
        assert np.allclose(together[4][i], alone[4][0], rtol=1e-13, atol=0)  # the same terms, summed otherwise
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(polytope_step, "OWN_TERM_COST", np.inf)
        apart = wide(parent, kids)
    assert list(apart[3]) == list(range(len(kids)))
    assert np.allclose(apart[0], together[0], rtol=0, atol=1e-13 * np.abs(J).sum() * np.abs(net.layers[1].W).max())


def _own_terms(on, kids, off):
    """The units the children ``kids`` differ on (a mask), and how many own terms they add: one
    per child and such unit whose slope is not 0."""
    units = np.any(on[kids] != on[kids[0]], axis=0)
    return units, int(on[kids][:, units].sum() if off == 0.0 else len(kids) * units.sum())


def _chunks_by_the_rule(parent, on, off, cost):
    """Each child's chunk, by the rule of ``shared_rows_and_bounds`` written out plainly."""
    W, owner, start = on.shape[1], [], 0
    while start < len(parent):
        end = start + 1
        while end < len(parent) and parent[end] == parent[start]:
            grown, now = (W + cost * _own_terms(on, np.arange(start, stop), off)[1] for stop in (end + 1, end))
            c = end - start  # the cost per child must not grow: compared without dividing
            if grown * c > now * (c + 1):
                break
            end += 1
        owner += [len(set(owner))] * (end - start)
        start = end
    return owner


def _greedy_walk(W, cost, m):
    """``m`` siblings' states that fill a chunk with as many units as the rule lets it: each child
    turns on as many fresh units as still keep the cost per child from growing, and turns off
    its predecessor's (each unit then adds one term)."""
    on, used, terms = np.zeros((m, W), bool), 0, 0
    for j in range(1, m):
        fresh = W - used if cost == 0 else min(W - used, int((W + cost * terms) // (cost * j)))
        on[j, used: used + fresh] = True
        used, terms = used + fresh, terms + fresh
    return on


@pytest.mark.parametrize("cost", [5.0, 2.4, 1.0, 0.0])
@pytest.mark.parametrize("off", [0.0, 0.5])
def test_chunks_fit_the_room_given_for_their_units(cost, off):
    """The kernel writes each chunk's own units into ``own``, which has room for ``own_room``
    units: on many parents with up to 60 children each, whose states differ from one child to
    the next in one to many units, and on parents whose children fill their chunk with as many
    units as the rule allows (near the room: half of it and more), the chunks are those of the
    rule (grown while the cost per child, ``(width + cost * own terms) / children``, does not
    grow; a term per child and unit whose slope is not 0), their units fit and nothing is
    written past them, each chunk's cost per child is at most a block's, and each child's own
    units are its chunk's, those its states differ on."""
    rng = np.random.default_rng(int(cost * 10) + int(off * 100))
    W = 48
    n_children = rng.integers(1, 61, size=40)
    parent = np.repeat(np.arange(40), n_children)
    on = np.empty((len(parent), W), bool)
    for p, (lo, hi) in enumerate(zip(np.cumsum(n_children) - n_children, np.cumsum(n_children))):
        state = rng.random(W) < 0.5
        for i in range(lo, hi):  # a walk: each child flips a few units of the one before (or many)
            state = state ^ (rng.random(W) < (0.5 if rng.random() < 0.1 else 2.0 / W))
            on[i] = state
    _check_chunks(rng, parent, on, off, cost)
    m = int(cost) + 1 if cost >= 1 else 8  # children per parent: chunks that fill the most
    filled = _check_chunks(rng, np.repeat(np.arange(100), m), np.tile(_greedy_walk(W, cost, m), (100, 1)), 0.0,
                           cost)
    assert cost < 1 or filled >= 0.45 * rows.own_room(100 * m, W, cost)


def _check_chunks(rng, parent, on, off, cost):
    """Run the kernel on children of ``parent`` with states ``on`` and check its chunks (see
    :func:`test_chunks_fit_the_room_given_for_their_units`); returns how many units it wrote."""
    (n, W), D = on.shape, 3
    J, E = rng.normal(size=(parent.max() + 1, D, W)), np.abs(rng.normal(size=(parent.max() + 1, 1, W))) * 1e-14
    room = rows.own_room(n, W, cost)
    own = np.full(room + 1000, -7, np.int64)
    owner, span = np.empty(n, np.int64), np.empty((n, 2), np.int64)
    blocks = rows.shared_rows_and_bounds(J, E, parent, on, off, 1e-15, np.empty((n, D, W + 1)), np.empty((n, W)),
                                         np.empty((n, 4)), owner, span, own, cost)
    assert span[:, 1].max() <= room and np.all(own[span[:, 1].max():] == -7)
    assert owner.tolist() == _chunks_by_the_rule(parent, on, off, cost)
    for b in range(blocks):
        kids = np.flatnonzero(owner == b)
        assert len(set(parent[kids].tolist())) == 1 and np.all(np.diff(kids) == 1)
        units = own[span[kids[0], 0]: span[kids[0], 1]]
        assert np.all(span[kids] == span[kids[0]])
        differ, terms = _own_terms(on, kids, off)
        assert sorted(units.tolist()) == np.flatnonzero(differ).tolist()
        assert cost * terms <= (len(kids) - 1) * W
    return int(span[:, 1].max())


@pytest.mark.parametrize("off", [0.0, -0.5, 3.0])
def test_wide_siblings_bounds_hold_where_one_term_dwarfs_the_rest(off, monkeypatch):
    """Siblings that differ on a unit whose term is 1e20 times the others': each child's rows,
    from the chunk's shared block and its own terms, are within their bounds of the exact rows
    (Fractions), which holds only if the block leaves the differing units' terms out rather than
    adding them back with the child's slope (that loses every smaller term). Two children differ
    from the first on the same unit, and one on two units, so the chunk's units are counted once."""
    monkeypatch.setattr(polytope_step, "SHARE_FROM", 0)
    rng = np.random.default_rng(0)
    W, units = 40, 20
    weights = rng.normal(size=(units, W))
    act = ("leaky_relu", off) if off else "relu"
    net = rn.Network.from_layers([(rng.normal(size=(W, 2)), rng.normal(size=W)), (weights, np.zeros(units)),
                                  (rng.normal(size=(1, units)), np.zeros(1))], [act, "relu", "identity"])
    step = _step(net)
    J = np.zeros((1, 3, W))
    J[0, :, 1:] = rng.normal(size=(3, W - 1))
    J[0, :, 0] = 1e20
    kids = np.ones((4, W), bool)
    kids[1, 0] = kids[2, 0] = kids[2, 5] = kids[3, 5] = False
    rows, bounds = step.next_layer_rows(1, Rows(J, np.zeros((1, 1, W)), np.zeros(1)), np.zeros(4, np.int64),
                                        kids)[:2]
    assert list(step._buffers["owner"][:4]) == [0, 0, 0, 0]
    for i, child in enumerate(kids):
        slopes = [Fraction(1) if on else Fraction(off) for on in child]
        for o in range(units):
            exact = [sum(Fraction(float(J[0, k, h])) * slopes[h] * Fraction(float(weights[o, h]))
                         for h in range(W)) for k in range(3)]
            error = sum(abs(Fraction(float(rows[i, k, o])) - exact[k]) for k in range(3))
            assert error <= Fraction(float(bounds[i, 0, o])), (i, o)


@pytest.mark.parametrize("activation", ["relu", ("leaky_relu", -0.5)])
def test_wide_siblings_agree_with_products_alone(activation, monkeypatch):
    """The same regions, in the same order, with wide layers' rows shared by siblings and with a
    block of the matrix product per child; output maps within the bounds of both."""
    net = _network("relu", seed=12, depth=3, width=48)
    net = rn.Network.from_layers([(layer.W, layer.b) for layer in net.layers], [activation] * 3 + ["identity"])
    box = rn.Box([-1, -1], [1, 1])
    monkeypatch.setattr(polytope_step, "SHARE_FROM", 0)
    shared = rn.enumerate_regions(net, box)
    monkeypatch.setattr(polytope_step, "OWN_TERM_COST", np.inf)
    apart = rn.enumerate_regions(net, box)
    assert np.array_equal(shared.packed_patterns, apart.packed_patterns)
    gap = np.abs(shared.offsets - apart.offsets) + np.abs(shared.jacobians - apart.jacobians).sum(axis=2)
    assert np.all(gap <= shared.output_errors + apart.output_errors)


@pytest.mark.parametrize("widths", [[2, 12, 10, 3], [3, 20, 8, 20, 2]])
def test_narrow_layers_agree_with_the_matrix_products(widths, monkeypatch):
    """The same regions, in the same order, with narrow layers' rows as dot products per child
    and as matrix products of masked rows; output maps within the bounds of both."""
    rng = np.random.default_rng(len(widths))
    layers = [(rng.normal(size=(b, a)), rng.normal(size=b)) for a, b in zip(widths, widths[1:])]
    net = rn.Network.from_layers(layers)
    box = rn.Box(-np.ones(widths[0]), np.ones(widths[0]))
    narrow = rn.enumerate_regions(net, box)
    monkeypatch.setattr(polytope_step, "NARROW", 0)
    products = rn.enumerate_regions(net, box)
    assert np.array_equal(narrow.packed_patterns, products.packed_patterns)
    gap = np.abs(narrow.offsets - products.offsets) + np.abs(narrow.jacobians - products.jacobians).sum(axis=2)
    assert np.all(gap <= narrow.output_errors + products.output_errors)


def test_norm_bound_decides_on_wide_deep_networks():
    """Eight layers of 256 units deep, the bound carried as a norm is far below the one carried
    unit by unit through ``|W|`` (which grows by the absolute row sums per layer); one layer in,
    the unit-by-unit bound is the smaller."""
    net = _network("relu", seed=5, depth=8, width=256)
    bits = _pattern(net, [0.3, -0.2])
    with_norms, unit_by_unit = _float_rows(net, bits), _float_rows(net, bits, norms=False)
    deep = len(net.layers) - 2
    assert (with_norms[deep][1] < unit_by_unit[deep][1] / 10).all()
    assert (with_norms[1][1] == unit_by_unit[1][1]).all()


def _one_hidden_layer(rng, activation, width=64):
    """A 2-input network of two ``width``-wide layers, its second layer's ``W`` and ``b``, and
    exact rows of a parent cell for that layer over ``(t, x1, x2)``."""
    layers = [(rng.normal(size=(width, 2)), rng.normal(size=width)),
              (rng.normal(0.0, 0.2, size=(width, width)), rng.normal(size=width)),
              (rng.normal(size=(1, width)), np.zeros(1))]
    net = rn.Network.from_layers(layers, [activation] * 2 + ["identity"])
    return net, net.layers[1].W, net.layers[1].b, rng.normal(size=(3, width))


def _carried_bounds(J, exact):
    """The norm bound ``N`` and the per-unit bounds ``E`` of rows ``J`` whose exact values are
    ``exact``, just above the true errors."""
    delta = [[Fraction(float(a)) - Fraction(float(e)) for a, e in zip(J[k], exact[k])] for k in range(len(J))]
    N = sum(math.sqrt(sum(float(d * d) for d in row)) for row in delta) * (1 + 1e-12)
    E = [float(sum(abs(row[u]) for row in delta)) * (1 + 1e-12) for u in range(J.shape[1])]
    return N, E


@pytest.mark.parametrize("activation, on, slope", [("relu", True, 1.0), (("leaky_relu", 3.0), False, 3.0)])
def test_norm_bound_is_tight_for_an_error_along_the_top_singular_vector(activation, on, slope):
    """A parent whose rows are off by an error along the layer's top right singular vector (the
    worst direction): the child's rows are off by ``||W||_2`` times as much, and the norm bound
    says so within one per cent. So the bound follows the error through the layer as it must:
    any factor lost (a smaller ``||W||_2``, a slope left out) makes it fail."""
    rng = np.random.default_rng(8)
    net, W, b, exact = _one_hidden_layer(rng, activation)
    width = W.shape[1]
    J = exact.copy()
    J[1] += 1e-6 * np.linalg.svd(W)[2][0]
    N, E = _carried_bounds(J, exact)
    J2, _, N2 = _step(net).next_layer_rows(1, Rows(J[None], np.array(E)[None, None], np.array([N])),
                                           np.array([0]), np.full((1, width), on))[:3]
    s = Fraction(slope)
    actual = 0.0
    for k in range(3):
        rows = [sum(Fraction(float(W[i, j])) * s * Fraction(float(exact[k, j])) for j in range(width))
                + (Fraction(float(b[i])) if k == 0 else 0) for i in range(width)]
        actual += math.sqrt(sum(float(Fraction(float(J2[0, k, i])) - r) ** 2 for i, r in enumerate(rows)))
    assert actual <= N2[0] * (1 + 1e-9)
    assert actual >= 0.99 * N2[0]


@pytest.mark.parametrize("activation, on, slope", [("relu", True, 1.0), (("leaky_relu", 3.0), False, 3.0)])
def test_unit_norm_bound_is_tight_for_an_error_along_a_row(activation, on, slope):
    """A parent whose rows are off by an error along one unit's weight row: that unit's row in
    the child is off by the row's norm times as much (times the slope), and the per-unit norm
    bound says so within one per cent, so any factor it lost would make it fail."""
    rng = np.random.default_rng(9)
    net, W, b, exact = _one_hidden_layer(rng, activation)
    width, u = W.shape[1], 17
    J = exact.copy()
    J[2] += 1e-6 * W[u] / np.linalg.norm(W[u])
    N, E = _carried_bounds(J, exact)
    with unit_norm_bounds_only():
        J2, E2 = _step(net).next_layer_rows(1, Rows(J[None], np.array(E)[None, None], np.array([N])),
                                            np.array([0]), np.full((1, width), on))[:2]
    s = Fraction(slope)
    actual = 0.0
    for k in range(3):
        row = sum(Fraction(float(W[u, j])) * s * Fraction(float(exact[k, j])) for j in range(width))
        row += Fraction(float(b[u])) if k == 0 else 0
        actual += abs(float(Fraction(float(J2[0, k, u])) - row))
    assert actual <= E2[0, 0, u] * (1 + 1e-9)
    assert actual >= 0.99 * E2[0, 0, u]


# either norm bound alone decides every float64 sign: counts and regions stay exact
ALONE = pytest.mark.parametrize("alone", [norm_bounds_only, unit_norm_bounds_only], ids=["cell", "unit"])


@ALONE
@given(net=st.one_of(networks(1), networks(1, generic_weights=False)))
def test_norm_bound_alone_counts_1d_exactly(alone, net):
    expected = regions_1d(net, -2.0, 1.5)
    merged = [p for i, (_, _, p) in enumerate(expected) if i == 0 or expected[i - 1][2] != p]
    with alone():
        assert rn.count_regions(net, rn.Box([-2.0], [1.5])) == len(merged)


@ALONE
@given(net=st.one_of(networks(2), networks(2, generic_weights=False)))
def test_norm_bound_alone_matches_lp_reference_2d(alone, net):
    box = rn.Box([-1.0, -1.0], [1.0, 1.5])
    with alone():
        regions = rn.enumerate_regions(net, box)
    assert sorted(tuple(bool(v) for v in p) for p in regions.patterns) == lp_regions(net, box.A, box.b)


def test_unit_norm_bounds_hold_against_exact_rows():
    """The per-unit norm bound alone (no product through ``|W|``), every unit at every layer of
    two deep networks, against the exact rows; and at the last hidden layer it is below the
    cell's norm bound for every unit."""
    for kind in ("relu", "steep"):
        net = _network(kind, seed=6)
        exact = ExactNetwork(net)
        bits = _pattern(net, [0.2, -0.4])
        with unit_norm_bounds_only():
            rows = _float_rows(net, bits)
        _assert_bounds_hold(exact, bits, rows)
        with norm_bounds_only():
            cell = _float_rows(net, bits)
        assert (rows[-2][1] < cell[-2][1]).all()


_ENGINE_PRODUCTS_PAY = PolytopeStep._products_pay


def _watched_products(policy=None):
    """A replacement for :meth:`PolytopeStep._products_pay` that records ``(layer, computed)``
    for every batch in its ``decisions`` list: the engine's own choice, or ``policy`` (True:
    always, False: never) where given."""
    decisions = []

    def watched(self, l):
        pays = _ENGINE_PRODUCTS_PAY(self, l) if policy is None else policy
        decisions.append((l, pays))
        return pays

    watched.decisions = decisions
    return watched


def test_products_are_skipped_where_the_norm_decides(monkeypatch):
    """On six 256-wide layers the per-unit norm bound leaves no sign to the stronger stages: a
    count never computes the unit-by-unit product on a layer that splits, and its float64 filter
    decides every sign it decides with the product on every batch. A full result takes the same
    rule (its generators' and output maps' bounds come out looser, and hold). The regions are
    those found with the product computed on every batch. (The exact 1-D oracle takes minutes
    here; the bounds alone are checked against it on small networks above.)"""
    rng = np.random.default_rng(3)
    widths = [1] + [256] * 6 + [1]
    net = rn.Network.from_layers([(rng.normal(0.0, np.sqrt(2.0 / a), size=(b, a)), rng.normal(0.0, 0.1, size=b))
                                  for a, b in zip(widths[:-1], widths[1:])])
    box = rn.Box([-1.0], [1.0])
    found = {}
    for policy in (None, True):
        for run in (rn.count_regions, rn.enumerate_regions):
            watched = _watched_products(policy)
            monkeypatch.setattr(PolytopeStep, "_products_pay", watched)
            monkeypatch.setattr(subtrees, "SUBTREE_WORK", np.inf)  # one step's decisions, batch after batch
            monkeypatch.setattr(api, "line_applies", lambda network, domain: False)  # the general step's count
            found[policy, run] = run(net, box), watched.decisions
    monkeypatch.undo()
    (counted, in_count), (regions, in_full) = found[None, rn.count_regions], found[None, rn.enumerate_regions]
    always_counted, always = found[True, rn.count_regions][0], found[True, rn.enumerate_regions][0]
    last = len(net.layers) - 1
    assert in_count and not any(pays for l, pays in in_count if l < last)
    assert counted.sign_stages == always_counted.sign_stages and int(counted) == len(always)
    assert in_full and not any(pays for l, pays in in_full if l < last)
    assert regions.sign_stages == always.sign_stages and regions.exact_calls == always.exact_calls == 0
    assert np.array_equal(regions.packed_patterns, always.packed_patterns)
    assert np.all(regions.output_errors >= always.output_errors)
    # the same cells: the BLAS thread count follows the machine's load, and a product's last bit
    # may follow the thread count
    np.testing.assert_allclose(regions.interior_points, always.interior_points, rtol=1e-12, atol=1e-15)


def test_products_follow_the_signs_the_norm_bound_leaves(monkeypatch):
    """On layers whose entries span ten orders of magnitude (not balanced) the norm bound alone
    leaves many signs to exact arithmetic; there the unit-by-unit product is computed again on
    the following batches, and leaves about as few as with the product on every batch. The
    count is the same whichever bounds decide."""
    net = _network("mixed", seed=5, depth=3, width=32)
    box = rn.Box([-1.0, -1.0], [1.0, 1.0])
    found = {}
    for policy in (False, None, True):
        watched = _watched_products(policy)
        monkeypatch.setattr(PolytopeStep, "_products_pay", watched)
        with unbalanced():
            result = rn.count_regions(net, box, batch_size=64)
        computed = [pays for _, pays in watched.decisions]
        found[policy] = (int(result), result.sign_stages["exact arithmetic"], sum(computed), len(computed))
    assert found[False][0] == found[None][0] == found[True][0]
    never, default, always = (found[p][1] for p in (False, None, True))
    assert always <= default < never and default - always < (never - always) / 4
    assert 0 < found[None][2] < found[None][3]  # computed on some batches, not all


def test_a_few_signs_left_in_a_large_batch_do_not_want_the_product():
    """The product is wanted after a batch split with the norm bound alone only where the signs it
    left to the stronger stages are at least one per ``PRODUCT_PAYS_PER`` of its cells (fewer cost
    less to settle than the product would on the next batches), and then on every layer up to the
    split's; a batch split with the product leaves the records as they are."""
    net = _network("mixed", seed=5, depth=3, width=32)
    step = PolytopeStep(net, rn.Box([-1, -1], [1, 1]), 1e-9, 64, keep=False)
    per = polytope_step.PRODUCT_PAYS_PER
    records = step._product_record
    for record in records:
        record.wanted = False
    step._signs_escaped(2, 3, 3 * per + 1)  # fewer than one a PRODUCT_PAYS_PER cells
    assert not any(record.wanted for record in records)
    step._signs_escaped(2, 3, 3 * per)
    assert [record.wanted for record in records] == [False, True, True, False]
    for record in records:
        record.wanted = False
    records[2].used = True  # the split had the product: nothing more to want
    step._signs_escaped(2, 50, 1)
    assert not any(record.wanted for record in records)


UNDERFLOW_BOUNDS = pytest.mark.parametrize("bounds", [contextlib.nullcontext, unit_norm_bounds_only],
                                           ids=["default", "unit-norm"])


@UNDERFLOW_BOUNDS
@pytest.mark.parametrize("exponent", [-360, -400])
def test_rows_below_the_normal_range_are_settled_exactly(exponent, bounds):
    """Layer ``l`` scaled by ``s = 2^exponent`` and its bias by ``s^(l + 1)``: the third layer's
    rows fall below float64's normal range, where a product's rounding has no relative bound
    (and some biases round to subnormals). The enumeration passes the exact certificate and the
    count agrees; before, those rows underflowed to zero with a zero bound and were trusted to
    vanish (18 regions, which the certificate refused). The float stages' balanced network
    (rows brought near magnitude 1 by powers of two) has no such rows: it is switched off here,
    and gives the same regions without any exact sign."""
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(6, 2)), rng.normal(size=6)), (rng.normal(size=(6, 6)), rng.normal(size=6)),
              (rng.normal(size=(5, 6)), rng.normal(size=5))]
    s = 2.0 ** exponent
    scaled = [(W * s, b * s ** (l + 1)) for l, (W, b) in enumerate(layers)]
    scaled.append((rng.normal(size=(1, 5)), np.zeros(1)))
    net = rn.Network.from_layers(scaled)
    box = rn.Box([-1, -1], [1, 1])
    with bounds(), unbalanced():
        regions = rn.enumerate_regions(net, box)
        assert rn.count_regions(net, box) == len(regions) and regions.exact_calls > 0
    rn.certify(regions, backend="fractions")
    with bounds():
        balanced = rn.enumerate_regions(net, box)
    assert balanced.exact_calls == 0 and np.array_equal(balanced.packed_patterns, regions.packed_patterns)


def _three_regions_certified(net, box, bounds):
    """Under ``bounds``, the enumeration and the count of ``net`` on ``box`` both find 3 regions,
    and the enumeration passes the exact certificate: with the float stages on the network as
    given (the engine's own handling of values below the normal range) and on its balanced one."""
    for balance in (unbalanced, contextlib.nullcontext):
        with bounds(), balance():
            regions = rn.enumerate_regions(net, box)
            assert len(regions) == 3 and rn.count_regions(net, box) == 3
        rn.certify(regions, backend="fractions")


@UNDERFLOW_BOUNDS
def test_slope_products_below_the_normal_range_are_settled_exactly(bounds):
    """A LeakyReLU slope of 2^-1000 times a row of size 2^-200 underflows; the next layer's
    weight of 2^900 would make the lost part decide a sign (its root at x = 0.5). Found by a
    review: before, 2 regions (the exact answer is 3), and the certificate accepted them."""
    a = 2.0 ** -1000
    net = rn.Network.from_layers([(np.array([[2.0 ** -100]]), np.array([-2.0 ** -100])),
                                  (np.array([[2.0 ** 900]]), np.array([2.0 ** -201])),
                                  (np.array([[1.0]]), np.zeros(1))],
                                 [("leaky_relu", a), ("leaky_relu", a), "identity"])
    _three_regions_certified(net, rn.Box([0.0], [2.0]), bounds)


@UNDERFLOW_BOUNDS
def test_bound_products_below_the_normal_range_are_settled_exactly(bounds):
    """Subnormal first-layer rows (weights 2^-1074) times weights up to 2^600: the rows' products
    stay in range but their bounds' products (the rounding factor times the rows) underflow.
    Found by a review: before, 2 regions, which the certificate refused; the exact answer is 3."""
    t = 2.0 ** -1074
    net = rn.Network.from_layers([(np.array([[t], [t], [t]]), np.zeros(3)),
                                  (np.array([[2.0 ** 600, 2.0 ** 546, -2.0 ** 600]]), np.array([-2.0 ** -529])),
                                  (np.ones((1, 1)), np.zeros(1))])
    _three_regions_certified(net, rn.Box([-1.0], [1.0]), bounds)


@UNDERFLOW_BOUNDS
def test_an_infinite_bound_on_an_off_unit_stays_a_bound(bounds):
    """A unit off on the whole domain whose per-unit bound overflows to infinity (a sparse huge
    row: ``||W_u||_2 ||a||_2`` beyond float64 where ``|W_u| . a`` is not): its zero row carries
    no error into the next layer. Found by a review: the slope 0 times the infinite bound made a
    NaN that turned every bound of the next layer into almost nothing (1 region where the exact
    answer is 2, and the certificate accepted it)."""
    W0 = np.array([[2.0 ** -100], [2.0 ** 900], [2.0 ** 846], [2.0 ** 900]])
    b0 = np.array([2.0 ** -99, 3 * 2.0 ** 900, 2.0 ** 847, 3 * 2.0 ** 900])
    W1 = np.array([[2.0 ** 1000, 0, 0, 0], [0, 1.0, 1.0, 0], [0, 0, 0, 1.0]])  # unit 1 + unit 2 rounds
    b1 = np.array([-2.0 ** 902, 0, 0])
    W2, b2 = np.array([[0, 1.0, -1.0]]), np.array([-2.5 * 2.0 ** 846])  # exactly 2^846 (x - 0.5)
    net = rn.Network.from_layers([(W0, b0), (W1, b1), (W2, b2), (np.ones((1, 1)), np.zeros(1))],
                                 ["relu", "relu", "relu", "identity"])
    box = rn.Box([-1.0], [1.0])
    for balance in (unbalanced, contextlib.nullcontext):  # the network as given, and balanced
        with bounds(), balance():
            assert rn.count_regions(net, box) == 2 and len(rn.enumerate_regions(net, box)) == 2


def test_a_large_slope_after_rows_below_the_normal_range():
    """A LeakyReLU slope of about 2^98 after rows of about 2^-1030: the slope's products are in
    range, but their error bound took the rounding factor times the rows first, which
    underflowed, and the slope then magnified what was lost beyond the absolute terms for
    underflow. Found by a review (also before the per-unit bound): 1 region where the exact
    answer is 2, accepted by the certificate."""
    eta = 2.0 ** -1074
    alpha = float.fromhex("0x1.5555555555555p+98")
    rng = np.random.default_rng(1)
    while True:  # rows h1, h2 = h1 - eta (1 + x) whose float difference times 2^900 misplaces a root
        jt, jx = -float(rng.integers(2 ** 43, 2 ** 44)) * eta, float(rng.integers(2 ** 40, 2 ** 41)) * eta
        kt, kx = jt - eta, jx - eta
        ft = Fraction(alpha * jt) - Fraction(alpha * kt)
        fx = Fraction(alpha * jx) - Fraction(alpha * kx)
        ex = Fraction(alpha) * Fraction(eta)
        bf = float(-Fraction(2) ** 900 * ex * Fraction(2 - 2 ** -20))
        root = -1 - Fraction(bf) / (Fraction(2) ** 900 * ex)
        if -1 < root < 1 and (-Fraction(bf) / Fraction(2) ** 900 - ft) / fx > 1:
            break
    net = rn.Network.from_layers([(np.array([[jx], [kx]]), np.array([jt, kt])),
                                  (np.array([[2.0 ** 900, -2.0 ** 900]]), np.array([bf])),
                                  (np.ones((1, 1)), np.zeros(1))],
                                 [("leaky_relu", alpha), "relu", "identity"])
    expected = regions_1d(net, -1.0, 1.0)
    merged = [p for i, (_, _, p) in enumerate(expected) if i == 0 or expected[i - 1][2] != p]
    assert len(merged) == 2
    for balance in (unbalanced, contextlib.nullcontext):  # the network as given, and balanced
        with balance():
            assert rn.count_regions(net, rn.Box([-1.0], [1.0])) == 2


def test_a_vertex_bound_whose_inverse_overflows_is_not_trusted():
    """A first-layer row of size about 1e-312 (subnormal) meets the box's edge: the crossing's
    float values are below the absolute terms for underflow, so the new vertex is the edge's
    middle with a wide bound, and the kernel tries the tighter bound from its tight rows
    (Rump's, with an approximate inverse). That inverse overflowed to NaN, which ``max`` dropped,
    and the vertex was claimed within 1e-15 where it was 0.013 off: a later unit whose root lies
    between the two was then never split (3 regions where the exact answer is 4, refused by the
    certificate). Found by a fuzz review (rows mixing subnormal and ordinary entries)."""
    a, c, t = 1.0063051e-312, 1.0021375e-313, -8.75787245e-314  # the row a x + c y + t
    W = np.array([[a, c], [1.0, 0.0]])
    net = rn.Network.from_layers([(W, np.array([t, 2.0])), (np.array([[0.0, 1.0]]), np.array([-2.0 + 0.006])),
                                  (np.ones((1, 1)), np.zeros(1))], ["relu", "relu", "identity"])
    box = rn.Box([-1.0, -1.0], [1.0, 1.0])
    # exactly: the first unit's line crosses the second's (x = -0.006) inside the box, so the
    # box falls in four regions
    root = [-(Fraction(t) + Fraction(c) * y) / Fraction(a) for y in (-1, 1)]
    assert root[1] < Fraction(-0.006 + 2.0) - 2 < root[0]
    for balance in (unbalanced, contextlib.nullcontext):  # the network as given, and balanced
        with balance():
            regions = rn.enumerate_regions(net, box)
            assert len(regions) == 4 and rn.count_regions(net, box) == 4
        rn.certify(regions, backend="fractions")
        assert misplaced_vertex(regions, LOOSE) is None
