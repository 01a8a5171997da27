"""Read JSON Lines: one value a line, each with its line, a record naming a key twice refused,
and a record's value under a key without a name (``""``, or spaces only) refused (an empty
one left out)."""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "JSONLineError",
    "blank",
    "gzip_read",
    "json_document",
    "json_lines",
    "json_lines_of",
    "json_objects",
    "json_records",
    "named_keys",
    "unnamed_key",
]


def blank(value: Any) -> bool:
    """An empty cell: ``None``, or text of spaces only."""
    return value is None or (isinstance(value, str) and not value.strip())


class JSONLineError(ValueError):
    """A line that is not JSON, or whose record names one key twice or has a value under
    a key without a name.

    ``str(error)`` is ``"line <n>: <what>"``; a reader puts its file before it and its own
    hint after it.

    Attributes
    ----------
    line : int
        The line of the file, counted from 1 (blank lines included).
    what : str
        What is wrong with it.
    key : str or None
        The key at fault (named twice, or without a name: ``""``, ``" "``); ``None`` for a
        line that is not JSON.
    """

    def __init__(self, line: int, what: str, key: str | None = None) -> None:
        super().__init__(f"line {line}: {what}")
        self.line = line
        self.what = what
        self.key = key


class _RepeatedKeyError(Exception):
    """A JSON object names ``key`` twice; ``at`` is where the object starts in the text,
    when known."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.at: int | None = None


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing one that names a key twice (``json`` keeps the last)."""
    record = dict(pairs)
    if len(record) < len(pairs):
        seen: set[str] = set()
        raise _RepeatedKeyError(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return record


def named_keys(record: dict[str, Any]) -> tuple[dict[str, Any], tuple[int, str] | None]:
    """A record without its keys that have no name (``""``, or spaces only) and no value,
    and the first key without a name that holds one.

    A key without a name is a column without a name, as every reader of the project's
    tables takes a blank header cell (:mod:`activelab.data.csvfile`): without a value (as a
    sheet's trailing empty columns become) it is left out; with one, the record is refused,
    as the value would become a field that no column names.

    Parameters
    ----------
    record : dict
        A JSON object (a JSON Lines record, a Label Studio task's data).

    Returns
    -------
    (dict, (int, str) or None)
        The record (itself when every key has a name), and the place (from 1) and the key
        of the first key without a name that holds a value, else ``None``.

    Examples
    --------
    >>> named_keys({"": None, "text": "a", " ": ""})
    ({'text': 'a'}, None)
    >>> named_keys({"text": "a", " ": 5})
    ({'text': 'a'}, (2, ' '))
    """
    if all(key.strip() for key in record):  # the keys of one record
        return record, None
    unnamed = [(place, key) for place, key in enumerate(record, 1) if not key.strip()]
    held = next(((p, k) for p, k in unnamed if not blank(record[k])), None)
    return {k: v for k, v in record.items() if k.strip()}, held


def unnamed_key(place: int, key: str) -> str:
    """What is wrong with a record's value under its key at ``place`` (from 1), ``key``
    having no name.

    Examples
    --------
    >>> unnamed_key(2, " ")
    "a value under key 2 (' '), a key without a name; give the key a name"
    """
    return f"a value under key {place} ({key!r}), a key without a name; give the key a name"


def _twice(key: str) -> str:
    """What is wrong with a record that names ``key`` twice."""
    return f"key {key!r} is given twice in one record (JSON would keep only the last); give it once"


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """The value of each non-blank line with its line number, read lazily.

    A byte-order mark at the start of the file (as some editors write UTF-8) is passed over.

    Parameters
    ----------
    lines : iterable of str
        The lines of the file (an open text file will do).

    Yields
    ------
    tuple of (int, object)
        The line, counted from 1 with the blank ones, and its value.

    Raises
    ------
    JSONLineError
        At the first line that is not JSON, or whose record (or an object inside it)
        names one key twice: JSON readers keep the last value silently, so one of the
        two would be lost; or whose record has a value under a key without a name (``""``,
        or spaces only), named by its place in the record (:func:`named_keys`). A record's
        key without a name nor a value (``null``, ``""``) is left out of it.

    Examples
    --------
    >>> list(json_lines(['\ufeff{"text": "a"}', "", '{"text": "b"}']))  # a leading BOM is read
    [(1, {'text': 'a'}), (3, {'text': 'b'})]
    >>> list(json_lines(['{"text": "a", "label": "x", "label": "y"}']))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    activelab._jsonl.JSONLineError: line 1: key 'label' is given twice in one record (JSON ...
    >>> list(json_lines(['{"": null, "text": "a"}']))  # a key without a name nor a value
    [(1, {'text': 'a'})]
    >>> list(json_lines(['{"text": "a", " ": 0}']))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    activelab._jsonl.JSONLineError: line 1: a value under key 2 (' '), a key without a name; ...
    """
    for number, line in enumerate(lines, 1):  # reading the file, one record a line
        if number == 1:  # the byte-order mark some editors write (Windows Notepad's UTF-8)
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=_one_value_per_key)
        except json.JSONDecodeError as exc:
            raise JSONLineError(number, f"invalid JSON ({exc.msg})") from None
        except _RepeatedKeyError as exc:
            raise JSONLineError(number, _twice(exc.key), exc.key) from None
        if isinstance(value, dict):
            value, held = named_keys(value)
            if held is not None:
                raise JSONLineError(number, unnamed_key(*held), held[1])
        yield number, value


