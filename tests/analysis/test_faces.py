"""Faces of the subdivision and the region adjacency graph: Euler relation, facet sharing,
boundary measure, and adjacency against an independent vertex-coordinate oracle."""
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import regionenum as rn
from regionenum import constructions
from regionenum.analysis.faces import expected_euler_characteristic
from tests.oracles import random_net

DIGITS = Path(rn.__file__).parent / "data" / "digits_plane.npz"


def _copy_units_net():
    """Layer 2 copies layer 1 (ReLU(ReLU(z)) = ReLU(z)): the copies are identically zero on
    half the domain and flip together with their originals."""
    W1 = np.array([[1.0, 0.3], [-0.2, 1.0], [0.7, -0.6]])
    b1 = np.array([0.1, -0.2, 0.05])
    return rn.Network.from_layers([(W1, b1), (np.eye(3), np.zeros(3)), (np.ones((1, 3)), np.zeros(1))])


def _degenerate_nets():
    twin = rn.Network.from_layers([  # a unit and its exact repeat, a parallel one, a dead one
        (np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]),
         np.array([0.0, 0.0, 0.5, 0.0, -1.0])),
        (np.ones((1, 5)), np.zeros(1))])
    corner = rn.Network.from_layers([  # lines through box corners and along its edges
        (np.array([[1.0, -1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 0.0, -1.0, 1.0])),
        (np.ones((1, 4)), np.zeros(1))])
    zero_layer = rn.Network.from_layers([  # a layer that kills everything
        (np.array([[1.0, 0.5], [-0.3, 1.0]]), np.zeros(2)), (np.zeros((2, 2)), np.zeros(2)),
        (np.ones((1, 2)), np.zeros(1))])
    cube = rn.Network.from_layers([  # 3-D: planes through cube edges, repeated, then copied
        (np.array([[1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]),
         np.array([0.0, 0.0, -1.0, -0.5, 0.0])),
        (np.eye(5), np.zeros(5)), (np.ones((1, 5)), np.zeros(1))])
    square, cube3 = rn.Box([-1, -1], [1, 1]), rn.Box(-np.ones(3), np.ones(3))
    unit2, unit3 = rn.Box([0, 0], [1, 1]), rn.Box(np.zeros(3), np.ones(3))
    return [(twin, square), (corner, square), (zero_layer, square), (_copy_units_net(), square),
            (constructions.montufar(2, [4], 3).network, unit2), (cube, cube3),
            (constructions.montufar(3, [6], 3).network, unit3)]


CASES = [
    (random_net([2, 16, 16, 2], 0), rn.Box([-1, -1], [1, 1])),
    (random_net([2, 12, 12, 1], 1), rn.Polytope(np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]),
                                                np.array([-1.0, -0.5, -0.5]))),
    (random_net([3, 10, 10, 2], 2), rn.Box(-np.ones(3), np.ones(3))),
    (random_net([2, 10, 1], 3), rn.Polytope.whole_space(2)),
    (random_net([3, 8, 8, 1], 4), rn.Polytope.whole_space(3)),
    (random_net([2, 8, 8, 1], 5), rn.Polytope(np.array([[0.0, -1.0]]), np.array([0.0]))),  # half-plane
    (random_net([1, 8, 8, 1], 6), rn.Box([-2.0], [2.0])),
    (rn.load(DIGITS)[0], rn.load(DIGITS)[1]),
    (random_net([2, 2, 1], 0), rn.Polytope(  # cells of more than 64 vertices
        np.c_[np.cos(np.arange(300) * np.pi / 150), np.sin(np.arange(300) * np.pi / 150)], -np.ones(300))),
] + _degenerate_nets()
IDS = ["random2d", "triangle", "random3d", "plane", "space3d", "halfplane", "line", "digits", "polygon300",
       "repeated", "corners", "zero_layer", "copy_units", "montufar", "cube_edges", "montufar3d"]


