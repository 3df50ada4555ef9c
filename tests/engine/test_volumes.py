"""Region volumes and facets from the face lattice (bit masks over a cell's generators, or
index sets for cells of more than 64), against convex hulls and polytopes of known volume."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.spatial import ConvexHull

import regionenum as rn
from tests.oracles import random_net, stretched_net


@pytest.mark.parametrize("dims,seed", [((2, 12, 12, 1), 0), ((3, 8, 8, 1), 1), ((4, 6, 6, 1), 2),
                                       ((5, 5, 5, 1), 3)])
def test_volumes_match_convex_hulls(dims, seed):
    d = dims[0]
    regions = rn.enumerate_regions(random_net(list(dims), seed), rn.Box(-np.ones(d), np.ones(d)))
    hulls = [ConvexHull(regions.vertices_of(i)).volume for i in range(len(regions))]
    np.testing.assert_allclose(regions.volumes, hulls, rtol=1e-9)
    assert regions.volumes.sum() == pytest.approx(2.0 ** d, rel=1e-12)


@pytest.mark.parametrize("dims,seed,spread", [((3, 7, 7, 1), 11, 10), ((4, 6, 6, 1), 2, 8),
                                              ((2, 12, 12, 1), 0, 20), ((3, 8, 8, 8, 1), 5, 15)])
@pytest.mark.parametrize("rescaled", [False, True])
def test_geometry_on_a_domain_stretched_by_powers_of_two_is_the_unstretched_one(monkeypatch, dims, seed, spread,
                                                                                rescaled):
    """The same network seen through a box stretched by powers of two from ``2^-spread`` to
    ``2^spread`` along its coordinates (the first layer's columns divided by the same powers: an
    exactly equivalent problem) has the same regions, and its volumes are the unstretched ones
    times the stretch. The generators' rigorous bounds are pessimistic there (they are one
    number for all coordinates); a crossing that took the middle of its weight's interval
    instead of the float weight put vertices far from the exact ones (volumes off by 17% to 839 times).
    Such a domain is run in coordinates rescaled to one spread (:mod:`regionenum.engine.rescaling`):
    checked with and without."""
    if not rescaled:
        from regionenum.engine import rescaling
        monkeypatch.setattr(rescaling, "GAIN", np.inf)
    d = dims[0]
    scale = 2.0 ** np.round(np.linspace(-spread, spread, d))
    net = random_net(list(dims), seed)
    stretched = stretched_net(net, scale)
    plain = rn.enumerate_regions(net, rn.Box(-np.ones(d), np.ones(d)))
    regions = rn.enumerate_regions(stretched, rn.Box(-scale, scale))
    assert np.array_equal(regions.patterns, plain.patterns)
    np.testing.assert_allclose(regions.volumes, plain.volumes * np.prod(scale), rtol=1e-9)
    for i in range(0, len(regions), 7):
        np.testing.assert_allclose(np.sort(regions.vertices_of(i) / scale, axis=0),
                                   np.sort(plain.vertices_of(i), axis=0), rtol=1e-9, atol=1e-12)


def _cut_by_plane(domain, d):
    """A network of one unit, ReLU(x_d - 0.3): it cuts ``domain`` at ``x_d = 0.3``."""
    w = np.zeros((1, d))
    w[0, -1] = 1.0
    return rn.enumerate_regions(rn.Network.from_layers([(w, np.array([-0.3])), (np.ones((1, 1)), np.zeros(1))]),
                                domain)


def test_cells_of_more_than_64_generators():
    n = 48  # a prism over a regular 48-gon, cut across: two prisms of 96 vertices and 50 facets
    angles = 2 * np.pi * np.arange(n) / n
    A = np.r_[np.c_[np.cos(angles), np.sin(angles), np.zeros(n)], [[0, 0, 1.0], [0, 0, -1.0]]]
    regions = _cut_by_plane(rn.Polytope(A, np.r_[-np.ones(n), -1.0, -1.0]), 3)
    area = n / 2 * np.sin(2 * np.pi / n) / np.cos(np.pi / n) ** 2  # the 48-gon circumscribing the unit circle
    assert len(regions) == 2
    np.testing.assert_allclose(np.sort(regions.volumes), area * np.array([0.7, 1.3]), rtol=1e-12)
    assert np.diff(regions.vertex_offsets).tolist() == [96, 96]
    assert np.diff(regions.facet_offsets).tolist() == [50, 50]
    n = 150  # the same in the plane: two polygons of more than 64 vertices
    angles = 2 * np.pi * np.arange(n) / n
    regions = _cut_by_plane(rn.Polytope(np.c_[np.cos(angles), np.sin(angles)], -np.ones(n)), 2)
    hulls = [ConvexHull(regions.vertices_of(i)).volume for i in range(2)]
    np.testing.assert_allclose(regions.volumes, hulls, rtol=1e-12)
    assert sorted(np.diff(regions.facet_offsets)) == sorted(np.diff(regions.vertex_offsets))


def _prism():
    """A prism over a regular 70-gon, ``x2`` from -1 to 1: the polygon's corners, the prism as a
    domain and the polygon's area."""
    n = 70
    angles = 2 * np.pi * np.arange(n) / n
    A = np.r_[np.c_[np.cos(angles), np.sin(angles), np.zeros(n)], [[0, 0, 1.0], [0, 0, -1.0]]]
    area = n / 2 * np.sin(2 * np.pi / n) / np.cos(np.pi / n) ** 2
    return n, rn.Polytope(A, np.r_[-np.ones(n), -1.0, -1.0]), area


