"""Re-check an enumeration in exact rational arithmetic.

:func:`certify` proves, with Python integers and fractions only, that

1. every region has interior: a rational point satisfies every unit's state strictly (on:
   pre-activation ``> 0``; off: ``< 0``, or the unit is identically zero on the region) and lies
   strictly inside the domain. The region's float interior point is a rational point, and
   float64 with a rigorous bound on each rounding error proves this for most regions; the rest
   are checked with integers;
2. the patterns are distinct, so no region is listed twice, and their interiors are disjoint;
3. each region's cells lie in it: every exact rational vertex (and ray) of a cell satisfies the
   region's constraints, the domain's rows and every unit's state. The constraints tight at a
   vertex vanish there by its construction; the others are decided in float64 with a rigorous
   error bound, once per vertex for all the cells around it, and in integers where the bound
   leaves them open;
4. (``d <= 3``, bounded domains) the cells' exact volumes sum exactly to the domain's, so
   together with 1 to 3 the regions cover the domain: nothing is missing (a bounded domain has
   one cell per region, with the region's own pattern). The sum is taken through the cells'
   facets (:mod:`~regionenum.verify.facet_volumes`): a cell's volume is the sum of the signed
   cones from one fixed point over its facets, a facet two cells share cancels exactly, and
   the cones of the facets left are summed in fractions. Each cell's facets come from its face
   lattice (its exact vertices' incidences) and must close up, every ridge on exactly two of
   them, crossed in opposite directions. Each region's float ``volumes`` entry must also be its
   exact volume to within :data:`VOLUME_SLACK` (a result read from a file with edited volumes
   passed before), checked against the simplices from one of its vertices, each a correctly
   rounded quotient of integers, summed with a bound on the sum's rounding; the slack allows
   for the float vertices' distance from the exact ones only as far as their own error bounds
   (``gen_err``) do;
5. the adjacency is consistent: every facet of the subdivision lies on one region (the domain's
   boundary) or two, and two regions sharing a facet differ exactly in units zero on it.

It returns a :class:`Certificate` or raises :class:`CertificationError` naming the failing
region. Everything else uses Python integers and fractions; the cells' checks and exact volumes
are shared among processes. Where plain ``pycddlib`` is installed with its GMP backend
(``cdd.gmp``; it needs Debian's ``libcdd-dev`` and ``libgmp-dev``), each region's vertices are
also recomputed independently by cddlib, in exact arithmetic, from the region's own
inequalities, and must equal the engine's exact vertices (``backend="gmp"`` insists on it,
``"fractions"`` skips it, ``"auto"`` uses it when present).
"""
from __future__ import annotations

import functools
import multiprocessing
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ..analysis.exact_geometry import ExactGeometry
from ..analysis.faces import faces_of_cells
from ..core.arrays import checked_flag, checked_instance, ranges, unpack_bits, whole_number
from ..core.domain import Box
from ..core.exact import float_coordinates
from ..core.network import Network, work_out_bounds
from ..core.norm_bounds import row_norms_of
from ..core.threads import one_blas_thread, usable_cpus
from ..core.tolerances import ETA, U, gamma
from ..engine.api import enumerate_regions
from ..errors import (CertificationError, IncompleteResultError, InternalError, InvalidArgumentError,
                      MissingDependencyError)
