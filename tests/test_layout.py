"""The package layout: no import cycles, every public name importable, old paths warn."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import activelab

SRC = Path(activelab.__file__).resolve().parent

#: Old module paths kept for one release: (old, new).
MOVED = {
    "activelab.experiments": "activelab.simulation.campaign",
    "activelab.design": "activelab.simulation.design",
    "activelab.metrics": "activelab.simulation.metrics",
    "activelab.report": "activelab.simulation.report",
    "activelab.plots": "activelab.simulation.plots",
    "activelab.selection_plots": "activelab.simulation.selection_plots",
    "activelab.demo": "activelab.simulation.demo",
    "activelab.datasets": "activelab.data.datasets",
    "activelab.features": "activelab.data.features",
    "activelab.chem": "activelab.data.chem",
    "activelab.deep_data": "activelab.data.bundled",
    "activelab.deep": "activelab.models.deep",
    "activelab.store": "activelab.app.store",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _all_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """Every activelab module ``name`` imports, at module level or inside a function."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base in modules:
                found.add(base)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return found


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


def test_no_import_cycle_in_src() -> None:
    modules = _all_modules()
    graph = {name: _imports(path, name, set(modules)) for name, path in modules.items()}
    # A package's __init__ may import its own submodules (that is how it re-exports them);
    # a submodule importing its own package's __init__ back is what makes a cycle.
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph) or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def _public_modules() -> list[str]:
    names = ["activelab"]
    for info in pkgutil.walk_packages(activelab.__path__, "activelab."):
        last = info.name.rpartition(".")[2]
        if last.startswith("_") or info.name in MOVED or ".static" in info.name:
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_is_importable_from_its_documented_path(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} has no __all__"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which is missing"


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_old_paths_warn_and_forward(old: str, new: str) -> None:
    # A fresh interpreter: the warning fires once, at the first import of the old path.
    code = (
        "import warnings, importlib\n"
        "warnings.simplefilter('error')\n"
        "try:\n"
        f"    importlib.import_module({old!r})\n"
        "except DeprecationWarning as exc:\n"
        f"    assert {new!r} in str(exc), exc\n"
        "else:\n"
        "    raise SystemExit('no warning')\n"
        "warnings.simplefilter('ignore')\n"
        f"old = importlib.import_module({old!r}); new = importlib.import_module({new!r})\n"
        "for name in new.__all__:\n"
        "    assert getattr(old, name) is getattr(new, name), name\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


def test_old_experiments_path_still_offers_simulate() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = importlib.import_module("activelab.experiments")
    from activelab.simulation import simulate

    assert old.simulate is simulate