def _cut_prism():
    """The regions of :func:`_prism` cut at ``x2 = 0.3`` and at ``x0 = 0.97``, which cuts six
    vertices off each 70-gon: two cells of 132 generators and two of 16."""
    net = rn.Network.from_layers([(np.array([[0, 0, 1.0], [1.0, 0, 0]]), np.array([-0.3, -0.97])),
                                  (np.ones((1, 2)), np.zeros(1))])
    return rn.enumerate_regions(net, _prism()[1])


def test_faces_and_decision_regions_of_more_than_64_generators():
    """A prism over a regular 70-gon, cut across at x2 = 0.3 by a unit whose output decides
    between two classes at x2 = 0.5: its 70-gon faces, the cells of 140 generators and the
    decision boundary (a 70-gon) take the kernels of large faces."""
    n, prism, area = _prism()
    net = rn.Network.from_layers([(np.array([[0, 0, 1.0]]), np.array([-0.3])),
                                  (np.array([[1.0], [0.0]]), np.array([0.0, 0.2]))])
    regions = rn.enumerate_regions(net, prism)
    np.testing.assert_allclose(np.sort(regions.volumes), area * np.array([0.7, 1.3]), rtol=1e-12)
    polygons = regions.faces().by_dim[2]
    big = np.diff(polygons.vertex_offsets) == n  # the top, the bottom and the cut
    assert big.sum() == 3
    np.testing.assert_allclose(polygons.volumes[big], area, rtol=1e-12)
    dec = regions.decision_regions()
    np.testing.assert_allclose(np.sort(dec.volumes), area * np.array([0.5, 1.5]), rtol=1e-12)
    np.testing.assert_allclose(dec.boundary_volumes, [area], rtol=1e-12)


