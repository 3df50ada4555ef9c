"""The native file format: ``.npz`` with ``W0, b0, W1, b1, ...`` and optionally the box ``lo, hi``
and ``activations`` (one name per layer, e.g. ``relu``, ``identity``, ``leaky_relu:0.1``).

Without ``activations`` every layer but the last is ReLU, as ``shared/bench/make_nets.py``
writes them. Unknown arrays are an error, never ignored.
"""
from __future__ import annotations

import re as _re
from pathlib import Path

import numpy as np

from .domain import Box
from .errors import InvalidNetworkError, RegionEnumError
from .network import Network

__all__ = ["save", "load"]

_LAYER_KEY = _re.compile(r"^([Wb])(\d+)$")


def save(path, network: Network, domain: Box | None = None) -> None:
    """Write ``network`` (and a :class:`Box` domain) to ``path`` in the native ``.npz`` format."""
    arrays = {}
    for i, layer in enumerate(network.layers):
        arrays[f"W{i}"] = layer.W
        arrays[f"b{i}"] = layer.b
    arrays["activations"] = np.array([l.activation.spec for l in network.layers])
    if domain is not None:
        if not isinstance(domain, Box):
            raise RegionEnumError("only a Box domain can be stored in the .npz format")
        arrays["lo"], arrays["hi"] = domain.lo, domain.hi
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load(path):
    """Read a network and its box from ``path``: returns ``(network, box)``, ``box`` None when
    the file has no ``lo``/``hi``."""
    path = Path(path)
    if not path.exists():
        raise RegionEnumError(f"no such file: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:  # numpy raises several types for non-npz content
        raise RegionEnumError(f"{path} is not a readable .npz file: {err}") from None
    with data:
        keys = set(data.files)
        layer_idx = {}
        for key in keys:
            m = _LAYER_KEY.match(key)
            if m:
                layer_idx.setdefault(int(m.group(2)), set()).add(m.group(1))
        unknown = keys - {k for k in keys if _LAYER_KEY.match(k)} - {"lo", "hi", "activations"}
        if unknown:
            raise RegionEnumError(f"{path}: unknown arrays {sorted(unknown)} (expected W0, b0, ..., "
                                  "lo, hi, activations)")
        n = len(layer_idx)
        if n == 0 or sorted(layer_idx) != list(range(n)) or any(v != {"W", "b"} for v in layer_idx.values()):
            raise InvalidNetworkError(f"{path}: layers must be W0, b0, ..., W{{n-1}}, b{{n-1}} with none missing")
        layers = [(data[f"W{i}"], data[f"b{i}"]) for i in range(n)]
        activations = None
        if "activations" in keys:
            activations = [str(a) for a in data["activations"]]
        network = Network.from_layers(layers, activations)
        box = None
        if ("lo" in keys) != ("hi" in keys):
            raise RegionEnumError(f"{path}: has one of lo/hi but not the other")
        if "lo" in keys:
            box = Box(data["lo"], data["hi"])
    return network, box
