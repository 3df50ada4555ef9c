"""Certificates: correct results pass, tampered ones fail."""
import pickle
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net, stretched_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("make", [
    lambda: (random_net([2, 10, 10, 1], 8), BOX2),
    lambda: (random_net([3, 6, 6, 1], 9), rn.Box(-np.ones(3), np.ones(3))),
    lambda: (random_net([2, 8, 1], 10), rn.Polytope(np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]),
                                                  np.array([-1.0, 0.0, 0.0]))),
    lambda: (rn.constructions.montufar(2, [4], 3).network, rn.Box([0, 0], [1, 1])),
])
def test_certify_passes_on_correct_results(make):
    net, dom = make()
    regions = rn.enumerate_regions(net, dom)
    cert = rn.certify(regions)
    assert cert.regions == len(regions)
    assert cert.volume == (Fraction(1, 2) if not isinstance(dom, rn.Box) else np.prod(
        [Fraction(float(h)) - Fraction(float(l)) for l, h in zip(dom.lo, dom.hi)]))


def _claim_another_state(regions, r: int) -> None:
    """Make region ``r`` claim one unit in the other state, giving a pattern no region has."""
    known = {row.tobytes() for row in regions.packed_patterns}
    for u in range(regions.network.n_units):
        flipped = regions.packed_patterns.copy()
        flipped[r, u // 8] ^= 0x80 >> (u % 8)
        if flipped[r].tobytes() not in known:
            break
    regions.packed_patterns = flipped
    regions.__dict__.pop("patterns", None)


def test_certify_catches_tampering():
    net = random_net([2, 8, 8, 1], 11)
    regions = rn.enumerate_regions(net, BOX2)
    bad = rn.enumerate_regions(net, BOX2)
    _claim_another_state(bad, 3)
    with pytest.raises(rn.CertificationError, match="region 3: no rational point"):
        rn.certify(bad)
    dup = rn.enumerate_regions(net, BOX2)
    dup.packed_patterns = dup.packed_patterns.copy()
    dup.packed_patterns[1] = dup.packed_patterns[0]
    with pytest.raises(rn.CertificationError, match="regions 0 and 1 have the same pattern"):
        rn.certify(dup)
    assert rn.certify(regions).volume == 4


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_certify_compares_each_volume_with_the_exact_one(dims):
    """A result whose volumes were edited (in a file, say) passed: only their exact sum was
    checked. Every correct volume is within the slack; one off by a millionth is not."""
    net = random_net([dims, 8, 8, 1], 12)
    box = rn.Box(-np.ones(dims), np.ones(dims))
    rn.certify(rn.enumerate_regions(net, box))
    bad = rn.enumerate_regions(net, box)
    r = int(np.argmax(bad.volumes))
    bad.volumes = bad.volumes.copy()
    bad.volumes[r] *= 1 + 1e-6
    with pytest.raises(rn.CertificationError, match=f"region {r}: its volume .* is not its exact volume"):
        rn.certify(bad)
    assert rn.certify(bad, check_volume=False).volume is None


def test_certify_finds_a_point_inside_unbounded_regions_exactly():
    """A float interior point may lie outside its region (far-out vertices of a thin cell: a
    4-D network on a half-space had its mean 6e11 away, on the wrong side of a unit), so
    certify falls back on each piece's exact vertices and rays. Here every float interior point
    is moved off the domain: the unbounded regions, which have no bounded piece, pass all the
    same, and a region claiming another unit's state still fails."""
    net = random_net([2, 8, 8, 1], 12)
    half_plane = rn.Polytope(np.array([[1.0, -1.0]]), np.array([-0.5]))
    regions = rn.enumerate_regions(net, half_plane)
    assert not regions.bounded.all()
    regions.interior_points = np.full_like(regions.interior_points, 1e6)
    regions.interior_points[:, 1] = -1e6  # x0 - x1 - 0.5 > 0: outside the domain
    assert rn.certify(regions).regions == len(regions)
    _claim_another_state(regions, 2)
    with pytest.raises(rn.CertificationError, match="region 2: no rational point"):
        rn.certify(regions)


def test_certify_shares_the_volumes_among_processes(monkeypatch):
    """The forked workers' exact volumes add up to the serial ones, and a result missing a
    region fails there too; the float interior check proves every region of a plain net."""
    from regionenum.verify import certificates
    net = random_net([2, 10, 10, 1], 12)
    regions = rn.enumerate_regions(net, BOX2)
    assert certificates._proven_inside(regions).all()
    serial = rn.certify(regions, workers=1)
    monkeypatch.setattr(certificates, "SAMPLE_CELLS", 1)
    monkeypatch.setattr(certificates, "PARALLEL_SECONDS", 0.0)
    assert rn.certify(regions, workers=2).volume == serial.volume == 4
    missing = rn.enumerate_regions(net, BOX2, max_regions=len(regions) - 1)
    missing.complete = True  # as if the run had finished without its last region
    with pytest.raises(rn.CertificationError, match="volumes sum to"):
        rn.certify(missing, workers=2)
    for bad, error in ((0, rn.InvalidArgumentError), (-1, rn.InvalidArgumentError), (1.5, rn.InvalidArgumentError),
                       (True, rn.ArgumentTypeError), ("2", rn.ArgumentTypeError)):
        with pytest.raises(error, match="workers"):
            rn.certify(regions, workers=bad)


def test_certify_backends():
    import regionenum.verify.certificates as cert_module
    net = random_net([2, 8, 8, 1], 12)
    regions = rn.enumerate_regions(net, BOX2)
    with pytest.raises(rn.InvalidArgumentError, match="backend must be"):  # misuse: not a failed proof
        rn.certify(regions, backend="float")
    assert rn.certify(regions, backend="fractions").backend == "fractions"
    gmp = cert_module._cdd_gmp()
    if gmp is None:
        with pytest.raises(rn.MissingDependencyError, match="needs plain pycddlib"):
            rn.certify(regions, backend="gmp")
        pytest.skip("plain pycddlib with GMP (cdd.gmp) is not installed")
    assert rn.certify(regions, backend="gmp").backend == "fractions+cddlib-gmp"

    class Shifted(cert_module.ExactGeometry):  # one vertex moved: cddlib must disagree
        def point(self, g):
            x = super().point(g)
            return [x[0] + Fraction(1, 2 ** 40)] + x[1:] if g == 0 else x

    with pytest.raises(rn.CertificationError, match="region 0: cddlib finds"):
        cert_module._check_vertices_cdd(regions, Shifted(regions), 0, gmp)


def test_certify_option_of_count_and_enumerate():
    """certify=True attaches the exact re-check; a stopped run has none; many inputs are refused
    before any work."""
    net = random_net([2, 5, 5, 1], 11)
    box = rn.Box([-1.0, -1.0], [1.0, 1.0])
    regions = rn.enumerate_regions(net, box, certify=True)
    assert regions.certificate.regions == len(regions) and regions.certificate.volume == 4
    n = rn.count_regions(net, box, certify=True)
    assert int(n) == len(regions) == n.certificate.regions
    assert pickle.loads(pickle.dumps(n)).certificate.volume == 4
    stopped = rn.enumerate_regions(net, box, certify=True, max_regions=3)
    assert not stopped.complete and stopped.certificate is None
    with pytest.raises(rn.RegionEnumError, match="certify needs vertices"):
        rn.count_regions(random_net([6, 4, 1], 0), rn.Box(-np.ones(6), np.ones(6)), certify=True)


def _tampered(net, box):
    """The enumeration of ``net`` with the first unit's state of region 0 flipped."""
    bad = rn.enumerate_regions(net, box)
    bad.packed_patterns = bad.packed_patterns.copy()
    bad.packed_patterns[0, 0] ^= 0x80
    bad.__dict__.pop("patterns", None)
    return bad


@pytest.mark.parametrize("order", [[1e307, 1e307, -1e307, -1e307], [1e307, -1e307, 1e307, -1e307]])
def test_float_interior_proof_refuses_overflow(order):
    """A unit that is exactly -1 everywhere, whose terms overflow float64: a result claiming it
    is on must not be proven by infinite values against a finite bound. (The engine brings such
    a network into range by powers of two for its float stages; the results here are the
    enumerations of the same regions with the terms scaled down, handed the overflowing network.)"""
    k = len(order)

    def network(terms):
        return rn.Network.from_layers([(np.ones((k, 1)), np.full(k, 10.0)), (np.array([terms]), np.array([-1.0])),
                                       (np.array([[1.0]]), np.zeros(1))], ["identity", "relu", "identity"])

    net, box = network(order), rn.Box([-1.0], [1.0])
    assert len(rn.enumerate_regions(net, box)) == 1
    mild = network(np.sign(order))  # the same unit, exactly -1 everywhere
    for tamper in (False, True):
        regions = _tampered(mild, box) if tamper else rn.enumerate_regions(mild, box)
        regions.network = net
        if tamper:
            with pytest.raises(rn.CertificationError, match="no rational point"):
                rn.certify(regions)
        else:
            rn.certify(regions)


def test_float_interior_proof_covers_subnormal_products():
    """``0.4 t - 0.6 t + 0.3 t`` with ``t = 2^-1074`` is ``0.1 t > 0``, but float64 rounds it
    to ``-t``: only an absolute error term keeps the tampered 'off' from being proven."""
    t = 2.0 ** -1074
    net = rn.Network.from_layers([(np.zeros((3, 1)), np.array([0.4, 0.6, 0.3])),
                                  (np.array([[t, -t, t]]), np.array([0.0])), (np.array([[1.0]]), np.zeros(1))],
                                 ["identity", "relu", "identity"])
    box = rn.Box([-1.0], [1.0])
    rn.certify(rn.enumerate_regions(net, box))
    with pytest.raises(rn.CertificationError, match="no rational point"):
        rn.certify(_tampered(net, box))


def test_certify_starts_processes_only_where_the_sample_says_the_rest_pays(monkeypatch):
    """The first cells are checked and timed here; the rest goes to processes only when it would
    take PARALLEL_SECONDS or more (a count of cells said nothing of their cost)."""
    import multiprocessing
    from regionenum.verify import certificates
    regions = rn.enumerate_regions(random_net([2, 10, 10, 1], 12), BOX2)
    started = []
    fork = multiprocessing.get_context("fork")
    monkeypatch.setattr(certificates.multiprocessing, "get_context", lambda method: started.append(method) or fork)
    monkeypatch.setattr(certificates, "SAMPLE_CELLS", 4)
    monkeypatch.setattr(certificates, "PARALLEL_SECONDS", float("inf"))
    assert rn.certify(regions, workers=2).volume == 4 and not started
    monkeypatch.setattr(certificates, "PARALLEL_SECONDS", 0.0)
    assert rn.certify(regions, workers=2).volume == 4 and started == ["fork"]


def _certify_in_daemon(regions):
    return rn.certify(regions).volume


def test_certify_inside_a_pool_worker_runs_serially(monkeypatch):
    """A pool's worker is a daemon and may not start processes of its own: certify runs its
    volumes there itself."""
    import multiprocessing
    from regionenum.verify import certificates
    monkeypatch.setattr(certificates, "SAMPLE_CELLS", 1)  # inherited by the forked worker
    monkeypatch.setattr(certificates, "PARALLEL_SECONDS", 0.0)
    regions = rn.enumerate_regions(random_net([2, 8, 1], 13), BOX2)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_certify_in_daemon, (regions,)) == 4


