"""Exact products on residues (regionenum.core.modular) against Python integers."""
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regionenum as rn
from regionenum.core.exact import ExactNetwork, dyadic_integers
from regionenum.core.modular import PiecedMatrix, ResidueSystem, dyadic_parts, dyadic_shift


def _random_ints(rng, shape, bits):
    out = np.empty(shape, dtype=object)
    out.ravel()[:] = [rng.getrandbits(bits) - (1 << (bits - 1)) for _ in range(out.size)]
    return out


@pytest.mark.parametrize("terms,spread", [(1, 0), (3, 10), (130, 20), (513, 40), (4, 2000), (40, 600)])
def test_pieced_products_equal_integer_products(terms, spread):
    """Matrices whose exponents span up to 2000 bits (many pieces), zeros, signs, every row or
    one: the residues reconstruct the exact integer product."""
    rng, py = np.random.default_rng(terms + spread), random.Random(terms)
    values = rng.normal(size=(9, terms)) * 2.0 ** rng.integers(-spread // 2 - 1, spread // 2 + 1, size=(9, terms))
    values[rng.random(values.shape) < 0.2] = 0.0
    ints, shift = dyadic_integers(values)
    M = _random_ints(py, (terms, 3), 400)
    bits = max(int(abs(v)).bit_length() for v in ints.dot(M).ravel()) + 1
    system = ResidueSystem(bits, terms)
    odd, exp = dyadic_parts(values)
    H = PiecedMatrix(odd, exp + shift, system)
    residues = system.of_ints(M)
    assert (system.to_ints(residues) == M).all()
    assert (system.to_ints(H.times(residues)) == ints.dot(M)).all()
    assert (system.to_ints(H.row_times(4, residues)) == ints.dot(M)[4]).all()
    for cols in ([terms - 1], sorted(py.sample(range(terms), min(terms, 3))), list(range(terms))):
        # a few columns (each piece scaled first, one product) or many (a product per piece)
        cols = np.array(cols)
        expected = ints[:, cols].dot(M[cols])
        assert (system.to_ints(H.times(residues[cols], columns=cols)) == expected).all()


def test_extreme_entries_and_dot_products_at_the_limit():
    """The largest residues in every place (every prime minus one) on the longest dot product
    the system was built for, and values at the ends of float64's range, subnormals included."""
    terms = 1000
    system = ResidueSystem(300, terms)
    values = np.full((2, terms), -(2.0 ** 53 - 1) * 2.0 ** 40)  # odd mantissas of 53 bits
    values[1, ::2] = 2.0 ** -1074
    values[1, 1::2] = np.finfo(np.float64).max / 2 ** 900
    ints, shift = dyadic_integers(values)
    odd, exp = dyadic_parts(values)
    H = PiecedMatrix(odd, exp + shift, ResidueSystem(shift + 1200, terms))
    sys2 = H.system
    top = np.array([[p - 1 for p in sys2.primes]] * terms, dtype=np.float64).reshape(terms, 1, -1)
    exact = sys2.to_ints(top)  # the integers those residues stand for
    assert (sys2.to_ints(H.times(top)) == ints.dot(exact)).all()
    few = np.arange(terms // len(H._pieces))  # as many columns as the scaled-first product may take
    assert len(few) * len(H._pieces) <= terms < (len(few) + 1) * len(H._pieces) * 2
    assert (sys2.to_ints(H.times(top[few], columns=few)) == ints[:, few].dot(exact[few])).all()
    for x in (2 ** 52 - 1, -(2 ** 52 - 1), 2 ** 51 + 12345, 0):
        r = system.reduce(np.full(system.count, float(x)))
        assert all((int(v) - x) % p == 0 and abs(v) < p for v, p in zip(r, system.primes))


def test_dyadic_parts_are_exact():
    values = np.array([0.0, 1.0, -0.75, 3.0 * 2 ** 60, 2.0 ** -1074, -np.finfo(float).max, 0.1])
    odd, exp = dyadic_parts(values)
    assert all(o % 2 == 1 or o == 0 for o in odd.tolist())
    assert [Fraction(int(o)) * Fraction(2) ** int(e) for o, e in zip(odd, exp)] == [Fraction(v) for v in values]
    assert dyadic_shift(odd, exp) == 1074
    assert dyadic_shift(*dyadic_parts([0.5, 2.0, 0.0])) == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10 ** 6), st.sampled_from([0, 8, 60, 300]), st.sampled_from(["relu", "leaky", "max"]))