def test_a_generator_inside_an_edge_leaves_the_volume_alone():
    """A unit square whose bottom edge carries a fifth generator at its midpoint (tight on the
    bottom row only): the square's area and the bottom edge's length, from the lattice kernels."""
    from regionenum.engine.kernels.lattice import CellFaces, face_volumes, polytope_volumes
    from regionenum.engine.kernels.splitting import INCIDENCE_DTYPE, CellArrays
    points = [(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 0)]
    tight = [[0, 3], [0, 1], [1, 2], [2, 3], [0]]  # bottom 0, right 1, top 2, left 3
    square = CellArrays(np.array([0, 5]), np.array([(1.0, x, y) for x, y in points]), np.zeros(5),
                        np.cumsum([0] + [len(t) for t in tight]), np.concatenate(tight).astype(INCIDENCE_DTYPE),
                        np.array([0, 4]), np.arange(4), np.zeros((4, 3)), np.zeros(4))
    assert polytope_volumes(square, np.arange(1)) == pytest.approx([1.0], rel=1e-15)
    edges = CellFaces(np.zeros(2, np.int64), np.ones(2, np.int64), np.array([0, 3, 5]), np.array([0, 4, 1, 4, 1]),
                      np.array([0, 1, 2]), np.zeros(2, np.int64))
    assert face_volumes(edges, square, np.arange(2)) == pytest.approx([1.0, 0.5], rel=1e-15)




def test_faces_of_cells_of_more_and_fewer_than_64_generators_together():
    """The prism over a 70-gon cut at x2 = 0.3 and at x0 = 0.97, which cuts six vertices off each
    70-gon: two cells of 132 generators and two of 16. The cells' faces, from the two kernels,
    come in the cells' order; the faces make a complex of Euler characteristic 1 whose top
    facets cover the 70-gon, and the graph joins the four cells in a square."""
    from regionenum.analysis.faces import face_instances
    n, _, area = _prism()
    regions = _cut_prism()
    assert sorted(np.diff(regions.vertex_offsets).tolist()) == [16, 16, 132, 132]
    inst = face_instances(regions.cells, regions.cell_region, regions.constraint_ids, regions.network, 0)
    assert np.all(np.diff(inst.faces.cell) >= 0) and set(inst.faces.cell.tolist()) == {0, 1, 2, 3}
    faces = regions.faces()
    assert faces.euler_characteristic == 1
    polygons = faces.by_dim[2]
    top = [i for i in range(len(polygons)) if polygons.domain_rows_of(i).tolist() == [n]]
    assert len(top) == 2
    np.testing.assert_allclose(polygons.volumes[top].sum(), area, rtol=1e-12)
    graph = regions.adjacency_graph()
    assert graph.number_of_edges() == 4 and all(d == 2 for _, d in graph.degree())


def test_faces_of_any_run_of_cells_are_those_made_cell_by_cell():
    """The faces of a run of cells, where cells of more than 64 generators (made by their own
    kernel) come first, last, one after another and between small ones, are the faces each cell
    gets alone, in the cells' order: the prism over a 70-gon cut into two large and two small
    cells, taken in every order (a permutation of the cells) and every run."""
    from regionenum.analysis.faces import faces_of_cells
    cells = _cut_prism().cells
    large = np.diff(cells.gen_off) > 64
    assert large.sum() == 2
    for order in itertools.permutations(range(4)):
        taken = cells.take(np.array(order))
        alone = [faces_of_cells(taken, 0, c, c + 1) for c in range(4)]
        assert all(len(f.cell) > 0 and set(f.cell.tolist()) == {c} for c, f in enumerate(alone))
        for lo, hi in itertools.combinations(range(5), 2):
            run = faces_of_cells(taken, 0, lo, hi)
            parts = alone[lo:hi]
            np.testing.assert_array_equal(run.cell, np.concatenate([f.cell for f in parts]))
            np.testing.assert_array_equal(run.dim, np.concatenate([f.dim for f in parts]))
            for offsets, items in (("gen_off", "members"), ("tight_off", "tight")):
                got = np.split(getattr(run, items), getattr(run, offsets)[1:-1])
                want = [x for f in parts for x in np.split(getattr(f, items), getattr(f, offsets)[1:-1])]
                assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want))


