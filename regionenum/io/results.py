"""Saving and loading results.

A :class:`~regionenum.Regions` is written with everything it holds (network, domain, regions,
cell complex), so a loaded result answers every analysis as the original does: ``.npz`` is
compact, ``.json`` readable from any language (see :mod:`.json_arrays`).
"""
from __future__ import annotations

import json

import numpy as np

from ..core.arrays import checked_instance
from ..core.domain import Box, Polytope
from ..core.exact import ConstraintIds
from ..core.network import Network
from ..core.paths import readable, writable
from ..engine.cells import CellComplex, CellSet, Constraints
from ..engine.kernels.splitting import INCIDENCE_DTYPE
from ..errors import FileFormatError
from ..result import Regions
from .json_arrays import decode_array, encode_array

__all__ = ["load_regions", "save_regions"]

FORMAT = "regionenum.regions"
#: Version 2 adds the rigorous error bounds (``output_errors``, ``cells_gen_err``); version 1
#: files load with unknown (infinite) bounds, so analyses settle every sign on them exactly.
VERSION = 2
_RESULT = ["packed_patterns", "interior_points", "bounded", "volumes", "vertex_offsets", "vertices",
           "facet_offsets", "facet_equations", "facet_layers", "facet_units", "jacobians",
           "offsets", "output_errors", "cell_region"]
RESULT_SUFFIXES = (".npz", ".json")
_CELLS = ["gen_off", "gens", "gen_err", "inc_off", "inc", "con_off", "con_ids", "con_rows", "con_err", "packed",
          "zero"]


def save_regions(regions, path) -> None:
    """Write a result to a file.

    Parameters
    ----------
    regions : Regions
        The result (complete or not).
    path : str or path
        ``.npz`` (compact) or ``.json`` (readable from any language); its folder must exist.

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
    >>> regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "regions.json"
    >>> rn.save_regions(regions, path)
    >>> rn.load_regions(path)
    Regions(4 regions, 4 bounded, d=2)
    """
    checked_instance(regions, Regions, "regions", "a regionenum.Regions (from enumerate_regions)")
    path = writable(path, RESULT_SUFFIXES)
    arrays = _to_arrays(regions)
    if path.suffix == ".npz":
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    else:
        doc = {"format": FORMAT, "version": VERSION,
               "arrays": {k: encode_array(v) for k, v in arrays.items()}}
        path.write_text(json.dumps(doc))


def load_regions(path):
    """Read a result written by :func:`save_regions`.

    Parameters
    ----------
    path : str or path
        A ``.npz`` or ``.json`` result file.

    Returns
    -------
    Regions
        The result, answering every analysis as the original does.

    Raises
    ------
    MissingFileError
        No such file.
    FileFormatError
        Not a regionenum result (of this format version).
    """
    path = readable(path)
    if path.suffix not in RESULT_SUFFIXES:
        raise FileFormatError(f"unknown result format {path.suffix!r}: use .npz or .json")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        else:
            doc = json.loads(path.read_text())
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise FileFormatError(f"{path} is not a regionenum result (format {FORMAT!r})")
            arrays = {k: decode_array(v) for k, v in doc["arrays"].items()}
    except FileFormatError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:  # numpy and json raise several types
        raise FileFormatError(f"{path} is not a readable regionenum result: {err}") from None
    version = int(arrays.get("format_version", -1))
    if version not in (1, VERSION):
        raise FileFormatError(f"{path}: not a regionenum result of format version 1 or {VERSION}")
    if version == 1:
        arrays["output_errors"] = np.full(arrays["offsets"].shape, np.inf)
        arrays["cells_gen_err"] = np.full(len(arrays["cells_gens"]), np.inf)
        arrays["cells_con_err"] = np.full(len(arrays["cells_con_ids"]), np.inf)
    try:
        _check_arrays(arrays)
    except FileFormatError as err:
        raise FileFormatError(f"{path}: {err}") from None
    return Regions(**_from_arrays(arrays))


#: The arrays of a result file besides the network's (``net_W<i>``, ``net_b<i>``), the result's
#: (:data:`_RESULT`) and the cells' (``cells_`` and :data:`_CELLS`).
_OTHER = {"format_version", "net_activations", "domain_is_box", "domain_A", "domain_b", "roots_ids",
          "roots_row_ids", "roots_rows", "roots_ref", "complete", "stop_reason", "seconds", "exact_calls",
          "sign_stage_names", "sign_stage_counts"}
#: CSR pairs of a result file: offsets, and the arrays whose rows they share out.
_RUNS = {"vertex_offsets": ("vertices",), "facet_offsets": ("facet_equations", "facet_layers", "facet_units"),
         "cells_gen_off": ("cells_gens", "cells_gen_err"), "cells_inc_off": ("cells_inc",),
         "cells_con_off": ("cells_con_ids", "cells_con_rows", "cells_con_err")}


