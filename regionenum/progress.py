"""Progress reports for long runs, for the ``progress=`` argument of the engine.

:class:`ProgressBar` draws a tqdm bar on standard error (cells waiting, layer, regions found,
elapsed, regions per second) when tqdm is installed (the ``progress`` extra), and a plain
one-line report otherwise. ``enabled=None`` (the default) reports only when the file is a
terminal; ``True`` always, ``False`` never.
"""
from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """A progress callback: ``count_regions(net, box, progress=ProgressBar())``; call
    :meth:`close` (or use it as a context manager) when the run ends."""

    def __init__(self, file=None, enabled: bool | None = None, min_interval: float = 0.2):
        self.file = file if file is not None else sys.stderr
        if enabled is None:
            enabled = hasattr(self.file, "isatty") and self.file.isatty()
        self.enabled = enabled
        self.min_interval = min_interval
        self._bar = None
        self._last = 0.0
        self._width = 0
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=None, unit=" regions", file=self.file, dynamic_ncols=True,
                                 mininterval=min_interval, desc="regions")

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(p.regions - self._bar.n)
            self._bar.set_postfix(layer=p.layer, waiting=p.pending_cells, exact=p.exact_calls,
                                  refresh=False)
            return
        now = time.perf_counter()
        if now - self._last < self.min_interval:
            return
        self._last = now
        rate = p.regions / p.elapsed if p.elapsed > 0 else 0.0
        line = (f"regions {p.regions}  layer {p.layer}  cells waiting {p.pending_cells}  "
                f"{p.elapsed:.1f} s  {rate:.0f} regions/s")
        self._width = max(self._width, len(line))
        self.file.write("\r" + line.ljust(self._width))
        self.file.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self._width:
            self.file.write("\n")
            self.file.flush()
            self._width = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
