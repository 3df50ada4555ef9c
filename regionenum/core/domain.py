"""Input domains: convex polyhedra ``{x : A x + b <= 0}``, bounded or not, and boxes.

The engine turns a domain into root cells (:mod:`regionenum.engine.roots`); this module only
describes and checks domains.
"""
from __future__ import annotations

import numpy as np

from ..errors import ArgumentTypeError, InvalidDomainError
from .arrays import is_integer
from .tolerances import gamma

# scipy is imported by the functions that use it: about a third of the package's import time
__all__ = ["Polytope", "Box"]


class Polytope:
    """The convex polyhedron ``{x : A x + b <= 0}`` (scipy's ``[A | b]`` convention).

    Parameters
    ----------
    A : array_like, shape (m, d)
        Rows of the inequalities; every row non-zero and finite. ``m = 0`` is the whole space
        (see :meth:`whole_space`).
    b : array_like, shape (m,)

    Raises
    ------
    InvalidDomainError
        Shapes that do not match, zero or non-finite rows, or a set without interior.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> triangle = rn.Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0]))
    >>> triangle.is_bounded, round(triangle.volume(), 12)
    (True, 0.5)
    """

    def __init__(self, A, b):
        A = _finite_array(A, "A", ndim=2)
        b = _finite_array(b, "b", ndim=1)
        if A.shape[1] == 0:
            raise InvalidDomainError("A must have at least one column (the input dimension)")
        if b.shape != (A.shape[0],):
            raise InvalidDomainError(f"b has shape {b.shape}, expected ({A.shape[0]},) to match A {A.shape}")
        zero = np.flatnonzero(~np.any(A != 0, axis=1))
        if zero.size:
            raise InvalidDomainError(f"row {zero[0]} of A is zero: it is no half-space")
        self.A = A
        self.b = b
        self.dim = A.shape[1]
        self._bounds = None
        centre = self._interior_centre()
        if centre is None:
            raise InvalidDomainError("the domain is empty or has no interior (A x + b <= 0 is infeasible "
                                     "or flat)")
        self._center = centre

    def _interior_centre(self):
        """The centre of the largest ball inside the domain, where it is a proven interior point
        (:meth:`_strictly_inside`); None where none is found (an empty or flat domain).

        HiGHS's tolerances are absolute, so its centre is checked, and where it fails the check
        it is looked for again: with each row scaled by a power of two to about unit length
        (a row ``2^-30 x <= 2^-30`` held to ``1e-7`` puts the centre outside), then, on a bounded
        domain, also in coordinates scaled to its bounding box. A proven interior point is the
        whole test: a domain thin beside its distance from the origin (a side of ``7e-6`` at
        ``4e6``) has one, and a flat or empty domain has none."""
        for A, b in ((self.A, self.b), _rows_near_unit_length(self.A, self.b)):
            centre, _ = _chebyshev_center(A, b)
            if self._strictly_inside(centre):
                return centre
        return self._centre_in_balanced_coordinates(A, b)  # (on the rows near unit length)

    def _centre_in_balanced_coordinates(self, A, b):
        """The centre of the largest ball inside ``A x + b <= 0`` (the domain's rows, each scaled)
        in coordinates scaled to the domain's bounding box (``x = m + s u``, the box ``[-1, 1]^d``
        in ``u``), in the domain's coordinates; None where the domain is unbounded, or empty or
        flat there too, or the centre is no proven interior point.

        A domain whose coordinates' spreads differ by orders (a box written as rows with sides
        ``2^-30`` and ``2^30``) has a largest ball of the short side's size, which the solver
        may centre at a far end of a long side: there the radius is below the centre's own
        rounding, and the domain looked flat. Scaled to its box, the same question is decided
        at the middle."""
        try:
            lo, hi = self.bounds
        except InvalidDomainError:  # an empty domain: its programmes fail
            return None
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi > lo)):
            return None
        middle, half = (lo + hi) / 2, (hi - lo) / 2
        centre, _ = _chebyshev_center(A * half, b + A @ middle)
        x = middle + half * centre
        return x if self._strictly_inside(x) else None

    def _strictly_inside(self, x) -> bool:
        """Whether every row holds strictly at the point ``x``, beyond the rounding of its
        evaluation: a proof that ``x`` is an interior point. The solver's tolerances are absolute,
        so on rows of very different sizes its ball may be no ball (a row ``2^-40 y <= 0`` held
        to ``1e-7`` lets ``y`` reach ``10^5``: a flat domain looked solid)."""
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float64's range: not proven
            rounding = gamma(self.dim + 2) * (np.abs(self.A) @ np.abs(x) + np.abs(self.b))
            return bool(np.all(self.A @ x + self.b < -rounding))

    @classmethod
    def whole_space(cls, dim: int) -> "Polytope":
        """All of ``R^dim``: a polytope without rows (regions on it may be unbounded).

        Parameters
        ----------
        dim : int

        Returns
        -------
        Polytope

        Raises
        ------
        ArgumentTypeError
            ``dim`` is not an integer (a float, a bool, a string).
        InvalidDomainError
            ``dim < 1``.
        """
        if not is_integer(dim):
            raise ArgumentTypeError(f"dim must be an integer, got {dim!r}")
        if dim < 1:
            raise InvalidDomainError(f"dimension must be at least 1, got {dim}")
        return cls(np.zeros((0, int(dim))), np.zeros(0))

    def __repr__(self) -> str:
        return f"Polytope(dim={self.dim}, constraints={len(self.b)}, bounded={self.is_bounded})"

    @property
    def interior_point(self) -> np.ndarray:
        """A point well inside the domain, at which every row holds strictly: the centre of its
        largest inscribed ball (capped at radius 1), or where the domain's sides differ by orders,
        of that ball in coordinates scaled to its bounding box. A :class:`Box`'s is its centre,
        rounded: on a side with no float64 strictly between its ends it is on that side."""
        return self._center.copy()

    @property
    def bounds(self):
        """``(lo, hi)`` of the smallest enclosing box; infinite where the domain is unbounded."""
        if self._bounds is None:
            from scipy.optimize import linprog
            A, b = _rows_near_unit_length(self.A, self.b)  # the same rows, for the solver's tolerances
            lo = np.empty(self.dim)
            hi = np.empty(self.dim)
            for i in range(self.dim):
                for sign, out in ((1.0, lo), (-1.0, hi)):
                    c = np.zeros(self.dim)
                    c[i] = sign
                    res = linprog(c, A_ub=A, b_ub=-b, bounds=[(None, None)] * self.dim, method="highs")
                    if res.status == 0:
                        out[i] = res.x[i]
                    elif res.status == 3 or (res.status == 2 and _recedes(A, c)):
                        out[i] = -sign * np.inf
                    else:
                        raise InvalidDomainError(f"linear programme failed on the domain: {res.message}")
            self._bounds = (lo, hi)
        return self._bounds

    @property
    def is_bounded(self) -> bool:
        lo, hi = self.bounds
        return bool(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)))

    def contains(self, X, tol: float = 0.0) -> np.ndarray:
        """Whether each point satisfies ``A x + b <= tol``.

        Parameters
        ----------
        X : array_like, shape (n, dim)
        tol : float, optional

        Returns
        -------
        ndarray of bool, shape (n,)

        Raises
        ------
        InvalidDomainError
            Points of another dimension.
        """
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[1] != self.dim:
            raise InvalidDomainError(f"points must have {self.dim} columns, got shape {X.shape}")
        if len(self.b) == 0:
            return np.ones(len(X), dtype=bool)
        return np.all(X @ self.A.T + self.b <= tol, axis=1)

    def volume(self) -> float:
        """The domain's volume, in float64 (``inf`` if unbounded): the convex hull of its
        vertices, found by intersecting its half-spaces around the interior point.

        Returns
        -------
        float
        """
        if not self.is_bounded:
            return np.inf
        if self.dim == 1:
            lo, hi = self.bounds
            return float(hi[0] - lo[0])
        from scipy.spatial import ConvexHull, HalfspaceIntersection
        corners = HalfspaceIntersection(np.hstack([self.A, self.b[:, None]]), self.interior_point)
        return float(ConvexHull(corners.intersections).volume)


