"""Cheap estimates of region counts, each saying what it estimates, to judge against the exact
count.

- :func:`sampled_patterns`, :func:`grid_patterns`: distinct activation patterns among random
  or grid points, a lower bound on the number of activation regions;
- :func:`chao1`: the Chao1 species-richness extrapolation from the same samples;
- :func:`trajectory_regions`, :func:`line_regions`: the exact number of regions a polygonal
  path or segment passes through (the transition counts of Raghu et al. and Novak et al.,
  computed exactly by the engine on the path's 1-D restriction);
- :func:`hanin_rolnick`: the prediction ``N^d / d!`` regions per unit volume;
- :func:`local_complexity`: how many units' hyperplanes pass within a radius of data points;
- :func:`distance_to_boundary`: each data point's exact distance to the boundary of its
  activation region (Hanin & Rolnick's measure).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import factorial

import numpy as np

from ..core.arrays import checked_flag, checked_instance, float_array, real_number, whole_number
from ..core.domain import Box, Polytope
from ..core.network import Network
from ..engine.api import enumerate_regions
from ..errors import ArgumentTypeError, IncompleteResultError, InvalidArgumentError, InvalidDomainError

__all__ = ["Estimate", "sampled_patterns", "grid_patterns", "chao1", "trajectory_regions",
           "line_regions", "hanin_rolnick", "local_complexity", "distance_to_boundary", "sample_domain"]


@dataclass
class Estimate:
    """An estimate: ``value``; ``estimates``, what it is a number of; ``kind``, how it relates
    to the truth (``"lower bound"``, ``"exact"``, ``"extrapolation"``, ``"prediction"``,
    ``"linearised"``);
    ``samples`` used (points, or segments of a path); ``seconds``; ``details`` per method."""

    method: str
    value: float
    estimates: str
    kind: str
    samples: int
    seconds: float
    details: dict = field(default_factory=dict)


def _check_common(network, domain):
    checked_instance(network, Network, "network", "a regionenum.Network")
    if not isinstance(domain, Polytope):
        raise ArgumentTypeError(f"domain must be a regionenum Box or Polytope, got {type(domain).__name__}")
    if domain.dim != network.input_dim:
        raise InvalidDomainError(f"the domain has dimension {domain.dim} but the network takes "
                              f"{network.input_dim} inputs")
    if not domain.is_bounded:
        raise InvalidDomainError("sampling needs a bounded domain")


def _fits_in_memory(network, n: int, what: str) -> None:
    """Refuse, before any work, ``n`` points whose arrays (their coordinates, every layer's
    values at them, their patterns) would not fit in this machine's memory: NumPy would fail
    only after the work before them (in :func:`compare`, the exact enumeration)."""
    need = n * (8 * (network.input_dim + sum(network.widths)) + 2 * network.n_units)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # (not on every system)
        return
    if need > total:
        raise InvalidArgumentError(f"{what}: {n:,} points need about {need / 2 ** 30:,.3g} GiB for the network's "
                                   f"values at them; this machine has {total / 2 ** 30:.3g} GiB")


def _rng(seed) -> np.random.Generator:
    """``numpy.random.default_rng(seed)``, refusing by name a seed it cannot take."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"seed must be None, a non-negative integer or a numpy Generator, "
                                   f"got {seed!r}") from None


