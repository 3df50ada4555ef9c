"""Analyses of an enumerated result: the faces of the subdivision (:mod:`.faces`), the adjacency
graph of the regions (:mod:`.graph`), linear regions (:mod:`.linear_regions`) and decision
regions of classifiers (:mod:`.decision_regions`). Each reads a :class:`~regionenum.Regions` and
its cell complex; none changes them."""
from .decision_regions import DecisionRegions, decision_regions
from .faces import Faces, FaceSet, compute_faces
from .graph import adjacency_graph
from .linear_regions import LinearRegions, linear_regions

__all__ = ["DecisionRegions", "FaceSet", "Faces", "LinearRegions", "adjacency_graph", "compute_faces",
           "decision_regions", "linear_regions"]
