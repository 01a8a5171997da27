"""Keep the repository's Markdown links working on the documentation site.

The guides link to each other and to files elsewhere in the repository as they should read on
a code host (``docs/app.md``, ``../benchmarks/README.md``, ``results/run.json``). The site
shows some of those files as pages (the README is the front page, ``benchmarks/README.md`` is
``benchmarks``); this rewrites every relative link, in the guides and in the files they
include, to the page that shows the target, or to the file itself (a download) otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["rewrite_links", "setup"]

_LINK = re.compile(r"\]\((?P<target>[^()\s#:]+)(?P<anchor>#[^()\s]*)?\)")


def rewrite_links(text: str, source: Path, docdir: Path, pages: dict[Path, Path]) -> str:
    """Rewrite the relative links of Markdown ``text`` read from ``source``.

    Parameters
    ----------
    text : str
        The Markdown.
    source : Path
        The file the text was read from (the links are relative to it).
    docdir : Path
        The folder of the document the text ends up in.
    pages : dict of Path to Path
        Repository files shown by a page of the site, mapped to that page's source file.

    Returns
    -------
    str
        The text with every relative link to an existing file pointing, relative to
        ``docdir``, at the page that shows it or at the file itself.

    Examples
    --------
    >>> from pathlib import Path
    >>> root = Path("/repo")
    >>> pages = {root / "benchmarks/README.md": root / "docs/benchmarks.md"}
    >>> rewrite_links(
    ...     "[b](../benchmarks/README.md#speed) [w](https://x.org)",
    ...     root / "docs/app.md", root / "docs", pages,
    ... )
    '[b](benchmarks.md#speed) [w](https://x.org)'
    """

    def replace(match: re.Match[str]) -> str:
        target = Path(os.path.normpath(source.parent / match["target"]))
        target = pages.get(target, target)
        relative = os.path.relpath(target, docdir).replace(os.sep, "/")
        return f"]({relative}{match['anchor'] or ''})"

    return _LINK.sub(replace, text)


def _pages(app: Any) -> dict[Path, Path]:
    srcdir = Path(app.srcdir)
    return {
        (srcdir / repo).resolve(): srcdir / page
        for repo, page in app.config.repo_link_pages.items()
    }


def _on_source_read(app: Any, docname: str, source: list[str]) -> None:
    path = Path(app.env.doc2path(docname))
    if path.suffix == ".md":
        source[0] = rewrite_links(source[0], path.resolve(), path.parent.resolve(), _pages(app))


def _on_include_read(
    app: Any, relative_path: Path, parent_docname: str, content: list[str]
) -> None:
    path = (Path(app.srcdir) / relative_path).resolve()
    if path.suffix == ".md":
        docdir = Path(app.env.doc2path(parent_docname)).parent.resolve()
        content[0] = rewrite_links(content[0], path, docdir, _pages(app))


def setup(app: Any) -> dict[str, Any]:
    """Register the link rewriting with Sphinx."""
    app.add_config_value("repo_link_pages", {}, "env")
    app.connect("source-read", _on_source_read)
    app.connect("include-read", _on_include_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