def sample_domain(domain, n: int, rng) -> np.ndarray:
    """``n`` points uniform in a bounded domain (rejection from its bounding box).

    Parameters
    ----------
    domain : Box or Polytope
        Bounded (not checked here: an unbounded domain fails inside numpy). A Polytope's
        points are those with ``A x + b <= 0`` exactly in float64.
    n : int
        How many points (not checked).
    rng : numpy.random.Generator
        The source of randomness, for example ``np.random.default_rng(seed)``.

    Returns
    -------
    ndarray, shape (n, d)
        Float64 points, independent and uniform on the domain.

    Raises
    ------
    InvalidDomainError
        An unbounded domain, or a Polytope that fills so little of its bounding box that 1000
        rounds of rejection sampling do not give ``n`` points.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> X = rn.estimators.sample_domain(rn.Box([0, 0], [1, 2]), 5, np.random.default_rng(0))
    >>> X.shape, bool(rn.Box([0, 0], [1, 2]).contains(X).all())
    ((5, 2), True)
    """
    if not domain.is_bounded:
        raise InvalidDomainError("sampling needs a bounded domain: there is no uniform law on an unbounded one")
    lo, hi = domain.bounds
    if isinstance(domain, Box):
        return rng.uniform(lo, hi, (n, domain.dim))
    out, have = [], 0
    for _ in range(1000):
        X = rng.uniform(lo, hi, (max(2 * (n - have), 64), domain.dim))
        X = X[domain.contains(X)]
        out.append(X)
        have += len(X)
        if have >= n:
            return np.concatenate(out)[:n]
    raise InvalidDomainError("the domain fills too little of its bounding box to sample it")


def _pattern_counts(network, X):
    """Distinct patterns among the rows of ``X`` and how often each occurs."""
    keys = np.packbits(network.pattern_bits(X), axis=1)
    if not keys.shape[1]:  # no two-state units: one pattern
        return np.array([len(X)])
    _, counts = np.unique(np.ascontiguousarray(keys).view(f"V{keys.shape[1]}").ravel(),
                          return_counts=True)
    return counts


def sampled_patterns(network, domain, n_samples: int, seed=None) -> Estimate:
    """Distinct activation patterns of ``n_samples`` uniform random points in the domain.

    Each distinct pattern seen is a region that meets the domain, so the count is a lower
    bound on the number of regions; small regions are easily missed (see :func:`chao1`).

    Parameters
    ----------
    network : Network
    domain : Box or Polytope
        Bounded, of the network's input dimension.
    n_samples : int
        How many points to draw (positive).
    seed : int, numpy.random.Generator or None, optional
        Passed to ``numpy.random.default_rng``; None (default) gives fresh randomness.

    Returns
    -------
    Estimate
        ``value``: the number of distinct patterns (a ``"lower bound"``); ``samples``:
        ``n_samples``; ``details["frequencies"]``: how many points fell in each pattern seen.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`, or ``domain`` not a Box or
        Polytope.
    InvalidDomainError
        The domain's dimension is not the network's, or it is unbounded.
    InvalidArgumentError
        ``n_samples`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> rn.estimators.sampled_patterns(net, rn.Box([-1, -1], [1, 1]), 100, seed=0).value
    4.0
    """
    _check_common(network, domain)
    n = whole_number(n_samples, "n_samples")
    _fits_in_memory(network, n, "n_samples")
    start = time.perf_counter()
    counts = _pattern_counts(network, sample_domain(domain, n, _rng(seed)))
    return Estimate("sampled_patterns", float(len(counts)), "activation regions meeting the domain",
                    "lower bound", n, time.perf_counter() - start, {"frequencies": counts})


def grid_patterns(network, domain, n_per_axis: int) -> Estimate:
    """Distinct activation patterns at the points of a regular grid (cell centres) over the
    domain's bounding box that lie in the domain.

    A lower bound on the number of regions, like :func:`sampled_patterns`, but deterministic.

    Parameters
    ----------
    network : Network
    domain : Box or Polytope
        Bounded, of the network's input dimension.
    n_per_axis : int
        Grid cells per coordinate (positive): the grid has ``n_per_axis ** d`` points, all
        evaluated at once, so memory grows exponentially with ``d``.

    Returns
    -------
    Estimate
        ``value``: the number of distinct patterns (a ``"lower bound"``); ``samples``: the
        grid points inside the domain; ``details["frequencies"]``: points per pattern seen.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`, or ``domain`` not a Box or
        Polytope.
    InvalidDomainError
        The domain's dimension is not the network's, or it is unbounded.
    InvalidArgumentError
        ``n_per_axis`` is not a positive integer, or no grid point lies in the domain.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> est = rn.estimators.grid_patterns(net, rn.Box([-1, -1], [1, 1]), 4)
    >>> est.value, est.samples
    (4.0, 16)
    """
    _check_common(network, domain)
    m = whole_number(n_per_axis, "n_per_axis")
    _fits_in_memory(network, m ** domain.dim, "n_per_axis")
    start = time.perf_counter()
    X = _grid_points(domain, m)
    counts = _pattern_counts(network, X)
    return Estimate("grid_patterns", float(len(counts)), "activation regions meeting the domain",
                    "lower bound", len(X), time.perf_counter() - start, {"frequencies": counts})


