"""Tables of items: Parquet files and Hugging Face ``datasets``.

One row per item. Known columns carry the labelling: ``id``; ``label`` (one
label; in a Hugging Face dataset often a ``ClassLabel`` integer, ``-1`` for
none) or ``labels`` (a list, multi-label); ``annotator`` and ``labelled_at``
(who answered, when); ``prediction``/``predictions``, ``score`` and
``model_version`` (a model's guess). Every other column is the item's data
(``text``, ``image``, table cells) and is written back as it was read.

Parquet needs ``pyarrow`` (the ``[sim]`` extra); Hugging Face datasets need
``datasets`` (the ``[interop]`` extra).

Examples
--------
>>> rows = [{"id": "a", "text": "good", "label": "pos"}, {"id": "b", "text": "bad", "label": None}]
>>> records = parse_rows(rows)
>>> [(r.id, r.final_labels()) for r in records]
[('a', ['pos']), ('b', None)]
>>> to_rows(records) == rows
True
"""

from __future__ import annotations

import base64
import contextlib
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from activelab._deprecated import warn_deprecated
from activelab._jsonl import blank
from activelab.interop.records import (
    Answer,
    FormatError,
    Prediction,
    Record,
    iso_seconds,
    time_seconds,
)

__all__ = [
    "LABEL_COLUMNS",
    "from_hf_dataset",
    "parse_rows",
    "read_hf",
    "read_hf_with_label_names",
    "read_parquet",
    "to_hf_dataset",
    "to_rows",
    "write_hf",
    "write_parquet",
]

#: columns that carry labels, answers and predictions rather than item data
LABEL_COLUMNS = (
    "id", "label", "labels", "annotator", "labelled_at", "prediction", "predictions",
    "score", "model_version",
)  # fmt: skip


def parse_rows(rows: list[dict[str, Any]], *, where: str = "") -> list[Record]:
    """Records from table rows (dicts column → value); problems name the row and column."""
    prefix = f"{where}, " if where else ""
    records = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=1):
        data = {k: v for k, v in row.items() if k not in LABEL_COLUMNS}
        if not data:
            raise FormatError(f"{prefix}row {n}: no data columns (e.g. 'text').")
        raw_id = row.get("id")
        rid = str(n) if raw_id is None else str(raw_id)
        if rid in seen:
            raise FormatError(
                f"{prefix}row {n}, column 'id': duplicate id {rid!r} (first in row {seen[rid]})."
            )
        seen[rid] = n
        labels = _labels(row, ("labels", "label"), n, prefix)
        answers = []
        if labels is not None:
            answers.append(
                Answer(
                    labels,
                    "accept",
                    _opt_str(row.get("annotator")),
                    _answer_time(row.get("labelled_at"), n, prefix),
                )
            )
        predictions = []
        guess = _labels(row, ("predictions", "prediction"), n, prefix)
        if guess is not None:
            score = row.get("score")
            if score is not None and (
                isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score)
            ):
                raise FormatError(f"{prefix}row {n}, column 'score': not a number ({score!r}).")
            predictions.append(
                Prediction(
                    guess,
                    None if score is None else float(score),
                    _opt_str(row.get("model_version")),
                )
            )
        extra = {"id": raw_id} if "id" in row else {}
        records.append(Record(rid, data, answers, predictions, extra, n))
    return records


def _labels(row: dict[str, Any], keys: tuple[str, str], n: int, prefix: str) -> list[str] | None:
    many, one = keys
    if many in row and row[many] is not None:
        value = row[many]
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise FormatError(
                f"{prefix}row {n}, column {many!r}: must be a list of labels, got {value!r}."
            )
        return [_label_text(v) for v in value]
    if one in row and row[one] is not None:
        value = row[one]
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, list | tuple | dict):
            raise FormatError(
                f"{prefix}row {n}, column {one!r}: one label per row, got {value!r} "
                f"(name the column {many!r} for several)."
            )
        return [_label_text(value)]
    return None


