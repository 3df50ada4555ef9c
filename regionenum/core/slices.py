"""Affine slices of a high-dimensional input: ``x = origin + basis @ t`` with ``t`` in a
low-dimensional domain, such as the plane through three data points of Hanin & Rolnick's
experiments.

>>> import numpy as np, regionenum as rn
>>> x1, x2, x3 = np.eye(64)[:3]
>>> s = rn.Slice.through(x1, x2, x3)     # t = (0, 0), (1, 0), (0, 1) are the three points
>>> s.dim, s.domain
(2, Box(lo=[-0.25, -0.25], hi=[1.25, 1.25]))
>>> np.allclose(s.to_input([[1.0, 0.0]]), x2)
True
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidDomainError
from .domain import Box, Polytope

__all__ = ["Slice"]


class Slice:
    """The inputs ``origin + basis @ t`` for ``t`` in a low-dimensional domain.

    Pass it to :func:`~regionenum.enumerate_regions` or :func:`~regionenum.count_regions` in place
    of a domain: they work on the network restricted to the slice, in the coordinates ``t``.

    Parameters
    ----------
    origin : array_like, shape (n,)
        A point of the network's input space.
    basis : array_like, shape (n, k)
        Linearly independent directions.
    domain : Box or Polytope
        The domain of ``t``, of dimension ``k``.

    Raises
    ------
    InvalidDomainError
        Shapes that do not match, non-finite values, dependent directions.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(3), np.zeros(3)), (np.ones((1, 3)), [0.0])])
    >>> plane = rn.Slice([0.0, 0.0, 1.0], np.eye(3)[:, :2], rn.Box([-1, -1], [1, 1]))
    >>> rn.count_regions(net, plane)
    RegionCount(4, bounded=4)
    """

    def __init__(self, origin, basis, domain):
        origin = np.asarray(origin, dtype=np.float64)
        basis = np.asarray(basis, dtype=np.float64)
        if origin.ndim != 1 or not np.all(np.isfinite(origin)):
            raise InvalidDomainError(f"origin must be a finite vector, got shape {origin.shape}")
        if basis.ndim != 2 or basis.shape[0] != origin.shape[0] or basis.shape[1] == 0:
            raise InvalidDomainError(f"basis must have shape ({origin.shape[0]}, k), got {basis.shape}")
        if not np.all(np.isfinite(basis)) or np.linalg.matrix_rank(basis) < basis.shape[1]:
            raise InvalidDomainError("basis must be finite with linearly independent columns")
        if not isinstance(domain, Polytope) or domain.dim != basis.shape[1]:
            raise InvalidDomainError(f"domain must be a Box or Polytope of dimension {basis.shape[1]}")
        self.origin, self.basis, self.domain = origin, basis, domain

    @classmethod
    def through(cls, *points, margin: float = 0.25) -> "Slice":
        """The line through two points or the plane through three.

        Parameters
        ----------
        *points : array_like
            Two or three inputs of one size (images are flattened).
        margin : float, optional
            How far the box reaches beyond the points.

        Returns
        -------
        Slice
            In affine coordinates that put the points at ``0``, ``1`` (line) or ``(0, 0)``,
            ``(1, 0)``, ``(0, 1)`` (plane), on the box ``[-margin, 1 + margin]^k``.

        Raises
        ------
        InvalidDomainError
            Not two or three points, points of different sizes, points with coordinates that
            are not finite, or points that are not affinely independent.
        """
        if len(points) not in (2, 3):
            raise InvalidDomainError(f"through takes 2 points (a line) or 3 (a plane), got {len(points)}")
        P = [np.asarray(p, dtype=np.float64).ravel() for p in points]
        if len({p.shape for p in P}) != 1:
            raise InvalidDomainError("the points must have the same size")
        bad = [i for i, p in enumerate(P) if not np.isfinite(p).all()]
        if bad:  # (the rank below would fail inside LAPACK: "SVD did not converge")
            raise InvalidDomainError(f"point {bad[0]} has coordinates that are not finite")
        basis = np.stack([p - P[0] for p in P[1:]], axis=1)
        if np.linalg.matrix_rank(basis) < basis.shape[1]:
            raise InvalidDomainError("the points are not affinely independent (repeated or collinear)")
        k = basis.shape[1]
        return cls(P[0], basis, Box(np.full(k, -margin), np.full(k, 1.0 + margin)))

    @property
    def dim(self) -> int:
        """The slice's dimension ``k``."""
        return self.basis.shape[1]

    def restrict(self, network):
        """The network as a function of ``t`` (see :meth:`Network.restricted
        <regionenum.Network.restricted>`).

        Parameters
        ----------
        network : Network
            A network of ``n = len(origin)`` inputs.

        Returns
        -------
        Network
            ``k = dim`` inputs (the coordinates ``t``), the same units and outputs:
            ``restrict(network)(T)`` equals ``network(to_input(T))`` up to rounding. Its first
            layer is the slice, ``origin + basis @ t`` (see :meth:`Network.restricted
            <regionenum.Network.restricted>`).

        Raises
        ------
        InvalidNetworkError
            The network does not take ``n`` inputs.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(3), np.zeros(3)), (np.ones((1, 3)), [0.0])])
        >>> plane = rn.Slice([0.0, 0.0, 1.0], np.eye(3)[:, :2], rn.Box([-1, -1], [1, 1]))
        >>> sub = plane.restrict(net)        # relu(t0) + relu(t1) + relu(1)
        >>> sub.input_dim, sub([[0.5, -0.5]]).tolist()
        (2, [[1.5]])
        """
        return network.restricted(self.origin, self.basis)

    def to_input(self, T) -> np.ndarray:
        """Network inputs from slice coordinates.

        Parameters
        ----------
        T : array_like, shape (m, k)

        Returns
        -------
        ndarray, shape (m, n)
        """
        return self.origin + np.atleast_2d(np.asarray(T, dtype=np.float64)) @ self.basis.T

    def __repr__(self) -> str:
        return f"Slice(dim={self.dim} in {len(self.origin)} inputs, domain={self.domain!r})"
