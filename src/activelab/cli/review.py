"""``activelab review``: the owner's queue of disputed items, and decisions that settle them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from activelab._text import count

__all__ = ["review"]


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Items to list."
)
@click.option(
    "--min-confidence",
    default=0.9,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="List items whose answers disagree, or with several answers whose aggregated label "
    "(multi-label: some label) is less sure than this; with --doubtful, items with one answer "
    "less sure than this.",
)
@click.option(
    "--doubtful",
    is_flag=True,
    help="List instead the items with one answer whose aggregated label is less sure than "
    "--min-confidence: not disputed, a second answer would settle them.",
)
@click.option(
    "--decide",
    nargs=2,
    default=None,
    metavar="ID LABEL",
    help="Settle item ID (its external id) with LABEL; the decision overrides the answers.",
)
@click.option(
    "--as",
    "name",
    default=None,
    help="Who decides  [default: the project's owner (annotator add --owner), or 'owner' "
    "when it has none].",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def review(
    project: Path,
    limit: int,
    min_confidence: float,
    doubtful: bool,
    decide: tuple[str, str] | None,
    name: str | None,
    as_json: bool,
) -> None:
    """List the disputed items of a project (least sure first), or settle one with --decide.

    Disputed: the answers disagree (in a multi-label project: differ on some label,
    least sure label first), or the item has several answers and its aggregated
    label (multi-label: some label) is less sure than --min-confidence. An item with
    one answer is never disputed:
    when unsure it is doubtful, and --doubtful lists those instead. --decide is
    single-label only.

    A decision is recorded as a label event of the deciding person (--as; by
    default the project's owner; added without a token when new), who becomes an
    adjudicator: on every item they decide,
    their label replaces the aggregate of the other answers.
    """
    from activelab.app.quality import (
        _settled_by,
        aggregate_answers,
        answer_table,
        disputed_items,
        doubtful_text,
    )
    from activelab.app.store import StoreError
    from activelab.cli.project import _open

    if doubtful and decide is not None:
        raise click.ClickException(
            "--doubtful lists items and --decide settles one: give one of them."
        )
    store = _open(str(project))
    try:
        s = store.settings
        multi = s.get("task") == "multilabel"
        if multi and decide is not None:
            raise click.ClickException(
                "--decide works in single-label projects only; a multi-label project lists "
                "its disputed items (answers that differ on some label, or leave one unsure)."
            )
        if decide is not None:
            external, label = decide
            if label not in s["labels"]:
                raise click.ClickException(
                    f"Unknown label {label!r}; the project's labels are {s['labels']}."
                )
            ids = store.external_ids()
            if external not in ids:
                raise click.ClickException(
                    f"No item with id {external!r} in {project}; its ids are the data's "
                    f"(such as {', '.join(map(repr, ids[:3]))}), as `review` lists them."
                )
            name = _judge_name(store, name)
            item = ids.index(external)
            live = [e for e in store.live_answers() if e.item_id == item]
            other = _other_decision(store, live, name.strip())
            try:
                changed = _decide(store, item, label, name, live)
            except StoreError as exc:
                raise click.ClickException(f"--as {name.strip()[:40]!r}: {exc}") from None
            name = name.strip()
            if changed is None:
                click.echo(f"{external}: {label} (decided by {name} already; nothing changed).")
            else:
                was = f", was {changed}" if changed else ""
                if other is not None and other[1] != label:  # the latest decision counts
                    was += f"; it replaces {other[0]}'s decision {other[1]}"
                click.echo(f"{external}: {label} (decided by {name}{was}).")
            return
        if multi:
            from activelab.app.multilabel_quality import (
                aggregate_label_sets,
                disputed_label_sets,
                multilabel_answer_table,
            )

            mt = multilabel_answer_table(store)
            ml_agg = aggregate_label_sets(mt, s.get("aggregate", "dawid_skene"))
            queue, other = (
                disputed_label_sets(mt, ml_agg, min_confidence=min_confidence, doubtful=d)
                for d in (doubtful, not doubtful)
            )
        else:
            table = answer_table(store)
            agg = aggregate_answers(table, s.get("aggregate", "dawid_skene"))
            queue, other = (
                disputed_items(table, agg, min_confidence=min_confidence, doubtful=d)
                for d in (doubtful, not doubtful)
            )
        ids = store.external_ids()
        rows = [{**q, "id": ids[q["item"]]} for q in queue[:limit]]
    finally:
        store.close()
    kind, other_kind = ("doubtful", "disputed") if doubtful else ("disputed", "doubtful")
    if as_json:
        counts = {kind: len(queue), other_kind: len(other)}
        click.echo(json.dumps({**counts, "items": rows}, indent=2))
        return
    if not rows:
        if doubtful:
            click.echo(
                f"No doubtful single answers: every item with one answer is sure "
                f"(at --min-confidence {min_confidence:g})."
            )
        elif other:
            click.echo("Nothing to review: no answers disagree.")
            click.echo(doubtful_text(len(other), s, project) + ".")
        else:
            click.echo("Nothing to review: every answered item is agreed and sure.")
        return
    what = count(len(queue), "doubtful single answer" if doubtful else "disputed item")
    click.echo(f"{what}; the {len(rows)} least sure:" if len(rows) < len(queue) else f"{what}:")
    # a multi-label set is its labels joined by ", " ("" for none of these): answers are
    # kept apart by "; " there, so that "ada: effusion, nodule; bob: fracture" reads right
    sep = "; " if multi else ", "
    for r in rows:
        answers = sep.join(f"{a['annotator']}: {_shown(a['label'], multi)}" for a in r["answers"])
        label = _shown(r["label"], multi)
        click.echo(f"  {r['id']}  {label} ({r['confidence']:.0%})  [{answers}]")
    if doubtful:
        click.echo(_settled_by(s, len(queue)).capitalize() + ".")
    elif not multi:
        click.echo(f"Settle one: activelab review {project} --decide ID LABEL")
    if other and not doubtful:
        click.echo(doubtful_text(len(other), s, project) + ".")


def _shown(label: str, multi: bool) -> str:
    """A label (set) as listed: a multi-label project's empty set is "(none of these)"."""
    return "(none of these)" if multi and not label else label


def _judge_name(store: Any, name: str | None) -> str:
    """Who decides: ``--as``'s name, else the project's one owner (not revoked), else
    ``"owner"``."""
    if name is not None:
        return name
    owners = [
        a.name
        for a in store.annotators()
        if a.name in store.settings.get("owners", []) and not a.revoked
    ]
    if len(owners) > 1:
        raise click.ClickException(
            f"The project has {len(owners)} owners ({', '.join(owners)}); say who decides "
            "with --as NAME."
        )
    return owners[0] if owners else "owner"


def _other_decision(store: Any, live: list[Any], name: str) -> tuple[str, str] | None:
    """The latest live decision among ``live`` (one item's live answers, oldest first) by
    an adjudicator other than ``name``, as (who, label), or ``None``: a new decision
    settles the item over it."""
    from activelab.app.quality import is_decision

    adjudicators = store.settings.get("adjudicators", [])
    judges = {a.id: a.name for a in store.annotators() if a.name in adjudicators and a.name != name}
    ids = set(judges)
    theirs = [e for e in live if e.annotator_id in ids and is_decision(e, ids)]
    return (judges[theirs[-1].annotator_id], str(theirs[-1].label)) if theirs else None


def _decide(store: Any, item: int, label: str, name: str, live: list[Any]) -> str | None:
    """Record ``name``'s decision ``label`` on ``item``; they become an adjudicator.

    A decision taken again with another label replaces their earlier one (undone in the
    log); the same label again changes nothing. Returns ``None`` when nothing changed,
    else the label decided before (``""`` for none). ``live`` holds the item's live
    answers, oldest first.
    """
    from activelab.app.quality import DECISION, is_decision
    from activelab.cli.annotator import refuse_reserved_name

    name = name.strip()
    refuse_reserved_name(name, "decide --as another name")
    judge = store.annotator_by_name(name) or store.add_annotator(name, with_token=False)[0]
    before = [e for e in live if e.annotator_id == judge.id]
    judges = {judge.id} if name in store.settings.get("adjudicators", []) else set()
    if before and before[-1].label == label and is_decision(before[-1], judges):
        return None
    for ev in before:  # a person's answer on an item is one: the new decision replaces it
        store.undo_event(ev.id, judge.id)
    # the owner's decision is one answer more, whatever the item's overlap; marked as a
    # decision, so that the same person's answers on the labelling page stay answers
    store.append_event(item, judge.id, "label", label=label, overlap=sys.maxsize, strategy=DECISION)
    store.update_settings(adjudicators=sorted({*store.settings.get("adjudicators", []), name}))
    return before[-1].label or "" if before else ""
