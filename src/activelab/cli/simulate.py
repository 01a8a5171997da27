"""``activelab simulate``: replay strategies against random on labelled data."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["simulate"]


#: The strategy replayed beside random when none is named, by task.
_DEFAULT_STRATEGY = {"classification": "auto", "regression": "variance", "multilabel": "mmc"}


@click.command()
@click.option("--dataset", default=None, help="A bundled data set (see --list-datasets).")
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A CSV or Parquet file instead of --dataset.",
)
@click.option("--label-column", default=None, help="The label column of --data.")
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
    "--strategy",
    "strategies",
    multiple=True,
    help="A strategy to replay; repeat it. [default: random and auto (classification), "
    "variance (regression) or mmc (multi-label)]",
)
@click.option("--seeds", default=3, show_default=True, help="Seeds (splits) per strategy.")
@click.option("--budget", default=100, show_default=True, help="Labels per campaign.")
@click.option("--batch-size", default=10, show_default=True, help="Items queried per step.")
@click.option("--initial", default=10, show_default=True, help="Random labels to start from.")
@click.option(
    "--model",
    default=None,
    help="logreg, forest, extra_trees, knn, svm, hgb, nb; ridge … for regression. "
    "[default: logreg, or ridge for regression]",
)
@click.option("--scoring", default=None, help="A scikit-learn scorer name. [default: accuracy/r2]")
@click.option("--test-size", default=0.25, show_default=True, help="Held-out share.")
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=None,
    help="Regression only: also record the share of the pool's K largest values found "
    "against the number tested (optimisation).",
)
@click.option(
    "--out",
    default="results.json",
    show_default=True,
    type=click.Path(dir_okay=False),
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
    dataset: str | None,
    data_file: str | None,
    label_column: str | None,
    text_column: str | None,
    text_features: str | None,
    strategies: tuple[str, ...],
    seeds: int,
    budget: int,
    batch_size: int,
    initial: int,
    model: str | None,
    scoring: str | None,
    test_size: float,
    top_k: int | None,
    out: str,
    n_jobs: int,
    resume: bool,
    stopping: bool,
    estimates: bool,
    semi_supervised: str,
    list_datasets: bool,
) -> None:
    """Replay active learning with a simulated expert and write the curves to JSON.

    Each seed draws one stratified pool/test split and one initial set shared by
    every strategy; campaigns run in parallel and are saved as they finish, so
    an interrupted run resumes. Turn the file into a page with ``activelab report``.
    """
    from rich.console import Console

    from activelab.data import datasets
    from activelab.simulation.metrics import summarize
    from activelab.simulation.runner import make_model
    from activelab.simulation.runner import simulate as run
    from activelab.strategies import StrategyRequirementError

    console = Console()
    if list_datasets:
        for name in datasets.available():
            console.print(name)
        return
    try:
        ds = _dataset(datasets, dataset, data_file, label_column, text_column, text_features)
        if top_k is not None and ds.task != "regression":
            raise click.UsageError(
                f"--top-k is for regression data sets (the K largest values); "
                f"{ds.name!r} is {ds.task}. Drop --top-k."
            )
        if ds.task != "classification" and semi_supervised.lower() not in ("auto", "off"):
            raise click.UsageError(
                f"--semi-supervised {semi_supervised} is for single-label classification; "
                f"{ds.name!r} is {ds.task}. Drop the option."
            )
        if ds.featuriser is not None:
            console.print(f"{ds.description}")
        est = make_model(
            model or ("ridge" if ds.task == "regression" else "logreg"),
            task=ds.task,
            scale=ds.featuriser is None,  # text features are unit rows already
        )
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
            semi_supervised=None if ds.task != "classification" else semi_supervised.lower(),
        )
    except (
        ValueError,
        ImportError,
        FileNotFoundError,
        StrategyRequirementError,
    ) as exc:
        raise click.ClickException(str(exc)) from exc
    metrics = summarize(doc["runs"], doc["full_pool"])
    for name, m in sorted(metrics.items()):
        sav = m["savings"]["mean"]
        console.print(
            f"{name:>18}: AULC {m['aulc']['mean']:.3f} ± {m['aulc']['std']:.3f}"
            + ("" if name == "random" or sav is None else f", savings vs random {sav:+.0%}")
        )
    if stopping:
        from activelab.simulation.metrics import stopping_summary

        for name, per in sorted(stopping_summary(doc["runs"]).items()):
            for crit, m in sorted(per.items()):
                at = m["labels"]["mean"]
                console.print(
                    f"{name:>18}: {crit} fired in {m['fired']}/{m['runs']} runs"
                    + ("" if at is None else f", at {at:.0f} labels, cost {m['cost']['mean']:+.3f}")
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
    console.print(f"Wrote {Path(out)}; make a page with: activelab report {out}")


def _dataset(datasets, name, data_file, label_column, text_column, text_features):  # type: ignore[no-untyped-def]
    if (name is None) == (data_file is None):
        raise click.UsageError("Give exactly one of --dataset NAME or --data FILE.")
    if data_file is not None:
        if not label_column:
            raise click.UsageError("--data needs --label-column (the column holding the labels).")
        return datasets.load_table(
            data_file,
            label_column,
            text_column=text_column,
            text_features=text_features,
            progress=True,
        )
    if text_column is not None:
        raise click.UsageError("--text-column goes with --data FILE, not --dataset.")
    return datasets.load(name)