def _grid_points(domain, m):
    """Centres of an ``m``-per-axis grid over the domain's bounding box, inside the domain."""
    lo, hi = domain.bounds
    axes = [lo[i] + (np.arange(m) + 0.5) * (hi[i] - lo[i]) / m for i in range(domain.dim)]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, domain.dim)
    X = X[domain.contains(X)]
    if not len(X):
        raise InvalidArgumentError("no grid point lies in the domain: use a finer grid")
    return X


def _chao1_value(counts):
    f1, f2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    return len(counts) + f1 * (f1 - 1) / (2 * (f2 + 1)), f1, f2


def chao1(network, domain, n_samples: int, seed=None) -> Estimate:
    """Chao1 extrapolation of the number of patterns from random samples:
    ``S_obs + f1 (f1 - 1) / (2 (f2 + 1))`` (``f1``, ``f2``: patterns seen once, twice).
    Large regions are seen often, so it corrects for the small ones missed, but it is not a
    bound either way.

    Parameters
    ----------
    network : Network
    domain : Box or Polytope
        Bounded, of the network's input dimension.
    n_samples : int
        How many uniform random points to draw (positive).
    seed : int, numpy.random.Generator or None, optional
        Passed to ``numpy.random.default_rng``; None (default) gives fresh randomness. The
        same seed draws the same points as :func:`sampled_patterns`.

    Returns
    -------
    Estimate
        ``value``: the extrapolated number of regions (an ``"extrapolation"``);
        ``details``: ``observed`` (distinct patterns), ``f1`` and ``f2``.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`, or ``domain`` not a Box or
        Polytope.
    InvalidDomainError
        The domain's dimension is not the network's, or it is unbounded.
    InvalidArgumentError
        ``n_samples`` is not a positive integer.
    """
    seen = sampled_patterns(network, domain, n_samples, seed)
    counts = seen.details["frequencies"]
    value, f1, f2 = _chao1_value(counts)
    return Estimate("chao1", float(value), "activation regions meeting the domain", "extrapolation",
                    seen.samples, seen.seconds, {"observed": len(counts), "f1": f1, "f2": f2})


