"""Prodigy's JSON Lines: one example per line, the answer in ``answer``.

A Prodigy example holds the item (``text`` or ``image``, a data URI or a
path/URL), Prodigy's bookkeeping (``_input_hash``, ``_task_hash``,
``_view_id``, ``_annotator_id``, ``_timestamp``, ``meta``, ``options``) and,
once answered, ``answer``: ``accept``, ``reject`` or ``ignore``. A binary
example names one ``label``; a choice example lists the selected option ids
in ``accept`` (several for multi-label). Lines sharing an ``_input_hash`` are
the same item answered several times (by several people, or again), and
become one :class:`~activelab.interop.records.Record` with several answers.

Examples
--------
>>> lines = [
...     {"text": "good", "_input_hash": 1, "label": "pos", "answer": "accept"},
...     {"text": "so-so", "_input_hash": 2, "options": [{"id": "pos", "text": "pos"}],
...      "accept": ["pos"], "answer": "reject"},
...     {"text": "bad", "_input_hash": 3},
... ]
>>> records = parse_prodigy(lines)
>>> [(r.data["text"], r.answers[0].status if r.answers else None) for r in records]
[('good', 'accept'), ('so-so', 'reject'), ('bad', None)]
>>> [json.loads(line) for line in write_prodigy(records).splitlines()] == lines
True
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from activelab._jsonl import json_lines_of
from activelab.interop.records import (
    ANSWER_STATUSES,
    Answer,
    FormatError,
    Prediction,
    Record,
    iso_seconds,
    name_by,
)

__all__ = ["PRODIGY_KEYS", "input_hash", "looks_like_prodigy", "parse_prodigy", "read_prodigy",
           "write_prodigy"]  # fmt: skip

#: fields of a Prodigy example that are bookkeeping or answers, not the item's data
PRODIGY_KEYS = frozenset(
    {
        "answer", "accept", "reject", "label", "options", "meta", "score", "priority",
        "spans", "tokens", "config", "_input_hash", "_task_hash", "_view_id",
        "_session_id", "_annotator_id", "_timestamp", "_is_binary",
    }
)  # fmt: skip
_MARKERS = ("answer", "_input_hash", "_task_hash", "_view_id", "accept", "options")


def input_hash(data: dict[str, Any]) -> int:
    """A stable signed 32-bit hash of an item's data (stands in for Prodigy's ``_input_hash``).

    Examples
    --------
    >>> input_hash({"text": "a"}) == input_hash({"text": "a"}) != input_hash({"text": "b"})
    True
    """
    digest = hashlib.blake2b(
        json.dumps(data, sort_keys=True, ensure_ascii=False).encode(), digest_size=4
    ).digest()
    return int.from_bytes(digest, "little", signed=True)


def looks_like_prodigy(path: str | Path, probe: int = 50) -> bool:
    """Whether a JSON Lines file carries Prodigy's fields (in its first ``probe`` lines).

    Text that is not UTF-8 is only looked at here; the file's reader refuses it.
    """
    # utf-8-sig: a byte-order mark (Windows Notepad's UTF-8) before the first record
    with Path(path).open(encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh):
            if n >= probe:
                break
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and any(k in obj for k in _MARKERS):
                return True
    return False


def read_prodigy(path: str | Path) -> list[Record]:
    """Read a Prodigy JSONL file; problems name the line and the field."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        lines: list[tuple[int, Any]] = list(json_lines_of(path, fh, FormatError))
    if not lines:
        raise FormatError(f"{path}: the file is empty; it needs one JSON object per line.")
    try:
        return _parse(lines)
    except FormatError as exc:
        raise FormatError(f"{path}, {exc}") from exc


def parse_prodigy(examples: list[dict[str, Any]]) -> list[Record]:
    """Records from parsed Prodigy examples (one dict per line)."""
    return _parse(list(enumerate(examples, start=1)))


def _parse(lines: list[tuple[int, Any]]) -> list[Record]:
    records: dict[str, Record] = {}
    for n, obj in lines:
        if not isinstance(obj, dict):
            raise FormatError(f"line {n}: expected a JSON object, got {type(obj).__name__}.")
        data = {k: v for k, v in obj.items() if k not in PRODIGY_KEYS}
        if not data:
            raise FormatError(f"line {n}: no item data (e.g. 'text' or 'image').")
        key = obj.get("_input_hash")
        if key is None:
            meta = obj.get("meta")
            key = meta.get("id") if isinstance(meta, dict) and "id" in meta else f"line {n}"
        key = str(key)
        rec = records.get(key)
        if rec is None:
            rec = records[key] = Record(key, data, line=n)
        if "answer" not in obj:
            rec.extra = {k: v for k, v in obj.items() if k in PRODIGY_KEYS}
            pred = _prediction(obj, n)
            if pred is not None:
                rec.predictions.append(pred)
            continue
        status = obj["answer"]
        if status not in ANSWER_STATUSES:
            raise FormatError(
                f"line {n}: field 'answer' must be one of {list(ANSWER_STATUSES)}, got {status!r}."
            )
        rec.answers.append(
            Answer(
                _labels(obj, n),
                status,
                None if obj.get("_annotator_id") is None else str(obj["_annotator_id"]),
                _iso(obj.get("_timestamp")),
                obj,
            )
        )
    out = list(records.values())
    _ids_from_meta(out)
    return out


