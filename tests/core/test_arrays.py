"""Array helpers: counts per CSR row; patterns unpacked."""
import itertools

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


@pytest.mark.parametrize("width", [0, 1, 3, 6, 8, 9, 12, 16, 17])
def test_patterns_are_ordered_by_their_bytes_and_stably(width):
    """Rows of up to eight bytes are ordered as integers, up to sixteen as pairs of integers,
    longer ones as bytes: each way the order is that of Python's sorting of the rows' bytes
    (the first most significant), ties in their original order. Few distinct byte values make
    many ties and rows equal up to the last byte."""
    from regionenum.core.arrays import pattern_order
    rng = np.random.default_rng(width)
    packed = rng.choice(np.array([0, 1, 128, 255], np.uint8), size=(500, width))
    expected = sorted(range(len(packed)), key=lambda i: (packed[i].tobytes(), i))
    assert pattern_order(packed).tolist() == expected
    assert pattern_order(packed[:0]).tolist() == []


def test_flags_are_bools_only():
    """The string "no" is true, so a flag given as text was taken as True; None and 1 are
    refused too. Checked where flags are taken: the runs' certify, certify's check_volume,
    unroll's all_states, trajectory_regions' closed."""
    import regionenum as rn
    from regionenum.core.arrays import checked_flag
    assert checked_flag(True, "x") is True and checked_flag(np.bool_(False), "x") is False
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    step = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.eye(2), np.zeros(2))])
    for bad in ("no", None, 1):
        with pytest.raises(rn.ArgumentTypeError, match="x must be True or False"):
            checked_flag(bad, "x")
        with pytest.raises(rn.ArgumentTypeError, match="check_volume must be True or False"):
            rn.certify(regions, check_volume=bad)
        with pytest.raises(rn.ArgumentTypeError, match="all_states must be True or False"):
            rn.verify.unroll(step, 2, all_states=bad)
        with pytest.raises(rn.ArgumentTypeError, match="closed must be True or False"):
            rn.estimators.trajectory_regions(net, [[0, 0], [1, 1]], closed=bad)


@pytest.mark.parametrize("values", [np.random.default_rng(3).integers(0, 50, 1000),
                                    np.random.default_rng(3).integers(-10**15, 10**15, 5000),
                                    np.random.default_rng(3).normal(size=300).round(1),
                                    np.zeros(0, np.int64)], ids=["few", "many", "floats", "empty"])
def test_distinct_sorted_is_numpys_unique(values):
    from regionenum.core.arrays import distinct_sorted
    out = distinct_sorted(values)
    assert out.dtype == values.dtype and np.array_equal(out, np.unique(values))


def test_labels_are_renumbered_by_first_occurrence():
    from regionenum.analysis.faces import renumber_by_first
    labels = np.array([7, 3, 7, 0, 3, 9, 0], np.int32)
    assert renumber_by_first(labels).tolist() == [0, 1, 0, 2, 1, 3, 2]
    assert renumber_by_first(labels[:0]).tolist() == []


def test_concat_offsets_of_parts_of_any_kind():
    """CSR offsets of parts one after another, in int64 whatever the parts' integer type (int32
    offsets whose total passes 2^31 do not wrap), from lists, tuples or a generator, with parts
    of no items."""
    from regionenum.core.arrays import concat_offsets
    parts = [np.array([0, 2, 5]), np.array([0]), np.array([0, 1])]
    for given in (parts, tuple(parts), (p for p in parts)):
        out = concat_offsets(given)
        assert out.dtype == np.int64 and out.tolist() == [0, 2, 5, 6]
    big = concat_offsets([np.array([0, 2 ** 31 - 1], np.int32), np.array([0, 5], np.int32)])
    assert big.dtype == np.int64 and big.tolist() == [0, 2 ** 31 - 1, 2 ** 31 + 4]
    assert concat_offsets([np.array([0, 3])]).tolist() == [0, 3]
