"""Re-check an enumeration in exact rational arithmetic.

:func:`certify` proves, with Python integers and fractions only, that

1. every region has interior: a rational point satisfies every unit's state strictly (on:
   pre-activation ``> 0``; off: ``< 0``, or the unit is identically zero on the region) and lies
   strictly inside the domain. The region's float interior point is a rational point, and
   float64 with a rigorous bound on each rounding error proves this for most regions; the rest
   are checked with integers;
2. the patterns are distinct, so no region is listed twice;
3. (``d <= 3``, bounded domains) the regions' exact volumes, from their exact rational vertices,
   sum exactly to the domain's, so together with 1 and 2 nothing is missing;
4. the adjacency is consistent: every facet of the subdivision lies on one region (the domain's
   boundary) or two, and two regions sharing a facet differ exactly in units zero on it.

It returns a :class:`Certificate` or raises :class:`CertificationError` naming the failing
region. Everything else uses Python integers and fractions; the exact volumes are shared among
processes. Where plain ``pycddlib`` is
installed with its GMP backend (``cdd.gmp``; it needs Debian's ``libcdd-dev`` and
``libgmp-dev``), each region's vertices are also recomputed independently by cddlib, in exact
arithmetic, from the region's own inequalities, and must equal the engine's exact vertices
(``backend="gmp"`` insists on it, ``"fractions"`` skips it, ``"auto"`` uses it when present).
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from fractions import Fraction
from math import factorial, gcd

import numpy as np
from threadpoolctl import threadpool_limits

from ..analysis.exact_geometry import ExactGeometry
from ..core.arrays import ranges
from ..core.domain import Box
from ..core.network import Network
from ..core.threads import one_blas_thread, usable_cpus
from ..core.tolerances import ETA, U, gamma
from ..engine.api import enumerate_regions
from ..engine.kernels.lattice import cell_faces
from ..errors import CertificationError, IncompleteResultError, InvalidArgumentError, MissingDependencyError
from .proof import Proof, check_proof

__all__ = ["Certificate", "certify"]


@dataclass
class Certificate:
    """What was proven: ``regions`` with interior and distinct patterns, their exact total
    ``volume`` (a Fraction, None when not checked) equal to the domain's, ``facets`` checked,
    and how long it took."""

    regions: int
    volume: Fraction | None
    facets: int
    seconds: float
    backend: str = "fractions"


def certify(regions, check_volume: bool = True, backend: str = "auto", workers: int | None = None):
    """Re-check a result exactly.

    Parameters
    ----------
    regions : Regions, Proof, or a verification result with a ``proof``
        An enumeration (checked as the module's description says), or a proof of ``unsat``
        from the property-directed search (replayed and checked by
        :func:`regionenum.verify.proof.check_proof`).
    check_volume : bool
        For enumerations in up to 3 dimensions: also check the exact volumes.
    backend : {"auto", "fractions", "gmp"}
        For enumerations: whether cddlib (GMP) also recomputes each region's vertices.
    workers : int, optional
        Processes that share the exact volumes (each checks a range of cells; forked where the
        platform can, so nothing is copied). Default: the cores this process may use; 1 runs
        in this process. Small results, and calls from a daemonic process (a pool's or Dask's
        worker) or from a thread other than the main one, always run here.

    Returns
    -------
    Certificate or ProofCheck

    Raises
    ------
    CertificationError
        The result is wrong (the message names the region, or the case and cell).
    IncompleteResultError
        An enumeration stopped early, or a verification result without a proof.
    """
    proof = getattr(regions, "proof", regions)
    if isinstance(proof, Proof):
        return check_proof(proof)
    if hasattr(regions, "proof"):
        raise IncompleteResultError(f"only an unsat answer has a proof to check (this one is "
                                    f"{getattr(regions, 'status', '?')})")
    if workers is not None and (not isinstance(workers, (int, np.integer)) or isinstance(workers, bool)
                                or workers < 1):
        raise InvalidArgumentError(f"workers must be a positive integer, got {workers!r}")
    if backend not in ("auto", "fractions", "gmp"):
        raise InvalidArgumentError(f"backend must be 'auto', 'fractions' or 'gmp', got {backend!r}")
    if not regions.complete:
        raise IncompleteResultError(f"only a complete enumeration can be certified (this one stopped: "
                                    f"{regions.stop_reason})")
    gmp = _cdd_gmp() if backend != "fractions" else None
    if backend == "gmp" and gmp is None:
        raise MissingDependencyError("backend 'gmp' needs plain pycddlib built with GMP (cdd.gmp); "
                                 "install libcdd-dev and libgmp-dev, then pip install pycddlib")
    start = time.perf_counter()
    geo = ExactGeometry(regions)
    measure = check_volume and regions.dim <= 3 and regions.domain.is_bounded
    # the volumes (most of the work) start first, the other checks run here meanwhile
    with _volume_job(regions, geo, workers) if measure else nullcontext() as total_volume:
        _check_distinct(regions)
        proven = _proven_inside(regions)
        for r in np.flatnonzero(~proven):
            _check_interior(regions, geo, int(r))
        use_gmp = gmp is not None and regions.domain.is_bounded
        if use_gmp:
            for c in range(len(regions.cells)):
                _check_vertices_cdd(regions, geo, c, gmp)
        try:  # checked while the volumes are summed, reported after them (a missing region fails both)
            facets, broken = _check_adjacency(regions), None
        except CertificationError as error:
            facets, broken = None, error
        volume = None
        if measure:
            volume = total_volume()
            expected = _domain_volume(regions.domain)
            if volume != expected:
                raise CertificationError(f"the regions' exact volumes sum to {volume} (about "
                                         f"{float(volume):.17g}), not the domain's {expected}")
    if broken is not None:
        raise broken
    return Certificate(len(regions), volume, facets, time.perf_counter() - start,
                       "fractions+cddlib-gmp" if use_gmp else "fractions")


def _cdd_gmp():
    try:
        import cdd
        import cdd.gmp
    except ImportError:
        return None
    return cdd


def _check_vertices_cdd(regions, geo, c, cdd):
    """cddlib (GMP) computes cell ``c``'s vertices, in exact arithmetic, from its region's
    inequalities (every unit's state and the domain's rows); they must be the engine's exact
    vertices. To keep cddlib's work small it is given only the constraints tight somewhere on the
    cell, and each vertex it finds is then checked against every other constraint exactly: a
    polytope whose vertices satisfy all constraints lies inside the full one, so the two agree."""
    r = int(regions.cell_region[c])
    ids, cells = regions.constraint_ids, regions.cells
    pattern = regions.patterns[r]
    listed = set(cells.con_ids[cells.con_off[c]: cells.con_off[c + 1]].tolist())
    exact_rows = regions.complex.constraints.exact_rows
    domain = [[-Fraction(int(v)) for v in exact_rows[i]] for i in range(ids.n_domain)]
    # (constraint id, cdd row) for every unit and tie not identically zero on the region (cdd's
    # rows read b + a x >= 0)
    units = [(ids.unit_start + k, [int(v) for v in row])
             for k, row, _ in geo.net.region_constraints(pattern) if any(row)]
    chosen = domain + [[Fraction(v) for v in row] for cid, row in units if cid in listed]
    mat = cdd.gmp.matrix_from_array(chosen, rep_type=cdd.RepType.INEQUALITY)
    found = {tuple(g[1:]) for g in cdd.gmp.copy_generators(cdd.gmp.polyhedron_from_matrix(mat)).array}
    for x in found:
        q = 1
        for v in x:
            q = q * v.denominator // gcd(q, v.denominator)
        h = [q] + [int(v * q) for v in x]
        for cid, row in units:
            if sum(a * b for a, b in zip(row, h)) < 0:
                raise CertificationError(f"region {r}: a vertex cddlib finds breaks unit constraint {cid}")
    ours = {tuple(geo.point(g)) for g in range(cells.gen_off[c], cells.gen_off[c + 1])}
    if found != ours:
        raise CertificationError(f"region {r}: cddlib finds {len(found)} vertices from its inequalities, "
                                 f"the enumeration {len(ours)}, and they differ")


def _check_distinct(regions):
    seen = {}
    for i, row in enumerate(regions.packed_patterns):
        key = row.tobytes()
        if key in seen:
            raise CertificationError(f"regions {seen[key]} and {i} have the same pattern")
        seen[key] = i


def _proven_inside(regions) -> np.ndarray:
    """Per region, whether its float interior point (a rational point) is proven strictly inside
    it by float64 with a rigorous bound on every rounding error: the domain's rows and, layer
    by layer, every unit's pre-activation under the region's pattern (slopes from its bits, as
    in the exact rows of :meth:`~regionenum.core.exact.ExactNetwork.region_constraints`), each
    beyond its bound ``(gamma_{n+2} max|a| + e) r + gamma_{n+2} |b| + (n + 2) eta``, with ``r``
    the unit's row sum of ``|W|``, ``e`` the largest bound carried in (``u |a| + eta`` more after
    a slope other than 0 or 1), ``eta = 2^-1074`` for the absolute error of subnormal products,
    and the bound's own rounding: one matrix product per layer, on blocks of regions small
    enough that their temporaries stay in cache. A value or bound that is not finite proves
    nothing. False where this does not prove it (the exact check then runs); all False for
    networks with max layers, whose ties the exact check reads."""
    net = regions.network
    n = len(regions)
    if n == 0 or any(layer.activation.kind == "max" for layer in net.layers):
        return np.zeros(n, bool)
    X = np.asarray(regions.interior_points, np.float64)
    bits = regions.patterns
    layers = net.layers[: max(net.split_layers, default=-1) + 1]
    sums = [np.abs(layer.W).sum(axis=1) * (1.0 + gamma(layer.W.shape[1] + 2)) for layer in layers]
    ok = np.empty(n, bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for lo in range(0, n, PROOF_BLOCK):
            hi = min(lo + PROOF_BLOCK, n)
            ok[lo:hi] = _block_inside(net, regions.domain, layers, sums, X[lo:hi], bits[lo:hi])
    return ok


#: Regions whose interior points are checked in float64 at once (see :func:`_proven_inside`).
PROOF_BLOCK = 2048


def _block_inside(net, dom, layers, sums, X, bits) -> np.ndarray:
    """:func:`_proven_inside` for the points ``X`` with patterns ``bits``."""
    if len(dom.b):
        value = X @ dom.A.T + dom.b
        err = gamma(dom.dim + 2) * (np.abs(X) @ np.abs(dom.A).T + np.abs(dom.b)) + (dom.dim + 2) * ETA
        ok = np.all((value < -err * (1.0 + 4.0 * U)) & np.isfinite(value), axis=1)
    else:
        ok = np.ones(len(X), bool)
    act, err = X, np.zeros(len(X))
    for l, (layer, row_sums) in enumerate(zip(layers, sums)):
        g = gamma(layer.W.shape[1] + 2)
        Z = act @ layer.W.T + layer.b
        carried = g * np.abs(act).max(axis=1, initial=0.0) + err
        E = carried[:, None] * row_sums + g * np.abs(layer.b) + (layer.W.shape[1] + 2) * ETA
        E *= 1.0 + 4.0 * g
        ok &= np.all(np.isfinite(Z) & np.isfinite(E), axis=1)  # overflow proves nothing
        slopes = np.ones_like(Z)
        units = net.split_units[l]
        if len(units):
            on = bits[:, net.unit_offsets[l]: net.unit_offsets[l] + len(units)]
            z, e = Z[:, units], E[:, units]
            ok &= np.all(np.where(on, z > e, z < -e), axis=1)  # NaN or inf: not proven
            slopes[:, units] = np.where(on, 1.0, layer.activation.off_slope)
        act = slopes * Z
        scaled = np.abs(slopes) * E
        if layer.activation.off_slope not in (0.0, 1.0):
            scaled += U * np.abs(act) + ETA  # the slope's product rounds, below the normal range absolutely
        err = scaled.max(axis=1, initial=0.0)
    return ok


def _check_interior(regions, geo, r):
    """A rational point of region ``r`` strictly satisfies all its states and the domain."""
    for x in _interior_candidates(regions, geo, r):
        if _strictly_inside(regions, geo, r, x):
            return
    raise CertificationError(f"region {r}: no rational point satisfies its pattern strictly "
                             "(it may have no interior)")


def _interior_candidates(regions, geo, r):
    """Rational points to try for region ``r``: its float interior point, exactly (when it is
    finite: far out, float64 may overflow), then (made only if that fails) the exact centroid
    of each bounded piece's vertices."""
    point = np.asarray(regions.interior_points[r], dtype=np.float64)
    if np.all(np.isfinite(point)):
        yield [Fraction(float(v)) for v in point]
    for c in np.flatnonzero(regions.cell_region == r):
        g0, g1 = regions.cells.gen_off[c], regions.cells.gen_off[c + 1]
        if all(regions.cells.gens[g, 0] > 0 for g in range(g0, g1)):
            pts = [geo.point(g) for g in range(g0, g1)]
            yield [sum(col, Fraction(0)) / len(pts) for col in zip(*pts)]


