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

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from activelab._validation import check_count, check_seed
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
    header, rows, decimal, first = _read_rows(path)
    if label_column not in header:
        raise ValueError(
            f"{path} has no column {label_column!r} (columns: {header}); "
            "name the label column with --label-column."
        )
    if not rows:
        raise ValueError(f"{path} has a header but no items.")
    li = header.index(label_column)
    id_name = id_column_of(header, id_column, label_column, str(path))
    skip = {li, *([header.index(id_name)] if id_name else [])}
    widths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    short = np.flatnonzero(widths != len(header))
    if short.size:
        r = int(short[0])
        raise ValueError(
            f"{path}, line {r + first}: {len(rows[r])} fields, the header has {len(header)}."
        )
    # one array of Python strings per column: a fixed-width text array of every cell took
    # rows x columns x the longest cell of the file (a 0.9 MB file with one 3,000-character
    # note took 6.8 GB)
    columns = [np.array(c, dtype=object) for c in zip(*rows, strict=True)]
    del rows
    y = columns[li].tolist()
    X, names = _features(columns, header, skip, path, decimal, first)
    if not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{path}, line {r + first}: column {names[c]!r} is missing or not finite; "
            "impute or drop it first."
        )
    ya = np.asarray(y)
    empty = np.flatnonzero(np.char.strip(ya.astype(str)) == "")
    if empty.size:
        raise ValueError(
            f"{path}: {empty.size} of {len(ya)} rows have no label in column {label_column!r} "
            f"(the first on line {empty[0] + first}); a replayed stream needs every label, so drop "
            "those rows."
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


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], str, int]:
    """A stream file's header, its rows as texts, its decimal mark and the line of its first row.

    A ``.csv`` (``.tsv``, ``.txt``) file is read as :func:`activelab.data.csvfile.csv_format`
    says; a ``.jsonl`` file holds one JSON object per item, its keys the columns (a key
    missing from an object is an empty cell). Either may be gzip-compressed (``.gz``).
    """
    from activelab.data.csvfile import csv_format

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
        if json_lines:
            with opener(path, "rt", encoding="utf-8-sig") as f:
                header, rows = _json_rows(f, path)
            return header, rows, ".", 1
        sep, decimal = csv_format(path)
        with opener(path, "rt", newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=sep)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path} is empty; it needs a header row and items.")
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from exc
    except (OSError, EOFError) as exc:
        if not gz:
            raise
        # not a gzip file, or one cut short
        raise ValueError(f"{path}: not a readable gzip file ({exc}).") from exc
    except csv.Error as exc:
        raise ValueError(f"{path}: malformed CSV ({exc}).") from exc
    return header, rows, decimal, 2


def _json_rows(lines: Any, path: Path) -> tuple[list[str], list[list[str]]]:
    """The columns and rows of JSON Lines: one object per line, its values as texts."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):  # reading the file, one item a line
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}, line {number}: not JSON ({exc.msg}); a .jsonl stream holds one JSON "
                "object per line."
            ) from None
        if not isinstance(record, dict):
            raise ValueError(
                f"{path}, line {number}: {type(record).__name__}, not a JSON object; a .jsonl "
                'stream holds one object per line, e.g. {"amount": 12.5, "label": "fraud"}.'
            )
        records.append(record)
    if not records:
        raise ValueError(f"{path} is empty; it needs one JSON object per item.")
    header = list(dict.fromkeys(key for record in records for key in record))
    return header, [[_text(record.get(key)) for key in header] for record in records]


def _text(value: Any) -> str:
    """A JSON value as a cell's text: ``None`` (or a missing key) is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _features(
    columns: list[np.ndarray],
    header: list[str],
    skip: set[int],
    path: Path,
    decimal: str = ".",
    first: int = 2,
) -> tuple[np.ndarray, list[str]]:
    """The feature matrix of a stream file's columns (object arrays of the cells' texts):
    numeric columns as they are (``decimal`` their decimal mark), then columns of
    categories one-hot over the values in the file (as a simulated table). ``first`` is
    the file's line of the first row, for the errors."""
    from operator import methodcaller

    from activelab.data.tables import MAX_CATEGORIES, _is_category

    numbers: list[np.ndarray] = []
    names: list[str] = []
    blocks: list[np.ndarray] = []
    block_names: list[str] = []
    n = columns[0].shape[0]
    for j, name in enumerate(header):  # a loop over columns, not rows
        if j in skip:
            continue
        column = np.array(list(map(str.strip, columns[j])), dtype=object)
        filled = column != ""
        try:
            values = np.full(n, np.nan)
            digits = column[filled]
            if decimal != ".":  # "1,5" in a semicolon-separated spreadsheet export
                digits = np.array(
                    list(map(methodcaller("replace", decimal, "."), digits)), dtype=object
                )
            values[filled] = digits.astype(float)
        except ValueError:
            distinct, codes = np.unique(column, return_inverse=True)
            if not _is_category(distinct.tolist(), n):
                r = next(r for r, v in enumerate(column.tolist()) if v and not _is_float(v))
                raise ValueError(
                    f"{path}, line {r + first}: column {name!r} has {columns[j][r]!r}, not a "
                    "number; stream features are numbers or categories (2 to "
                    f"{MAX_CATEGORIES} values, each on two rows on average): encode or drop "
                    "this column."
                ) from None
            blocks.append((codes.reshape(-1, 1) == np.arange(distinct.size)).astype(float))
            block_names += [f"{name}={v}" for v in distinct.tolist()]
            continue
        numbers.append(values)
        names.append(name)
    X = np.column_stack(numbers) if numbers else np.empty((n, 0))
    if blocks:
        X = np.hstack([X, *blocks])
    return X, names + block_names


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True