from ..result import Regions
from .facet_volumes import FacetLedger, cell_facets, polygon_ring
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
    ArgumentTypeError
        ``check_volume`` is not a bool.
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
    if workers is not None:
        workers = whole_number(workers, "workers")
    if backend not in ("auto", "fractions", "gmp"):
        raise InvalidArgumentError(f"backend must be 'auto', 'fractions' or 'gmp', got {backend!r}")
    check_volume = checked_flag(check_volume, "check_volume")
    checked_instance(regions, Regions, "regions", "a regionenum.Regions (or a verification result with a proof)")
    if not regions.complete:
        raise IncompleteResultError(f"only a complete enumeration can be certified (this one stopped: "
                                    f"{regions.stop_reason})")
    gmp = _cdd_gmp() if backend != "fractions" else None
    if backend == "gmp" and gmp is None:
        raise MissingDependencyError("backend 'gmp' needs plain pycddlib built with GMP (cdd.gmp); "
                                 "install libcdd-dev and libgmp-dev, then pip install pycddlib")
    start = time.perf_counter()
    cells = regions.cells
    if cells.gen_err.shape != (len(cells.gens),):  # (the cells' checks read one per generator)
        raise CertificationError(f"the cells' generator error bounds have shape {cells.gen_err.shape}, for "
                                 f"{len(cells.gens)} generators")
    measure = check_volume and regions.dim <= 3 and regions.domain.is_bounded
    volumes = np.asarray(regions.volumes) if regions.volumes is not None else np.zeros(0, object)
    if measure and (volumes.shape != (len(regions),) or volumes.dtype.kind not in "fiu"):
        raise CertificationError(f"the regions' volumes are an array of shape {volumes.shape} and type "
                                 f"{volumes.dtype}, not one number per region ({len(regions)})")
    # (where the float vertices do not resolve a cell, its slack may exceed its volume)
    if measure and np.any(volumes < 0):
        r = int(np.flatnonzero(volumes < 0)[0])
        raise CertificationError(f"region {r}: its volume {volumes[r]!r} is negative")
    geo = ExactGeometry(regions)
    # the cells' checks and volumes (most of the work) start first, the other checks run here meanwhile
    with _cell_job(regions, geo, workers, measure) as check_cells:
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
        volume = check_cells()
        if measure:
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
        h = _integer_point(x)
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
    it by float64 with a rigorous bound on every rounding error: the domain's rows, and every
    unit's pre-activation in the network there (:func:`_unit_values`: one matrix product per
    layer, on blocks of regions small enough that their temporaries stay in cache), each proven
    to have the sign the region's pattern says (layer by layer, the network then is the
    region's affine map). A value or bound that is not finite proves nothing. False where this
    does not prove it (the exact check then runs); all False for networks with max layers,
    whose ties the exact check reads."""
    n = len(regions)
    rows = _FloatRows.of(regions)
    if n == 0 or rows is None:
        return np.zeros(n, bool)
    X = np.asarray(regions.interior_points, np.float64)
    packed = regions.packed_patterns
    ok = np.empty(n, bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for lo in range(0, n, PROOF_BLOCK):
            hi = min(lo + PROOF_BLOCK, n)
            ok[lo:hi] = _block_inside(rows, X[lo:hi], unpack_bits(packed[lo:hi], rows.net.n_units))
    return ok


class _FloatRows(NamedTuple):
    """What the float64 checks read: the network, the domain, the layers up to the last with
    units of several states, and each layer's :class:`_RowSizes`."""

    net: Network
    domain: object
    layers: list
    sizes: list

    @classmethod
    def of(cls, regions):
        """The rows of ``regions``' network and domain; None for networks with max layers,
        whose ties only the exact checks read."""
        net = regions.network
        if any(layer.activation.kind == "max" for layer in net.layers):
            return None
        layers = net.layers[: max(net.split_layers, default=-1) + 1]
        work_out_bounds(layers)
        return cls(net, regions.domain, layers, [_RowSizes.of(layer) for layer in layers])


class _RowSizes(NamedTuple):
    """Upper bounds on the sizes of a layer's rows that :func:`_unit_values` reads: per unit, the
    row's sum of ``|W|`` (``sums``) and 2-norm (``norms``, the layer's proven bounds); over the
    units, the largest of each, the 2-norm of each vector (``sums_norm``, ``norms_norm``) and the
    largest ratio of a row's sum to its norm (``ratio``); and ``||W||_2`` (``spectral``, the
    layer's proven bound)."""

    sums: np.ndarray
    norms: np.ndarray
    sums_max: float
    norms_max: float
    sums_norm: float
    norms_norm: float
    ratio: float
    spectral: float

    @classmethod
    def of(cls, layer):
        sums = np.abs(layer.W).sum(axis=1) * (1.0 + gamma(layer.W.shape[1] + 2))
        norms = layer.row_norms
        norms_norm, sums_norm = row_norms_of(np.stack([norms, sums]))
        with np.errstate(divide="ignore", invalid="ignore"):  # (rows of zeros carry no error)
            ratio = np.max(np.where(sums > 0, sums / norms, 0.0), initial=0.0) * (1.0 + 2.0 * U)
        return cls(sums, norms, sums.max(initial=0.0), norms.max(initial=0.0), float(sums_norm),
                   float(norms_norm), float(ratio), layer.norm_bounds[0])


#: Regions whose interior points are checked in float64 at once (see :func:`_proven_inside`).
PROOF_BLOCK = 2048


def _block_inside(rows, X, bits) -> np.ndarray:
    """:func:`_proven_inside` for the points ``X`` with patterns ``bits``."""
    t, exact = np.ones(len(X)), np.zeros(len(X))
    ok = np.ones(len(X), bool)
    if len(rows.domain.b):
        value, bound = _domain_values(rows.domain, X, t, exact)
        ok &= np.all(value < -bound, axis=1)  # NaN: not proven
    for l, z, e in _unit_values(rows, X, t, exact):
        on = bits[:, rows.net.unit_offsets[l]: rows.net.unit_offsets[l] + z.shape[1]]
        ok &= np.all(np.where(on, z > e, z < -e), axis=1)  # NaN: not proven
    return ok


def _domain_values(dom, X, t, err):
    """The domain's rows ``A x + b t`` at homogeneous points ``(t, X)`` (``t`` exactly 0 or 1)
    in float64 (NaN where not finite), and a rigorous bound on each value's error, from the
    products' rounding and the points' own error, at most ``err`` (per point) on every
    coordinate."""
    n = dom.dim
    g = gamma(n + 2)
    value = X @ dom.A.T + t[:, None] * dom.b
    bound = (g * (np.abs(X) @ np.abs(dom.A).T + t[:, None] * np.abs(dom.b))
             + err[:, None] * np.abs(dom.A).sum(axis=1) + (n + 4) * ETA) * (1.0 + 4.0 * g)
    return np.where(np.isfinite(value) & np.isfinite(bound), value, np.nan), bound


