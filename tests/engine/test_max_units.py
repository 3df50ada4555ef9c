"""Max-type units (maxout, max-pooling): against the LP and 1-D oracles, against ReLU written as
``max(z, 0)``, and the invariants every result keeps."""
import numpy as np
import pytest

import regionenum as rn
from regionenum import constructions
from regionenum.analysis.faces import expected_euler_characteristic
from regionenum.errors import InvalidNetworkError
from tests.oracles import check_against_samples, lp_regions, regions_1d


def maxout_net(d, widths, rank, seed, out=2, bias_std=0.5):
    """Random net of maxout layers (``widths`` maxout units of rank ``rank`` each) and a linear
    output."""
    rng = np.random.default_rng(seed)
    layers, acts, fan_in = [], [], d
    for w in widths:
        layers.append((rng.normal(size=(w * rank, fan_in)), rng.normal(0, bias_std, w * rank)))
        acts.append(("maxout", rank))
        fan_in = w
    layers.append((rng.normal(size=(out, fan_in)), rng.normal(size=out)))
    return rn.Network.from_layers(layers, acts + ["identity"])


def relu_as_max(net):
    """The same function with every ReLU unit ``z`` written as the max of ``z`` and a zero row."""
    layers, acts = [], []
    for layer in net.layers:
        if layer.activation.kind != "relu":
            layers.append((layer.W, layer.b))
            acts.append(layer.activation)
            continue
        n, m = layer.W.shape
        W, b = np.zeros((2 * n, m)), np.zeros(2 * n)
        W[0::2], b[0::2] = layer.W, layer.b
        layers.append((W, b))
        acts.append(("maxout", 2))
    return rn.Network.from_layers(layers, acts)


def _patterns(regions):
    return sorted(tuple(bool(v) for v in p) for p in regions.patterns)


@pytest.mark.parametrize("d,widths,rank,seed", [(2, [5], 2, 0), (2, [4], 3, 1), (2, [3], 5, 2),
                                                (3, [4], 3, 3), (2, [3, 3], 3, 4), (2, [4, 3], 2, 5)])
def test_maxout_matches_lp_reference(d, widths, rank, seed):
    net = maxout_net(d, widths, rank, seed)
    A = np.vstack([np.eye(d), -np.eye(d)])
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(d), np.ones(d)))
    assert _patterns(regions) == lp_regions(net, A, -np.ones(2 * d))
    assert rn.count_regions(net, rn.Box(-np.ones(d), np.ones(d))) == len(regions)


@pytest.mark.parametrize("widths,rank,seed", [([6], 3, 0), ([4, 4], 2, 1), ([3, 3, 3], 4, 2), ([8, 8], 3, 3)])
def test_maxout_1d_matches_exact_breakpoints(widths, rank, seed):
    net = maxout_net(1, widths, rank, seed, out=1)
    regions = rn.enumerate_regions(net, rn.Box([-2.0], [2.0]))
    expected = regions_1d(net, -2.0, 2.0)
    order = np.argsort(regions.interior_points[:, 0])
    assert [tuple(regions.patterns[i]) for i in order] == [p for _, _, p in expected]
    lengths = np.array([float(z - a) for a, z, _ in expected])
    np.testing.assert_allclose(regions.volumes[order], lengths, rtol=1e-9, atol=1e-12)


def test_uneven_groups_match_lp_reference():
    """Groups of different sizes, as max-pooling with padding gives, including a group of one."""
    rng = np.random.default_rng(7)
    act = rn.Activation("max", groups=(1, 3, 2, 4))
    net = rn.Network.from_layers([(rng.normal(size=(10, 2)), rng.normal(size=10)),
                                  (rng.normal(size=(1, 4)), np.zeros(1))], [act, "identity"])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    A = np.vstack([np.eye(2), -np.eye(2)])
    assert _patterns(regions) == lp_regions(net, A, -np.ones(4))
    assert regions.patterns[:, 0].all()  # a group of one always wins


@pytest.mark.parametrize("n0,folds,last", [(1, [4, 4], 3), (2, [4, 4], 3), (2, [6, 4], 4), (3, [6], 4)])
def test_relu_written_as_max_gives_the_same_regions(n0, folds, last):
    """The zig-zag constructions' exact counts and degeneracies, through the max path: ties
    between an argument and a zero row are decided exactly like ReLU signs."""
    c = constructions.montufar(n0, folds, last)
    as_max = relu_as_max(c.network)
    regions = rn.enumerate_regions(as_max, c.domain)
    assert len(regions) == c.count
    relu = rn.enumerate_regions(c.network, c.domain)
    assert np.array_equal(regions.patterns[:, 0::2], relu.patterns)
    np.testing.assert_allclose(regions.volumes, relu.volumes, rtol=1e-9, atol=1e-15)
    assert regions.exact_calls > 0
    faces = regions.faces()
    assert faces.euler_characteristic == 1
    assert faces.f_vector.tolist() == relu.faces().f_vector.tolist()


