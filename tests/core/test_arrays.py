"""Array helpers: counts per CSR row; patterns unpacked; handing freed memory back to the operating system."""
import itertools
import sys

import numpy as np
import pytest


def test_per_cell_count_counts_each_row_and_refuses_offsets_past_the_flags():
    """Counts of true flags per CSR row against a loop: empty rows anywhere, offsets not starting
    at 0, flags beyond the last row, integer flags; no rows at all gives none; offsets beyond
    the flags are an error, not a short count."""
    from regionenum.core.arrays import per_cell_count
    rng = np.random.default_rng(4)
    for _ in range(200):
        lengths = rng.integers(0, 4, rng.integers(0, 12))
        offsets = rng.integers(0, 3) + np.concatenate([[0], np.cumsum(lengths)])
        flags = rng.random(offsets[-1] + rng.integers(0, 3)) < 0.5
        expected = [int(flags[a:b].sum()) for a, b in itertools.pairwise(offsets)]
        assert per_cell_count(flags, offsets).tolist() == expected
        assert per_cell_count(flags.astype(np.int64), offsets).tolist() == expected
    assert per_cell_count(np.zeros(0, bool), np.zeros(0, np.int64)).tolist() == []
    assert per_cell_count(np.zeros(0, bool), np.zeros(1, np.int64)).tolist() == []
    with pytest.raises(IndexError):
        per_cell_count(np.ones(3, bool), np.array([0, 2, 5]))


@pytest.mark.parametrize("block", [7, 64, 8192])
def test_patterns_unpacked_in_blocks_are_the_same_as_at_once(monkeypatch, block):
    """Many packed patterns are unpacked a block of rows at a time, in threads: the same bits as
    unpacking them at once, whatever the block size, the last block short, the unit count not a
    multiple of eight."""
    from regionenum.core import arrays
    rng = np.random.default_rng(2)
    packed = rng.integers(0, 256, size=(1001, 5), dtype=np.uint8)
    whole = np.unpackbits(packed, axis=-1)[:, :37].astype(bool)
    monkeypatch.setattr(arrays, "_UNPACK_BLOCK", block)
    out = arrays.unpack_bits(packed, 37)
    assert out.dtype == bool and out.flags.c_contiguous and np.array_equal(out, whole)
    assert np.array_equal(arrays.unpack_bits(packed[:3], 37), whole[:3])


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_freed_batches_go_back_to_the_system():
    """Arrays of tens of kilobytes (as a run's batches are) live in the C heap, which keeps
    them when they are freed between arrays still in use (here a small one after each);
    release_free_memory gives that memory back (where glibc can)."""
    from regionenum.core import memory
    if memory._malloc_trim() is None:
        pytest.skip("the C library has no malloc_trim")
    held, pins = [], []
    for _ in range(8000):  # 64 KB each, 500 MB in all
        held.append(np.ones(8192))
        pins.append(np.ones(64))
    full = _resident_mb()
    del held
    kept = _resident_mb()
    if kept < full - 100:
        pytest.skip("this C library returned the memory when it was freed")
    memory.release_free_memory()
    assert _resident_mb() < kept - 300, (full, kept, _resident_mb())
