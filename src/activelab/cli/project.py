"""``activelab init``, ``status``, ``export``, ``model``: create and inspect labelling projects."""

from __future__ import annotations

import csv
import io
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from activelab._text import count

__all__ = ["export", "init", "model", "status"]


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _open(project: str) -> Any:
    from activelab.app.project import ProjectError, open_project

    try:
        return open_project(project)
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from exc


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


#: ``--label-column`` of ``init`` and ``add``: labels a CSV/JSONL file already holds
LABEL_COLUMN_OPTION = click.option(
    "--label-column",
    default=None,
    help="Column of a CSV/JSONL holding labels already given (an empty cell: not labelled); "
    "they are imported as answers of 'imported:file' and are never a feature, given at the "
    "file's labelled_at (ISO time, no zone: UTC, or Unix seconds) when it has one  [default: "
    "label, when there is one, else labels; '' for none]. Multi-label: labels separated by ';' "
    "(CSV; [] for none of them) or a list.",
)

#: ``--label-folders`` of ``init`` and ``add``: images sorted into one folder per label
LABEL_FOLDERS_OPTION = click.option(
    "--label-folders",
    is_flag=True,
    help="A folder of images with one sub-folder per label (pets/cat/1.png): the sub-folder's "
    "name is imported as the image's label; images at the top level stay unlabelled.",
)


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="items.csv, items.jsonl, items.xlsx (its first sheet), a folder of PNG/JPEG images, or "
    "a labelling tool's file: Label Studio tasks.json, Prodigy .jsonl, .parquet, a Hugging Face "
    "dataset folder.",
)
@click.option(
    "--labels",
    default=None,
    help="Comma-separated labels, e.g. positive,negative  [default: the labels the data "
    "already holds (its label column or folders), when it holds two or more].",
)
@click.option("--text-column", default=None, help="Column holding the text  [default: text].")
@click.option(
    "--text-features",
    type=click.Choice(["auto", "tfidf", "minilm"], case_sensitive=False),
    default=None,
    help="How texts become features: minilm (sentence embedding), tfidf, or auto (minilm when "
    "installed, else tfidf)  [default: $ACTIVELAB_TEXT_FEATURES, else auto].",
)
@click.option("--id-column", default=None, help="Column holding a unique id  [default: id].")
@LABEL_COLUMN_OPTION
@LABEL_FOLDERS_OPTION
@click.option(
    "--feature-columns",
    default=None,
    help="Comma-separated columns of a table to learn from: numbers, or categories  [default: "
    "every numeric column and every column of categories].",
)
@click.option(
    "--image-size",
    default=16,
    show_default=True,
    type=click.IntRange(2, 256),
    help="Images are resized to N×N.",
)
@click.option(
    "--db",
    "db_url",
    default=None,
    help="Database URL, e.g. postgresql://user@host/db  [default: SQLite in the folder].",
)
@click.option(
    "--multi-label",
    "multilabel",
    is_flag=True,
    help="Each item may carry any number of the labels (toggled, then confirmed).",
)
@click.option(
    "--strategy",
    default=None,
    help="Query strategy  [default: auto; mmc with --multi-label].",
)
@click.option(
    "--retrain-every",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Retrain after N labels.",
)
@click.option(
    "--retrain-seconds",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.0, min_open=True),
    help="... or after T seconds.",
)
@click.option(
    "--overlap",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Annotators who may answer the same item.",
)
@click.option(
    "--double-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of items (a fixed random sample) answered by two annotators, to measure agreement.",
)
@click.option(
    "--second-opinions",
    is_flag=True,
    help="Ask one more annotator on items whose aggregated label is in doubt, when that is "
    "worth more than a new item (single-label; not with --aggregate latest).",
)
@click.option(
    "--cost-aware",
    is_flag=True,
    help="Rank the queue by value per predicted second (learnt from the time answers take; "
    "single-label).",
)
@click.option(
    "--aggregate",
    type=click.Choice(["dawid_skene", "majority", "latest"], case_sensitive=False),
    default="dawid_skene",
    show_default=True,
    help="How several answers on an item become the training label.",
)
@click.option(
    "--gold",
    "gold_file",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV of gold items (columns id,label): labels the owner knows; they train the model "
    "and score the annotators.",
)
def init(
    project: Path,
    data: Path,
    labels: str | None,
    text_column: str | None,
    text_features: str | None,
    id_column: str | None,
    label_column: str | None,
    label_folders: bool,
    feature_columns: str | None,
    image_size: int,
    db_url: str | None,
    multilabel: bool,
    strategy: str | None,
    retrain_every: int,
    retrain_seconds: float,
    overlap: int,
    double_share: float,
    second_opinions: bool,
    cost_aware: bool,
    aggregate: str,
    gold_file: Path | None,
) -> None:
    """Create a labelling project in the folder PROJECT from a data set.

    Texts are featurised by the all-MiniLM-L6-v2 sentence embedding when it is
    installed, else by TF-IDF (see --text-features); images by their pixels,
    tables by their numeric columns and columns of categories. With --multi-label
    an item may carry any number of the labels (none included). Nothing is created
    when the data has a problem.
    """
    from activelab.app.gold import GoldError
    from activelab.app.ingest import IngestError, read_items
    from activelab.app.project import ProjectError, create_project
    from activelab.app.store import StoreError

    t0 = time.perf_counter()
    cols = [c.strip() for c in feature_columns.split(",")] if feature_columns else None
    if strategy is not None:  # a typo stops before the data is read and featurised
        from activelab.strategies import get_strategy

        try:
            get_strategy(strategy)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--strategy") from None
    # options that would be stored and then do nothing are refused before the data is read
    for flag, on in (("--second-opinions", second_opinions), ("--cost-aware", cost_aware)):
        if on and multilabel:
            _fail(f"{flag} works in single-label projects only.")
    if second_opinions and aggregate == "latest":
        _fail(
            "--second-opinions weighs every answer of an item: use --aggregate dawid_skene "
            "(the default) or majority, not --aggregate latest."
        )
    try:
        if project.exists():
            _fail(f"{project} exists already; choose a new project folder.")
        dataset = read_items(
            data,
            text_column=text_column,
            id_column=id_column,
            feature_columns=cols,
            image_size=image_size,
            text_features=text_features,
            progress=True,
            label_column=label_column,
            label_folders=label_folders,
        )
        inferred = labels is None
        if not multilabel:
            _refuse_label_sets(dataset)
        if labels is None:
            labels = ",".join(_labels_from_data(dataset, multilabel))
        gold = _read_gold(gold_file, dataset, labels.split(","), multilabel)
        path = create_project(
            project,
            dataset,
            labels.split(","),
            db_url=db_url,
            strategy=strategy,
            multilabel=multilabel,
            retrain_every=retrain_every,
            retrain_seconds=retrain_seconds,
            overlap=overlap,
        )
    except (IngestError, ProjectError, StoreError, GoldError) as exc:
        raise click.ClickException(str(exc)) from exc
    from activelab.app.project import open_project

    store = open_project(path)
    strategy = store.settings["strategy"]
    store.update_settings(
        double_share=double_share,
        second_opinions=second_opinions,
        cost_aware=cost_aware,
        aggregate=aggregate,
    )
    if gold:
        from activelab.app.gold import save_gold

        save_gold(store, gold)
    imported = _import_answers(store) if dataset.settings.get("source_format") else ""
    if dataset.given_labels:
        n, where = len(dataset.given_labels), dataset.settings["label_column"]
        source = "the folders' names" if dataset.kind == "image" else f"column {where!r}"
        imported = f" Imported {n} label{'s' if n != 1 else ''} from {source}."
    if inferred:
        imported += " The project's labels are the ones found there (--labels names others too)."
    store.close()
    click.echo(
        f"Created {path}: {count(len(dataset.rows), f'{dataset.kind} item')}, "
        f"{_features_note(dataset.settings)}"
        f"{'multi-label ' if multilabel else ''}labels "
        f"{', '.join(labels.split(','))}, strategy {strategy} "
        f"({time.perf_counter() - t0:.1f} s).{imported}"
    )
    click.echo(f"Next: activelab annotator add {project} YOUR_NAME, then activelab serve {project}")