@pytest.mark.parametrize("net,domain", CASES, ids=IDS)
def test_euler_relation_and_facet_sharing(net, domain):
    regions = rn.enumerate_regions(net, domain)
    faces = regions.faces()
    assert faces.f_vector[-1] == len(regions)
    assert faces.euler_characteristic == expected_euler_characteristic(domain)
    d = net.input_dim
    facets = faces.by_dim[d - 1]
    around = np.diff(facets.region_offsets)
    # an interior facet has exactly two regions, a boundary facet one
    assert np.all(around[~facets.on_boundary] == 2)
    assert np.all(around[facets.on_boundary] == 1)
    # every face of dimension k < d - 1 lies in at least two facets' worth of regions
    for k in range(d - 1):
        assert np.all(np.diff(faces.by_dim[k].region_offsets) >= 1)
    # vertices: each is a vertex of every region around it
    for v in range(0, len(faces.vertices), max(1, len(faces.vertices) // 40)):
        for r in faces.by_dim[0].regions_of(v):
            if regions.bounded[r]:
                dist = np.abs(regions.vertices_of(r) - faces.vertices[v]).max(axis=1).min()
                assert dist <= 1e-9 * max(1.0, np.abs(faces.vertices[v]).max())


@pytest.mark.parametrize("net,domain", CASES, ids=IDS)
def test_graph_degrees_boundary_and_flips(net, domain):
    regions = rn.enumerate_regions(net, domain)
    G = regions.adjacency_graph()
    d = net.input_dim
    facets = regions.faces(min_dim=d - 1).by_dim[d - 1]
    assert G.number_of_nodes() == len(regions)
    assert nx.is_connected(G)
    per_region = np.bincount(facets.region_ids, minlength=len(regions))
    for r in G.nodes:
        assert per_region[r] == G.degree[r] + len(G.nodes[r]["boundary_facets"])
    for a, b, data in G.edges(data=True):
        flipped = np.flatnonzero(G.nodes[a]["pattern"] != G.nodes[b]["pattern"])
        named = [net.unit_offsets[l] + u for l, u in data["units"]]
        assert sorted(named) == list(flipped) and len(flipped) > 0
        assert set(data["units"]) <= set(data["tight"])
        assert data["volume"] > 0


def test_graph_objects_go_to_the_collectors_oldest_generation():
    """The graph's dicts and lists are moved to the cyclic collector's oldest generation once
    built, not left for the next young collections to scan; objects the program froze itself
    stay frozen (and the graph's then stay young)."""
    import gc
    regions = rn.enumerate_regions(random_net([2, 6, 6, 1], 3), rn.Box([-1, -1], [1, 1]))
    G = regions.adjacency_graph()
    made = [G._node[0], G._node[0]["boundary_facets"], G._adj[0]]
    assert all(gc.is_tracked(o) for o in made)
    young = {id(o) for generation in (0, 1) for o in gc.get_objects(generation=generation)}
    assert not any(id(o) in young for o in made)
    assert sum(any(o is m for m in made) for o in gc.get_objects(generation=2)) == 3
    held = [[] for _ in range(10)]  # the program's own
    gc.freeze()
    try:
        G = regions.adjacency_graph()
        generations = [{id(o) for o in gc.get_objects(generation=g)} for g in (0, 1, 2)]
        assert not any(id(h) in ids for h in held for ids in generations)  # still frozen
        assert id(G._node[0]) in generations[0] | generations[1]
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("case", [0, 2, 9, 15], ids=["random2d", "random3d", "repeated", "montufar3d"])
def test_graph_is_the_one_networkx_would_build(case):
    """The graph is written into networkx's own dicts: it must equal, attribute for attribute,
    the graph networkx builds from the same nodes and edges, share each edge's dict between its
    two directions, and stay a working graph when edited."""
    net, domain = CASES[case]
    regions = rn.enumerate_regions(net, domain)
    G = regions.adjacency_graph()
    H = nx.Graph()
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(G.edges(data=True))
    assert nx.utils.graphs_equal(G, H)
    assert G.number_of_edges() == H.number_of_edges() == sum(1 for _ in G.edges)
    # each node's neighbours in the order add_edges_from leaves them, given the facets in order
    facets = regions.faces(min_dim=regions.dim - 1).by_dim[regions.dim - 1]
    two = np.flatnonzero(np.diff(facets.region_offsets) == 2)
    in_order = nx.Graph()
    in_order.add_nodes_from(range(len(regions)))
    in_order.add_edges_from(zip(facets.region_ids[facets.region_offsets[two]].tolist(),
                                facets.region_ids[facets.region_offsets[two] + 1].tolist()))
    assert [list(G.adj[v]) for v in G] == [list(in_order.adj[v]) for v in in_order]
    for a, b in G.edges:
        assert G._adj[a][b] is G._adj[b][a]
    assert dict(G.degree) == dict(H.degree)
    assert nx.utils.graphs_equal(G.copy(), H)
    assert nx.utils.graphs_equal(G.subgraph(list(G)[:5]), H.subgraph(list(H)[:5]))
    a, b = next(iter(G.edges))
    G.edges[a, b]["mark"] = 1
    assert G.edges[b, a]["mark"] == 1
    G.remove_node(a)
    assert a not in G and all(a not in G._adj[v] for v in G) and G.number_of_nodes() == len(H) - 1
    G.add_edge(b, "x", volume=0.0)
    assert G.degree["x"] == 1 and G.has_edge("x", b)
    assert G.number_of_edges() == H.number_of_edges() - H.degree[a] + 1


def test_boundary_facets_measure_the_domain_boundary():
    for d, widths in ((2, [12, 12]), (3, [8, 8])):
        net = random_net([d] + widths + [1], 7)
        regions = rn.enumerate_regions(net, rn.Box(-np.ones(d), np.ones(d)))
        G = regions.adjacency_graph()
        boundary = sum(v for r in G.nodes for _, v in G.nodes[r]["boundary_facets"])
        assert boundary == pytest.approx(2 * d * 2.0 ** (d - 1), rel=1e-9)


def test_adjacency_matches_shared_vertices_in_2d():
    """Independent oracle: two convex polygons with disjoint interiors share an edge exactly
    when they share two vertices (compared by coordinates)."""
    net = random_net([2, 10, 10, 1], 8)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    keys = {}
    for r in range(len(regions)):
        for v in np.round(regions.vertices_of(r), 9):
            keys.setdefault(tuple(v), set()).add(r)
    shared = {}
    for owners in keys.values():
        for a in owners:
            for b in owners:
                if a < b:
                    shared[a, b] = shared.get((a, b), 0) + 1
    expected = {pair for pair, n in shared.items() if n >= 2}
    G = regions.adjacency_graph()
    assert {tuple(sorted(e)) for e in G.edges} == expected


def test_edges_join_vertices_and_faces_of_3d_regions():
    net = random_net([3, 8, 8, 1], 9)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    faces = regions.faces()
    E = faces.edges
    assert np.all(E >= 0)
    lengths = np.linalg.norm(faces.vertices[E[:, 0]] - faces.vertices[E[:, 1]], axis=1)
    np.testing.assert_allclose(lengths, faces.by_dim[1].volumes, rtol=1e-9)
    # each 2-face is a polygon with at least three vertices
    two = faces.by_dim[2]
    assert np.all(np.diff(two.vertex_offsets) >= 3)
    assert two.volumes.sum() > 0


def test_faces_need_a_complete_result():
    net = random_net([2, 16, 16, 1], 10)
    partial = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]), max_regions=5)
    with pytest.raises(rn.RegionEnumError, match="complete"):
        partial.faces()