def _strictly_inside(regions, geo, r, x) -> bool:
    dom = regions.domain
    for a, b in zip(dom.A, dom.b):
        if sum(Fraction(float(ai)) * xi for ai, xi in zip(a, x)) + Fraction(float(b)) >= 0:
            return False
    # the point as an integer homogeneous vector (q, q x)
    q = 1
    for v in x:
        q = q * v.denominator // gcd(q, v.denominator)
    h = np.array([q] + [int(v * q) for v in x], dtype=object)
    for _, row, may_vanish in geo.net.region_constraints(regions.patterns[r]):
        if not (row.dot(h) > 0 or (may_vanish and not any(row))):
            return False
    return True


#: Cells whose faces the face kernel finds in one call (see :func:`_volumes`).
FACE_BLOCK = 256


def _volumes(regions, geo, lo: int, hi: int) -> Fraction:
    """The exact volumes of cells ``lo`` to ``hi - 1``, summed."""
    total = Fraction(0)
    for start in range(lo, hi, FACE_BLOCK):
        for c, faces, dims in _faces_of_cells(regions, start, min(start + FACE_BLOCK, hi)):
            total += _exact_volume(regions, geo, c, faces, dims)
    return total


def _faces_of_cells(regions, lo: int, hi: int):
    """Per cell ``c`` from ``lo`` to ``hi - 1``: ``(c, faces, dims)``, its faces of dimension 1
    and up (as generator ids) and their dimensions, from one call of the face kernel (no faces
    in one dimension)."""
    cells = regions.cells
    if regions.dim == 1:
        yield from ((c, [], []) for c in range(lo, hi))
        return
    f_cell, f_dim, gen_off, members, _, _ = cell_faces(cells.take(np.arange(lo, hi)).arrays, 1)
    members = members + cells.gen_off[lo]  # the block's generators are the cells' own, in order
    ends = np.searchsorted(f_cell, np.arange(hi - lo + 1))
    for i in range(hi - lo):
        a, b = ends[i], ends[i + 1]
        yield lo + i, [members[gen_off[j]: gen_off[j + 1]] for j in range(a, b)], f_dim[a:b]


