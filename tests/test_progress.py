"""The progress report the command line shows: silent off a terminal, a tqdm bar or a plain
line otherwise, each with the share of the domain done, the time left once it can be told, and
a legend for its fields."""
import builtins
import io

import pytest

import regionenum as rn
from regionenum.progress import LEGEND, ProgressBar, describe, time_left
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.fixture(scope="module")
def net():
    return random_net([2, 32, 32, 1], 5)


def _progress(**fields):
    base = dict(regions=0, pending_cells=0, layer=0, elapsed=0.0, exact_calls=0, done=None)
    return rn.Progress(**{**base, **fields})


def test_silent_off_a_terminal_but_keeps_the_last_report(net):
    quiet = io.StringIO()
    with ProgressBar(file=quiet) as bar:  # not a terminal: silent
        n = rn.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert quiet.getvalue() == ""
    assert bar.last.regions == int(n) and bar.last.done == pytest.approx(1.0)


def test_tqdm_bar_with_legend_and_fields(net):
    pytest.importorskip("tqdm")
    shown = io.StringIO()
    with ProgressBar(file=shown, enabled=True, min_interval=0.0) as bar:
        n = rn.count_regions(net, BOX2, batch_size=64, progress=bar)
    text = shown.getvalue()
    assert text.count(LEGEND) == 1 and text.startswith(LEGEND)  # explained once, above the bar
    last = text.rstrip().split("\r")[-1]
    assert f"100.0% done | {int(n):,} regions | " in last and "cells waiting" in last and "exact" in last


def test_plain_line_without_tqdm(net, monkeypatch):
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    plain = io.StringIO()
    with ProgressBar(file=plain, enabled=True, min_interval=0.0) as bar:
        n = rn.count_regions(net, BOX2, batch_size=64, progress=bar)
    text = plain.getvalue()
    assert text.startswith(LEGEND + "\n") and text.endswith("\n")
    assert f"100.0% done | {int(n):,} regions" in text.split("\r")[-1]


def test_time_left_only_once_it_can_be_told():
    assert time_left(_progress(elapsed=10.0, done=None)) is None  # the engine gives no share
    assert time_left(_progress(elapsed=10.0, done=0.001)) is None  # too little done to say
    assert time_left(_progress(elapsed=0.5, done=0.5)) is None  # too early
    assert time_left(_progress(elapsed=30.0, done=0.75)) == pytest.approx(10.0)
    line = describe(_progress(regions=12345, pending_cells=7, layer=3, elapsed=120.0, exact_calls=2, done=0.2))
    assert line == "20.0% done | 12,345 regions | layer 3 | 7 cells waiting | 2 exact | 120.0 s, ~8 min left"
    assert describe(_progress(regions=5, elapsed=2.0)).startswith("5 regions | layer 0")  # no share: no %