def _label_text(value: Any) -> str:
    """A label cell as text; a whole float is an integer (a column of integer labels with
    gaps is stored as floats: ``1.0`` is the label ``"1"``).

    Examples
    --------
    >>> _label_text(1.0), _label_text(0.5), _label_text(7), _label_text("01")
    ('1', '0.5', '7', '01')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _answer_time(value: Any, n: int, prefix: str) -> str | None:
    """A row's ``labelled_at`` as an answer's time: ISO 8601 text as written, a time value
    (a Parquet or Hugging Face timestamp, with or without a zone) or Unix seconds as ISO 8601
    UTC; ``None`` for an empty cell.

    Parameters
    ----------
    value : any
        The cell.
    n : int
        The row, for the message.
    prefix : str
        The file, for the message.

    Returns
    -------
    str or None

    Raises
    ------
    FormatError
        For a cell that is no time.
    """
    if (
        blank(value)
        or (isinstance(value, float) and math.isnan(value))
        or type(value).__name__ == "NaTType"
        or (isinstance(value, np.datetime64) and np.isnat(value))
    ):
        return None  # an empty cell, as pandas and pyarrow hold one too
    cell = value
    if isinstance(value, str):
        text = value.strip()
        if iso_seconds(text) is not None:
            return text  # ISO 8601 as written
        try:  # else Unix seconds written as text, as time_seconds reads them
            cell = float(text)
        except ValueError:
            cell = None
    seconds = time_seconds(cell)
    if seconds is None:
        raise FormatError(
            f"{prefix}row {n}, column 'labelled_at': {value!r} is not a time; give ISO 8601 "
            "(2024-05-01T12:00:00Z; no zone: UTC), Unix seconds or a timestamp column, or "
            "leave the cell empty for the import time."
        )
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _opt_str(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def to_rows(records: list[Record], *, multilabel: bool | None = None) -> list[dict[str, Any]]:
    """Table rows for ``records``: the latest accepted answer and the latest prediction.

    ``multilabel`` chooses a ``labels`` list column over a ``label`` column
    (default: when some answer or prediction has other than one label).
    """
    if multilabel is None:
        multilabel = any(len(a.labels) != 1 for r in records for a in r.answers) or any(
            len(p.labels) != 1 for r in records for p in r.predictions
        )
    has_answers = any(r.answers for r in records)
    who = any(a.annotator for r in records for a in r.answers)
    when = any(a.created_at for r in records for a in r.answers)
    has_pred = any(r.predictions for r in records)
    rows = []
    for rec in records:
        row: dict[str, Any] = {"id": rec.extra.get("id", rec.id), **rec.data}
        final = rec.final_labels()
        last = next((a for a in reversed(rec.answers) if a.status == "accept"), None)
        if has_answers:
            if multilabel:
                row["labels"] = final
            else:
                row["label"] = final[0] if final else None
            if who:  # whose label it is: none of theirs when the answers were combined
                theirs = last is not None and (
                    rec.settled is None or sorted(rec.settled) == sorted(last.labels)
                )
                row["annotator"] = last.annotator if theirs else None
            if when:
                row["labelled_at"] = last.created_at if last else None
        if has_pred:
            pred = rec.predictions[-1] if rec.predictions else None
            if multilabel:
                row["predictions"] = pred.labels if pred else None
            else:
                row["prediction"] = pred.labels[0] if pred and pred.labels else None
            row["score"] = pred.score if pred else None
            row["model_version"] = pred.model_version if pred else None
        rows.append(row)
    return rows


# ------------------------------------------------------------------ Parquet
def read_parquet(path: str | Path) -> list[Record]:
    """Read a Parquet file of items."""
    from activelab.data.csvfile import refuse_repeated_parquet_columns

    pq = _pyarrow_parquet()
    path = Path(path)
    try:
        refuse_repeated_parquet_columns(path)
    except ValueError as exc:
        raise FormatError(str(exc)) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise FormatError(f"{path}: not a readable Parquet file ({exc}).") from exc
    if table.num_rows == 0:
        raise FormatError(f"{path}: the table has no rows.")
    return parse_rows(_without_unnamed(table, path).to_pylist(), where=str(path))


def _without_unnamed(table: Any, path: Path) -> Any:
    """A Parquet table without its columns that have no name (``""``, or ``Unnamed: 0`` as
    pandas names an empty CSV header cell, such as the index ``to_csv()`` writes), refusing
    one that holds values as every reader of the project's tables does
    (:func:`_unnamed_refused`)."""
    names = list(table.column_names)
    unnamed = _unnamed_refused(names, lambda c: table.column(c).to_pandas(), str(path))
    return table.drop_columns(unnamed) if unnamed else table


def _unnamed_refused(names: list[str], column_of: Any, where: str) -> list[str]:
    """The names of a table's columns that have no name (``""``, spaces, or ``Unnamed: 0``
    as pandas names an empty CSV header cell), refusing one that holds values
    (:func:`activelab.data.csvfile.refuse_unnamed_columns`).

    Parameters
    ----------
    names : list of str
        The table's column names, in its order.
    column_of : callable
        A column's values as a ``pandas.Series``, from its place in ``names``; called for
        the columns without a name only.
    where : str
        The file (``"dataset"`` for a Hugging Face dataset), for the message.

    Returns
    -------
    list of str
        The names to leave out (``[]`` for none).

    Raises
    ------
    FormatError
        Naming the row and the column of a value in a column without a name.
    """
    from activelab.data.csvfile import refuse_unnamed_columns, unnamed_columns

    unnamed = unnamed_columns(names, pandas_names=True)
    if not unnamed:
        return []
    try:  # only the columns without a name are converted, by their places
        refuse_unnamed_columns(
            [column_of(c) for c in unnamed],
            unnamed,
            names,
            lambda r: f"{where}, row {r + 1}",
            None,
        )
    except ValueError as exc:
        raise FormatError(str(exc)) from None
    return [names[c] for c in unnamed]


def write_parquet(records: list[Record], path: str | Path, **kwargs: Any) -> None:
    """Write ``records`` as a Parquet file (``kwargs`` go to :func:`to_rows`)."""
    import pyarrow as pa

    pq = _pyarrow_parquet()
    pq.write_table(pa.Table.from_pylist(to_rows(records, **kwargs)), Path(path))


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ModuleNotFoundError as exc:  # pragma: no cover - pyarrow is in the [sim] extra
        raise FormatError("Parquet needs pyarrow: pip install 'activelab[sim]'.") from exc
    return pq


# ------------------------------------------------------- Hugging Face datasets
def from_hf_dataset(ds: Any) -> list[Record]:
    """Records from a Hugging Face ``datasets.Dataset``.

    A ``ClassLabel`` column becomes label names (``-1``: no label); an
    ``Image`` column becomes a ``data:`` URI (PNG or JPEG bytes, as stored).
    """
    import datasets as hf

    ds = _hf_without_unnamed(ds)
    features = ds.features
    image_cols = [c for c, f in features.items() if isinstance(f, hf.Image)]
    if image_cols:
        ds = ds.cast_column(image_cols[0], hf.Image(decode=False))
        for c in image_cols[1:]:
            ds = ds.cast_column(c, hf.Image(decode=False))
    rows = ds.to_list()
    names = {c: _class_names(f) for c, f in features.items()}
    for row in rows:
        for col, labels in names.items():
            if labels is None or row.get(col) is None:
                continue
            value = row[col]
            if isinstance(value, list):
                row[col] = [labels[v] for v in value]
            else:
                row[col] = None if value < 0 else labels[value]
        for col in image_cols:
            row[col] = _data_uri(row[col])
    return parse_rows(rows, where="dataset")


def _hf_without_unnamed(ds: Any) -> Any:
    """A Hugging Face dataset without its columns that have no name (``""``, spaces, or
    ``Unnamed: 0`` as pandas names an empty CSV header cell: ``Dataset.from_pandas`` of a
    CSV file read back with its index), refusing one that holds values, as a Parquet file's
    (:func:`_unnamed_refused`)."""
    names = list(ds.column_names)
    unnamed = _unnamed_refused(
        names, lambda c: ds.select_columns([names[c]]).to_pandas().iloc[:, 0], "dataset"
    )
    return ds.remove_columns(unnamed) if unnamed else ds


def _class_names(feature: Any) -> list[str] | None:
    import datasets as hf

    if isinstance(feature, hf.ClassLabel):
        return list(feature.names)
    inner = getattr(feature, "feature", None)
    if isinstance(inner, hf.ClassLabel):
        return list(inner.names)
    return None


def _data_uri(value: Any) -> str | None:
    if value is None:
        return None
    data = value.get("bytes") if isinstance(value, dict) else None
    if data is None:
        path = value.get("path") if isinstance(value, dict) else None
        return None if path is None else str(path)
    kind = "jpeg" if data[:3] == b"\xff\xd8\xff" else "png"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def to_hf_dataset(
    records: list[Record], *, label_names: list[str] | None = None, **kwargs: Any
) -> Any:
    """A Hugging Face ``datasets.Dataset`` of ``records``.

    With ``label_names`` the label column is a ``ClassLabel`` (a list of them
    for multi-label; ``-1`` for an unlabelled item, null for an unlabelled item's
    list, since an empty list is the answer "none of these"). An ``image`` column of
    ``data:`` URIs becomes an ``Image`` column.
    """
    import datasets as hf

    rows = to_rows(records, **kwargs)
    ds = hf.Dataset.from_list(rows)
    if (
        "image" in ds.column_names
        and rows
        and all(isinstance(r.get("image"), str) and r["image"].startswith("data:") for r in rows)
    ):
        ds = ds.map(lambda r: {"image": {"bytes": _uri_bytes(r["image"]), "path": None}})
        ds = ds.cast_column("image", hf.Image())
    if label_names is not None:
        index = {name: i for i, name in enumerate(label_names)}
        for col in ("label", "prediction"):
            if col in ds.column_names:
                ds = ds.map(lambda r, c=col: {c: -1 if r[c] is None else index[r[c]]})
                ds = ds.cast_column(col, hf.ClassLabel(names=list(label_names)))
        for col in ("labels", "predictions"):
            if col in ds.column_names:
                # an unanswered item stays null: [] is the answer "none of these"
                ds = ds.map(
                    lambda r, c=col: {c: None if r[c] is None else [index[v] for v in r[c]]}
                )
                ds = ds.cast_column(col, hf.Sequence(hf.ClassLabel(names=list(label_names))))
    return ds


def _uri_bytes(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


def read_hf(path: str | Path) -> list[Record]:
    """Read a Hugging Face dataset saved with ``Dataset.save_to_disk`` (one split)."""
    return from_hf_dataset(_load_hf(path))


def read_hf_with_label_names(path: str | Path) -> tuple[list[Record], list[str] | None]:
    """:func:`read_hf` and the names of the dataset's ``ClassLabel`` label column, loaded once.

    The ``labels`` column (a sequence of ``ClassLabel``) or the ``label`` column; the names
    are ``None`` when neither is a ``ClassLabel``. A project made from the dataset without
    ``--labels`` takes these names as its labels, so that an export gives every class its
    integer back and a class without an example yet is one of them.
    """
    ds = _load_hf(path)
    return from_hf_dataset(ds), _label_column_names(ds.features)


def _load_hf(path: str | Path) -> Any:
    """The one split of a dataset saved with ``Dataset.save_to_disk``, or a
    :class:`FormatError` naming what is wrong (no ``datasets``, no dataset, several splits,
    no rows)."""
    try:
        import datasets as hf
    except ModuleNotFoundError as exc:  # pragma: no cover - in the [interop] extra
        raise FormatError(
            "Hugging Face datasets need the datasets package: pip install 'activelab[interop]'."
        ) from exc
    path = Path(path)
    try:
        ds = hf.load_from_disk(str(path))
    except Exception as exc:  # datasets raises several types for a folder it cannot read
        raise FormatError(f"{path}: not a dataset saved with save_to_disk ({exc}).") from exc
    if isinstance(ds, hf.DatasetDict):
        if len(ds) != 1:
            first = next(iter(ds))
            raise FormatError(
                f"{path}: a DatasetDict with splits {list(ds)}; give the folder of the one "
                f"split to label, e.g. {path / first} (each split is saved in its own)."
            )
        ds = next(iter(ds.values()))
    if len(ds) == 0:
        raise FormatError(f"{path}: the dataset has no rows.")
    return ds


def hf_label_names(path: str | Path) -> list[str] | None:
    """The names of a saved dataset's ``ClassLabel`` label column, in the dataset's order.

    The ``labels`` column (a sequence of ``ClassLabel``) or the ``label`` column; ``None``
    when neither is a ``ClassLabel``. A project made from the dataset without ``--labels``
    takes these names as its labels, so that an export gives every class its integer back
    and a class without an example yet is one of them.

    .. deprecated:: 0.2
        Goes in 0.3: ``read_hf_with_label_names(path)[1]`` gives these names.
    """
    warn_deprecated(
        "activelab.interop.tabular.hf_label_names",
        "read_hf_with_label_names(path) gives the records and these names",
    )
    import datasets as hf

    ds = hf.load_from_disk(str(path))
    if isinstance(ds, hf.DatasetDict):
        ds = next(iter(ds.values()))
    return _label_column_names(ds.features)


def _label_column_names(features: Any) -> list[str] | None:
    """The ``ClassLabel`` names of the ``labels`` or else the ``label`` column of
    ``features`` (see :func:`read_hf_with_label_names`)."""
    for col in ("labels", "label"):
        if col in features:
            names = _class_names(features[col])
            if names:
                return names
    return None


def write_hf(records: list[Record], path: str | Path, **kwargs: Any) -> None:
    """Save ``records`` as a Hugging Face dataset folder (``kwargs``: :func:`to_hf_dataset`)."""
    with _no_progress_bars():  # an export prints one line, not datasets' bars per step
        to_hf_dataset(records, **kwargs).save_to_disk(str(path))


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """``datasets``' progress bars off for the block, as they were after it."""
    from datasets.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()