def _refuse_label_sets(dataset: Any) -> None:
    """Stop a single-label project from a labelling tool's file whose answers are label sets
    (see :func:`activelab.app.project.refuse_label_sets`)."""
    from activelab.app.project import ProjectError, refuse_label_sets

    try:
        refuse_label_sets(dataset, "create the project with --multi-label.")
    except ProjectError as exc:
        _fail(str(exc))


def _labels_from_data(dataset: Any, multilabel: bool) -> list[str]:
    """``--labels`` left out: the labels the data holds, when there are two or more."""
    from activelab.app.project import LABEL_SEPARATOR, MAX_LABELS, labels_in_data

    found = labels_in_data(dataset, multilabel)
    several = [lab for lab in found if LABEL_SEPARATOR in lab]
    if several:  # "weather;mood": an item with two labels, as a multi-label export writes it
        _fail(
            f"The data's labels include {several[0]!r}, several labels of one item; create "
            "the project with --multi-label, or name its labels with --labels."
        )
    if not multilabel:
        _refuse_a_quantity(dataset)
    if len(found) > MAX_LABELS:
        _fail(
            f"The data's {_label_source(dataset)} holds {len(found)} distinct values (such as "
            f"{', '.join(map(repr, found[:3]))}); a project takes at most {MAX_LABELS} labels. "
            "Name the labels with --labels, or keep the column as data with --label-column ''."
        )
    if len(found) >= 2:
        return found
    if not found:
        _fail(
            "Name the labels with --labels, e.g. --labels positive,negative: the data holds no "
            "labels to take them from (a 'label' or 'labels' column, --label-column or "
            "--label-folders)."
        )
    _fail(
        f"The data's {_label_source(dataset)} holds one label only ({found[0]!r}); name every "
        f"label with --labels, e.g. --labels {found[0]},OTHER."
    )


def _refuse_a_quantity(dataset: Any) -> None:
    """Stop a project whose label column holds a measured quantity (pIC50, a price).

    Its labels would otherwise be taken from the data as one class per value, and every
    value not yet seen (the next measurement) could never be given. Read as
    :func:`activelab.data.datasets.infer_task` reads labels for ``activelab simulate``:
    numbers with fractions, or whole numbers with more than 30 distinct values (and more
    than one per 20 rows). Labels from image folders or a labelling tool's answers are
    categories by construction and are not checked.

    Parameters
    ----------
    dataset : activelab.app.ingest.Dataset
        The data read by ``init``, with its labels by row.

    Raises
    ------
    click.ClickException
        Naming the column, why its values are a quantity and the ways out.
    """
    import numpy as np

    from activelab.data.datasets import infer_task

    if dataset.kind == "image" or dataset.settings.get("source_format"):
        return
    values = [v for v in dataset.given_labels.values() if isinstance(v, str)]
    if len(values) < 2:
        return
    task, why = infer_task(np.asarray(values))
    if task != "regression":
        return
    distinct = list(dict.fromkeys(values))
    _fail(
        f"The data's {_label_source(dataset)} holds a quantity ({why}, {len(distinct)} "
        f"distinct values such as {', '.join(map(repr, distinct[:3]))}), not classes; a "
        "project's labels are classes. To choose which items to measure next, fit "
        "activelab.ActiveLearner with a regressor (see docs/regression.md); to take each "
        "value as a class, name them with --labels; to keep the column as data, "
        "--label-column ''."
    )


def _label_source(dataset: Any) -> str:
    """Where the data's labels were read: its folders, its label column or a tool's answers."""
    if dataset.kind == "image" and not dataset.settings.get("source_format"):
        return "folders"
    if dataset.settings.get("source_format"):
        return "answers"
    return f"column {dataset.settings.get('label_column', 'label')!r}"


