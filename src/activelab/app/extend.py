"""Add items to an existing project: a new batch of data, featurised as the first one was.

New data keeps arriving (this week's claims, the next scan series): :func:`read_new_items`
reads a file with the project's own settings (its text column and featuriser, its feature
columns and their scaling, its image size), so the new rows live in the same feature space,
and :func:`extend_project` appends them, with the labels the file already holds, in one
transaction, then retrains. Items keep their ids; the new ones come after the last. Files
without an id column are numbered on from the project's last row number.

Examples
--------
>>> import tempfile, pathlib
>>> from activelab.app.ingest import read_items
>>> from activelab.app.project import create_project, open_project
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.csv").write_text("x,y,label\\n0,0,no\\n5,5,yes\\n1,0,\\n")
>>> _ = create_project(d / "p", read_items(d / "a.csv"), ["no", "yes"])
>>> _ = (d / "b.csv").write_text("x,y,label\\n4,5,\\n0,1,no\\n")
>>> store = open_project(d / "p")
>>> extend_project(store, read_new_items(store, d / "b.csv"))
(3, 2, 1, 0)
>>> store.external_ids(), store.load_features().shape
(['1', '2', '3', '4', '5'], (5, 2))
>>> store.close()
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from activelab._signals import sigint_handled
from activelab.app.ingest import Dataset, IngestError, project_image_pixels, read_items
from activelab.app.store import Store

__all__ = ["ITEM_BATCHES", "add_labels", "extend_project", "read_new_items"]

#: the project setting listing how many items each batch brought (``init``, then each ``add``)
ITEM_BATCHES = "item_batches"


def read_new_items(
    store: Store,
    path: str | Path,
    *,
    label_column: str | None = None,
    label_folders: bool = False,
    progress: bool = False,
) -> Dataset:
    """Read a file of new items and featurise them as the project's first items were.

    Parameters
    ----------
    store : Store
        The project's store.
    path : str or Path
        The same kinds of input as :func:`~activelab.app.ingest.read_items` takes, holding
        items of the project's kind (texts with its text column, table rows with its feature
        columns, images).
    label_column : str, optional
        As for :func:`~activelab.app.ingest.read_items`: labels the file already holds.
    label_folders : bool, default=False
        As for :func:`~activelab.app.ingest.read_items`: images sorted into one
        sub-folder per label.
    progress : bool, default=False
        Show a progress bar while embedding texts.

    Returns
    -------
    Dataset
        Its ``X`` is in the project's feature space (the project's fitted TF-IDF
        vocabulary or column scaling, not one fitted on the new rows).

    Raises
    ------
    IngestError
        The file cannot be read, or does not hold items of the project's kind and columns.
    """
    from activelab.interop.formats import detect_format

    path = Path(path)
    s = store.settings
    kind = s.get("kind")
    tool = path.exists() and detect_format(path) is not None
    kwargs: dict[str, Any] = {
        "label_column": label_column,
        "label_folders": label_folders,
        "progress": progress,
    }
    if kind == "text":
        kwargs["text_column"] = s.get("text_column", "text")
        kwargs["text_features"] = s.get("featuriser")
    elif kind == "table":
        columns = [*(s.get("feature_columns") or []), *(s.get("category_columns") or [])]
        kwargs["feature_columns"] = columns
    elif kind == "image":
        kwargs["image_size"] = int(s.get("image_size", 16))
        kwargs["image_pixels"] = project_image_pixels(s)  # as its first items were read
    if not tool and s.get("id_column"):
        kwargs["id_column"] = s["id_column"]
    fitted = store.artifact("featuriser")
    if fitted is not None and kind in ("text", "table") and s.get("featuriser") != "minilm":
        kwargs["featuriser"] = pickle.loads(fitted)  # minilm is not fitted
    try:
        data = read_items(path, **kwargs)
    except IngestError as exc:  # the options are the project's, not the user's: say so
        message = str(exc)
        for option, what in _OPTIONS.items():
            message = message.replace(option, what)
        raise IngestError(message) from exc
    if data.kind != kind:
        raise IngestError(f"{path} holds {data.kind} items; the project holds {kind} items.")
    if data.settings.get("id_column", "") is None:  # row numbers: go on from the project's
        first = store.n_items()
        for i, row in enumerate(data.rows):
            _renumber(row, str(first + i + 1))
    return data


def _renumber(row: dict[str, Any], new_id: str) -> None:
    """Give a new item the id ``new_id`` (numbered on from the project's last item).

    The item's content keeps the id of a labelling tool's file too (as a text item's
    field, a table's ``id`` cell, and in what the file said of it): it follows.

    Examples
    --------
    >>> row = {"external_id": "1", "content": {"text": "hi", "id": "1", "_source": {"id": "1"}}}
    >>> _renumber(row, "8")
    >>> row
    {'external_id': '8', 'content': {'text': 'hi', 'id': '8', '_source': {'id': '8'}}}
    """
    old = row["external_id"]
    row["external_id"] = new_id
    content = row.get("content") or {}
    for place in (content, content.get("fields"), content.get("_source")):
        if isinstance(place, dict) and place.get("id") == old:
            place["id"] = new_id
    if content.get("filename") == old:
        content["filename"] = new_id


#: how read_items names the options that read_new_items sets from the project
_OPTIONS = {
    "--feature-columns": "the project's feature columns",
    "--text-column": "the project's text column",
    "--id-column": "the project's id column",
}


def add_labels(store: Store, names: list[str], *, retrain: bool = True) -> list[str]:
    """Add labels to the project (a class found while labelling), after its own.

    Answers given so far stay as they are; the new labels are offered from now on (a
    running server after a restart), and the model is retrained so that its classes
    follow (``retrain=False`` leaves that to the caller, e.g. when items come next).

    Returns
    -------
    list of str
        The project's labels now.

    Raises
    ------
    ProjectError
        A label the project has, a duplicate, an empty or too long name, more than
        the project may have, or ``;`` in a multi-label project's label.

    Examples
    --------
    >>> from activelab.app.store import Store
    >>> store = Store.create("sqlite://", {"labels": ["cat", "dog"], "strategy": "margin"})
    >>> add_labels(store, ["bird"], retrain=False)
    ['cat', 'dog', 'bird']
    >>> add_labels(store, ["Dog", "dog"], retrain=False)
    Traceback (most recent call last):
    ...
    activelab.app.project.ProjectError: The project has the label(s) ['dog'] already; ...
    """
    from activelab.app.project import ProjectError, check_labels
    from activelab.app.service import LabellingService

    s = store.settings
    labels = [str(x) for x in s["labels"]]
    names = [n.strip() for n in names]
    have = [n for n in names if n in labels]
    if have:
        raise ProjectError(f"The project has the label(s) {have} already; its labels are {labels}.")
    labels = check_labels([*labels, *names], s.get("task") == "multilabel")
    store.update_settings(labels=labels)
    if retrain:
        LabellingService(store).retrain()
    return labels


def extend_project(store: Store, data: Dataset) -> tuple[int, int, int, int]:
    """Append ``data``'s items (and the labels it holds) to the project, then retrain.

    The labels are checked against the project's before anything is written; the
    items, their features and their labels (answers of ``imported:file``, or a
    labelling tool's own answers) are then recorded, and the model retrained so that
    the queue ranks the new items too. A running server of the project serves them
    after a restart (``activelab add`` refuses while one is running).

    Returns
    -------
    (int, int, int, int)
        The first new item id, the number of items added, of labels imported, and of a
        labelling tool's answers left out because their labels are not the project's.

    Raises
    ------
    ProjectError
        Before anything is written, for labels the project lacks, or for a labelling
        tool's answers of several labels in a single-label project.
    """
    from activelab.app.project import given_answers, record_given_answers, refuse_label_sets
    from activelab.app.service import LabellingService
    from activelab.interop.project import import_answers

    s = store.settings
    labels = [str(x) for x in s["labels"]]
    multilabel = s.get("task") == "multilabel"
    if not multilabel:  # before anything is written: the project is left as it was
        refuse_label_sets(
            data,
            "this project takes one label per item (it was made without --multi-label); "
            "add the file to a multi-label project, or give one label per answer.",
        )
    given = given_answers(data, labels, multilabel)
    with _interrupt_deferred():  # Ctrl-C here would leave the items without their labels
        first = store.append_items(data.rows, data.X)
        batches = list(s.get(ITEM_BATCHES) or [first])  # before any add: one batch, all items
        store.update_settings(**{ITEM_BATCHES: [*batches, len(data.rows)]})
        imported = (
            record_given_answers(
                store,
                {first + i: v for i, v in given.items()},
                {first + i: t for i, t in data.given_times.items()},
            )
            if given
            else 0
        )
        left_out = 0
        if data.settings.get("source_format"):
            recorded, left_out = import_answers(store, first=first)
            imported += recorded
    LabellingService(store).retrain()
    return first, len(data.rows), imported, left_out


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Hold Ctrl-C back until the block is done, then raise it.

    The block writes the new items and then the labels they came with, each in its own
    transaction; stopping between the two left items whose labels were lost, and the
    file could not be added again (its ids are taken). Outside the main thread, where
    Python delivers no signals, the block runs as it is.
    """
    pressed: list[int] = []
    with sigint_handled(lambda signum, frame: pressed.append(signum)):
        yield
    if pressed:
        raise KeyboardInterrupt
