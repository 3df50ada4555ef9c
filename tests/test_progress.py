"""The progress bar the command line shows."""
import regionenum as rn
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


def test_progress_bar_reports_and_stays_quiet_off_terminal(monkeypatch):
    import builtins
    import io

    from regionenum.progress import ProgressBar
    net = random_net([2, 32, 32, 1], 5)
    quiet = io.StringIO()
    with ProgressBar(file=quiet) as bar:  # not a terminal: silent
        rn.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    with ProgressBar(file=shown, enabled=True) as bar:  # tqdm
        n = rn.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert f"{int(n)}" in shown.getvalue() and "layer=" in shown.getvalue()
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError)
                        if name == "tqdm" else real_import(name, *a, **k))
    plain = io.StringIO()
    with ProgressBar(file=plain, enabled=True, min_interval=0.0) as bar:  # no tqdm: a plain line
        rn.count_regions(net, BOX2, batch_size=64, progress=bar)
    assert f"regions {int(n)}" in plain.getvalue() and "regions/s" in plain.getvalue()
