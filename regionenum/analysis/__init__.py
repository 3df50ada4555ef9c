"""Analyses of an enumerated result: the faces of the subdivision (:mod:`.faces`), the adjacency
graph of the regions (:mod:`.graph`), linear regions (:mod:`.linear_regions`), decision
regions of classifiers (:mod:`.decision_regions`), exact rational geometry
(:mod:`.exact_geometry`), level sets and sublevel sets (:mod:`.level_sets`) with their
polyhedral complexes and homology (:mod:`.topology`), and shape statistics
(:mod:`.statistics`). Each reads a :class:`~regionenum.Regions` and its cell complex; none
changes them."""
from .decision_regions import DecisionRegions, decision_regions
from .faces import Faces, FaceSet, compute_faces
from .graph import adjacency_graph
from .level_sets import LevelSet, SublevelSet, level_set, sublevel_set
from .linear_regions import LinearRegions, linear_regions
from .topology import PolyhedralComplex

__all__ = ["DecisionRegions", "FaceSet", "Faces", "LevelSet", "LinearRegions", "PolyhedralComplex", "SublevelSet",
           "adjacency_graph", "compute_faces", "decision_regions", "level_set", "linear_regions", "sublevel_set"]
