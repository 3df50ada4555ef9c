"""Graphs to files: GraphML or node-link JSON, with array and tuple attributes encoded as tagged
JSON text and decoded on reading, so that a graph from
:meth:`~regionenum.Regions.adjacency_graph` comes back equal (and GraphML stays readable by
any GraphML reader, the tagged attributes as text)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from ..core.arrays import checked_instance
from ..core.paths import readable, writable
from ..errors import FileFormatError
from .json_arrays import decode_array, encode_array

if TYPE_CHECKING:  # imported where a graph is made: networkx takes about 0.1 s to import
    import networkx as nx

__all__ = ["read_graph", "write_graph"]


GRAPH_SUFFIXES = (".graphml", ".json")


def write_graph(G: nx.Graph, path) -> None:
    """Write a graph to a file.

    Parameters
    ----------
    G : networkx.Graph
        A graph from :meth:`Regions.adjacency_graph` (or any graph with array, tuple or list
        attributes).
    path : str or path
        ``.graphml`` or node-link ``.json``; its folder must exist.

    Raises
    ------
    FileFormatError
        Another suffix.
    MissingFileError
        The folder does not exist.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> G = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).adjacency_graph()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "graph.graphml"
    >>> rn.write_graph(G, path)
    >>> H = rn.read_graph(path)
    >>> H.number_of_edges(), H.edges[0, 1]["units"]
    (4, ((0, 1),))
    """
    path = writable(path, GRAPH_SUFFIXES)
    import networkx as nx
    checked_instance(G, nx.Graph, "G", "a networkx Graph (from adjacency_graph)")

    H = nx.Graph()
    H.graph.update({k: _pack(v) for k, v in G.graph.items()})
    H.add_nodes_from((n, {k: _pack(v) for k, v in data.items()}) for n, data in G.nodes(data=True))
    H.add_edges_from((a, b, {k: _pack(v) for k, v in data.items()}) for a, b, data in G.edges(data=True))
    if path.suffix == ".graphml":
        nx.write_graphml(H, path)
    else:
        path.write_text(json.dumps(nx.node_link_data(H, edges="edges")))


def read_graph(path) -> nx.Graph:
    """Read a graph written by :func:`write_graph`, with its attributes decoded.

    Parameters
    ----------
    path : str or path
        A ``.graphml`` or ``.json`` graph file.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    MissingFileError
        No such file.
    FileFormatError
        Another suffix, or a file that is not such a graph.
    """
    path = readable(path)
    if path.suffix not in GRAPH_SUFFIXES:
        raise FileFormatError(f"unknown graph format {path.suffix!r}: use .graphml or .json")
    import networkx as nx
    try:
        if path.suffix == ".graphml":
            H = nx.read_graphml(path, node_type=int)
        else:
            H = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    except (OSError, ValueError, KeyError, TypeError) as err:  # networkx and json raise several types
        raise FileFormatError(f"{path} is not a readable graph: {err}") from None
    G = nx.Graph()
    G.graph.update({k: _unpack(v) for k, v in H.graph.items()})
    G.add_nodes_from((n, {k: _unpack(v) for k, v in data.items()}) for n, data in H.nodes(data=True))
    G.add_edges_from((a, b, {k: _unpack(v) for k, v in data.items()}) for a, b, data in H.edges(data=True))
    return G


_TAG = "regionenum:"


def _pack(value):
    """Scalars stay (but inf and nan); arrays, tuples and lists become tagged JSON text."""
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return _TAG + json.dumps(_to_json(float(value)))
    if isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    return _TAG + json.dumps(_to_json(value))


def _to_json(value):
    if isinstance(value, np.ndarray):
        return {"array": encode_array(value)}
    if isinstance(value, tuple):
        return {"tuple": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return {"float": str(value)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _unpack(value):
    if isinstance(value, str) and value.startswith(_TAG):
        return _from_json(json.loads(value[len(_TAG):]))
    return value


def _from_json(doc):
    if isinstance(doc, dict):
        if "array" in doc:
            return decode_array(doc["array"])
        if "tuple" in doc:
            return tuple(_from_json(v) for v in doc["tuple"])
        if "float" in doc:
            return float(doc["float"])
    if isinstance(doc, list):
        return [_from_json(v) for v in doc]
    return doc
