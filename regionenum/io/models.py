"""Models from files, as the command line reads them: native ``.npz`` networks (with their box),
``.onnx`` models and whole pickled PyTorch modules (``.pt``).

An ``.onnx`` file states its input shape. A ``.pt`` module does not: its shape is taken from the
model only where it cannot be anything else (the module's very first operation is a ``Linear``,
or a ``Flatten`` followed by one, so any shape with that many entries gives the same function);
otherwise it must be given. Nothing is guessed from layers further in.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..core.domain import Box
from ..core.network import Network
from ..core.paths import as_path, readable
from ..errors import (
    FileFormatError,
    InvalidArgumentError,
    InvalidNetworkError,
    MissingDependencyError,
)
from .networks import load

__all__ = ["MODEL_SUFFIXES", "load_input", "load_model", "torch_input_shape"]

#: The model files :func:`load_model` reads.
MODEL_SUFFIXES = (".npz", ".onnx", ".pt")


def load_model(path, input_shape=None) -> tuple[Network, Box | None]:
    """A network, and its box if the file has one, from a ``.npz``, ``.onnx`` or ``.pt`` file.

    Parameters
    ----------
    path : str or path
    input_shape : tuple of int, optional
        The shape of one input of a ``.pt`` module, without the batch dimension (e.g.
        ``(1, 8, 8)``); needed unless :func:`torch_input_shape` can read it from the module.
        Refused for the other formats, whose files fix the input.

    Returns
    -------
    network : Network
    box : Box or None
        The box stored in a ``.npz`` file; None for the other formats.

    Raises
    ------
    MissingFileError
        No such file.
    FileFormatError
        Another suffix, or a file that is not what its suffix says.
    MissingDependencyError
        The package a format needs (onnx, torch) is missing, or the class of a pickled module
        cannot be imported here.
    InvalidArgumentError
        ``input_shape`` for a format that fixes its input, or missing where the input shape of a
        ``.pt`` module cannot be read from it.
    InvalidNetworkError
        The model has operations regionenum does not take.

    Examples
    --------
    >>> import regionenum as rn
    >>> from regionenum.io.models import load_model
    >>> net, box = load_model(rn.__path__[0] + "/data/digits_plane.npz")
    >>> net.input_dim, box.dim
    (2, 2)
    """
    path = as_path(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise FileFormatError(f"{path}: unsupported model format {path.suffix!r}; networks are .npz files "
                              "(W0, b0, ..., lo, hi; see regionenum.save), .onnx or .pt")
    readable(path)
    if input_shape is not None and path.suffix != ".pt":
        raise InvalidArgumentError(f"{path}: an input shape is for .pt models only (a {path.suffix} file "
                                   "fixes its input)")
    if path.suffix == ".npz":
        return load(path)
    if path.suffix == ".onnx":
        return Network.from_onnx(path), None
    module = _torch_module(path)
    if input_shape is None:
        input_shape, why = torch_input_shape(module)
        if input_shape is None:
            raise InvalidArgumentError(f"{path}: give the input shape (--input-shape on the command line, "
                                       f"e.g. --input-shape 1 8 8 for one 8x8 image): {why}")
    return Network.from_torch(module, input_shape), None


def torch_input_shape(module) -> tuple[tuple[int, ...] | None, str]:
    """The input shape of a PyTorch module where it is unambiguous: its very first operation is a
    ``Linear`` (``nn.Linear``), or a ``Flatten`` from the first dimension on (``nn.Flatten()``,
    ``torch.flatten(x, 1)``, ``x.flatten(1)``) followed by a ``Linear``, and its input feeds
    nothing else.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    shape : tuple of int or None
        ``(in_features,)`` of that ``Linear``, or None when the shape cannot be read.
    why : str
        Why not, naming the module's first operation (empty when the shape was read).

    Examples
    --------
    >>> import torch
    >>> from regionenum.io.models import torch_input_shape
    >>> torch_input_shape(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)))
    ((64,), '')
    >>> torch_input_shape(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),
    ...                                       torch.nn.Linear(144, 10)))[1]
    "its first operation (module '0', Conv2d) does not fix the shape"
    """
    import torch
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception:  # fx raises many types for code it cannot follow
        return None, "the module cannot be traced to find its first operation"
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        return None, f"the module takes {len(inputs)} inputs"
    node = inputs[0]
    for expect_linear in (False, True):
        users = list(node.users)
        if len(users) != 1:
            return None, "its input feeds several operations"
        node = users[0]
        target = graph.owning_module.get_submodule(node.target) if node.op == "call_module" else None
        if isinstance(target, torch.nn.Linear):
            return (int(target.in_features),), ""
        if expect_linear or not _is_flatten(node, target, torch):
            what = (f"module {node.target!r}, {type(target).__name__}" if target is not None
                    else f"{node.op.replace('_', ' ')} {getattr(node.target, '__name__', node.target)!r}")
            if expect_linear:
                return None, f"the operation after its Flatten ({what}) is not a Linear"
            return None, f"its first operation ({what}) does not fix the shape"
    raise AssertionError("unreachable")  # pragma: no cover


def _is_flatten(node, target, torch) -> bool:
    """Whether ``node`` flattens every dimension after the batch one."""
    if target is not None:
        return isinstance(target, torch.nn.Flatten) and target.start_dim == 1 and target.end_dim == -1
    if (node.op, node.target) in (("call_function", torch.flatten), ("call_method", "flatten")):
        start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
        end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
        return start == 1 and end == -1
    return False


def _torch_module(path: Path):
    """The whole ``torch.nn.Module`` pickled in ``path`` (trusted files only: unpickling runs code)."""
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(".pt models need PyTorch: pip install torch") from None
    try:
        model = torch.load(path, weights_only=False)
    except (ModuleNotFoundError, AttributeError) as err:  # the pickled class is not importable here
        raise MissingDependencyError(
            f"{path}: the model's class cannot be imported here ({err}); run where the code defining "
            "it is importable, or export the model to ONNX") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        raise FileFormatError(f"{path} is not a PyTorch file saved with torch.save ({err})") from None
    if not isinstance(model, torch.nn.Module):
        raise InvalidNetworkError(f"{path} holds a {type(model).__name__}, not a whole torch.nn.Module "
                                  "(save the module itself, not its state dict)")
    return model


def load_input(path, size: int) -> np.ndarray:
    """One input of a model from a ``.npy`` file: ``size`` finite numbers in any shape (an image
    ``(1, 8, 8)`` for a 64-input model, say), flattened in row-major order.

    Parameters
    ----------
    path : str or path
    size : int
        The model's number of inputs.

    Returns
    -------
    numpy.ndarray
        Shape ``(size,)``, float64.

    Raises
    ------
    MissingFileError, FileFormatError
        No such file; not a ``.npy`` array of ``size`` finite numbers.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from regionenum.io.models import load_input
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.arange(4.0).reshape(2, 2))
    >>> load_input(path, 4)
    array([0., 1., 2., 3.])
    """
    path = as_path(path)
    if path.suffix != ".npy":
        raise FileFormatError(f"{path}: inputs are .npy files (numpy.save), got {path.suffix!r}")
    readable(path)
    try:
        x = np.load(path, allow_pickle=False)
    except Exception:  # numpy raises several types for content that is not an array
        raise FileFormatError(f"{path} is not a .npy array (numpy.save)") from None
    if x.size != size or not np.issubdtype(x.dtype, np.number):
        raise FileFormatError(f"{path}: holds {x.size} {x.dtype} values of shape {x.shape}; the model takes "
                              f"{size} numbers")
    x = x.astype(np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise FileFormatError(f"{path}: not every value is finite")
    return x
