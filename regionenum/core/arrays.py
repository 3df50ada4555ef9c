"""Array helpers shared by the engine, the results and the analyses: CSR offsets (a flat array
of items with ``offsets[i]:offsets[i + 1]`` the items of row ``i``), packed pattern bits, the
one array layout the compiled kernels take; and the checks every public function makes of its
arguments' kinds (flags, indices, whole and real numbers, arrays of numbers, instances), so that
a wrong one is refused by name before any work."""
from __future__ import annotations

import numbers

import numpy as np

from ..errors import ArgumentTypeError, InvalidArgumentError
from .threads import map_in_threads

__all__ = ["batches", "checked_flag", "checked_index", "checked_instance", "concat_offsets",
           "distinct_sorted", "float_array", "get_bits", "is_integer", "kernel_array", "offsets_of",
           "pattern_order", "per_cell_count", "ranges", "real_number", "run_starts", "set_bits", "unpack_bits",
           "whole_number"]


def is_integer(value) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def checked_index(i, n: int, what: str) -> int:
    """``i`` as an index into ``n`` items called ``what`` (counted from the end where negative,
    as in a sequence): ``ArgumentTypeError`` for a value that is not an integer, ``IndexError``
    naming it beyond either end (a slice of CSR arrays would quietly come out empty there)."""
    if not is_integer(i):
        raise ArgumentTypeError(f"{what} must be an integer, got {type(i).__name__}")
    if not -n <= i < n:
        raise IndexError(f"{what} {i} is out of range for {n} of them (0 to {n - 1}, or -{n} to -1)")
    return int(i) + n if i < 0 else int(i)


def checked_flag(value, what: str) -> bool:
    """``value`` as a bool where it is one (Python's or NumPy's); ``ArgumentTypeError`` naming
    ``what`` otherwise: a string such as ``"no"`` is true, and None or 1 may be a slip."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def checked_instance(value, types, what: str, described: str):
    """``value`` where it is an instance of ``types``; ``ArgumentTypeError`` otherwise, saying
    that ``what`` must be ``described`` (a string or None would fail later, deep in the work,
    with an ``AttributeError`` naming neither)."""
    if not isinstance(value, types):
        raise ArgumentTypeError(f"{what} must be {described}, got {type(value).__name__}")
    return value


def whole_number(value, what: str, least: int | None = 1) -> int:
    """``value`` as an int where it is a whole number of at least ``least`` (None: any; an
    integer, or a float or Fraction without a fraction); ``ArgumentTypeError`` naming ``what``
    where it is not a number (text, None, a bool), ``InvalidArgumentError`` where it is a
    fraction, NaN, infinite or below ``least`` (``int()`` cut fractions and raised its own errors
    on the rest)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{what} must be an integer, got {value!r}")
    if not (is_integer(value) or float(value).is_integer()) or (least is not None and value < least):
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(least, f"an integer of at least {least}")
        raise InvalidArgumentError(f"{what} must be {kind}, got {value!r}")
    return int(value)


