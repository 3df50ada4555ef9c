"""The C heap's handling of freed memory: kept for reuse during runs, handed back before a
result's large arrays; NumPy's arrays on small pages where free memory is reported."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import regionenum as rn
from regionenum.core import memory
from regionenum.engine import driver

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")


def _in_fresh_process(code: str, unset) -> str:
    """The standard output of the Python lines ``code`` (dedented) run in a fresh process, whose
    environment lacks the variables ``unset(name)`` picks (the caller's own memory settings)."""
    env = {k: v for k, v in os.environ.items() if not unset(k)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          check=True, env=env).stdout


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@linux_only
def test_freed_batches_go_back_to_the_system():
    """Arrays of tens of kilobytes (as a run's batches are) live in the C heap, which keeps
    them when they are freed between arrays still in use (here a small one after each);
    release_free_memory gives that memory back (where glibc can)."""
    if memory._libc_function("malloc_trim") is None:
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


@linux_only
@pytest.mark.parametrize("keep", [False, True])
def test_kept_memory_stays_with_the_process(keep):
    """In a fresh process: a freed 16 MB array goes back to the system under glibc's own
    settings (it was mapped on its own), and stays in the heap for the next one after
    keep_freed_memory, which reports that it made its settings. Where the C library is not
    glibc it reports that it did nothing."""
    stdout = _in_fresh_process(f"""
        import numpy as np
        from regionenum.core import memory
        def resident():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096 / 2**20
        if memory._libc_function("mallopt") is None:
            print("no mallopt", memory.keep_freed_memory())
            raise SystemExit
        made = memory.keep_freed_memory() if {keep} else None
        a = np.ones(2 << 20)
        full = resident()
        del a
        print("freed", full - resident(), made)
    """, lambda name: name.startswith("MALLOC_") or name == "GLIBC_TUNABLES")
    words = stdout.split()
    if words[0] == "no":
        assert words[-1] == "False"
        return
    given_back, made = float(words[1]), words[2]
    if keep:
        assert made == "True" and given_back < 4, stdout
    else:
        assert given_back > 12, stdout


def _recorded_mallopt(monkeypatch):
    """``memory._libc_function`` with a ``mallopt`` that records its calls (and accepts them)."""
    calls = []

    def mallopt(param, value):
        calls.append((param, value))
        return 1

    monkeypatch.setattr(memory, "_libc_function", lambda name: mallopt if name == "mallopt" else None)
    monkeypatch.setattr(memory, "keep_freed_memory", memory.keep_freed_memory.__wrapped__)
    return calls


def test_the_settings_are_the_heaps_thresholds(monkeypatch):
    for name in (*memory.MALLOC_VARIABLES, "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    calls = _recorded_mallopt(monkeypatch)
    assert memory.keep_freed_memory()
    assert calls == [(-3, memory.MMAP_THRESHOLD), (-1, memory.TRIM_THRESHOLD)]
    assert memory.MMAP_THRESHOLD == 32 << 20  # glibc refuses more on 64-bit systems


@pytest.mark.parametrize("name, value", [("MALLOC_TRIM_THRESHOLD_", "1000000"),
                                         ("MALLOC_MMAP_THRESHOLD_", "65536"), ("MALLOC_TOP_PAD_", "0"),
                                         ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000")])
def test_a_callers_own_malloc_settings_are_left_alone(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    calls = _recorded_mallopt(monkeypatch)
    assert not memory.keep_freed_memory()
    assert calls == []


def test_other_tunables_do_not_count_as_malloc_settings(monkeypatch):
    for name in memory.MALLOC_VARIABLES:  # (a Dask cluster started from this process sets one)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F")
    calls = _recorded_mallopt(monkeypatch)
    assert memory.keep_freed_memory() and len(calls) == 2


def test_a_run_makes_the_memory_settings(monkeypatch):
    """The driver makes both settings at the start of every run (once per process: cached)."""
    runs = []
    monkeypatch.setattr(driver, "keep_freed_memory", lambda: runs.append("heap"))
    monkeypatch.setattr(driver, "small_pages_where_freed_memory_is_reported", lambda: runs.append("pages"))
    net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    assert rn.count_regions(net, rn.Box([-1, -1], [1, 1])) == 4
    assert runs == ["heap", "pages"]


def _virtio_devices(root, *devices):
    """A directory laid out as Linux's list of virtio devices: ``(device id, feature string)``
    per device, None for a device whose files cannot be read."""
    for i, device in enumerate(devices):
        folder = root / f"virtio{i}"
        folder.mkdir()
        if device is not None:
            (folder / "device").write_text(device[0] + "\n")
            (folder / "features").write_text(device[1] + "\n")
    return root


BLOCK = ("0x0002", "1" * 64)
BALLOON_REPORTING = ("0x0005", "0110010100" + "0" * 54)
BALLOON_SILENT = ("0x0005", "0110000100" + "0" * 54)


@pytest.mark.parametrize("devices, reported", [
    ((BLOCK, BALLOON_REPORTING), True),
    ((None, BALLOON_REPORTING), True),  # an unreadable device is passed over
    ((BLOCK, BALLOON_SILENT), False),  # a balloon without free page reporting
    ((BLOCK,), False),  # every bit set, but not a balloon
    ((("0x0005", "0110"),), False),  # a feature string too short to have the bit
    ((), False),
])
def test_free_page_reporting_is_read_from_the_virtio_devices(tmp_path, devices, reported):
    assert memory.free_memory_is_reported(_virtio_devices(tmp_path, *devices)) is reported


def test_no_virtio_devices_means_no_reporting(tmp_path):
    assert not memory.free_memory_is_reported(tmp_path / "missing")


def test_numpys_huge_page_switch_is_found():
    """This NumPy has the switch (it returns the setting it replaces)."""
    switch = memory._numpy_hugepage_switch()
    if switch is None:
        pytest.skip("this NumPy has no switch for its huge page requests")
    before = switch(True)
    assert switch(before) is True


def _recorded_hugepage_switch(monkeypatch, reported):
    """NumPy's huge page switch recorded, on a machine that does (or does not) report free memory."""
    calls = []
    monkeypatch.setattr(memory, "_numpy_hugepage_switch", lambda: calls.append)
    monkeypatch.setattr(memory, "free_memory_is_reported", lambda: reported)
    monkeypatch.setattr(memory, "small_pages_where_freed_memory_is_reported",
                        memory.small_pages_where_freed_memory_is_reported.__wrapped__)
    return calls


@pytest.mark.parametrize("reported", [True, False])
def test_huge_pages_are_turned_off_only_where_free_memory_is_reported(monkeypatch, reported):
    monkeypatch.delenv(memory.NUMPY_HUGEPAGE_VARIABLE, raising=False)
    calls = _recorded_hugepage_switch(monkeypatch, reported)
    assert memory.small_pages_where_freed_memory_is_reported() is reported
    assert calls == ([False] if reported else [])


@pytest.mark.parametrize("value", ["1", "0"])
def test_numpys_own_huge_page_setting_is_left_alone(monkeypatch, value):
    monkeypatch.setenv(memory.NUMPY_HUGEPAGE_VARIABLE, value)
    calls = _recorded_hugepage_switch(monkeypatch, True)
    assert not memory.small_pages_where_freed_memory_is_reported()
    assert calls == []


def _huge_pages_mode() -> str:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return "unknown"


@linux_only
@pytest.mark.skipif(_huge_pages_mode() != "madvise", reason="huge pages are not given on NumPy's request")
@pytest.mark.parametrize("small", [False, True])
def test_a_large_array_gets_small_pages_once_turned_off(small):
    """In a fresh process, on a kernel that gives transparent huge pages where asked: a filled
    64 MB array (in its own mappings) has huge pages under NumPy's default, none after the setting
    (made here as on a machine that reports free memory)."""
    stdout = _in_fresh_process(f"""
        import numpy as np
        from regionenum.core import memory
        memory.free_memory_is_reported = lambda: True
        made = memory.small_pages_where_freed_memory_is_reported() if {small} else None
        a = np.ones(8 << 20)
        first, last = a.ctypes.data, a.ctypes.data + a.nbytes
        huge, inside = 0, False
        with open("/proc/self/smaps") as f:  # the mappings the array lies in (madvise splits them)
            for line in f:
                words = line.split()
                if "-" in words[0] and ":" not in words[0]:
                    start, end = (int(x, 16) for x in words[0].split("-"))
                    inside = start < last and end > first
                elif inside and words[0] == "AnonHugePages:":
                    huge += int(words[1])
        print(huge, made)
    """, lambda name: name == memory.NUMPY_HUGEPAGE_VARIABLE)
    huge_kb, made = stdout.split()
    if small:
        assert made == "True" and int(huge_kb) == 0, stdout
    elif int(huge_kb) == 0:
        pytest.skip("the kernel had no huge page to give")
    else:
        assert int(huge_kb) >= 2048
