"""``activelab add``: add a new batch of items (and the labels it holds) to a project."""

from __future__ import annotations

from pathlib import Path

import click

from activelab.cli.project import LABEL_COLUMN_OPTION, LABEL_FOLDERS_OPTION

__all__ = ["add"]

#: a server whose trainer reported within this many seconds is taken to be running
_LIVE_SECONDS = 15.0


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="New items of the project's kind: a CSV/JSONL with its text or feature columns, a "
    "folder of images, or a labelling tool's file.",
)
@LABEL_COLUMN_OPTION
@LABEL_FOLDERS_OPTION
def add(project: Path, data: Path, label_column: str | None, label_folders: bool) -> None:
    """Add the items of a file to PROJECT, featurised as its first items were.

    Texts go through the project's text features (its TF-IDF vocabulary, or the
    sentence embedding), table rows through its feature columns and their
    scaling, images at its size. Ids must be new to the project; a file without
    an id column is numbered on from the project's last row number. Labels the
    file holds are imported, as at init. Stop the project's server first: it
    holds the pool in memory, and serves the new items once started again.
    """
    from activelab.app.extend import extend_project, read_new_items
    from activelab.app.ingest import IngestError
    from activelab.app.project import ProjectError
    from activelab.app.store import StoreError
    from activelab.cli.project import _open, _trainer_status

    store = _open(str(project))
    try:
        state = _trainer_status(store)
        if state and state.get("state") != "stopped" and state["age_seconds"] <= _LIVE_SECONDS:
            raise click.ClickException(
                f"{project} is being served or labelled (its trainer reported "
                f"{state['age_seconds']:.0f} s ago); stop that first, add the items, then start "
                "it again."
            )
        try:
            dataset = read_new_items(
                store, data, label_column=label_column, label_folders=label_folders, progress=True
            )
            first, n, imported = extend_project(store, dataset)
        except (IngestError, ProjectError, StoreError) as exc:
            raise click.ClickException(str(exc)) from exc
        total = store.n_items()
    finally:
        store.close()
    note = f" Imported {imported} label{'s' if imported != 1 else ''}." if imported else ""
    click.echo(
        f"Added {n} items to {project} (item ids {first}–{first + n - 1}; {total} in all); "
        f"the queue was ranked again.{note}"
    )