@pytest.mark.parametrize("eps,expected", [(0.0, 6), (1e-12, 7), (2.0 ** -70, 7), (-2.0 ** -70, 7)])
def test_tiny_triangle_between_ties_is_a_region(eps, expected):
    """A region of area ~1e-42 cut by ties inside float64's band of caution: the exact signs
    decide (in float64 without error, the vertices and rows being exact numbers), and the
    certificate proves the triangle."""
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = rn.Network.from_layers([(W, np.array([0.0, 0.0, -eps])), (np.ones((1, 3)), np.zeros(1))])
    box = rn.Box([-1, -1], [1, 1])
    regions = rn.enumerate_regions(relu_as_max(net), box)
    assert len(regions) == expected
    assert regions.volumes.sum() == pytest.approx(4.0)
    assert regions.faces().euler_characteristic == 1
    rn.certify(regions, backend="fractions")
    if eps:
        assert regions.volumes.min() == pytest.approx(eps ** 2 / 2)


@pytest.mark.parametrize("d,widths,rank,seed", [(2, [6, 6], 3, 0), (3, [4, 4], 2, 1), (2, [16], 4, 2)])
def test_maxout_sampling_volumes_faces_and_graph(d, widths, rank, seed):
    net = maxout_net(d, widths, rank, seed)
    box = rn.Box(-np.ones(d), np.ones(d))
    regions = rn.enumerate_regions(net, box)
    X = np.random.default_rng(seed).uniform(-1, 1, (20000, d))
    check_against_samples(net, box, regions, X)
    assert regions.volumes.sum() == pytest.approx(2.0 ** d, rel=1e-9)
    assert len(np.unique(regions.patterns, axis=0)) == len(regions)
    assert len(np.unique(net.pattern_bits(X), axis=0)) <= len(regions)
    faces = regions.faces()
    assert faces.euler_characteristic == 1
    G = regions.adjacency_graph()
    assert G.number_of_edges() == int((np.diff(faces.by_dim[d - 1].region_offsets) == 2).sum())
    for a, b, data in G.edges(data=True):
        flipped = [net.unit_offsets[l] + j for l, j in data["units"]]
        diff = np.flatnonzero(regions.patterns[a] != regions.patterns[b])
        assert sorted(flipped) == diff.tolist()  # a winner and its tied argument swap
    # the facet equations and their sources: the named argument ties with the winner there
    for i in range(min(len(regions), 50)):
        eq, layers, units = regions.facets_of(i)
        x = regions.interior_points[i]
        assert np.all(eq[:, :-1] @ x + eq[:, -1] < 0)


def test_three_way_tie_at_a_vertex():
    """max(x, y, -x - y): three regions meeting at the origin, where all three arguments tie."""
    net = rn.Network.from_layers([([[1.0, 0], [0, 1], [-1, -1]], [0.0, 0, 0]), ([[1.0]], [0.0])],
                                 [("maxout", 3), "identity"])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    assert len(regions) == 3
    faces = regions.faces()
    assert faces.euler_characteristic == 1
    origin = np.flatnonzero(np.all(np.abs(faces.vertices) < 1e-12, axis=1))
    assert len(origin) == 1
    assert faces.by_dim[0].regions_of(origin[0]).tolist() == [0, 1, 2]
    assert regions.adjacency_graph().number_of_edges() == 3


def test_duplicate_arguments_tie_to_the_first():
    """An argument repeated in its group never wins: the regions are those without it."""
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(6, 2)), rng.normal(size=6)
    dup_W, dup_b = np.insert(W, [2, 5], W[[1, 3]], axis=0), np.insert(b, [2, 5], b[[1, 3]])
    plain = rn.Network.from_layers([(W, b), (np.ones((1, 2)), np.zeros(1))], [("maxout", 3), "identity"])
    dup = rn.Network.from_layers([(dup_W, dup_b), (np.ones((1, 2)), np.zeros(1))],
                                 [rn.Activation("max", groups=(4, 4)), "identity"])
    box = rn.Box([-2, -2], [2, 2])
    r_plain, r_dup = rn.enumerate_regions(plain, box), rn.enumerate_regions(dup, box)
    assert len(r_plain) == len(r_dup)
    assert not r_dup.patterns[:, [2, 6]].any()  # the second copies never win
    assert r_dup.faces().euler_characteristic == 1


def test_max_on_whole_plane_and_unbounded_pieces_merge():
    rng = np.random.default_rng(5)
    net = rn.Network.from_layers([(rng.normal(size=(12, 2)), rng.normal(size=12)),
                                  (rng.normal(size=(1, 4)), np.zeros(1))], [("maxout", 3), "identity"])
    whole = rn.Polytope.whole_space(2)
    regions = rn.enumerate_regions(net, whole)
    big = rn.Box([-1e3, -1e3], [1e3, 1e3])
    inner = rn.enumerate_regions(net, big)
    assert len(regions) == len(inner)  # every region of this arrangement meets the big box
    assert int(rn.count_regions(net, whole)) == len(regions)
    assert regions.faces().euler_characteristic == expected_euler_characteristic(whole)


