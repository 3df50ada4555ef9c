"""Exact verification of small networks from their enumerated regions.

An affine function on a polytope is largest at a vertex, and the network is affine on each
region, so the largest value of any linear function of the outputs over a bounded domain is the
largest over all region vertices. Vertices are found in float64 and the best candidates re-valued
in exact rational arithmetic (:mod:`regionenum.analysis.exact_geometry`), so maxima, minima and property
verdicts are exact rationals with witness inputs, decided exactly where the engine decides
exactly.

>>> import numpy as np, regionenum as rn
>>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
>>> r = rn.verify.output_range(net, rn.Box([-1.0], [2.0]))
>>> r.min, r.max, r.argmax
(Fraction(-1, 2), Fraction(3, 2), array([2.]))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..analysis.exact_geometry import ExactGeometry
from ..core.arrays import checked_instance, float_array, is_integer, real_number
from ..core.tolerances import ETA, gamma
from ..core.domain import Box, Polytope
from ..core.network import Network
from ..engine.api import enumerate_regions
from ..errors import (IncompleteResultError, InvalidArgumentError, InvalidDomainError,
                      InvalidNetworkError)
from ..result import Regions
from .spec import output_rows

# scipy is imported by the functions that use it: about a third of the package's import time
__all__ = ["OutputRange", "PropertyResult", "RobustnessResult", "LipschitzResult",
           "output_range", "check_property", "robustness", "lipschitz", "reachable_set"]


@dataclass
class OutputRange:
    """Exact ``min`` and ``max`` (Fractions) of one output over the domain, with witness inputs
    ``argmin``, ``argmax`` (float64 of exact rational vertices ``argmin_exact``,
    ``argmax_exact``) and the regions they are vertices of."""

    output: int
    min: Fraction
    max: Fraction
    argmin: np.ndarray
    argmax: np.ndarray
    argmin_exact: list
    argmax_exact: list
    region_min: int
    region_max: int


@dataclass
class PropertyResult:
    """Whether ``C y(x) + e <= 0`` holds on the whole domain. ``holds``; per row of ``C`` the
    exact largest value ``worst`` over the domain with its input ``worst_input``: the proof (all
    ``<= 0``, each attained at a checked vertex) or the counterexample (a row ``> 0``:
    ``counterexample``, the input where it is largest, and ``violated`` the rows)."""

    holds: bool
    worst: list
    worst_input: np.ndarray
    counterexample: np.ndarray | None
    violated: list = field(default_factory=list)


@dataclass
class RobustnessResult:
    """``robust`` when one class wins on the whole set (``label``); otherwise
    ``counterexample``, the point of another class's region nearest ``center`` (in the norm of
    the set, by linear programming over each violating piece), its ``label_found``, and
    ``distance``."""

    robust: bool
    label: int
    counterexample: np.ndarray | None = None
    label_found: int | None = None
    distance: float | None = None


@dataclass
class LipschitzResult:
    """The Lipschitz constant over the domain in ``norm`` (1, 2 or inf): ``value`` (exact
    Fraction for 1 and inf, float for 2), attained on ``region`` with Jacobian ``jacobian``."""

    norm: object
    value: object
    region: int
    jacobian: np.ndarray


def _network_of(target):
    """The network of ``target`` (a :class:`Regions` or a network), for checks before work;
    ``ArgumentTypeError`` where it is neither."""
    checked_instance(target, (Network, Regions), "target", "a regionenum.Network or Regions")
    return target.network if isinstance(target, Regions) else target


def _regions(target, domain):
    """An enumerated result, from ``target`` (a :class:`Regions`) or (network, domain)."""
    _network_of(target)
    if isinstance(target, Regions):
        regions = _own_domain(target, domain)
    else:
        if domain is None:
            raise InvalidArgumentError("give a domain with the network (or an enumerated Regions)")
        regions = enumerate_regions(target, domain)
    if not regions.complete:
        raise IncompleteResultError(f"verification needs a complete enumeration (it stopped: "
                              f"{regions.stop_reason})")
    if not regions.bounded.all():
        raise InvalidDomainError("verification needs a bounded domain")
    if len(regions) and len(regions.vertices) == 0:
        raise InvalidArgumentError(
            f"these regions have no vertices (enumerated by their inequalities: {regions.dim} inputs); "
            "the property-directed search decides such properties: rn.verify.verify_property")
    return regions


def _own_domain(regions, domain):
    """``regions``, refusing a ``domain`` given beside them: they were enumerated on their own,
    and another one would be ignored."""
    if domain is not None:
        raise InvalidArgumentError("give a domain with a network only: these Regions were enumerated on "
                                   "their own domain (enumerate again on the other one)")
    return regions


def _vertex_values(regions, C, e):
    """Float values of ``C y + e`` at every (region, vertex) pair: ``(V, rows)``, a rigorous
    bound on each one's distance from the exact value at the exact vertex, the region of each,
    and the generator index of each.

    The bound adds, per output, the region's map error (``output_errors``, summed over the
    coefficients, times the point's size), the Jacobian times the vertex's own error bound, and
    the rounding of the map's and ``C``'s dot products; not finite where a value overflowed."""
    cells = regions.cells
    g_cell = np.repeat(np.arange(len(cells)), np.diff(cells.gen_off))
    g_region = regions.cell_region[g_cell]
    X = cells.gens[:, 1:]
    J, off = regions.jacobians[g_region], regions.offsets[g_region]
    Y = np.einsum("gkd,gd->gk", J, X) + off
    absJ = np.abs(J)
    d, k = X.shape[1], C.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        size = np.einsum("gkd,gd->gk", absJ, np.abs(X)) + np.abs(off)
        reach = np.maximum(1.0, np.abs(X).max(axis=1, initial=0.0))[:, None]
        err_y = (regions.output_errors[g_region] * reach + absJ.sum(axis=2) * cells.gen_err[:, None]
                 + gamma(d + 1) * size + 4 * ETA)
        err = (err_y @ np.abs(C).T + gamma(k + 1) * (np.abs(Y) @ np.abs(C).T + np.abs(e))) * (1 + 4 * gamma(k + d))
    return Y @ C.T + e, err, g_region, np.arange(len(X))


def _may_be_largest(values, errors) -> np.ndarray:
    """Indices of the ``values`` whose exact value, within ``errors`` of them, may be the largest:
    every one not proven below some other's lower bound (a value or bound that is not finite
    always stays)."""
    with np.errstate(invalid="ignore"):
        low = values - errors
        floor = np.max(low[np.isfinite(low)], initial=-np.inf)
        return np.flatnonzero(~(values + errors < floor))


def _exact_extreme(geo, values, errors, g_region, g_index, coeffs, const, maximise=True):
    """The exact extreme of ``coeffs . y + const`` over the vertices: every vertex whose float
    value could reach the best one's within their error bounds (``errors``; all of them where a
    bound is not finite) is re-valued in exact arithmetic. (Fraction, generator, region)."""
    best = None
    for i in _may_be_largest(values if maximise else -values, errors):
        y = geo.outputs_at(int(g_region[i]), int(g_index[i]))
        val = sum(Fraction(float(c)) * yi for c, yi in zip(coeffs, y)) + Fraction(float(const))
        key = val if maximise else -val
        if best is None or key > best[0]:
            best = (key, int(g_index[i]), int(g_region[i]), val)
    return best[3], best[1], best[2]


def output_range(target, domain=None, output: int = 0) -> OutputRange:
    """Exact minimum and maximum of output ``output`` over a bounded domain, with witnesses.

    The extremes are attained at vertices of the regions; the float64 candidates near the
    extreme are re-valued in exact rational arithmetic.

    Parameters
    ----------
    target : Network or Regions
        A network, enumerated here on ``domain``; or a result of
        :func:`~regionenum.enumerate_regions`, which must be complete and bounded.
    domain : Box or Polytope, optional
        A bounded domain of the network's input dimension. Needed with a network; refused
        with a :class:`~regionenum.Regions`.
    output : int, optional
        Which output, ``0 <= output < output_dim`` (default 0).

    Returns
    -------
    OutputRange
        ``min`` and ``max`` as Fractions, witness inputs ``argmin`` and ``argmax`` (float64;
        exact in ``argmin_exact``, ``argmax_exact``) and the regions they are vertices of.

    Raises
    ------
    InvalidArgumentError
        ``output`` not an integer in range (checked before enumerating), a network without a domain, a
        result with one, or a result without a cell complex (enumerated by its inequalities: more
        than five inputs).
    IncompleteResultError
        The enumeration stopped early.
    InvalidDomainError
        An unbounded domain (found after enumerating), or one whose dimension is not the
        network's.
    ArgumentTypeError
        ``target`` is neither a :class:`~regionenum.Network` nor a
        :class:`~regionenum.Regions`, or ``domain`` is not a domain.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
    >>> r = rn.verify.output_range(net, rn.Box([-1.0], [2.0]))
    >>> r.min, r.max, r.argmin.tolist(), r.argmax.tolist()
    (Fraction(-1, 2), Fraction(3, 2), [0.0], [2.0])
    """
    network = _network_of(target)
    k = network.output_dim
    if not is_integer(output) or not 0 <= output < k:
        raise InvalidArgumentError(f"output must be an integer in [0, {k}), got {output!r}")
    regions = _regions(target, domain)
    C = np.zeros((1, k))
    C[0, output] = 1.0
    values, errors, g_region, g_index = _vertex_values(regions, C, np.zeros(1))
    geo = ExactGeometry(regions)
    hi, g_hi, r_hi = _exact_extreme(geo, values[:, 0], errors[:, 0], g_region, g_index, C[0], 0.0)
    lo, g_lo, r_lo = _exact_extreme(geo, values[:, 0], errors[:, 0], g_region, g_index, C[0], 0.0,
                                    maximise=False)
    x_hi, x_lo = geo.point(g_hi), geo.point(g_lo)
    return OutputRange(output, lo, hi, np.array([float(v) for v in x_lo]),
                       np.array([float(v) for v in x_hi]), x_lo, x_hi, r_lo, r_hi)


def check_property(target, C, e, domain=None) -> PropertyResult:
    """Decide exactly whether ``C y(x) + e <= 0`` for every ``x`` of a bounded domain
    (``C``: ``(m, k)``, ``e``: ``(m,)``).

    Each row's largest value over the domain is attained at a vertex of a region; it is found
    in float64 and settled in exact rational arithmetic (``C`` and ``e`` are taken as the
    exact rationals their floats are).

    Parameters
    ----------
    target : Network or Regions
        A network, enumerated here on ``domain``; or a result of
        :func:`~regionenum.enumerate_regions`, which must be complete and bounded.
    C : array_like, shape (m, k) or (k,)
        Rows over the network's ``k`` outputs; a single vector is one row.
    e : array_like, shape (m,) or scalar
        The rows' constants.
    domain : Box or Polytope, optional
        A bounded domain of the network's input dimension (the last argument, unlike
        :func:`output_range`). Needed with a network; refused with a
        :class:`~regionenum.Regions`.

    Returns
    -------
    PropertyResult
        ``holds``; per row the exact largest value ``worst`` (Fractions) and the input
        ``worst_input`` (float64, ``(m, d)``) where it is attained; the ``violated`` rows and,
        if any, the ``counterexample`` input of the most violated one.

    Raises
    ------
    InvalidArgumentError
        ``C`` or ``e`` of the wrong shape or not finite (checked before enumerating), a
        network without a domain, a result with one, or a result without a cell complex
        (enumerated by its inequalities: more than five inputs).
    IncompleteResultError
        The enumeration stopped early.
    InvalidDomainError
        An unbounded domain (found after enumerating), or one whose dimension is not the
        network's.
    ArgumentTypeError
        ``target`` is neither a :class:`~regionenum.Network` nor a
        :class:`~regionenum.Regions`, or ``domain`` is not a domain.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
    >>> box = rn.Box([-1.0], [2.0])
    >>> rn.verify.check_property(net, [[1.0]], [-1.5], box).holds            # y <= 3/2
    True
    >>> p = rn.verify.check_property(net, [[1.0]], [-1.0], box)              # y <= 1
    >>> p.holds, p.worst, p.counterexample.tolist()
    (False, [Fraction(1, 2)], [2.0])
    """
    network = _network_of(target)
    C, e = output_rows(C, e, network.output_dim)  # checked before any enumeration
    regions = _regions(target, domain)
    values, errors, g_region, g_index = _vertex_values(regions, C, e)
    geo = ExactGeometry(regions)
    worst, inputs, violated = [], [], []
    for i in range(len(C)):
        val, g, _ = _exact_extreme(geo, values[:, i], errors[:, i], g_region, g_index, C[i], e[i])
        worst.append(val)
        inputs.append([float(v) for v in geo.point(g)])
        if val > 0:
            violated.append(i)
    inputs = np.array(inputs)
    counter = inputs[violated[int(np.argmax([worst[i] for i in violated]))]] if violated else None
    return PropertyResult(not violated, worst, inputs, counter, violated)


def lipschitz(target, domain=None, norm=2) -> LipschitzResult:
    """The Lipschitz constant of the network over a convex domain in the 1-, 2- or inf-norm:
    the largest operator norm of the regions' Jacobians (any segment crosses regions, on each
    of which the network is affine). Exact (a Fraction) for 1 and inf.

    The same norm is used on inputs and outputs: for 1 the largest column sum of ``|J|``,
    for inf the largest row sum, for 2 the largest singular value (float64, not exact).

    Parameters
    ----------
    target : Network or Regions
        A network, enumerated here on ``domain`` (which must then be bounded); or a result of
        :func:`~regionenum.enumerate_regions`, which must be complete (an incomplete one
        would give only a lower bound).
    domain : Box or Polytope, optional
        Needed with a network; refused with a :class:`~regionenum.Regions`.
    norm : {2, 1, numpy.inf, "inf"}, optional
        Default 2.

    Returns
    -------
    LipschitzResult
        ``value`` (a Fraction for 1 and inf, a float for 2), the ``region`` attaining it and
        its ``jacobian``, shape ``(k, d)``.

    Raises
    ------
    InvalidArgumentError
        Another ``norm`` (checked before enumerating), a network without a domain, a result
        with a domain, or, for 1 and inf, a result without a cell complex (enumerated by its
        inequalities: more than five inputs).
    IncompleteResultError
        An incomplete result, or the enumeration done here was interrupted (Ctrl-C).
    InvalidDomainError
        With a network: an unbounded domain, or one whose dimension is not the network's.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
    >>> rn.verify.lipschitz(net, rn.Box([-1.0], [2.0]), norm=1).value
    Fraction(1, 1)
    """
    if not (norm in (1, 2, np.inf) or (isinstance(norm, str) and norm == "inf")):
        raise InvalidArgumentError(f"norm must be 1, 2 or inf, got {norm!r}")
    if isinstance(target, Regions) and not target.complete:
        raise IncompleteResultError(f"the Lipschitz constant needs a complete enumeration (this one stopped: "
                                    f"{target.stop_reason}); an incomplete one gives only a lower bound")
    regions = _own_domain(target, domain) if isinstance(target, Regions) else _regions(target, domain)
    J = regions.jacobians
    if norm == 1:
        vals = np.abs(J).sum(axis=1).max(axis=1)
    elif norm in (np.inf, "inf"):
        vals = np.abs(J).sum(axis=2).max(axis=1)
    elif norm == 2:
        vals = np.linalg.norm(J, ord=2, axis=(1, 2))
    else:
        raise InvalidArgumentError(f"norm must be 1, 2 or inf, got {norm!r}")
    best = int(np.argmax(vals))
    if norm == 2:
        return LipschitzResult(2, float(vals[best]), best, J[best])
    geo = ExactGeometry(regions)
    # each float norm's error: its Jacobian entries' (each within its output's map error,
    # ``output_errors``), summed as the norm sums them, and the sum's rounding
    k, d = J.shape[1], J.shape[2]
    errors = regions.output_errors
    with np.errstate(over="ignore", invalid="ignore"):
        if norm == 1:
            err = errors.sum(axis=1) + gamma(k + 1) * vals
        else:
            err = errors.max(axis=1, initial=0.0) + gamma(d + 1) * vals
        err *= 1.0 + 4.0 * gamma(k + d)
    exact_best = None
    for r in _may_be_largest(vals, err):  # re-valued exactly
        E = geo.output_rows(int(r))
        scale = Fraction(int(E[0, 0]))
        A = [[Fraction(int(a)) / scale for a in row[1:]] for row in E[1:]]
        if norm == 1:
            v = max(sum(abs(A[i][j]) for i in range(len(A))) for j in range(len(A[0])))
        else:
            v = max(sum(abs(a) for a in row) for row in A)
        if exact_best is None or v > exact_best[0]:
            exact_best = (v, int(r))
    return LipschitzResult(np.inf if norm in (np.inf, "inf") else 1, exact_best[0], exact_best[1],
                           J[exact_best[1]])


def robustness(network, center, radius, norm=np.inf) -> RobustnessResult:
    """Whether the network's class (its largest output) is the same on the whole ball of
    ``radius`` around ``center`` in the inf-norm (a box) or 1-norm (a cross-polytope); if not,
    the nearest point of another class found in that norm.

    The ball is enumerated and split into decision regions
    (:func:`~regionenum.analysis.decision_regions.decision_regions`); the nearest point of
    each piece of another class comes from a float64 linear programme, and is then moved a
    little into that piece so that the other class wins there.

    Parameters
    ----------
    network : Network
        A classifier: its class is the index of the largest output (ties to the lowest, as
        ``numpy.argmax``); with a single output (a logit), 1 where it is positive and 0
        elsewhere, as in :meth:`Regions.decision_regions`. ``label`` is the class at ``center``.
    center : array_like, shape (d,)
        The ball's centre, ``d`` the network's input dimension.
    radius : float
        Positive and finite; the ball is closed.
    norm : {numpy.inf, "inf", 1}, optional
        The ball's norm (default inf). The 1-ball is a polytope of ``2**d`` rows.

    Returns
    -------
    RobustnessResult
        ``robust`` and ``label``; when not robust, ``counterexample`` (float64),
        ``label_found`` (the network's class there) and ``distance`` (its distance from
        ``center`` in ``norm``: the nearest distance found, plus the small move into the
        piece).

    Raises
    ------
    InvalidArgumentError
        ``center`` of the wrong shape, ``radius`` not positive and finite, or another
        ``norm``.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.eye(2), np.zeros(2))])   # (relu(x), relu(-x))
    >>> rn.verify.robustness(net, [1.0], 0.5).robust                 # class 0 on [0.5, 1.5]
    True
    >>> r = rn.verify.robustness(net, [0.3], 0.5)                    # class 1 below 0
    >>> r.robust, r.label, r.label_found, round(r.distance, 6)
    (False, 0, 1, 0.3)
    """
    checked_instance(network, Network, "network", "a regionenum.Network")
    center = float_array(center, "center")
    d = network.input_dim
    if center.shape != (d,):
        raise InvalidArgumentError(f"center must have shape ({d},), got {center.shape}")
    if not np.all(np.isfinite(center)):
        raise InvalidArgumentError(f"center must be finite, got {center.tolist()}")
    if not (np.isfinite(real_number(radius, "radius")) and radius > 0):
        raise InvalidArgumentError(f"radius must be positive, got {radius!r}")
    if norm in (np.inf, "inf"):
        domain = Box(center - radius, center + radius)
    elif norm == 1:
        signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * d)).reshape(d, -1).T
        domain = Polytope(signs, -(signs @ center) - radius)
    else:
        raise InvalidArgumentError(f"norm must be 1 or inf, got {norm!r}")
    regions = enumerate_regions(network, domain)

    def classify(x):
        y = network(x[None])[0]
        return int(y[0] > 0) if len(y) == 1 else int(np.argmax(y))

    label = classify(center)
    dec = regions.decision_regions()
    others = np.flatnonzero(dec.piece_class != label)
    if not len(others):
        return RobustnessResult(True, label)
    best = None
    cells = dec.pieces
    for p in others:
        for c in np.flatnonzero(dec.piece_cells == p):
            rows = cells.con_rows[cells.con_off[c]: cells.con_off[c + 1]]
            x, dist = _nearest(rows, center, norm)
            if x is not None and (best is None or dist < best[1]):
                best = (x, dist, int(dec.piece_class[p]), c)
    x, dist, found, c = best
    # step from the boundary point into the piece, so that the other class strictly wins
    g = cells.gens[cells.gen_off[c]: cells.gen_off[c + 1]]
    inside = g[g[:, 0] > 0, 1:].mean(axis=0)
    for step in (1e-9, 1e-6, 1e-3, 1e-1, 0.5):
        y = x + step * (inside - x)
        if classify(y) != label:
            x = y
            break
    ref = np.linalg.norm(x - center, ord=1 if norm == 1 else np.inf)
    return RobustnessResult(False, label, x, classify(x), float(ref))


def _nearest(rows, center, norm):
    """The point of ``{row . (1, x) <= 0}`` nearest ``center`` in the 1- or inf-norm (LP)."""
    from scipy.optimize import linprog
    d = len(center)
    A, b = rows[:, 1:], rows[:, 0]
    if norm == 1:  # x = center + p - q, minimise sum(p + q)
        cost = np.ones(2 * d)
        res = linprog(cost, A_ub=np.hstack([A, -A]), b_ub=-b - A @ center, bounds=[(0, None)] * (2 * d),
                      method="highs")
        return (center + res.x[:d] - res.x[d:], res.fun) if res.status == 0 else (None, None)
    # minimise s with |x - center| <= s
    cost = np.r_[np.zeros(d), 1.0]
    eye = np.eye(d)
    A_ub = np.vstack([np.hstack([A, np.zeros((len(A), 1))]),
                      np.hstack([eye, -np.ones((d, 1))]), np.hstack([-eye, -np.ones((d, 1))])])
    b_ub = np.r_[-b, center, -center]
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * d + [(0, None)], method="highs")
    return (res.x[:d], res.fun) if res.status == 0 else (None, None)


def reachable_set(target, domain=None) -> list:
    """The set of outputs the network reaches on a bounded domain, as a union of convex pieces,
    one per region: for one output an interval ``(lo, hi)`` per region; for two outputs the
    region's image polygon (its vertices in counter-clockwise order; a segment or point where
    the map is degenerate).

    The pieces are the images of the regions' float64 vertices (not exact) and may overlap.

    Parameters
    ----------
    target : Network or Regions
        A network, enumerated here on ``domain``; or a result of
        :func:`~regionenum.enumerate_regions`, which must be complete and bounded.
    domain : Box or Polytope, optional
        A bounded domain of the network's input dimension. Needed with a network; refused
        with a :class:`~regionenum.Regions`.

    Returns
    -------
    list
        One entry per region, in region order: a pair of floats ``(lo, hi)`` for one
        output; an ndarray of shape ``(m, 2)`` for two outputs (``m <= 2`` for a segment or a
        point).

    Raises
    ------
    InvalidNetworkError
        The network has neither one nor two outputs (checked after enumerating).
    InvalidArgumentError
        A network without a domain, or a result with one.
    IncompleteResultError
        The enumeration stopped early.
    InvalidDomainError
        An unbounded domain (found after enumerating), or one whose dimension is not the
        network's.
    ArgumentTypeError
        ``target`` is neither a :class:`~regionenum.Network` nor a
        :class:`~regionenum.Regions`, or ``domain`` is not a domain.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
    >>> rn.verify.reachable_set(net, rn.Box([-1.0], [2.0]))        # x <= 0, then x >= 0
    [(-0.5, 0.5), (-0.5, 1.5)]
    """
    regions = _regions(target, domain)
    k = regions.network.output_dim
    if k not in (1, 2):
        raise InvalidNetworkError(f"reachable sets are for 1 or 2 outputs; this network has {k}")
    out = []
    for i in range(len(regions)):
        V = regions.vertices_of(i)
        Y = V @ regions.jacobians[i].T + regions.offsets[i]
        if k == 1:
            out.append((float(Y.min()), float(Y.max())))
        else:
            out.append(_convex_polygon(Y))
    return out


def _convex_polygon(P):
    """Vertices of the convex hull of 2-D points, counter-clockwise (monotone chain)."""
    P = np.unique(P, axis=0)
    if len(P) <= 2:
        return P
    P = P[np.lexsort((P[:, 1], P[:, 0]))]

    def turn(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(points):
        h = []
        for p in points:
            while len(h) >= 2 and turn(h[-2], h[-1], p) <= 0:
                h.pop()
            h.append(p)
        return h

    lower, upper = half(P), half(P[::-1])
    return np.array(lower[:-1] + upper[:-1])
