"""Timing snippets in fresh processes, as the benchmarks that compare two ways of one run do
(``depth.py``, ``stretched.py``, ``hard_cells.py``): each run is a Python snippet printing one JSON line with at
least ``seconds``, ``exact`` (signs settled in exact arithmetic) and ``complete``."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def run_snippet(code: str, *args, tree=None) -> dict:
    """Run ``code`` in a fresh interpreter with ``args`` as its ``sys.argv[1:]``; its last line
    of output, read as JSON. ``tree``: a checkout whose ``regionenum`` the snippet imports
    (default: the installed one), run from that folder (``-c`` puts the working folder first on
    the path, ahead of ``PYTHONPATH``)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                         check=True, env=env, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def seconds_and_exact(runs: list) -> str:
    """A table cell: the median seconds and exact signs of ``runs``, or the time limit they did
    not all meet."""
    seconds = statistics.median(r["seconds"] for r in runs)
    exact = statistics.median(r["exact"] for r in runs)
    if not all(r["complete"] for r in runs):
        return f"not done in {seconds:.0f} s ({exact:,.0f} exact so far)"
    return f"{seconds:.3g} s ({exact:,.0f} exact)"