def test_certify_from_two_threads_at_once(monkeypatch):
    """Threads other than the main one run serially: two results certified at the same time
    each get their own volumes."""
    from concurrent.futures import ThreadPoolExecutor
    from regionenum.verify import certificates
    monkeypatch.setattr(certificates, "SAMPLE_CELLS", 1)
    monkeypatch.setattr(certificates, "PARALLEL_SECONDS", 0.0)
    results = [rn.enumerate_regions(random_net([2, 8, 8, 1], s), BOX2) for s in (14, 15)]
    with ThreadPoolExecutor(2) as pool:
        volumes = list(pool.map(lambda r: rn.certify(r, workers=2).volume, results * 3))
    assert volumes == [4] * 6


def test_certify_catches_neighbours_that_differ_off_their_facet():
    """Two regions sharing a facet must differ exactly in units zero on it: a facet that names
    another unit as zero, or one that names none, fails; the untouched result passes."""
    net = random_net([2, 8, 8, 1], 12)
    regions = rn.enumerate_regions(net, BOX2)
    faces = regions.faces(min_dim=1)
    regions.faces = lambda min_dim=0: faces  # certify reads these (tampered below) faces
    facets = faces.by_dim[1]
    assert rn.certify(regions, check_volume=False).facets == len(facets)
    inner = np.flatnonzero(np.diff(facets.region_offsets) == 2)
    f = int(inner[len(inner) // 2])
    zero = facets.unit_ids[facets.unit_offsets[f]: facets.unit_offsets[f + 1]]
    original = zero.copy()
    zero[:] = (zero + 1) % net.n_units  # units that do not separate the two regions
    with pytest.raises(rn.CertificationError, match=f"share a facet but differ .*facet {f},"):
        rn.certify(regions, check_volume=False)
    zero[:] = original
    rn.certify(regions, check_volume=False)
    a, b = facets.regions_of(f)  # the same pattern on both sides: nothing separates them
    regions.packed_patterns[b] = regions.packed_patterns[a]
    with pytest.raises(rn.CertificationError):
        rn.certify(regions, check_volume=False)


def _two_units(second, bias, activations=None):
    """``relu(x)`` and ``relu(second . (x, y) + bias)`` (or a max of ``x`` and ``bias`` with
    ``activations``), summed."""
    W = np.array([[1.0, 0.0], second])
    return rn.Network.from_layers([(W, np.array([0.0, bias])), (np.ones((1, 2 if activations is None else 1)),
                                                                np.zeros(1))], activations)


@pytest.mark.parametrize("second, bias, how", [
    ([0.0, 1.0], -0.5, "float64"),  # y = 0.5 crosses both regions
    ([0.0, 1.0], -(1.0 - 2.0 ** -53), "exactly"),  # y = 1 - 2^-53: too close to the corners for float64
])
def test_certify_catches_a_cell_that_a_unit_crosses(second, bias, how):
    """A result whose regions are right in every way the other checks see (interior points,
    distinct patterns, volumes summing to the domain's, neighbours across their facets) but
    whose cells a unit crosses: it was enumerated with that unit off on the whole box and is
    handed the network where it is not. Each cell's vertices must satisfy its region's states.
    The unit touching the box's edge only, exactly, passes."""
    box = BOX2
    wrong = rn.enumerate_regions(_two_units([0.0, 1.0], -5.0), box)
    assert len(wrong) == 2 and (wrong.interior_points[:, 1] == 0).all()
    wrong.network = _two_units(second, bias)
    with pytest.raises(rn.CertificationError, match=f"region 0: a vertex of its cell breaks the state of unit 1 "
                                                    rf"\(layer 0, unit 1\) \({how}"):
        rn.certify(wrong, backend="fractions")
    assert len(rn.enumerate_regions(wrong.network, box)) == 4
    touching = rn.enumerate_regions(_two_units([0.0, 1.0], -5.0), box)
    touching.network = _two_units([0.0, 1.0], -1.0)
    assert rn.certify(touching, backend="fractions").volume == 4


def test_certify_catches_a_ray_or_a_tie_on_the_wrong_side(monkeypatch):
    """The same on an unbounded domain, where only a ray of each piece crosses the unit (no
    volume to compare there), on a max layer, whose ties are checked exactly, and in the
    forked workers."""
    from regionenum.verify import certificates
    strip = rn.Polytope(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]]), np.array([-1.0, -1.0, 0.0]))
    wrong = rn.enumerate_regions(_two_units([0.0, -1.0], -5.0), strip)
    wrong.network = _two_units([0.0, 1.0], -1e6)  # on beyond y = 1e6, far past the pieces' vertices
    with pytest.raises(rn.CertificationError, match="a ray of its cell breaks the state of unit 1"):
        rn.certify(wrong, backend="fractions")
    assert rn.certify(rn.enumerate_regions(wrong.network, strip)).regions == 4
    maxout = [("maxout", 2), "identity"]
    wrong = rn.enumerate_regions(_two_units([0.0, 0.0], 5.0, maxout), BOX2)  # max(x, 5): one region
    wrong.network = _two_units([0.0, 0.0], 0.5, maxout)
    with pytest.raises(rn.CertificationError, match=r"a vertex of its cell breaks which of units 1 and 0 wins "
                                                    r"\(max layer 0\) \(exactly\)"):
        rn.certify(wrong, backend="fractions")
    net = random_net([2, 8, 8, 1], 16)
    wrong = rn.enumerate_regions(net, BOX2)
    shifted = rn.Network.from_layers([(layer.W, layer.b + 0.01) for layer in net.layers[:-1]]
                                     + [(net.layers[-1].W, net.layers[-1].b)])
    wrong.network = shifted
    monkeypatch.setattr(certificates, "SAMPLE_CELLS", 1)
    monkeypatch.setattr(certificates, "PARALLEL_SECONDS", 0.0)
    # (the interior points, checked first, would fail before the cells: here only the cells tell)
    monkeypatch.setattr(certificates, "_proven_inside", lambda regions: np.ones(len(regions), bool))
    monkeypatch.setattr(certificates, "_check_interior", lambda *args: None)
    with pytest.raises(rn.CertificationError, match="of its cell breaks"):  # (the vertices move too)
        rn.certify(wrong, backend="fractions", workers=2)


