"""VNN-LIB properties: parse them, and decide them exactly from the enumerated regions.

A VNN-LIB file declares inputs ``X_i`` and outputs ``Y_j`` and asserts linear constraints; the
property is *violated* (``sat``) when some input satisfying the input constraints gives outputs
satisfying the output constraints (a disjunction of conjunctions), and holds (``unsat``)
otherwise. Supported: ``declare-const``, ``assert``, ``<=``, ``>=``, ``and``, ``or``, and
linear terms built with ``+``, ``-`` and ``*`` by constants.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

from ..core.domain import Box, Polytope
from ..core.tolerances import DEFAULT_TOL
from ..engine.api import enumerate_regions
from ..errors import InvalidNetworkError, MissingFileError, VnnLibError
from .properties import check_property

__all__ = ["Property", "VnnResult", "check_vnnlib", "parse_vnnlib", "parse_vnnlib_text"]

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass
class Property:
    """A parsed property: the input set (``A x + b <= 0``, rows ``input_A``, ``input_b``) and
    the output set, a list of conjunctions ``(C, e)`` meaning ``C y + e <= 0``."""

    n_inputs: int
    n_outputs: int
    input_A: np.ndarray
    input_b: np.ndarray
    output_sets: list

    def input_domain(self) -> Polytope:
        """The input set: a :class:`Box` when it is one, else a :class:`Polytope`."""
        A, b = self.input_A, self.input_b
        lo, hi = np.full(self.n_inputs, -np.inf), np.full(self.n_inputs, np.inf)
        simple = True
        for a, c in zip(A, b):
            nz = np.flatnonzero(a)
            if len(nz) != 1:
                simple = False
                continue
            i = nz[0]
            if a[i] > 0:
                hi[i] = min(hi[i], -c / a[i])
            else:
                lo[i] = max(lo[i], -c / a[i])
        if simple and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            return Box(lo, hi)
        return Polytope(A, b)


@dataclass
class VnnResult:
    """``status``: ``"sat"`` (violated: ``counterexample`` input and its ``outputs``),
    ``"unsat"`` (holds), or ``"unknown"`` with ``reason``; ``stop_reason`` says which budget (or
    Ctrl-C) stopped the search before a verdict."""

    status: str
    counterexample: np.ndarray | None = None
    outputs: np.ndarray | None = None
    reason: str = ""
    regions: int = 0
    seconds: float = 0.0
    stop_reason: str | None = None


def parse_vnnlib(path) -> Property:
    """Parse the VNN-LIB file at ``path``."""
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"no such file: {path}")
    try:
        return parse_vnnlib_text(path.read_text())
    except VnnLibError as err:
        raise VnnLibError(f"{path}: {err}") from None


def parse_vnnlib_text(text: str) -> Property:
    """Parse VNN-LIB text."""
    tokens = []
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.split(";", 1)[0]
        tokens += [(t, line_no) for t in _TOKEN.findall(line)]
    exprs, pos = [], 0
    while pos < len(tokens):
        expr, pos = _read(tokens, pos)
        exprs.append(expr)
    inputs, outputs = {}, {}
    in_rows, out_formulas = [], []
    for expr in exprs:
        head, line = _head(expr)
        if head == "declare-const":
            if len(expr) != 3 or not isinstance(expr[1], tuple):
                raise VnnLibError(f"line {line}: expected (declare-const NAME Real)")
            name = expr[1][0]
            m = re.fullmatch(r"([XY])_(\d+)", name)
            if not m:
                raise VnnLibError(f"line {line}: variables must be named X_i or Y_j, got {name!r}")
            (inputs if m.group(1) == "X" else outputs)[name] = int(m.group(2))
        elif head == "assert":
            if len(expr) != 2:
                raise VnnLibError(f"line {line}: assert takes one formula")
            formula = _formula(expr[1], inputs, outputs)
            kinds = {k for conj in formula for k, _, _ in conj}
            if kinds == {"X"}:
                if len(formula) != 1:
                    raise VnnLibError(f"line {line}: disjunctions over inputs are not supported")
                in_rows += [(a, c) for _, a, c in formula[0]]
            elif kinds == {"Y"}:
                out_formulas.append(formula)
            else:
                raise VnnLibError(f"line {line}: a constraint mixes inputs and outputs")
        else:
            raise VnnLibError(f"line {line}: unsupported command {head!r}")
    n_in, n_out = _count(inputs, "X"), _count(outputs, "Y")
    A = np.array([_dense(a, n_in) for a, _ in in_rows]).reshape(-1, n_in)
    b = np.array([c for _, c in in_rows], dtype=np.float64)
    conj = [[]]
    for formula in out_formulas:  # the assertions' conjunction, in disjunctive normal form
        conj = [x + y for x in conj for y in formula]
    sets = [(np.array([_dense(a, n_out) for _, a, _ in c]).reshape(-1, n_out),
             np.array([v for _, _, v in c], dtype=np.float64)) for c in conj]
    return Property(n_in, n_out, A, b, sets)


def _read(tokens, pos):
    tok, line = tokens[pos]
    if tok == ")":
        raise VnnLibError(f"line {line}: unexpected ')'")
    if tok != "(":
        return (tok, line), pos + 1
    out, pos = [], pos + 1
    while True:
        if pos >= len(tokens):
            raise VnnLibError(f"line {line}: '(' is never closed")
        if tokens[pos][0] == ")":
            return out, pos + 1
        item, pos = _read(tokens, pos)
        out.append(item)


def _head(expr):
    if not isinstance(expr, list) or not expr or not isinstance(expr[0], tuple):
        line = expr[1] if isinstance(expr, tuple) else "?"
        raise VnnLibError(f"line {line}: expected a command in parentheses")
    return expr[0]


def _formula(expr, inputs, outputs):
    """A formula as DNF: a list of conjunctions, each a list of (kind, coeffs, const) for
    ``coeffs . v + const <= 0``."""
    head, line = _head(expr)
    if head in ("<=", ">="):
        if len(expr) != 3:
            raise VnnLibError(f"line {line}: {head} takes two terms")
        a, ka = _term(expr[1], inputs, outputs)
        b, kb = _term(expr[2], inputs, outputs)
        kinds = {k for k in (ka, kb) if k}
        if len(kinds) != 1:
            raise VnnLibError(f"line {line}: a constraint must involve inputs or outputs (not both, "
                              "not neither)")
        diff = _sub(a, b) if head == "<=" else _sub(b, a)
        const = diff.pop(None, 0.0)
        return [[(kinds.pop(), diff, const)]]
    if head == "and":
        out = [[]]
        for sub in expr[1:]:
            out = [x + y for x in out for y in _formula(sub, inputs, outputs)]
        return out
    if head == "or":
        return [c for sub in expr[1:] for c in _formula(sub, inputs, outputs)]
    raise VnnLibError(f"line {line}: unsupported operator {head!r}")


def _term(expr, inputs, outputs):
    """A linear term as {variable index: coeff, None: const} and its kind ('X', 'Y' or None)."""
    if isinstance(expr, tuple):
        tok, line = expr
        if tok in inputs:
            return {inputs[tok]: 1.0}, "X"
        if tok in outputs:
            return {outputs[tok]: 1.0}, "Y"
        try:
            return {None: float(tok)}, None
        except ValueError:
            raise VnnLibError(f"line {line}: undeclared variable or bad number {tok!r}") from None
    head, line = _head(expr)
    parts = [_term(e, inputs, outputs) for e in expr[1:]]
    kinds = {k for _, k in parts if k}
    if len(kinds) > 1:
        raise VnnLibError(f"line {line}: a term mixes inputs and outputs")
    kind = kinds.pop() if kinds else None
    if head == "+":
        out = {}
        for p, _ in parts:
            out = _add(out, p)
        return out, kind
    if head == "-":
        if len(parts) == 1:
            return {k: -v for k, v in parts[0][0].items()}, kind
        out = parts[0][0]
        for p, _ in parts[1:]:
            out = _sub(out, p)
        return out, kind
    if head == "*":
        consts = [p for p, k in parts if k is None]
        linear = [p for p, k in parts if k is not None]
        if len(linear) > 1:
            raise VnnLibError(f"line {line}: only products with constants are linear")
        scale = 1.0
        for p in consts:
            scale *= p.get(None, 0.0)
        base = linear[0] if linear else {None: 1.0}
        return {k: scale * v for k, v in base.items()}, kind
    raise VnnLibError(f"line {line}: unsupported operator {head!r}")


def _add(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v
    return out


def _sub(a, b):
    return _add(a, {k: -v for k, v in b.items()})


def _dense(coeffs, n):
    row = np.zeros(n)
    for k, v in coeffs.items():
        row[k] = v
    return row


def _count(names, kind):
    idx = sorted(names.values())
    if idx != list(range(len(idx))):
        raise VnnLibError(f"{kind} variables must be numbered 0, 1, ... without gaps")
    return len(idx)


def check_vnnlib(network, prop: Property, *, tol: float = DEFAULT_TOL, max_regions: int | None = None,
                 time_limit: float | None = None, progress=None) -> VnnResult:
    """Decide ``prop`` for ``network`` by enumerating its regions on the input set: per region
    and output conjunction a linear programme for the largest margin ``t`` with
    ``C y + e + t <= 0``, clear of zero, decides; a single-row conjunction is decided exactly
    (its extreme over the domain, :func:`regionenum.verify.check_property`); a margin of
    several rows within rounding of zero gives ``unknown``. ``tol``, the budgets and
    ``progress`` go to the enumeration (:func:`regionenum.enumerate_regions`); an enumeration
    they stop gives ``unknown`` with its ``stop_reason``."""
    if network.input_dim != prop.n_inputs or network.output_dim != prop.n_outputs:
        raise InvalidNetworkError(f"the property has {prop.n_inputs} inputs and {prop.n_outputs} outputs; "
                              f"the network {network.input_dim} and {network.output_dim}")
    start = time.perf_counter()
    regions = enumerate_regions(network, prop.input_domain(), tol=tol, max_regions=max_regions,
                                time_limit=time_limit, progress=progress)
    if not regions.complete:
        return VnnResult("unknown", reason=f"the enumeration stopped early ({regions.stop_reason}) after "
                         f"{len(regions)} regions", regions=len(regions), seconds=time.perf_counter() - start,
                         stop_reason=regions.stop_reason)

    def sat(x):
        return VnnResult("sat", x, network(x[None])[0], regions=len(regions),
                         seconds=time.perf_counter() - start)

    unknown = ""
    for C, e in prop.output_sets:
        if len(C) == 1:  # exactly: is the smallest value of c.y + e on the domain <= 0?
            res = check_property(regions, -C, -e)
            if res.worst[0] >= 0:
                return sat(res.worst_input[0])
            continue
        for r in range(len(regions)):
            x, t = _margin(regions, r, C, e)
            scale = 1e-9 * max(1.0, np.abs(C).max() * (1 + np.abs(regions.offsets[r]).max()
                                                        + np.abs(regions.jacobians[r]).max()))
            if t > scale:
                return sat(x)
            if t >= -scale:
                unknown = (f"region {r}: the output constraints are met only up to "
                           f"{abs(t):.2g}, too close to decide in float64")
    status = "unknown" if unknown else "unsat"
    return VnnResult(status, reason=unknown, regions=len(regions), seconds=time.perf_counter() - start)


def _margin(regions, r, C, e):
    """max t with C (J x + c) + e + t <= 0 over region r's cells (LP); (x, t)."""
    best = (None, -np.inf)
    cells = regions.cells
    J, c = regions.jacobians[r], regions.offsets[r]
    d = regions.dim
    for cell in np.flatnonzero(regions.cell_region == r):
        rows = cells.con_rows[cells.con_off[cell]: cells.con_off[cell + 1]]
        rows = rows[np.any(rows[:, 1:] != 0, axis=1)]  # the face at infinity has no x part
        A_ub = np.vstack([np.hstack([rows[:, 1:], np.zeros((len(rows), 1))]),
                          np.hstack([C @ J, np.ones((len(C), 1))])])
        b_ub = np.r_[-rows[:, 0], -(C @ c + e)]
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=A_ub, b_ub=b_ub,
                      bounds=[(None, None)] * d + [(None, 1.0)], method="highs")
        if res.status == 0 and -res.fun > best[1]:
            best = (res.x[:d], -res.fun)
    return best
