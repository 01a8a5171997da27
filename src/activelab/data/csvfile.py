"""How a CSV file is written: its separator and decimal mark, read from its header row.

Spreadsheets in much of Europe save CSV with semicolons between the cells because the
comma is their decimal mark (``1,5``); a ``.tsv`` file, or a header with tabs only, is
tab-separated. Every reader of the project's tables (a simulated data set, a stream, a
pool to rank, a labelling project's data) follows the same rule.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["csv_format", "refuse_repeated_columns"]


def csv_format(path: str | Path, header: str | None = None) -> tuple[str, str]:
    """The separator and decimal mark of a CSV file, from its header row.

    Parameters
    ----------
    path : str or Path
        The file (gzip-compressed when its name ends in ``.gz``); a ``.tsv`` suffix means
        tabs.
    header : str, optional
        Its first line, when already read (else read from the file).

    Returns
    -------
    (str, str)
        ``(",", ".")`` when the header holds a comma (or nothing else), ``(";", ",")``
        when it holds semicolons but no comma (a spreadsheet's export where the comma is
        the decimal mark), ``("\\t", ".")`` for tabs.

    Examples
    --------
    >>> csv_format("a.csv", "x,y,label")
    (',', '.')
    >>> csv_format("a.csv", "x;y;label")
    (';', ',')
    >>> csv_format("a.tsv", "x y")
    ('\\t', '.')
    """
    path = Path(path)
    gz = path.suffix.lower() == ".gz"
    if (path.with_suffix("") if gz else path).suffix.lower() == ".tsv":
        return "\t", "."
    if header is None:
        opener = gzip.open if gz else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
            header = f.readline()
    if "," in header:
        return ",", "."
    if ";" in header:
        return ";", ","
    if "\t" in header:
        return "\t", "."
    return ",", "."


def refuse_repeated_columns(header: Sequence[Any], where: str) -> None:
    """Refuse a header row that names a column twice, naming it and its places.

    A reader would otherwise keep one of the two (a dictionary of cells) or rename the second
    (pandas' ``label.1``), and a second label column would be read as a feature. Unnamed
    columns (empty names) are not compared.

    Parameters
    ----------
    header : sequence
        The header row's names, in the file's order.
    where : str
        The file, for the message.

    Raises
    ------
    ValueError
        Naming the column and its places (counted from 1).

    Examples
    --------
    >>> refuse_repeated_columns(["a", "label", "b"], "t.csv")
    >>> try:
    ...     refuse_repeated_columns(["a", "label", "b", "label"], "t.csv")
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[0])
    t.csv: the header names column 'label' twice (columns 2 and 4)
    """
    places: dict[str, list[int]] = {}
    for at, name in enumerate(header, 1):  # the header's names, not the rows
        if isinstance(name, str) and name:
            places.setdefault(name, []).append(at)
    for name, at in places.items():
        if len(at) > 1:
            times = "twice" if len(at) == 2 else f"{len(at)} times"
            listed = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
            raise ValueError(
                f"{where}: the header names column {name!r} {times} (columns {listed}); give "
                "each column its own name."
            )
