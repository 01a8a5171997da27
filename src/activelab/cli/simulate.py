"""``activelab simulate``: replay strategies against random on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from activelab._text import count
from activelab.cli._outfile import plain_out

__all__ = ["simulate"]


#: The strategy replayed beside random when none is named, by task.
#: chosen on benchmarks/regression_default.py (regression: gsx, chosen on ChEMBL and diabetes,
#: confirmed on NCI TPSA, TrumpApproval and ChickWeights; see docs/regression.md)
_DEFAULT_STRATEGY = {"classification": "auto", "regression": "gsx", "multilabel": "mmc"}


@click.command()
@click.argument("source", required=False, metavar="[DATASET_OR_FILE]")
@click.option("--dataset", default=None, help="A bundled data set (see --list-datasets).")
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A CSV, JSON Lines, Parquet or Excel .xlsx file instead of --dataset.",
)
@click.option(
    "--label-column", default="label", show_default=True, help="The label column of --data."
)
@click.option(
    "--task",
    type=click.Choice(["classification", "regression"], case_sensitive=False),
    default=None,
    help="What the labels of --data are  [default: inferred and said: text or few whole "
    "numbers are classes, fractions or many whole numbers a quantity].",
)
@click.option(
    "--id-column",
    default=None,
    help="A column of row ids in --data, never a feature.  [default: id when present; '' for none]",
)
@click.option(
    "--text-column",
    default=None,
    help="A text column of --data to featurise (the other columns are then ignored).",
)
@click.option(
    "--text-features",
    type=click.Choice(["auto", "tfidf", "minilm"], case_sensitive=False),
    default=None,
    help="How --text-column becomes features: minilm (sentence embedding), tfidf, or auto "
    "(minilm when installed, else tfidf)  [default: $ACTIVELAB_TEXT_FEATURES, else auto].",
)
@click.option(
    "--smiles-column",
    default=None,
    help="A SMILES column of --data: Morgan fingerprints (RDKit, the [chem] extra) are the "
    "features.",
)
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="With --smiles-column: leave out the rows whose SMILES do not parse (listed).",
)
@click.option(
    "--split-column",
    default=None,
    help="A column of --data marking held-out rows 'test' (the others 'train'): every seed "
    "uses this split.",
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    help="A strategy to replay; repeat it. [default: random and auto (classification) "
    "or gsx (regression)]",
)
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seeds (splits) per strategy.",
)
@click.option(
    "--budget",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Labels per campaign.",
)
@click.option(
    "--batch-size",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Items queried per step.",
)
@click.option(
    "--initial",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Random labels to start from.",
)
@click.option(
    "--model",
    default=None,
    help="logreg, forest, extra_trees, knn, svm, hgb, nb, mlp (PyTorch, for bald, batchbald, "
    "badge, deep_coreset); bayesian_ridge, ridge, forest … for regression. [default: logreg, "
    "or bayesian_ridge for regression]",
)
@click.option(
    "--scoring",
    default=None,
    help="The metric of the curves: balanced_accuracy, average_precision (of --positive-label), "
    "recall_positive or any scikit-learn scorer name. [default: accuracy/r2; balanced_accuracy "
    "when a class is rare: under 10% of the items and under half an even share]",
)
@click.option(
    "--positive-label",
    default=None,
    help="Classification: the class that matters (fraud, a rare finding). Records positives "
    "found, labels until the first, per-class recall and average precision. [default: the "
    "class the strategies' --param NAME.positive_label names, else the rarest class when it "
    "is rare: under 10% of the items and under half an even share]",
)
@click.option(
    "--test-size",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Held-out share.",
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=None,
    help="Regression only: also record the share of the pool's K largest values (smallest with "
    "--minimize) found against the number tested (optimisation).",
)
@click.option(
    "--minimize",
    is_flag=True,
    help="Optimisation seeks the smallest values: --top-k counts the K smallest and strategies "
    "that take 'maximize' get maximize=False.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="STRATEGY.KEY=VALUE",
    help="A strategy parameter, e.g. --param greedy.maximize=false or --param "
    "variance.uncertainty=bootstrap; repeat it.",
)
@click.option(
    "--out",
    default="results.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    callback=plain_out,
    help="The JSON results file (resumed when it exists).",
)
@click.option("--n-jobs", default=1, show_default=True, help="Parallel campaigns (-1: all cores).")
@click.option(
    "--resume/--no-resume", default=True, show_default=True, help="Skip campaigns already in --out."
)
@click.option(
    "--stopping",
    is_flag=True,
    help="Record when stabilising predictions and the confidence criterion fire in each campaign.",
)
@click.option(
    "--estimates",
    is_flag=True,
    help="Record the unbiased (LURE) and the naive accuracy estimates per step, for strategies "
    "that record selection probabilities (auto, random, stochastic ...); 5 extra fits per step.",
)
@click.option(
    "--semi-supervised",
    "semi_supervised",
    type=click.Choice(["auto", "off", "spreading", "blend", "self-training"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Let the model learn from the unlabelled pool too (classification): auto picks "
    "supervised, graph label spreading or their blend at every refit by cross-validation on "
    "the labels; off fits on the labels alone. See docs/hybrid.md.",
)
@click.option("--list-datasets", is_flag=True, help="List the bundled data sets and exit.")
def simulate(
    source: str | None,
    dataset: str | None,
    data_file: str | None,
    label_column: str | None,
    task: str | None,
    id_column: str | None,
    text_column: str | None,
    text_features: str | None,
    smiles_column: str | None,
    skip_bad_rows: bool,
    split_column: str | None,
    strategies: tuple[str, ...],
    seeds: int,
    budget: int,
    batch_size: int,
    initial: int,
    model: str | None,
    scoring: str | None,
    test_size: float,
    top_k: int | None,
    minimize: bool,
    params: tuple[str, ...],
    out: str,
    n_jobs: int,
    resume: bool,
    stopping: bool,
    estimates: bool,
    semi_supervised: str,
    list_datasets: bool,
    positive_label: str | None,
) -> None:
    """Replay active learning with a simulated expert and write the curves to JSON.

    DATASET_OR_FILE is the same as --dataset NAME for a bundled data set and
    --data FILE for a file. Each seed draws one stratified pool/test split and one
    initial set shared by every strategy; campaigns run in parallel and are saved
    as they finish, so an interrupted run resumes. Turn the file into a page with
    `activelab report`.
    """
    strategy_params = _parse_params(params)
    if source is not None:  # `activelab simulate iris` or `activelab simulate my.csv`
        if dataset is not None or data_file is not None:
            raise click.UsageError(
                f"Give the data once: {source!r}, --dataset or --data, not two of them."
            )
        if not Path(source).exists() and (Path(source).suffix or "/" in source):
            raise click.UsageError(f"No such data file: {source}")
        dataset, data_file = (None, source) if Path(source).exists() else (source, None)
    if not list_datasets:  # option errors before anything heavy is imported
        _check_sources(dataset, data_file, label_column, text_column, smiles_column, split_column)
        for opt, value in (("--id-column", id_column), ("--task", task)):
            if dataset is not None and value is not None:
                raise click.UsageError(f"{opt} goes with --data FILE, not --dataset.")
        if skip_bad_rows and smiles_column is None:
            raise click.UsageError("--skip-bad-rows goes with --smiles-column.")
        _check_counts(budget, initial, n_jobs)
    from rich.console import Console

    from activelab.data import datasets
    from activelab.simulation.metrics import seed_counts, summarize
    from activelab.simulation.runner import make_model
    from activelab.simulation.runner import simulate as run
    from activelab.strategies import StrategyRequirementError

    console = Console()
    if list_datasets:
        for name in datasets.available():
            console.print(name)
        return
    _check_out(out, resume)
    try:
        ds = _dataset(
            datasets,
            dataset,
            data_file,
            label_column,
            text_column,
            text_features,
            {
                "smiles_column": smiles_column,
                "skip_bad_rows": skip_bad_rows,
                "split_column": split_column,
                "id_column": id_column,
                "task": task,
            },
        )
        _check_classes(ds)
        if top_k is not None and ds.task != "regression":
            raise click.UsageError(
                f"--top-k is for regression data sets (the K largest values); "
                f"{ds.name!r} is {ds.task}. Drop --top-k."
            )
        if minimize and ds.task != "regression":
            raise click.UsageError(f"--minimize is for regression; {ds.name!r} is {ds.task}.")
        if ds.task != "classification" and semi_supervised.lower() not in ("auto", "off"):
            raise click.UsageError(
                f"--semi-supervised {semi_supervised} is for single-label classification; "
                f"{ds.name!r} is {ds.task}. Drop the option."
            )
        if ds.featuriser is not None or data_file is not None:
            console.print(f"{ds.description}")
        _warn_budget(console, ds, budget, test_size)
        model_name = model or ("bayesian_ridge" if ds.task == "regression" else "logreg")
        # text features are unit rows already
        est = make_model(model_name, task=ds.task, scale=ds.featuriser is None)
        est = _imbalance_aware(console, ds, est, positive_label, model_name)
        doc = run(
            ds,
            est,
            list(strategies) or ["random", _DEFAULT_STRATEGY.get(ds.task, "auto")],
            n_initial=initial,
            batch_size=batch_size,
            budget=budget,
            seeds=seeds,
            scoring=scoring,
            test_size=test_size,
            n_jobs=n_jobs,
            out=out,
            resume=resume,
            progress=True,
            stopping=stopping,
            estimates=estimates,
            top_k=top_k,
            strategy_params=strategy_params,
            minimize=minimize,
            positive_label=positive_label,
            semi_supervised=None if ds.task != "classification" else semi_supervised.lower(),
        )
    except ImportError as exc:
        from activelab.cli._extras import extra_for, missing_extra_message

        found = extra_for(exc, "simulate")
        message = missing_extra_message("simulate", *found) if found else str(exc)
        raise click.ClickException(message) from exc
    except StrategyRequirementError as exc:
        raise click.ClickException(str(exc) + _requirement_hint(exc)) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    scoring_name = str(doc["settings"]["scoring"])
    metrics = summarize(doc["runs"], doc["full_pool"], scoring=scoring_name)
    _print_summary(console, metrics, seed_counts(doc["runs"]), scoring_name)
    if stopping:
        from activelab.simulation.metrics import stopping_summary

        for name, per in sorted(stopping_summary(doc["runs"]).items()):
            for crit, m in sorted(per.items()):
                at = m["labels"]["mean"]
                console.print(
                    f"{name:>18}: {crit} fired in {m['fired']}/{count(m['runs'], 'run')}"
                    + (
                        ""
                        if at is None
                        else f", at {count(at, 'label')}, cost {m['cost']['mean']:+.3f}"
                    )
                )
    if top_k is not None:
        from activelab.simulation.metrics import summarize_top_k

        budget = int(doc["settings"]["budget"])
        for name, m in sorted(summarize_top_k(doc["runs"], at=[budget]).items()):
            found = m["found_at"][str(budget)]
            if found["mean"] is not None:
                console.print(
                    f"{name:>18}: top {top_k} found after {budget} tested "
                    f"{found['mean']:.0%} ± {found['std']:.0%}"
                )
    _print_rare(console, doc)
    console.print(f"Wrote {Path(out)}; make a page with: activelab report {out}")


def _check_out(out: str, resume: bool) -> None:
    """Stop in one line when ``--out`` exists, is to be resumed, and is no results file.

    Parameters
    ----------
    out : str
        ``--out``.
    resume : bool
        ``--resume`` (the default) or ``--no-resume``.

    Raises
    ------
    click.ClickException
        Naming the file and asking for another ``--out``.
    """
    if not resume or not Path(out).is_file():
        return
    from activelab.simulation.runner import load_results

    try:
        load_results(out)
    except ValueError as exc:
        raise click.ClickException(
            f"--out {out} exists and is not a results file to resume: {exc} Give another --out "
            "for the results (a new .json file)."
        ) from None


def _requirement_hint(exc: Any) -> str:
    """The command-line way to give what a strategy's model lacks (``exc.needs``), or "".

    Parameters
    ----------
    exc : StrategyRequirementError
        The strategy's refusal.

    Returns
    -------
    str
        A sentence to append to its message: ``--model mlp`` for the deep strategies'
        MC-dropout samples or learned embedding; the regressors with a predictive spread,
        or the ``--param`` of the library's ``uncertainty='bootstrap'``, for a spread.
    """
    from activelab.strategies.deep import MC_DROPOUT, MODEL_EMBEDDING
    from activelab.strategies.regression import SPREAD

    if exc.needs in (MC_DROPOUT, MODEL_EMBEDDING):
        return " From the command line: --model mlp."
    if exc.needs == SPREAD:
        return (
            " From the command line: --model bayesian_ridge or forest, or --param "
            f"{exc.strategy}.uncertainty=bootstrap."
        )
    return ""


def _check_counts(budget: int, initial: int, n_jobs: int) -> None:
    """Stop in one line, naming the options, on counts no campaign can run with.

    The ranges of single options (``--seeds`` at least 1, ``--test-size`` in (0, 1)
    ...) are click's, shown in ``--help``; these are the checks across options.

    Parameters
    ----------
    budget, initial : int
        ``--budget`` and ``--initial``.
    n_jobs : int
        ``--n-jobs``.

    Raises
    ------
    click.UsageError
        For the first option out of range.
    """
    if budget < initial:
        raise click.UsageError(
            f"--budget {budget} is below --initial {initial} (the random labels each campaign "
            f"starts from); raise --budget or lower --initial."
        )
    if n_jobs == 0:
        raise click.UsageError("--n-jobs must be 1 or more, or -1 for all cores; got 0.")


def _check_classes(ds: Any) -> None:
    """Stop in one line when a classification data set holds fewer than two classes, or
    holds sets of labels joined by ``;`` (multi-label data, as ``activelab export`` writes it).

    Parameters
    ----------
    ds : Dataset
        The loaded data set.

    Raises
    ------
    click.ClickException
        Naming the one class found and the option to check.
    """
    if ds.task != "classification":
        return
    import numpy as np

    classes = np.unique(np.asarray(ds.y))
    if classes.size < 2:
        found = f"only the class {str(classes[0])!r}" if classes.size else "no labels"
        raise click.ClickException(
            f"{ds.name} holds {found}; a classifier needs at least two classes. Check the "
            "file, or name the right column with --label-column."
        )
    from activelab.multilabel import joined_label_set

    joined = joined_label_set(classes.tolist())
    if joined is not None:
        from activelab.data.datasets import multilabel_refusal

        raise click.ClickException(
            multilabel_refusal(ds.name, joined, "sets of labels joined by ';'")
        )


def _dataset(datasets, name, data_file, label_column, text_column, text_features, extra):  # type: ignore[no-untyped-def]
    if (name is None) == (data_file is None):
        raise click.UsageError("Give exactly one of --dataset NAME or --data FILE.")
    if extra["skip_bad_rows"] and extra["smiles_column"] is None:
        raise click.UsageError("--skip-bad-rows goes with --smiles-column.")
    if text_column is not None and extra["smiles_column"] is not None:
        raise click.UsageError("Give --text-column or --smiles-column, not both.")
    if data_file is not None:
        return datasets.load_table(
            data_file,
            label_column,
            text_column=text_column,
            text_features=text_features,
            progress=True,
            **extra,
        )
    for opt, value in (
        ("--text-column", text_column),
        ("--smiles-column", extra["smiles_column"]),
        ("--split-column", extra["split_column"]),
    ):
        if value is not None:
            raise click.UsageError(f"{opt} goes with --data FILE, not --dataset.")
    return datasets.load(name)


def _check_sources(  # type: ignore[no-untyped-def]
    name, data_file, label_column, text_column, smiles_column, split_column
) -> None:
    """The data options that contradict each other, refused with one line."""
    if (name is None) == (data_file is None):
        raise click.UsageError("Give exactly one of --dataset NAME or --data FILE.")
    if text_column is not None and smiles_column is not None:
        raise click.UsageError("Give --text-column or --smiles-column, not both.")
    if data_file is not None and not label_column:
        raise click.UsageError("--label-column is empty; name the column holding the labels.")
    for opt, value in (
        ("--text-column", text_column),
        ("--smiles-column", smiles_column),
        ("--split-column", split_column),
    ):
        if name is not None and value is not None:
            raise click.UsageError(f"{opt} goes with --data FILE, not --dataset.")


def _parse_params(params: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """``("greedy.maximize=false",)`` -> ``{"greedy": {"maximize": False}}``."""
    import json

    out: dict[str, dict[str, object]] = {}
    for p in params:
        key, sep, raw = p.partition("=")
        strategy, dot, name = key.strip().partition(".")
        if not (sep and dot and strategy and name):
            raise click.BadParameter(
                f"{p!r} is not STRATEGY.KEY=VALUE (e.g. greedy.maximize=false).",
                param_hint="--param",
            )
        value: object
        try:
            value = json.loads(raw.strip().lower() if raw.strip().lower() in _WORDS else raw)
        except json.JSONDecodeError:
            value = raw  # a plain string, e.g. uncertainty=bootstrap
        out.setdefault(strategy, {})[name.strip()] = value
    return out


_WORDS = ("true", "false", "null")


def _warn_budget(console, ds, budget, test_size):  # type: ignore[no-untyped-def]
    """Say so when --budget is more than the pool: the campaigns stop at the pool's size."""
    import math

    n = ds.X.shape[0]
    if not 0 < test_size < 1:
        return  # refused by the simulator, with its own message
    if ds.test_mask is not None:
        n_pool = int((~ds.test_mask).sum())
    else:
        n_pool = n - math.ceil(test_size * n)
    if budget > n_pool:
        console.print(
            f"[yellow]Warning: --budget {budget} is more than the pool ({n_pool} items); "
            f"each campaign stops at {n_pool} labels.[/yellow]"
        )


