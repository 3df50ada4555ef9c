"""Whether a symmetric matrix has a float64 Cholesky factor: LAPACK's ``dpotrf``, the routine behind
``numpy.linalg.cholesky``, called directly where NumPy's LAPACK can be found.

The norm certificates (:mod:`~regionenum.core.norm_bounds`) need only whether the factorisation
runs to completion, not the factor. ``numpy.linalg.cholesky`` copies its argument into column
order, factors it, zeroes the other triangle and copies the factor back: on a 512 x 512 matrix
that took 3.9 ms where the factorisation itself, by the same library, took 1.8 ms
(``benchmarks/README.md``, "The first call's certificates"), and a first count on a network of
seven such layers factors each at least once. So where NumPy ships its LAPACK as a library of its
own (the OpenBLAS of NumPy's wheels, ``numpy.libs`` or ``numpy/.dylibs``) this module calls its
``dpotrf`` with :mod:`ctypes` on the matrix as it is. It checks the binding once, on two small
matrices with known answers; where there is no such library or the check fails it falls back on
``numpy.linalg.cholesky``. Either way the routine and its rounding are LAPACK's.

A symmetric matrix's entries in row order are its entries in column order, so the matrix needs
no copy; the routine reads one triangle and overwrites it.
"""
from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from .threads import loaded_blas_files

__all__ = ["has_cholesky_factor"]

#: The names NumPy's builds give LAPACK's Cholesky factorisation, with the width of their integer
#: arguments: OpenBLAS with 64-bit integers, prefixed by NumPy's wheels or not, then 32-bit.
SYMBOLS = (("scipy_dpotrf_64_", ctypes.c_int64), ("dpotrf_64_", ctypes.c_int64),
           ("scipy_dpotrf_", ctypes.c_int32), ("dpotrf_", ctypes.c_int32))


def has_cholesky_factor(B: np.ndarray) -> bool:
    """Whether LAPACK's Cholesky factorisation of the symmetric matrix ``B`` runs to completion in
    float64 (every pivot positive), as ``numpy.linalg.cholesky`` would; ``B`` is overwritten.
    Like NumPy's, it may run to completion on entries that are not finite: callers check them.

    Parameters
    ----------
    B : ndarray, shape (k, k)
        Symmetric, float64, C- or Fortran-contiguous and writeable.
    """
    if B.dtype != np.float64 or B.ndim != 2 or B.shape[0] != B.shape[1]:
        raise ValueError(f"B must be a square float64 matrix, got {B.dtype} {B.shape}")
    if not (B.flags.c_contiguous or B.flags.f_contiguous) or not B.flags.writeable:
        raise ValueError("B must be contiguous and writeable")
    potrf = _numpy_potrf()
    if potrf is None:
        try:
            np.linalg.cholesky(B)
        except np.linalg.LinAlgError:  # a pivot not positive
            return False
        return True
    return potrf(B) == 0


def _call(function, integer, B: np.ndarray) -> int:
    """LAPACK's ``info`` for ``function`` (``dpotrf``) on ``B``'s lower triangle, in place."""
    n, info = integer(B.shape[0]), integer(0)
    function(b"L", ctypes.byref(n), B.ctypes.data_as(ctypes.c_void_p), ctypes.byref(n), ctypes.byref(info),
             ctypes.c_size_t(1))  # the length of the character argument, for Fortran's calling convention
    return int(info.value)


@functools.cache
def _numpy_potrf():
    """A function of ``B`` returning ``dpotrf``'s ``info``, bound to NumPy's own LAPACK library,
    or None where none is found that gives the right factors of two small matrices."""
    here = Path(np.__file__).resolve().parent
    found = [path for folder in (here.parent / "numpy.libs", here / ".dylibs", here / ".libs") if folder.is_dir()
             for path in sorted(folder.glob("*openblas*"))]
    try:
        loaded = loaded_blas_files()
    except Exception:  # noqa: BLE001 (only a preference: without the list every library found is tried)
        loaded = set()
    if any(path.resolve() in loaded for path in found):  # the one NumPy has loaded, not another left there
        found = [path for path in found if path.resolve() in loaded]
    for path in found:
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            continue
        for name, integer in SYMBOLS:
            function = getattr(library, name, None)
            if function is not None and _works(function, integer):
                return functools.partial(_call, function, integer)
    return None


def _works(function, integer) -> bool:
    """Whether ``function`` factors ``[[4, 2], [2, 5]]`` into ``[[2, 0], [1, 2]]`` (in column order:
    the upper triangle of the row-ordered array) and stops at the second pivot of ``[[1, 2], [2,
    1]]``, as ``dpotrf`` with ``integer`` arguments does."""
    good, bad = np.array([[4.0, 2.0], [2.0, 5.0]]), np.array([[1.0, 2.0], [2.0, 1.0]])
    try:
        if _call(function, integer, good) != 0 or _call(function, integer, bad) != 2:
            return False
    except (OSError, ValueError):
        return False
    return bool(np.array_equal(np.triu(good), [[2.0, 1.0], [0.0, 2.0]]))
