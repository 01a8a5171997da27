"""``activelab gold``: load the gold items of a project (items whose label the owner knows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from activelab._text import count

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
    Gold items stay in the queue. Nothing is stored when a row has a problem. An
    earlier review --decide decision still counts over a gold label: the items
    where the two differ are listed.
    """
    from activelab.app.gold import GoldError, read_gold, save_gold
    from activelab.cli.project import _open

    store = _open(str(project))
    try:
        s = store.settings
        if s.get("task") == "multilabel":
            raise click.ClickException("Gold items work in single-label projects only.")
        ids = store.external_ids()
        try:
            pairs = read_gold(file, ids, [str(x) for x in s["labels"]])
            total = save_gold(store, pairs)
        except GoldError as exc:
            raise click.ClickException(str(exc)) from exc
        overruled = _decided_otherwise(store, pairs)
    finally:
        store.close()
    items = "gold item" if len(pairs) == 1 else "gold items"
    click.echo(f"Loaded {len(pairs)} {items} from {file}; the project has {total} now.")
    if overruled:
        shown = ", ".join(
            f"{ids[i]} (decided {d}, gold {pairs[i]})" for i, d in list(overruled.items())[:5]
        )
        more = f" and {len(overruled) - 5} more" if len(overruled) > 5 else ""
        click.echo(
            f"{count(len(overruled), 'of them keeps', 'of them keep')} an earlier decision "
            f"with another label, which counts over gold: {shown}{more}; to follow the gold "
            f"label, decide again: activelab review {project} --decide ID LABEL"
        )


def _decided_otherwise(store: Any, pairs: dict[int, str]) -> dict[int, str]:
    """The gold items whose latest decision (``review --decide``) gives another label than
    ``pairs``: item -> the decided label."""
    import numpy as np

    from activelab.app.quality import answer_table

    table = answer_table(store)
    # the saved gold labels, overridden where a decision settles the item
    settled = table.settled()
    items = np.array(sorted(pairs), dtype=np.int64)
    gold = np.array([table.classes.index(pairs[int(i)]) for i in items], dtype=np.int64)
    other = items[settled[items] != gold]
    return {int(i): table.classes[settled[i]] for i in other}
