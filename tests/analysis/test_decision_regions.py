"""Decision regions: a linear-classifier LP oracle, tiling, sampling, ties and the boundary."""
import importlib
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

import regionenum as rn
from tests.oracles import random_net

DIGITS = Path(rn.__file__).parent / "data" / "digits_plane.npz"


def _winning_classes_lp(A, box_lo, box_hi):
    """Classes of the linear classifier y = A [1, x] that win on a set with interior in the
    box: maximise the margin t with y_c - y_j >= t for all j."""
    k, D = A.shape
    out = []
    for c in range(k):
        rows = [np.r_[-(A[c, 1:] - A[j, 1:]), 1.0] for j in range(k) if j != c]
        rhs = [A[c, 0] - A[j, 0] for j in range(k) if j != c]
        res = linprog(np.r_[np.zeros(D - 1), -1.0], A_ub=np.array(rows), b_ub=np.array(rhs),
                      bounds=list(zip(box_lo, box_hi)) + [(None, 1.0)], method="highs")
        if res.status == 0 and -res.fun > 1e-9:
            out.append(c)
    return out


def test_linear_classifier_matches_lp():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        W = rng.normal(size=(7, 2))
        b = rng.normal(size=7) * 0.5
        net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (W, b)], activations=["identity", "identity"])
        regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
        dec = regions.decision_regions()
        expected = _winning_classes_lp(np.c_[b, W], [-1, -1], [1, 1])
        assert sorted(dec.classes.tolist()) == expected  # one convex region per winning class


