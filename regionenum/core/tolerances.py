"""The float64 sign rule's constants, shared by every stage that decides signs (the engine's
cells, decision regions, proofs and certificates): a value is trusted in float64 only beyond its
proven error bound (built from the unit roundoff ``U`` and :func:`gamma`) and outside a band
around zero; inside either the sign is settled in exact arithmetic (README, "Exactness")."""
from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_TOL", "ETA", "U", "gamma", "quantum"]

#: Signs with ``|value| <= DEFAULT_TOL`` times the hyperplane's size at the point are settled in
#: exact arithmetic (the ``tol=`` argument of the engine).
DEFAULT_TOL = 1e-9

#: The unit roundoff of float64.
U = 2.0 ** -53

#: The smallest positive float64 (subnormal): below the normal range (``2^-1022``) a product's
#: rounding error is at most this, absolutely, where relative bounds no longer hold.
ETA = 2.0 ** -1074


def gamma(n: int) -> float:
    """The bound ``n u / (1 - n u)`` on the relative rounding of an ``n``-term float64 dot
    product (Higham, Accuracy and Stability of Numerical Algorithms, 3.1)."""
    return n * U / (1.0 - n * U)


def quantum(values) -> int:
    """An exponent ``q`` such that ``2^q`` divides every entry of the float64 array ``values`` (0
    when none is nonzero): each float64 is a multiple of its last bit, at least ``2^(e - 53)`` for
    the smallest nonzero ``|x| >= 2^(e - 1)`` (subnormals included). Products and sums of such
    multiples stay multiples (rounding to 53 bits keeps them), which bounds where underflow can
    begin."""
    values = np.asarray(values, dtype=np.float64)
    nonzero = values[values != 0]
    smallest = np.abs(nonzero, out=nonzero).min(initial=np.inf)
    return int(np.frexp(smallest)[1]) - 53 if np.isfinite(smallest) else 0
