"""Progress reports for long runs, for the ``progress=`` argument of the engine.

:class:`ProgressBar` shows how far a run is: the share of the domain done (with a bar, when the
engine can tell), an estimate of the time left, the regions found, the layer just cut, the
cells waiting on the stack to be cut and the signs settled exactly. It draws a tqdm bar on
standard error when tqdm is installed (the ``progress`` extra) and a plain line otherwise, and
explains its fields once, above the bar. ``enabled=None`` (the default) reports only when the
file is a terminal; ``True`` always, ``False`` never.
"""
from __future__ import annotations

import os
import sys
import time

__all__ = ["LEGEND", "ProgressBar", "describe", "time_left"]

#: What the fields of the progress line mean (shown once, above it).
LEGEND = ("progress: share of the domain done | regions found | layer just cut | cells waiting "
          "on the stack to be cut | signs settled exactly | time left (estimated from the share done)")

#: No estimate of the time left before this share of the domain is done, or this many seconds.
_ESTIMATE_AFTER = (0.01, 1.0)


def time_left(p) -> float | None:
    """Seconds left, extrapolated from the share of the domain done so far, or None while no
    estimate can be made (the engine gives no share, or too little is done yet to say).

    Parameters
    ----------
    p : regionenum.Progress

    Returns
    -------
    float or None

    Examples
    --------
    >>> import regionenum as rn
    >>> time_left(rn.Progress(regions=10, pending_cells=5, layer=1, elapsed=4.0, exact_calls=0, done=0.25))
    12.0
    """
    if p.done is None or p.done < _ESTIMATE_AFTER[0] or p.elapsed < _ESTIMATE_AFTER[1]:
        return None
    return p.elapsed * (1.0 - p.done) / p.done


def describe(p) -> str:
    """The fields of the progress line for ``p`` (everything but the bar).

    Parameters
    ----------
    p : regionenum.Progress

    Returns
    -------
    str

    Examples
    --------
    >>> import regionenum as rn
    >>> describe(rn.Progress(regions=1200, pending_cells=35, layer=2, elapsed=4.0, exact_calls=3, done=0.25))
    '25.0% done | 1,200 regions | layer 2 | 35 cells waiting | 3 exact | 4.0 s, ~12 s left'
    """
    parts = [] if p.done is None else [f"{100 * p.done:.1f}% done"]
    parts += [f"{p.regions:,} regions", f"layer {p.layer}", f"{p.pending_cells:,} cells waiting",
              f"{p.exact_calls:,} exact"]
    left = time_left(p)
    parts.append(f"{p.elapsed:.1f} s" + ("" if left is None else f", ~{_seconds(left)} left"))
    return " | ".join(parts)


def _seconds(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def _columns(file) -> int:
    """The width of the terminal ``file`` is on (0 when it does not say)."""
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


class ProgressBar:
    """A progress callback: ``count_regions(net, box, progress=ProgressBar())``; call
    :meth:`close` (or use it as a context manager) when the run ends.

    Parameters
    ----------
    file : file-like, optional
        Where to draw (standard error by default).
    enabled : bool or None, optional
        None: only when ``file`` is a terminal.
    min_interval : float, optional
        Seconds between redraws.
    legend : bool, optional
        Explain the fields once, above the first report.

    Attributes
    ----------
    last : regionenum.Progress or None
        The latest report received (also when disabled), e.g. to say how far an interrupted
        run got.

    Examples
    --------
    >>> import io, numpy as np, regionenum as rn
    >>> from regionenum.progress import ProgressBar
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> with ProgressBar(file=io.StringIO(), enabled=False) as bar:
    ...     n = rn.count_regions(net, rn.Box([-1, -1], [1, 1]), progress=bar)
    >>> bar.last.regions, bar.last.done
    (4, 1.0)
    """

    def __init__(self, file=None, enabled: bool | None = None, min_interval: float = 0.2,
                 legend: bool = True):
        self.file = file if file is not None else sys.stderr
        if enabled is None:
            enabled = hasattr(self.file, "isatty") and self.file.isatty()
        self.enabled = enabled
        self.min_interval = min_interval
        self.legend = legend
        self.last = None
        self._tqdm = None
        self._bar = None
        self._started = False
        self._last_draw = 0.0
        self._width = 0
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            self._tqdm = tqdm

    def __call__(self, p) -> None:
        self.last = p
        if not self.enabled:
            return
        if not self._started:  # drawn at the first report, so that messages before it stay apart
            self._start(with_bar=p.done is not None)
        if self._bar is not None:
            if p.done is not None:
                self._bar.n = round(100 * p.done, 1)
            self._bar.set_description_str(describe(p), refresh=False)
            self._bar.update(0)
            return
        now = time.perf_counter()
        if now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        line = describe(p)
        self._width = max(self._width, len(line))
        self.file.write("\r" + line.ljust(self._width))
        self.file.flush()

    def _start(self, with_bar: bool) -> None:
        self._started = True
        if self.legend:
            self.file.write(LEGEND + "\n")
            self.file.flush()
        if self._tqdm is not None:
            known = _columns(self.file) >= 40  # 0: a terminal that does not say its size
            width = dict(dynamic_ncols=True) if known else dict(ncols=120, nrows=24)
            self._bar = self._tqdm(total=100, file=self.file, mininterval=self.min_interval, **width,
                                   bar_format="{bar:20}| {desc}" if with_bar else "{desc}")

    def close(self) -> None:
        """Finish the report (draw the last state and end its line)."""
        if self._bar is not None:
            if self.last is not None:
                self._bar.set_description_str(describe(self.last), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.enabled and self._width:
            if self.last is not None:
                self.file.write("\r" + describe(self.last).ljust(self._width))
            self.file.write("\n")
            self.file.flush()
            self._width = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