def _check_tiling_and_samples(net, domain, n_samples=20000, seed=0):
    regions = rn.enumerate_regions(net, domain)
    dec = regions.decision_regions()
    # pieces tile each region, decision regions tile the domain
    per_region = np.bincount(dec.piece_region, weights=dec.piece_volume, minlength=len(regions))
    np.testing.assert_allclose(per_region, regions.volumes, rtol=1e-9)
    assert dec.volumes.sum() == pytest.approx(domain.volume(), rel=1e-9)
    # every piece's vertices have its class on top (up to rounding)
    J = np.concatenate([regions.offsets[:, :, None], regions.jacobians], axis=2)
    for p in range(0, len(dec.piece_class), max(1, len(dec.piece_class) // 60)):
        cells = np.flatnonzero(dec.piece_cells == p)
        for c in cells:
            G = dec.pieces.gens[dec.pieces.gen_off[c]: dec.pieces.gen_off[c + 1]]
            Y = G @ J[dec.piece_region[p]].T
            assert np.all(Y[:, dec.piece_class[p]] >= Y.max(axis=1) - 1e-9 * (1 + np.abs(Y).max()))
    # sampled points: their class wins on a piece of their region; class areas agree
    lo, hi = domain.bounds
    X = np.random.default_rng(seed).uniform(lo, hi, (n_samples, net.input_dim))
    X = X[domain.contains(X)]
    cls = np.argmax(net(X), axis=1)
    r = regions.locate(X)
    have = set(zip(dec.piece_region.tolist(), dec.piece_class.tolist()))
    assert all((a, b) in have for a, b in zip(r.tolist(), cls.tolist()))
    box_vol = np.prod(hi - lo)
    for c in np.unique(cls):
        share = np.mean(cls == c) * len(X) / n_samples * box_vol
        exact = dec.volumes[dec.classes == c].sum()
        assert abs(share - exact) <= 5 * np.sqrt(box_vol * exact / n_samples) + 1e-9
    # boundary facets: their two classes tie at the facet's vertices, above the others
    for (a, b), lo_, hi_ in zip(dec.boundary_pieces, dec.boundary_vertex_offsets[:-1],
                                dec.boundary_vertex_offsets[1:]):
        V = dec.boundary_vertices[lo_:hi_]
        Y = V @ J[dec.piece_region[a]][:, 1:].T + J[dec.piece_region[a]][:, 0]
        ca, cb = dec.piece_class[a], dec.piece_class[b]
        np.testing.assert_allclose(Y[:, ca], Y[:, cb], atol=1e-8 * (1 + np.abs(Y).max()))
    return regions, dec


def test_digits_classifier_on_its_plane():
    net, box = rn.load(DIGITS)
    regions, dec = _check_tiling_and_samples(net, box)
    assert len(set(dec.classes.tolist())) >= 3  # the plane runs through three digits' images
    G = dec.adjacency_graph()
    assert G.number_of_nodes() == len(dec)
    for a, b, data in G.edges(data=True):
        assert data["volume"] > 0 and G.nodes[a]["class_"] != G.nodes[b]["class_"]
    lines = dec.polylines()
    assert sum(len(p) - 1 for p in lines) == len(dec.boundary_volumes)
    total = sum(np.linalg.norm(np.diff(p, axis=0), axis=1).sum() for p in lines)
    assert total == pytest.approx(dec.boundary_volumes.sum(), rel=1e-9)


@pytest.mark.parametrize("d,seed", [(2, 1), (3, 2)])
def test_random_classifiers(d, seed):
    net = random_net([d, 12, 12, 4], seed)
    _check_tiling_and_samples(net, rn.Box(-np.ones(d), np.ones(d)), seed=seed)


def test_unbounded_domain_and_ties_everywhere():
    net = random_net([2, 8, 8, 3], 3)
    last = net.layers[-1]
    W = np.vstack([last.W, last.W[1]])  # output 3 repeats output 1: it never wins (argmax)
    b = np.r_[last.b, last.b[1]]
    twin = rn.Network.from_layers([(l.W, l.b) for l in net.layers[:-1]] + [(W, b)])
    regions = rn.enumerate_regions(twin, rn.Polytope(np.array([[1.0, 1.0]]), np.array([-1.0])))
    dec = regions.decision_regions()
    assert 3 not in dec.classes.tolist() and 1 in dec.classes.tolist()
    assert np.all(np.isinf(dec.volumes) | (dec.volumes > 0))


def test_one_logit_is_a_binary_classifier():
    one = random_net([2, 6, 1], 4)
    regions = rn.enumerate_regions(one, rn.Box([-1, -1], [1, 1]))
    dec = regions.decision_regions()  # class 1 where the logit is positive
    X = np.random.default_rng(0).uniform(-1, 1, (20000, 2))
    positive = one(X)[:, 0] > 0
    assert dec.volumes[dec.classes == 1].sum() / 4 == pytest.approx(positive.mean(), abs=0.01)
    assert dec.volumes.sum() == pytest.approx(4.0)
    # the boundary is the zero level set of the logit
    assert dec.boundary_volumes.sum() == pytest.approx(regions.level_set(0.0).volume, rel=1e-9)


def test_bad_requests():
    three = rn.enumerate_regions(random_net([3, 6, 3], 5), rn.Box(-np.ones(3), np.ones(3)))
    with pytest.raises(rn.RegionEnumError, match="2-D"):
        three.decision_regions().polylines()


def _grid_components(net, lo, hi, m=401):
    """Independent count: label a fine grid by argmax (ties to the lower class, as numpy does)
    and count the connected components of each class (4-neighbourhood)."""
    from scipy import ndimage
    xs = np.linspace(lo, hi, m)
    X = np.stack(np.meshgrid(xs, xs, indexing="ij"), axis=-1).reshape(-1, 2)
    labels = np.argmax(net(X), axis=1).reshape(m, m)
    return sorted((c, ndimage.label(labels == c)[1]) for c in np.unique(labels))


@pytest.mark.parametrize("W2", [np.eye(2), np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])])
def test_classes_tied_everywhere_on_a_region_join_their_neighbours(W2):
    """Where every output is 0 (both units off), every class ties and the lowest wins; that
    region must join the neighbouring regions the same class wins, across their facets."""
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (W2, np.zeros(len(W2)))])
    dec = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).decision_regions()
    found = sorted((int(c), int((dec.classes == c).sum())) for c in np.unique(dec.classes))
    assert found == _grid_components(net, -1, 1)
    assert dec.volumes[dec.classes == 0].sum() == pytest.approx(2.5)


