"""Level sets and sublevel sets: closed forms (|x| + |y|, |x| + |y| + |z|), known topology (a disc,
an annulus, two components, a sphere, a shell), an independent polygon-clipping oracle in 2-D,
exact signs where float64 is wrong, meshes and files."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

ABS2 = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
ABS3 = np.concatenate([np.eye(3), -np.eye(3)])


def l1_norm(d, center=None):
    """|x - center|_1 as a ReLU network (one hidden layer of 2 d units)."""
    W = np.concatenate([np.eye(d), -np.eye(d)])
    c = np.zeros(d) if center is None else np.asarray(center, float)
    return rn.Network.from_layers([(W, -W @ c), (np.ones((1, 2 * d)), np.zeros(1))])


def annulus_net():
    """| |x| + |y| - 1.5 |: its sublevel set at 0.5 is the annulus 1 <= |x| + |y| <= 2."""
    return rn.Network.from_layers([(ABS2, np.zeros(4)), (np.array([[1.0] * 4, [-1.0] * 4]), [-1.5, 1.5]),
                                   (np.ones((1, 2)), np.zeros(1))])


def two_diamonds_net():
    """| |x| - 2 | + |y|: its sublevel set at 1 is two diamonds around (-2, 0) and (2, 0)."""
    return rn.Network.from_layers([(ABS2, np.zeros(4)), (np.array([[1.0, 1, 0, 0], [-1, -1, 0, 0],
                                                                    [0, 0, 1, 0], [0, 0, 0, 1]]), [-2.0, 2, 0, 0]),
                                   (np.ones((1, 4)), np.zeros(1))])


def test_level_set_on_one_input_is_points():
    """On one input the level set is the points where the output crosses the value (the edges
    of the subdivision are the regions themselves): y = |x| - 1/2 on [-1, 1] crosses 0 at +-1/2,
    inside the interval (closed), and y = x at 1 only at the domain's end."""
    net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)), (np.ones((1, 2)), [-0.5])])
    regions = rn.enumerate_regions(net, rn.Box([-1.0], [1.0]))
    level = regions.level_set(0.0)
    assert level.f_vector.tolist() == [2] and level.closed
    line = rn.enumerate_regions(rn.Network.from_layers([(np.array([[1.0]]), [0.0]), (np.ones((1, 1)), [0.0])]),
                                rn.Box([-1.0], [1.0]))
    end = line.level_set(1.0)
    assert end.f_vector.tolist() == [1] and not end.closed


