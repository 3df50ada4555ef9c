"""Exact integer matrix products as residues modulo small primes, computed by float64 BLAS.

An integer of absolute value at most ``B`` is known exactly from its residues modulo primes whose
product ``P`` exceeds ``2 B`` (the Chinese remainder theorem, with the representative in
``(-P/2, P/2]``). A product ``H @ M`` of an integer matrix ``H`` (a layer, exactly: its float64
entries times a power of two) with an integer matrix ``M`` known by its residues is computed as
follows: ``H`` is cut into pieces ``H = sum_i H_i 2**(b i)`` with ``|H_i| < 2**b``, and each
piece times the residues of every prime at once is one float64 matrix product. With primes below
``2**k`` and dot products of ``T`` terms, ``2**b 2**k T <= 2**52`` keeps every product and every
partial sum an integer below ``2**52``, so BLAS computes them without rounding, in any order,
fused or not. Only the rows a question reads are brought back to Python integers.

Residue arrays carry the primes on their last axis: ``(..., K)``, float64 holding integers of
absolute value below ``p`` (any representative will do: the bounds above hold for them all).
"""
from __future__ import annotations

from operator import mul

import numpy as np

__all__ = ["PiecedMatrix", "ResidueSystem", "dyadic_parts", "dyadic_shift"]


def dyadic_parts(values) -> tuple[np.ndarray, np.ndarray]:
    """Every float64 of ``values`` as ``odd * 2**exp``: int64 arrays ``odd`` (odd, or 0 for a
    zero, ``|odd| < 2**53``) and ``exp`` (0 for a zero). Finite values only."""
    frac, e = np.frexp(np.asarray(values, dtype=np.float64))
    mant = np.ldexp(frac, 53).astype(np.int64)  # value == mant * 2**(e - 53), exactly
    exp = e.astype(np.int64) - 53
    nonzero = mant != 0
    low = np.where(nonzero, mant & -mant, 1)  # the lowest set bit, a power of two
    zeros = np.frexp(low.astype(np.float64))[1].astype(np.int64) - 1
    return mant >> zeros, np.where(nonzero, exp + zeros, 0)


def dyadic_shift(odd: np.ndarray, exp: np.ndarray) -> int:
    """The least ``s >= 0`` with every ``odd * 2**(exp + s)`` an integer."""
    nonzero = odd != 0
    return int(max(0, -exp[nonzero].min())) if nonzero.any() else 0


def _primes_below(limit: int):
    """The primes below ``limit`` (at most ``2**26``), largest first, by trial division."""
    small = [q for q in range(2, int(limit ** 0.5) + 2) if all(q % r for r in range(2, int(q ** 0.5) + 1))]
    for n in range(limit - 1, 2, -1):
        if all(n % q for q in small if q * q <= n):
            yield n


