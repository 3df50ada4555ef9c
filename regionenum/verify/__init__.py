"""Verification: exact properties of a network from its regions (:mod:`.properties`: output
ranges, linear properties of the outputs, robustness, Lipschitz constants, reachable sets),
VNN-LIB files (:mod:`.vnnlib`) and exact re-checks of a result (:mod:`.certificates`), on the
exact rational geometry of :mod:`regionenum.analysis.exact_geometry`.

>>> import numpy as np, regionenum as rn
>>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
>>> r = rn.verify.output_range(net, rn.Box([-1.0], [2.0]))
>>> r.min, r.max
(Fraction(-1, 2), Fraction(3, 2))
"""
from .certificates import Certificate, certify
from .properties import (
                         LipschitzResult,
                         OutputRange,
                         PropertyResult,
                         RobustnessResult,
                         check_property,
                         lipschitz,
                         output_range,
                         reachable_set,
                         robustness,
)
from .vnnlib import Property, VnnResult, check_vnnlib, parse_vnnlib, parse_vnnlib_text

__all__ = ["Certificate", "LipschitzResult", "OutputRange", "Property", "PropertyResult", "RobustnessResult",
           "VnnResult", "certify", "check_property", "check_vnnlib", "lipschitz", "output_range",
           "parse_vnnlib", "parse_vnnlib_text", "reachable_set", "robustness"]