def test_faces_of_large_cells_alone_refuse_ids_beyond_int32():
    """A run of cells of more than 64 generators only (no cell for the bit-mask kernel) still
    refuses constraint ids the faces' int32 arrays cannot hold, rather than wrapping them."""
    import dataclasses

    from regionenum.analysis.faces import faces_of_cells
    cells = _cut_prism().cells
    c = int(np.flatnonzero(np.diff(cells.gen_off) > 64)[0])
    assert len(faces_of_cells(cells, 0, c, c + 1).cell) > 0
    far = dataclasses.replace(cells, con_ids=cells.con_ids.astype(np.int64) + 2 ** 31)
    with pytest.raises(ValueError, match="int32"):
        faces_of_cells(far, 0, c, c + 1)


def test_an_edge_of_more_than_64_generators_is_as_long_as_its_ends_are_apart():
    """The bottom edge of a unit square carrying 68 more generators between its corners, which
    come last among its generators: its length is the corners' distance, from both kernels
    (the first two generators of the edge are 1/69 apart)."""
    from regionenum.engine.kernels.lattice import CellFaces, face_volumes, point_and_edge_volumes
    from regionenum.engine.kernels.splitting import INCIDENCE_DTYPE, CellArrays
    inside = [((i + 1) / 69, 0.0) for i in range(68)]
    points = inside + [(0, 0), (1, 0), (1, 1), (0, 1)]
    tight = [[0]] * 68 + [[0, 3], [0, 1], [1, 2], [2, 3]]  # bottom 0, right 1, top 2, left 3
    square = CellArrays(np.array([0, 72]), np.array([(1.0, x, y) for x, y in points]), np.zeros(72),
                        np.cumsum([0] + [len(t) for t in tight]), np.concatenate(tight).astype(INCIDENCE_DTYPE),
                        np.array([0, 4]), np.arange(4), np.zeros((4, 3)), np.zeros(4))
    bottom, right = np.arange(70), np.array([69, 70])
    edges = CellFaces(np.zeros(2, np.int64), np.ones(2, np.int8), np.array([0, 70, 72]),
                      np.r_[bottom, right].astype(np.int32), np.array([0, 1, 2]), np.array([0, 1], np.int32))
    assert face_volumes(edges, square, np.arange(2)) == pytest.approx([1.0, 1.0], rel=1e-15)
    assert point_and_edge_volumes(edges, square.gens, np.arange(2)) == pytest.approx([1.0, 1.0], rel=1e-15)
    corners = CellFaces(np.zeros(1, np.int64), np.zeros(1, np.int8), np.array([0, 1]), np.array([68], np.int32),
                        np.array([0, 2]), np.array([0, 3], np.int32))
    assert point_and_edge_volumes(corners, square.gens, np.arange(1)).tolist() == [1.0]
    square_face = CellFaces(np.zeros(1, np.int64), np.full(1, 2, np.int8), np.array([0, 72]),
                            np.arange(72, dtype=np.int32), np.array([0, 0]), np.zeros(0, np.int32))
    with pytest.raises(ValueError, match="more than one dimension"):
        point_and_edge_volumes(square_face, square.gens, np.arange(1))

def test_polygon_edges_among_degenerate_tight_sets():
    """A unit square's facets and area by the plane's own path, where its tight sets are not
    simply its four edges: a fifth generator in the middle of the bottom edge, the bottom row
    twice (coinciding constraints: both carry the edge), a row tight at one corner only and a
    row tight nowhere (neither carries an edge)."""
    from regionenum.engine.kernels.lattice import facets_and_volumes
    from regionenum.engine.kernels.splitting import INCIDENCE_DTYPE, CellArrays
    points = [(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 0)]
    # constraints: 0 bottom, 1 bottom again, 2 right, 3 top, 4 left, 5 the corner (1, 1) only,
    # 6 nowhere tight
    tight = [[0, 1, 4], [0, 1, 2], [2, 3, 5], [3, 4], [0, 1]]
    square = CellArrays(np.array([0, 5]), np.array([(1.0, x, y) for x, y in points]), np.zeros(5),
                        np.cumsum([0] + [len(t) for t in tight]), np.concatenate(tight).astype(INCIDENCE_DTYPE),
                        np.array([0, 7]), np.arange(7), np.zeros((7, 3)), np.zeros(7))
    flags, volumes = facets_and_volumes(square, 0, 1)
    assert flags.tolist() == [True, True, True, True, True, False, False]
    assert volumes.tolist() == [1.0]