@pytest.mark.parametrize("domain, f_vector", [
    (rn.Polytope.whole_space(2), [1, 4, 4]),                          # the origin, four rays
    (rn.Polytope(np.array([[-1.0, 0.0]]), np.array([-1.0])), [2, 6, 4]),  # x0 >= -1
    (rn.Polytope.whole_space(3), [1, 6, 12, 8]),                      # the octants
])
def test_unit_hyperplanes_on_the_artificial_cuts_of_unbounded_domains(domain, f_vector):
    """Pieces of an unbounded domain are cut along the coordinate planes through its interior
    point; units whose hyperplanes lie exactly on those cuts still bound regions there."""
    d = domain.dim
    net = rn.Network.from_layers([(np.eye(d), np.zeros(d)), (np.ones((1, d)), np.zeros(1))])
    regions = rn.enumerate_regions(net, domain)
    faces = regions.faces()
    assert list(faces.f_vector) == f_vector
    G = regions.adjacency_graph()
    assert G.number_of_edges() == d * 2 ** (d - 1)  # neighbours differ in one unit
    assert all(len(units) == 1 for _, _, units in G.edges(data="units"))
    assert regions.linear_regions().count == 2 ** d


def test_faces_hold_only_their_own_units_and_rows():
    """The units and domain rows of each face are written into arrays sized by an upper bound:
    what a result keeps is trimmed to their size, not views holding the bound's (found by
    review: a 534-entry array of domain rows held a megabyte)."""
    net, domain = CASES[2]
    faces = rn.enumerate_regions(net, domain).faces()
    for fs in faces.by_dim:
        for a in (fs.unit_ids, fs.domain_rows):
            held = a.nbytes if a.base is None else memoryview(a.base).nbytes
            assert held == a.nbytes


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(3), np.ones(3)), rn.Polytope.whole_space(2)])
def test_faces_in_threads_are_the_faces_in_one(monkeypatch, domain):
    """The lattice kernels (the cells' faces, their names' hashes and checks, volumes and keys)
    run on chunks of cells or faces shared out among threads: the same faces, bit for bit, as
    in one thread and one chunk."""
    from regionenum.analysis import faces as faces_module
    from regionenum.core import threads
    regions = rn.enumerate_regions(random_net([domain.dim, 10, 10, 1], 4), domain)
    monkeypatch.setattr(threads, "idle_cpus", lambda: 1)
    one = regions.faces()
    monkeypatch.setattr(threads, "idle_cpus", lambda: 3)
    monkeypatch.setattr(faces_module, "_CHUNK", 7)
    shared = regions.faces()
    assert len(regions.cells) > 3 * 7
    assert np.array_equal(shared.vertices, one.vertices) and np.array_equal(shared.f_vector, one.f_vector)
    for a, b in zip(one.by_dim, shared.by_dim):
        for name in a.__dataclass_fields__:
            x, y = getattr(a, name), getattr(b, name)
            assert np.asarray(x).dtype == np.asarray(y).dtype and np.array_equal(x, y), (a.dim, name)