def _exact_volume(regions, geo, c, faces, dims) -> Fraction:
    """Exact volume of cell ``c`` from its exact vertices and its ``faces`` of dimensions
    ``dims``: intervals, polygons (shoelace along the edges) or polyhedra (tetrahedra from an
    apex to triangles fanned over the 2-faces)."""
    cells = regions.cells
    g0, g1 = int(cells.gen_off[c]), int(cells.gen_off[c + 1])
    d = regions.dim
    if d == 1:
        vals = [geo.point(g, c)[0] for g in range(g0, g1)]
        return max(vals) - min(vals)
    edges = [tuple(f) for f, k in zip(faces, dims) if k == 1]
    if d == 2:
        return _polygon_area([geo.generator(g, c) for g in _cycle(edges)])
    P = {g: geo.point(g, c) for g in range(g0, g1)}
    apex = g0
    total = Fraction(0)
    for f, k in zip(faces, dims):
        if k != 2 or apex in f:
            continue
        inside = set(int(g) for g in f)
        ring = _cycle([e for e in edges if e[0] in inside and e[1] in inside])
        for i in range(1, len(ring) - 1):
            total += abs(_det3([[P[g][j] - P[apex][j] for j in range(3)]
                                for g in (ring[0], ring[i], ring[i + 1])]))
    return total / factorial(3)


