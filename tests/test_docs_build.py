"""The documentation site: every public name documented once, links kept, a warning-free build."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

activelab_api = importlib.import_module("activelab_api")
repo_links = importlib.import_module("repo_links")


def test_every_public_name_is_documented_once_and_linked_from_the_rest() -> None:
    entries = activelab_api.public_modules()
    names = [e.name for e in entries]
    assert names[0] == "activelab"
    assert "activelab.learner" in names and "activelab.simulation.runner" in names
    # Stand-ins for moved modules and the command line (its own page) are not in the reference.
    assert "activelab.experiments" not in names and "activelab.store" not in names
    assert not any(n.startswith("activelab.cli") or "._" in n for n in names)

    homes = [f"{e.name}.{attr}" for e in entries for attr in e.own]
    assert len(homes) == len(set(homes))
    constants = {f"{e.name}.{c[0]}" for e in entries for c in e.constants}
    for entry in entries:
        module = importlib.import_module(entry.name)
        documented = {*entry.own, *(c[0] for c in entry.constants), *(a for a, _ in entry.links)}
        assert documented == set(module.__all__), entry.name
        for _, target in entry.links:
            assert target in homes or target in constants, (entry.name, target)
    # An object appears once, at the module that defines it; re-exports link there.
    assert "activelab.learner.ActiveLearner" in homes
    assert "activelab.ActiveLearner" not in homes
    assert "activelab.strategies.QueryContext" in homes  # defined in a private module
    top = next(e for e in entries if e.name == "activelab")
    assert ("available_strategies", "activelab.strategies.available") in top.links


def test_every_constant_in_an_all_has_a_doc_comment() -> None:
    missing = [
        f"{e.name}.{name}"
        for e in activelab_api.public_modules()
        for name, doc, _ in e.constants
        if not doc
    ]
    assert missing == []


def test_repository_links_point_at_the_pages_that_show_them() -> None:
    pages = {
        ROOT / "README.md": DOCS / "index.md",
        ROOT / "benchmarks/README.md": DOCS / "benchmarks.md",
    }
    text = (
        "[a](docs/app.md#postgresql) [b](benchmarks/README.md) [u](https://x.org/a.md) [h](#here)"
    )
    assert repo_links.rewrite_links(text, ROOT / "README.md", DOCS, pages) == (
        "[a](app.md#postgresql) [b](benchmarks.md) [u](https://x.org/a.md) [h](#here)"
    )
    # A guide's link up to the benchmarks, and the benchmarks' link to a results file.
    assert (
        repo_links.rewrite_links("[r](../benchmarks/README.md)", DOCS / "app.md", DOCS, pages)
        == "[r](benchmarks.md)"
    )
    assert (
        repo_links.rewrite_links("[j](results/x.json)", ROOT / "benchmarks/README.md", DOCS, pages)
        == "[j](../benchmarks/results/x.json)"
    )


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "html"
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "-q",
        "-d",
        str(tmp_path / "doctrees"),
        str(DOCS),
        str(out),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-6000:] + done.stdout[-2000:]

    # The guides, the front page and the benchmarks page.
    for page in ("index", "architecture", "strategies", "simulator", "app", "benchmarks", "cli"):
        assert (out / f"{page}.html").is_file(), page
    index = (out / "index.html").read_text()
    assert 'href="app.html#postgresql"' in index
    assert 'href="benchmarks.html"' in index
    # One page per public module, one per class or function.
    entries = activelab_api.public_modules()
    for entry in entries:
        assert (out / "api" / f"{entry.name}.html").is_file(), entry.name
        for attr in entry.own:
            assert (out / "api" / "generated" / f"{entry.name}.{attr}.html").is_file(), attr
    learner = (out / "api" / "generated" / "activelab.learner.ActiveLearner.html").read_text()
    assert "Parameters" in learner and "teach" in learner
    # The command line page, rendered from the click commands.
    cli = re.sub(r"<[^>]+>", "", (out / "cli.html").read_text())
    assert "activelab simulate [OPTIONS]" in cli and "--budget" in cli
    # The examples ran: each has a page with its figure.
    gallery = sorted((ROOT / "examples" / "gallery").glob("plot_*.py"))
    assert gallery
    for script in gallery:
        assert (out / "auto_examples" / f"{script.stem}.html").is_file(), script.name
        assert list((out / "_images").glob(f"sphx_glr_{script.stem}_*.png")), script.name
    n_pages = len(list((out / "api").rglob("*.html")))
    print(f"docs built in {seconds:.0f} s; {n_pages} API pages")