def _unit_values(rows, X, t, err):
    """Per layer ``l`` of ``rows.layers`` with units of several states: ``(l, z, e)``, those
    units' pre-activations in the network at homogeneous points ``(t, X)`` (``t`` exactly 0 or
    1; a ray's values are those of the network's linear part) computed in float64 (NaN where
    not finite), and a rigorous bound ``e`` on each one's error. A value past its bound proves
    its sign.

    Unit ``u``'s bound is its products' rounding ``r_u = (gamma_{n+2} max|a| + eta) s_u +
    gamma_{n+2} t |b_u| + (n + 4) eta`` plus what the error of its inputs ``a`` carries in, ``|W_u .
    d|``: at most ``c s_u`` and at most ``delta ||W_u||_2`` (Cauchy-Schwarz), with ``s_u`` the
    unit's row sum of ``|W|`` and ``||W_u||_2`` its row's norm (both rounded up, :class:`_RowSizes`),
    ``c`` and ``delta`` bounds on the largest entry and on the 2-norm of ``d`` (at the first layer
    from ``err`` on the points' coordinates); and the bound's own rounding. ``eta = 2^-1074``
    covers the absolute error of subnormal products (the value's, and the bound's own, which may
    underflow: subnormal inputs times huge weights). Each point takes the smaller of the two over
    the layer, in 2-norm; both are cheap (one outer product), the smaller unit by unit is taken
    only where the points of a block differ.

    The activations apply each value's float64 sign; where the sign is not proven the slope
    may be the other one, but an activation of slopes 1 and ``alpha`` changes by at most
    ``L = max(1, |alpha|)`` times its argument's change, entry by entry, so the next layer's
    inputs' error is at most ``L`` times the values' (``u |a| + eta`` more for a slope's own
    rounding). The values' error is ``W d + r``: its largest entry is at most ``max r + min(c
    max s, delta max ||W_u||_2)``, its 2-norm at most ``||r||_2 + min(c ||s||_2, ||W||_2 delta)``
    (the layer's proven spectral bound). On deep, wide layers the 2-norm grows by ``||W||_2``
    per layer where the largest entry grows by the row sums of ``|W|`` (about 2.8 against 25 on
    the suite's 512-wide layers): with the largest entries alone, half the regions of its deep
    1-D network were left to the checks in rational arithmetic, two minutes of them. A region's pattern
    holds at a point exactly where, layer by layer, it agrees with these signs (where it agrees
    on every layer before, the region's affine map is the network there), so one pass serves
    every region around a vertex."""
    net, act, largest = rows.net, X, err
    points = bool(t.all())
    two_norm = err * np.sqrt(X.shape[1]) * (1.0 + 4.0 * U)
    for l, (layer, size) in enumerate(zip(rows.layers, rows.sizes)):
        n = layer.W.shape[1]
        g = gamma(n + 2)
        grow = 1.0 + 4.0 * g  # the bound's own rounding
        Z = act @ layer.W.T
        Z += layer.b if points else t[:, None] * layer.b
        # ETA more for g max|a| itself, which may underflow (subnormal inputs times huge weights)
        rounding = (g * np.abs(act).max(axis=1, initial=0.0) + ETA) * grow
        # a point's (t = 1) bias; subnormal products, and the bound's own products below the normal range
        fixed = (g * np.abs(layer.b) + (n + 4) * ETA) * grow
        if points:
            fixed_max, fixed_norm = fixed.max(initial=0.0), row_norms_of(fixed[None])[0]
        else:
            fixed = np.where(t[:, None] > 0, fixed, (n + 4) * ETA * grow)
            fixed_max, fixed_norm = fixed.max(axis=1, initial=0.0), row_norms_of(fixed)
        # the error carried in: either bound holds for every unit; each point takes the one that is
        # smaller over the layer (in 2-norm), where the points differ each unit the smaller (fmin:
        # 0 times a norm beyond float64's range is NaN, and the other holds); with the products'
        # rounding, on the 2-norm's route through s_u <= k ||W_u||_2 (k the largest ratio), and
        # the bound's own
        with np.errstate(invalid="ignore"):  # (0 times an infinite norm: NaN, not smaller)
            by_norm = two_norm * size.norms_norm < largest * size.sums_norm
        if by_norm.all():
            E = np.multiply.outer((two_norm + rounding * size.ratio) * grow, size.norms)
        else:
            E = np.multiply.outer((largest + rounding) * grow, size.sums)
            if by_norm.any():
                np.fmin(E, np.multiply.outer((two_norm + rounding * size.ratio) * grow, size.norms), out=E)
        E += fixed * grow
        if not np.isfinite(Z).all():
            Z[~np.isfinite(Z)] = np.nan  # overflow proves nothing, and spreads to the later layers
        units = net.split_units[l]
        if len(units):
            split = len(units) == Z.shape[1]
            yield l, (Z if split else Z[:, units]), (E if split else E[:, units])
            alpha = layer.activation.off_slope
            lipschitz = max(1.0, abs(alpha))
            if split:
                act = np.maximum(Z, alpha * Z) if alpha <= 1.0 else np.minimum(Z, alpha * Z)
            else:
                act = Z.copy()
                z = Z[:, units]
                act[:, units] = np.where(z > 0, z, alpha * z)
        else:
            act, lipschitz = Z, 1.0
        # the next inputs' error from the layer's norms, by the triangle inequality (no pass over e):
        # its largest entry, and its 2-norm, ||W err + r||_2 with ||W err||_2 <= ||W||_2 delta
        with np.errstate(invalid="ignore"):
            largest, two_norm = (
                lipschitz * (rounding * size.sums_max + fixed_max
                             + np.fmin(largest * size.sums_max, two_norm * size.norms_max)) * grow,
                lipschitz * (rounding * size.sums_norm + fixed_norm  # (>= ||r||_2)
                             + np.fmin(largest * size.sums_norm, two_norm * size.spectral)) * grow)
        if len(units) and alpha not in (0.0, 1.0):  # the slope's product rounds
            largest += U * np.abs(act).max(axis=1, initial=0.0) + ETA
            two_norm += U * row_norms_of(act) + np.sqrt(act.shape[1]) * ETA


