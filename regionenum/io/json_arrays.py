"""Arrays in JSON: ``{"dtype", "shape", "data"}`` with floats written to round-trip exactly and
``inf``, ``-inf``, ``nan`` as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (JSON has no such
numbers). Results and graphs written as JSON share it."""
from __future__ import annotations

import numpy as np

__all__ = ["decode_array", "encode_array"]


def encode_array(x: np.ndarray) -> dict:
    """``x`` as a JSON-ready dict."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        data = [v if np.isfinite(v) else str(v) for v in x.ravel().tolist()]
    else:
        data = x.ravel().tolist()
    return {"dtype": x.dtype.str, "shape": list(x.shape), "data": data}


def decode_array(doc: dict) -> np.ndarray:
    """The array :func:`encode_array` wrote."""
    dtype = np.dtype(doc["dtype"])
    data = doc["data"]
    if dtype.kind == "f":
        data = [float(v) for v in data]
    return np.array(data, dtype=dtype).reshape(doc["shape"])
