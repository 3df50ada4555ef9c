"""What a verification question says, exactly: input sets and output sets with rational rows.

A property is violated (``sat``) when some input of one of its *cases* meets one of that case's
output sets. A :class:`Case` is an input box (exact rational bounds on every input, possibly
equal: a fixed input) with optional extra rows, and a disjunction of output sets; a
:class:`LinearSet` is ``{v : A v + b <= 0}`` with rows kept as Fractions (VNN-LIB constants are
decimals: ``0.1`` is not a float) and as float64 copies for the fast paths, which account for
the difference in their rounding bounds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..core.arrays import float_array, real_number
from ..errors import InvalidArgumentError, InvalidDomainError

__all__ = ["Case", "LinearSet", "float_down", "float_up"]


def float_down(q: Fraction) -> float:
    """The largest float64 not above ``q``."""
    f = float(q)
    return float(np.nextafter(f, -np.inf)) if Fraction(f) > q else f


def float_up(q: Fraction) -> float:
    """The smallest float64 not below ``q``."""
    f = float(q)
    return float(np.nextafter(f, np.inf)) if Fraction(f) < q else f


def _exact(value, name):
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    v = real_number(value, name)
    if not np.isfinite(v):
        raise InvalidArgumentError(f"{name} must be finite, got {value!r}")
    return Fraction(v)


def output_rows(C, e, n_outputs: int):
    """The rows of a linear property ``C y + e <= 0`` over ``n_outputs`` outputs, checked: float64
    arrays of shapes ``(m, n_outputs)`` and ``(m,)`` (a single row may be given flat).

    Raises
    ------
    InvalidArgumentError
        ``C`` or ``e`` of the wrong shape, or not finite.
    ArgumentTypeError
        ``C`` or ``e`` not real numbers.
    """
    C = np.atleast_2d(float_array(C, "C"))
    e = np.atleast_1d(float_array(e, "e"))
    if C.ndim != 2 or C.shape[1] != n_outputs:
        raise InvalidArgumentError(f"C must have shape (m, {n_outputs}) for a network with {n_outputs} outputs, "
                                   f"got {C.shape}")
    if e.shape != (C.shape[0],):
        raise InvalidArgumentError(f"e must have shape ({C.shape[0]},) to match C, got {e.shape}")
    if not (np.all(np.isfinite(C)) and np.all(np.isfinite(e))):
        raise InvalidArgumentError("C and e must be finite")
    return C, e


@dataclass(frozen=True)
class LinearSet:
    """``{v : A v + b <= 0}`` (``< 0`` in every row when ``strict``): rows ``A`` (tuple of
    tuples) and constants ``b`` as Fractions, and their float64 copies ``A_f``, ``b_f`` (nearest
    floats). An empty set of rows is everything."""

    A: tuple
    b: tuple
    dim: int
    strict: bool = False
    A_f: np.ndarray = field(init=False, repr=False, compare=False)
    b_f: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "A_f", np.array([[float(a) for a in row] for row in self.A],
                                                 dtype=np.float64).reshape(len(self.A), self.dim))
        object.__setattr__(self, "b_f", np.array([float(v) for v in self.b], dtype=np.float64))

    def contains(self, v) -> bool:
        """Whether the exact point ``v`` (Fractions) is in the set.

        Every row is evaluated in exact rational arithmetic (the Fraction rows ``A``, ``b``,
        not their float copies): ``A v + b <= 0`` row by row, ``< 0`` when ``strict``.

        Parameters
        ----------
        v : sequence of Fraction, length dim
            The point. Integers are exact too; floats make the comparison a float one. The
            length is not checked: extra coordinates are ignored and missing ones count as 0.

        Returns
        -------
        bool
            True when every row holds (always, for a set without rows).

        Raises
        ------
        InvalidArgumentError
            ``v`` does not have ``dim`` coordinates.

        Examples
        --------
        >>> from fractions import Fraction
        >>> from regionenum.verify import LinearSet
        >>> half = [Fraction(1, 2), Fraction(1, 2)]
        >>> LinearSet.from_arrays([[1, 1]], [-1], dim=2).contains(half)        # x + y - 1 <= 0
        True
        >>> LinearSet.from_arrays([[1, 1]], [-1], dim=2, strict=True).contains(half)
        False
        """
        if len(v) != self.dim:
            raise InvalidArgumentError(f"the point has {len(v)} coordinates; the set is in {self.dim}")
        for row, const in zip(self.A, self.b):
            value = sum(a * x for a, x in zip(row, v)) + const
            if value > 0 or (self.strict and value == 0):
                return False
        return True

    @classmethod
    def from_arrays(cls, A, b, dim: int, name: str = "rows", strict: bool = False) -> "LinearSet":
        """From numbers (floats are taken exactly, as the rationals they are)."""
        A = [tuple(_exact(a, name) for a in row) for row in A]
        b = tuple(_exact(v, name) for v in b)
        if any(len(row) != dim for row in A) or len(A) != len(b):
            raise InvalidArgumentError(f"{name}: expected {len(b)} rows of {dim} coefficients and "
                                       f"{len(b)} constants")
        return cls(tuple(A), b, dim, strict)


@dataclass(frozen=True)
class Case:
    """One input set of a property with the output sets that violate it there: the box
    ``lo <= x <= hi`` (Fractions; ``lo == hi`` fixes an input), extra input ``rows``, and
    ``outputs``, a list of :class:`LinearSet` over the outputs (violated if any is met)."""

    lo: tuple
    hi: tuple
    rows: LinearSet
    outputs: tuple

    def __post_init__(self):
        for i, (a, b) in enumerate(zip(self.lo, self.hi)):
            if a > b:
                raise InvalidDomainError(f"the input set is empty: X_{i} >= {a} and X_{i} <= {b}")

    @property
    def n_inputs(self) -> int:
        return len(self.lo)

    @property
    def n_outputs(self) -> int:
        return self.outputs[0].dim if self.outputs else 0

    def float_box(self):
        """The smallest float64 box containing the input box (``lo`` rounded down, ``hi`` up)."""
        return (np.array([float_down(v) for v in self.lo]), np.array([float_up(v) for v in self.hi]))

    @classmethod
    def from_box(cls, lo, hi, outputs, rows=None) -> "Case":
        """A case from a box (numbers), output sets given as ``(C, e)`` pairs meaning
        ``C y + e <= 0``, and optional input rows ``(A, b)``."""
        lo = tuple(_exact(v, "lo") for v in np.ravel(lo))
        hi = tuple(_exact(v, "hi") for v in np.ravel(hi))
        if len(lo) != len(hi):
            raise InvalidDomainError(f"lo has {len(lo)} entries but hi has {len(hi)}")
        d = len(lo)
        outs = []
        for C, e in outputs:
            C = np.atleast_2d(np.asarray(C, dtype=object))
            outs.append(LinearSet.from_arrays(C, np.ravel(np.asarray(e, dtype=object)), C.shape[1], "C, e"))
        if rows is None:
            rows = LinearSet((), (), d)
        else:
            rows = LinearSet.from_arrays(rows[0], rows[1], d, "input rows")
        return cls(lo, hi, rows, tuple(outs))