def _print_summary(console, metrics, counts, scoring):  # type: ignore[no-untyped-def]
    """One line per strategy: AULC in the scorer's direction, savings, seeds; a warning when
    strategies ran on different seeds."""
    if len(set(counts.values())) > 1:
        per = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        console.print(
            f"[yellow]Warning: the strategies ran on different numbers of seeds ({per}), e.g. "
            "after resuming with another --seeds; savings and tests use only the seeds both "
            "ran. Rerun with the larger --seeds to complete them.[/yellow]"
        )
    lower = any(m.get("lower_is_better") for m in metrics.values())
    unit = f"mean {scoring[4:]}, lower is better" if lower else scoring
    for name, m in sorted(metrics.items()):
        sav = m["savings"]["mean"]
        target = f"{m['savings_target']:.0%}"
        if name == "random":
            extra = ""
        elif "random" not in metrics:
            extra = ", savings vs random: n/a (random not replayed; add --strategy random)"
        elif sav is None:
            extra = f", savings vs random: n/a (random never reached {target} of the whole pool)"
        else:
            censored = f", {m['savings_censored']} censored" if m["savings_censored"] else ""
            extra = (
                f", savings vs random {sav:+.0%} (labels to {target} of the whole-pool "
                f"score{censored})"
            )
        console.print(
            f"{name:>18}: AULC ({unit}) {m['aulc']['mean']:.3f} ± {m['aulc']['std']:.3f}, "
            f"{count(counts.get(name, 0), 'seed')}{extra}"
        )


