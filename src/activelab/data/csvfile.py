"""How a CSV file is written: its separator and decimal mark, read from its header row.

Spreadsheets in much of Europe save CSV with semicolons between the cells because the
comma is their decimal mark (``1,5``); a ``.tsv`` file, or a header with tabs only, is
tab-separated. Every reader of the project's tables (a simulated data set, a stream, a
pool to rank, a labelling project's data) follows the same rule.

A column that holds values needs a name in the header row: one without a name (the
index ``DataFrame.to_csv()`` writes first by default) would otherwise be read as a
feature, and a model would learn the row number. Every reader refuses such a value in
one line naming its place and the fix, and leaves out a column with neither a name nor
a value (as trailing commas make).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from activelab._jsonl import blank

__all__ = [
    "csv_format",
    "first_row_width",
    "past_header_refusal",
    "refuse_repeated_columns",
    "refuse_repeated_parquet_columns",
    "refuse_unnamed_columns",
    "refuse_unnamed_value",
    "unnamed_columns",
    "unnamed_value_message",
    "with_cells_past_header",
    "without_unnamed_columns",
]

#: the name pandas gives a column whose header cell is empty (``Unnamed: 0``)
_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")


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


def past_header_refusal(width: int, cells: Sequence[Any], where: str) -> str | None:
    """The refusal of a row with a value in a cell past the header row's, else ``None``.

    A spreadsheet saves a row's trailing empty cells (``1,2,x,,``) when a column past the
    table's ever held something: cells past the header that are all blank are no column,
    and the row is read without them. A value there is refused: a text with the separator
    in it, not quoted, or a column the header does not name.

    Parameters
    ----------
    width : int
        The header row's number of cells.
    cells : sequence
        One row's cells, more of them than ``width``.
    where : str
        The file and the row (``"t.csv, line 2"``).

    Returns
    -------
    str or None
        One line naming the row, the cell and the fixes; ``None`` when the cells past the
        header are blank.

    Examples
    --------
    >>> past_header_refusal(3, ["1", "2", "x", "", " "], "t.csv, line 2") is None
    True
    >>> print(past_header_refusal(2, ["1", "a big", " bad film", ""], "t.csv, line 2"))
    ... # doctest: +NORMALIZE_WHITESPACE
    t.csv, line 2: 4 fields, the header has 2, and field 3 holds ' bad film'; quote a value
    that holds the separator, or name the column in the header row.
    """
    stray = next((c for c in range(width, len(cells)) if not blank(cells[c])), None)
    if stray is None:
        return None
    return (
        f"{where}: {len(cells)} fields, the header has {width}, and field {stray + 1} holds "
        f"{str(cells[stray])[:40]!r}; quote a value that holds the separator, or name the "
        "column in the header row."
    )


def refuse_repeated_columns(
    header: Sequence[Any], where: str, *, unnamed: bool = False, names: str = "the header"
) -> None:
    """Refuse a header row that names a column twice, naming it and its places.

    A reader would otherwise keep one of the two (a dictionary of cells) or rename the second
    (pandas' ``label.1``), and a second label column would be read as a feature. Unnamed
    columns (empty names) are not compared, unless ``unnamed``.

    Parameters
    ----------
    header : sequence
        The header row's names, in the file's order.
    where : str
        The file, for the message.
    unnamed : bool, default False
        Compare the empty names too (a Parquet file's two ``""`` columns cannot be read).
    names : str, default "the header"
        What holds the names, for the message ("the schema" of a Parquet file).

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
        if isinstance(name, str) and (name or unnamed):
            places.setdefault(name, []).append(at)
    for name, at in places.items():
        if len(at) > 1:
            times = "twice" if len(at) == 2 else f"{len(at)} times"
            listed = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
            raise ValueError(
                f"{where}: {names} names column {name!r} {times} (columns {listed}); give "
                "each column its own name."
            )


def stripped_names(frame: Any, where: str) -> Any:
    """A table read from a header row with the spaces around its column names taken off
    (``a, b, label`` names ``label``), as ``activelab init`` and a stream read a header row.

    Parameters
    ----------
    frame : pandas.DataFrame or dask.dataframe.DataFrame
        The table; names that are not texts are kept as they are.
    where : str
        The file, for the message.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        ``frame`` itself when no name has spaces around it.

    Raises
    ------
    ValueError
        When two names become one (:func:`refuse_repeated_columns`).

    Examples
    --------
    >>> import pandas as pd
    >>> stripped_names(pd.DataFrame(columns=["a", " b", " label "]), "t.csv").columns.tolist()
    ['a', 'b', 'label']
    >>> try:
    ...     stripped_names(pd.DataFrame(columns=["a", " a"]), "t.csv")
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[0])
    t.csv: the header names column 'a' twice (columns 1 and 2)
    """
    names = [c.strip() if isinstance(c, str) else c for c in frame.columns]
    renamed = {c: n for c, n in zip(frame.columns, names, strict=True) if c != n}
    if not renamed:
        return frame
    refuse_repeated_columns(names, where)
    return frame.rename(columns=renamed)


def refuse_repeated_parquet_columns(path: str | Path) -> None:
    """Refuse a Parquet file whose schema names a column twice, before a column is read.

    pyarrow refuses to read such a file with a many-line ``Multiple matches for FieldRef``;
    the schema (the file's footer) is read alone, and a repeated name, empty ones included,
    stops in one line naming it and its places. A file whose schema cannot be read is left
    to the reader, which says why.

    Parameters
    ----------
    path : str or Path
        The Parquet file.

    Raises
    ------
    ValueError
        Naming the column and its places (counted from 1).

    Examples
    --------
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table([[1], [2], [3]], names=["a", "b", "a"]), path)
    >>> try:
    ...     refuse_repeated_parquet_columns(path)
    ... except ValueError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    the schema names column 'a' twice (columns 1 and 3); give each column its own name.
    """
    try:
        import pyarrow.parquet as pq

        header = pq.read_schema(path).names
    except Exception:  # no pyarrow, or not a Parquet file: the reader says which
        return
    refuse_repeated_columns(header, str(path), unnamed=True, names="the schema")


def unnamed_columns(header: Sequence[Any], *, pandas_names: bool = False) -> list[int]:
    """The places (from 0) of a header row's columns without a name.

    Parameters
    ----------
    header : sequence
        The header row's names as the file writes them: an empty (or blank) text or a
        missing value (``None``, NaN) is no name.
    pandas_names : bool, default=False
        Take the name pandas gives a column without one (``Unnamed: 0``) as no name too:
        for a table whose header row is gone (a Parquet file written from a CSV read back
        by pandas), not for a header row read as it is, where it is a name written.

    Returns
    -------
    list of int

    Examples
    --------
    >>> unnamed_columns(["", "a", None, " "])
    [0, 2, 3]
    >>> header = ["Unnamed: 0", "a"]  # as a header row writes it, or as pandas names it
    >>> unnamed_columns(header), unnamed_columns(header, pandas_names=True)
    ([], [0])
    """
    return [
        c
        for c, name in enumerate(header)  # the header's names, not the rows
        if not isinstance(name, str)
        or not name.strip()
        or (pandas_names and _PANDAS_UNNAMED.fullmatch(name) is not None)
    ]


def unnamed_value_message(where: str, column: int, header: Sequence[Any], saver: str | None) -> str:
    """The one-line refusal of a value under a column without a name.

    Parameters
    ----------
    where : str
        The file and the row (``"t.csv, line 2"``).
    column : int
        The column's place, from 0 (named from 1).
    header : sequence
        The header row's names; a column without a name before every named one is taken
        for a pandas index, and the message says how to save the file without it.
    saver : str or None
        The pandas method that writes such a file (``"to_csv"``, ``"to_excel"``), or
        ``None`` for no such hint.

    Returns
    -------
    str

    Examples
    --------
    >>> unnamed_value_message("t.csv, line 2", 0, ["", "a"], "to_csv")  # doctest: +ELLIPSIS
    't.csv, line 2, column 1: a value in a column without a name; name the column in ...'
    """
    name = header[column] if column < len(header) else None
    pandas_name = isinstance(name, str) and _PANDAS_UNNAMED.fullmatch(name) is not None
    leading = len(unnamed_columns(header[:column], pandas_names=pandas_name)) == column
    if pandas_name:  # no header row is left (Parquet): the name pandas gave it
        index = (
            " (a pandas index read back from a CSV file: read it with read_csv(index_col=0) "
            "or drop the column)"
            if leading
            else ""
        )
        return (
            f"{where}, column {column + 1} ({name!r}): a value in a column without a name, "
            f"as pandas calls one; name the column{index}."
        )
    index = f" (a pandas index: save with {saver}(index=False))" if leading and saver else ""
    return (
        f"{where}, column {column + 1}: a value in a column without a name; name the column "
        f"in the header row{index}."
    )


def refuse_unnamed_value(
    header: Sequence[Any],
    unnamed: Sequence[int],
    cells: Sequence[Any],
    where: str,
    saver: str | None,
) -> None:
    """Refuse a row with a value under a column that the header row leaves without a name.

    A row's cells are kept by column name, so such a value would become a field called
    ``''`` (or hide another unnamed column's), or a feature. A column without a name whose
    cells are all blank (a sheet's trailing empty columns, trailing commas) is left out by
    the reader without a word.

    Parameters
    ----------
    header : sequence
        The header row's names.
    unnamed : sequence of int
        The places (from 0) of the header's columns without a name
        (:func:`unnamed_columns`).
    cells : sequence
        One row's cells in the file's order; cells past the header have no name either.
    where : str
        The file and the row, for the message.
    saver : str or None
        See :func:`unnamed_value_message`.

    Raises
    ------
    ValueError
        Naming the row, the column (from 1) and the fix.

    Examples
    --------
    >>> refuse_unnamed_value(["a", ""], [1], ["1", " "], "t.csv, line 2", "to_csv")
    >>> try:
    ...     refuse_unnamed_value(["", "a"], [0], ["0", "1"], "t.csv, line 2", "to_csv")
    ... except ValueError as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
    t.csv, line 2, column 1: a value in a column without a name; name the column in the
    header row (a pandas index: save with to_csv(index=False)).
    """
    places = [*unnamed, *range(len(header), len(cells))]
    stray = next((c for c in places if not blank(cells[c])), None)
    if stray is not None:
        raise ValueError(unnamed_value_message(where, stray, header, saver))


def without_unnamed_columns(
    frame: Any,
    header: Sequence[Any],
    where: Callable[[int], str],
    saver: str | None,
    *,
    pandas_names: bool = False,
) -> Any:
    """A table read by pandas without its columns that have no name, refusing one with values.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, its columns in the file's order.
    header : sequence
        The names the file's header row writes, one per column of ``frame`` (``""`` or a
        missing value for none), read as they are: pandas renames an empty header cell
        ``Unnamed: N``, which a header row may also write as a name.
    where : callable
        The file and the row (for the message) of the table's row at a place (from 0).
    saver : str or None
        See :func:`unnamed_value_message`.
    pandas_names : bool, default=False
        See :func:`unnamed_columns`.

    Returns
    -------
    pandas.DataFrame
        ``frame`` without its columns that have no name (all of them blank).

    Raises
    ------
    ValueError
        At the first row with a value under a column without a name, naming the row, the
        column (from 1) and the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1, 2], "Unnamed: 1": [None, None]})
    >>> without_unnamed_columns(frame, ["a", None], lambda r: f"row {r}", "to_csv").columns.tolist()
    ['a']
    """
    import numpy as np

    unnamed = unnamed_columns(header, pandas_names=pandas_names)
    if not unnamed:
        return frame
    columns = [frame.iloc[:, c] for c in unnamed]  # a few columns
    refuse_unnamed_columns(columns, unnamed, header, where, saver)
    keep = np.setdiff1d(np.arange(frame.shape[1]), unnamed)
    return frame.iloc[:, keep]


def first_row_width(path: str | Path, sep: str) -> int:
    """The number of cells in a CSV file's first row after its header row (0 for none).

    Parameters
    ----------
    path : str or Path
        The file (gzip-compressed when its name ends in ``.gz``).
    sep : str
        Its separator (:func:`csv_format`).

    Returns
    -------
    int

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b,label\\n\\n1,2,x,,\\n")
    >>> first_row_width(path, ",")
    5
    """
    import csv

    path = Path(path)
    opener: Any = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as f:
        rows = csv.reader(f, delimiter=sep)
        next(rows, None)  # the header row
        return len(next((row for row in rows if row), []))  # blank lines passed over


def with_cells_past_header(
    frame: Any, header: Sequence[Any], row_width: int
) -> tuple[Any, list[Any]]:
    """A table pandas read from a CSV file whose rows are wider than its header row, its
    cells put back in the file's order, and the header with the cells past it unnamed.

    pandas reads the first cells of such rows (a spreadsheet's trailing empty cells,
    ``1,2,x,,``) as the table's index when the first row is wider than the header, and the
    header's names over the cells after them: every column was shifted. The table read
    back puts the index first again, as the file does, so that
    :func:`without_unnamed_columns` leaves out the cells past the header, or refuses a
    value there.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as ``pandas.read_csv`` read it.
    header : sequence
        The names the header row writes, as they are.
    row_width : int
        The number of cells of the file's first row after the header
        (:func:`first_row_width`).

    Returns
    -------
    (pandas.DataFrame, list)
        The table and its header, both as wide as the file's rows (``frame`` and ``header``
        themselves when the first row is not wider than the header).

    Examples
    --------
    >>> import io, pandas as pd
    >>> frame = pd.read_csv(io.StringIO("a,b,label\\n1,2,x,,\\n3,4,y,,\\n"))
    >>> frame["a"].tolist()  # shifted: the first two cells of each row are the index
    ['x', 'y']
    >>> table, names = with_cells_past_header(frame, ["a", "b", "label"], 5)
    >>> table["a"].tolist(), names
    ([1, 3], ['a', 'b', 'label', '', ''])
    """
    import pandas as pd

    extra = row_width - len(header)
    if extra <= 0 or frame.shape[1] != len(header) or frame.index.nlevels != extra:
        return frame, list(header)
    first = frame.index.to_frame(index=False)  # the rows' first cells, in the file's order
    table = pd.concat([first, frame.reset_index(drop=True)], axis=1)
    names = [*header, *[""] * extra]
    table.columns = [n if n in frame.columns else f"Unnamed: {j}" for j, n in enumerate(names)]
    return table, names


def refuse_unnamed_columns(
    columns: Sequence[Any],
    unnamed: Sequence[int],
    header: Sequence[Any],
    where: Callable[[int], str],
    saver: str | None,
) -> None:
    """Refuse a value in a table's columns without a name, given only those columns.

    The check of :func:`without_unnamed_columns`, for a reader that need not convert its
    whole table to pandas (a Parquet table converts only these columns).

    Parameters
    ----------
    columns : sequence of pandas.Series
        The columns without a name, as pandas reads them, one per place in ``unnamed``.
    unnamed : sequence of int
        Their places (from 0) in the table (:func:`unnamed_columns`).
    header : sequence
        The table's names, one per column.
    where, saver
        As for :func:`without_unnamed_columns`.

    Raises
    ------
    ValueError
        At the first row with a value under a column without a name, naming the row, the
        column (from 1) and the fix.
    """
    import numpy as np

    if not unnamed:
        return
    filled = np.column_stack([_filled(column) for column in columns])
    rows = filled.any(axis=1)
    if rows.any():
        r = int(rows.argmax())
        column = unnamed[int(filled[r].argmax())]
        raise ValueError(unnamed_value_message(where(r), column, header, saver))


def _filled(column: Any) -> Any:
    """Where a column read by pandas holds a value: neither missing nor blank text."""

    filled = column.notna().to_numpy(dtype=bool, copy=True)
    if column.dtype.kind not in "biufcmM":  # texts (object or pandas' str) may be blank
        try:
            empty = column.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        except AttributeError:  # no text at all (JSON lists)
            return filled
        filled &= ~empty
    return filled