def _check_interior(regions, geo, r):
    """A rational point of region ``r`` strictly satisfies all its states and the domain."""
    for x in _interior_candidates(regions, geo, r):
        if _strictly_inside(regions, geo, r, x):
            return
    raise CertificationError(f"region {r}: no rational point satisfies its pattern strictly "
                             "(it may have no interior)")


def _interior_candidates(regions, geo, r):
    """Rational points to try for region ``r``: its float interior point, exactly (when it is
    finite: far out, float64 may overflow, and a thin cell's far vertices may put the float mean
    outside it), then (made only if that fails) for each of its pieces the exact mean of its
    vertices plus the mean of its rays (each scaled to largest entry 1): a strictly positive
    combination of every generator of a pointed cell, so inside it."""
    point = np.asarray(regions.interior_points[r], dtype=np.float64)
    if np.all(np.isfinite(point)):
        yield [Fraction(float(v)) for v in point]
    for c in np.flatnonzero(regions.cell_region == r).tolist():
        g0, g1 = int(regions.cells.gen_off[c]), int(regions.cells.gen_off[c + 1])
        gens = [geo.generator(g, c) for g in range(g0, g1)]
        pts = [[Fraction(int(a), int(v[0])) for a in v[1:]] for v in gens if v[0] > 0]
        rays = [[Fraction(int(a), max(abs(int(b)) for b in v[1:])) for a in v[1:]] for v in gens if v[0] == 0]
        if not pts:
            continue
        x = [sum(col, Fraction(0)) / len(pts) for col in zip(*pts)]
        if rays:
            x = [xi + sum(col, Fraction(0)) / len(rays) for xi, col in zip(x, zip(*rays))]
        yield x


def _integer_point(x) -> list:
    """The rational point ``x`` as an integer homogeneous vector ``(q, q x)``, ``q`` the least
    common multiple of its coordinates' denominators."""
    q = lcm(*(v.denominator for v in x))
    return [q] + [int(v * q) for v in x]


def _strictly_inside(regions, geo, r, x) -> bool:
    dom = regions.domain
    for a, b in zip(dom.A, dom.b):
        if sum(Fraction(float(ai)) * xi for ai, xi in zip(a, x)) + Fraction(float(b)) >= 0:
            return False
    h = np.array(_integer_point(x), dtype=object)
    for _, row, may_vanish in geo.net.region_constraints(regions.patterns[r]):
        if not (row.dot(h) > 0 or (may_vanish and not any(row))):
            return False
    return True