class ResidueSystem:
    """Primes whose product exceeds ``2**(bits + 1)``, for products whose dot products have up
    to ``terms`` terms, and the conversions to and from residues.

    Parameters
    ----------
    bits : int
        Every integer to be reconstructed has absolute value below ``2**bits``.
    terms : int
        The longest dot product (a matrix's column count) the products will take.
    """

    def __init__(self, bits: int, terms: int):
        if terms < 1 or bits < 1:
            raise ValueError(f"bits and terms must be positive, got {bits} and {terms}")
        #: the longest dot product of a piece and residues that stays exact
        self.terms = terms
        budget = 52 - max(terms - 1, 1).bit_length()  # bits left for a piece times a residue
        if budget < 16:
            raise ValueError(f"dot products of {terms} terms are too long for float64 residues")
        k = min(24, budget // 2)
        #: bits of a matrix piece: ``|piece| < 2**piece_bits`` and residues ``< 2**k``
        self.piece_bits = budget - k
        #: how many products of two residues may be added before a sum could reach ``2**52``
        self.summable = 1 << (52 - 2 * k)
        primes, modulus = [], 1
        for p in _primes_below(1 << k):
            primes.append(p)
            modulus *= p
            if modulus > 1 << (bits + 1):
                break
        else:
            raise ValueError(f"the primes below 2**{k} do not reach 2**{bits + 1}: integers too large "
                             f"for dot products of {terms} terms")
        self.primes = primes
        self.modulus = modulus
        self._p = np.array(primes, dtype=np.float64)
        self._inv = 1.0 / self._p
        self._crt = {}  # number of primes used -> (c_i, their product, half of it)

    @property
    def count(self) -> int:
        """How many primes (the last axis of every residue array)."""
        return len(self.primes)

    def reduce(self, x: np.ndarray) -> np.ndarray:
        """A residue of ``x`` per prime (last axis) of absolute value below ``p`` (about ``p / 2``:
        the nearest multiple of ``p`` is taken away, give or take one), for float arrays of
        integers ``|x| < 2**52``: every step is exact."""
        q = x * self._inv
        np.rint(q, out=q)
        q *= self._p
        return np.subtract(x, q, out=q)

    def powers_of_two(self, exponents) -> np.ndarray:
        """``2**e mod p`` for each of the non-negative ``exponents``: ``(len, K)`` float64."""
        return np.array([[pow(2, int(e), p) for p in self.primes] for e in exponents], dtype=np.float64)

    def of_ints(self, values) -> np.ndarray:
        """Residues of Python integers (any size): ``shape + (K,)``."""
        arr = np.asarray(values, dtype=object)
        flat = arr.ravel().tolist()
        out = np.array([[int(v) % p for p in self.primes] for v in flat], dtype=np.float64)
        return out.reshape(arr.shape + (self.count,))

    def primes_for(self, bits: int) -> int:
        """How many of the primes (the first ones) reconstruct integers below ``2**bits``."""
        modulus = 1
        for i, p in enumerate(self.primes):
            modulus *= p
            if modulus > 1 << (bits + 1):
                return i + 1
        return self.count

    def to_ints(self, r: np.ndarray, count: int | None = None) -> np.ndarray:
        """The integers (object array of shape ``r.shape[:-1]``) with residues ``r``, each the
        representative of absolute value at most ``P / 2``, ``P`` the product of the first
        ``count`` primes (all by default; fewer suffice for smaller integers, see
        :meth:`primes_for`)."""
        count = self.count if count is None else count
        if count not in self._crt:  # x = sum r_i c_i mod P, c_i = (P / p_i) ((P / p_i)^-1 mod p_i)
            modulus = 1
            for p in self.primes[:count]:
                modulus *= p
            self._crt[count] = ([(modulus // p) * pow(modulus // p, -1, p) for p in self.primes[:count]],
                                modulus, modulus // 2)
        coeffs, modulus, half = self._crt[count]
        per_entry = r[..., :count].reshape(-1, count).astype(np.int64).tolist()
        out = np.empty(len(per_entry), dtype=object)
        for i, rs in enumerate(per_entry):
            x = sum(map(mul, rs, coeffs)) % modulus
            out[i] = x - modulus if x > half else x
        return out.reshape(r.shape[:-1])


class PiecedMatrix:
    """The integer matrix ``odd * 2**exp`` (int64 arrays from :func:`dyadic_parts`, ``exp`` raised
    by a shift that makes every entry an integer) cut into pieces of
    :attr:`ResidueSystem.piece_bits` bits, for exact products with residues."""

    def __init__(self, odd: np.ndarray, exp: np.ndarray, system: ResidueSystem):
        self.system = system
        if np.any(exp[odd != 0] < 0):
            raise ValueError("odd * 2**exp are not all integers")
        b = system.piece_bits
        n = max(1, -(-(int(exp.max(initial=0)) + 53) // b))
        magnitude, sign = np.abs(odd).astype(np.uint64), np.sign(odd).astype(np.float64)
        low = np.uint64((1 << b) - 1)
        pieces = np.empty((n,) + odd.shape)
        for i in range(n):
            s = exp - b * i  # piece i holds bits [b i, b (i + 1)) of |odd| 2**exp, |odd| < 2**53
            # the low b bits of |odd| 2**s: an unsigned left shift past 64 bits keeps them, a
            # right shift of 63 or more leaves none
            up = np.left_shift(magnitude, np.clip(s, 0, b).astype(np.uint64))
            down = np.right_shift(magnitude, np.clip(-s, 0, 63).astype(np.uint64))
            y = np.where(s >= b, np.uint64(0), np.where(s >= 0, up, down) & low)
            pieces[i] = y.astype(np.float64) * sign
        keep = [i for i in range(n) if pieces[i].any()] or [0]
        self._pieces = np.ascontiguousarray(pieces[keep])
        self._scales = system.powers_of_two([b * i for i in keep])  # (pieces, K)

    def row_times(self, j: int, m: np.ndarray) -> np.ndarray:
        """Residues of row ``j`` of ``self @ M`` from the residues ``(n, q, K)`` of ``M``: ``(q, K)``
        (one product per piece, as in :meth:`times`)."""
        n, q, k = m.shape
        parts = (self._pieces[:, j] @ m.reshape(n, q * k)).reshape(-1, q, k)
        return self._sum(self.system.reduce(parts) * self._scales[:, None, :])

    def times(self, m: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
        """Residues of ``self @ M`` from the residues ``(n, q, K)`` of ``M``: ``(rows, q, K)``
        (``columns``: of ``self[:, columns] @ M`` instead, ``M`` with a row per column)."""
        n, q, k = m.shape
        pieces = self._pieces if columns is None else self._pieces[:, :, columns]
        live = np.flatnonzero(m.reshape(n, q * k).any(axis=1))
        if len(live) < 0.75 * n:  # rows of M that are zero (units off on the cell) add nothing
            pieces, m, n = pieces[:, :, live], m[live], len(live)
        count, n_out = pieces.shape[:2]
        if count * n <= self.system.terms:
            # few rows of M (an update, see ExactNetwork._product): M times 2**(b i) mod p per
            # piece first, then one product of count * n terms, within the system's budget
            scaled = self.system.reduce(m[None] * self._scales[:, None, None, :])
            flat = pieces.transpose(1, 0, 2).reshape(n_out, count * n)
            return self.system.reduce((flat @ scaled.reshape(count * n, q * k)).reshape(n_out, q, k))
        # every piece in one product; each reduced product times 2**(b i) mod p is below
        # 2**(2k), so :attr:`ResidueSystem.summable` of them add up exactly
        parts = (pieces.reshape(count * n_out, n) @ m.reshape(n, q * k)).reshape(count, n_out, q, k)
        return self._sum(self.system.reduce(parts) * self._scales[:, None, None, :])

    def _sum(self, parts: np.ndarray) -> np.ndarray:
        """The reduced sum over the first axis of products of two residues (each below
        ``2**(2k)``), :attr:`ResidueSystem.summable` at a time."""
        step = self.system.summable
        total = self.system.reduce(parts[:step].sum(axis=0))
        for lo in range(step, len(parts), step - 1):  # the running total and step - 1 more parts
            total = self.system.reduce(total + parts[lo: lo + step - 1].sum(axis=0))
        return total
