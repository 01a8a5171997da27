"""``activelab add``: add a new batch of items (and the labels it holds), or new labels, to a
project."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from activelab.cli.project import LABEL_COLUMN_OPTION, LABEL_FOLDERS_OPTION

__all__ = ["add"]

#: a server whose trainer reported within this many seconds is taken to be running
_LIVE_SECONDS = 15.0


def _interrupted(store: Any, project: Path, n_before: int) -> NoReturn:
    """Ctrl-C while the items were added: say in one line what the project now holds.

    Parameters
    ----------
    store : Store
        The project's store, still open.
    project : Path
        The project folder, named in the message.
    n_before : int
        Its number of items before ``add`` started.

    Raises
    ------
    click.ClickException
        Always: what was stored, and what to do next.
    """
    added = store.n_items() - n_before
    if added <= 0:
        raise click.ClickException(f"Interrupted: nothing was added to {project}.")
    raise click.ClickException(
        f"Interrupted after the {added} new items were stored in {project} (with the labels "
        "the file held), before the model was retrained: the queue ranks them after the next "
        "retrain. Do not add the file again (its ids are taken); check with: activelab status "
        f"{project}"
    )


def _ids_text(ids: Sequence[str], show: int = 3) -> str:
    """The added items' own ids (the file's, or the row numbers given to a file without
    them) for the message: every one of a few, else the first ``show`` and the last.

    Examples
    --------
    >>> _ids_text(["n1"])
    'id n1'
    >>> _ids_text(["n1", "n2", "n3", "n4"])
    'ids n1, n2, n3, n4'
    >>> _ids_text([f"n{i}" for i in range(1, 61)])
    'ids n1, n2, n3, …, n60'
    """
    if len(ids) == 1:
        return f"id {ids[0]}"
    if len(ids) <= show + 1:
        return "ids " + ", ".join(ids)
    return "ids " + ", ".join([*ids[:show], "…", ids[-1]])


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--data",
    default=None,
    type=click.Path(path_type=Path),
    help="New items of the project's kind: a CSV/JSONL/.xlsx with its text or feature columns, a "
    "folder of images, or a labelling tool's file.",
)
@click.option(
    "--labels",
    default=None,
    help="New labels, comma-separated (a class found while labelling); added before --data's "
    "items, so their labels may use them.",
)
@LABEL_COLUMN_OPTION
@LABEL_FOLDERS_OPTION
def add(
    project: Path,
    data: Path | None,
    labels: str | None,
    label_column: str | None,
    label_folders: bool,
) -> None:
    """Add the items of a file to PROJECT, featurised as its first items were, or new labels.

    Texts go through the project's text features (its TF-IDF vocabulary, or the
    sentence embedding), table rows through its feature columns and their
    scaling, images at its size. Ids must be new to the project; a file without
    an id column is numbered on from the project's last row number. Labels the
    file holds are imported, as at init. Stop the project's server first: it
    holds the pool in memory, and serves the new items once started again.
    """
    from activelab.app.extend import add_labels, extend_project, read_new_items
    from activelab.app.ingest import IngestError
    from activelab.app.project import ProjectError
    from activelab.app.store import StoreError
    from activelab.cli.project import _open, _trainer_status

    if data is None and labels is None:
        raise click.UsageError(
            "Give --data FILE (new items), --labels NAMES (new labels), or both."
        )
    store = _open(str(project))
    try:
        state = _trainer_status(store)
        if state and state.get("state") != "stopped" and state["age_seconds"] <= _LIVE_SECONDS:
            raise click.ClickException(
                f"{project} is being served or labelled (its trainer reported "
                f"{state['age_seconds']:.0f} s ago); stop that first, run add, then start "
                "it again."
            )
        before = list(store.settings["labels"])
        try:
            dataset = None
            if data is not None:  # read first: a file that does not fit changes nothing
                dataset = read_new_items(
                    store,
                    data,
                    label_column=label_column,
                    label_folders=label_folders,
                    progress=True,
                )
            if labels is not None:
                now = add_labels(store, labels.split(","), retrain=dataset is None)
            if dataset is not None:
                n_before = store.n_items()
                try:
                    _, n, imported, left_out = extend_project(store, dataset)
                except KeyboardInterrupt:
                    _interrupted(store, project, n_before)
        except (IngestError, ProjectError, StoreError) as exc:
            if labels is not None and data is not None:  # the file's labels were refused
                store.update_settings(labels=before)
            raise click.ClickException(str(exc)) from exc
        total = store.n_items()
    finally:
        store.close()
    if labels is not None:
        added = ", ".join(now[len(before) :])
        click.echo(f"Added the label(s) {added} to {project}: its labels are now {', '.join(now)}.")
    if dataset is None:
        return
    note = f" Imported {imported} label{'s' if imported != 1 else ''}." if imported else ""
    if left_out:  # as at init: a tool's answers with labels the project does not have
        note += (
            f" {left_out} answer{'s' if left_out != 1 else ''} left out: their labels are not "
            "among the project's labels."
        )
    ids = _ids_text([str(row["external_id"]) for row in dataset.rows])
    click.echo(
        f"Added {n} item{'s' if n != 1 else ''} to {project} ({ids}; {total} in all); the queue "
        f"was ranked again.{note}"
    )
