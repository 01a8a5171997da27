"""Sphinx configuration: the guides (Markdown), the API reference and the examples gallery.

Build it with ``python3 -m sphinx -W -b html docs docs/_build/html`` (see documentation.md).
The build is offline: no inventory is fetched and every example runs on bundled data.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import activelab  # noqa: E402

project = "activelab"
author = "activelab developers"
copyright = "activelab developers"
release = activelab.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "activelab_api",  # writes api/*.rst from every public module's __all__
    "repo_links",  # the guides' links to repository files point at their pages
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
smartquotes = False  # keep ``--option`` names and quotes as typed
exclude_patterns = ["_build", "_ext", "_templates", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# Offline: no intersphinx, no remote images.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# autodoc / autosummary: the object pages come from the curated __all__ (activelab_api).
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_mock_imports: list[str] = []

# numpydoc: the class template lists the members, so numpydoc does not add its own tables.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# (activelab_api warns about a public name without a docstring, inherited ones included.)

# MyST: the guides are the docs/*.md files linked from the README, unchanged.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
repo_link_pages = {
    "../README.md": "index.md",
    "../benchmarks/README.md": "benchmarks.md",
    "../CHANGELOG.md": "changelog.md",
}

# The examples gallery: examples/gallery/plot_*.py run at every build, on bundled data.
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples" / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "gallery_order.ExampleOrder",
    "write_computation_times": False,
    "show_memory": False,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reference_url": {},
}

# The examples run non-interactively.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

html_theme = "furo"
html_title = f"activelab {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
