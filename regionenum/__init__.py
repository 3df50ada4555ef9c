"""regionenum: exact enumeration of the linear regions of piecewise-linear neural networks.

The package follows the data flow: :mod:`~regionenum.importers` (models from PyTorch, ONNX,
scikit-learn) -> :mod:`~regionenum.core` (the network, domains and slices, exact arithmetic)
-> :mod:`~regionenum.engine` (the regions) -> :class:`Regions` (the result) ->
:mod:`~regionenum.analysis` (faces, graph, linear and decision regions),
:mod:`~regionenum.verify`, :mod:`~regionenum.counting`, :mod:`~regionenum.io`,
:mod:`~regionenum.plotting`. Everything a user needs is importable from here.

>>> import numpy as np, regionenum as rn
>>> net = rn.Network.from_layers([(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)),
...                               (np.ones((1, 2)), np.zeros(1))])
>>> len(rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])))
4
"""
from . import verify
from .analysis import DecisionRegions, Faces, FaceSet, LevelSet, LinearRegions, SublevelSet
from .core.domain import Box, Polytope
from .core.network import Activation, Layer, Network
from .core.slices import Slice
from .core.tolerances import DEFAULT_TOL
from .counting import bounds, constructions, estimators
from .engine import Progress, RegionCount, count_regions, enumerate_regions
from .errors import (
                     ArgumentTypeError,
                     CertificationError,
                     FileFormatError,
                     IncompleteResultError,
                     InternalError,
                     InvalidArgumentError,
                     InvalidDomainError,
                     InvalidNetworkError,
                     MissingDependencyError,
                     MissingFileError,
                     RegionEnumError,
                     VnnLibError,
)
from .io import load, load_regions, read_graph, save, save_regions, write_graph
from .result import Regions
from .verify import Certificate, certify

__version__ = "0.2.0"

__all__ = [
    "Activation", "ArgumentTypeError", "Box", "Certificate", "CertificationError", "DEFAULT_TOL",
    "DecisionRegions", "FaceSet", "Faces", "FileFormatError", "IncompleteResultError", "InternalError",
    "InvalidArgumentError", "InvalidDomainError", "InvalidNetworkError", "Layer", "LevelSet", "LinearRegions",
    "MissingDependencyError", "MissingFileError", "Network", "Polytope", "Progress", "RegionCount",
    "RegionEnumError", "Regions", "Slice", "SublevelSet", "VnnLibError", "bounds", "certify", "constructions",
    "count_regions", "enumerate_regions", "estimators", "load", "load_regions", "read_graph", "save",
    "save_regions", "verify", "write_graph",
]