def trajectory_regions(network, points, domain=None, closed: bool = False) -> Estimate:
    """Exactly how many activation regions a polygonal path passes through, in order.

    ``points`` ``(m, d)`` are the path's corners (``closed`` joins the last to the first). The
    value counts pieces: a region entered twice counts twice, as transition counts do;
    ``details["distinct"]`` counts each region once, ``details["patterns"]`` lists the pieces'
    patterns in order and ``details["breakpoints"]`` their ends as path parameters (segment
    index + fraction). With ``domain``, every corner must lie in it.

    Each segment is handled exactly by the engine on the network restricted to it
    (:meth:`Network.restricted <regionenum.Network.restricted>`); a region continuing across
    a corner is one piece.

    Parameters
    ----------
    network : Network
    points : array_like, shape (m, d)
        The corners, ``m >= 2``, finite, ``d`` the network's input dimension; consecutive
        corners must differ.
    domain : Box or Polytope, optional
        If given, every corner must lie in it (to ``1e-12`` of the corners' scale); the path
        is not clipped to it. Default: no check.
    closed : bool, optional
        Add the segment from the last corner back to the first (default False). The piece
        where the loop ends continues the one where it starts: on a loop that crosses region
        boundaries, the value is the number of crossings.

    Returns
    -------
    Estimate
        ``value``: the number of pieces (``"exact"``); ``samples``: the number of segments;
        ``details``: ``distinct``, ``patterns`` (bool, ``(pieces, n_units)``) and
        ``breakpoints`` (``pieces - 1`` floats in ``(0, segments)``).

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`, or ``closed`` not a bool.
    InvalidArgumentError
        ``points`` of the wrong shape, fewer than two, not finite, or with a segment of zero
        length.
    InvalidDomainError
        A corner outside ``domain``, or a domain of another dimension.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> square = [[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]]   # around the origin
    >>> open_path = rn.estimators.trajectory_regions(net, square)
    >>> open_path.value, open_path.details["breakpoints"].tolist()
    (4.0, [0.5, 1.5, 2.5])
    >>> rn.estimators.trajectory_regions(net, square, closed=True).value   # four quadrants, four crossings
    4.0
    """
    checked_instance(network, Network, "network", "a regionenum.Network")
    closed = checked_flag(closed, "closed")
    P = float_array(points, "points")
    if P.ndim != 2 or P.shape[1] != network.input_dim or len(P) < 2:
        raise InvalidArgumentError(f"points must have shape (m, {network.input_dim}) with m >= 2, got "
                              f"{P.shape}")
    if not np.all(np.isfinite(P)):
        raise InvalidArgumentError("points must be finite")
    if domain is not None:
        outside = np.flatnonzero(~domain.contains(P, tol=1e-12 * max(1.0, np.abs(P).max())))
        if outside.size:
            raise InvalidDomainError(f"trajectory point {outside[0]} lies outside the domain")
    if closed:
        P = np.vstack([P, P[:1]])
    start = time.perf_counter()
    patterns, ends = [], []
    for k, (a, b) in enumerate(zip(P[:-1], P[1:])):
        if np.array_equal(a, b):
            raise InvalidArgumentError(f"trajectory segment {k} has zero length")
        for right, row in zip(*_segment_pieces(network.restricted(a, (b - a)[:, None]))):
            if patterns and np.array_equal(patterns[-1], row):
                ends[-1] = k + right  # the same region continues across the corner
            else:
                patterns.append(row)
                ends.append(k + right)
    if closed and len(patterns) > 1 and np.array_equal(patterns[0], patterns[-1]):
        patterns.pop()  # the loop's last piece is its first: one region, entered once
    distinct = len({p.tobytes() for p in patterns})
    bits = np.unpackbits(np.array(patterns), axis=1, count=network.n_units).view(bool)
    return Estimate("trajectory_regions", float(len(patterns)),
                    "activation regions along the path (pieces, in order)", "exact", len(P) - 1,
                    time.perf_counter() - start,
                    {"distinct": distinct, "patterns": bits, "breakpoints": np.array(ends[:-1])})


def _segment_pieces(restricted):
    """The regions of a network restricted to a segment (``t`` in ``[0, 1]``), in order: each
    one's right end and packed pattern."""
    pieces = enumerate_regions(restricted, Box([0.0], [1.0]))
    order = np.argsort(pieces.interior_points[:, 0])
    return [float(pieces.vertices_of(i)[:, 0].max()) for i in order], pieces.packed_patterns[order]


def line_regions(network, x0, x1, domain=None) -> Estimate:
    """Exactly how many activation regions the segment from ``x0`` to ``x1`` passes through.

    :func:`trajectory_regions` on the two points (a region re-entered counts twice).

    Parameters
    ----------
    network : Network
    x0, x1 : array_like, shape (d,)
        The segment's ends: distinct, finite, ``d`` the network's input dimension.
    domain : Box or Polytope, optional
        If given, both ends must lie in it.

    Returns
    -------
    Estimate
        As for :func:`trajectory_regions`, with ``method`` ``"line_regions"``:
        ``details["breakpoints"]`` are the fractions of the way from ``x0`` to ``x1`` where
        the pattern changes.

    Raises
    ------
    ArgumentTypeError, InvalidArgumentError, InvalidDomainError
        As for :func:`trajectory_regions` (``x0 == x1`` is a segment of zero length).

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> est = rn.estimators.line_regions(net, [-1.0, -1.0], [1.0, 2.0])   # x1 = 0, then x0 = 0
    >>> est.value, np.round(est.details["breakpoints"], 6).tolist()
    (3.0, [0.333333, 0.5])
    """
    ends = [np.ravel(float_array(x, name)) for x, name in ((x0, "x0"), (x1, "x1"))]
    if ends[0].shape != ends[1].shape:
        raise InvalidArgumentError(f"x0 and x1 must have the same length, got {len(ends[0])} and {len(ends[1])}")
    out = trajectory_regions(network, np.stack(ends), domain)
    out.method = "line_regions"
    return out