def test_float_interior_proof_covers_its_own_underflow():
    """Inputs near 2^-1040 times weights near 2^1000: the products are ordinary numbers with
    relative rounding, but the bound's ``gamma max|x|`` underflowed to zero, so the bound lost
    that rounding (2.5e-323 against an error of 1.3e-32) and proved a false sign; found by
    review. The exact value here is -9.1e-34; the float one 1.2e-32 or -5.0e-33, as the BLAS build
    sums it."""
    from regionenum.verify import certificates
    W = np.array([[float.fromhex("0x1.261565f75c3e2p+1000"), float.fromhex("0x1.f8fe33b284514p+1000"),
                   float.fromhex("-0x1.b903b340c47bdp+1000")]])
    x = np.array([[float.fromhex(v) for v in ("0x0.0000000003c3dp-1022", "0x0.00000000d3cedp-1022",
                                              "0x0.00000000f50bbp-1022")]])
    exact = sum(Fraction(w) * Fraction(v) for w, v in zip(W[0], x[0]))
    assert exact < 0
    net = rn.Network.from_layers([(W, np.zeros(1)), (np.ones((1, 1)), np.zeros(1))], ["relu", "identity"])
    rows = certificates._FloatRows(net, rn.Box(-np.ones(3), np.ones(3)), list(net.layers[:1]),
                                   [certificates._RowSizes.of(net.layers[0])])
    ((_, z, e),) = certificates._unit_values(rows, x, np.ones(1), np.zeros(1))
    # the bound covers the product's rounding, in whatever order the BLAS build sums it (some give
    # the wrong sign here, others the right one), so no false sign is proven
    assert abs(Fraction(z[0, 0]) - exact) <= Fraction(e[0, 0])
    assert not z[0, 0] > e[0, 0]
    assert not certificates._block_inside(rows, x, np.array([[True]]))[0]