def _check_contained(regions, geo, rows, lo: int, hi: int):
    """Every exact vertex (and ray) of cells ``lo`` to ``hi - 1`` satisfies its region's
    constraints: the domain's rows and every unit's state, ``>= 0`` as in
    :meth:`~regionenum.core.exact.ExactNetwork.region_constraints`. A cell is convex and its
    region's closure too, so the cell lies in it; with the regions' interiors disjoint (distinct
    patterns) and their volumes summing to the domain's, nothing is missing.

    The constraints tight at a generator vanish there by its construction (it is the kernel of
    their rows). Every other one is decided in float64 with a rigorous bound on its error, once
    per vertex for all the cells around it (:func:`_unit_values`, from the exact vertex rounded
    with a bound of its own): the unit's state in the region must be its proven sign there.
    What that leaves open is decided in integers from the region's own rows. ``rows``: the
    float checks' rows (:class:`_FloatRows`; None for max layers: then every unit and tie is
    checked in integers). Returns, per generator of the cells and coordinate, a bound on its
    float vertex's distance from the exact one (0 for a ray), for :func:`_vertex_slack`."""
    cells, ids = regions.cells, regions.constraint_ids
    g0, g1 = int(cells.gen_off[lo]), int(cells.gen_off[hi])
    if g0 == g1:
        return np.zeros((0, cells.gens.shape[1] - 1))
    own = cells.packed[lo:hi] != regions.packed_patterns[regions.cell_region[lo:hi]]
    if own.any():  # the vertices are built from the cells' bits, the constraints read the regions'
        c = lo + int(np.flatnonzero(own.any(axis=1))[0])
        raise CertificationError(f"region {regions.cell_region[c]}: its cell {c} has another pattern")
    cell_of = np.repeat(np.arange(lo, hi), np.diff(cells.gen_off[lo: hi + 1]))
    region_of = regions.cell_region[cell_of]
    try:
        H = geo.generators(g0, g1, cell_of)
    except InternalError as error:  # a wrong incidence: its constraints meet in no one point
        raise CertificationError(f"a vertex of cells {lo} to {hi - 1}: {error}") from None
    # (generator, constraint id) of every constraint tight at a generator of the block
    tight_gen = np.repeat(np.arange(g1 - g0), np.diff(cells.inc_off[g0: g1 + 1]))
    tight_id = cells.inc[cells.inc_off[g0]: cells.inc_off[g1]].astype(np.int64)
    vertex_of, distinct = _distinct(H)  # a vertex shared by several cells is one object
    t, X, err = _rounded(distinct)
    with np.errstate(invalid="ignore"):  # (a ray's direction is no distance: 0; a point out of range: NaN)
        # (per coordinate: the exact vertex's are correctly rounded, each within 2 u of itself)
        coordinate_err = 2.0 * U * np.abs(X) + ETA
        moved = np.where((t[vertex_of] > 0)[:, None],
                         np.abs(X[vertex_of] - cells.gens[g0:g1, 1:]) + coordinate_err[vertex_of], 0.0)
        # at most what the float generators' own error bounds allow (the exact vertex rounded
        # within err, the float one within gen_err of it): generators moved in a file beyond
        # their bounds widen no cell's volume slack (a bound that is NaN caps nothing)
        moved = np.fmin(moved, (cells.gen_err[g0:g1] + 2 * err[vertex_of])[:, None])
    dom = regions.domain
    with np.errstate(over="ignore", invalid="ignore"):
        if len(dom.b):
            value, bound = _domain_values(dom, X, t, err)
            exact_rows = regions.complex.constraints.exact_rows
            for i, j in _unsure(value[vertex_of] > bound[vertex_of], ~(value < -bound)[vertex_of], tight_gen,
                                tight_id, lambda i, j: _outside(region_of[i], H[i], f"domain row {j}", FLOAT)):
                if _dot(exact_rows[j], H[i]) > 0:
                    _outside(region_of[i], H[i], f"domain row {j}")
        if rows is None:
            _check_contained_exactly(regions, geo, H, region_of, tight_gen, tight_id)
            return moved
        n = rows.net.n_units
        positive, negative = np.zeros((len(distinct), n), bool), np.zeros((len(distinct), n), bool)
        for l, z, e in _unit_values(rows, X, t, err):
            o = rows.net.unit_offsets[l]
            positive[:, o: o + z.shape[1]] = z > e
            negative[:, o: o + z.shape[1]] = z < -e
        on = unpack_bits(regions.packed_patterns[region_of], n)  # the block's alone (no copy of all)
        positive, negative = positive[vertex_of], negative[vertex_of]
        broken = np.where(on, negative, positive)
        for i, k in _unsure(broken, ~(positive | negative), tight_gen, tight_id - ids.unit_start,
                            lambda i, k: _outside(region_of[i], H[i], _state_of(rows.net, k), FLOAT)):
            value = _dot(geo.net.constraint_row(k, on[i]), H[i])
            if (value if on[i, k] else -value) < 0:
                _outside(region_of[i], H[i], _state_of(rows.net, k))
    return moved


#: How a float64 check says it decided.
FLOAT = "float64 with a rigorous error bound"


def _distinct(H):
    """Per generator, the index of its vector among the distinct ones (by identity: the exact
    geometry hands the cells around a vertex one object), and those."""
    index, distinct = {}, []
    of = np.empty(len(H), np.int64)
    for i, v in enumerate(H):
        j = index.setdefault(id(v), len(distinct))
        if j == len(distinct):
            distinct.append(v)
        of[i] = j
    return of, distinct


def _unsure(broken, unsure, tight_gen, tight_col, fail):
    """The (generator, column) pairs that float64 leaves open (``unsure``), the constraints
    tight at the generator (columns ``tight_col`` of generators ``tight_gen``) excepted; a pair
    proven ``broken`` is reported to ``fail(generator, column)``, which raises."""
    if broken.any():
        fail(*(int(v) for v in np.argwhere(broken)[0]))
    inside = (tight_col >= 0) & (tight_col < unsure.shape[1])
    unsure[tight_gen[inside], tight_col[inside]] = False
    return ((int(i), int(j)) for i, j in np.argwhere(unsure))