#: Fewer cells than this are summed in this process: starting processes costs more.
PARALLEL_CELLS = 4000
_SHARED: dict = {}  # in a forked worker: its pool's result and exact geometry (see _share)


@contextmanager
def _volume_job(regions, geo, workers):
    """Yields a function that returns the sum of every cell's exact volume. Over ``workers``
    processes (see :func:`certify`) when there are many cells and the platform forks: they start
    on entry, so that the caller's own work overlaps theirs, and stop on exit."""
    n = len(regions.cells)
    if workers is None:
        workers = usable_cpus()
    serial = (workers == 1 or n < PARALLEL_CELLS or "fork" not in multiprocessing.get_all_start_methods()
              or multiprocessing.current_process().daemon  # a pool's or Dask's worker: no children
              or threading.current_thread() is not threading.main_thread())  # forking with threads
    if serial:
        yield lambda: _volumes(regions, geo, 0, n)
        return
    _volumes(regions, geo, 0, 1)  # the face kernel loaded before the fork, not in each worker
    bounds = np.linspace(0, n, 32 * workers + 1).astype(int)  # small shares: none waits long for the last
    # each worker gets this call's result through the fork itself (the initializer's arguments
    # are inherited, not pickled); the caller's own products meanwhile use one BLAS thread, as
    # the workers fill the cores
    with multiprocessing.get_context("fork").Pool(workers, _share, (regions, geo)) as pool, \
            threadpool_limits(limits=1, user_api="blas"):
        parts = pool.map_async(_volume_of_range, zip(bounds[:-1], bounds[1:]))
        yield lambda: sum(parts.get(), Fraction(0))


