"""The streams that ship inside installed packages, as arrays in arrival order.

========================  =============================================================
``phishing``              river's Phishing (1,250 web pages, 9 features, 2 classes).
``sea-drift``             river's SEA generator: ``x1 + x2 <= 8`` (variant 0) turning
                          into ``x1 + x2 <= 9.5`` (variant 3) halfway, through
                          ``ConceptDriftStream``; 3 features, the third is noise.
``agrawal-drift``         river's Agrawal loan generator (9 features): classification
                          function 0 (``age < 40 or age >= 60``) turning into
                          function 4 (rules on age, salary and loan) halfway: most
                          of the young and old applicants flip class, far from the
                          first rule's boundaries at 40 and 60.
========================  =============================================================

Needs the ``[data]`` extra (river). Nothing is downloaded.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import gzip
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from activelab._jsonl import gzip_read, json_objects
from activelab._text import count, did_you_mean
from activelab._validation import check_count, check_seed
from activelab.data.csvfile import unnamed_columns
from activelab.data.datasets import id_column_of, infer_task

__all__ = ["STREAMS", "Stream", "load_csv", "load_stream"]

#: The names of the bundled streams (:func:`load_stream`).
STREAMS = ("phishing", "sea-drift", "agrawal-drift")

#: The classes of the synthetic streams' generators (SEA's are booleans, Agrawal's 0 and 1).
_SYNTH_CLASSES: dict[str, list[Any]] = {"sea-drift": [False, True], "agrawal-drift": [0, 1]}


@dataclass
class Stream:
    """A labelled stream, in arrival order.

    Attributes
    ----------
    name : str
    X : ndarray of shape (n_items, n_features)
    y : ndarray of shape (n_items,)
    feature_names : list of str
    classes : ndarray
    drift_at : int or None
        The centre of the concept drift (None when there is none).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[Any]
    classes: np.ndarray
    drift_at: int | None = None

    def __len__(self) -> int:
        return len(self.y)


def _river() -> Any:
    try:
        import river
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        raise ModuleNotFoundError(
            "The bundled streams need river: pip install 'activelab[data]'"
        ) from exc
    import river.datasets

    return river.datasets


def _to_arrays(pairs: Any) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    xs, ys = [], []
    names: list[Any] | None = None
    for x, y in pairs:
        if names is None:
            names = list(x)
        xs.append([x[k] for k in names])
        ys.append(y)
    return np.asarray(xs, dtype=float), np.asarray(ys), names or []


