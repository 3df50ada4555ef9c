"""The README's Python examples run as written."""
import re as regex
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write files
    blocks = regex.findall(r"```python\n(.*?)```", README.read_text(), flags=regex.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})


def test_package_docstring_example():
    import doctest
    import regionenum
    assert doctest.testmod(regionenum).failed == 0