def hanin_rolnick(network, domain) -> Estimate:
    """Hanin & Rolnick's (2019) prediction: about ``N^d / d!`` regions per unit volume for
    ``N`` neurons in ``d`` input dimensions, at initialisation and through training, whatever
    the depth. Their constant (from the gradients' and biases' distributions) is taken as 1, so
    this is an order of magnitude.

    Parameters
    ----------
    network : Network
    domain : Box or Polytope
        Bounded, of the network's input dimension.

    Returns
    -------
    Estimate
        ``value``: ``N**d / d! * volume`` (a ``"prediction"``), ``N`` the units with several
        states (``network.n_units``), ``d`` the input dimension and ``volume`` the domain's
        (in the units of the inputs, to the power ``d``); ``samples`` 0;
        ``details``: ``neurons`` and ``volume``.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`, or ``domain`` not a Box or
        Polytope.
    InvalidDomainError
        The domain's dimension is not the network's, or it is unbounded.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> rn.estimators.hanin_rolnick(net, rn.Box([-1, -1], [1, 1])).value   # 2**2 / 2! * 4
    8.0
    """
    _check_common(network, domain)
    start = time.perf_counter()
    N, d = network.n_units, network.input_dim
    volume = domain.volume()
    value = N ** d / factorial(d) * volume
    return Estimate("hanin_rolnick", float(value), "activation regions meeting the domain",
                    "prediction", 0, time.perf_counter() - start, {"neurons": N, "volume": volume})


def local_complexity(network, X, radius: float) -> Estimate:
    """Per data point (rows of ``X``), how many units' hyperplanes pass within ``radius`` of it:
    unit ``u`` counts when ``|z_u(x)| < radius * |grad z_u(x)|``, the pre-activation's local
    linearisation (exact for the first layer; for deeper units the piece of their bent
    hyperplane nearest ``x``); in a max group, each losing argument ``j`` counts when the
    winner's tie ``z_w - z_j`` does. ``value`` is the mean, ``details["per_point"]`` the counts.

    Distances are Euclidean, in input space; gradients are those of the piece containing
    each point.

    Parameters
    ----------
    network : Network
    X : array_like, shape (n, d) or (d,)
        The data points (a single vector is one point), ``d`` the network's input dimension.
    radius : float
        Positive and finite, in the units of the inputs.

    Returns
    -------
    Estimate
        ``value``: the mean count; ``kind`` ``"exact"`` when only the first layer has units
        with several states, else ``"linearised"``; ``details``: ``per_point`` (int, shape
        ``(n,)``) and ``radius``.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`.
    InvalidArgumentError
        ``radius`` not positive and finite, no points, or a point with a coordinate that is
        not finite.
    InvalidNetworkError
        ``X`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> est = rn.estimators.local_complexity(net, [[0.5, 0.05], [0.5, 0.5]], radius=0.1)
    >>> est.details["per_point"].tolist(), est.value, est.kind    # only x1 = 0 passes near the first
    ([1, 0], 0.5, 'exact')
    """
    checked_instance(network, Network, "network", "a regionenum.Network")
    if not (np.isfinite(real_number(radius, "radius")) and radius > 0):
        raise InvalidArgumentError(f"radius must be positive, got {radius!r}")
    X = network._check_points(X)
    if not len(X):
        raise InvalidArgumentError("X has no points")
    start = time.perf_counter()
    n = len(X)
    A = X
    G = np.broadcast_to(np.eye(network.input_dim), (n,) + (network.input_dim,) * 2)  # dA/dx
    near = np.zeros(n, np.int64)
    for layer, units in zip(network.layers, network.split_units):
        act = layer.activation
        Z = A @ layer.W.T + layer.b
        dZ = np.einsum("oi,nid->nod", layer.W, G)
        slopes = act.slopes(Z)
        if act.kind == "max":  # the hyperplanes are the winner's ties z_w - z_j
            top = np.repeat(act(Z), act.groups, axis=1)
            dtop = np.repeat(act.collect(slopes[:, :, None] * dZ, axis=1), act.groups, axis=1)
            gap, dgap = top - Z, dtop - dZ
            near += np.sum((slopes == 0) & (gap < radius * np.linalg.norm(dgap, axis=2)), axis=1)
        elif len(units):
            near += np.sum(np.abs(Z[:, units]) < radius * np.linalg.norm(dZ[:, units], axis=2), axis=1)
        A = act(Z)
        G = act.collect(slopes[:, :, None] * dZ, axis=1)
    linearised = any(layer > 0 for layer in network.split_layers)
    return Estimate("local_complexity", float(near.mean()), "units whose hyperplane meets the ball",
                    "linearised" if linearised else "exact", n,
                    time.perf_counter() - start, {"per_point": near, "radius": radius})