def test_exact_rows_equal_fractions(seed, spread, act):
    """ExactNetwork's rows (residues, recovered by the Chinese remainder theorem) equal a Fraction
    computation on networks with mixed magnitudes (entries spanning 2**spread), on random
    patterns: the bound that sizes the primes covers every entry."""
    rng = np.random.default_rng(seed)
    if act == "max":  # maxout groups of 3, then of 2
        shapes, acts = [(6, 2), (4, 2), (1, 2)], [("maxout", 3), ("maxout", 2), "identity"]
    else:
        shapes = [(5, 2), (4, 5), (3, 4)]
        acts = [("leaky_relu", 2.0 ** -70) if act == "leaky" else "relu"] * 2 + ["identity"]
    layers = [(rng.normal(size=s) * 2.0 ** rng.integers(-spread, spread + 1, size=s),
               rng.normal(size=s[0]) * 2.0 ** rng.integers(-spread, spread + 1, size=s[0])) for s in shapes]
    net = rn.Network.from_layers(layers, acts)
    bits = rng.random(net.n_units) < 0.5
    for l, layer in enumerate(net.layers):  # a max group's bits: one winner
        if layer.activation.kind == "max":
            o = net.unit_offsets[l]
            for start, k in zip(layer.activation.group_starts, layer.activation.groups):
                bits[o + start: o + start + k] = np.arange(k) == rng.integers(k)
    exact = ExactNetwork(net)
    x = [Fraction(1), Fraction(0), Fraction(0)], [Fraction(0), Fraction(1), Fraction(0)], \
        [Fraction(0), Fraction(0), Fraction(1)]
    rows = [list(r) for r in x]  # over (t, x): t, x1, x2
    for l, layer in enumerate(net.layers):
        pre = [[Fraction(float(layer.b[u])) * rows[0][k]
                + sum(Fraction(float(layer.W[u, i])) * rows[1 + i][k] for i in range(layer.W.shape[1]))
                for k in range(3)] for u in range(layer.width)]
        E = exact.rows(l, bits)
        scale = Fraction(int(E[0, 0]))
        assert [[Fraction(int(v)) / scale for v in row] for row in E[1:]] == pre
        outputs = []
        slope = Fraction(layer.activation.off_slope)
        o = net.unit_offsets[l]
        if layer.activation.kind == "max":
            for start, k in zip(layer.activation.group_starts, layer.activation.groups):
                w = start + int(np.flatnonzero(bits[o + start: o + start + k])[0])
                outputs.append(pre[w])
        else:
            units = list(net.split_units[l])
            for u in range(layer.width):
                on = u not in units or bits[o + units.index(u)]
                outputs.append(pre[u] if on else [v * slope for v in pre[u]])
        rows = [rows[0]] + outputs


@pytest.mark.parametrize("act", ["relu", ("leaky_relu", 0.1), ("maxout", 2)])
def test_rows_updated_from_the_previous_cell_equal_rows_computed_afresh(act):
    """Patterns met one after another, each one to three bits from the last (neighbouring
    cells), or all new: one ExactNetwork updates a layer's product from its previous one where
    few inputs changed; every row equals a fresh ExactNetwork's, and updates did happen."""
    rng = np.random.default_rng(7)
    width = 12
    units = 2 * width if act == ("maxout", 2) else width  # a maxout layer's width is its groups'
    layers = [(rng.normal(size=(units, 2)), rng.normal(size=units))]
    layers += [(rng.normal(size=(units, width)) * 2.0 ** 30, rng.normal(size=units)) for _ in range(3)]
    layers.append((rng.normal(size=(1, width)), rng.normal(size=1)))
    net = rn.Network.from_layers(layers, [act] * 4 + ["identity"])
    exact = ExactNetwork(net)
    updates = []
    times = PiecedMatrix.times

    def spy(self, m, columns=None):
        updates.append(columns is not None)
        return times(self, m, columns)

    def valid(bits):  # one winner per max group
        for l, layer in enumerate(net.layers):
            if layer.activation.kind == "max":
                o = net.unit_offsets[l]
                for start, k in zip(layer.activation.group_starts, layer.activation.groups):
                    if not bits[o + start: o + start + k].any():
                        bits[o + start] = True
                    first = o + start + int(np.flatnonzero(bits[o + start: o + start + k])[0])
                    bits[o + start: o + start + k] = False
                    bits[first] = True
        return bits

    bits = valid(rng.random(net.n_units) < 0.5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PiecedMatrix, "times", spy)
        for step in range(40):
            if step % 10 == 9:
                bits = valid(rng.random(net.n_units) < 0.5)
            else:
                bits = bits.copy()
                bits[rng.choice(net.n_units, size=rng.integers(1, 4), replace=False)] ^= True
                bits = valid(bits)
            for l in range(len(net.layers) + 1):
                assert (exact.rows(l, bits) == ExactNetwork(net).rows(l, bits)).all()
    assert any(updates)


def test_the_caches_keep_to_their_memory(monkeypatch):
    """Everything an ExactNetwork keeps after its first question (recent layers, the layers'
    previous products, single integer rows) stays within its budgets, made small here, on a
    network with many inputs asked about many patterns."""
    import tracemalloc

    from regionenum.core import exact
    monkeypatch.setattr(exact, "CACHE_BYTES", 2 << 20)
    monkeypatch.setattr(exact, "ROW_CACHE_BYTES", 1 << 20)
    rng = np.random.default_rng(1)
    net = rn.Network.from_layers([(rng.normal(size=(40, 300)), rng.normal(size=40)),
                                  (rng.normal(size=(40, 40)), rng.normal(size=40)),
                                  (rng.normal(size=(40, 40)), rng.normal(size=40)),
                                  (rng.normal(size=(1, 40)), rng.normal(size=1))])
    net_exact = ExactNetwork(net)
    patterns = [rng.random(net.n_units) < 0.5 for _ in range(12)]
    net_exact.rows(0, patterns[0])  # the integer layers, built on the first question
    tracemalloc.start()
    try:
        for bits in patterns:
            net_exact.rows(3, bits)
            for k in rng.choice(net.n_units, size=20, replace=False):
                net_exact.constraint_row(int(k), bits)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert (2 << 20) < held <= 1.2 * ((2 << 20) + (1 << 20))


def test_a_system_whose_primes_cannot_reach_the_bound_is_refused():
    """Dot products of 2**19 terms leave primes of 16 bits, too few for 100,000-bit integers: a
    clear error, never a modulus short of the bound."""
    with pytest.raises(ValueError, match="do not reach"):
        ResidueSystem(100_000, 2 ** 19 + 1)
    system = ResidueSystem(20_000, 2 ** 19 + 1)  # within reach: the round trip is exact
    x = 2 ** 20_000 - 1
    assert system.to_ints(system.of_ints([x, -x])).tolist() == [x, -x]
