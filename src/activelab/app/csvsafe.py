"""CSV cells that a spreadsheet will not run: formula-like text is escaped on export.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets, so an item id such as
``=HYPERLINK("http://evil","click")`` would become a live link (CSV injection). Such cells
are written with a leading ``'``, which spreadsheets show as text. Plain numbers (``-1``,
``+2.5``) are left alone: they are not formulas, and labels like ``-1`` stay readable.

Examples
--------
>>> escape_formula('=HYPERLINK("http://evil","x")')
'\\'=HYPERLINK("http://evil","x")'
>>> escape_formula("@SUM(A1)"), escape_formula("-1"), escape_formula("fine")
("'@SUM(A1)", '-1', 'fine')
>>> escape_formula(3.5)
3.5
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_PREFIXES", "escape_formula", "escape_row"]

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text


def escape_formula(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def escape_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of a CSV row through :func:`escape_formula`.

    Examples
    --------
    >>> escape_row({"id": "=1+1", "label": "ok"})
    {'id': "'=1+1", 'label': 'ok'}
    """
    return {k: escape_formula(v) for k, v in row.items()}
