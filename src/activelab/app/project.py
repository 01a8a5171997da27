"""Project folders: create one atomically from a data set, open it again.

A project folder holds ``activelab.json`` (which database, and the format
version) and, by default, the SQLite database ``project.db``. With
``--db postgresql://…`` the database lives in PostgreSQL and the folder holds
only the configuration. The environment variable ``ACTIVELAB_DB_URL``, when
set, overrides the stored URL (to keep a password out of the folder).

Creation is all or nothing: a SQLite project is built in a hidden temporary
folder next to the target and renamed into place at the end; a PostgreSQL
project's tables are dropped again if anything fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

from activelab.app.ingest import Dataset, item_source
from activelab.app.store import Store, StoreError
from activelab.multilabel._model import EMPTY_LABEL_SET as _EMPTY
from activelab.multilabel._model import LABEL_SEPARATOR as _SEPARATOR
from activelab.multilabel._model import joined_label_set, split_label_set

__all__ = [
    "CONFIG_NAME",
    "DB_NAME",
    "EMPTY_LABEL_SET",
    "GIVEN_LABELS_ANNOTATOR",
    "LABEL_SEPARATOR",
    "MULTILABEL_STRATEGY",
    "ProjectError",
    "check_labels",
    "create_project",
    "csv_label_set",
    "given_answers",
    "labels_in_data",
    "open_project",
    "project_name",
    "record_given_answers",
    "refuse_label_sets",
]

#: The name of a project's configuration file, inside its folder.
CONFIG_NAME = "activelab.json"
#: The name of a project's SQLite database, inside its folder.
DB_NAME = "project.db"
MAX_LABELS = 50
#: the default strategy of a multi-label project (see docs/app.md, "Multi-label projects")
MULTILABEL_STRATEGY = "mmc"
#: separates the labels of a multi-label item in a CSV export (so no label may contain it)
LABEL_SEPARATOR = _SEPARATOR
#: a multi-label CSV cell for the empty answer set ("none of these"); an empty cell is unanswered
EMPTY_LABEL_SET = _EMPTY
#: the annotator of the labels a project's data file already held (its label column)
GIVEN_LABELS_ANNOTATOR = "imported:file"


class ProjectError(RuntimeError):
    """A project cannot be created or opened; the message says why and what to do."""


def check_labels(labels: list[str], multilabel: bool = False) -> list[str]:
    """A project's labels, stripped, or :class:`ProjectError` naming what is wrong.

    Examples
    --------
    >>> check_labels([" yes", "no"])
    ['yes', 'no']
    >>> check_labels(["yes", "n" * 300])
    Traceback (most recent call last):
    ...
    activelab.app.project.ProjectError: Labels must be 1 to 256 characters; 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn'... has 300.
    """  # noqa: E501
    labels = [lab.strip() for lab in labels]
    joined = None if multilabel else joined_label_set(labels)
    if joined is not None:
        raise ProjectError(
            f"Label {joined!r} reads as the labels {split_label_set(joined)} of one item "
            f"joined by {LABEL_SEPARATOR!r}; create a multi-label project (--multi-label) "
            "with each label once, or rename it."
        )
    if multilabel:
        bad = [lab for lab in labels if LABEL_SEPARATOR in lab]
        if bad:
            raise ProjectError(
                f"Label(s) {bad} contain {LABEL_SEPARATOR!r}, which separates the labels of a "
                "multi-label item in a CSV export; rename them."
            )
        if EMPTY_LABEL_SET in labels:
            raise ProjectError(
                f"A label cannot be {EMPTY_LABEL_SET!r}: a multi-label CSV writes the empty "
                "answer (none of the labels) so; rename it."
            )
    if len(labels) < 2:
        raise ProjectError(f"Give at least two labels (got {labels}), e.g. --labels yes,no.")
    if len(labels) > MAX_LABELS:
        raise ProjectError(f"At most {MAX_LABELS} labels, got {len(labels)}.")
    if not all(labels):
        raise ProjectError("Labels must be 1 to 256 characters; an empty label was given.")
    long = [lab for lab in labels if len(lab) > 256]
    if long:
        raise ProjectError(
            f"Labels must be 1 to 256 characters; {long[0][:40]!r}... has {len(long[0])}."
        )
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise ProjectError(f"Duplicate label(s) {dup}; each label once.")
    return labels


def labels_in_data(data: Dataset, multilabel: bool) -> list[str]:
    """The distinct labels a data set already holds, for a project named without ``--labels``.

    From its label column or folders (:attr:`Dataset.given_labels`) and from the
    answers a labelling tool's file brought (skipped ones aside). Numbers in numeric
    order, then the other labels alphabetically. Multi-label values (a list, or labels
    separated by ``;``) count each label. Label names the file declares (a Hugging Face
    ``ClassLabel``, :attr:`Dataset.label_names`) come first, in the file's order, used or
    not.

    Examples
    --------
    >>> from activelab.app.ingest import Dataset
    >>> labels_in_data(Dataset("table", [], None, given_labels={0: "10", 1: "9", 4: "9"}), False)
    ['9', '10']
    >>> labels_in_data(Dataset("text", [], None, given_labels={0: "b;a", 2: ["c"]}), True)
    ['a', 'b', 'c']
    >>> labels_in_data(Dataset("text", [], None, label_names=["pos", "neg", "mixed"]), False)
    ['pos', 'neg', 'mixed']
    """
    found: set[str] = set()
    for value in data.given_labels.values():  # one value per labelled row
        if multilabel:
            found.update(split_label_set(value))
        elif isinstance(value, str):  # a list in a single-label project: given_answers says so
            found.add(value)
    for row in data.rows:  # a labelling tool's answers, kept with each item
        for answer in item_source(row["content"]).get("answers", []):
            if answer.get("status") != "ignore":
                found.update(str(v) for v in answer.get("labels", []))
    declared = list(data.label_names or [])
    return declared + sorted(found - set(declared), key=_label_order)


def csv_label_set(labels: list[str], separator: str = LABEL_SEPARATOR) -> str:
    """A multi-label answer as a CSV cell: its labels joined by ``separator``, or ``[]``.

    The empty set ("none of these") is written :data:`EMPTY_LABEL_SET`, so that it reads
    back as an answer; an empty cell stays an item no one answered.

    Examples
    --------
    >>> csv_label_set(["cough", "fever"]), csv_label_set([])
    ('cough;fever', '[]')
    """
    return separator.join(labels) if labels else EMPTY_LABEL_SET


def _label_order(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def given_answers(data: Dataset, labels: list[str], multilabel: bool) -> dict[int, str]:
    """The labels a data set already holds, as the store records them (by row).

    Refused whole, naming the values and their lines, when one is not among
    ``labels`` (or is a list in a single-label project).

    Examples
    --------
    >>> from activelab.app.ingest import Dataset
    >>> data = Dataset("table", [], None, given_labels={0: "yes", 3: "no"})
    >>> given_answers(data, ["no", "yes"], multilabel=False)
    {0: 'yes', 3: 'no'}
    >>> given_answers(data, ["no", "yes"], multilabel=True)
    {0: '["yes"]', 3: '["no"]'}
    """
    from activelab.app.store import encode_label_set

    column = data.settings.get("label_column", "label")
    where = data.source or "The data"
    out: dict[int, str] = {}
    unknown: dict[str, list[int]] = {}
    for row, value in data.given_labels.items():  # one value per labelled row
        # where it is: its file line, or for images (no lines) its row
        line = data.given_lines.get(row, row if data.kind == "image" else row + 1)
        if not multilabel:
            if isinstance(value, list):
                raise ProjectError(
                    f"{where}, line {line}, column {column!r}: {value!r} is a list, but this "
                    "project takes one label per item; give one label, or create it with "
                    "--multi-label."
                )
            if value in labels:
                out[row] = value
            else:
                unknown.setdefault(value, []).append(line)
            continue
        parts = split_label_set(value)
        for v in parts:
            if v not in labels:
                unknown.setdefault(v, []).append(line)
        out[row] = encode_label_set([lab for lab in labels if lab in parts])
    if unknown and data.kind == "image":  # labels from the images' folders
        ids = [str(r["external_id"]) for r in data.rows]
        shown = "; ".join(
            f"{v!r} ({len(rows)} image{'s' if len(rows) > 1 else ''}, e.g. {ids[rows[0]]})"
            for v, rows in list(unknown.items())[:5]
        )
        raise ProjectError(
            f"{where}: the folder{'s' if len(unknown) > 1 else ''} {shown} "
            f"{'are' if len(unknown) > 1 else 'is'} not among the project's labels {labels}. "
            "Rename them, add them to --labels, or move their images to the top level to "
            "leave them unlabelled."
        )
    if unknown:
        shown = "; ".join(
            f"{v!r} (line{'s' if len(ls) > 1 else ''} {', '.join(map(str, ls[:3]))}"
            f"{f' and {len(ls) - 3} more' if len(ls) > 3 else ''})"
            for v, ls in list(unknown.items())[:5]
        )
        more = f" and {len(unknown) - 5} other values" if len(unknown) > 5 else ""
        raise ProjectError(
            f"{where}: column {column!r} holds labels that are not among the project's "
            f"labels {labels}: {shown}{more}. Add them to --labels or fix the file; "
            "--label-column '' keeps the column as data instead."
        )
    return out


def refuse_label_sets(data: Dataset, fix: str) -> None:
    """Refuse a labelling tool's answers of several labels for a single-label project.

    A Label Studio, Prodigy, Parquet or Hugging Face export of a multi-label project holds
    answers of two or more labels; a single-label project would leave them out as answers
    "whose labels are not among the labels", as if they were typos. Only the answers kept
    with each item are read, not the pool. A CSV of ``a;b`` is refused the same way by
    :func:`given_answers`.

    Parameters
    ----------
    data : Dataset
        The items read from the file, with the answers their tool recorded.
    fix : str
        The end of the message: what the user can do (create the project with
        ``--multi-label``, add to a multi-label project).

    Raises
    ------
    ProjectError
        Naming the first answer of several labels, and ``fix``.
    """
    from activelab.app.ingest import item_source

    for row in data.rows:
        for answer in item_source(row["content"]).get("answers", []):
            labels = answer.get("labels", [])
            if answer.get("status") == "accept" and len(labels) > 1:
                raise ProjectError(
                    f"The data's answers include {labels!r}, several labels of one item; {fix}"
                )


def record_given_answers(
    store: Store, given: dict[int, str], times: dict[int, float] | None = None
) -> int:
    """Record :func:`given_answers` (by item id) as answers of :data:`GIVEN_LABELS_ANNOTATOR`.

    For items without any answer yet (:meth:`~activelab.app.store.Store.import_labels`),
    each given at its ``times`` entry (Unix seconds, by item id; the file's
    ``labelled_at``), else now; returns how many were recorded.
    """
    from activelab.interop.project import imported_annotator

    who = imported_annotator(store, GIVEN_LABELS_ANNOTATOR)
    return store.import_labels(who, given, times)


def create_project(
    path: str | Path,
    data: Dataset,
    labels: list[str],
    *,
    db_url: str | None = None,
    strategy: str | None = None,
    multilabel: bool = False,
    retrain_every: int = 10,
    retrain_seconds: float = 30.0,
    overlap: int = 1,
    lease_seconds: float = 600.0,
    name: str | None = None,
) -> Path:
    """Create a project folder from a :class:`~activelab.app.ingest.Dataset`.

    With ``multilabel=True`` every item may carry any number of the labels
    (``task = "multilabel"``); the strategy then defaults to
    :data:`MULTILABEL_STRATEGY` and must be a multi-label one. Otherwise the
    strategy defaults to ``"auto"`` (:class:`~activelab.strategies.AutoStrategy`).

    Labels the data already holds (:attr:`~activelab.app.ingest.Dataset.given_labels`,
    a file's label column) are checked against ``labels`` before anything is
    created, then recorded as answers of the annotator ``imported:file``, so the
    first model trains on them. In a multi-label project a given value is a list
    of labels, or one CSV cell holding them separated by :data:`LABEL_SEPARATOR`.

    Returns the project folder. Nothing is left behind on failure.
    """
    from activelab.app.service import LabellingService
    from activelab.strategies import get_strategy

    path = Path(path)
    labels = check_labels(labels, multilabel)
    given = given_answers(data, labels, multilabel)
    task = "multilabel" if multilabel else "classification"
    if strategy is None:
        strategy = MULTILABEL_STRATEGY if multilabel else "auto"
    try:
        strat = get_strategy(strategy)
    except (KeyError, ValueError) as exc:
        raise ProjectError(f"Unknown strategy {strategy!r}: {exc}") from exc
    if strat.task not in (task, "any"):
        from activelab.strategies import available

        fitting = [n for n in available() if get_strategy(n).task in (task, "any")]
        raise ProjectError(
            f"Strategy {strategy!r} is for {strat.task} tasks, but this project is {task}; "
            f"choose one of {fitting}."
        )
    if retrain_every < 1 or retrain_seconds <= 0 or overlap < 1 or lease_seconds <= 0:
        raise ProjectError(
            "--retrain-every, --overlap must be >= 1 and --retrain-seconds, lease time > 0."
        )
    if path.exists():
        raise ProjectError(f"{path} exists already; choose a new project folder.")
    if not path.parent.exists():
        raise ProjectError(f"{path.parent} does not exist; create it first.")
    settings: dict[str, Any] = {
        "name": name or path.name,
        "kind": data.kind,
        "task": task,
        "labels": labels,
        "strategy": strategy,
        "model": "logistic_regression",
        "retrain_every": retrain_every,
        "retrain_seconds": retrain_seconds,
        "overlap": overlap,
        "lease_seconds": lease_seconds,
        **data.settings,
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.creating-", dir=path.parent))
    url = db_url or f"sqlite:///{tmp / DB_NAME}"
    store: Store | None = None
    created = False
    try:
        store = Store.create(url, settings)
        created = True
        store.add_items(data.rows, start=0)
        store.save_features(data.X)
        if data.featuriser is not None:
            store.save_artifact("featuriser", pickle.dumps(data.featuriser))
        if given:
            record_given_answers(store, given, data.given_times)
        # the first queue (cold start, or a model on the given labels), so labelling can begin
        LabellingService(store).retrain()
        (tmp / CONFIG_NAME).write_text(
            json.dumps({"format": 1, "db": db_url or f"sqlite:///{DB_NAME}"}, indent=2) + "\n"
        )
        store.close()
        store = None
        os.rename(tmp, path)
    except BaseException:
        if store is not None:
            if created and db_url is not None:
                with contextlib.suppress(Exception):  # best-effort clean-up
                    store.drop_all()
            store.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def project_url(path: str | Path) -> str:
    """The database URL of a project folder."""
    path = Path(path)
    config = path / CONFIG_NAME
    if not config.is_file():
        raise ProjectError(
            f"{path} is not an activelab project (no {CONFIG_NAME}); create one with "
            "`activelab init`."
        )
    fix = "restore it from a backup, or create the project again with `activelab init`"
    try:
        db = json.loads(config.read_text())["db"]
    except ValueError as exc:  # not JSON, or not UTF-8
        raise ProjectError(f"{config} is damaged: {exc}; {fix}.") from exc
    except (KeyError, TypeError) as exc:
        raise ProjectError(f"{config} is damaged: it names no database ('db'); {fix}.") from exc
    if not isinstance(db, str):
        raise ProjectError(f"{config} is damaged: its database ('db') is not a URL; {fix}.")
    db = os.environ.get("ACTIVELAB_DB_URL", db)
    if db.startswith("sqlite:///") and not db.startswith("sqlite:////"):
        db = f"sqlite:///{(path / db[len('sqlite:///') :]).resolve()}"
    return db


def open_project(path: str | Path) -> Store:
    """Open a project folder's store."""
    try:
        return Store.open(project_url(path))
    except StoreError as exc:
        raise ProjectError(str(exc)) from exc


def project_name(settings: dict[str, Any], path: str | Path) -> str:
    """The project's name: its settings' ``name``, else its folder's name.

    ``init`` always stores a name; a store made with :meth:`Store.create` directly
    may have none, and is then named by the folder (or file) it was opened from.

    Examples
    --------
    >>> project_name({"name": "reviews"}, "/data/p")
    'reviews'
    >>> project_name({"labels": ["a", "b"]}, "/data/p")
    'p'
    """
    name = settings.get("name")
    if isinstance(name, str) and name:
        return name
    path = Path(path)
    return (path.resolve() if not path.name else path).name or str(path)