def _read_gold(
    path: Path | None, dataset: Any, labels: list[str], multilabel: bool
) -> dict[int, str] | None:
    """The gold pairs of ``--gold``, checked against the data before anything is created."""
    if path is None:
        return None
    from activelab.app.gold import read_gold

    if multilabel:
        _fail("--gold works in single-label projects only.")
    return read_gold(path, [str(r["external_id"]) for r in dataset.rows], labels)


def _import_answers(store: Any) -> str:
    """Record the labels a labelling tool's file brought, and retrain on them."""
    from activelab.app.service import LabellingService
    from activelab.interop.project import import_answers

    recorded, refused = import_answers(store)
    if recorded:
        LabellingService(store).retrain()
    if not recorded and not refused:
        return ""
    note = f" Imported {recorded} label{'s' if recorded != 1 else ''} from the file"
    if refused:
        answers = "answer" if refused == 1 else "answers"
        note += f" ({refused} {answers} left out: their labels are not among --labels)"
    return note + "."


def _features_note(settings: dict[str, Any]) -> str:
    """``"features minilm (384), "`` for a text project; a table's feature columns, and the
    columns left out as not numeric; else nothing."""
    if "text_column" in settings:
        return f"features {settings['featuriser']} ({settings['n_features']}), "
    if "feature_columns" not in settings:
        return ""

    def names(cols: list[str]) -> str:
        return ", ".join(cols[:8]) + (f" and {len(cols) - 8} more" if len(cols) > 8 else "")

    numbers = list(settings["feature_columns"])
    categories = list(settings.get("category_columns") or [])
    note = "features " + "; ".join(
        part
        for part in (
            names(numbers) if numbers else "",
            f"categories {names(categories)} (one-hot)" if categories else "",
        )
        if part
    )
    other = list(settings.get("other_columns") or [])
    if other:  # shown with the item, not learnt from: say so, a decimal comma may hide there
        note += f" (neither numbers nor categories, so shown but not learnt from: {names(other)})"
    return note + ", "


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(project: Path, as_json: bool) -> None:
    """Show a project's items, labels, model and annotators."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from activelab.app.project import project_name
    from activelab.app.quality import short_of_annotators
    from activelab.app.training import stopping_text

    store = _open(str(project))
    s = store.settings
    counts = store.count_events()
    models = store.model_versions()
    latest = models[-1] if models else None  # the round whose queue is served now
    # a round with too few labels (none, or of one class) stores a cold-start queue alone
    trained = latest if latest is not None and latest.has_model else None
    multi = s.get("task") == "multilabel"
    method = s.get("aggregate", "dawid_skene")
    # one answer table and one aggregate serve both the label counts and the quality figures
    if multi:
        from activelab.app.multilabel_quality import (
            aggregate_label_sets,
            multilabel_answer_table,
            multilabel_quality_report,
        )

        ml_table = multilabel_answer_table(store)
        ml_agg = aggregate_label_sets(ml_table, method)
        quality = multilabel_quality_report(store, method, table=ml_table, agg=ml_agg)
        counts_of = _final_label_counts(store, multi, ml_agg, counts["label"])
    else:
        from activelab.app.quality import aggregate_answers, answer_table, quality_report

        table = answer_table(store)
        agg = aggregate_answers(table, method)
        quality = quality_report(store, method, table=table, agg=agg)
        counts_of = _final_label_counts(store, multi, (table, agg), counts["label"])
    labelled, by_label, none_of_these, gold = counts_of
    owners, judges = set(s.get("owners", [])), set(s.get("adjudicators", []))
    info = {
        "name": project_name(s, project),
        "kind": store.project_kind(),
        "task": s.get("task", "classification"),
        "database": store.dialect,
        "items": store.n_items(),
        "labelled": labelled,
        **({} if multi else {"gold": gold}),
        "by_label": by_label,
        **({"none_of_these": none_of_these} if multi else {}),
        "events": counts,
        "strategy": s.get("strategy", "auto"),  # the trainer's default where none is set
        "model_version": trained.version if trained else None,
        "model_labels": trained.n_labels if trained else 0,
        "accuracy": (trained.metrics.get("accuracy") if trained else None),
        "still_pays": (trained.metrics.get("still_pays") if trained else None),
        "stopping": (trained.metrics.get("stopping") if trained else None),
        "annotators": [
            {
                "name": a.name,
                "revoked": a.revoked,
                "owner": a.name in owners,
                "adjudicator": a.name in judges,
            }
            for a in store.annotators()
        ],
        "trainer": _trainer_status(store),
        "quality": quality,
        "short_of_annotators": short_of_annotators(
            store, str(project), metrics=latest.metrics if latest else {}
        ),
    }
    store.close()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    # names, labels and ids are the project's own text: printed as they are, never read as
    # markup (an annotator named '[/x]' would stop the command, '[red]x' would lose its name)
    console = Console(markup=False)
    of_them = f", {gold} of them gold" if gold else ""
    console.print(
        Text.assemble(
            (info["name"], "bold"),
            f": {count(info['items'], ' '.join(filter(None, (info['kind'], 'item'))))}, "
            f"{info['labelled']} labelled{of_them} ({info['database']}); "
            f"strategy {info['strategy']}",
        )
    )
    table = Table("label", "items")
    for k, v in by_label.items():
        table.add_row(k, str(v))
    if multi:
        table.add_row("(none of these)", str(none_of_these), style="dim")
    console.print(table)
    events = ", ".join(count(counts[kind], kind) for kind in ("label", "skip", "undo"))
    console.print(f"events: {events}")
    acc = info["accuracy"] or {}
    if acc.get("estimate") is not None:
        console.print(
            f"model v{info['model_version']} on {info['model_labels']} labels: estimated "
            f"{acc.get('metric', 'accuracy')} {acc['estimate']:.1%} "
            f"(95% interval {acc['low']:.1%}–{acc['high']:.1%})"
        )
    elif info["model_version"] is not None:  # a model, too few labels to estimate it yet
        why = f" ({acc['note']})" if acc.get("note") else ""
        console.print(
            f"model v{info['model_version']} on {info['model_labels']} labels: estimated "
            f"{acc.get('metric', 'accuracy')} not yet known{why}"
        )
    else:
        console.print("model: none yet (it trains once there are labels of two classes)")
    pays = info["still_pays"] or {}
    if pays.get("reason"):
        console.print(f"more labels still pay? {pays['reason']}")
    stopping = stopping_text(info["stopping"])
    if stopping:  # the labelling page's "stopping" read-out, the same line
        console.print(stopping)

    def role(a: dict[str, Any]) -> str:
        said = [w for w in ("owner", "revoked") if a[w]] + (["decides"] if a["adjudicator"] else [])
        return a["name"] + (f" ({', '.join(said)})" if said else "")

    names = ", ".join(role(a) for a in info["annotators"])
    console.print(f"annotators: {names or 'none yet'}")
    if info["short_of_annotators"]:  # why the queue count never reaches 0
        console.print(info["short_of_annotators"]["text"], soft_wrap=True)  # one line
    console.print(f"trainer: {_describe_trainer(info['trainer'])}")
    if info.get("quality"):
        _print_quality(console, info["quality"])
        if info["quality"].get("doubtful"):
            from activelab.app.quality import doubtful_text

            console.print(doubtful_text(info["quality"]["doubtful"], s, project))


def _final_label_counts(
    store: Any, multi: bool, aggregated: Any, label_events: int
) -> tuple[int, dict[str, int], int, int]:
    """The items with a final label, per label, the multi-label items with none of the labels,
    and the gold items among them: the labels ``export`` writes and the model trains on
    (aggregated where items take several answers; a gold item counts with its gold label,
    answered or not).

    ``aggregated`` is the store's aggregate by its method: a multi-label project's
    :class:`~activelab.app.multilabel_quality.LabelSetAggregate`, or else the
    ``(answer table, aggregate)`` pair of :mod:`activelab.app.quality`; ``label_events``
    the store's count of label events (``count_events()["label"]``, read once by the caller).
    """
    import numpy as np

    classes = [str(c) for c in store.settings["labels"]]
    if multi:
        if _several_live_answers(store):
            sets = aggregated.indicator[aggregated.answered].astype(bool)
        else:
            from activelab.app.store import decode_label_set
            from activelab.multilabel import to_indicator

            known = set(classes)
            current = [
                [lab for lab in decode_label_set(c.label) if lab in known]
                for c in store.current_labels().values()
            ]
            sets = to_indicator(current, classes).reshape(len(current), len(classes)) > 0
        per_label = sets.sum(axis=0)
        return (
            len(sets),
            dict(zip(classes, map(int, per_label), strict=True)),
            int(np.count_nonzero(~sets.any(axis=1))),
            0,
        )
    current = _single_answer_labels(store, label_events)
    if current is None:
        table, agg = aggregated
        codes = agg.labels[agg.answered]
        gold = int(table.gold_items.size)
    else:
        cls = {c: i for i, c in enumerate(classes)}
        codes = np.fromiter((cls[c.label] for c in current.values() if c.label in cls), np.int64)
        gold = 0
    per_class = np.bincount(codes, minlength=len(classes))
    return int(codes.size), dict(zip(classes, map(int, per_class), strict=True)), 0, gold


def _trainer_status(store: Any) -> dict[str, Any] | None:
    """The trainer state a server last stored, with how long ago (None: never served)."""
    from activelab.app.trainer import STATUS_ARTIFACT

    raw = store.artifact(STATUS_ARTIFACT)
    if raw is None:
        return None
    state = json.loads(raw)
    state["age_seconds"] = round(time.time() - float(state.get("published_at", 0.0)), 1)
    return state


def _describe_trainer(state: dict[str, Any] | None) -> str:
    from activelab.app.trainer import describe_state

    if state is None:
        return "never started (activelab serve or label starts it)"
    text = describe_state(state)
    if state.get("state") != "stopped" and state["age_seconds"] > 15:
        text += f"; no news for {state['age_seconds']:.0f} s: is the server still running?"
    return text


def _print_quality(console: Any, q: dict[str, Any]) -> None:
    """Agreement and per-annotator quality (per label too in a multi-label project)."""
    from rich.table import Table

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x:.1%}"

    line = (
        f"answers: {q['answers']} on {count(q['items_answered'], 'item')}, "
        f"{q['items_with_several_answers']} with several answers; labels by {q['aggregate']}"
    )
    per_annotator = {
        "one_coin": "one accuracy",
        "full": "a confusion matrix",
        "shrunk": "a shrunk confusion matrix",
    }.get(q.get("annotator_model", ""))
    if per_annotator:
        line += f" ({per_annotator} per annotator)"
    if q["percent_agreement"] is not None:
        alpha = q["krippendorff_alpha"]
        line += (
            f"; agreement {pct(q['percent_agreement'])}, Krippendorff's alpha "
            f"{'–' if alpha is None else f'{alpha:.3f}'}"
        )
    if q.get("gold_items"):
        line += f"; {q['gold_items']} gold items"
    if q.get("disputed"):
        line += f"; {q['disputed']} disputed (activelab review)"
    console.print(line)
    shares = q.get("class_shares")
    if shares and q["items_with_several_answers"] and shares["answers"]:

        def row(d: dict[str, float | None]) -> str:
            return ", ".join(f"{c} {pct(v)}" for c, v in d.items())

        console.print(
            f"class shares: of the answers {row(shares['answers'])}; "
            f"of the aggregated labels {row(shares['aggregate'])}"
        )
    if q.get("per_label") and q["items_with_several_answers"]:
        per = Table("label", "items", "agreement", "Krippendorff's alpha")
        for p in q["per_label"]:
            alpha = p["krippendorff_alpha"]
            per.add_row(
                p["label"],
                str(p["items"]),
                pct(p["percent_agreement"]),
                "–" if alpha is None else f"{alpha:.3f}",
            )
        console.print(per)
    if not q["annotators"]:
        return
    table = Table(
        "annotator",
        "answers",
        "shared items",
        "est. accuracy",
        "on gold",
        "agrees with label",
        "median s",
    )
    for a in q["annotators"]:
        secs = a["median_seconds"]
        gold = f"{pct(a['gold_accuracy'])} of {a['gold_answers']}" if a["gold_answers"] else "–"
        table.add_row(
            a["name"],
            str(a["answers"]),
            str(a["shared_items"]),
            pct(a["estimated_accuracy"]),
            gold,
            pct(a["agreement_with_aggregate"]),
            "–" if secs is None else f"{secs:.1f}",
        )
    console.print(table)
    skipped = [a for a in q["annotators"] if a["skips"]]
    if skipped:  # an annotator who skips everything has no other figure to show
        console.print("skips: " + ", ".join(f"{a['name']} {a['skips']}" for a in skipped))
    if q["kappa"]:
        console.print(
            "Cohen's kappa: "
            + ", ".join(
                f"{p['annotators'][0]}–{p['annotators'][1]} {p['kappa']:.2f}" for p in q["kappa"]
            )
        )


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(
        ["csv", "jsonl", "label-studio", "prodigy", "parquet", "hf"], case_sensitive=False
    ),
    default=None,
    help="csv/jsonl: activelab's columns; label-studio (tasks JSON), prodigy (JSONL), parquet, "
    "hf (a Hugging Face dataset folder): every item with its data, the file's earlier "
    "answers and every answer given here (see docs/interop.md)  [default: jsonl or parquet "
    "for an --out file ending so, else csv; an --out file ending .json or .xlsx needs "
    "--format].",
)
@click.option("--events", is_flag=True, help="Export the whole label log instead of final labels.")
@click.option(
    "--separator",
    default=";",
    show_default=True,
    help="Multi-label projects, CSV: what joins an item's labels.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File, written uncompressed (a name ending .gz is refused)  [default: stdout].",
)
@click.option(
    "--annotators",
    "per_annotator",
    is_flag=True,
    help="Export one row per annotator instead: answers, skips, estimated accuracy, accuracy "
    "on gold items, agreement with the aggregate, median seconds (csv or jsonl).",
)
@click.option(
    "--with-predictions",
    is_flag=True,
    help="csv/jsonl: one row per item with the latest model's predicted_label, "
    "predicted_proba and prediction_source ('model vN') next to the human label "
    "(empty where no one has answered). label-studio/prodigy/parquet/hf: the model's "
    "guess as each item's prediction (model_version 'model vN'), never an answer.",
)
def export(
    project: Path,
    fmt: str | None,
    events: bool,
    separator: str,
    out: Path | None,
    per_annotator: bool,
    with_predictions: bool = False,
) -> None:
    """Export the final labels (with annotator and time) or, with --events, the whole log.

    In a multi-label project the column is "labels": a JSON list in JSONL, the
    labels joined by --separator (default ";") in CSV; an empty list, or [] in
    CSV, means the item carries none of the labels (an empty CSV cell is an item
    no one answered).

    A single-label project that takes several answers per item (--overlap,
    --double-share, --second-opinions at init) exports the aggregated label,
    its confidence, the number of answers and every raw answer (annotator,
    label, event id; a JSON list, as text in CSV; a review --decide decision
    marked "decision": true), and a gold column when the project has gold
    items. A multi-label project that takes several answers
    exports the label set aggregated label by label, each label's probability
    (label_confidence) and every raw answer. --events adds the seconds each
    answer took. --annotators writes one row per annotator instead (answers,
    skips, estimated accuracy, accuracy on gold items, agreement, median
    seconds).

    --with-predictions exports every item: the human label columns as above
    (empty, or null in JSONL, for an item no one has answered) and the latest
    model's prediction in columns of its own, flagged by prediction_source
    ("model vN"). Predictions are never labels.
    """
    if out is not None:
        from activelab.cli._outfile import compressed_message

        refused = compressed_message(out)
        if refused is not None:
            _fail(refused)
    if fmt is None:  # an --out file's suffix says what it holds
        suffix = out.suffix.lower() if out is not None else ""
        _refuse_misleading_suffix(out, suffix)
        fmt = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}.get(suffix, "csv")
    if with_predictions and per_annotator:
        _fail("--with-predictions adds columns to the item export; --annotators is another one.")
    if with_predictions and events:
        _fail("--with-predictions adds columns to the csv or jsonl label export, not to --events.")
    if fmt not in ("csv", "jsonl"):
        if per_annotator:
            _fail("--annotators exports csv or jsonl.")
        _export_tool_format(project, fmt, events, out, with_predictions)
        return
    from activelab.app.csvsafe import escape_row
    from activelab.app.project import csv_label_set
    from activelab.app.store import decode_label_set

    store = _open(str(project))
    ids = store.external_ids()
    multi = store.settings.get("task") == "multilabel"
    label_key = "labels" if multi else "label"
    if multi and fmt == "csv":
        clash = [lab for lab in store.settings["labels"] if separator in lab]
        if not separator:
            store.close()
            _fail("--separator is empty; give the text that joins an item's labels, e.g. ';'.")
        if clash:
            store.close()
            _fail(f"--separator {separator!r} is inside label(s) {clash}; pick another.")

    def value(label: str | None, kind: str = "label") -> Any:
        if not multi or kind != "label":
            return label or ""
        labels = decode_label_set(label)
        return csv_label_set(labels, separator) if fmt == "csv" else labels

    if per_annotator:
        rows, fields = _annotator_rows(store)
    elif events:
        names = {a.id: a.name for a in store.annotators()}
        rows: list[dict[str, Any]] = [
            {
                "event_id": e.id,
                "id": ids[e.item_id],
                "kind": e.kind,
                label_key: value(e.label, e.kind),
                "undoes": "" if e.undoes is None else e.undoes,
                "annotator": names.get(e.annotator_id, ""),
                "created_at": _iso(e.created_at),
                "strategy": e.strategy or "",
                "score": "" if e.score is None else e.score,
                "model_version": "" if e.model_version is None else e.model_version,
                "seconds": "" if e.seconds is None else round(e.seconds, 3),
            }
            for e in store.events()
        ]
        fields = [
            "event_id",
            "id",
            "kind",
            label_key,
            "undoes",
            "annotator",
            "created_at",
            "strategy",
            "score",
            "model_version",
            "seconds",
        ]
    else:
        # a single-label project's current labels say whether items have several answers,
        # and are the rows when not
        current = None if multi else _single_answer_labels(store)
        if not multi and current is None:
            rows, fields = _aggregate_rows(store, ids, fmt)
        elif multi and _several_live_answers(store):
            rows, fields = _label_set_rows(store, ids, fmt, separator)
        else:
            rows = [
                {
                    "id": ids[c.item_id],
                    label_key: value(c.label),
                    "annotator": c.annotator,
                    "labelled_at": _iso(c.created_at),
                }
                for c in (store.current_labels() if current is None else current).values()
            ]
            fields = ["id", label_key, "annotator", "labelled_at"]
    try:
        if with_predictions:
            rows, fields = _with_predictions(store, ids, rows, fields, fmt, separator)
    finally:
        store.close()
    buf = io.StringIO()
    if fmt == "csv":
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(escape_row(r) for r in rows)  # no cell runs as a formula
    else:
        for r in rows:
            buf.write(json.dumps(r) + "\n")
    if out is None:
        sys.stdout.write(buf.getvalue())
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(buf.getvalue())
        what = (
            "annotators"
            if per_annotator
            else "items"
            if with_predictions
            else "events"
            if events
            else "labels"
        )
        click.echo(f"Wrote {len(rows)} {what} to {out}.", err=True)


def _refuse_misleading_suffix(out: Path | None, suffix: str) -> None:
    """Stop when ``--out``'s suffix names a format the export would not write.

    Without ``--format`` an ``--out`` file that does not end in .jsonl or .parquet
    gets CSV text; written to ``labels.xlsx`` or ``labels.json`` it could not be
    opened as what its name says.

    Parameters
    ----------
    out : Path or None
        ``--out``.
    suffix : str
        Its suffix, lower case.
    """
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        _fail(
            f"--out {out}: export does not write spreadsheets; name the file .csv (spreadsheets "
            "open it), or give --format."
        )
    if suffix == ".json":
        _fail(
            f"--out {out}: say which JSON with --format: jsonl (activelab's labels, one JSON "
            "object a line; or name the file .jsonl) or label-studio (Label Studio tasks)."
        )


def _with_predictions(
    store: Any,
    ids: list[str],
    rows: list[dict[str, Any]],
    fields: list[str],
    fmt: str,
    separator: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per item: its human label columns (empty if none) and the model's prediction."""
    from activelab.app.project import csv_label_set

    pred = _latest_predictions(store)
    by_id = {r["id"]: r for r in rows}
    empty = "" if fmt == "csv" else None
    multi = isinstance(pred.labels[0], list) if pred.labels else False
    out = []
    for i, ext in enumerate(ids):
        row = dict(by_id.get(ext) or {f: empty for f in fields})
        row["id"] = ext
        if multi:
            labels = pred.labels[i]
            probs = {
                c: round(float(p), 4) for c, p in zip(pred.classes, pred.proba[i], strict=True)
            }
            row["predicted_labels"] = csv_label_set(labels, separator) if fmt == "csv" else labels
            row["predicted_proba"] = json.dumps(probs) if fmt == "csv" else probs
        else:
            row["predicted_label"] = pred.labels[i]
            row["predicted_proba"] = round(float(pred.proba[i]), 4)
        row["prediction_source"] = pred.source
        out.append(row)
    extra = ["predicted_labels" if multi else "predicted_label", "predicted_proba"]
    return out, [*fields, *extra, "prediction_source"]


