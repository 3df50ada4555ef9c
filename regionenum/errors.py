"""Every exception regionenum raises on purpose, in one place.

All derive from :class:`RegionEnumError`, so ``except rn.RegionEnumError`` catches everything the
library raises deliberately. Each also derives from the built-in exception that says what kind
of mistake it is, so code written against the standard library keeps working: bad arguments,
networks, domains and files are :class:`ValueError`, missing files :class:`FileNotFoundError`,
arguments of the wrong type :class:`TypeError`, missing optional packages :class:`ImportError`.
Messages name the argument, layer, node, file or line at fault.
"""
from __future__ import annotations

__all__ = [
    "ArgumentTypeError", "CertificationError", "FileFormatError", "IncompleteResultError",
    "InternalError", "InvalidArgumentError", "InvalidDomainError", "InvalidNetworkError",
    "MissingDependencyError", "MissingFileError", "RegionEnumError", "VnnLibError",
]


class RegionEnumError(Exception):
    """Base class of every error regionenum raises on purpose."""


class InvalidArgumentError(RegionEnumError, ValueError):
    """An argument has a value the function cannot take (a negative budget, an output index out
    of range, an unknown option); the message names the argument."""


class ArgumentTypeError(RegionEnumError, TypeError):
    """An argument is of the wrong type (a network that is not a :class:`~regionenum.Network`,
    a domain that is not a :class:`~regionenum.Polytope`)."""


class InvalidNetworkError(RegionEnumError, ValueError):
    """The network is malformed or cannot be represented: bad shapes, non-finite weights,
    unknown activations, model operators that are not piecewise linear (named by node)."""


class InvalidDomainError(RegionEnumError, ValueError):
    """The input domain is malformed, empty, without interior, or does not match the network."""


class IncompleteResultError(RegionEnumError, ValueError):
    """An analysis that needs every region was given a result that stopped early (a budget or
    Ctrl-C); the message says why the run stopped."""


class FileFormatError(RegionEnumError, ValueError):
    """A file is not in the format its name or the call says (an unreadable ``.npz``, unknown
    arrays, a JSON document that is not a regionenum result)."""


class VnnLibError(FileFormatError):
    """A malformed or unsupported VNN-LIB property; the message names the line."""


class MissingFileError(RegionEnumError, FileNotFoundError):
    """A file to read does not exist, or a file to write has no folder to go in."""


class MissingDependencyError(RegionEnumError, ImportError):
    """An optional package is needed (matplotlib, onnx, torch, ...); the message says how to
    install it."""


class CertificationError(RegionEnumError):
    """An exact re-check of a result failed: the result is wrong. The message names the region
    and the check. (Misusing :func:`~regionenum.certify` raises the errors above instead.)"""


class InternalError(RegionEnumError, RuntimeError):
    """The engine found its own bookkeeping inconsistent. This is a bug in regionenum, never a
    problem of the input: please report it with the network and domain."""