def real_number(value, what: str) -> float:
    """``value`` as a float where it is a real number (Python's, NumPy's or a ``Fraction``, not a
    bool); ``ArgumentTypeError`` naming ``what`` otherwise (text, None, an array)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def float_array(value, what: str) -> np.ndarray:
    """``value`` as a float64 array (no copy where it is one); ``ArgumentTypeError`` naming
    ``what`` where it is not real numbers: text (NumPy reads ``"1.5"`` as a number), complex
    numbers (float64 drops their imaginary parts), ragged lists, None (NaN) or other objects.
    Objects that are real numbers (``Fraction``) are rounded to float64."""
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufO" or (arr.dtype.kind == "O" and not all(isinstance(v, numbers.Real)
                                                                                for v in arr.flat)):
            raise TypeError
        return arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        shown = repr(value)
        raise ArgumentTypeError(f"{what} must be real numbers, got "
                                f"{shown if len(shown) <= 60 else shown[:57] + '...'}") from None


def kernel_array(a, dtype) -> np.ndarray:
    """``a`` as a writable C-contiguous array of ``dtype`` (a copy only where it is not one): the
    kernels then see one array type per argument, and Numba compiles each of them once."""
    return np.require(a, dtype, ["C", "W"])


def offsets_of(counts) -> np.ndarray:
    """CSR offsets of consecutive runs of ``counts[i]`` items."""
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def per_cell_count(flags, offsets) -> np.ndarray:
    """How many of ``flags[offsets[i]:offsets[i+1]]`` are true, for every row ``i``: a sum per
    non-empty row, without a running sum as long as ``flags`` (whose fresh pages cost more than
    the sums on millions of generators)."""
    flags, offsets = np.asarray(flags), np.asarray(offsets, dtype=np.int64)
    out = np.zeros(max(len(offsets) - 1, 0), np.int64)
    if not len(out):
        return out
    if offsets[-1] > len(flags):
        raise IndexError(f"offsets reach {offsets[-1]} past the {len(flags)} flags")
    filled = offsets[1:] > offsets[:-1]
    if filled.any():
        values = flags.view(np.int8) if flags.dtype == bool else flags
        out[filled] = np.add.reduceat(values[: offsets[-1]], offsets[:-1][filled], dtype=np.int64)
    return out


def batches(n: int, size: int) -> list:
    """``(lo, hi)`` bounds of consecutive batches of at most ``size`` of ``n`` items."""
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def concat_offsets(arrays) -> np.ndarray:
    """CSR offsets of the concatenation of several CSR arrays (given by their offsets), written
    once into one array (not shifted into copies, then joined)."""
    arrays = list(arrays)
    out = np.empty(1 + sum(len(a) - 1 for a in arrays), np.int64)
    out[0] = at = base = 0
    for a in arrays:
        np.add(a[1:], base, out=out[at + 1: at + len(a)], dtype=np.int64)
        at += len(a) - 1
        base += int(a[-1])
    return out


def ranges(offsets, index):
    """Concatenated ranges ``offsets[i]:offsets[i+1]`` for ``i`` in ``index``, and their CSR
    offsets: ``(selection, new offsets)``."""
    starts = offsets[index]
    lengths = offsets[index + 1] - starts
    new_off = offsets_of(lengths)
    sel = np.repeat(starts - new_off[:-1], lengths) + np.arange(new_off[-1])
    return sel, new_off


def pattern_order(packed) -> np.ndarray:
    """The stable order of the packed pattern rows ``packed`` (uint8, shape ``(n, m)``) by their
    bytes, the first most significant: the regions' order (the first unit first, on after off).
    Rows of at most eight bytes are compared as one unsigned integer each (big-endian, padded
    with zeros, which orders them as their bytes do): on r4_small's 318,765 rows of six bytes
    14 ms against 50 for comparing the bytes themselves. Rows of nine to sixteen bytes are
    compared as two such integers (``np.lexsort``: r3_small's 90,020 rows of twelve bytes in
    13-14 ms against 22-23). Longer rows are compared as bytes (word after word was slower:
    r2_big's 96 bytes 84 ms against 51-54, r2_wide's 64 bytes 44-51 against 36-38)."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    n, m = packed.shape
    if m == 0:
        return np.arange(n)
    if m <= 16:
        words = np.zeros((n, 8 if m <= 8 else 16), np.uint8)
        words[:, :m] = packed
        keys = words.view(">u8").astype(np.uint64)
        if m <= 8:
            return np.argsort(keys.ravel(), kind="stable")
        return np.lexsort((keys[:, 1], keys[:, 0]))
    return np.argsort(packed.view(f"V{m}").ravel(), kind="stable")


def run_starts(values) -> np.ndarray:
    """Where each run of equal consecutive entries (or rows, for a 2-D array) of ``values``
    starts, as a boolean mask; empty for empty ``values``."""
    values = np.asarray(values)
    if not len(values):
        return np.zeros(0, bool)
    differs = values[1:] != values[:-1]
    return np.r_[True, differs.any(axis=1) if differs.ndim > 1 else differs]


def distinct_sorted(values) -> np.ndarray:
    """The distinct entries of the 1-D ``values``, in increasing order: ``np.unique(values)`` by
    a sort. NumPy 2.4's ``np.unique`` finds distinct integers by hashing, which on a million
    distinct 64-bit values took 0.7 s against 0.016 s for the sort."""
    values = np.sort(values)
    return values[run_starts(values)]


def _segment(packed: np.ndarray, offset: int, width: int):
    """The bytes ``b0:b1`` of the packed patterns holding bits ``offset .. offset + width - 1``,
    unpacked, and where those bits start in them."""
    b0, b1 = offset // 8, (offset + width + 7) // 8
    return b0, b1, np.unpackbits(packed[:, b0:b1], axis=1), offset - 8 * b0


def set_bits(packed: np.ndarray, offset: int, bits: np.ndarray) -> None:
    """Write ``bits`` (``(n, w)`` bool) into the packed patterns at bit ``offset``, in place."""
    w = bits.shape[1]
    b0, b1, seg, s = _segment(packed, offset, w)
    seg[:, s: s + w] = bits
    packed[:, b0:b1] = np.packbits(seg, axis=1)


def get_bits(packed: np.ndarray, offset: int, width: int) -> np.ndarray:
    """The ``width`` bits of the packed patterns from bit ``offset`` (``(n, width)`` bool, C order):
    what :func:`set_bits` wrote."""
    _, _, seg, s = _segment(packed, offset, width)
    return np.ascontiguousarray(seg[:, s: s + width]).view(bool)


#: Rows of packed patterns unpacked per block, in threads on idle cores (:func:`unpack_bits`).
_UNPACK_BLOCK = 8192


def unpack_bits(packed: np.ndarray, n_units: int) -> np.ndarray:
    """Packed patterns back to a bool array ``(..., n_units)``. Many rows are unpacked in blocks
    shared out among threads on idle cores: the cost is filling fresh memory (eight times the
    packed size), and on two cores page faults proceed side by side (180,000 random patterns of
    640 units in a fresh process: 0.19 s against 0.37 s)."""
    if packed.ndim != 2 or len(packed) < 2 * _UNPACK_BLOCK:
        return np.unpackbits(packed, axis=-1, count=n_units).view(bool)
    out = np.empty((len(packed), n_units), bool)

    def block(bounds):
        lo, hi = bounds
        out[lo:hi] = np.unpackbits(packed[lo:hi], axis=-1, count=n_units).view(bool)

    map_in_threads(block, batches(len(packed), _UNPACK_BLOCK))
    return out