def distance_to_boundary(network, X, chunk: int = 256) -> Estimate:
    """Each data point's distance to the boundary of its activation region, exactly (in
    float64), in the whole input space: the region is the set of inputs with the point's
    pattern, an intersection of half-spaces ``+-z_u(x) >= 0`` with each unit's pre-activation
    ``z_u`` affine there, so the distance is ``min_u |z_u(x)| / |grad z_u|`` over the units
    (and, in max groups, the winner's ties ``z_w - z_j``), gradients taken on that region.
    Units constant on the region (zero gradient) bound nothing. Hanin & Rolnick (2019) find the
    mean distance at initialisation and through training about ``C / N`` for ``N`` neurons.

    Parameters
    ----------
    network : Network
    X : array_like, shape (n, input_dim)
        The data points.
    chunk : int, optional
        Points handled together (memory grows with ``chunk * units * input_dim``).

    Returns
    -------
    Estimate
        ``value``: the mean distance; ``details["per_point"]`` the distances (``inf`` for a
        point whose region is all of space), ``details["nearest"]`` the ``(layer, unit)`` of
        each point's nearest hyperplane (``(-1, -1)`` for none; for a tie, the losing
        argument), ``details["neurons"]`` the number of units with several states.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`~regionenum.Network`.
    InvalidArgumentError, InvalidNetworkError
        No points, a point with a coordinate that is not finite, or ``X`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> d = rn.estimators.distance_to_boundary(net, [[0.5, -0.2], [3.0, 4.0]])
    >>> d.details["per_point"].tolist(), d.details["nearest"].tolist()
    ([0.2, 3.0], [[0, 1], [0, 0]])
    """
    checked_instance(network, Network, "network", "a regionenum.Network")
    X = network._check_points(X)
    if not len(X):
        raise InvalidArgumentError("X has no points")
    chunk = whole_number(chunk, "chunk")
    start = time.perf_counter()
    dist = np.full(len(X), np.inf)
    nearest = np.full((len(X), 2), -1, np.int64)
    for lo in range(0, len(X), chunk):
        dist[lo: lo + chunk], nearest[lo: lo + chunk] = _nearest_boundaries(network, X[lo: lo + chunk])
    finite = dist[np.isfinite(dist)]
    return Estimate("distance_to_boundary", float(finite.mean()) if len(finite) else np.inf,
                    "distance from each point to its activation region's boundary", "exact", len(X),
                    time.perf_counter() - start,
                    {"per_point": dist, "nearest": nearest, "neurons": network.n_units})


