"""Files: networks in the native ``.npz`` format (:mod:`.networks`), results in ``.npz`` or
``.json`` (:mod:`.results`), graphs in GraphML or node-link JSON (:mod:`.graphs`)."""
from .graphs import read_graph, write_graph
from .networks import load, save
from .results import load_regions, save_regions

__all__ = ["load", "load_regions", "read_graph", "save", "save_regions", "write_graph"]