def json_lines_of(
    path: str | Path, lines: Iterable[str], error: type[Exception], not_json: str = ""
) -> Iterator[tuple[int, Any]]:
    """:func:`json_lines` of the file at ``path``, its problems raised as ``error``.

    Parameters
    ----------
    path : str or Path
        The file, named in the messages.
    lines : iterable of str
        Its lines (an open text file).
    error : type of Exception
        The reader's error, built from the one-line message.
    not_json : str, default ""
        Put before the closing full stop of the message of a line that is not JSON
        (``"; ..."``).

    Yields
    ------
    tuple of (int, object)
        As :func:`json_lines`.

    Raises
    ------
    error
        ``"<path>, line <n>: <what>."`` for a line :func:`json_lines` refuses, or
        ``"<path>: not UTF-8 text (...); save the file as UTF-8."``.
    """
    try:
        yield from json_lines(lines)
    except JSONLineError as exc:
        raise error(f"{path}, {exc}{not_json if exc.key is None else ''}.") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from exc


def json_objects(
    path: str | Path,
    lines: Iterable[str],
    error: type[Exception],
    hint: str,
    not_json: str = "",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`json_lines_of`, refusing a line whose value is not a JSON object.

    Parameters
    ----------
    path : str or Path
        The file, named in the messages.
    lines : iterable of str
        Its lines (an open text file).
    error : type of Exception
        The reader's error, built from the one-line message.
    hint : str
        The close of the message of a value that is not an object (what the file holds).
    not_json : str, default ""
        As :func:`json_lines_of`.

    Yields
    ------
    tuple of (int, dict)
        Each object and its line (counted from 1, blank lines skipped and counted).

    Raises
    ------
    error
        As :func:`json_lines_of`, and ``"<path>, line <n>: <type>, not a JSON object;
        <hint>."``.
    """
    for number, record in json_lines_of(path, lines, error, not_json):
        if not isinstance(record, dict):
            raise error(
                f"{path}, line {number}: {type(record).__name__}, not a JSON object; {hint}."
            )
        yield number, record


@contextlib.contextmanager
def gzip_read(path: str | Path, gz: bool, error: type[Exception]) -> Iterator[None]:
    """Raise a gzip file's failure to decompress (not a gzip file, or one cut short) as
    ``error`` naming the file, while reading it; another file's ``OSError`` as it is.

    Raises
    ------
    error
        ``"<path>: not a readable gzip file (...)."``.
    """
    try:
        yield
    except (OSError, EOFError) as exc:  # not a gzip file, or one cut short
        if not gz:
            raise
        raise error(f"{path}: not a readable gzip file ({exc}).") from exc


def json_records(
    path: str | Path, error: type[Exception]
) -> tuple[list[int], list[dict[str, Any]]]:
    """The records of a JSON Lines file (gzip-compressed when its name ends in ``.gz``) and
    the line of each, read by :func:`json_lines`.

    The reader of a table held as JSON Lines (a simulated data set, a pool to rank): the
    same checks as every other reader of JSON Lines, where ``pandas.read_json`` would keep
    the last value of a key given twice, and refuses a file that starts with a byte-order
    mark.

    Parameters
    ----------
    path : str or Path
        The file, named in the messages.
    error : type of Exception
        The reader's error, built from the one-line message.

    Returns
    -------
    (list of int, list of dict)
        The line of each record (counted from 1, blank lines included) and the records.

    Raises
    ------
    error
        As :func:`json_lines_of`; for a line whose value is not a JSON object; for a file
        without a record; ``"<path>: not a readable gzip file (...)."``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.jsonl"
    >>> _ = path.write_text('{"a": 1, "label": "x"}\\n\\n{"a": 2, "label": "y"}\\n')
    >>> json_records(path, ValueError)
    ([1, 3], [{'a': 1, 'label': 'x'}, {'a': 2, 'label': 'y'}])
    """
    path = Path(path)
    opener: Any = gzip.open if path.suffix.lower() == ".gz" else open
    numbers: list[int] = []
    records: list[dict[str, Any]] = []
    hint = 'JSON Lines hold one object per line, e.g. {"text": "...", "label": "x"}'
    with gzip_read(path, opener is not open, error), opener(path, "rt", encoding="utf-8") as f:
        for number, record in json_objects(path, f, error, hint):
            numbers.append(number)
            records.append(record)
    if not records:
        raise error(f"{path}: the file is empty; it needs one JSON object per line.")
    return numbers, records


def json_document(path: str | Path, text: str, error: type[Exception]) -> Any:
    """The value of a JSON file's text (a Label Studio export), an object naming a key
    twice refused as :func:`json_lines` refuses one.

    Parameters
    ----------
    path : str or Path
        The file, named in the messages.
    text : str
        Its text.
    error : type of Exception
        The reader's error, built from the one-line message.

    Returns
    -------
    object
        The value.

    Raises
    ------
    error
        ``"<path>, line <n>, column <c>: <what>."`` for text that is not JSON (JSON Lines
        told to be named ``.jsonl``), or for an object (at that place) that names a key
        twice: JSON readers keep the last value
        silently, so one of the two would be lost.

    Examples
    --------
    >>> json_document("t.json", '[{"data": {"text": "a"}}]', ValueError)
    [{'data': {'text': 'a'}}]
    >>> json_document("t.json", '[\\n {"data": {"text": "a", "text": "b"}}]', ValueError)
    Traceback (most recent call last):
    ...
    ValueError: t.json, line 2, column 11: key 'text' is given twice in one record (JSON ...
    >>> json_document("t.json", '{"text": "a"}\\n{"text": "b"}\\n', ValueError)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: t.json, line 2, column 1: invalid JSON (Extra data); one JSON object a line ...
    """
    try:
        return json.loads(text, object_pairs_hook=_one_value_per_key)
    except json.JSONDecodeError as exc:
        hint = _json_lines_hint(text) if exc.msg == "Extra data" else ""
        raise error(
            f"{path}, line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}){hint}."
        ) from None
    except _RepeatedKeyError as exc:
        at = _repeated_key_place(text)
        line = text.count("\n", 0, at) + 1
        column = at - text.rfind("\n", 0, at)
        raise error(f"{path}, line {line}, column {column}: {_twice(exc.key)}.") from None


def _json_lines_hint(text: str) -> str:
    """The hint for a JSON file whose first line is a JSON object and whose next lines
    follow it (``Extra data``): JSON Lines under a ``.json`` name (as
    ``DataFrame.to_json(orient="records", lines=True)`` writes them), else nothing."""
    first = text.lstrip().split("\n", 1)[0]
    try:
        whole = isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        whole = False
    return "; one JSON object a line is JSON Lines: name the file .jsonl" if whole else ""


def _repeated_key_place(text: str) -> int:
    """Where in ``text`` (valid JSON) the first object that names a key twice starts.

    Read again by the pure-Python scanner, whose objects are parsed by a function that can
    say where each one starts (the C scanner's cannot): only when a key is given twice.
    """
    from json import decoder, scanner

    def parse_object(s_and_end: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        try:
            return decoder.JSONObject(s_and_end, *args, **kwargs)
        except _RepeatedKeyError as exc:
            if exc.at is None:  # the innermost object: the first to end
                exc.at = s_and_end[1] - 1
            raise

    reader = json.JSONDecoder(object_pairs_hook=_one_value_per_key)
    reader.parse_object = parse_object  # type: ignore[assignment]
    reader.scan_once = scanner.py_make_scanner(reader)
    try:
        reader.decode(text)
    except _RepeatedKeyError as exc:
        return exc.at or 0
    return 0  # pragma: no cover - called only on text naming a key twice