def load_stream(
    name: str,
    *,
    n_items: int | None = None,
    seed: int | None = 0,
    drift_width: int = 50,
) -> Stream:
    """Load a bundled stream by name.

    Parameters
    ----------
    name : {"phishing", "sea-drift", "agrawal-drift"}
    n_items : int, optional
        Items of a synthetic stream (default 20,000; the drift is at its
        middle). Phishing has 1,250 items; a smaller ``n_items`` cuts it.
    seed : int or None, default=0
        Seeds the synthetic generators; ``None`` draws a fresh seed.
    drift_width : int, default=50
        Items over which the synthetic drift happens (at least ``n_items / 350``:
        river's drift sigmoid overflows for sharper drifts far into a stream).

    Examples
    --------
    >>> s = load_stream("phishing")
    >>> s.X.shape, s.classes.tolist()
    ((1250, 9), [False, True])
    >>> load_stream("sea-drift", n_items=1000, seed=1).drift_at
    500
    """
    if n_items is not None:
        n_items = check_count(n_items, "n_items", minimum=2)
    seed = check_seed(seed)
    drift_width = check_count(drift_width, "drift_width", minimum=0)
    ds = _river()
    if name == "phishing":
        X, y, names = _to_arrays(ds.Phishing())
        classes = np.unique(y)  # of the whole stream: its first items may hold one class
        if n_items is not None:
            X, y = X[:n_items], y[:n_items]
        return Stream(name, X, y, names, classes)
    if name not in STREAMS:
        raise ValueError(f"Unknown stream {name!r}; choose one of {list(STREAMS)} or a CSV file.")
    n = 20_000 if n_items is None else n_items
    at = n // 2
    synth = ds.synth
    if name == "sea-drift":
        before = synth.SEA(variant=0, seed=seed)
        after = synth.SEA(variant=3, seed=seed + 1)
    else:
        before = synth.Agrawal(classification_function=0, seed=seed)
        after = synth.Agrawal(classification_function=4, seed=seed + 1)
    # river's sigmoid overflows math.exp when position / width > ~177: widen the drift then
    width = max(drift_width, -(-4 * at // 700))
    gen = synth.ConceptDriftStream(
        stream=before, drift_stream=after, position=at, width=width, seed=seed
    )
    X, y, names = _to_arrays(gen.take(n))
    # the generators' two classes, though a short stream may draw one of them only
    classes = np.unique(np.concatenate([y, np.array(_SYNTH_CLASSES[name], dtype=y.dtype)]))
    return Stream(name, X, y, names, classes, drift_at=at)


def load_csv(path: str | Path, label_column: str, id_column: str | None = None) -> Stream:
    """A labelled stream from a CSV file with a header row, in file order.

    The file is a ``.csv`` (``;``-separated with decimal commas when its header holds
    no comma; ``.tsv`` for tabs) or a ``.jsonl`` (one JSON object per item, its keys the
    columns), either of them gzip-compressed (``.csv.gz``, ``.jsonl.gz``), as
    :func:`activelab.data.datasets.load_table` reads them.

    Every column but ``label_column`` and the id column is a feature: numbers as they
    are, and a column of categories (2 to 50 distinct texts, each on two rows on
    average, as :func:`activelab.data.tables.category_columns` reads a table) one
    0/1 column per value found in the file, after the numeric ones. The id column
    (``id_column``; by default a column called ``id``, ``""`` for none) is never a
    feature: an id numbered in the file's order would tell the model the item's place.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("a,b,y\\n1,2,yes\\n3,4,no\\n5,6,yes\\n")
    >>> s = load_csv(f.name, "y"); os.unlink(f.name)
    >>> s.X.shape, s.classes.tolist(), s.feature_names
    ((3, 2), ['no', 'yes'], ['a', 'b'])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such stream file: {path}")
    with _read_rows(path) as (header, rows, decimal):
        if label_column not in header:
            hint = did_you_mean(label_column, header, cutoff=0.7, lowercase=True)
            raise ValueError(
                f"{path} has no column {label_column!r} (columns: {header}).{hint} Name the "
                "label column with --label-column."
            )
        li = header.index(label_column)
        id_name = id_column_of(header, id_column, label_column, str(path))
        skip = {li, *([header.index(id_name)] if id_name else [])}
        table = _Table(header, li, skip, path, decimal, unnamed_columns(header))
        while chunk := list(itertools.islice(rows, _CHUNK)):
            table.add(chunk)
    if not table.n:
        raise ValueError(f"{path} has a header but no items.")
    X, names = table.features()
    y = np.concatenate(table.labels)
    if not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{path}, line {table.line(r)}: column {names[c]!r} is missing or not finite; "
            "impute or drop it first."
        )
    ya = y
    empty = np.flatnonzero(ya == "")
    if empty.size:
        raise ValueError(
            f"{path}: {empty.size} of {count(len(ya), 'row')} "
            f"{'has' if empty.size == 1 else 'have'} no label in column {label_column!r} "
            f"(the first on line {table.line(empty[0])}); a replayed stream needs every label, "
            "so drop those rows."
        )
    task, why = infer_task(ya)
    if task == "regression":  # a quantity: its values are not classes to decide on
        raise ValueError(
            f"{path}: column {label_column!r} holds a quantity ({why}), not classes; a stream "
            "replays classification, so bin it into classes first (e.g. pandas.cut)."
        )
    classes = np.unique(ya)
    if classes.size < 2:
        raise ValueError(
            f"{path}: every label in column {label_column!r} is {classes[0].tolist()!r}; a "
            "stream to learn from needs at least two classes (is it the right label column?)."
        )
    return Stream(path.stem, X, ya, names, classes)


#: The stream files :func:`load_csv` reads, by suffix (each may be gzip-compressed, ``.gz``).
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
_JSON_SUFFIXES = (".jsonl", ".ndjson")


@contextlib.contextmanager
def _read_rows(path: Path) -> Iterator[tuple[list[str], Iterator[tuple[int, list[str]]], str]]:
    """A stream file's header, an iterator over its rows (each row's line in the file and its
    cells as texts) and its decimal mark, while the file is open.

    A ``.csv`` (``.tsv``, ``.txt``) file is read as :func:`activelab.data.csvfile.csv_format`
    says, row by row; a ``.jsonl`` file holds one JSON object per item, its keys the columns
    (a key missing from an object is an empty cell), and is read twice: for its keys, then
    for its rows. Either may be gzip-compressed
    (``.gz``). A file that cannot be decoded, decompressed or parsed is a ``ValueError``.
    """
    from activelab.data.csvfile import csv_format, refuse_repeated_columns

    name = path.name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    opener: Any = gzip.open if gz else open
    json_lines = base.endswith(_JSON_SUFFIXES)
    if not json_lines and not base.endswith(_TABLE_SUFFIXES):
        raise ValueError(
            f"{path}: a stream file is a .csv (or .tsv) with a header row or a .jsonl with one "
            "JSON object per item, either of them gzip-compressed or not (.gz); got "
            f"{''.join(path.suffixes) or 'no suffix'}: convert it first, e.g. with pandas."
        )
    try:
        with gzip_read(path, gz, ValueError):
            if json_lines:  # a first reading for the columns (every key), a second for the rows
                with opener(path, "rt", encoding="utf-8-sig") as f:
                    keys = dict.fromkeys(
                        key for _, record in _json_records(f, path) for key in record
                    )
                if not keys:
                    raise ValueError(f"{path} is empty; it needs one JSON object per item.")
                header = list(keys)
                with opener(path, "rt", encoding="utf-8-sig") as f:
                    rows = (
                        (number, [_text(r.get(key)) for key in header])
                        for number, r in _json_records(f, path)
                    )
                    yield header, rows, "."
                return
            sep, decimal = csv_format(path)
            with opener(path, "rt", newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f, delimiter=sep)
                header = next(reader, None)
                if header is None:
                    raise ValueError(f"{path} is empty; it needs a header row and items.")
                header = [name.strip() for name in header]  # "a, b, label" names "label"
                refuse_repeated_columns(header, str(path))
                yield header, _numbered(reader), decimal
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from exc
    except csv.Error as exc:
        raise ValueError(f"{path}: malformed CSV ({exc}).") from exc


def _numbered(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """The rows of a ``csv.reader``, each with the line of the file it begins on (a quoted
    cell may span lines); empty lines (an editor's last one) are skipped, as pandas does."""
    start = reader.line_num + 1
    for row in reader:
        if row:
            yield start, row
        start = reader.line_num + 1


def _json_records(lines: Any, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of JSON Lines, each with its line in the file (blank lines skipped, and
    counted), read lazily (:func:`activelab._jsonl.json_objects`)."""
    return json_objects(
        path,
        lines,
        ValueError,
        'a .jsonl stream holds one object per line, e.g. {"amount": 12.5, "label": "fraud"}',
        "; a .jsonl stream holds one JSON object per line",
    )


def _text(value: Any) -> str:
    """A JSON value as a cell's text: ``None`` (or a missing key) is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


#: Rows parsed at a time: a chunk's texts are turned into numbers (or category codes)
#: before the next is read, so a file's memory is its numbers, not its text.
_CHUNK = 65_536


class _Table:
    """A stream file's columns, filled chunk by chunk.

    A feature column holds numbers (``decimal`` their decimal mark) until a cell that is
    none turns it into a column of categories; the codes of its distinct texts are kept
    while there are at most ``MAX_CATEGORIES`` of them, so such a column is one-hot
    encoded over the values in the file at the end (as a simulated table), after the
    numeric ones. The label column (``label``) is kept as texts, stripped of surrounding
    spaces; the others of ``skip`` (the id column) are not kept. A column the header leaves
    without a name (``unnamed``: a pandas index, trailing commas) is not kept either, and a
    value in it is refused (:func:`activelab.data.csvfile.unnamed_value_message`).
    """

    def __init__(
        self,
        header: list[str],
        label: int,
        skip: set[int],
        path: Path,
        decimal: str,
        unnamed: list[int] | None = None,
    ) -> None:
        self.unnamed = list(unnamed or [])
        skip = skip | set(self.unnamed)
        self.header, self.label, self.skip, self.path = header, label, skip, path
        self.decimal = decimal
        self.n = 0
        self.labels: list[np.ndarray] = []
        # each chunk's first row and its rows' lines in the file: the first line alone
        # when they follow one another (no blank line, no cell over several lines)
        self.starts: list[int] = []
        self.lines: list[int | np.ndarray] = []
        features = [j for j in range(len(header)) if j not in skip]
        self.values: dict[int, list[np.ndarray] | None] = {j: [] for j in features}
        self.codes: dict[int, list[np.ndarray] | None] = {j: [] for j in features}
        self.index: dict[int, dict[str, int]] = {j: {} for j in features}
        self.bad: dict[int, tuple[int, str]] = {}  # a column's first cell that is no number

    def add(self, chunk: list[tuple[int, list[str]]]) -> None:
        """Parse one chunk of rows, each with the line of the file it begins on."""
        from activelab.data.tables import MAX_CATEGORIES

        numbers, cut = zip(*chunk, strict=True)
        rows = list(cut)
        lines = np.asarray(numbers, dtype=np.int64)
        m = len(rows)
        self.starts.append(self.n)
        self.lines.append(int(lines[0]) if int(lines[-1] - lines[0]) == m - 1 else lines)
        widths = np.fromiter(map(len, rows), dtype=np.int64, count=m)
        short = np.flatnonzero(widths < len(self.header))
        if short.size:
            r = int(short[0])
            raise ValueError(
                f"{self.path}, line {lines[r]}: {len(rows[r])} fields, the "
                f"header has {len(self.header)}."
            )
        if (widths > len(self.header)).any():  # a spreadsheet's trailing empty cells
            rows = self._within_header(rows, lines, np.flatnonzero(widths > len(self.header)))
        if self.unnamed:
            self._refuse_unnamed(rows, lines)
        for j, cells in enumerate(zip(*rows, strict=True)):  # a loop over columns, not rows
            if j == self.label:  # " fraud" is "fraud", not a class of its own
                self.labels.append(np.asarray(list(map(str.strip, cells)), dtype=str))
            if j in self.skip:
                continue
            column = np.array(list(map(str.strip, cells)), dtype=object)
            codes = self.codes[j]
            if codes is not None:
                distinct, inverse = np.unique(column, return_inverse=True)
                index = self.index[j]
                texts = distinct.tolist()
                if len(texts) + len(index) > MAX_CATEGORIES and (
                    len(texts) > MAX_CATEGORIES
                    or len(index) + sum(v not in index for v in texts) > MAX_CATEGORIES
                ):  # too many values for categories: no more codes to keep
                    self.codes[j] = codes = None
                    self.index[j] = {}
                else:
                    at = [index.setdefault(v, len(index)) for v in texts]  # at most 50
                    codes.append(np.asarray(at, dtype=np.int8)[inverse.ravel()])
            values = self.values[j]
            if values is not None:
                number = self._numbers(column)
                if number is not None:
                    values.append(number)
                else:
                    self.values[j] = values = None
                    r = next(r for r, v in enumerate(column.tolist()) if v and not _is_float(v))
                    self.bad[j] = (self.n + r, cells[r])
            if values is None and codes is None:
                self._refuse(j)
        self.n += m

    def _within_header(
        self, rows: list[list[str]], lines: np.ndarray, wide: np.ndarray
    ) -> list[list[str]]:
        """A chunk's rows without their cells past the header's (``wide``: the rows that
        have some), refusing a row with a value there, naming its line."""
        from activelab.data.csvfile import past_header_refusal

        width = len(self.header)
        for r in wide.tolist():  # the rows with cells past the header (a sheet's: blank)
            refusal = past_header_refusal(width, rows[r], f"{self.path}, line {lines[r]}")
            if refusal is not None:
                raise ValueError(refusal)
            rows[r] = rows[r][:width]
        return rows

    def _refuse_unnamed(self, rows: list[list[str]], lines: np.ndarray) -> None:
        """Refuse a chunk's first value under a column without a name, naming its line."""
        from operator import itemgetter

        from activelab.data.csvfile import refuse_unnamed_value

        hit = np.zeros(len(rows), dtype=bool)
        for j in self.unnamed:  # a loop over the columns without a name, not the rows
            cells = np.array(list(map(itemgetter(j), rows)), dtype=str)
            hit |= np.char.str_len(np.char.strip(cells)) > 0
        if hit.any():
            r = int(hit.argmax())
            where = f"{self.path}, line {lines[r]}"
            refuse_unnamed_value(self.header, self.unnamed, rows[r], where, "to_csv")

    def line(self, r: int) -> int:
        """The line of the file that row ``r`` (from 0, over every chunk added) begins on."""
        k = bisect.bisect_right(self.starts, r) - 1
        lines = self.lines[k]
        if isinstance(lines, int):
            return lines + r - self.starts[k]
        return int(lines[r - self.starts[k]])

    def _numbers(self, column: np.ndarray) -> np.ndarray | None:
        """A chunk of a column as numbers (NaN where empty); ``None`` if a cell is none."""
        from operator import methodcaller

        filled = column != ""
        values = np.full(column.shape[0], np.nan)
        digits = column[filled]
        if self.decimal != ".":  # "1,5" in a semicolon-separated spreadsheet export
            replace = methodcaller("replace", self.decimal, ".")
            digits = np.array(list(map(replace, digits)), dtype=object)
        try:
            values[filled] = digits.astype(float)
        except ValueError:
            return None
        return values

    def _refuse(self, j: int) -> None:
        """Refuse column ``j``: neither numbers nor categories; names its first text."""
        from activelab.data.tables import MAX_CATEGORIES

        r, cell = self.bad[j]
        raise ValueError(
            f"{self.path}, line {self.line(r)}: column {self.header[j]!r} has {cell!r}, not "
            "a number; stream features are numbers or categories (2 to "
            f"{MAX_CATEGORIES} values, each on two rows on average): encode or drop this "
            "column."
        )

    def features(self) -> tuple[np.ndarray, list[str]]:
        """The feature matrix: the numeric columns, then the categories one-hot."""
        from activelab.data.tables import _is_category

        numbers: list[np.ndarray] = []
        names: list[str] = []
        blocks: list[np.ndarray] = []
        block_names: list[str] = []
        for j, values in self.values.items():
            name = self.header[j]
            if values is not None:
                numbers.append(np.concatenate(values))
                names.append(name)
                continue
            texts = list(self.index[j])
            codes = self.codes[j]
            if codes is None or not _is_category(texts, self.n):
                self._refuse(j)
            order = np.argsort(np.array(texts, dtype=object), kind="stable")
            rank = np.empty(len(texts), dtype=np.int64)
            rank[order] = np.arange(len(texts))
            coded = rank[np.concatenate(codes)]
            blocks.append((coded.reshape(-1, 1) == np.arange(len(texts))).astype(float))
            block_names += [f"{name}={texts[i]}" for i in order.tolist()]
        X = np.column_stack(numbers) if numbers else np.empty((self.n, 0))
        if blocks:
            X = np.hstack([X, *blocks])
        return X, names + block_names


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True