def test_simple_and_degenerate_corners_give_the_same_lattice():
    """A cube is simple (each vertex on three facets), so its faces are found without the search
    for maximal tight sets; the same cube with a fourth constraint through one corner (tight
    there only: that vertex is on four) goes the general way. Both give the cube's eight
    vertices, twelve edges and six facets, its volume and its faces' areas and lengths, and the
    corner's constraint carries no facet."""
    from regionenum.engine.kernels.lattice import cell_faces, face_volumes, facets_and_volumes, polytope_volumes
    from regionenum.engine.kernels.splitting import INCIDENCE_DTYPE, CellArrays
    corners = list(itertools.product([0.0, 2.0], repeat=3))
    found = []
    for extra in (False, True):
        # constraints 2j and 2j + 1: x_j >= 0 and x_j <= 2; 6: x0 + x1 + x2 <= 6, tight at (2, 2, 2)
        tight = [[2 * j + (x > 0) for j, x in enumerate(c)] + ([6] if extra and min(c) > 0 else [])
                 for c in corners]
        n_cons = 6 + extra
        cube = CellArrays(np.array([0, 8]), np.array([(1.0, *c) for c in corners]), np.zeros(8),
                          np.cumsum([0] + [len(t) for t in tight]),
                          np.concatenate(tight).astype(INCIDENCE_DTYPE), np.array([0, n_cons]), np.arange(n_cons),
                          np.zeros((n_cons, 4)), np.zeros(n_cons))
        flags, volumes = facets_and_volumes(cube, 0, 1)
        assert flags.tolist() == [True] * 6 + [False] * extra
        assert volumes == pytest.approx([8.0], rel=1e-15)
        assert np.array_equal(polytope_volumes(cube, np.arange(1)), volumes)
        faces = cell_faces(cube, 0, 0, 1)
        assert np.bincount(faces.dim).tolist() == [8, 12, 6]
        sizes = face_volumes(faces, cube, np.arange(len(faces.dim)))
        assert sizes == pytest.approx([{0: 1.0, 1: 2.0, 2: 4.0}[k] for k in faces.dim], rel=1e-15)
        found.append((volumes, faces, sizes))
    (simple, simple_faces, simple_sizes), (general, general_faces, general_sizes) = found
    assert np.array_equal(simple, general) and np.array_equal(simple_sizes, general_sizes)
    assert all(np.array_equal(a, b) for a, b in zip(simple_faces[:4], general_faces[:4]))  # all but tight ids


