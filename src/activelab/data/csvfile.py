"""How a CSV file is written: its separator and decimal mark, read from its header row.

Spreadsheets in much of Europe save CSV with semicolons between the cells because the
comma is their decimal mark (``1,5``); a ``.tsv`` file, or a header with tabs only, is
tab-separated. Every reader of the project's tables (a simulated data set, a stream, a
pool to rank, a labelling project's data) follows the same rule.
"""

from __future__ import annotations

import gzip
from pathlib import Path

__all__ = ["csv_format"]


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