class Box(Polytope):
    """The axis-aligned box ``lo <= x <= hi``.

    Parameters
    ----------
    lo, hi : array_like, shape (d,)
        Finite corners with ``lo < hi``. The rows of ``A x + b <= 0`` are ``-x_i + lo_i <= 0``
        for ``i < d``, then ``x_i - hi_i <= 0``.

    Raises
    ------
    InvalidDomainError
        Shapes that differ, non-finite values, or a coordinate with ``lo >= hi`` (named).

    Examples
    --------
    >>> import regionenum as rn
    >>> box = rn.Box([-1, 0], [1, 2])
    >>> box.dim, box.volume(), box.contains([[0, 1], [2, 1]]).tolist()
    (2, 4.0, [True, False])
    """

    def __init__(self, lo, hi):
        lo = _finite_array(lo, "lo", ndim=1)
        hi = _finite_array(hi, "hi", ndim=1)
        if lo.shape != hi.shape:
            raise InvalidDomainError(f"lo has shape {lo.shape} but hi has shape {hi.shape}")
        if lo.size == 0:
            raise InvalidDomainError("lo and hi are empty: a box needs at least one dimension")
        bad = np.flatnonzero(~(lo < hi))
        if bad.size:
            i = bad[0]
            raise InvalidDomainError(
                f"the box is empty or flat: lo[{i}] = {lo[i]} is not below hi[{i}] = {hi[i]}")
        d = lo.size
        self.lo = lo
        self.hi = hi
        self.A = np.concatenate([-np.eye(d), np.eye(d)])
        self.b = np.concatenate([lo, -hi])
        self.dim = d
        self._center = lo / 2 + hi / 2  # (lo + hi) / 2 but for overflow: the same bits otherwise
        self._bounds = (lo.copy(), hi.copy())

    def __repr__(self) -> str:
        return f"Box(lo={self.lo.tolist()}, hi={self.hi.tolist()})"

    def volume(self) -> float:
        """The box's volume, ``prod(hi - lo)``."""
        return float(np.prod(self.hi - self.lo))


