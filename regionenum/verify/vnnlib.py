"""VNN-LIB properties: parse them exactly, decide them, and write the competition's answer.

A VNN-LIB file declares inputs ``X_i`` and outputs ``Y_j`` and asserts linear constraints; the
property is *violated* (``sat``) when some input satisfying the input constraints gives outputs
satisfying the output constraints, and holds (``unsat``) otherwise. Supported: ``declare-const``,
``assert``, ``<=``, ``>=``, ``and``, ``or``, and linear terms built with ``+``, ``-`` and ``*`` by
constants, nested freely. The assertions' conjunction is brought to disjunctive normal form and
grouped by its input part, giving the :class:`~regionenum.verify.spec.Case` list of a
:class:`Property`: each an input box (every input bounded; ``lo == hi`` fixes an input, whose
dimension then drops out of the search), optional further input rows, and the output sets that
violate the property there. Numbers are read as exact decimals (Fractions), so ``0.1`` means
one tenth, not the nearest float.

>>> import regionenum as rn
>>> prop = rn.verify.parse_vnnlib_text('''
... (declare-const X_0 Real) (declare-const X_1 Real) (declare-const Y_0 Real)
... (assert (or (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 0))
...             (and (>= X_0 2) (<= X_0 3) (>= X_1 0) (<= X_1 1))))
... (assert (>= Y_0 0.5))''')
>>> len(prop.cases), prop.cases[0].hi
(2, (Fraction(1, 1), Fraction(0, 1)))
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..core.arrays import checked_instance
from ..core.network import Network
from ..core.paths import readable
from ..errors import InvalidDomainError, VnnLibError
from .search import search
from .spec import Case, LinearSet

__all__ = ["Property", "VnnResult", "check_vnnlib", "competition_answer", "parse_vnnlib", "parse_vnnlib_text"]

_TOKEN = re.compile(r"\(|\)|[^\s()]+")

#: Disjunctive normal forms larger than this are refused (they grow as products of the
#: assertions' disjunctions).
MAX_TERMS = 100_000
#: The largest number a property may hold: float64's largest (the search and the boxes' float
#: bounds are float64).
FLOAT_MAX = Fraction(np.finfo(np.float64).max)


@dataclass
class Property:
    """A parsed property: ``n_inputs``, ``n_outputs`` and its ``cases`` (input sets, each with
    the output sets that violate the property there)."""

    n_inputs: int
    n_outputs: int
    cases: list


@dataclass
class VnnResult:
    """``status``: ``"sat"`` (violated: ``counterexample`` input, exactly
    ``counterexample_exact``, and its ``outputs``), ``"unsat"`` (holds: ``proof``, for
    :func:`regionenum.certify`), or ``"unknown"`` with ``reason`` (a budget ran out;
    ``stop_reason`` names it: ``"time_limit"`` or ``"interrupted"``); ``cells`` the search
    processed, ``seconds`` it took."""

    status: str
    counterexample: np.ndarray | None = None
    outputs: np.ndarray | None = None
    reason: str = ""
    cells: int = 0
    seconds: float = 0.0
    counterexample_exact: list | None = None
    proof: object = None
    stop_reason: str | None = None


def parse_vnnlib(path) -> Property:
    """Parse the VNN-LIB file at ``path``.

    Parameters
    ----------
    path : str or path
        A VNN-LIB file, read as text (see :func:`parse_vnnlib_text` for what is supported).

    Returns
    -------
    Property
        ``n_inputs``, ``n_outputs`` and its ``cases``, numbers as exact Fractions.

    Raises
    ------
    MissingFileError
        No such file.
    VnnLibError
        A malformed or unsupported property (the message names the file and, mostly, the line).
    InvalidDomainError
        An input set that is empty or unbounded.

    Examples
    --------
    >>> import regionenum as rn
    >>> prop = rn.verify.parse_vnnlib(rn.__path__[0] + "/data/digits_plane.vnnlib")
    >>> prop.n_inputs, prop.n_outputs, len(prop.cases), len(prop.cases[0].outputs)
    (2, 10, 1, 9)
    """
    path = readable(path)
    try:
        return parse_vnnlib_text(path.read_text())
    except VnnLibError as err:
        raise VnnLibError(f"{path}: {err}") from None
    except UnicodeDecodeError:
        raise VnnLibError(f"{path}: not a text file (VNN-LIB properties are text)") from None


def parse_vnnlib_text(text: str) -> Property:
    """Parse VNN-LIB text (see the module's description).

    Parameters
    ----------
    text : str
        The property: ``declare-const`` of inputs ``X_i`` and outputs ``Y_j`` (numbered from
        0 without gaps; the declared sort is not checked) and ``assert`` of linear
        constraints with ``<=``, ``>=``, ``and``, ``or``, ``+``, ``-`` and ``*`` by
        constants. ``;`` starts a comment. Numbers are read exactly (``0.1`` is one tenth).

    Returns
    -------
    Property
        The assertions' conjunction in disjunctive normal form, grouped by input part into
        ``cases``: each an input box (every input bounded), further input rows, and the
        output sets that violate the property there (an output set without rows is every
        output). Terms with a false constant inequality are dropped.

    Raises
    ------
    VnnLibError
        A malformed or unsupported property: unbalanced parentheses, an unknown command or
        operator, an undeclared variable or bad number, a constraint mixing inputs and
        outputs, a product of two variables, variables named otherwise than ``X_i``/``Y_j``
        or numbered with gaps, or a normal form of more than ``MAX_TERMS`` terms. The
        message names the line (except for gaps in the numbering).
    InvalidDomainError
        An input without a lower or an upper bound in some case, an empty input box, or
        input constraints that can never hold.

    Examples
    --------
    >>> import regionenum as rn
    >>> prop = rn.verify.parse_vnnlib_text('''
    ... (declare-const X_0 Real) (declare-const Y_0 Real) (declare-const Y_1 Real)
    ... (assert (>= X_0 -0.5)) (assert (<= X_0 0.5))   ; the input box
    ... (assert (>= Y_1 Y_0))''')
    >>> prop.n_inputs, prop.n_outputs, prop.cases[0].lo, prop.cases[0].outputs[0].A
    (1, 2, (Fraction(-1, 2),), ((Fraction(1, 1), Fraction(-1, 1)),))
    """
    checked_instance(text, str, "text", "the text of a VNN-LIB property (parse_vnnlib reads a file)")
    tokens = []
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.split(";", 1)[0]
        tokens += [(t, line_no) for t in _TOKEN.findall(line)]
    exprs, pos = [], 0
    while pos < len(tokens):
        expr, pos = _read(tokens, pos)
        exprs.append(expr)
    inputs, outputs = {}, {}
    dnf = [[]]  # the conjunction of the assertions so far, as a list of conjunctions of atoms
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
            if len(dnf) * len(formula) > MAX_TERMS:
                raise VnnLibError(f"line {line}: the property's disjunctive normal form exceeds {MAX_TERMS} terms")
            dnf = [x + y for x in dnf for y in formula]
        else:
            raise VnnLibError(f"line {line}: unsupported command {head!r}")
    n_in, n_out = _count(inputs, "X"), _count(outputs, "Y")
    groups = {}  # the input part of each term -> the output parts it is paired with
    for term in dnf:
        if any(not c and k > 0 for _, c, k in term):
            continue  # a false constant inequality (0 <= negative): this term never holds
        term = [(kind, c, k) for kind, c, k in term if c]
        x_part = tuple(sorted(set((tuple(sorted(c.items())), k) for kind, c, k in term if kind == "X")))
        y_part = [(c, k) for kind, c, k in term if kind == "Y"]
        if not y_part:
            raise VnnLibError("a case of the property says nothing of the outputs (no Y_j in it): every input "
                              "in it would be a counterexample")
        groups.setdefault(x_part, []).append(y_part)
    if not groups:
        raise InvalidDomainError("the input constraints can never hold: the property has no inputs to check")
    cases = [_case(x_part, y_parts, n_in, n_out) for x_part, y_parts in groups.items()]
    return Property(n_in, n_out, cases)


def _case(x_part, y_parts, n_in, n_out) -> Case:
    """A case from its input atoms (bounds become the box, other rows stay rows) and its output
    conjunctions."""
    lo, hi = [None] * n_in, [None] * n_in
    rows = []
    for coeffs, const in x_part:
        coeffs = dict(coeffs)
        if len(coeffs) == 1:
            (i, a), = coeffs.items()
            bound = -const / a
            if a > 0:
                hi[i] = bound if hi[i] is None else min(hi[i], bound)
            else:
                lo[i] = bound if lo[i] is None else max(lo[i], bound)
        else:
            rows.append((coeffs, const))
    for i in range(n_in):
        if lo[i] is None or hi[i] is None:
            side = "lower" if lo[i] is None else "upper"
            raise InvalidDomainError(f"X_{i} has no {side} bound: every input must lie in a bounded interval")
    in_rows = LinearSet(tuple(tuple(c.get(i, Fraction(0)) for i in range(n_in)) for c, _ in rows),
                        tuple(k for _, k in rows), n_in)
    outs = []
    for conj in y_parts:
        outs.append(LinearSet(tuple(tuple(c.get(j, Fraction(0)) for j in range(n_out)) for c, _ in conj),
                              tuple(k for _, k in conj), n_out))
    return Case(tuple(lo), tuple(hi), in_rows, tuple(outs))


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
    """A formula as DNF: a list of conjunctions, each a list of atoms ``(kind, coeffs, const)``
    meaning ``coeffs . v + const <= 0`` (coeffs a dict index -> Fraction, zeros dropped)."""
    head, line = _head(expr)
    if head in ("<=", ">="):
        if len(expr) != 3:
            raise VnnLibError(f"line {line}: {head} takes two terms")
        a, ka = _term(expr[1], inputs, outputs)
        b, kb = _term(expr[2], inputs, outputs)
        kinds = {k for k in (ka, kb) if k}
        if len(kinds) > 1:
            raise VnnLibError(f"line {line}: a constraint must involve inputs or outputs, not both")
        diff = _sub(a, b) if head == "<=" else _sub(b, a)
        const = diff.pop(None, Fraction(0))
        diff = {k: v for k, v in diff.items() if v != 0}
        kind = kinds.pop() if kinds else "X"  # a constant inequality: checked with the inputs
        return [[(kind, diff, const)]]
    if head == "and":
        out = [[]]
        for sub in expr[1:]:
            part = _formula(sub, inputs, outputs)
            if len(out) * len(part) > MAX_TERMS:
                raise VnnLibError(f"line {line}: the disjunctive normal form exceeds {MAX_TERMS} terms")
            out = [x + y for x in out for y in part]
        return out
    if head == "or":
        return [c for sub in expr[1:] for c in _formula(sub, inputs, outputs)]
    raise VnnLibError(f"line {line}: unsupported operator {head!r}")


def _term(expr, inputs, outputs):
    """A linear term as {variable index: coeff, None: const} (Fractions) and its kind ('X', 'Y'
    or None)."""
    if isinstance(expr, tuple):
        tok, line = expr
        if tok in inputs:
            return {inputs[tok]: Fraction(1)}, "X"
        if tok in outputs:
            return {outputs[tok]: Fraction(1)}, "Y"
        try:
            number = Fraction(tok)
        except (ValueError, ZeroDivisionError):
            raise VnnLibError(f"line {line}: undeclared variable or bad number {tok!r}") from None
        if abs(number) > FLOAT_MAX:  # exact here, but the float64 stages could not hold it
            raise VnnLibError(f"line {line}: the number {tok} is beyond float64's range")
        return {None: number}, None
    head, line = _head(expr)
    parts = [_term(e, inputs, outputs) for e in expr[1:]]
    if not parts and head in ("+", "-", "*"):
        raise VnnLibError(f"line {line}: {head!r} needs at least one argument")
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
        scale = Fraction(1)
        for p in consts:
            scale *= p.get(None, Fraction(0))
        base = linear[0] if linear else {None: Fraction(1)}
        return {k: scale * v for k, v in base.items()}, kind
    raise VnnLibError(f"line {line}: unsupported operator {head!r}")


def _add(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, Fraction(0)) + v
    return out


def _sub(a, b):
    return _add(a, {k: -v for k, v in b.items()})


def _count(names, kind):
    idx = sorted(names.values())
    if idx != list(range(len(idx))):
        raise VnnLibError(f"{kind} variables must be numbered 0, 1, ... without gaps")
    return len(idx)


def check_vnnlib(network, prop: Property, *, time_limit: float | None = None, progress=None) -> VnnResult:
    """Decide ``prop`` for ``network`` exactly, by the property-directed search
    (:mod:`regionenum.verify.search`).

    Parameters
    ----------
    network : Network
    prop : Property
        From :func:`parse_vnnlib`.
    time_limit : float, optional
        Seconds; past it the answer is ``unknown``, with the reason.
    progress : callable, optional
        Called with a :class:`~regionenum.Progress` now and then (for example a
        :class:`regionenum.progress.ProgressBar`).

    Returns
    -------
    VnnResult

    Raises
    ------
    InvalidNetworkError
        The network's inputs or outputs do not match the property's, or it has max layers.
    InvalidArgumentError
        A bad ``time_limit``.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.array([[1.0], [-1.0]]), np.zeros(2)),
    ...                               (np.array([[1.0, 1.0]]), np.zeros(1))])   # |x|
    >>> text = ("(declare-const X_0 Real)(declare-const Y_0 Real)"
    ...         "(assert (>= X_0 -1))(assert (<= X_0 0.5))(assert (>= Y_0 {}))")
    >>> rn.verify.check_vnnlib(net, rn.verify.parse_vnnlib_text(text.format(1.5))).status
    'unsat'
    >>> r = rn.verify.check_vnnlib(net, rn.verify.parse_vnnlib_text(text.format(0.75)))
    >>> r.status, float(r.outputs[0]) >= 0.75
    ('sat', True)
    """
    checked_instance(network, Network, "network", "a regionenum.Network")
    checked_instance(prop, Property, "prop", "a Property (from parse_vnnlib)")
    start = time.perf_counter()
    res = search(network, prop.cases, time_limit=time_limit, progress=progress)
    return VnnResult(res.status, res.counterexample, res.outputs, res.reason, res.cells,
                     time.perf_counter() - start, res.counterexample_exact, res.proof, res.stop_reason)


def competition_answer(result: VnnResult) -> str:
    """The answer in the format of the VNN competition: ``unsat``, ``unknown`` (or ``timeout``
    when the time ran out), or ``sat`` followed by the counterexample's inputs and outputs as
    ``((X_0 v) ... (Y_0 v) ...)``, values the float64 nearest the exact ones.

    Parameters
    ----------
    result : VnnResult
        From :func:`check_vnnlib`. For ``sat`` it must have ``counterexample`` and
        ``outputs``; an ``unknown`` answer stopped by Ctrl-C (``stop_reason``
        ``"interrupted"``) stays ``unknown``.

    Returns
    -------
    str
        The text of the results file, ending in a newline: one line for ``unsat``,
        ``unknown`` or ``timeout``; for ``sat``, one ``(name value)`` pair per line, values
        written with ``repr`` (round-tripping float64).

    Examples
    --------
    >>> import numpy as np
    >>> from regionenum.verify import VnnResult, competition_answer
    >>> print(competition_answer(VnnResult("unknown", stop_reason="time_limit")), end="")
    timeout
    >>> print(competition_answer(VnnResult("sat", counterexample=np.array([0.5, -1.0]),
    ...                                    outputs=np.array([0.75]))), end="")
    sat
    ((X_0 0.5)
     (X_1 -1.0)
     (Y_0 0.75))
    """
    if result.status != "sat":
        if result.stop_reason == "time_limit":
            return "timeout\n"
        return f"{result.status}\n"
    pairs = [f"(X_{i} {float(v)!r})" for i, v in enumerate(result.counterexample)]
    pairs += [f"(Y_{j} {float(v)!r})" for j, v in enumerate(result.outputs)]
    return "sat\n(" + "\n ".join(pairs) + ")\n"