def _check_contained_exactly(regions, geo, H, region_of, tight_gen, tight_id):
    """:func:`_check_contained`'s units and ties, all in integers (networks with max layers)."""
    start = regions.constraint_ids.unit_start
    tight = {}
    for i, cid in zip(tight_gen.tolist(), tight_id.tolist()):
        tight.setdefault(i, set()).add(cid - start)
    constraints = {}
    for i, h in enumerate(H):
        r = int(region_of[i])
        if r not in constraints:
            constraints[r] = geo.net.region_constraints(unpack_bits(regions.packed_patterns[r],
                                                                    regions.network.n_units))
        for k, row, _ in constraints[r]:
            if k not in tight.get(i, ()) and _dot(row, h) < 0:
                _outside(r, h, _state_of(regions.network, k))


def _dot(row, h) -> int:
    """An exact integer row times a homogeneous integer vector, in Python integers."""
    return sum(int(a) * b for a, b in zip(row, h))


def _state_of(net, k: int) -> str:
    """Unit ``k``'s state (``k < n_units``) or tie ``k - n_units``, named with its layer."""
    if k >= net.n_units:
        c, j = net.tie_units[k - net.n_units]
        return f"which of units {c} and {j} wins (max layer {net.unit_layer[c]})"
    return f"the state of unit {k} (layer {net.unit_layer[k]}, unit {net.unit_index[k]})"


def _outside(r, h, what, how="exactly"):
    """Fail: a generator ``h`` of a cell of region ``r`` breaks one of its constraints."""
    raise CertificationError(f"region {int(r)}: a {'ray' if h[0] == 0 else 'vertex'} of its cell "
                             f"breaks {what} ({how})")


def _rounded(H):
    """Homogeneous integer vectors ``(t, x)`` (``t >= 0``) in float64: ``(t, X, err)`` with
    ``t`` 1 for a point and ``X`` its coordinates ``x / t`` correctly rounded (Python's division
    of integers), ``t`` 0 for a ray and ``X`` its direction scaled by a power of two (which
    keeps every sign; shifted to at most 64 bits, then rounded), and ``err`` a bound per vector
    on every coordinate's error. A point too far out for float64 comes out NaN (decided in
    integers then)."""
    t, X = np.ones(len(H)), np.empty((len(H), len(H[0]) - 1))
    for i, v in enumerate(H):
        if v[0] == 0:
            t[i] = 0.0
            shift = max(max(abs(a).bit_length() for a in v) - 64, 0)
            X[i] = [float(a >> shift) for a in v[1:]]
        else:
            x = float_coordinates(v)
            X[i] = np.nan if x is None else x
    return t, X, 2.0 * U * np.abs(X).max(axis=1, initial=0.0) + ETA


#: Cells checked at once (see :func:`_check_cells`): the face kernel's calls and the float
#: containment checks' matrix products.
CELL_BLOCK = 256

#: How far a region's float volume may be from its exact one: this times the exact volume, plus
#: this times the volume of the domain's bounding box (the float volumes are summed from
#: simplices of float vertices, whose rounding is relative to the coordinates, not to a thin
#: region's own volume; the cell's own box where the domain's is beyond float64's range), plus
#: what its float vertices' own errors allow (:func:`_vertex_slack`). Float volumes are far
#: closer; an edited or corrupt one is not, where the float vertices resolve the cell (a strip
#: narrower than its coordinates' rounding has a slack beyond its volume).
VOLUME_SLACK = 1e-9


def _check_cells(regions, geo, rows, lo: int, hi: int, ledger: FacetLedger | None = None) -> None:
    """Cells ``lo`` to ``hi - 1``: each lies in its region (:func:`_check_contained`); with a
    ``ledger``, each one's float volume is its exact one, to within the slack, and its signed
    facets are counted there (:func:`_cell_volume`)."""
    lo_box, hi_box = regions.domain.bounds
    with np.errstate(over="ignore"):  # (a box beyond float64's range: its float volumes are infinite)
        slack = VOLUME_SLACK * float(np.prod(hi_box - lo_box))
    for start in range(lo, hi, CELL_BLOCK):
        stop = min(start + CELL_BLOCK, hi)
        moved = _check_contained(regions, geo, rows, start, stop)
        if ledger is None:
            continue
        vertex_slack, boxes = _vertex_slack(regions.cells, start, stop, moved)
        for c, faces, dims in _faces_of_cells(regions, start, stop):
            near, error = _cell_volume(regions, geo, c, faces, dims, ledger)
            r = int(regions.cell_region[c])  # (a bounded domain: one cell per region)
            # (the exact volume is within error of near: compared as the old code compared the
            # float volume with the exact one rounded to float64; beyond float64's range, the
            # float volume must be infinite, as the exact one rounds)
            if near == np.inf:
                ok = regions.volumes[r] == np.inf
            else:  # (a domain beyond float64's range: the cell's own box instead of the domain's)
                box_slack = slack if slack < np.inf else VOLUME_SLACK * boxes[c - start]
                allowed = error + VOLUME_SLACK * near + box_slack + vertex_slack[c - start]
                ok = abs(regions.volumes[r] - near) <= allowed
            if not ok:
                raise CertificationError(f"region {r}: its volume {regions.volumes[r]!r} is not its exact "
                                         f"volume (within {error:.3g} of {near!r})")