@pytest.mark.parametrize("integer", [False, True])
def test_polygons_by_the_planes_path_are_the_general_paths(integer):
    """In the plane a bounded cell's facet flags and area come from a path of their own: the
    same flags as the cells' face lattice gives (a constraint carries a facet where it is tight
    on one of the cell's edges) and the same area, bit for bit, as the general pulling
    triangulation, on random networks and on ones with small integer weights (many lines
    through one point, vertices on several lines, coinciding units), on a box and on the
    plane (whose cells with rays go the general way)."""
    from regionenum.engine.kernels.lattice import cell_faces, facets_and_volumes, polytope_volumes
    rng = np.random.default_rng(4)
    for seed in range(6):
        if integer:
            w1 = rng.integers(-2, 3, (8, 2)).astype(float)
            net = rn.Network.from_layers([(np.r_[w1, w1], rng.integers(-1, 2, 16).astype(float)),
                                          (rng.integers(-2, 3, (6, 16)).astype(float), np.zeros(6)),
                                          (np.ones((1, 6)), np.zeros(1))])
        else:
            net = random_net([2, 9, 9, 1], seed)
        for domain in (rn.Box([-2, -2], [2, 2]), rn.Polytope.whole_space(2)):
            cells = rn.enumerate_regions(net, domain).complex.cells
            arrays, n = cells.arrays, len(cells)
            flags, volumes = facets_and_volumes(arrays, 0, n)
            bounded = cells.bounded()
            assert np.array_equal(volumes[bounded], polytope_volumes(arrays, np.flatnonzero(bounded)))
            faces = cell_faces(arrays, 1, 0, n)
            on_edges = [set() for _ in range(n)]
            for f in range(len(faces.cell)):
                on_edges[faces.cell[f]].update(faces.tight[faces.tight_off[f]: faces.tight_off[f + 1]].tolist())
            for c in np.flatnonzero(bounded):
                q = slice(cells.con_off[c], cells.con_off[c + 1])
                assert flags[q].tolist() == [int(i) in on_edges[c] for i in cells.con_ids[q]]


@pytest.mark.parametrize("domain", [rn.Box(-np.ones(3), np.ones(3)), rn.Polytope.whole_space(2)])
def test_assembly_in_threads_is_the_assembly_in_one(monkeypatch, domain):
    """The assembly shares the cells' facet flags, volumes and facet equations out among
    threads, in chunks of cells or rows: the same result, bit for bit, as in one thread and one
    chunk, with ``inf`` for the cells with rays."""
    from threadpoolctl import threadpool_limits

    from regionenum.core import threads
    from regionenum.engine import assemble
    from regionenum.engine.kernels.lattice import facets_and_volumes, polytope_volumes
    net = random_net([domain.dim, 10, 10, 1], 2)
    with threadpool_limits(1, user_api="blas"):  # the same matrix products in both runs
        monkeypatch.setattr(threads, "idle_cpus", lambda: 1)
        one = rn.enumerate_regions(net, domain)
        monkeypatch.setattr(threads, "idle_cpus", lambda: 3)
        monkeypatch.setattr(assemble, "_CELL_CHUNK", 7)
        monkeypatch.setattr(assemble, "_EQUATION_BLOCK", 5)
        shared = rn.enumerate_regions(net, domain)
    cells = one.complex.cells
    assert len(assemble._chunks(len(cells))) > 3 and len(one.facet_equations) > 3 * 5
    for name in ("volumes", "facet_offsets", "facet_equations", "interior_points", "vertices"):
        assert np.array_equal(getattr(shared, name), getattr(one, name)), name
    chunks = assemble._chunks(len(cells))
    assert chunks[0][0] == 0 and chunks[-1][1] == len(cells)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    flags, volumes = facets_and_volumes(cells.arrays, 0, len(cells))
    for i, whole in enumerate((flags, volumes)):
        assert np.array_equal(np.concatenate([facets_and_volumes(cells.arrays, *c)[i] for c in chunks]), whole)
    assert np.array_equal(polytope_volumes(cells.arrays, np.arange(len(cells))), volumes)  # one path or two
    assert np.array_equal(np.isinf(volumes), ~cells.bounded())
    assert np.isinf(volumes).any() == (not isinstance(domain, rn.Box))  # rays on the plane only