def test_certify_reads_each_cell_with_its_regions_pattern():
    """The exact vertices are built from the cells' own bits and the constraints read the
    regions': a cell whose bits are not its region's fails (found by review)."""
    regions = rn.enumerate_regions(random_net([2, 8, 1], 13), BOX2)
    regions.cells.packed = regions.cells.packed.copy()
    regions.cells.packed[2, 0] ^= 0x80
    with pytest.raises(rn.CertificationError, match="region 2: its cell 2 has another pattern"):
        rn.certify(regions, backend="fractions", workers=1)


def _exact_pre_activations(net, x):
    """Every layer's pre-activations at the rational point ``x`` (Fractions), the network's own
    activations applied exactly: an oracle for the float64 proof's bounds."""
    a, out = [Fraction(v) for v in x], []
    for layer in net.layers:
        z = [sum((Fraction(w) * v for w, v in zip(row, a)), Fraction(b)) for row, b in zip(layer.W, layer.b)]
        out.append(z)
        alpha = Fraction(layer.activation.off_slope) if layer.activation.kind != "identity" else Fraction(1)
        a = [v if v > 0 else alpha * v for v in z]
    return out


@pytest.mark.parametrize("widths, activations", [
    ([2, 24, 24, 24, 24, 1], None),
    ([1, 32, 32, 32, 32, 32, 1], None),
    ([3, 16, 16, 16, 1], ["leaky_relu:0.1", "leaky_relu:0.1", "leaky_relu:0.1", "identity"]),
])
def test_float_interior_proof_bounds_hold_against_exact_values(widths, activations):
    """Every bound of the float64 proof (largest entry and 2-norm carried from layer to layer)
    covers the distance from the exact pre-activation, at interior points and at vertices."""
    from regionenum.verify import certificates
    net = random_net(widths, 21, activations=activations)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(widths[0]), np.ones(widths[0])))
    rows = certificates._FloatRows.of(regions)
    X = np.vstack([regions.interior_points[:12], regions.vertices[:12]])
    checked = 0
    for l, z, e in certificates._unit_values(rows, X, np.ones(len(X)), np.zeros(len(X))):
        for i, x in enumerate(X):
            exact = _exact_pre_activations(net, x)[l]
            for u in range(z.shape[1]):
                assert abs(Fraction(z[i, u]) - exact[u]) <= Fraction(e[i, u])
                checked += 1
    assert checked == len(X) * sum(widths[1:-1])


