"""The native file format: ``.npz`` with ``W0, b0, W1, b1, ...`` and optionally the box ``lo, hi``
and ``activations`` (one name per layer, e.g. ``relu``, ``identity``, ``leaky_relu:0.1``).

Without ``activations`` every layer but the last is ReLU, as ``shared/bench/make_nets.py``
writes them. Unknown arrays are an error, never ignored.
"""
from __future__ import annotations

import re

import numpy as np

from ..core.arrays import checked_instance
from ..core.domain import Box
from ..core.network import Network
from ..core.paths import readable, writable
from ..errors import ArgumentTypeError, FileFormatError, InvalidDomainError

__all__ = ["load", "save"]

_LAYER_KEY = re.compile(r"^([Wb])(\d+)$")


def save(path, network: Network, domain: Box | None = None) -> None:
    """Write a network (and its box) in the native ``.npz`` format.

    Parameters
    ----------
    path : str or path
        A ``.npz`` file; its folder must exist.
    network : Network
    domain : Box, optional

    Raises
    ------
    ArgumentTypeError
        ``domain`` is not a :class:`~regionenum.Box`.
    InvalidDomainError
        ``domain`` has another dimension than the network's inputs (it would be stored as it
        is, and loaded back without a word).
    FileFormatError, MissingFileError
        Another suffix, or no such folder.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.npz"
    >>> rn.save(path, net, rn.Box([-1, -1], [1, 1]))
    >>> rn.load(path)
    (Network(widths=(2, 2, 1), activations=[relu, identity]), Box(lo=[-1.0, -1.0], hi=[1.0, 1.0]))
    """
    path = writable(path, (".npz",))
    checked_instance(network, Network, "network", "a regionenum.Network")
    arrays = {}
    for i, layer in enumerate(network.source_layers):  # as built: a rewrite is redone on loading
        arrays[f"W{i}"] = layer.W
        arrays[f"b{i}"] = layer.b
    arrays["activations"] = np.array([l.activation.spec for l in network.source_layers])
    if domain is not None:
        if not isinstance(domain, Box):
            raise ArgumentTypeError("only a Box domain can be stored in the .npz format")
        if domain.dim != network.input_dim:
            raise InvalidDomainError(f"the box has {domain.dim} dimensions but the network takes "
                                     f"{network.input_dim} inputs")
        arrays["lo"], arrays["hi"] = domain.lo, domain.hi
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load(path):
    """Read a network and its box from a native ``.npz`` file.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    network : Network
    box : Box or None
        None when the file has no ``lo``/``hi``.

    Raises
    ------
    MissingFileError
        No such file.
    FileFormatError
        Not a ``.npz`` archive, unknown or missing arrays.
    InvalidNetworkError, InvalidDomainError
        Arrays that do not make a network or a box.

    Examples
    --------
    >>> import regionenum as rn
    >>> net, box = rn.load(rn.__path__[0] + "/data/digits_plane.npz")
    >>> net.widths, box
    ((64, 64, 64, 10), Box(lo=[-0.25, -0.25], hi=[1.25, 1.25]))
    """
    path = readable(path)
    arrays = npz_arrays(path)
    keys = set(arrays)
    layer_idx = {}
    for key in keys:
        m = _LAYER_KEY.match(key)
        if m:
            layer_idx.setdefault(int(m.group(2)), set()).add(m.group(1))
    unknown = keys - {k for k in keys if _LAYER_KEY.match(k)} - {"lo", "hi", "activations"}
    if unknown:
        raise FileFormatError(f"{path}: unknown arrays {sorted(unknown)} (expected W0, b0, ..., "
                              "lo, hi, activations)")
    n = len(layer_idx)
    if n == 0 or sorted(layer_idx) != list(range(n)) or any(v != {"W", "b"} for v in layer_idx.values()):
        raise FileFormatError(f"{path}: layers must be W0, b0, ..., W{{n-1}}, b{{n-1}} with none missing")
    layers = [(arrays[f"W{i}"], arrays[f"b{i}"]) for i in range(n)]
    activations = None
    if "activations" in keys:
        if arrays["activations"].ndim != 1:
            raise FileFormatError(f"{path}: activations must be a list of names, one per layer, got an array "
                                  f"of shape {arrays['activations'].shape}")
        activations = [str(a) for a in arrays["activations"]]
    network = Network.from_layers(layers, activations)
    box = None
    if ("lo" in keys) != ("hi" in keys):
        raise FileFormatError(f"{path}: has one of lo/hi but not the other")
    if "lo" in keys:
        box = Box(arrays["lo"], arrays["hi"])
    return network, box


def npz_arrays(path) -> dict:
    """Every array of the ``.npz`` archive at ``path``, by name.

    Raises
    ------
    FileFormatError
        The file is not a ``.npz`` archive, or one of its arrays holds Python objects (NumPy
        reads those only by unpickling them, which runs code from the file).
    """
    try:
        data = np.load(path, allow_pickle=False)
    except Exception:  # numpy raises several types for content that is not an archive
        raise FileFormatError(f"{path} is not a .npz archive (regionenum networks are saved with "
                              "regionenum.save or numpy.savez)") from None
    if not hasattr(data, "files"):
        raise FileFormatError(f"{path} holds one array, not a .npz archive")
    with data:
        try:
            return {key: data[key] for key in data.files}
        except ValueError:
            raise FileFormatError(f"{path}: an array holds Python objects, not numbers or names "
                                  "(regionenum does not unpickle files)") from None
