"""regionenum: exact enumeration of the linear regions of piecewise-linear neural networks.

>>> import numpy as np, regionenum as re
>>> net = re.Network.from_layers([(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)),
...                               (np.ones((1, 2)), np.zeros(1))])
>>> len(re.enumerate_regions(net, re.Box([-1, -1], [1, 1])))
4
"""
from . import bounds, constructions, estimators, verify
from .certification import Certificate, CertificationError, certify
from .complex import Faces, FaceSet
from .decision import DecisionRegions
from .domain import Box, Polytope
from .engine import DEFAULT_TOL, Progress, RegionCount, count_regions, enumerate_regions
from .export import load_regions, read_graph, save_regions, write_graph
from .errors import InvalidDomainError, InvalidNetworkError, RegionEnumError
from .io import load, save
from .linear import LinearRegions
from .network import Activation, Layer, Network
from .result import Regions
from .slices import Slice

__version__ = "0.1.0"

__all__ = [
    "Activation", "Box", "Certificate", "CertificationError", "DEFAULT_TOL", "DecisionRegions",
    "FaceSet", "Faces", "InvalidDomainError", "InvalidNetworkError", "Layer", "LinearRegions",
    "Network", "Polytope", "Progress", "RegionCount", "RegionEnumError", "Regions", "Slice", "bounds",
    "certify", "constructions", "count_regions", "enumerate_regions", "estimators", "load",
    "load_regions", "read_graph", "save", "save_regions", "verify", "write_graph",
]