def _latest_predictions(store: Any) -> Any:
    """The latest model's predictions for every item; stops, saying why, without a model."""
    from activelab.app.predictions import latest_predictions

    pred = latest_predictions(store)
    if pred is None:
        _fail(
            "--with-predictions needs a trained model, and this project has none yet: it "
            "needs labels of at least two classes (serve or label it first)."
        )
    return pred


def _add_predictions(records: list[Any], pred: Any) -> None:
    """The model's guess as each record's latest prediction: its label(s), the probability of
    the guess (multi-label: the mean over the labels of the probability of the side guessed)
    and ``model vN``; a prediction, never an answer."""
    import numpy as np

    from activelab.interop.records import Prediction

    multi = np.ndim(pred.proba) == 2
    score = np.maximum(pred.proba, 1.0 - pred.proba).mean(axis=1) if multi else pred.proba
    for rec, labels, p in zip(records, pred.labels, score.tolist(), strict=True):
        guess = list(labels) if multi else [labels]
        rec.predictions.append(Prediction(guess, round(float(p), 4), pred.source))


def _export_tool_format(
    project: Path, fmt: str, events: bool, out: Path | None, with_predictions: bool = False
) -> None:
    """Export every item in a labelling tool's format (activelab.interop)."""
    from activelab.interop.formats import write_tasks
    from activelab.interop.project import project_records

    if events:
        _fail(f"--events exports the label log as csv or jsonl, not {fmt}.")
    if out is None and fmt in ("parquet", "hf"):
        _fail(f"--format {fmt} writes a {'file' if fmt == 'parquet' else 'folder'}: give --out.")
    if out is not None and fmt == "hf" and out.exists():
        _fail(f"{out} exists already; give a new folder for the dataset.")
    store = _open(str(project))
    try:
        pred = _latest_predictions(store) if with_predictions else None
        records = project_records(store, fmt)
        labels = list(store.settings["labels"])
        multi = store.settings.get("task") == "multilabel"
        if fmt in ("parquet", "hf"):  # a table's label column: the label the csv export gives
            _settle_records(store, records, multi)
    finally:
        store.close()
    if pred is not None:
        _add_predictions(records, pred)
    if out is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "out"
            write_tasks(records, path, fmt, labels=labels, multilabel=multi)
            sys.stdout.write(path.read_text(encoding="utf-8"))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    write_tasks(records, out, fmt, labels=labels, multilabel=multi)
    labelled = sum(r.final_labels() is not None for r in records)
    click.echo(
        f"Wrote {count(len(records), 'item')} ({labelled} labelled) as {fmt} to {out}.", err=True
    )


