"""Write the API reference pages from every public module's ``__all__``.

Runs when Sphinx reads its configuration, before autosummary generates the object pages, so
the reference can never drift from the code: a name added to a module's ``__all__`` gets its
page at the next build. Each object is documented once, at its *home* (the module that defines
it, or the nearest public package above a private module that does); every other module that
re-exports it links there. Constants are documented inline on their module's page.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sphinx.util import logging

__all__ = ["PublicModule", "public_modules", "setup", "write_api_pages"]

#: Subpackages documented elsewhere: the command line has its own page (``cli.md``), the
#: page's static files are not Python.
SKIP = ("activelab.cli", "activelab.app.static")


@dataclass
class PublicModule:
    """One public module: its name, what it defines and what it re-exports."""

    name: str
    summary: str
    own: list[str] = field(default_factory=list)
    constants: list[tuple[str, str, str]] = field(default_factory=list)  # (name, doc, value)
    links: list[tuple[str, str]] = field(default_factory=list)  # (name, home.name)


def _is_stand_in(path: Path) -> bool:
    """True for an old path kept for one release (it imports ``activelab._deprecated``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.ImportFrom) and node.module == "activelab._deprecated"
        for node in tree.body
    )


def _module_names(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name.startswith(SKIP):
            continue
        spec = importlib.util.find_spec(info.name)
        if spec and spec.origin and _is_stand_in(Path(spec.origin)):
            continue
        names.append(info.name)
    return names


def _is_constant(obj: Any) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _constant_doc(module: Any, attr: str) -> str:
    """The ``#:`` comment of a constant, in ``module`` or the private module it comes from."""
    from sphinx.pycode import ModuleAnalyzer

    obj = getattr(module, attr)
    sources = [module.__name__] + [
        name
        for name, other in sorted(sys.modules.items())
        if name.startswith(f"{module.__name__}._") and getattr(other, attr, None) is obj
    ]
    for source in sources:
        docs = ModuleAnalyzer.for_module(source).find_attr_docs()
        if ("", attr) in docs:
            return "\n".join(docs["", attr]).strip()
    return ""


def _summary(module: Any) -> str:
    doc = inspect.getdoc(module) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def public_modules(package: str = "activelab") -> list[PublicModule]:
    """Every public module of ``package`` with the names of its ``__all__`` sorted by home.

    Parameters
    ----------
    package : str, default="activelab"
        The top-level package.

    Returns
    -------
    list of PublicModule
        In import-path order; the package itself first.
    """
    names = _module_names(package)
    modules = {n: importlib.import_module(n) for n in names}
    exported = {n: list(getattr(m, "__all__", [])) for n, m in modules.items()}
    # Where each class or function is documented: the public module that defines it, else
    # the deepest public package above its private defining module that exports it.
    homes: dict[int, str] = {}
    for name, module in modules.items():
        for attr in exported[name]:
            obj = getattr(module, attr)
            if _is_constant(obj):
                continue
            defined = getattr(obj, "__module__", "")
            if defined == name or (
                defined.startswith(f"{name}.")
                and not any(
                    defined.startswith(f"{other}.") or defined == other
                    for other in names
                    if other.startswith(f"{name}.")
                )
            ):
                previous = homes.get(id(obj))
                if previous is None or len(name) > len(previous):
                    homes[id(obj)] = name
    result = []
    for name, module in modules.items():
        entry = PublicModule(name, _summary(module))
        for attr in exported[name]:
            obj = getattr(module, attr)
            if _is_constant(obj):
                # A constant re-exported from a public submodule is documented there.
                home = next(
                    (
                        other
                        for other in names
                        if other.startswith(f"{name}.")
                        and attr in exported[other]
                        and getattr(modules[other], attr) is obj
                    ),
                    None,
                )
                if home:
                    entry.links.append((attr, f"{home}.{attr}"))
                else:
                    value = repr(obj)
                    entry.constants.append(
                        (attr, _constant_doc(module, attr), value if len(value) <= 70 else "")
                    )
                continue
            home = homes.get(id(obj))
            if home == name:
                entry.own.append(attr)
            elif home is not None:
                entry.links.append((attr, f"{home}.{obj.__name__}"))
            else:
                raise RuntimeError(
                    f"{name}.{attr} is defined in {obj.__module__}, which no public module "
                    "exports it from; add it to that module's __all__"
                )
        result.append(entry)
    return result


def _module_page(entry: PublicModule) -> str:
    title = f"``{entry.name}``"
    lines = [
        title,
        "=" * len(title),
        "",
        f".. automodule:: {entry.name}",
        "   :no-members:",
        "",
        f".. currentmodule:: {entry.name}",
        "",
    ]
    if entry.own:
        lines += [
            ".. autosummary::",
            "   :toctree: generated/",
            "   :nosignatures:",
            "",
            *(f"   {attr}" for attr in sorted(entry.own, key=str.lower)),
            "",
        ]
    if entry.constants:
        lines += ["Constants", "---------", ""]
        for attr, doc, value in sorted(entry.constants):
            lines += [f".. py:data:: {attr}"]
            lines += [f"   :value: {value}"] if value else []
            lines += ["", *(f"   {line}" for line in doc.splitlines()), ""]
    if entry.links:
        lines += [
            "Also available here",
            "-------------------",
            "",
            "Documented where they are defined:",
            "",
        ]
        lines += [f"- ``{attr}``: :py:obj:`{target}`" for attr, target in sorted(entry.links)]
        lines.append("")
    return "\n".join(lines)


def _index_page(entries: list[PublicModule]) -> str:
    lines = [
        "API reference",
        "=============",
        "",
        "Every public module with its curated ``__all__``. A name is documented once, in the",
        "module that defines it; the modules that re-export it (``activelab``,",
        "``activelab.strategies``, ``activelab.simulation``...) link there. Import from the",
        "path shown on the page you read: every one of them is tested to work",
        "(``tests/test_layout.py``).",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 35 65",
        "",
        "   * - module",
        "     - what it holds",
    ]
    for entry in entries:
        lines += [f"   * - :doc:`{entry.name}`", f"     - {entry.summary or ' '}"]
    lines += ["", ".. toctree::", "   :hidden:", "", *(f"   {e.name}" for e in entries), ""]
    return "\n".join(lines)


def write_api_pages(outdir: Path, package: str = "activelab") -> list[PublicModule]:
    """Write ``index.rst`` and one page per public module into ``outdir`` (replaced).

    Parameters
    ----------
    outdir : Path
        The folder of the reference inside the Sphinx source folder.
    package : str, default="activelab"
        The top-level package.

    Returns
    -------
    list of PublicModule
        The modules written, one page each.
    """
    entries = public_modules(package)
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    (outdir / "index.rst").write_text(_index_page(entries), encoding="utf-8")
    for entry in entries:
        (outdir / f"{entry.name}.rst").write_text(_module_page(entry), encoding="utf-8")
    return entries


_LOGGER = logging.getLogger(__name__)

#: Members scikit-learn generates on every estimator (metadata routing); their docstrings
#: point into scikit-learn's own documentation.
_SKIPPED_MEMBERS = re.compile(r"set_\w+_request")


def _on_config_inited(app: Any, config: Any) -> None:
    entries = write_api_pages(Path(app.srcdir) / "api")
    app.activelab_api_names = {f"{e.name}.{attr}" for e in entries for attr in e.own}
    for entry in entries:
        for attr, doc, _ in entry.constants:
            if not doc:
                _LOGGER.warning(
                    "%s.%s is in __all__ but has no `#:` comment above it",
                    entry.name,
                    attr,
                    type="activelab",
                    subtype="docstring",
                )


def _check_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Warn about a public name without a docstring (its own or an inherited one)."""
    if name in getattr(app, "activelab_api_names", ()) and not any(s.strip() for s in lines):
        _LOGGER.warning(
            "%s is in __all__ but has no docstring",
            name,
            type="activelab",
            subtype="docstring",
        )


def _skip_member(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    return True if _SKIPPED_MEMBERS.fullmatch(name) else None


def setup(app: Any) -> dict[str, Any]:
    """Register the page writer and the docstring check with Sphinx."""
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("config-inited", _on_config_inited)
    app.connect("autodoc-process-docstring", _check_docstring, priority=100)
    app.connect("autodoc-skip-member", _skip_member)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
