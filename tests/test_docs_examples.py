"""The Python examples of the README and the guides run as written, top to bottom, per page.

The examples of cluster.md and transfer.md need a cluster, minutes of model tuning or files of
the reader's own; they are sketches and are not run here.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "README.md",
    "docs/annotators.md",
    "docs/auto.md",
    "docs/hybrid.md",
    "docs/multilabel.md",
    "docs/rare.md",
    "docs/regression.md",
    "docs/simulator.md",
    "docs/stream.md",
]


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_python_examples_run(page: str, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), flags=re.S)
    assert blocks, f"{page} has no Python example"
    script = tmp_path / "examples.py"  # one namespace per page: later blocks use earlier ones
    script.write_text("\n\n".join(blocks))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"{page}:\n{run.stderr[-3000:]}"
    # a reader who copies an example sees what it shows, not a model's warning
    assert "Warning:" not in run.stderr, f"{page} warns:\n{run.stderr[-3000:]}"
    # `print(...)  # TEXT`: the page says the line prints TEXT, so it must
    shown = re.findall(r"^\s*print\(.*\)\s+#\s*(.+?)\s*$", "\n".join(blocks), flags=re.M)
    printed = [line.strip() for line in run.stdout.splitlines()]
    wrong = [text for text in shown if text not in printed]
    assert not wrong, f"{page} shows {wrong}, but its examples print:\n{run.stdout[-3000:]}"


DOTTED = re.compile(r"`(activelab(?:\.[A-Za-z_]\w*)+)(?!\w|/)")  # not a schema: `activelab.x/1`


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            with warnings.catch_warnings():  # architecture.md names the moved modules' old paths
                warnings.simplefilter("ignore", DeprecationWarning)
                obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize(
    "page",
    ["README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md")))]
    + [f"benchmarks/{p.name}" for p in sorted((ROOT / "benchmarks").glob("*.py"))]
    + ["benchmarks/README.md"],
)
def test_the_names_the_pages_give_exist(page: str) -> None:
    """Every ``activelab.module.name`` a page or a benchmark names can be imported as written."""
    names = {
        n for n in DOTTED.findall((ROOT / page).read_text()) if not n.endswith((".json", ".jsonl"))
    }
    missing = sorted(n for n in names if not _resolves(n))
    assert not missing, f"{page} names what does not exist: {missing}"


def _cli_options() -> dict[str, set[str]]:
    """Every command of ``activelab`` (``annotator add`` too) -> its option names."""
    import click

    from activelab.cli import main

    ctx = click.Context(main)

    def names(command: click.Command) -> set[str]:
        return {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}

    options = {}
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        options[name] = names(command)
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                options[f"{name} {sub}"] = names(command.get_command(ctx, sub))
    return options


@pytest.mark.parametrize(
    "page", ["README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md")))]
)
def test_the_options_the_pages_give_exist(page: str) -> None:
    """``activelab CMD ... --option`` on a page, in a shell line or inline code, exists."""
    options = _cli_options()
    text = (ROOT / page).read_text().replace("\\\n", " ")
    wrong = []
    for command, rest in re.findall(r"activelab ([a-z-]+(?: [a-z]+)?)([^`\n|#]*)", text):
        key = command if command in options else command.split()[0]
        if key in options:
            given = re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)
            wrong += [f"activelab {key} {o}" for o in given if o not in options[key]]
    assert not wrong, f"{page} gives options that do not exist: {wrong}"