def _ids_from_meta(records: list[Record]) -> None:
    """Name the items by their ``meta["id"]`` when every item has a distinct one.

    Prodigy's ``_input_hash`` groups the lines of one item; the item's own
    name, where the file gives one (as activelab's export does), is its
    ``meta`` id. Otherwise the hashes stand.

    Examples
    --------
    >>> lines = [{"text": "a", "_input_hash": 1, "meta": {"id": "x7"}},
    ...          {"text": "b", "_input_hash": 2, "meta": {"id": 8}}]
    >>> [r.id for r in parse_prodigy(lines)]
    ['x7', '8']
    >>> lines[1]["meta"] = {"id": "x7"}
    >>> [r.id for r in parse_prodigy(lines)]
    ['1', '2']
    """
    name_by(records, [_meta_id(rec) for rec in records])


def _meta_id(rec: Record) -> Any:
    """The ``meta`` id of an item's first line (its answers' or its own)."""
    first = rec.answers[0].raw if rec.answers else rec.extra
    meta = (first or {}).get("meta")
    return meta.get("id") if isinstance(meta, dict) else None


def _labels(obj: dict[str, Any], n: int) -> list[str]:
    if "accept" in obj:
        accept = obj["accept"]
        if not isinstance(accept, list) or not all(
            isinstance(a, str | int) and not isinstance(a, bool) for a in accept
        ):
            raise FormatError(
                f"line {n}: field 'accept' must be a list of option ids, got {accept!r}."
            )
        return [str(a) for a in accept]
    if "label" in obj:
        if not isinstance(obj["label"], str | int) or isinstance(obj["label"], bool):
            raise FormatError(f"line {n}: field 'label' must be a string, got {obj['label']!r}.")
        return [str(obj["label"])]
    return []


def _prediction(obj: dict[str, Any], n: int) -> Prediction | None:
    meta = obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
    if isinstance(meta.get("prediction"), list):
        score = meta.get("score")
        return Prediction(
            [str(v) for v in meta["prediction"]],
            float(score) if isinstance(score, int | float) else None,
            None if meta.get("model_version") is None else str(meta["model_version"]),
            obj,
        )
    if "label" in obj:
        score = obj.get("score")
        if score is not None and not isinstance(score, int | float):
            raise FormatError(f"line {n}: field 'score' must be a number, got {score!r}.")
        return Prediction([str(obj["label"])], None if score is None else float(score), None, obj)
    return None


def _iso(stamp: Any) -> str | None:
    """Prodigy's ``_timestamp`` (Unix seconds) as ISO 8601, as the other formats write times.

    Examples
    --------
    >>> _iso(1700000000), _iso("yesterday"), _iso(None), _iso(1e20)  # 1e20: past year 9999
    ('2023-11-14T22:13:20Z', 'yesterday', None, '1e+20')
    """
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        try:
            return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, ValueError, OSError):  # not a time: kept as written
            return str(stamp)
    return None if stamp is None else str(stamp)


def _unix(stamp: str) -> int | str:
    """An ISO 8601 time as Prodigy's ``_timestamp`` (Unix seconds; UTC when the time has no
    zone); another text is kept as it is. The fraction of a second is dropped, as every
    export writes times (``time.gmtime``): rounded down, a time before 1970 included.

    Examples
    --------
    >>> _unix("2023-11-14T22:13:20.9Z"), _unix("1969-12-31T23:59:59.5Z"), _unix("yesterday")
    (1700000000, -1, 'yesterday')
    """
    seconds = iso_seconds(stamp)
    return stamp if seconds is None else math.floor(seconds)


def write_prodigy(records: list[Record], *, labels: list[str] | None = None) -> str:
    """Prodigy JSONL for ``records``: one line per answer, or one per unanswered item.

    Lines read from Prodigy are written back verbatim (a line without a
    ``_timestamp`` gets the answer's ``created_at``, when it has one: a
    project's export gives the time it recorded the answer at). New answers become
    choice examples (``options`` from ``labels`` when given, the selected ids
    in ``accept``); a new prediction of an unanswered item goes into its
    ``meta`` (``prediction``, ``score``, ``model_version``), which Prodigy shows
    beside the item.
    """
    out: list[str] = []
    for rec in records:
        hashed = {"_input_hash": input_hash(rec.data)}
        if not rec.answers:
            line = {**rec.data, **rec.extra}
            if not rec.extra:
                line.update(hashed)
                line["meta"] = {"id": rec.id}
            for pred in rec.predictions:
                if pred.raw is None:
                    meta = dict(line.get("meta") or {})
                    meta.update(prediction=list(pred.labels), score=pred.score)
                    if pred.model_version:
                        meta["model_version"] = pred.model_version
                    line["meta"] = meta
            out.append(json.dumps(line, ensure_ascii=False))
            continue
        for ans in rec.answers:
            if ans.raw is not None:
                raw = ans.raw
                if raw.get("_timestamp") is None and ans.created_at:  # the time recorded
                    raw = {**raw, "_timestamp": _unix(ans.created_at)}
                out.append(json.dumps(raw, ensure_ascii=False))
                continue
            line = {**rec.data, **hashed, "meta": {"id": rec.id}}
            if labels is not None:
                line["options"] = [{"id": lab, "text": lab} for lab in labels]
            line["accept"] = list(ans.labels)
            line["answer"] = ans.status
            if ans.annotator:
                line["_annotator_id"] = ans.annotator
            if ans.created_at:
                line["_timestamp"] = _unix(ans.created_at)
            out.append(json.dumps(line, ensure_ascii=False))
    return "".join(line + "\n" for line in out)
