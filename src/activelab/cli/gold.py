"""``activelab gold``: load the gold items of a project (items whose label the owner knows)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["gold"]


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("file", type=click.Path(path_type=Path))
def gold(project: Path, file: Path) -> None:
    """Load gold items from FILE (CSV with the columns id and label) into PROJECT.

    The columns may be separated by commas, semicolons or tabs; blank rows are skipped.

    A gold label counts as the item's label (training, export) and scores the
    annotators who answer the item: their accuracy on gold items is shown beside
    the Dawid–Skene estimate in activelab status, the owner's page and the API.
    Gold items stay in the queue. Nothing is stored when a row has a problem.
    """
    from activelab.app.gold import GoldError, read_gold, save_gold
    from activelab.cli.project import _open

    store = _open(str(project))
    try:
        s = store.settings
        if s.get("task") == "multilabel":
            raise click.ClickException("Gold items work in single-label projects only.")
        try:
            pairs = read_gold(file, store.external_ids(), [str(x) for x in s["labels"]])
            total = save_gold(store, pairs)
        except GoldError as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    items = "gold item" if len(pairs) == 1 else "gold items"
    click.echo(f"Loaded {len(pairs)} {items} from {file}; the project has {total} now.")