def test_float_interior_proof_proves_a_deep_wide_net():
    """Eight layers of 512 units on one input: with the inputs' error carried as its largest
    entry alone (growing by the row sums of |W|, about 25 a layer) 1,807 of its 3,581 regions
    were left to rational arithmetic (two minutes of certify); in 2-norm too, none is."""
    from regionenum.verify import certificates
    net = random_net([1] + [512] * 8 + [1], 0)
    regions = rn.enumerate_regions(net, rn.Box([-1.0], [1.0]))
    assert certificates._proven_inside(regions).all()


def _hull_cell(rng, d: int, n: int):
    """A convex polytope in ``d`` dimensions from ``n`` random points with large coprime scales:
    its vertices as homogeneous integer vectors ``(t, x)`` (a dict), its facets as
    :func:`~regionenum.verify.facet_volumes.cell_facets` takes them (edges, or triangles: a
    polygon of three), and its exact volume summed in fractions over a pulling triangulation
    (the simplices from its first vertex to the facets that miss it)."""
    from math import factorial

    from scipy.spatial import ConvexHull
    t = [int(v) for v in rng.integers(1, 2**40, size=n)]
    vertices = {g: [t[g]] + [int(v) * t[g] // 2**20 + int(rng.integers(-3, 4)) for v in
                             rng.integers(-2**20, 2**20, size=d)] for g in range(n)}
    points = {g: [Fraction(a, v[0]) for a in v[1:]] for g, v in vertices.items()}
    hull = ConvexHull(np.array([[float(p) for p in points[g]] for g in range(n)]))
    keep = sorted(int(g) for g in hull.vertices)
    facets = [[int(g) for g in s] for s in hull.simplices]
    apex = keep[0]
    volume = Fraction(0)
    for s in facets:
        if apex not in s:
            m = [[points[g][j] - points[apex][j] for j in range(d)] for g in s]
            volume += abs(_fraction_det(m)) / factorial(d)
    return {g: vertices[g] for g in keep}, facets, volume


def _fraction_det(m):
    """The determinant by expansion along the first row, recursively (an oracle)."""
    return m[0][0] if len(m) == 1 else sum((-1) ** j * m[0][j] * _fraction_det([r[:j] + r[j + 1:] for r in m[1:]])
                                           for j in range(len(m)))


@pytest.mark.parametrize("d", [2, 3])
def test_cell_volumes_from_signed_facets(d):
    """On convex hulls of points with large coprime scales: a cell's float volume is within its
    bound of the exact one (summed in fractions); its signed facets' cones from any apex sum
    to that exact volume; two cells sharing a facet cancel it in the ledger and sum to both
    volumes, while a cell counted twice cancels nothing (its facets come with the same signs)."""
    from regionenum.verify.facet_volumes import FacetLedger, canonical, cell_facets
    rng = np.random.default_rng(4 + d)
    for trial in range(12):
        vertices, facets, want = _hull_cell(rng, d, int(rng.integers(d + 2, 14)))
        origin = [2**30] + [int(v) for v in rng.integers(-2**40, 2**40, size=d)]  # anywhere
        ledger = FacetLedger(origin)
        near, error = cell_facets(vertices, facets, ledger)
        assert 0 < error < 1e-12 * near
        assert abs(Fraction(near) - want) <= Fraction(error)
        assert ledger.volume() == want
        cell_facets(vertices, facets, ledger)  # the same cell again: nothing cancels
        assert len(ledger.signs) == len(facets) and ledger.volume() == 2 * want
        for wrong in (facets[1:], facets + facets[:1]):  # a facet missing, or one twice
            with pytest.raises(rn.CertificationError, match="facets do not close up"):
                cell_facets(vertices, wrong, FacetLedger(origin))
    # a bipyramid cut along its base: two cells sharing one facet, on either side of it
    base = {0: [3, 0, 0, 0], 1: [3, 6, 0, 0], 2: [3, 0, 6, 0]}  # (0, 0, 0), (2, 0, 0), (0, 2, 0)
    apexes = {3: [5, 1, 1, 7], 4: [7, 1, 2, -9]}  # above and below the plane z = 0
    if d == 2:
        base, apexes = {0: [3, 0, 0], 1: [3, 6, 0]}, {3: [5, 1, 7], 4: [7, 1, -9]}
    ledger = FacetLedger([1] + [0] * d)
    total = Fraction(0)
    for a in (3, 4):
        cell = {**base, a: apexes[a]}
        shared = sorted(base)
        sides = [sorted(set(shared) - {g} | {a}) for g in shared]  # (a triangle's three are in cyclic order)
        cell_facets(cell, [shared] + sides, ledger)
        points = [[Fraction(x, v[0]) for x in v[1:]] for v in cell.values()]
        edges = [[p[j] - points[0][j] for j in range(d)] for p in points[1:]]
        total += abs(_fraction_det(edges)) / (2 if d == 2 else 6)
    assert len(ledger.signs) == 2 * d  # the shared facet cancelled
    assert ledger.volume() == total
    # one orientation per facet, however a cell lists it
    points = [(5,), (3,), (9,), (1,), (7,)]
    ring = [0, 1, 2, 3, 4]
    want = (3, 4, 0, 1, 2)  # from the least, towards the lesser of its neighbours (7 < 9)
    assert canonical(ring, points) == canonical(ring[2:] + ring[:2], points) == want
    assert canonical(ring[::-1], points) == want
    assert canonical([2, 4], points) == canonical([4, 2], points) == (4, 2)


