"""Results files that keep their history.

A benchmark re-run now and then writes its new run on top of its file in ``results/`` (the
title, the command, the table) with a line saying when, at which commit and on which machine it
ran; the runs before it stay below, each under a heading ``## Earlier run (...)``, together with
whatever was written by hand under them. Comments on the new run go after its line, by hand.
"""
from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path

#: A run's own line, as :func:`write_run` writes it (or as written by hand before it did):
#: its date, time and commit name its heading once it is an earlier run.
_RUN_LINE = re.compile(r"(?:Run|Measured) on (\d{4}-\d\d-\d\d) at (\d\d:\d\d)(?:-\d\d:\d\d)? UTC "
                       r"at ([0-9a-f]{7,40}\+?)")


def write_run(path: Path, lines: list) -> None:
    """Write ``lines`` (a title ``# ...``, a paragraph on the command, then the run's table) to
    ``path``, then the line on when, where and at which commit it ran, then the runs already in
    the file (see the module's docstring)."""
    earlier = _earlier_runs(path)
    commit = _commit()
    when = datetime.datetime.now(datetime.timezone.utc)
    stamp = f"Run on {when:%Y-%m-%d at %H:%M} UTC at {commit}, on {_machine()}."
    text = "\n".join(lines) + "\n\n" + stamp + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text + ("\n" + earlier if earlier else ""))


def _earlier_runs(path: Path) -> str:
    """The runs in the file at ``path`` as earlier runs: its latest (from its table to the first
    ``## Earlier run``) under a heading of its own, then the earlier ones as they are."""
    if not path.exists():
        return ""
    text = path.read_text()
    table = re.search(r"^\|", text, re.M)
    if table is None:
        return ""
    body = text[table.start():]
    split = body.find("\n## Earlier run")
    latest, rest = (body, "") if split < 0 else (body[:split], body[split + 1:])
    found = _RUN_LINE.search(latest)
    heading = f"## Earlier run ({found[1]}, {found[2]} UTC, at {found[3]})" if found else "## Earlier run"
    return heading + "\n\n" + latest.strip() + "\n" + ("\n" + rest.strip() + "\n" if rest.strip() else "")


def _commit() -> str:
    """The checkout's commit (short), with ``+`` if its files other than the results differ
    from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", ":(exclude)benchmarks/results"],
                               cwd=root, capture_output=True).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return commit + ("+" if dirty else "")


def _machine() -> str:
    """The processor's model name and the cores this process may use."""
    model = "an unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores"
