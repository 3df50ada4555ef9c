"""The float64 sign rule's constants, shared by every stage that decides signs (the engine's
cells, its line engine, decision regions): a value is trusted in float64 only outside a band
around zero; inside it the sign is settled in exact arithmetic (README, "Exactness")."""
from __future__ import annotations

__all__ = ["DEFAULT_TOL", "NOISE"]

#: Signs with ``|value| <= DEFAULT_TOL`` times the hyperplane's size at the point are settled in
#: exact arithmetic (the ``tol=`` argument of the engine).
DEFAULT_TOL = 1e-9

#: Signs within this many units of roundoff of the magnitudes behind a value are always settled
#: exactly, whatever ``tol`` says: that is where cancellation leaves only noise.
NOISE = 8 * 2.0 ** -53