def _share(regions, geo):
    """A worker's initializer: the result and its exact geometry, for :func:`_volume_of_range`,
    and one BLAS thread (the exact rows' products are small, and the workers fill the cores)."""
    one_blas_thread()
    _SHARED.update(regions=regions, geo=geo)


def _volume_of_range(bounds) -> Fraction:
    """A worker: the exact volumes of cells ``lo`` to ``hi - 1``, summed."""
    lo, hi = (int(b) for b in bounds)
    regions, geo = _SHARED["regions"], _SHARED["geo"]
    return _volumes(regions, geo, lo, hi)


def _polygon_area(ring) -> Fraction:
    """The area of a polygon from its vertices in order, as homogeneous integer vectors ``(t,
    x, y)`` with ``t > 0``: the shoelace sum of ``(x_a y_b - x_b y_a) / (t_a t_b)`` over the
    edges, brought to the one denominator ``prod t`` with integers only (one fraction per
    polygon instead of one per term)."""
    k = len(ring)
    ts = [v[0] for v in ring]
    total = 0
    for i in range(k):
        (_, xa, ya), (_, xb, yb) = ring[i], ring[(i + 1) % k]
        term = xa * yb - xb * ya
        for j in range(k):
            if j != i and j != (i + 1) % k:
                term *= ts[j]
        total += term
    denominator = 2
    for t in ts:
        denominator *= t
    return Fraction(abs(total), denominator)