def test_max_layer_as_last_layer_and_analyses():
    """A network whose output is a max: its maps are the winners'; linear and decision regions
    work on max networks."""
    rng = np.random.default_rng(11)
    net = rn.Network.from_layers([(rng.normal(size=(8, 2)), rng.normal(size=8)),
                                  (rng.normal(size=(6, 4)), rng.normal(size=6))],
                                 [("maxout", 2), ("maxout", 3)])
    assert net.output_dim == 2
    box = rn.Box([-1, -1], [1, 1])
    regions = rn.enumerate_regions(net, box)
    check_against_samples(net, box, regions, np.random.default_rng(0).uniform(-1, 1, (5000, 2)))
    linear = regions.linear_regions()
    assert len(linear) <= len(regions)
    dec = regions.decision_regions()
    assert dec.volumes.sum() == pytest.approx(4.0, rel=1e-9)
    X = np.random.default_rng(1).uniform(-1, 1, (2000, 2))
    piece_of = dec.piece_label  # every sampled point's class is its decision region's class
    cls = np.argmax(net(X), axis=1)
    regions_of = regions.locate(X)
    for i in range(200):
        candidates = np.flatnonzero(dec.piece_region == regions_of[i])
        assert cls[i] in dec.piece_class[candidates]
    assert len(piece_of) == len(dec.piece_region)


def test_max_networks_round_trip_through_files(tmp_path):
    net = maxout_net(2, [3], 3, 0)
    rn.save(tmp_path / "net.npz", net)
    back, _ = rn.load(tmp_path / "net.npz")
    assert back.layers[0].activation == net.layers[0].activation
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    regions.save(tmp_path / "regions.npz")
    loaded = rn.load_regions(tmp_path / "regions.npz")
    assert np.array_equal(loaded.patterns, regions.patterns)
    assert loaded.adjacency_graph().number_of_edges() == regions.adjacency_graph().number_of_edges()
    skip = rn.Network.from_layers([(np.vstack([np.ones((3, 2)), np.eye(2)]), np.arange(5.0)),
                                   (np.ones((1, 5)), np.zeros(1))],
                                  [rn.Activation("leaky_relu", 0.1, linear=(3, 4)), "identity"])
    rn.save(tmp_path / "skip.npz", skip)
    back, _ = rn.load(tmp_path / "skip.npz")
    assert back.layers[0].activation == skip.layers[0].activation and back.n_units == 3


def test_bad_max_layers_are_refused():
    W = np.ones((6, 2))
    with pytest.raises(InvalidNetworkError, match="layer 0: maxout of rank 4"):
        rn.Network.from_layers([(W, np.zeros(6)), (np.ones((1, 1)), np.zeros(1))], [("maxout", 4), "identity"])
    with pytest.raises(InvalidNetworkError, match="layer 0: max groups cover 5 units but the layer has 6"):
        rn.Network.from_layers([(W, np.zeros(6)), (np.ones((1, 2)), np.zeros(1))],
                               [("max", (2, 3)), "identity"])
    with pytest.raises(InvalidNetworkError, match="layer 1: W takes 6 inputs but layer 0 gives 3"):
        rn.Network.from_layers([(W, np.zeros(6)), (np.ones((1, 6)), np.zeros(1))], [("maxout", 2), "identity"])
    with pytest.raises(InvalidNetworkError, match="groups of at least one unit"):
        rn.Activation("max", groups=(2, 0))
    with pytest.raises(InvalidNetworkError, match="linear units must be unit indices of a relu"):
        rn.Activation("max", groups=(2,), linear=(0,))
    with pytest.raises(InvalidNetworkError, match="layer 0: linear unit 7 is past the layer's 6 units"):
        rn.Network.from_layers([(W, np.zeros(6)), (np.ones((1, 6)), np.zeros(1))],
                               [rn.Activation("relu", linear=(7,)), "identity"])


def test_a_count_of_max_pooled_relus_decides_their_ties_as_exact_zeros():
    """Max-pooling after ReLU: the rows of the units that are off are exactly zero, and only the
    unit-by-unit bound shows their errors are zero too. A count (which computes that bound only
    where signs escape the float64 filter) sent each tie among them to exact arithmetic: 5,075
    signs here against 763 for the enumeration, and on the README's max-pooling network none of
    its batches was decided after minutes. Now both decide the same signs at the same stages."""
    rng = np.random.default_rng(0)
    w = 32
    layers = [(rng.normal(size=(w, 2)), rng.normal(size=w) * 0.3), (np.eye(w), np.zeros(w)),
              (rng.normal(size=(16, w // 4)) / 2, rng.normal(size=16) * 0.1),
              (rng.normal(size=(1, 16)), np.zeros(1))]
    net = rn.Network.from_layers(layers, ["relu", ("maxout", 4), "relu", "identity"])
    box = rn.Box([-1, -1], [1, 1])
    counted, regions = rn.count_regions(net, box), rn.enumerate_regions(net, box)
    assert int(counted) == len(regions)
    assert counted.sign_stages == regions.sign_stages
    assert regions.sign_stages["exact zeros"] > 10 * regions.sign_stages["exact arithmetic"]