def _settle_records(store: Any, records: list[Any], multi: bool) -> None:
    """Give ``records`` (one per item, in item order) the aggregated label of a project that
    takes several answers per item, as the csv and jsonl exports write it; a table has one
    label column, which would otherwise hold the latest answer."""
    several = _several_live_answers(store) if multi else _several_answers(store)
    if not several:
        return
    ids = store.external_ids()
    if multi:
        rows, _ = _label_set_rows(store, ids, "jsonl", ";")
        settled = {r["id"]: list(r["labels"]) for r in rows}
    else:
        rows, _ = _aggregate_rows(store, ids, "jsonl")
        settled = {r["id"]: [r["label"]] for r in rows}
    for rec, ext in zip(records, ids, strict=True):
        rec.settled = settled.get(ext)


def _several_answers(store: Any) -> bool:
    """Whether the project takes, or has, more than one answer on an item."""
    return _single_answer_labels(store) is None


def _single_answer_labels(store: Any, label_events: int | None = None) -> dict[int, Any] | None:
    """A single-label project's current labels when no item takes or has several answers
    (they are then the final labels), else ``None`` (the labels are the aggregate's).

    Parameters
    ----------
    store : Store
        The project.
    label_events : int, optional
        ``store.count_events()["label"]`` when the caller has read it already.

    Returns
    -------
    dict or None
        Item id to :class:`~activelab.app.store.CurrentLabel`, as ``store.current_labels()``.
    """
    s = store.settings
    if int(s.get("overlap", 1)) > 1 or float(s.get("double_share", 0)) > 0:
        return None
    if s.get("second_opinions") or s.get("gold"):
        return None
    current = store.current_labels()
    if label_events is None:
        label_events = store.count_events()["label"]
    return None if label_events > len(current) else current