def _rows_near_unit_length(A, b):
    """The rows ``[A | b]``, each multiplied by the power of two that brings its ``A`` part's
    largest entry into ``[0.5, 1)`` (its length then within ``sqrt(d)`` of that; a length
    itself would overflow on rows of ``1e200``): the same half-spaces, exactly; the rows as
    given where a scaled ``b`` would overflow (a row far beyond float64's range from the
    origin)."""
    _, exponent = np.frexp(np.abs(A).max(axis=1, initial=0.0))
    with np.errstate(over="ignore"):
        scaled_b = np.ldexp(b, -exponent)
    if not np.all(np.isfinite(scaled_b)):
        return A, b
    return np.ldexp(A, -exponent[:, None]), scaled_b


def _chebyshev_center(A, b):
    """Centre and radius (capped at 1) of the largest ball inside ``A x + b <= 0``."""
    from scipy.optimize import linprog
    m, d = A.shape
    if m == 0:
        return np.zeros(d), 1.0
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(A, axis=1)
    if not np.all(np.isfinite(norms)):  # rows beyond float64's range: no programme on them
        return np.zeros(d), 0.0
    c = np.zeros(d + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=np.hstack([A, norms[:, None]]), b_ub=-b,
                  bounds=[(None, None)] * d + [(0, 1.0)], method="highs")
    if res.status != 0:
        return np.zeros(d), 0.0
    return res.x[:d], float(res.x[-1])


def _recedes(A, c):
    """Whether ``c . x`` falls without bound on the non-empty ``A x + b <= 0``.

    The solver may call an unbounded programme "infeasible" (it has no dual solution); the domain
    has an interior (checked on construction), so this asks the recession cone ``A d <= 0``
    directly, inside the unit box, for a direction ``d`` with ``c . d < 0`` that the rows hold
    to rounding.
    """
    from scipy.optimize import linprog
    res = linprog(c, A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1.0, 1.0)] * A.shape[1], method="highs")
    if res.status != 0:
        return False
    d = res.x
    slack = 8 * np.finfo(float).eps * (np.abs(A) @ np.abs(d))
    return bool(c @ d < 0 and np.all(A @ d <= slack))


def _finite_array(value, name, ndim):
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidDomainError(f"{name} is not numeric") from None
    if arr.ndim != ndim:
        raise InvalidDomainError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidDomainError(f"{name} has a non-finite value (NaN or inf)")
    return arr