def test_facet_equations_have_unit_normals_at_any_scale():
    """Facet equations are the constraint rows scaled to unit normals, whatever the rows' scale
    (entries from 2^-1070 to 2^1020, where squaring them would underflow or overflow): each is
    a positive multiple of its row; a row without normal is left as it is."""
    from regionenum.engine.assemble import facet_equations
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((400, 4)) * np.ldexp(1.0, rng.integers(-1070, 1020, (400, 1)))
    rows[::7, 1:] = 0.0
    which = rng.permutation(400)[:300]
    eq = facet_equations(rows, which)
    picked = rows[which]
    has_normal = np.abs(picked[:, 1:]).max(axis=1) > 0
    assert np.array_equal(eq[~has_normal], picked[~has_normal][:, [1, 2, 3, 0]])  # [a | c]
    for row, e in zip(picked[has_normal], eq[has_normal]):
        exact = [Fraction(v) for v in row]
        norm = math.sqrt(float(sum(v * v for v in exact[1:]) / max(abs(v) for v in exact[1:]) ** 2))
        scale = max(abs(v) for v in exact[1:]) * Fraction(norm)
        assert np.allclose(e, [float(v / scale) for v in [*exact[1:], exact[0]]], rtol=1e-14, atol=0), row


def test_facet_equations_in_blocks_are_the_same_as_at_once(monkeypatch):
    """Facet equations are made a block of rows at a time, from an index into the rows: the same
    values, bit for bit, as from the rows taken first, whatever the block size."""
    from regionenum.engine import assemble
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(1000, 4)) * 2.0 ** rng.integers(-600, 600, (1000, 1))
    rows[::97, 1:] = 0.0  # rows without a normal are left as they are
    which = rng.permutation(1000)[:777]
    whole = assemble.facet_equations(rows[which])
    assert np.allclose(np.linalg.norm(whole[:, :3], axis=1)[np.abs(rows[which, 1:]).max(axis=1) > 0], 1.0)
    for block in (1, 10, 64, 4096):
        monkeypatch.setattr(assemble, "_EQUATION_BLOCK", block)
        assert np.array_equal(assemble.facet_equations(rows, which), whole)
        assert np.array_equal(assemble.facet_equations(rows[which]), whole)


def test_a_length_beyond_float64_is_infinite():
    """Found by a second review: a difference that overflows between finite points made the
    scaled length NaN (inf / inf); it is infinite, as before."""
    plain = rn.Network.from_layers([(np.zeros((1, 1)), np.zeros(1))], activations=["identity"])
    assert rn.enumerate_regions(plain, rn.Box([-1e308], [1e308])).volumes.tolist() == [np.inf]


@pytest.mark.parametrize("lo, hi", [(1e-300, 2e-300), (-1e-170, 1e-170), (1e200, 3e200)])
def test_lengths_beyond_the_range_of_their_squares(lo, hi):
    """Found by a review of the certificate: an interval of length 1e-300 had volume 0 (its
    squared length underflowed, though the length is a normal float64), and so had a tiny
    plane's edges; lengths of 2e200 overflowed. The regions' lengths sum to the interval's,
    and the boundary edges of a square to its perimeter."""
    net = random_net([1, 8, 8, 1], 0)
    assert rn.enumerate_regions(net, rn.Box([lo], [hi])).volumes.sum() == pytest.approx(hi - lo, rel=1e-12)
    square = rn.enumerate_regions(random_net([2, 4, 1], 1), rn.Box([lo, lo], [hi, hi]))
    edges = square.faces(min_dim=1).by_dim[1]
    boundary = np.diff(edges.region_offsets) == 1
    assert edges.volumes[boundary].sum() == pytest.approx(4 * (hi - lo), rel=1e-12)
    assert np.all(edges.volumes > 0)


def _diagonal_strips(scale, width, dim):
    """Three hyperplanes ``x0 - x1 = -width, 0, width`` and a slanted one, on ``[-scale,
    scale]^2`` (and ``[-1e100, 1e100]`` in a third coordinate): strips of area about ``scale
    width``, along a diagonal, whose vertices' coordinate differences are about ``scale``."""
    W = np.zeros((4, dim))
    W[:3, :2] = [1.0, -1.0]
    W[3, :2] = [1.0, 0.5]
    if dim == 3:
        W[3, 2] = 1e-100 * scale
    net = rn.Network.from_layers([(W / scale, -np.array([-width / scale, 0.0, width / scale, 0.1])),
                                  (np.ones((1, 4)), np.zeros(1))])
    return net, rn.Box([-scale, -scale, -1e100][:dim], [scale, scale, 1e100][:dim])