def _nearest_boundaries(network, X):
    """Distances and nearest ``(layer, unit)`` for the rows of ``X``, layer by layer."""
    n = len(X)
    A = X
    G = np.broadcast_to(np.eye(network.input_dim), (n,) + (network.input_dim,) * 2)  # dA/dx
    best = np.full(n, np.inf)
    where = np.full((n, 2), -1, np.int64)
    for l, (layer, units) in enumerate(zip(network.layers, network.split_units)):
        act = layer.activation
        Z = A @ layer.W.T + layer.b
        dZ = np.einsum("oi,nid->nod", layer.W, G)
        slopes = act.slopes(Z)
        if act.kind == "max":  # the region's hyperplanes are the winner's ties z_w - z_j
            top = np.repeat(act(Z), act.groups, axis=1)
            dtop = np.repeat(act.collect(slopes[:, :, None] * dZ, axis=1), act.groups, axis=1)
            value, grad, cols = top - Z, np.linalg.norm(dtop - dZ, axis=2), np.arange(layer.width)
            grad[slopes != 0] = 0.0  # the winners themselves
        else:
            value, grad, cols = np.abs(Z[:, units]), np.linalg.norm(dZ[:, units], axis=2), units
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(grad > 0, value / np.where(grad > 0, grad, 1.0), np.inf)
        if d.shape[1]:
            j = np.argmin(d, axis=1)
            closer = d[np.arange(n), j] < best
            best[closer] = d[closer, j[closer]]
            where[closer] = np.stack([np.full(int(closer.sum()), l), np.asarray(cols)[j[closer]]], axis=1)
        A = act(Z)
        G = act.collect(slopes[:, :, None] * dZ, axis=1)
    return best, where


def checked_budgets(network, budgets, seed) -> list:
    """:func:`compare`'s ``budgets`` as ints, and its ``seed``, checked before any work (the
    command line checks them before its exact enumeration): each budget a positive integer whose
    points fit in memory, a seed ``numpy.random.default_rng`` takes."""
    _rng(seed)
    budgets = [whole_number(n, "each budget")
               for n in checked_instance(budgets, Iterable, "budgets", "a list of sample sizes")]
    for n in budgets:
        _fits_in_memory(network, n, "budgets")
    return budgets


def compare(regions, budgets=(100, 1000, 10000, 100000), seed=0) -> list[dict]:
    """Run the sampling estimators at each budget against an exact enumeration ``regions``
    (complete, on a bounded domain): one row per method and budget with ``estimate``,
    ``exact``, ``ratio``, ``seconds``, and for the point-based methods ``missed_by_volume``: the
    share of regions missed in each volume quartile (smallest first). Hanin-Rolnick comes once,
    with budget 0."""
    if not regions.complete:
        raise IncompleteResultError("compare needs a complete enumeration (this one stopped early: "
                                    f"{regions.stop_reason})")
    net, domain = regions.network, regions.domain
    budgets = checked_budgets(net, budgets, seed)
    exact = len(regions)
    edges = np.quantile(regions.volumes, [0.25, 0.5, 0.75])
    quartile = np.searchsorted(edges, regions.volumes, side="right")
    rows = []

    def missed(X):
        hit = np.zeros(exact, bool)
        idx = regions.locate(X)
        hit[idx[idx >= 0]] = True
        return [float(np.mean(~hit[quartile == q])) if np.any(quartile == q) else 0.0 for q in range(4)]

    def row(est, X=None):
        out = dict(method=est.method, budget=est.samples, estimate=est.value, exact=exact,
                   ratio=est.value / exact, seconds=est.seconds, kind=est.kind)
        if X is not None:
            out["missed_by_volume"] = missed(X)
        rows.append(out)

    for n in budgets:
        rng = _rng(seed)
        X = sample_domain(domain, n, rng)
        start = time.perf_counter()
        counts = _pattern_counts(net, X)
        seconds = time.perf_counter() - start
        row(Estimate("sampled_patterns", float(len(counts)), "", "lower bound", n, seconds), X)
        row(Estimate("chao1", _chao1_value(counts)[0], "", "extrapolation", n, seconds))
        m = max(1, int(round(n ** (1 / domain.dim))))
        row(grid_patterns(net, domain, m), _grid_points(domain, m))
    row(hanin_rolnick(net, domain))
    return rows