def _annotator_rows(store: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per annotator with answers or skips: the quality figures of ``activelab
    status``."""
    if store.settings.get("task") == "multilabel":
        from activelab.app.multilabel_quality import multilabel_quality_report as report
    else:
        from activelab.app.quality import quality_report as report
    rows = report(store)["annotators"]
    fields = [
        "name",
        "answers",
        "skips",
        "shared_items",
        "estimated_accuracy",
        "gold_answers",
        "gold_accuracy",
        "agreement_with_aggregate",
        "median_seconds",
    ]
    return [{f: r[f] for f in fields} for r in rows], fields


def _several_live_answers(store: Any) -> bool:
    """Whether the project takes several answers per item (overlap) or some item has them."""
    if int(store.settings.get("overlap", 1)) > 1:
        return True
    live = store.live_answers()
    return len(live) > len({e.item_id for e in live})


def _aggregate_rows(store: Any, ids: list[str], fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per answered (or gold) item: the aggregated label, its confidence and every
    raw answer, a decision (``review --decide``) marked ``"decision": true``; with gold
    items, a ``gold`` column says which labels are the owner's."""
    from activelab.app.quality import aggregate_answers, answer_table

    t = answer_table(store)
    agg = aggregate_answers(t, store.settings.get("aggregate", "dawid_skene"))
    raw: dict[int, list[dict[str, Any]]] = {int(i): [] for i in t.gold_items}
    last: dict[int, float] = {}
    times = {e.id: e.created_at for e in store.live_answers()}
    decided = t.decided()
    for item, who, lab, eid, judge in zip(
        t.items, t.annotators, t.labels, t.event_ids, decided, strict=True
    ):
        answer = {"annotator": t.names[who], "label": t.classes[lab], "event_id": int(eid)}
        if judge:  # the owner's ruling (review --decide), not a peer's answer
            answer["decision"] = True
        raw.setdefault(int(item), []).append(answer)
        last[int(item)] = times[int(eid)]
    gold = set(t.gold_items.tolist())
    rows = [
        {
            "id": ids[i],
            "label": t.classes[int(agg.labels[i])],
            "confidence": round(float(agg.confidence[i]), 4),
            "n_answers": len(raw[i]),
            "answers": json.dumps(raw[i]) if fmt == "csv" else raw[i],
            "labelled_at": _iso(last[i]) if i in last else "",
            **({"gold": i in gold} if gold else {}),
        }
        for i in sorted(raw)
    ]
    fields = ["id", "label", "confidence", "n_answers", "answers", "labelled_at"]
    return rows, fields + (["gold"] if gold else [])


def _label_set_rows(
    store: Any, ids: list[str], fmt: str, separator: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Multi-label: one row per answered item, the label set aggregated label by label, the
    probability of each label and every raw answer."""
    import numpy as np

    from activelab.app.multilabel_quality import aggregate_label_sets, multilabel_answer_table
    from activelab.app.project import csv_label_set

    t = multilabel_answer_table(store)
    agg = aggregate_label_sets(t, store.settings.get("aggregate", "dawid_skene"))
    raw: dict[int, list[dict[str, Any]]] = {}
    last: dict[int, float] = {}
    times = {e.id: e.created_at for e in store.live_answers()}
    classes = np.asarray(t.classes, dtype=object)
    for item, who, y, eid in zip(t.items, t.annotators, t.Y, t.event_ids, strict=True):
        raw.setdefault(int(item), []).append(
            {
                "annotator": t.names[who],
                "labels": classes[y.astype(bool)].tolist(),
                "event_id": int(eid),
            }
        )
        last[int(item)] = times[int(eid)]
    rows = []
    for i in sorted(raw):
        labels = classes[agg.indicator[i].astype(bool)].tolist()
        proba = {c: round(float(p), 4) for c, p in zip(t.classes, agg.proba[i], strict=True)}
        rows.append(
            {
                "id": ids[i],
                "labels": csv_label_set(labels, separator) if fmt == "csv" else labels,
                "label_confidence": json.dumps(proba) if fmt == "csv" else proba,
                "n_answers": len(raw[i]),
                "answers": json.dumps(raw[i]) if fmt == "csv" else raw[i],
                "labelled_at": _iso(last[i]),
            }
        )
    return rows, ["id", "labels", "label_confidence", "n_answers", "answers", "labelled_at"]


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="model.joblib")
@click.option(
    "--fine-tune",
    is_flag=True,
    help="Texts: fine-tune the sentence encoder on the project's final labels first "
    "(on 2 CPU cores about two minutes per 100 short texts, up to ten for long ones; "
    "needs the text extra).",
)
def model(project: Path, out: Path, fine_tune: bool) -> None:
    """Save the latest model, ready for raw items: texts (the project's featuriser +
    classifier), table rows (scaler + classifier over the named feature columns) or image
    files (their grey levels, as init read them, + classifier)."""
    import joblib

    out.parent.mkdir(parents=True, exist_ok=True)  # before any work (a tuning takes minutes)
    store = _open(str(project))
    if fine_tune:
        try:
            clf, n = _fine_tuned(store, project)
        finally:
            store.close()
        joblib.dump(clf, out)
        click.echo(
            f"Saved a fine-tuned text model ({n} labels, the encoder tuned on them) to {out}; "
            "it predicts from raw texts."
        )
        return
    latest = store.latest_model()
    if latest is None or latest.model is None:
        store.close()
        _fail(
            f"{project} has no trained model yet: it needs labels of at least two classes "
            "(serve or label it first)."
        )
    clf = joblib.load(io.BytesIO(latest.model))
    feat = store.artifact("featuriser")
    kind = store.settings.get("kind")
    columns = list(store.settings.get("feature_columns") or [])
    size = int(store.settings.get("image_size", 16))
    from activelab.app.ingest import project_image_pixels

    pixels = project_image_pixels(store.settings)
    store.close()
    what = {"text": "raw texts", "table": "the feature columns", "image": "image files"}
    if kind == "image":  # the images are read as at init: grey, resized, flattened
        from sklearn.pipeline import make_pipeline

        from activelab.app.ingest import ImagePixels

        clf = make_pipeline(ImagePixels(size, pixels=pixels), clf)
        what["image"] = f"image files (paths or bytes, read at {size}×{size} grey levels)"
    elif feat is not None:
        from sklearn.pipeline import make_pipeline

        featuriser = pickle.loads(feat)
        if kind == "table" and hasattr(featuriser, "categorical"):  # numbers and categories
            what["table"] = f"the columns {', '.join(map(str, featuriser.feature_names_in_))}"
        elif kind == "table" and columns and not hasattr(featuriser, "feature_names_in_"):
            # the scaler learnt the columns in this order: name them, as a fit on a
            # DataFrame would, so that predict checks a DataFrame's columns and
            # `activelab query` picks them out of a pool file
            import numpy as np

            featuriser.feature_names_in_ = np.asarray(columns, dtype=object)
            what["table"] = f"the feature columns {', '.join(columns)}"
        clf = make_pipeline(featuriser, clf)
    joblib.dump(clf, out)
    click.echo(
        f"Saved model v{latest.version} ({latest.n_labels} labels) to {out}; it predicts "
        f"from {what.get(kind, 'features')}."
    )


def _fine_tuned(store: Any, project: Path) -> tuple[Any, int]:
    """A :class:`~activelab.models.finetune.FineTunedTextClassifier` fitted on the texts of a
    single-label text project and their final labels (those ``activelab export`` writes)."""
    import numpy as np

    from activelab.app.quality import aggregate_answers, answer_table
    from activelab.data.features import MissingTextModelError
    from activelab.models.finetune import FineTunedTextClassifier

    kind, task = store.settings.get("kind"), store.settings.get("task")
    if kind != "text" or task == "multilabel":
        what = "multi-label" if task == "multilabel" else str(kind)
        _fail(
            f"--fine-tune tunes a sentence encoder: it needs a single-label text project, "
            f"and {project} is a {what} project. Leave out --fine-tune."
        )
    agg = aggregate_answers(answer_table(store), store.settings.get("aggregate", "dawid_skene"))
    items = np.flatnonzero(agg.answered)
    classes = np.asarray(store.settings["labels"], dtype=object)
    labels = classes[agg.labels[items]].astype(str)
    n_classes = np.unique(labels).shape[0]
    if n_classes < 2:
        _fail(
            f"{project} has labels of {n_classes} class(es); fine-tuning "
            "needs at least two (label more items first)."
        )
    texts = [c.get("text", "") for c in store.item_contents(items.tolist())]
    click.echo(
        f"Fine-tuning the sentence encoder on {items.shape[0]} labelled texts (on 2 CPU cores "
        "about two minutes per 100 short texts, up to ten for long ones) ...",
        err=True,
    )
    try:
        return FineTunedTextClassifier(random_state=0).fit(texts, labels), int(items.shape[0])
    except MissingTextModelError as exc:
        _fail(str(exc))