def _imbalance_aware(console, ds, est, positive_label, name):  # type: ignore[no-untyped-def]
    """Balanced class weights for a classifier on data with a rare class (see ``rare_class``),
    and a line that says so, or that the model ``name`` takes no class weights."""
    import numpy as np

    from activelab.models.imbalance import balanced, class_weight_of
    from activelab.simulation.rare_metrics import check_positive_label, rare_class

    if ds.task != "classification" or np.ndim(ds.y) != 1:
        if positive_label is not None:
            raise click.UsageError(
                f"--positive-label is for classification; {ds.name!r} is {ds.task}."
            )
        return est
    if positive_label is not None:
        check_positive_label(ds.y, positive_label, option="--positive-label")  # one line
    if rare_class(ds.y) is None:
        return est
    est = balanced(est)
    if class_weight_of(est) == "balanced":
        console.print("Rare class: the model weighs the classes equally (class_weight='balanced').")
    else:
        console.print(
            f"Rare class: --model {name} takes no class weights, so each class counts by its "
            "share of the labels (logreg, forest, extra_trees, svm and hgb weigh the classes "
            "equally)."
        )
    return est


def _print_rare(console, doc):  # type: ignore[no-untyped-def]
    """The rare-class read-out: why the metric, positives found, AP, recall."""
    from activelab.simulation.rare_metrics import rare_summary

    reason = doc["settings"].get("scoring_reason")
    if reason:
        console.print(f"Scored by balanced accuracy: {reason}.")
    summary = rare_summary(doc["runs"])
    if not summary:
        return
    pos = doc["settings"].get("positive_label")
    for name, m in sorted(summary.items()):
        first = m["until"]["1"]
        found = (
            f"first positive after {count(first['mean'], 'label')} "
            f"({first['found']}/{count(m['runs'], 'run')})"
            if first["mean"] is not None
            else "no positive found in any run"
        )
        ap = m["ap_final"]["mean"]
        rec = m["recall_final"]["mean"]
        console.print(
            f"{name:>18}: {m['per_100']['mean']:.1f} positives ({pos!r}) per 100 labels, "
            + found
            + ("" if ap is None else f", AP {ap:.3f}")
            + ("" if rec is None else f", recall of {pos!r} {rec:.2f}")
        )
