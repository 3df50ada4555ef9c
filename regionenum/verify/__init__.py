"""Verification: exact properties of a network from its regions (:mod:`.properties`: output
ranges, linear properties of the outputs, robustness, Lipschitz constants, reachable sets);
property-directed search that decides a property without enumerating every region
(:mod:`.search`, with :mod:`.relaxation`, :mod:`.counterexamples` and :mod:`.spec`), whose
proofs of ``unsat`` are re-checked by :mod:`.proof`; VNN-LIB files (:mod:`.vnnlib`); closed
loops of a controller and a plant, with exact reachable sets, preimages and invariance
(:mod:`.closed_loop`); exact re-checks of a result (:mod:`.certificates`, whose cells' volumes
are summed through their signed facets by :mod:`.facet_volumes`), on the exact rational
geometry of :mod:`regionenum.analysis.exact_geometry`.

>>> import numpy as np, regionenum as rn
>>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
...                               (np.array([[1.0, 1.0]]), np.array([-0.5]))])   # |x| - 1/2
>>> r = rn.verify.output_range(net, rn.Box([-1.0], [2.0]))
>>> r.min, r.max
(Fraction(-1, 2), Fraction(3, 2))
"""
from .certificates import Certificate, certify
from .closed_loop import (
                          Preimage,
                          ReachSet,
                          closed_loop,
                          forward_reachable,
                          is_invariant,
                          plot_reachable,
                          preimage,
                          simulate,
                          unroll,
)
from .proof import Proof, ProofCheck, check_proof
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
from .search import SearchResult, verify_property
from .spec import Case, LinearSet
from .vnnlib import Property, VnnResult, check_vnnlib, competition_answer, parse_vnnlib, parse_vnnlib_text

__all__ = ["Preimage", "ReachSet", "closed_loop", "forward_reachable", "is_invariant", "plot_reachable", "preimage", "simulate",
           "unroll", "Case", "Certificate", "LinearSet", "LipschitzResult", "OutputRange", "Proof", "ProofCheck", "Property",
           "PropertyResult", "RobustnessResult", "SearchResult", "VnnResult", "certify", "check_property",
           "check_proof", "check_vnnlib", "competition_answer", "lipschitz", "output_range", "parse_vnnlib",
           "parse_vnnlib_text", "reachable_set", "robustness", "verify_property"]