@pytest.mark.parametrize("case", ["random3d", "plane", "copy_units", "cube_edges", "zero_layer"])
def test_names_match_exactly_where_their_keys_are_equal(case):
    """``faces_match`` compares two faces' names part by part without writing them: its answer
    is that of the whole keys (``face_keys``, written out) being equal, on every instance and the
    first of its name, and on pairs that differ (random ones, and neighbours in the cells'
    order), with tight units, zero units, domain rows and ties among them."""
    from regionenum.analysis.faces import face_instances, group_faces
    from regionenum.engine.kernels.lattice import face_keys, faces_match
    net, domain = CASES[IDS.index(case)]
    regions = rn.enumerate_regions(net, domain)
    inst = face_instances(regions.cells, regions.cell_region, regions.constraint_ids, regions.network, 0)
    rng = np.random.default_rng(0)
    differ = 0
    for k in range(regions.dim):
        sel = np.flatnonzero((inst.faces.dim == k) & inst.keep)
        group, first = group_faces(sel, inst.names)
        pairs = [(sel, sel[first[group]]), (sel[:-1], sel[1:]), (sel, rng.permutation(sel))]
        for a, b in pairs:
            keys_a, keys_b = face_keys(a, inst.names), face_keys(b, inst.names)
            equal = (keys_a == keys_b).all(axis=1)
            assert faces_match(a, b, inst.names) == equal.all()
            assert [faces_match(a[j:j + 1], b[j:j + 1], inst.names) for j in range(len(a))] == equal.tolist()
            differ += int((~equal).sum())
    assert differ > 0



