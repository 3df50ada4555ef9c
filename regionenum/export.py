"""Saving and loading results and graphs.

A :class:`~regionenum.Regions` is written with everything it holds (network, domain, regions,
cell complex), so a loaded result answers every analysis as the original does: ``.npz`` is
compact, ``.json`` readable from any language (floats written to round-trip exactly; ``inf``
and ``nan`` as the strings ``"inf"``, ``"-inf"``, ``"nan"``). Graphs go to GraphML or
node-link JSON, with array and tuple attributes encoded as JSON text and decoded on reading.
"""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np

from .cells import CellSet, Roots
from .domain import Box, Polytope
from .errors import RegionEnumError
from .exact import ConstraintIds
from .network import Network

__all__ = ["save_regions", "load_regions", "write_graph", "read_graph"]

FORMAT = "regionenum.regions"
VERSION = 1
_RESULT = ["packed_patterns", "interior_points", "bounded", "volumes", "vertex_offsets", "vertices",
           "facet_offsets", "facet_equations", "facet_layers", "facet_units", "jacobians",
           "offsets", "cell_region"]
_CELLS = ["gen_off", "gens", "inc_off", "inc", "con_off", "con_ids", "con_rows", "packed", "zero"]


def save_regions(regions, path) -> None:
    """Write ``regions`` to ``path``: ``.npz`` or ``.json`` by the suffix."""
    path = Path(path)
    arrays = _to_arrays(regions)
    if path.suffix == ".npz":
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    elif path.suffix == ".json":
        doc = {"format": FORMAT, "version": VERSION,
               "arrays": {k: _encode_array(v) for k, v in arrays.items()}}
        path.write_text(json.dumps(doc))
    else:
        raise RegionEnumError(f"unknown result format {path.suffix!r}: use .npz or .json")


def load_regions(path):
    """Read a result written by :func:`save_regions`."""
    from .result import Regions
    path = Path(path)
    if not path.exists():
        raise RegionEnumError(f"no such file: {path}")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    elif path.suffix == ".json":
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise RegionEnumError(f"{path} is not valid JSON: {err}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise RegionEnumError(f"{path} is not a regionenum result (format {FORMAT!r})")
        arrays = {k: _decode_array(v) for k, v in doc["arrays"].items()}
    else:
        raise RegionEnumError(f"unknown result format {path.suffix!r}: use .npz or .json")
    if int(arrays.get("format_version", -1)) != VERSION:
        raise RegionEnumError(f"{path}: not a regionenum result of format version {VERSION}")
    return Regions(**_from_arrays(arrays))


def _to_arrays(regions) -> dict:
    net, dom, roots = regions.network, regions.domain, regions.roots
    out = {"format_version": np.array(VERSION)}
    for i, layer in enumerate(net.layers):
        out[f"net_W{i}"], out[f"net_b{i}"] = layer.W, layer.b
    out["net_activations"] = np.array([layer.activation.spec for layer in net.layers])
    out["domain_is_box"] = np.array(isinstance(dom, Box))
    out["domain_A"], out["domain_b"] = dom.A, dom.b
    for name in _RESULT:
        out[name] = getattr(regions, name)
    for name in _CELLS:
        out[f"cells_{name}"] = getattr(regions.cells, name)
    ids = roots.ids
    out["roots_ids"] = np.array([ids.n_domain, ids.n_artificial, ids.n_units, ids.n_ties])
    keys = sorted(roots.rows)
    out["roots_row_ids"] = np.array(keys, np.int64)
    out["roots_rows"] = np.array([roots.rows[k] for k in keys]).reshape(len(keys), -1)
    out["roots_merge_pieces"] = np.array(roots.merge_pieces)
    out["roots_ref"] = np.array(roots.ref)
    out["complete"] = np.array(regions.complete)
    out["stop_reason"] = np.array(regions.stop_reason or "")
    out["seconds"] = np.array(regions.seconds)
    out["exact_calls"] = np.array(regions.exact_calls)
    return out


def _from_arrays(a: dict) -> dict:
    n_layers = sum(1 for k in a if k.startswith("net_W"))
    layers = [(a[f"net_W{i}"], a[f"net_b{i}"]) for i in range(n_layers)]
    network = Network.from_layers(layers, [str(s) for s in a["net_activations"]])
    d = network.input_dim
    if bool(a["domain_is_box"]):
        domain = Box(a["domain_b"][:d], -a["domain_b"][d:])
    else:
        domain = Polytope(a["domain_A"].reshape(-1, d), a["domain_b"])
    cells = CellSet(*(a[f"cells_{name}"] for name in _CELLS))
    rows = dict(zip(a["roots_row_ids"].tolist(), a["roots_rows"]))
    roots = Roots(cells.take(np.zeros(0, np.int64)), ConstraintIds(*(int(x) for x in a["roots_ids"])),
                  rows, bool(a["roots_merge_pieces"]), 0, float(a["roots_ref"]))
    out = {name: a[name] for name in _RESULT}
    out["cells"] = cells
    out.update(network=network, domain=domain, roots=roots, complete=bool(a["complete"]),
               stop_reason=str(a["stop_reason"]) or None, seconds=float(a["seconds"]),
               exact_calls=int(a["exact_calls"]))
    return out


def _encode_array(x: np.ndarray) -> dict:
    x = np.asarray(x)
    if x.dtype.kind == "f":
        data = [v if np.isfinite(v) else str(v) for v in x.ravel().tolist()]
    else:
        data = x.ravel().tolist()
    return {"dtype": x.dtype.str, "shape": list(x.shape), "data": data}


def _decode_array(doc: dict) -> np.ndarray:
    dtype = np.dtype(doc["dtype"])
    data = doc["data"]
    if dtype.kind == "f":
        data = [float(v) for v in data]
    return np.array(data, dtype=dtype).reshape(doc["shape"])


# -- graphs -------------------------------------------------------------------------------------
def write_graph(G: nx.Graph, path) -> None:
    """Write a graph from :meth:`Regions.adjacency_graph` (or any graph with array, tuple or
    list attributes) to ``.graphml`` or node-link ``.json``."""
    path = Path(path)
    H = nx.Graph()
    H.graph.update({k: _pack(v) for k, v in G.graph.items()})
    H.add_nodes_from((n, {k: _pack(v) for k, v in data.items()}) for n, data in G.nodes(data=True))
    H.add_edges_from((a, b, {k: _pack(v) for k, v in data.items()}) for a, b, data in G.edges(data=True))
    if path.suffix == ".graphml":
        nx.write_graphml(H, path)
    elif path.suffix == ".json":
        path.write_text(json.dumps(nx.node_link_data(H, edges="edges")))
    else:
        raise RegionEnumError(f"unknown graph format {path.suffix!r}: use .graphml or .json")


def read_graph(path) -> nx.Graph:
    """Read a graph written by :func:`write_graph`, with its attributes decoded."""
    path = Path(path)
    if not path.exists():
        raise RegionEnumError(f"no such file: {path}")
    if path.suffix == ".graphml":
        H = nx.read_graphml(path, node_type=int)
    elif path.suffix == ".json":
        H = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    else:
        raise RegionEnumError(f"unknown graph format {path.suffix!r}: use .graphml or .json")
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
        return {"array": _encode_array(value)}
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
            return _decode_array(doc["array"])
        if "tuple" in doc:
            return tuple(_from_json(v) for v in doc["tuple"])
        if "float" in doc:
            return float(doc["float"])
    if isinstance(doc, list):
        return [_from_json(v) for v in doc]
    return doc
