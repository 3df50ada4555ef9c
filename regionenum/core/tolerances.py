"""The float64 sign rule's band, shared by every stage that decides signs (the engine's cells,
decision regions): a value is trusted in float64 only beyond its proven error bound and outside
a band around zero; inside either the sign is settled in exact arithmetic (README,
"Exactness")."""
from __future__ import annotations

__all__ = ["DEFAULT_TOL"]

#: Signs with ``|value| <= DEFAULT_TOL`` times the hyperplane's size at the point are settled in
#: exact arithmetic (the ``tol=`` argument of the engine).
DEFAULT_TOL = 1e-9