def test_areas_beyond_the_range_of_their_products():
    """Strips of area 1e305 in a square of side 2e155: the products of their vertices'
    coordinate differences (4e310) overflowed and their areas were NaN; the square of side
    2e200 and the cube of side 2e300 have volumes beyond float64 (inf, not NaN). Each is
    certified (the float volumes within their rounding of the exact ones), faces too."""
    net, square = _diagonal_strips(1e155, 1e150, 2)
    regions = rn.enumerate_regions(net, square)
    assert np.all(regions.volumes > 0)
    assert np.count_nonzero(np.isfinite(regions.volumes)) == 4  # the strips; the rest exceed float64
    assert rn.certify(regions).regions == len(regions)
    net3, box3 = _diagonal_strips(1e155, 1e150, 3)
    faces = rn.enumerate_regions(net3, box3).faces(min_dim=2).by_dim[2]
    assert np.all(faces.volumes > 0) and np.isfinite(faces.volumes).any()
    for dim, scale in ((2, 1e200), (3, 1e300)):
        net = stretched_net(random_net([dim, 6, 1], 3), np.full(dim, scale))
        big = rn.enumerate_regions(net, rn.Box([-scale] * dim, [scale] * dim))
        assert np.all(big.volumes == np.inf)
        assert rn.certify(big).regions == len(big)


def test_volumes_of_collapsed_vertices_stay_unknown():
    """Strips narrower than their coordinates' rounding (width 1e90 at 1e200): their float
    vertices coincide, so no volume can be read off them; they are not given 0."""
    regions = rn.enumerate_regions(*_diagonal_strips(1e200, 1e90, 2))
    assert not np.any(regions.volumes == 0)


def test_volumes_below_float64s_normal_range():
    """Found by a review: on a cube of side 2^-1014 the elimination's pivots are subnormal and
    their inverses overflowed, so volumes of about 2^-3045 (0 in float64) were NaN; on a square
    of side 2^-519 the areas are subnormal numbers whose products lost bits. Both are now those
    of the same net on a unit box scaled by the power of two, rounded once."""
    net = random_net([3, 8, 6, 1], 0)
    tiny = 2.0 ** -1015
    cube = rn.enumerate_regions(stretched_net(net, np.full(3, tiny)), rn.Box([-tiny] * 3, [tiny] * 3))
    assert np.all(cube.volumes == 0)
    assert rn.certify(cube, workers=1).regions == len(cube)
    net2 = random_net([2, 8, 6, 1], 0)
    small = 2.0 ** -520
    square = rn.enumerate_regions(stretched_net(net2, np.full(2, small)), rn.Box([-small] * 2, [small] * 2))
    unit = rn.enumerate_regions(net2, rn.Box([-1.0, -1.0], [1.0, 1.0]))
    np.testing.assert_array_equal(square.volumes, np.ldexp(unit.volumes, -1040))


def test_cells_far_longer_one_way_than_another():
    """Found by a review: cells 1e200 long and 1e-290 thick (volumes of about 1e107) were NaN or
    inf, one power of two for all their coordinates leaving the thin one below float64's range;
    a cell's coordinates are now scaled axis by axis."""
    base = random_net([3, 8, 6, 1], 0)
    W = base.layers[0].W.copy()
    W[:, 2] = 0  # the thin axis cut by the domain only
    net = rn.Network.from_layers([(W, base.layers[0].b), *[(layer.W, layer.b) for layer in base.layers[1:]]])
    sides = np.array([1e200, 1e200, 1e-290])
    regions = rn.enumerate_regions(stretched_net(net, sides), rn.Box(-sides, sides))
    assert np.all(np.isfinite(regions.volumes) & (regions.volumes > 0))
    assert rn.certify(regions, workers=1).regions == len(regions)