def test_names_hash_as_their_keys_written_out():
    """``face_hashes`` hashes each face's key as it works it out: the same hashes as the keys
    written out (``face_keys``) hashed word by word in their order, here in NumPy."""
    from regionenum.analysis.faces import face_instances
    from regionenum.engine.kernels.lattice import face_hashes, face_keys
    regions = rn.enumerate_regions(*CASES[IDS.index("random3d")])
    inst = face_instances(regions.cells, regions.cell_region, regions.constraint_ids, regions.network, 0)
    which = np.flatnonzero(inst.keep)
    keys = face_keys(which, inst.names)
    expected = np.full(len(which), 14695981039346656037, np.uint64)
    for word in keys.T:
        expected = (expected ^ word) * np.uint64(1099511628211)
        expected ^= expected >> np.uint64(29)
    assert np.array_equal(face_hashes(which, inst.names), expected)

def test_a_hash_collision_falls_back_to_whole_names(monkeypatch):
    """Every face's name hashed to one value: the check finds different names in one group, and
    the faces are grouped by their whole names instead, as they are without the collision."""
    from regionenum.analysis import faces as faces_module
    regions = rn.enumerate_regions(*CASES[IDS.index("random3d")])
    plain = regions.faces()
    monkeypatch.setattr(faces_module, "face_hashes", lambda which, names: np.zeros(len(which), np.uint64))
    collided = regions.faces()
    for a, b in zip(plain.by_dim, collided.by_dim):
        for name in a.__dataclass_fields__:
            assert np.array_equal(getattr(a, name), getattr(b, name)), (a.dim, name)

@pytest.mark.parametrize("case", [0, 2], ids=["random2d", "random3d"])
def test_faces_come_in_the_order_their_regions_first_meet_them(case):
    """Faces are numbered by their first occurrence in the cells (here the regions, on a
    bounded domain), not by their names' hashes: the least region around each face never
    decreases from one face to the next, in every dimension."""
    net, domain = CASES[case]
    regions = rn.enumerate_regions(net, domain)
    assert np.array_equal(regions.cell_region, np.arange(len(regions)))
    for fs in regions.faces().by_dim:
        least = fs.region_ids[fs.region_offsets[:-1]]
        assert len(fs) > 100 and np.all(np.diff(least) >= 0), fs.dim


def _groups_by_dict(values):
    """The groups numbered by first occurrence, and each group's first position, with a dict."""
    seen = {}
    group = [seen.setdefault(v.tobytes(), len(seen)) for v in values]
    return group, [group.index(g) for g in range(len(seen))]


def _slot_collisions(n):
    """``n`` distinct 64-bit values that the hash table puts in one slot, whatever its size
    (Fibonacci hashing's product is the value's position, so its top bits are zero)."""
    from regionenum.engine.kernels import grouping
    inverse = pow(int(grouping._SPREAD), -1, 1 << 64)
    return np.array([(inverse * j) % (1 << 64) for j in range(n)], np.uint64)


@pytest.mark.parametrize("kind", ["u8", "i8", "i4", "V16", "slots", "grown"])
def test_groups_are_numbered_by_first_occurrence(kind):
    """The grouping behind the faces: on 64-bit hashes, signed and narrower labels (a hash
    table), on whole names (the fallback after a hash collision: a sort), on values that all
    fall in one slot of the table, and on more groups than its first size holds. Equal values
    share a group, groups count up from 0 in the order of their first occurrences, and
    ``first`` holds each group's least position; hashed and sorted give the same."""
    from regionenum.analysis.faces import group_equal
    rng = np.random.default_rng(5)
    raw = rng.integers(0, 300, size=(4000, 2)).astype(np.uint64)
    values = {"u8": raw[:, 0].copy(), "i8": raw[:, 0].astype(np.int64) - 150,
              "i4": raw[:, 0].astype(np.int32) - 150, "V16": raw.view("V16").ravel(),
              "slots": _slot_collisions(300)[raw[:, 0].astype(np.int64)],
              "grown": rng.integers(0, 1 << 62, 30_000).astype(np.uint64)[rng.integers(0, 30_000, 60_000)]}[kind]
    group, first = group_equal(values)
    expected, expected_first = _groups_by_dict(values)
    assert group.tolist() == expected and first.tolist() == expected_first
    assert group.dtype == first.dtype == np.int64
    if values.dtype.kind in "iu":  # the sort, on the same values as bytes
        as_bytes = np.ascontiguousarray(values).view(f"V{values.dtype.itemsize}")
        sorted_group, sorted_first = group_equal(as_bytes)
        assert np.array_equal(sorted_group, group) and np.array_equal(sorted_first, first)
    assert group_equal(values[:0])[0].shape == (0,) and group_equal(values[:0])[1].shape == (0,)