def _check_arrays(a: dict) -> None:
    """Refuse a result file whose arrays do not fit together (a file written by another tool,
    or edited), before they become a :class:`~regionenum.Regions` whose analyses would fail deep
    inside or, worse, answer: unknown or missing arrays, offsets that are not runs over their
    arrays, regions' arrays of other lengths, coordinates that are not finite, negative volumes,
    a ``complete`` that is not a bool."""
    known = _OTHER | set(_RESULT) | {f"cells_{name}" for name in _CELLS}
    network = {k for k in a if k[:5] in ("net_W", "net_b") and k[5:].isdigit()}
    unknown = sorted(set(a) - known - network)
    missing = sorted(known - {"sign_stage_names", "sign_stage_counts"} - set(a))
    if unknown or missing:
        found = [f"{what} arrays {names}" for what, names in (("unknown", unknown), ("missing", missing)) if names]
        raise FileFormatError(f"not a regionenum result: {'; '.join(found)}")
    if a["complete"].shape != () or a["complete"].dtype != np.bool_:
        raise FileFormatError(f"complete must be one bool, got {a['complete']!r}")
    n = len(a["packed_patterns"])
    for name in ("interior_points", "bounded", "volumes", "jacobians", "offsets", "output_errors"):
        if len(a[name]) != n:
            raise FileFormatError(f"{name} has {len(a[name])} rows for {n} regions")
    for offsets, rows in _RUNS.items():
        off = a[offsets]
        if off.ndim != 1 or not len(off) or off.dtype.kind not in "iu" or off[0] != 0 or np.any(np.diff(off) < 0):
            raise FileFormatError(f"{offsets} must be non-decreasing integers from 0")
        for name in rows:
            if len(a[name]) != off[-1]:
                raise FileFormatError(f"{offsets} ends at {off[-1]}, but {name} has {len(a[name])} rows")
    # offsets with an entry per row of another array, and one more
    for offsets, of, what in (("vertex_offsets", n, "regions"), ("facet_offsets", n, "regions"),
                              ("cells_inc_off", len(a["cells_gens"]), "generators")):
        if len(a[offsets]) != of + 1:
            raise FileFormatError(f"{offsets} needs {of + 1} entries for {of} {what}")
    for name in ("vertices", "interior_points", "cells_gens"):
        if not np.all(np.isfinite(a[name])):
            raise FileFormatError(f"{name} holds coordinates that are not finite")
    if np.any(a["volumes"] < 0):
        raise FileFormatError("volumes holds negative volumes")


def _to_arrays(regions) -> dict:
    net, dom, constraints = regions.network, regions.domain, regions.complex.constraints
    out = {"format_version": np.array(VERSION)}
    for i, layer in enumerate(net.source_layers):  # as built: the rewrite is deterministic
        out[f"net_W{i}"], out[f"net_b{i}"] = layer.W, layer.b
    out["net_activations"] = np.array([layer.activation.spec for layer in net.source_layers])
    out["domain_is_box"] = np.array(isinstance(dom, Box))
    out["domain_A"], out["domain_b"] = dom.A, dom.b
    for name in _RESULT:
        out[name] = getattr(regions, name)
    for name in _CELLS:
        out[f"cells_{name}"] = getattr(regions.cells, name)
    ids = constraints.ids
    out["roots_ids"] = np.array([ids.n_domain, ids.n_artificial, ids.n_units, ids.n_ties])
    keys = sorted(constraints.fixed_rows)
    out["roots_row_ids"] = np.array(keys, np.int64)
    out["roots_rows"] = np.array([constraints.fixed_rows[k] for k in keys]).reshape(len(keys), -1)
    out["roots_ref"] = np.array(constraints.ref)
    out["complete"] = np.array(regions.complete)
    out["stop_reason"] = np.array(regions.stop_reason or "")
    out["seconds"] = np.array(regions.seconds)
    out["exact_calls"] = np.array(regions.exact_calls)
    out["sign_stage_names"] = np.array(list(regions.sign_stages), dtype=str)
    out["sign_stage_counts"] = np.array(list(regions.sign_stages.values()), np.int64)
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
    # files written before the incidences were int32 hold int64 ids: the kernels' own type, so
    # that they run without compiling again for the other
    if cells.inc.size and not 0 <= cells.inc.min() <= cells.inc.max() <= np.iinfo(INCIDENCE_DTYPE).max:
        raise FileFormatError("cells_inc holds constraint ids out of range")
    cells.inc = cells.inc.astype(INCIDENCE_DTYPE, copy=False)
    rows = dict(zip(a["roots_row_ids"].tolist(), a["roots_rows"]))
    constraints = Constraints(ConstraintIds(*(int(x) for x in a["roots_ids"])), rows, float(a["roots_ref"]))
    out = {name: a[name] for name in _RESULT if name != "cell_region"}
    out.update(network=network, domain=domain, complex=CellComplex(cells, a["cell_region"], constraints),
               complete=bool(a["complete"]), stop_reason=str(a["stop_reason"]) or None,
               seconds=float(a["seconds"]), exact_calls=int(a["exact_calls"]),
               sign_stages=dict(zip(a["sign_stage_names"].tolist(), a["sign_stage_counts"].tolist()))
               if "sign_stage_names" in a else {})  # files written before the stages were counted
    return out