def test_polygon_rings_from_a_cells_edges():
    """A 2-face's vertices in cyclic order from its cell's edges (a cube's top face among its
    twelve edges); edges that do not make one polygon through the face's vertices fail."""
    from regionenum.verify.facet_volumes import polygon_ring
    cube = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]  # bits: x, y, z
    neighbours = {}
    for a, b in cube:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    top = [4, 5, 6, 7]  # z = 1
    assert polygon_ring(top, neighbours) in ([4, 5, 7, 6], [4, 6, 7, 5])
    broken = {v: [w for w in ws if {v, w} != {5, 7}] for v, ws in neighbours.items()}  # an edge missing
    with pytest.raises(rn.CertificationError, match="do not form one polygon"):
        polygon_ring(top, broken)
    with pytest.raises(rn.CertificationError, match="do not form one polygon"):
        polygon_ring(top + [0], neighbours)  # a vertex off the face: 4 has three neighbours in it


def test_determinants_of_integer_rows():
    """The explicit determinants of 2 x 2 to 4 x 4 integer rows equal the cofactor expansion,
    on entries far beyond 64 bits and on singular matrices."""
    from regionenum.verify.facet_volumes import det
    rng = np.random.default_rng(4)
    for n in (2, 3, 4):
        for _ in range(100):
            m = [[int(v) * 2**40 + int(w) for v, w in zip(row, rng.integers(0, 2**40, size=n))]
                 for row in rng.integers(-2**62, 2**62, size=(n, n))]
            if rng.random() < 0.2:  # a singular one: a row a multiple of another
                m[-1] = [v * 2**100 for v in m[0]]
            assert det(m) == _fraction_det(m)


