"""Exceptions raised by regionenum: one base class, so callers can catch everything at once."""


class RegionEnumError(Exception):
    """Base class of every error regionenum raises on purpose."""


class InvalidNetworkError(RegionEnumError, ValueError):
    """The network is malformed: bad shapes, non-finite weights, unknown activations."""


class InvalidDomainError(RegionEnumError, ValueError):
    """The input domain is malformed, empty, or does not match the network."""