def _vertex_slack(cells, lo: int, hi: int, moved) -> tuple:
    """Per cell ``lo`` to ``hi - 1`` (bounded), how far its float volume may be from its exact
    one through its float vertices' distances from the exact ones alone, and the volume of its
    float vertices' bounding box (the slack's measure where the domain's box is beyond
    float64's range).

    The first, from ``moved`` (per generator of the cells and coordinate ``i``, at most; ``e_i``
    the most over a cell's): every float vertex lies in the exact cell ``P`` grown by the box
    ``C`` of half-sides ``e_i``, and every exact vertex in the float cell ``P'`` grown by ``C``,
    so the two volumes differ by at most ``vol(B + C) - vol(B)`` for a box ``B`` holding either
    cell (mixed volumes grow with each body): of sides ``S_i``, the float vertices' extent plus
    ``2 e_i``, that is ``prod(S_i + 2 e_i) - prod(S_i)``, summed here from its non-negative
    terms; ``2 sqrt(d)`` times that, for the float volume's triangulation. It matters far from
    the origin, where a vertex's rounding is relative to its coordinates: on ``[1e6, 1e6 +
    1e-3]^3`` the float volumes of correct results were 1.5e-6 of their exact ones off, a
    thousand times the other slack, and on ``[1e9, 1e9 + 1e-6]^2`` cells smaller than their
    coordinates' rounding have float vertices that coincide, and float volume 0. Per
    coordinate, a strip ``[0, 1e200] x [0, 1e-200]`` is measured by its own sides, not by
    ``1e200`` times the rounding of its long one."""
    g0 = int(cells.gen_off[lo])
    starts = cells.gen_off[lo:hi] - g0
    X = cells.gens[g0: cells.gen_off[hi], 1:]
    extent = np.maximum.reduceat(X, starts, axis=0) - np.minimum.reduceat(X, starts, axis=0)
    d = extent.shape[1]
    e2 = 2 * np.maximum.reduceat(moved, starts, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # (an exact vertex beyond float64: no slack to be had, inf)
        sides = extent + e2
        grown, inner = np.zeros(len(starts)), np.ones(len(starts))
        for i in range(d):  # prod_(j <= i) (S_j + 2 e_j) - prod_(j <= i) S_j, term by term
            grown = grown * (sides[:, i] + e2[:, i]) + inner * e2[:, i]
            inner = inner * sides[:, i]
        box = np.prod(extent, axis=1)
        return np.nan_to_num(2 * np.sqrt(d) * grown * (1.0 + 8 * d * U), nan=np.inf), box


def _faces_of_cells(regions, lo: int, hi: int):
    """Per cell ``c`` from ``lo`` to ``hi - 1``: ``(c, faces, dims)``, its faces of dimension 1
    and up (as lists of generator ids) and their dimensions, from one call of the face kernel
    (no faces in one dimension). Python integers, made once for the block: the volumes look
    the ids up in sets and dicts, where NumPy's scalars (and a search of an array for each
    ``in``) took a tenth of a 3-D certificate's time."""
    cells = regions.cells
    if regions.dim == 1:
        yield from ((c, [], []) for c in range(lo, hi))
        return
    f_cell, f_dim, gen_off, members, _, _ = faces_of_cells(cells, 1, lo, hi)
    ends = np.searchsorted(f_cell, np.arange(lo, hi + 1)).tolist()
    gen_off, members, f_dim = gen_off.tolist(), members.tolist(), f_dim.tolist()
    for i in range(hi - lo):
        a, b = ends[i], ends[i + 1]
        yield lo + i, [members[gen_off[j]: gen_off[j + 1]] for j in range(a, b)], f_dim[a:b]


def _cell_volume(regions, geo, c, faces, dims, ledger: FacetLedger) -> tuple:
    """Cell ``c`` (bounded) from its exact vertices and its ``faces`` of dimensions ``dims``:
    its signed facets counted in ``ledger``, its volume in float64 and a bound on that value's
    error (:func:`~regionenum.verify.facet_volumes.cell_facets`). Its facets: its vertices (an
    interval), its edges (a polygon), or its 2-faces' polygons (a polyhedron)."""
    cells = regions.cells
    g0, g1 = int(cells.gen_off[c]), int(cells.gen_off[c + 1])
    vertices = dict(zip(range(g0, g1), geo.generators(g0, g1, np.full(g1 - g0, c))))
    ray = next((g for g, v in vertices.items() if v[0] <= 0), None)
    if ray is not None:  # the exact vector points the way of the float generator
        raise CertificationError(f"region {int(regions.cell_region[c])}: generator {ray} of its cell {c} is not a "
                                 f"point (its float t is {float(cells.gens[ray, 0])!r}), in a bounded domain")
    d = regions.dim
    if d == 1:
        facets = [[g] for g in vertices]
    else:
        edges = [f for f, k in zip(faces, dims) if k == 1]
        if any(len(e) != 2 for e in edges):
            raise CertificationError(f"region {int(regions.cell_region[c])}: an edge of its cell {c} has "
                                     f"{next(len(e) for e in edges if len(e) != 2)} vertices")
        if d == 2:
            facets = edges
        else:
            neighbours = {}
            for a, b in edges:
                neighbours.setdefault(a, []).append(b)
                neighbours.setdefault(b, []).append(a)
            facets = [polygon_ring(f, neighbours) for f, k in zip(faces, dims) if k == 2]
    try:
        return cell_facets(vertices, facets, ledger)
    except CertificationError as error:
        raise CertificationError(f"region {int(regions.cell_region[c])}: {error}") from None


#: Cells checked in this process first, and timed: the rest is shared among processes where
#: they would take it :data:`PARALLEL_SECONDS` or more here. A cell's check costs from about
#: 0.1 ms (small 2-D nets) to 4 ms (eight layers of 512 units: each vertex's rows composed
#: exactly), and starting processes about 0.15 s on two cores: a count of cells does not tell.
SAMPLE_CELLS = 64
PARALLEL_SECONDS = 0.5
_SHARED: dict = {}  # in a forked worker: its pool's result and exact geometry (see _share)


@contextmanager
def _cell_job(regions, geo, workers, measure):
    """Yields a function that checks every cell (:func:`_check_cells`) and returns their exact
    volumes' sum (with ``measure``; else None). Over ``workers`` processes (see
    :func:`certify`) where the platform forks and the first :data:`SAMPLE_CELLS` cells, checked
    here on entry, say that the rest would take :data:`PARALLEL_SECONDS` or more: the processes
    start on entry, so that the caller's own work overlaps theirs, and stop on exit. Each
    process counts its cells' signed facets in a ledger of its own and sends back the facets
    left open; the ledgers merged, the facets two processes' cells share cancel too."""
    n = len(regions.cells)
    rows = _FloatRows.of(regions)
    if workers is None:
        workers = usable_cpus()
    serial = (workers == 1 or "fork" not in multiprocessing.get_all_start_methods()
              or multiprocessing.current_process().daemon  # a pool's or Dask's worker: no children
              or threading.current_thread() is not threading.main_thread())  # forking with threads
    ledger = _ledger(regions) if measure else None

    def total(parts=()):
        """The exact volume of the cells checked (None where not measuring), the workers'
        ledgers ``parts`` merged into this one's."""
        if ledger is None:
            return None
        for part in parts:
            ledger.merge(part)
        return ledger.volume()

    def here(lo, hi):
        """Check cells ``lo`` to ``hi - 1`` in this process (one BLAS thread: the blocks'
        products are small, more threads only spin); then :func:`total`."""
        _one_thread(_check_cells, regions, geo, rows, lo, hi, ledger)
        return total()

    if serial:
        yield lambda: here(0, n)
        return
    sample = min(n, SAMPLE_CELLS)  # (also loads the face kernel before the fork, not in each worker)
    start = time.perf_counter()
    try:
        _one_thread(_check_cells, regions, geo, rows, 0, sample, ledger)
    except CertificationError as error:  # reported where the cells' checks are, after the others
        yield functools.partial(_raise, error)
        return
    if sample == n or (time.perf_counter() - start) * (n - sample) / sample < PARALLEL_SECONDS:
        yield lambda: here(sample, n)
        return
    bounds = np.linspace(sample, n, 32 * workers + 1).astype(int)  # small shares: none waits long for the last
    # each worker gets this call's result through the fork itself (the initializer's arguments
    # are inherited, not pickled); the caller's own products meanwhile use one BLAS thread, as
    # the workers fill the cores
    with multiprocessing.get_context("fork").Pool(workers, _share, (regions, geo, rows, measure)) as pool, \
            threadpool_limits(limits=1, user_api="blas"):
        parts = pool.map_async(_check_range, zip(bounds[:-1], bounds[1:]))
        yield lambda: total(parts.get())


def _ledger(regions) -> FacetLedger:
    """An empty ledger of the cells' facets, its cones' apex the corner ``lo`` of the domain's
    bounding box (the cones of facets on the box's sides through it are zero)."""
    lo, _ = regions.domain.bounds
    return FacetLedger(_integer_point([Fraction(float(v)) for v in lo]))


def _raise(error):
    raise error


def _one_thread(fn, *args):
    with threadpool_limits(limits=1, user_api="blas"):
        return fn(*args)


def _share(regions, geo, rows, measure):
    """A worker's initializer: the result, its exact geometry and float rows, for
    :func:`_check_range`, and one BLAS thread (the exact rows' products are small, and the
    workers fill the cores)."""
    one_blas_thread()
    _SHARED.update(regions=regions, geo=geo, rows=rows, measure=measure)


def _check_range(bounds) -> FacetLedger | None:
    """A worker: :func:`_check_cells` on cells ``lo`` to ``hi - 1``; the facets its ledger left
    open (None where not measuring)."""
    lo, hi = (int(b) for b in bounds)
    regions = _SHARED["regions"]
    ledger = _ledger(regions) if _SHARED["measure"] else None
    _check_cells(regions, _SHARED["geo"], _SHARED["rows"], lo, hi, ledger)
    return None if ledger is None else ledger.compact()


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
    ledger = _ledger(empty)
    _check_cells(empty, ExactGeometry(empty), _FloatRows.of(empty), 0, len(empty.cells), ledger)
    return ledger.volume()


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