@pytest.mark.parametrize("dims", [2, 3])
def test_certify_names_a_vertex_that_is_not_a_point(dims):
    """Found by a review: a float vertex negated, ``(t, x) -> (-t, -x)`` (a corrupt vertex at
    ``-x``), failed the 3-D volumes with a negative "exact volume" (integer volumes assume ``t >
    0``; the old fractions passed it), and the 2-D ones too; now it is named."""
    regions = rn.enumerate_regions(random_net([dims, 8, 8, 1], 1), rn.Box(-np.ones(dims), np.ones(dims)))
    regions.cells.gens = regions.cells.gens.copy()
    g = int(np.flatnonzero(regions.cells.gens[:, 0] > 0)[len(regions.cells.gens) // 3])
    regions.cells.gens[g] *= -1
    with pytest.raises(rn.CertificationError, match=f"generator {g} of its cell .* is not a point"):
        rn.certify(regions, workers=1)


def test_certify_passes_correct_volumes_far_from_the_origin():
    """Found by a review: a correct result on ``[1e6, 1e6 + 1e-3]^3`` failed, its float volumes
    1.5e-6 of their exact ones off (each vertex rounds relative to its coordinates, 1e6): their
    slack now allows for the vertices' error bounds. A volume one per cent off still fails."""
    net = random_net([3, 6, 6, 1], 20)
    rng = np.random.default_rng(20)
    far, side = 1e6, 1e-3
    W1 = net.layers[0].W / side  # the first layer's planes through points of the far box
    b1 = -(W1 * (far + side * rng.random((W1.shape[0], 3)))).sum(axis=1)
    net = rn.Network.from_layers([(W1, b1)] + [(layer.W, layer.b) for layer in net.layers[1:]])
    box = rn.Box(np.full(3, far), np.full(3, far + side))
    regions = rn.enumerate_regions(net, box)
    assert len(regions) > 50
    assert rn.certify(regions, workers=1).volume == np.prod([Fraction(float(h)) - Fraction(float(l))
                                                             for l, h in zip(box.lo, box.hi)])
    r = int(np.argmax(regions.volumes))
    regions.volumes = regions.volumes.copy()
    regions.volumes[r] *= 1.01
    with pytest.raises(rn.CertificationError, match=f"region {r}: its volume"):
        rn.certify(regions, workers=1)


def test_certify_cells_of_more_than_64_generators():
    """Found by a review: the face kernel leaves cells of more than 64 generators to a kernel of
    their own, which the certificate never called: a 70-gon domain's cells had no facets (and
    the domain's own volume none either), and every correct result failed."""
    angles = 2 * np.pi * np.arange(70) / 70
    domain = rn.Polytope(np.stack([np.cos(angles), np.sin(angles)], axis=1), -np.ones(70))
    plain = rn.Network.from_layers([(np.zeros((1, 2)), np.zeros(1))], activations=["identity"])
    whole = rn.enumerate_regions(plain, domain)  # one region, the domain: 70 vertices
    assert np.diff(whole.cells.gen_off).tolist() == [70]
    volume = rn.certify(whole, workers=1).volume
    assert abs(float(volume) - whole.volumes[0]) < 1e-12
    assert rn.certify(rn.enumerate_regions(random_net([2, 4, 1], 0), domain), workers=1).volume == volume


def test_certify_a_domain_whose_volume_is_beyond_float64():
    """Found by a review: on a box of side 2e150 in 3-D the float volumes are infinite (as the
    exact ones round) and the certificate stopped, first with an OverflowError, then refusing
    the result; the exact sum is finite, and a finite float volume there is wrong."""
    box = rn.Box(np.full(3, 1e150), np.full(3, 3e150))
    net = random_net([3, 6, 6, 1], 2)
    W1 = net.layers[0].W / 1e150  # the first layer's planes through the box
    net = rn.Network.from_layers([(W1, net.layers[0].b - W1.sum(axis=1) * 2e150)]
                                 + [(layer.W, layer.b) for layer in net.layers[1:]])
    regions = rn.enumerate_regions(net, box)
    assert len(regions) > 10 and np.isinf(regions.volumes).all()
    assert rn.certify(regions, workers=1).volume == (Fraction(3e150) - Fraction(1e150)) ** 3
    regions.volumes = regions.volumes.copy()
    regions.volumes[3] = 1e300
    with pytest.raises(rn.CertificationError, match="region 3: its volume"):
        rn.certify(regions, workers=1)


@pytest.mark.parametrize("d, side", [(2, 1e-162), (3, 1e-108)])
def test_certify_tiny_domains(d, side):
    """Found by a review: where the slack of a tiny domain underflows to zero, an exact match
    failed against the float volume's own rounding bound (now allowed, as the rounding of the
    exact volume to float64 was before)."""
    from tests.oracles import stretched_net
    net = stretched_net(random_net([d, 8, 8, 1], 0), np.full(d, side / 2), side / 2)
    regions = rn.enumerate_regions(net, rn.Box(np.zeros(d), np.full(d, side)))
    assert rn.certify(regions, workers=1).volume == Fraction(side) ** d


@pytest.mark.parametrize("d", [1, 2, 3])
def test_certify_catches_a_volume_edited_with_its_vertices(d):
    """Found by a review: a volume edited by half again passed where the cell's float vertices
    were also moved (the volume's slack grew with their distance from the exact vertices);
    that distance now counts only as far as the generators' own error bounds allow."""
    regions = rn.enumerate_regions(random_net([d, 6, 6, 1], 3), rn.Box(-np.ones(d), np.ones(d)))
    r = int(regions.cell_region[0])
    regions.volumes = regions.volumes.copy()
    regions.volumes[r] *= 1.5
    g0, g1 = regions.cells.gen_off[0], regions.cells.gen_off[1]
    regions.cells.gens[g0:g1, 1:] += 0.5 * np.sign(regions.cells.gens[g0:g1, 1:])
    with pytest.raises(rn.CertificationError, match=f"region {r}: its volume"):
        rn.certify(regions, workers=1)


def test_certify_names_malformed_facets():
    """Found by a review: a 1-D cell that lost a generator stopped the certificate with a bare
    StopIteration (its one facet held every vertex); facets of the wrong size raised
    IndexError or ValueError. Each is now a CertificationError naming the region."""
    from regionenum.verify.facet_volumes import FacetLedger, cell_facets
    with pytest.raises(rn.CertificationError, match="1 facets, where a polytope has 2"):
        cell_facets({0: [1, 3]}, [[0]], FacetLedger([1, 0]))
    square = {0: [1, 0, 0], 1: [1, 1, 0], 2: [1, 1, 1], 3: [1, 0, 1]}
    with pytest.raises(rn.CertificationError, match="a facet of its cell has 3 vertices"):
        cell_facets(square, [[0, 1, 2], [1, 2], [2, 3], [3, 0]], FacetLedger([1, 0, 0]))
    with pytest.raises(rn.CertificationError, match="holds every vertex"):
        cell_facets({0: [1, 0, 0], 1: [1, 1, 0]}, [[0, 1], [1, 0], [0, 1]], FacetLedger([1, 0, 0]))
    regions = rn.enumerate_regions(random_net([1, 8, 8, 1], 2), rn.Box([-1.0], [1.0]))
    cells = regions.cells
    keep = np.ones(len(cells.gens), bool)
    keep[cells.gen_off[0]] = False  # cell 0 loses its first generator
    cells.gen_off = cells.gen_off - np.concatenate([[0], np.ones(len(cells.gen_off) - 1, np.int64)])
    counts = np.diff(cells.inc_off)[keep]
    cells.inc = np.concatenate([cells.inc[cells.inc_off[g]: cells.inc_off[g + 1]] for g in np.flatnonzero(keep)])
    cells.inc_off = np.concatenate([[0], np.cumsum(counts)])
    cells.gens, cells.gen_err = cells.gens[keep], cells.gen_err[keep]
    with pytest.raises(rn.CertificationError, match="region"):
        rn.certify(regions, workers=1)


def test_certify_checks_volumes_on_a_domain_beyond_float64():
    """Found by a second review: where the domain's box volume overflows, the slack (a share of
    it) was infinite and any volume passed: the cells' own boxes measure it there instead. A
    NaN error bound on a generator made the slack infinite too (it now caps nothing), and
    error bounds of the wrong length stopped the certificate with a ValueError."""
    net = rn.Network.from_layers([(np.array([[1.0, 0.0], [1.0, 0.0]]), -np.array([1e150, 2e150])),
                                  (np.ones((1, 2)), np.zeros(1))])
    regions = rn.enumerate_regions(net, rn.Box([0.0, 0.0], [1e155, 1e155]))  # strips of area 1e305
    with np.errstate(over="ignore"):
        assert np.isinf(np.prod(regions.domain.bounds[1])) and np.isfinite(regions.volumes[:2]).all()
    rn.certify(regions, workers=1)
    for wrong in (0.0, 2e305, np.inf):
        regions.volumes = regions.volumes.copy()
        regions.volumes[0] = wrong
        with pytest.raises(rn.CertificationError, match="region 0: its volume"):
            rn.certify(regions, workers=1)
    regions = rn.enumerate_regions(random_net([2, 6, 6, 1], 3), BOX2)
    regions.volumes = regions.volumes.copy()
    regions.volumes[int(regions.cell_region[0])] *= 2
    regions.cells.gen_err = regions.cells.gen_err.copy()
    regions.cells.gen_err[regions.cells.gen_off[0]] = np.nan
    with pytest.raises(rn.CertificationError, match="its volume"):
        rn.certify(regions, workers=1)
    regions.cells.gen_err = regions.cells.gen_err[:-1]
    with pytest.raises(rn.CertificationError, match="error bounds have shape"):
        rn.certify(regions, workers=1)


def _stretched(d, lo, hi, seed=4):
    """A random net seen on the box ``[lo, hi]`` as on ``[-1, 1]^d`` (its regions spread over it)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    net = stretched_net(random_net([d, 8, 8, 1], seed), (hi - lo) / 2, centre=(lo + hi) / 2)
    return rn.enumerate_regions(net, rn.Box(lo, hi))


@pytest.mark.parametrize("d,lo,width", [(2, 1e9, 1e-6), (3, 1e9, 1e-6), (3, 1e15, 1.0)])
def test_certify_far_from_the_origin_where_float_vertices_coincide(d, lo, width):
    """Cells smaller than their coordinates' rounding have float vertices that coincide and a
    float volume of 0: the slack those vertices' errors allow covers it (such results were
    refused), and a volume a thousand times the domain's is still caught, or a negative one."""
    regions = _stretched(d, [lo] * d, [lo + width] * d)
    assert np.any(regions.volumes == 0)
    assert rn.certify(regions).regions == len(regions)
    volume = regions.volumes[0]
    regions.volumes[0] += 1e3 * width ** d
    with pytest.raises(rn.CertificationError, match="region 0"):
        rn.certify(regions)
    regions.volumes[0] = volume
    r = int(np.flatnonzero(regions.volumes > 0)[0])
    regions.volumes[r] *= -1  # within the slack of an unresolved cell, but no volume
    with pytest.raises(rn.CertificationError, match=f"region {r}: its volume .* is negative"):
        rn.certify(regions)


@pytest.mark.parametrize("hi", [[1e200, 1e-200], [1e100, 1.0, 1e-100]])
def test_certify_catches_a_volume_edited_on_a_thin_domain(hi):
    """On a strip 1e200 long and 1e-200 wide the slack was the long side's rounding times the
    strip's length, far beyond any region's volume: a volume 1% off passed. Each coordinate's
    rounding now counts along its own side."""
    regions = _stretched(len(hi), np.zeros(len(hi)), hi)
    assert rn.certify(regions).regions == len(regions)
    regions.volumes[3] *= 1.01
    with pytest.raises(rn.CertificationError, match="region 3"):
        rn.certify(regions)


@pytest.mark.parametrize("volumes", [lambda v: v[:-1], lambda v: v[:, None], lambda v: "volumes", lambda v: None])
def test_certify_names_malformed_volumes(volumes):
    """Volumes of the wrong length or kind (a file edited by hand) raised IndexError or
    TypeError from inside the checks."""
    regions = rn.enumerate_regions(random_net([2, 6, 1], 0), rn.Box([-1, -1], [1, 1]))
    regions.volumes = volumes(regions.volumes)
    with pytest.raises(rn.CertificationError, match="volumes"):
        rn.certify(regions)