def test_decision_regions_take_the_sign_band():
    """A wider band settles more output differences exactly and gives the same regions."""
    net = random_net([2, 6, 6, 3], 4)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    narrow, wide = regions.decision_regions(), regions.decision_regions(tol=1e-4)
    assert narrow.classes.tolist() == wide.classes.tolist()
    np.testing.assert_allclose(narrow.volumes, wide.volumes, rtol=1e-12)
    with pytest.raises(rn.RegionEnumError, match="tol must be"):
        regions.decision_regions(tol=0.5)


def _named_one_by_one(inst, sel, winner, cell_tied, pair_start):
    """The facets of the pieces as the names make them, one facet instance at a time: the
    face of the regions and the set of classes tied on it, numbered by first occurrence, and
    each facet's first instance."""
    from regionenum.analysis.faces import group_faces
    face, _ = group_faces(sel, inst.names)
    tight_off, tight = inst.faces.tight_off, inst.faces.tight
    named, first, out = {}, [], []
    for i, (f, g) in enumerate(zip(sel.tolist(), face.tolist())):
        c = int(winner[i])
        t = tight[tight_off[f]: tight_off[f + 1]]
        hyp = (t[t >= pair_start] - pair_start).tolist()
        everywhere = np.flatnonzero(cell_tied[inst.faces.cell[f]]).tolist()
        tied = frozenset([c, *everywhere, *(h + (h >= c) for h in hyp)])
        if (g, tied) not in named:
            named[g, tied] = len(named)
            first.append(i)
        out.append(named[g, tied])
    return np.array(out, np.int64), np.array(first, np.int64)


@pytest.mark.parametrize("case", ["three_classes", "five_classes_3d", "repeated_output_halfplane", "logit_plane",
                                  "all_tied"])
def test_facets_named_at_once_are_those_named_one_by_one(monkeypatch, case):
    """The pieces' facets are named by array operations over all facet instances at once: the
    decision regions and their boundary (rows, order, pieces, vertices) equal those from naming
    the instances one at a time, with ties along facets, on whole cells and on unbounded
    domains; each boundary row holds its two pieces in increasing order."""
    module = importlib.import_module("regionenum.analysis.decision_regions")  # the package exports the function
    square = rn.Box([-1, -1], [1, 1])
    base = random_net([2, 8, 8, 3], 3)
    twin = rn.Network.from_layers([(l.W, l.b) for l in base.layers[:-1]]
                                  + [(np.vstack([base.layers[-1].W, base.layers[-1].W[1]]),
                                      np.r_[base.layers[-1].b, base.layers[-1].b[1]])])
    net, domain = {
        "three_classes": (random_net([2, 10, 10, 3], 7), square),
        "five_classes_3d": (random_net([3, 8, 8, 5], 8), rn.Box(-np.ones(3), np.ones(3))),
        "repeated_output_halfplane": (twin, rn.Polytope(np.array([[1.0, 1.0]]), np.array([-1.0]))),
        "logit_plane": (random_net([2, 8, 8, 1], 9), rn.Polytope.whole_space(2)),
        "all_tied": (rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.array([[1.0, 0.0], [1.0, 0.0],
                                                                                   [0.0, 1.0]]), np.zeros(3))]),
                     square),
    }[case]
    regions = rn.enumerate_regions(net, domain)
    at_once = regions.decision_regions()
    monkeypatch.setattr(module, "_facets_of_pieces", _named_one_by_one)
    one_by_one = regions.decision_regions()
    assert len(at_once.boundary_volumes) > 0
    for name in ("piece_cells", "piece_region", "piece_class", "piece_volume", "piece_label", "classes", "volumes",
                 "boundary_classes", "boundary_pieces", "boundary_volumes", "boundary_vertex_offsets",
                 "boundary_vertices"):
        a, b = getattr(at_once, name), getattr(one_by_one, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert np.all(at_once.boundary_pieces[:, 0] < at_once.boundary_pieces[:, 1])
