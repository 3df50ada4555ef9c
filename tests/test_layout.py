"""The package's folders follow the data flow, and imports only go down it: no cycles, and the
only imports that go up are the lazy facades the code marks (a function-level import)."""
import ast
from pathlib import Path

import regionenum

PACKAGE = Path(regionenum.__file__).parent

#: Each room of the package and its level in the data flow: a module may import (at module
#: level) only from lower levels, or from its own room.
LEVELS = {"errors": 0, "core": 1, "progress": 1, "importers": 2, "result": 2, "engine": 3, "analysis": 4,
          "counting": 5, "verify": 5, "io": 5, "plotting": 6, "cli": 7, "__init__": 8}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_level_imports():
    """(importing module, imported module) for every import at module level inside the package."""
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        here = name.split(".") if rel.name == "__init__" else name.split(".")[:-1]
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[: len(here) - (node.level - 1)]
                if node.module:
                    yield name, ".".join(base + [node.module])
                else:  # from . import submodule
                    for alias in node.names:
                        yield name, ".".join(base + [alias.name])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("regionenum"):
                yield name, node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("regionenum"):
                        yield name, alias.name


def test_every_room_has_a_level():
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert rooms == set(LEVELS)


def test_imports_only_go_down_the_data_flow():
    upward = [(a, b) for a, b in _module_level_imports()
              if _room(a) != _room(b) and LEVELS[_room(b)] >= LEVELS[_room(a)]]
    assert not upward, f"module-level imports that go up the data flow: {upward}"


def test_no_import_cycles():
    graph = {}
    for a, b in _module_level_imports():
        graph.setdefault(a, set()).add(b)
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in list(graph):
        if node not in state:
            visit(node, [node])
