"""The one shape every labelling format is read into and written from.

A :class:`Record` is one item: its ``data`` (the fields a person looks at: a
text, an image reference, table cells), the :class:`Answer` s people gave,
the :class:`Prediction` s models made, and ``extra``: every other field of the
source, kept verbatim so that writing a record back to its own format loses
nothing. Each answer and prediction also keeps its source object (``raw``),
so an unchanged file round-trips exactly.

Examples
--------
>>> r = Record("7", {"text": "fine"}, [Answer(["pos"])], line=3)
>>> r.final_labels(), r.kind
(['pos'], 'text')
>>> Record("8", {"text": "meh"}, [Answer(["pos"], status="reject")]).final_labels() is None
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from activelab.interop.images import IMAGE_KEYS

__all__ = [
    "ANSWER_STATUSES",
    "Answer",
    "FormatError",
    "Prediction",
    "Record",
    "data_kind",
    "iso_seconds",
    "name_by",
    "time_seconds",
]

#: accept: the labels hold; reject: they do not; ignore: the item was skipped
ANSWER_STATUSES = ("accept", "reject", "ignore")


class FormatError(ValueError):
    """A file is not valid in its format; the message names the file, the line or field, and
    what to fix."""


@dataclass
class Answer:
    """One person's answer about one item.

    Attributes
    ----------
    labels : list of str
        The labels chosen (one for a single-label answer; any number, none
        included, for a multi-label one). For ``status="reject"``, the labels
        that do *not* apply.
    status : {"accept", "reject", "ignore"}
        Prodigy's ``answer``; a Label Studio annotation is ``"accept"`` unless
        it was cancelled (skipped), then ``"ignore"``.
    annotator : str, optional
        Who answered.
    created_at : str, optional
        When, as the source wrote it (ISO 8601 where known): a Label Studio
        annotation's ``updated_at``, else its ``created_at``; a Prodigy line's
        ``_timestamp`` (Unix seconds) as ISO 8601 UTC.
    raw : dict, optional
        The source object verbatim (a Label Studio annotation, a Prodigy line).
    """

    labels: list[str]
    status: str = "accept"
    annotator: str | None = None
    created_at: str | None = None
    raw: dict[str, Any] | None = None


@dataclass
class Prediction:
    """A model's guess about one item.

    Attributes
    ----------
    labels : list of str
        The labels the model guessed.
    score : float, optional
        Its score (for activelab: the strategy's priority, higher = ask first).
    model_version : str, optional
        Which model made it.
    raw : dict, optional
        The source object verbatim.
    """

    labels: list[str]
    score: float | None = None
    model_version: str | None = None
    raw: dict[str, Any] | None = None


@dataclass
class Record:
    """One item of a labelling file.

    Attributes
    ----------
    id : str
        The item's id in the source (a task id, a hash, a row number).
    data : dict
        The fields shown to a person (``text``, ``image``, table cells).
    answers : list of Answer
        People's answers, oldest first.
    predictions : list of Prediction
        Models' guesses.
    extra : dict
        Every other field of the source record, verbatim.
    line : int
        Where the record starts in the source (line, task or row number, 1-based).
    settled : list of str, optional
        The item's labels when its answers were combined into one (a project's
        aggregated label); the latest accepted answer otherwise.
    """

    id: str
    data: dict[str, Any]
    answers: list[Answer] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    line: int = 0
    settled: list[str] | None = None

    def final_labels(self) -> list[str] | None:
        """The item's labels: ``settled`` when set, else those of the latest accepted answer,
        or ``None`` when there is none."""
        if self.settled is not None:
            return list(self.settled)
        for ans in reversed(self.answers):
            if ans.status == "accept":
                return list(ans.labels)
        return None

    @property
    def kind(self) -> str:
        """``"image"`` when the data names an image, ``"text"`` when it has a text, else
        ``"table"``."""
        return data_kind(self.data)


def name_by(records: list[Record], ids: list[Any]) -> None:
    """Give ``records`` the ids ``ids`` (one per record) when every one is a distinct,
    non-empty string or integer (a file's own ids); otherwise leave their ids as they are.

    Examples
    --------
    >>> recs = [Record("1", {}), Record("2", {})]
    >>> name_by(recs, ["a", 7]); [r.id for r in recs]
    ['a', '7']
    >>> name_by(recs, ["c", "c"]); [r.id for r in recs]
    ['a', '7']
    """
    if not all(
        isinstance(i, str | int) and not isinstance(i, bool) and str(i).strip() for i in ids
    ):
        return
    names = [str(i) for i in ids]
    if len(set(names)) == len(names):
        for rec, name in zip(records, names, strict=True):
            rec.id = name


def data_kind(data: dict[str, Any]) -> str:
    """What kind of item a task's data describes.

    Examples
    --------
    >>> data_kind({"image": "a.png"}), data_kind({"text": "hi"}), data_kind({"x": 1.0})
    ('image', 'text', 'table')
    """
    if any(isinstance(data.get(k), str) for k in IMAGE_KEYS):
        return "image"
    if isinstance(data.get("text"), str):
        return "text"
    return "table"


def iso_seconds(text: str) -> float | None:
    """An ISO 8601 time as Unix seconds (UTC when it names no zone), ``None`` for other text.

    Examples
    --------
    >>> iso_seconds("2023-11-14T22:13:20Z"), iso_seconds("2023-11-14T23:13:20.5+01:00")
    (1700000000.0, 1700000000.5)
    >>> iso_seconds("2023-11-14T22:13:20"), iso_seconds("yesterday")
    (1700000000.0, None)
    """
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def time_seconds(value: Any) -> float | None:
    """A file's time cell as Unix seconds, ``None`` when it is no time (or empty).

    The one reading of an answer's time (``labelled_at``) in every format: ISO 8601
    text (no zone: UTC), Unix seconds (a number, or its text), or a time value as
    Parquet, Hugging Face datasets, pandas and spreadsheets hold it (``datetime``,
    ``pandas.Timestamp``, ``numpy.datetime64``, with or without a zone; a ``date`` is
    its midnight, UTC).

    Parameters
    ----------
    value : any
        The cell.

    Returns
    -------
    float or None

    Examples
    --------
    >>> time_seconds("2023-11-14T22:13:20Z"), time_seconds(1700000000), time_seconds("1700000000")
    (1700000000.0, 1700000000.0, 1700000000.0)
    >>> from datetime import timedelta, timezone
    >>> time_seconds(datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone(timedelta(hours=1))))
    1700000000.0
    >>> time_seconds(np.datetime64("2023-11-14T22:13:20")), time_seconds(date(2023, 11, 14))
    (1700000000.0, 1699920000.0)
    >>> time_seconds("2023-11-14 23:13:20+01:00"), time_seconds("2023-11-14T22:13:20")
    (1700000000.0, 1700000000.0)
    >>> time_seconds("1700000000.5")
    1700000000.5
    >>> time_seconds("yesterday"), time_seconds(float("nan")), time_seconds(True)
    (None, None, None)
    """
    number: float | None
    if value is None or isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, str):
        text = value.strip()
        seconds = iso_seconds(text)
        if seconds is not None:
            return seconds
        try:
            number = float(text)
        except ValueError:
            return None
    elif isinstance(value, datetime):  # pandas.Timestamp too
        try:
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        except ValueError:  # pandas.NaT
            return None
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    elif isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        return float(value.astype("datetime64[us]").astype(np.int64)) / 1e6
    elif isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        return None
    if not math.isfinite(number):
        return None
    try:  # a time the store and its exports can write back
        datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return number
