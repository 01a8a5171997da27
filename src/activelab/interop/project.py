"""A project's items and labels as :class:`~activelab.interop.records.Record` s, for export.

Items read from a labelling tool's file keep what that file said
(``content["_source"]``: their other fields, earlier answers and
predictions); every answer given in the project is added after them, by the
annotator who gave it (a skip as an ``"ignore"`` answer). An export in the item's own format
thus gives back the file it came from, plus the new labels. An image of a
folder goes out as its stored bytes, a ``data:`` URI under ``image`` (beside its
``filename``), which the tools' formats read.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from activelab._deprecated import warn_deprecated
from activelab.app.gold import GOLD_SETTING
from activelab.app.ingest import item_source
from activelab.app.store import IMPORTED_PREFIX, Store, decode_label_set
from activelab.interop.records import Answer, Prediction, Record, iso_seconds

__all__ = [
    "GOLD_ANNOTATOR",
    "IMPORTED_PREFIX",
    "answer_time",
    "import_answers",
    "imported_annotator",
    "project_records",
]

#: who gives a gold item's label in an export
GOLD_ANNOTATOR = "gold"
#: formats whose records' other fields are their ``id`` column only, which every format keeps
_TABLES = ("parquet", "hf")


def project_records(store: Store, fmt: str | None = None) -> list[Record]:
    """Every item of the project, with its source's answers and the answers given in it.

    Each answer not undone becomes an :class:`Answer`, oldest first: every
    annotator's label (a reviewer's decision included), and a skip as an
    ``"ignore"`` answer (Label Studio: a cancelled annotation). The latest
    accepted answer is the item's final label; a gold item's gold label (``activelab
    gold``) is its last answer, by ``gold``.

    ``fmt`` is the format the records are for: the objects a file of another
    format said (its Label Studio annotations, Prodigy lines, other fields) are
    not carried into it, only their meaning (labels, who, when, scores).

    Examples
    --------
    >>> store = Store.create("sqlite://", {"labels": ["pos", "neg"], "kind": "text"})
    >>> store.add_items([{"external_id": "a", "kind": "text", "content": {"text": "nice"}},
    ...                  {"external_id": "b", "kind": "text", "content": {"text": "awful"}}])
    >>> ada, _ = store.add_annotator("ada", with_token=False)
    >>> bob, _ = store.add_annotator("bob", with_token=False)
    >>> _ = store.append_event(1, ada.id, "label", label="pos")
    >>> _ = store.append_event(1, bob.id, "label", label="neg", overlap=2)
    >>> _ = store.append_event(0, bob.id, "skip")
    >>> [(r.id, r.data, r.final_labels()) for r in project_records(store)]
    [('a', {'text': 'nice'}, None), ('b', {'text': 'awful'}, ['neg'])]
    >>> [(a.annotator, a.status, a.labels) for r in project_records(store) for a in r.answers]
    [('bob', 'ignore', []), ('ada', 'accept', ['pos']), ('bob', 'accept', ['neg'])]
    """
    settings = store.settings
    multi = settings.get("task") == "multilabel"
    text_column = settings.get("text_column", "text")
    id_column = settings.get("id_column")
    given = _given_answers(store, multi)
    gold = settings.get(GOLD_SETTING) or {}
    records = []
    for item_id, ext in enumerate(store.external_ids()):
        item = store.item(item_id)
        content = item["content"]
        src = item_source(content)
        data = _data(item["kind"], content, src, text_column, id_column)
        if item["kind"] == "image" and "data" not in src:  # an image of a folder: carry it
            data = {"image": _image_uri(store, item_id), **data}
        same = fmt is None or src.get("format") in (fmt, None)
        rec = Record(
            str(src.get("id", ext)),
            data,
            _source_answers(src, same, multi, given.get(item_id, [])),
            [_prediction(p, same) for p in src.get("predictions", [])],
            dict(src.get("extra", {})) if same or src.get("format") in _TABLES else {},
            item_id + 1,
        )
        if fmt == "label-studio" and src.get("format") != fmt:
            rec.data = _with_item_id(rec.data, rec.id, id_column)
        # a tool's file has its imported answers already; a CSV's given labels become answers
        rec.answers.extend(
            a
            for a in given.get(item_id, [])
            if not (src and (a.annotator or "").startswith(IMPORTED_PREFIX))
        )
        if str(item_id) in gold:  # the owner's label is the item's, after every answer
            rec.answers.append(Answer([str(gold[str(item_id)])], "accept", GOLD_ANNOTATOR))
        records.append(rec)
    return records


def _given_answers(store: Store, multi: bool) -> dict[int, list[Answer]]:
    """Item id → the answers of the label log not undone (labels and skips), oldest first."""
    names = {a.id: a.name for a in store.annotators()}
    out: dict[int, list[Answer]] = {}
    for e in store.live_answers(("label", "skip")):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.created_at))
        who = names.get(e.annotator_id)
        if e.kind == "skip":
            answer = Answer([], "ignore", who, stamp)
        else:
            labels = decode_label_set(e.label) if multi else [str(e.label)]
            answer = Answer(labels, "accept", who, stamp)
        out.setdefault(e.item_id, []).append(answer)
    return out


def import_answers(store: Store, first: int = 0) -> tuple[int, int]:
    """Record the labels a file brought (its latest accepted answer per item) in the label log.

    Items from ``first`` on (the new items of an ``activelab add``; all at ``init``).

    Each becomes a label event by the annotator ``imported:<who answered>``
    (``imported:file`` when the file does not say), so the model trains on
    them; an export leaves them out of the new answers, since the file has
    them already. Answers whose labels are not the project's are not
    recorded. Returns ``(recorded, refused)``.

    Examples
    --------
    >>> store = Store.create("sqlite://", {"labels": ["pos", "neg"], "kind": "text"})
    >>> src = {"answers": [{"labels": ["neg"], "status": "accept", "annotator": "7"}]}
    >>> store.add_items([{"external_id": "a", "kind": "text",
    ...                   "content": {"text": "awful", "_source": src}},
    ...                  {"external_id": "b", "kind": "text", "content": {"text": "fine"}}])
    >>> import numpy as np
    >>> store.save_features(np.zeros((2, 1)))
    >>> import_answers(store)
    (1, 0)
    >>> [(c.label, c.annotator) for c in store.current_labels().values()]
    [('neg', 'imported:7')]
    >>> [a.annotator for a in project_records(store)[0].answers]  # not exported twice
    ['7']
    """
    from activelab.app.service import LabellingService, UnknownLabelError

    service = LabellingService(store)
    people: dict[str, int] = {}
    recorded = refused = 0
    for item_id in range(first, store.n_items()):
        src = item_source(store.item(item_id)["content"])
        final = _final_answer(src, service.multilabel)
        if final is None:
            continue
        labels = list(final.get("labels") or [])
        try:
            value = service.check_label(labels if service.multilabel else _one(labels))
        except UnknownLabelError:
            refused += 1
            continue
        who = _imported_name(final.get("annotator"))
        if who not in people:
            people[who] = imported_annotator(store, who)
        when = answer_time(final.get("created_at"))
        store.append_event(item_id, people[who], "label", label=value, created_at=when)
        recorded += 1
    return recorded, refused


def answer_time(stamp: Any) -> float | None:
    """When a file's answer was given, as the store keeps times (Unix seconds), or ``None``.

    The readers give an answer's time as ISO 8601: a Label Studio annotation's
    ``updated_at`` (else its ``created_at``) as written, a Prodigy line's
    ``_timestamp`` converted from Unix seconds. A time without a zone is UTC;
    a missing or unreadable one is ``None`` (the import time is used).

    Examples
    --------
    >>> answer_time("2023-11-14T22:13:20Z"), answer_time("2023-11-14T23:13:20.5+01:00")
    (1700000000.0, 1700000000.5)
    >>> answer_time("2023-11-14T22:13:20"), answer_time("yesterday"), answer_time(None)
    (1700000000.0, None, None)
    """
    return iso_seconds(stamp.strip()) if isinstance(stamp, str) else None


def answers_left_out(store: Store, first: int = 0) -> int:
    """How many items from ``first`` on came with an accepted answer that was not recorded
    (its labels are not the project's; see :func:`import_answers`).

    .. deprecated:: 0.2
        Goes in 0.3: :func:`import_answers` returns this count as its second value.
    """
    warn_deprecated(
        "activelab.interop.project.answers_left_out",
        "import_answers(store, first) returns the number of answers it left out as its second "
        "value",
    )
    current = store.current_labels()
    multi = store.settings.get("task") == "multilabel"
    left = 0
    for item_id in range(first, store.n_items()):
        src = item_source(store.item(item_id)["content"])
        if item_id not in current and _final_answer(src, multi) is not None:
            left += 1
    return left


def _final_answer(src: dict[str, Any], multi: bool) -> dict[str, Any] | None:
    """An item's latest accepted answer in its file, or ``None``.

    In a single-label project an answer that chose nothing (a Label Studio
    annotation with no ``choices`` region, say a text area or spans only; a
    Prodigy choice accepted with none selected) is passed over, as in
    ``ls-backend``: an earlier answer's label stands. In a multi-label project
    it is the empty label set.

    Examples
    --------
    >>> src = {"answers": [{"labels": ["a"], "status": "accept"},
    ...                    {"labels": [], "status": "accept"}]}
    >>> _final_answer(src, multi=True)["labels"], _final_answer(src, multi=False)["labels"]
    ([], ['a'])
    >>> _final_answer({"answers": [{"labels": [], "status": "accept"}]}, multi=False) is None
    True
    """
    return next(
        (
            a
            for a in reversed(src.get("answers", []))
            if a.get("status") == "accept" and (multi or a.get("labels"))
        ),
        None,
    )


def imported_annotator(store: Store, name: str) -> int:
    """The id of the annotator ``name`` (``imported:…``), created without a web token if new.

    Examples
    --------
    >>> store = Store.create("sqlite://", {"labels": ["a", "b"]})
    >>> imported_annotator(store, "imported:file") == imported_annotator(store, "imported:file")
    True
    """
    found = store.annotator_by_name(name)
    return (found or store.add_annotator(name, with_token=False)[0]).id


def _imported_name(annotator: Any) -> str:
    """``imported:<who>`` for the annotator a file names (``imported:file`` when none); a name
    that is an import's already (an exported project's file read again) is kept as it is.

    Examples
    --------
    >>> _imported_name("7"), _imported_name(None), _imported_name("imported:file")
    ('imported:7', 'imported:file', 'imported:file')
    """
    name = str(annotator or "file")
    if not name.startswith(IMPORTED_PREFIX):
        name = IMPORTED_PREFIX + name
    return name[: len(IMPORTED_PREFIX) + 100]


def _one(labels: list[str]) -> str | list[str]:
    return labels[0] if len(labels) == 1 else labels


def _data(
    kind: str,
    content: dict[str, Any],
    src: dict[str, Any],
    text_column: str,
    id_column: str | None = None,
) -> dict:
    """An item's data for an export: what its file said of it, less what the export writes
    its own way.

    A table row of activelab's own CSV or JSONL leaves out its id column (``id``, or the
    ``--id-column`` it was made with): every format carries the item's id in a place of its
    own (a Parquet ``id`` column, a Prodigy example's ``meta``, a Label Studio task's data
    ``id``), and a column of ids left among the data would be read as a feature again.

    Examples
    --------
    >>> _data("table", {"fields": {"ref": "1001", "x": "1.5"}}, {}, "text", "ref")
    {'x': '1.5'}
    """
    if "data" in src:  # images keep their whole data
        return dict(src["data"])
    fields = content.get("fields", content) if kind == "table" else content
    fields = {k: v for k, v in fields.items() if k != "_source"}
    if kind == "text" and text_column != "text":
        fields[text_column] = fields.pop("text")
    keys = src.get("keys")
    if keys is None:  # an item of activelab's own CSV/JSONL
        if kind == "table":
            fields.pop("id", None)
            if id_column is not None:
                fields.pop(id_column, None)
        return fields
    data = {k: fields[k] for k in keys if k in fields}
    if "data_id" in src:
        data["id"] = src["data_id"]
    return {k: data[k] for k in keys if k in data}


def _with_item_id(data: dict[str, Any], item_id: str, id_column: str | None) -> dict[str, Any]:
    """A Label Studio task's data for an item that did not come from a Label Studio file:
    its data with the project's item id under ``id``, the name the csv and jsonl exports
    give it.

    Label Studio keeps a task's data through an import and an export (its own task ids are
    new in every project), and the reader names tasks by their data's ``id``, so the item
    comes back with its id. The id column of a CSV named otherwise (``--id-column ref``)
    goes under ``id`` in its place, so that it is read as the id again, never as a feature
    or a field. A data field ``id`` of the item's own (another column than the id column,
    a Prodigy example's ``id``) is kept as it is.

    Examples
    --------
    >>> _with_item_id({"text": "nice"}, "7", None)
    {'text': 'nice', 'id': '7'}
    >>> _with_item_id({"ref": "r1", "x": 1.5}, "r1", "ref")
    {'id': 'r1', 'x': 1.5}
    >>> _with_item_id({"text": "nice", "id": 3}, "a9", None)
    {'text': 'nice', 'id': 3}
    """
    if "id" in data:
        return data
    if id_column is not None and id_column in data:
        return {("id" if k == id_column else k): v for k, v in data.items()}
    return {**data, "id": item_id}


def _image_uri(store: Store, item_id: int) -> str | None:
    """The stored image of an item as a ``data:`` URI, which every tool's format reads
    (``None`` when the item has no stored bytes)."""
    blob = store.item_blob(item_id)
    if blob is None:
        return None
    data, media_type = blob
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _source_answers(
    src: dict[str, Any], raw: bool, multi: bool, given: list[Answer]
) -> list[Answer]:
    """The answers an item's file said (see :func:`_answer`); the one recorded at ``init``
    (:func:`import_answers`) without a time in the file gets the time it was recorded at,
    the last ``imported:`` answer of ``given``, so that an export read back keeps it.

    Examples
    --------
    >>> src = {"answers": [{"labels": ["pos"], "status": "accept"}]}
    >>> given = [Answer(["pos"], "accept", "imported:file", "2024-05-01T12:00:00Z")]
    >>> _source_answers(src, True, False, given)[0].created_at
    '2024-05-01T12:00:00Z'
    >>> _source_answers(src, True, False, [])[0].created_at is None  # not recorded (undone)
    True
    """
    final = _final_answer(src, multi)
    recorded = next(
        (
            a.created_at
            for a in reversed(given)
            if a.status == "accept" and (a.annotator or "").startswith(IMPORTED_PREFIX)
        ),
        None,
    )
    answers = []
    for obj in src.get("answers", []):
        answer = _answer(obj, raw)
        if obj is final and answer.created_at is None:
            answer.created_at = recorded
        answers.append(answer)
    return answers


def _answer(obj: dict[str, Any], raw: bool = True) -> Answer:
    """An answer kept in ``_source``; ``raw=False`` leaves out the source's own object (for
    another format, which writes the answer its own way)."""
    return Answer(
        **{k: obj.get(k) for k in ("labels", "status", "annotator", "created_at")},
        raw=obj.get("raw") if raw else None,
    )


def _prediction(obj: dict[str, Any], raw: bool = True) -> Prediction:
    """A prediction kept in ``_source`` (``raw`` as for :func:`_answer`)."""
    return Prediction(
        **{k: obj.get(k) for k in ("labels", "score", "model_version")},
        raw=obj.get("raw") if raw else None,
    )