def test_volumes_where_exact_vertices_meet_in_float():
    """relu(x0) on [-1, 1]^2 cut at 1e-320 (or 1e-300): the cut's vertices differ from the
    box's exactly but not in float64, so edges of length 0 appear. Their volume is 0, not NaN:
    the half box below has area 2 and the level set length 2."""
    net = rn.Network.from_layers([(np.array([[1.0, 0.0]]), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    below = regions.sublevel_set(1e-320)
    assert np.isfinite(below.volumes).all() and below.volume == pytest.approx(2.0)
    assert regions.level_set(1e-300).volume == pytest.approx(2.0)


def test_level_set_arguments_are_checked_by_name():
    """A value that is not a number, or an output that is not one of the network's, is refused
    with the argument's name; an output given as a float with an integer's value is taken."""
    from regionenum.errors import InvalidArgumentError
    regions = rn.enumerate_regions(l1_norm(2), rn.Box([-2, -2], [2, 2]))
    for value in (None, [0.0], "one"):
        with pytest.raises(InvalidArgumentError, match="value must be a number"):
            regions.level_set(value)
    for output in (None, 1, -1, 0.5, True):
        with pytest.raises(InvalidArgumentError, match="output must be in"):
            regions.level_set(1.0, output=output)
    assert regions.level_set(1.0, output=0.0).f_vector.tolist() == regions.level_set(1.0).f_vector.tolist()


# -- closed forms -----------------------------------------------------------------------------
def test_diamond_has_length_4_sqrt2_and_one_loop():
    regions = rn.enumerate_regions(l1_norm(2), rn.Box([-2, -2], [2, 2]))
    level = regions.level_set(1.0)
    assert level.volume == pytest.approx(4 * np.sqrt(2), rel=1e-14)
    assert level.betti == (1, 1) and level.euler_characteristic == 0 and level.closed
    assert level.f_vector.tolist() == [4, 4]
    disc = regions.sublevel_set(1.0)
    assert disc.volume == pytest.approx(2.0, rel=1e-14) and disc.betti == (1, 0, 0)
    assert disc.euler_characteristic == 1


def test_octahedron_has_area_4_sqrt3_and_is_a_sphere():
    regions = rn.enumerate_regions(l1_norm(3), rn.Box(-2 * np.ones(3), 2 * np.ones(3)))
    level = regions.level_set(1.0)
    assert level.volume == pytest.approx(4 * np.sqrt(3), rel=1e-14)
    assert level.euler_characteristic == 2 and level.betti == (1, 0, 1)
    assert level.closed and len(level.triangles) == 8
    _check_watertight_and_outward(level)
    solid = regions.sublevel_set(1.0)
    assert solid.volume == pytest.approx(4 / 3, rel=1e-14) and solid.betti == (1, 0, 0, 0)


def _check_watertight_and_outward(level):
    """Every edge of the triangles is used once in each direction (closed, consistently
    oriented), and every triangle's normal points away from the origin (where y is small)."""
    T = level.triangles
    directed = np.concatenate([T[:, [0, 1]], T[:, [1, 2]], T[:, [2, 0]]])
    keys = {tuple(e) for e in directed.tolist()}
    assert len(keys) == len(directed) and all((b, a) in keys for a, b in keys)
    X = level.vertices[T]
    normals = np.cross(X[:, 1] - X[:, 0], X[:, 2] - X[:, 0])
    assert np.all(np.einsum("ij,ij->i", normals, X.mean(axis=1)) > 0)


def test_level_set_through_vertices_of_the_subdivision():
    regions = rn.enumerate_regions(l1_norm(2), rn.Box([-2, -2], [2, 2]))
    level = regions.level_set(2.0)  # through (+-2, 0) and (0, +-2), on the box's boundary
    assert level.volume == pytest.approx(8 * np.sqrt(2)) and level.betti == (1, 1)
    assert not level.closed
    assert sorted(level.vertex_faces[:, 0].tolist()) == [0, 0, 0, 0]  # all vertices of the subdivision
    point = regions.level_set(0.0)  # the minimum: a single vertex
    assert point.f_vector.tolist() == [1, 0] and point.betti == (1, 0) and point.volume == 0
    np.testing.assert_array_equal(point.vertices, [[0.0, 0.0]])
    assert regions.level_set(-1.0).f_vector.tolist() == [0, 0]
    assert regions.sublevel_set(-1.0).betti == (0, 0, 0)
    corners = regions.level_set(3.0)
    assert corners.betti == (4, 0) and not corners.closed


# -- known topology ---------------------------------------------------------------------------
def test_annulus_two_components_and_a_shell():
    annulus = rn.enumerate_regions(annulus_net(), rn.Box([-3, -3], [3, 3]))
    ring = annulus.sublevel_set(0.5)
    assert ring.betti == (1, 1, 0) and ring.volume == pytest.approx(6.0)
    assert annulus.level_set(0.5).betti == (2, 2)  # its two boundary loops
    two = rn.enumerate_regions(two_diamonds_net(), rn.Box([-4, -2], [4, 2]))
    assert two.sublevel_set(1.0).betti == (2, 0, 0) and two.sublevel_set(1.0).volume == pytest.approx(4.0)
    assert two.level_set(1.0).betti == (2, 2)
    assert two.sublevel_set(2.0).betti == (1, 0, 0)  # the diamonds touch at the origin: one piece
    # in 3-D: the shell 1 <= |x|_1 <= 2 encloses a cavity
    W = np.concatenate([np.eye(3), -np.eye(3)])
    shell = rn.Network.from_layers([(W, np.zeros(6)), (np.array([[1.0] * 6, [-1.0] * 6]), [-1.5, 1.5]),
                                    (np.ones((1, 2)), np.zeros(1))])
    regions = rn.enumerate_regions(shell, rn.Box(-3 * np.ones(3), 3 * np.ones(3)))
    solid = regions.sublevel_set(0.5)
    assert solid.betti == (1, 0, 1, 0) and solid.euler_characteristic == 2
    assert solid.volume == pytest.approx(4 / 3 * (8 - 1))
    surfaces = regions.level_set(0.5)
    assert surfaces.betti == (2, 0, 2) and surfaces.closed
    assert surfaces.volume == pytest.approx(4 * np.sqrt(3) * (1 + 4))
    _check_watertight(surfaces)


def _check_watertight(level):
    T = level.triangles
    directed = np.concatenate([T[:, [0, 1]], T[:, [1, 2]], T[:, [2, 0]]])
    keys = {tuple(e) for e in directed.tolist()}
    assert len(keys) == len(directed) and all((b, a) in keys for a, b in keys)


def test_decision_regions_of_one_logit_and_their_topology():
    net = annulus_net()
    logit = rn.Network.from_layers([(l.W, l.b) for l in net.layers[:2]] + [(np.ones((1, 2)), [-0.5])])
    regions = rn.enumerate_regions(logit, rn.Box([-3, -3], [3, 3]))
    dec = regions.decision_regions()
    assert sorted(dec.classes.tolist()) == [0, 1, 1]  # the annulus; inside it and outside it
    assert dec.volumes[dec.classes == 0].sum() == pytest.approx(6.0)
    assert dec.betti(0) == (1, 1, 0) and dec.betti(1) == (2, 1, 0)
    X = np.random.default_rng(0).uniform(-3, 3, (4000, 2))
    np.testing.assert_array_equal(regions.locate(X) >= 0, True)
    with pytest.raises(rn.InvalidArgumentError, match="class must be"):
        dec.betti(2)


@pytest.mark.parametrize("seed", range(4))
def test_class_topology_agrees_with_the_decision_regions(seed):
    net = random_net([2, 10, 10, 4], seed)
    regions = rn.enumerate_regions(net, rn.Box([-1.5, -1.5], [1.5, 1.5]))
    dec = regions.decision_regions()
    for c in range(4):
        b = dec.betti(c)
        assert b[0] == np.sum(dec.classes == c)  # generic: pieces of a class touch along facets
        assert b[-1] == 0
    if seed == 0:  # every sign exact, the vertices of earlier cuts' cuts included
        assert [dec.betti(c, tol=1.0) for c in range(4)] == [dec.betti(c) for c in range(4)]


# -- against an independent oracle in 2-D -------------------------------------------------------
def _ordered(P):
    c = P.mean(axis=0)
    return P[np.argsort(np.arctan2(P[:, 1] - c[1], P[:, 0] - c[0]))]


def _clip(P, a, b):
    """The polygon ``P`` (counter-clockwise) cut to ``a . x + b <= 0`` (Sutherland-Hodgman)."""
    out = []
    for p, q in zip(P, np.roll(P, -1, axis=0)):
        fp, fq = a @ p + b, a @ q + b
        if fp <= 0:
            out.append(p)
        if fp * fq < 0:
            out.append(p + fp / (fp - fq) * (q - p))
    return np.array(out)


def _area(P):
    if len(P) < 3:
        return 0.0
    x, y = P[:, 0], P[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _chord(P, a, b):
    """Length of the line ``a . x + b = 0`` inside the convex polygon ``P``."""
    pts = []
    for p, q in zip(P, np.roll(P, -1, axis=0)):
        fp, fq = a @ p + b, a @ q + b
        if fp * fq < 0:
            pts.append(p + fp / (fp - fq) * (q - p))
    return np.linalg.norm(pts[0] - pts[1]) if len(pts) == 2 else 0.0


@pytest.mark.parametrize("seed", range(5))
def test_random_2d_against_polygon_clipping(seed):
    net = random_net([2, 12, 12, 2], seed)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    y = net(regions.interior_points)[:, 1]
    value = float(np.median(y))
    area, length = 0.0, 0.0
    for i in range(len(regions)):
        P = _ordered(regions.vertices_of(i))
        a, b = regions.jacobians[i, 1], regions.offsets[i, 1] - value
        area += _area(_clip(P, a, b))
        length += _chord(P, a, b)
    below = regions.sublevel_set(value, output=1)
    level = regions.level_set(value, output=1)
    assert below.volume == pytest.approx(area, rel=1e-9)
    assert level.volume == pytest.approx(length, rel=1e-9)
    # the polytopes lie in their regions, below the value
    for i in range(len(below)):
        r = below.polytope_region[i]
        V = below.vertices_of(i)
        assert np.all(V @ regions.jacobians[r, 1] + regions.offsets[r, 1] <= value + 1e-9)
    # the level set's vertices are on the level and on the face they name
    np.testing.assert_allclose(net(level.vertices)[:, 1], value, atol=1e-9)
    faces = regions.faces()
    for (k, f), x in zip(level.vertex_faces.tolist(), level.vertices):
        if k == 0:
            np.testing.assert_allclose(faces.vertices[f], x, atol=1e-12)
        else:
            a, b = faces.vertices[faces.edges[f]]
            t = (x - a) @ (b - a) / ((b - a) @ (b - a))
            assert 0 < t < 1 and np.linalg.norm(a + t * (b - a) - x) <= 1e-9
    # Euler-Poincare, and the same complexes when every sign is settled exactly
    for s in (below, level):
        assert s.euler_characteristic == sum((-1) ** k * b for k, b in enumerate(s.betti))
    exact = regions.level_set(value, output=1, tol=1.0)
    assert exact.exact_signs > 0 and exact.betti == level.betti
    np.testing.assert_array_equal(exact.vertex_faces, level.vertex_faces)


def test_random_3d_level_set_is_a_mesh():
    net = random_net([3, 16, 16, 1], 7)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    value = float(np.median(net(regions.interior_points)))
    level = regions.level_set(value)
    below = regions.sublevel_set(value)
    assert level.euler_characteristic == sum((-1) ** k * b for k, b in enumerate(level.betti))
    assert below.euler_characteristic == sum((-1) ** k * b for k, b in enumerate(below.betti))
    # no two vertices in one place: shared vertices are shared by index
    X = level.vertices
    dist = np.linalg.norm(X[:, None] - X[None], axis=2) + np.eye(len(X))
    assert dist.min() > 1e-9
    # each mesh edge inside the box lies on two triangles
    T = level.triangles
    edges = np.sort(np.concatenate([T[:, [0, 1]], T[:, [1, 2]], T[:, [2, 0]]]), axis=1)
    uniq, counts = np.unique(edges, axis=0, return_counts=True)
    on_box = np.isclose(np.abs(X[uniq].mean(axis=1)).max(axis=1), 1.0)  # the edge's midpoint
    assert np.all(counts[~on_box] == 2) and np.all(counts[on_box] == 1)
    # the area against Monte-Carlo is loose; against the polygons' own areas exact
    tri = X[T]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
    assert level.volume == pytest.approx(area, rel=1e-12)
    X = np.random.default_rng(0).uniform(-1, 1, (40000, 3))
    assert below.volume / 8 == pytest.approx(np.mean(net(X)[:, 0] <= value), abs=0.01)


def test_exact_signs_where_float64_is_wrong():
    # y = 0.1 x on [0, 3]: in float64 0.1 * 3 == c below, exactly 3 * fl(0.1) < c: the level
    # set misses the domain, and the whole domain is below c
    c = 0.1 * 3
    net = rn.Network.from_layers([(np.array([[0.1, 0.0]]), [0.0])], ["identity"])
    regions = rn.enumerate_regions(net, rn.Box([0, 0], [3, 1]))
    level = regions.level_set(c)
    assert level.f_vector.tolist() == [0, 0] and level.exact_signs > 0
    assert regions.sublevel_set(c).volume == pytest.approx(3.0)
    below = regions.level_set(0.0)  # y = 0 along x = 0: a whole edge of the box
    assert below.f_vector.tolist() == [2, 1] and not below.closed


def test_mesh_files(tmp_path):
    regions = rn.enumerate_regions(l1_norm(3), rn.Box(-2 * np.ones(3), 2 * np.ones(3)))
    level = regions.level_set(1.0)
    level.save(tmp_path / "octahedron.obj")
    level.save(tmp_path / "octahedron.ply")
    obj = (tmp_path / "octahedron.obj").read_text().splitlines()
    v = np.array([list(map(float, l.split()[1:])) for l in obj if l.startswith("v ")])
    f = np.array([list(map(int, l.split()[1:])) for l in obj if l.startswith("f ")]) - 1
    np.testing.assert_array_equal(v, level.vertices)
    np.testing.assert_array_equal(f, level.triangles)
    ply = (tmp_path / "octahedron.ply").read_text().splitlines()
    assert "element vertex 6" in ply and "element face 8" in ply and "element edge 0" in ply
    body = ply[ply.index("end_header") + 1:]
    np.testing.assert_array_equal(np.array([l.split() for l in body[6:]], int)[:, 1:], level.triangles)
    square = rn.enumerate_regions(l1_norm(2), rn.Box([-2, -2], [2, 2])).level_set(1.0)
    square.save(tmp_path / "diamond.obj")
    lines = [l for l in (tmp_path / "diamond.obj").read_text().splitlines() if l.startswith("l ")]
    assert len(lines) == 4
    with pytest.raises(rn.FileFormatError, match=".obj or .ply"):
        level.save(tmp_path / "mesh.stl")
    with pytest.raises(rn.MissingFileError):
        level.save(tmp_path / "nowhere" / "mesh.obj")


def test_bad_requests_are_refused():
    regions = rn.enumerate_regions(l1_norm(2), rn.Box([-2, -2], [2, 2]))
    with pytest.raises(rn.InvalidArgumentError, match="output must be"):
        regions.level_set(1.0, output=1)
    with pytest.raises(rn.InvalidArgumentError, match="finite"):
        regions.sublevel_set(np.nan)
    with pytest.raises(rn.InvalidArgumentError, match="tol"):
        regions.level_set(1.0, tol=0.0)
    flat = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    dead = rn.enumerate_regions(flat, rn.Box([-1, -1], [1, 1]))  # y = 0 on the quadrant x, y < 0
    with pytest.raises(rn.InvalidArgumentError, match="whole region"):
        dead.level_set(0.0)
    assert dead.sublevel_set(0.0).volume == pytest.approx(1.0)
    whole = rn.enumerate_regions(l1_norm(2), rn.Polytope.whole_space(2))
    with pytest.raises(rn.InvalidDomainError, match="bounded domain"):
        whole.level_set(1.0)
    partial = rn.enumerate_regions(random_net([2, 10, 1], 0), rn.Box([-1, -1], [1, 1]), max_regions=3)
    with pytest.raises(rn.IncompleteResultError):
        partial.sublevel_set(0.0)


@pytest.mark.parametrize("d", [2, 3])
def test_a_level_set_beyond_the_outputs_range_is_empty(d, tmp_path):
    """A value the output never reaches on the domain (above its largest value, found at the
    regions' vertices) has an empty level set: no cells, no polygons or triangles, volume 0,
    Betti numbers 0, a mesh file without faces. In 3-D its polygons' orientation used to fail
    on the missing rows."""
    regions = rn.enumerate_regions(random_net([d, 8, 8, 1], 73), rn.Box(-np.ones(d), np.ones(d)))
    above = float(regions.network(regions.vertices).max()) + 1.0
    level = regions.level_set(above)
    assert level.f_vector.tolist() == [0] * d and level.volume == 0.0
    assert level.betti == (0,) * d and len(level.cell_region) == 0
    if d == 3:
        assert level.polygons == [] and level.triangles.shape == (0, 3)
    level.save(tmp_path / "empty.obj")
    assert "f " not in (tmp_path / "empty.obj").read_text()
    assert regions.sublevel_set(above).volume == pytest.approx(2.0 ** d)
