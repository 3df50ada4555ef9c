"""The README's Python examples run as written."""
import importlib.util
import re as regex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = regex.findall(r"```python\n(.*?)```", README.read_text(), flags=regex.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, tmp_path, monkeypatch):
    # an example that needs an optional package (torch, distributed, ...) skips without it
    for name in regex.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", code, flags=regex.M):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"this example needs {name}, which is not installed")
    monkeypatch.chdir(tmp_path)  # the examples write files
    exec(compile(code, str(README), "exec"), {})


def test_worked_numbers_in_docs():
    """The numbers docs/counting.md quotes are the ones the code gives."""
    import regionenum as rn
    from regionenum import bounds, estimators
    text = (README.parent / "docs" / "counting.md").read_text()
    net, box = rn.load(README.parent / "regionenum" / "data" / "digits_plane.npz")
    regions = rn.enumerate_regions(net, box)
    v, e, f = regions.faces().f_vector
    assert f"{v} - {e} + {f} = 1" in text and f == 1562
    assert f"{estimators.sampled_patterns(net, box, 10000, seed=0).value:.0f} (63%)" in text
    assert f"`m = 100`: {estimators.grid_patterns(net, box, 100).value:.0f}" in text
    assert f"`n = 10^4`: {estimators.chao1(net, box, 10000, seed=0).value:.0f}" in text
    assert f"= {estimators.hanin_rolnick(net, box).value:.0f}" in text
    assert bounds.serra(4, [2, 2]) == 11 and bounds.zaslavsky(16, 2) == 137
    assert (bounds.pascanu(2, [4] * 4), bounds.montufar(2, [4] * 4), bounds.serra(2, [4] * 4)) == (88, 704, 14641)


def test_every_docstring_example_runs():
    """Every example in the package's docstrings (numpydoc Examples sections, module docs)."""
    import doctest
    import importlib
    import pkgutil

    import regionenum
    modules = [regionenum] + [importlib.import_module(m.name) for m in
                              pkgutil.walk_packages(regionenum.__path__, "regionenum.")]
    tried = 0
    for module in modules:
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        tried += result.attempted
    assert tried >= 20