def _cycle(edges):
    """The vertices of a polygon in order, from its edges."""
    nbrs = {}
    for a, b in edges:
        nbrs.setdefault(int(a), []).append(int(b))
        nbrs.setdefault(int(b), []).append(int(a))
    start = next(iter(nbrs))
    ring, prev = [start], None
    while True:
        nxt = [v for v in nbrs[ring[-1]] if v != prev]
        if not nxt or nxt[0] == start:
            break
        prev = ring[-1]
        ring.append(nxt[0])
    if len(ring) != len(nbrs):
        raise CertificationError(f"a face's edges do not form one polygon ({len(ring)} of "
                                 f"{len(nbrs)} vertices)")
    return ring


def _det3(m):
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def _domain_volume(domain) -> Fraction:
    if isinstance(domain, Box):
        out = Fraction(1)
        for lo, hi in zip(domain.lo, domain.hi):
            out *= Fraction(float(hi)) - Fraction(float(lo))
        return out
    # the domain is the one region of a network without units: its exact volume
    d = domain.dim
    empty = enumerate_regions(Network.from_layers([(np.zeros((1, d)), np.zeros(1))],
                                                  activations=["identity"]), domain)
    geo = ExactGeometry(empty)
    return _volumes(empty, geo, 0, len(empty.cells))


def _check_adjacency(regions) -> int:
    d = regions.dim
    facets = regions.faces(min_dim=d - 1).by_dim[d - 1]
    around = np.diff(facets.region_offsets)
    for f in np.flatnonzero((around < 1) | (around > 2)):
        raise CertificationError(f"facet {f} lies on {around[f]} regions: "
                                 f"{facets.regions_of(f).tolist()}")
    for f in np.flatnonzero(around == 1):
        if not facets.on_boundary[f]:
            r = int(facets.regions_of(f)[0])
            raise CertificationError(f"region {r} has a facet inside the domain with no neighbour")
    inner = np.flatnonzero(around == 2)
    for lo in range(0, len(inner), ADJACENCY_BLOCK):
        _check_neighbours(regions, facets, inner[lo: lo + ADJACENCY_BLOCK])
    return len(facets)


#: Facets whose two regions are compared at once (bit masks of a few MB).
ADJACENCY_BLOCK = 1 << 15


def _check_neighbours(regions, facets, which):
    """The two regions of each facet of ``which`` differ in at least one unit and only in units
    zero on the facet: their packed patterns' XOR is not zero and has no bit outside the
    facet's packed units."""
    packed = regions.packed_patterns
    first = facets.region_offsets[which]
    a, b = facets.region_ids[first], facets.region_ids[first + 1]
    flipped = packed[a] ^ packed[b]
    units, unit_off = ranges(facets.unit_offsets, which)
    ids = facets.unit_ids[units]
    zero = np.zeros_like(flipped)
    np.bitwise_or.at(zero, (np.repeat(np.arange(len(which)), np.diff(unit_off)), ids // 8),
                     (0x80 >> (ids % 8)).astype(np.uint8))  # np.packbits' bit order
    bad = ~flipped.any(axis=1) | (flipped & ~zero).any(axis=1)
    for i in np.flatnonzero(bad)[:1]:
        f = which[i]
        changed = np.flatnonzero(regions.patterns[a[i]] != regions.patterns[b[i]]).tolist()
        raise CertificationError(f"regions {a[i]} and {b[i]} share a facet but differ in units "
                                 f"{changed} not all zero on it (facet {f}, zero units "
                                 f"{facets.units_of(f).tolist()})")