def test_members_of_groups_are_distinct_and_increasing():
    """The regions around each face: each group's members once, increasing, in CSR; groups
    without members are empty, and a group of more members than are put in order by insertion
    is sorted too. Checked by hand, then against the pairs ``group * n + member`` sorted; a group
    out of range is an error."""
    from regionenum.engine.kernels import grouping
    offsets, ids = grouping.distinct_members(np.array([2, 0, 2, 2, 0, 3]), np.array([5, 1, 4, 5, 1, 0]), 4)
    assert offsets.tolist() == [0, 1, 1, 3, 4] and ids.tolist() == [1, 4, 5, 0]
    for wrong in ([4], [-1]):
        with pytest.raises(ValueError, match="outside"):
            grouping.distinct_members(np.array(wrong), np.array([0]), 4)
    rng = np.random.default_rng(7)
    group = np.concatenate([rng.integers(0, 50, 3000), np.full(200, 60)])  # 50-59, 61: empty
    member = np.concatenate([rng.integers(0, 40, 3000), rng.integers(0, 1000, 200)])
    order = rng.permutation(len(group))
    group, member = group[order], member[order]
    offsets, ids = grouping.distinct_members(group, member, 62)
    pairs = np.unique(group * 1000 + member)
    assert offsets.tolist() == np.searchsorted(pairs // 1000, np.arange(63)).tolist()
    assert ids.tolist() == (pairs % 1000).tolist()
    assert np.diff(offsets)[60] > grouping._INSERTION_MOST
    empty = grouping.distinct_members(group[:0], member[:0], 3)
    assert empty[0].tolist() == [0, 0, 0, 0] and empty[1].tolist() == []


def test_indices_count_from_the_end_and_stop_at_it():
    """A region's, a face's and a sublevel set's polytope's accessors take an index as a
    sequence does (negative from the end) and refuse one beyond either end, or not an integer,
    by name (a CSR slice there would quietly come out empty); ``faces`` refuses a ``min_dim``
    outside ``0 .. d`` or not an integer."""
    from regionenum.errors import ArgumentTypeError, InvalidArgumentError
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    n = len(regions)
    for method in (regions.vertices_of, lambda i: regions.facets_of(i)[0], regions.pattern_of):
        assert np.array_equal(np.concatenate(method(-1)), np.concatenate(method(n - 1)))
        assert len(np.concatenate(method(-n))) > 0
        for bad in (n, -n - 1):
            with pytest.raises(IndexError, match=f"region {bad} is out of range"):
                method(bad)
        with pytest.raises(ArgumentTypeError, match="region must be an integer"):
            method(1.0)
    edges = regions.faces().by_dim[1]
    for method in (edges.vertices_of, edges.regions_of, edges.units_of, edges.domain_rows_of):
        assert np.array_equal(method(-1), method(len(edges) - 1))
        with pytest.raises(IndexError, match="face"):
            method(len(edges))
    below = regions.sublevel_set(1.0)
    assert np.array_equal(below.vertices_of(-1), below.vertices_of(len(below) - 1))
    with pytest.raises(IndexError, match="polytope"):
        below.vertices_of(len(below))
    assert regions.faces(np.int64(2)).f_vector.tolist() == [0, 0, n]
    for bad, error in ((-1, InvalidArgumentError), (3, InvalidArgumentError), (None, ArgumentTypeError),
                       (1.5, ArgumentTypeError)):
        with pytest.raises(error, match="min_dim"):
            regions.faces(bad)
