"""Replay many campaigns (strategies × seeds) on the same splits, resumably.

:func:`simulate` is the engine behind ``activelab simulate``: for each seed it
draws one stratified pool/test split and one initial set, shared by every
strategy of that seed; it runs each (strategy, seed) campaign with
:func:`activelab.simulation.campaign.run_campaign` in parallel (joblib) under a rich
progress bar, and writes each finished campaign into one JSON file as soon as it
completes (atomically: a temporary file then :func:`os.replace`). Rerun with
the same settings, it skips the campaigns already in the file, so an
interrupted simulation resumes where it stopped. The file's schema is described
in ``docs/simulator.md`` (:data:`SCHEMA_VERSION`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_regressor
from sklearn.metrics import get_scorer

from activelab._atomic import write_atomic
from activelab._progress import _ProgressBar
from activelab._validation import check_count, non_numeric_columns
from activelab.cluster import is_dask_collection
from activelab.data.datasets import Dataset, infer_task, load
from activelab.scoring import DEFAULT_CHUNK_SIZE
from activelab.simulation.campaign import _check_label_magnitude, run_campaign, split_pool_test
from activelab.simulation.rare_metrics import (
    RARE_SCORINGS,
    _match_label,
    check_positive_label,
    close_label_hint,
    default_scoring,
    get_rare_scorer,
    rare_callback,
    rare_class,
)
from activelab.strategies import Strategy, get_strategy
from activelab.strategies._registry import _init_values, takes_maximize

__all__ = ["SCHEMA", "SCHEMA_VERSION", "load_results", "make_model", "simulate"]

#: Identifies a results file.
SCHEMA = "activelab.simulation"
#: Bumped whenever the layout of the results file changes incompatibly.
SCHEMA_VERSION = 1

#: The settings that must match for a rerun to resume an existing file.
_RESUME_KEYS = (
    "dataset_digest",
    "estimator",
    "n_initial",
    "batch_size",
    "budget",
    "scoring",
    "test_size",
    "stopping",
    "estimates",
    "top_k",
    "strategy_params",
    "minimize",
    "test_rows",
    "positive_label",
    "semi_supervised",
)


def _torch_mlp(seed: int) -> Any:
    """The deep strategies' model, seeded; a clear error without torch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise ValueError("--model mlp needs PyTorch (CPU build): pip install 'activelab[torch]'.")
    from activelab.models.deep import TorchMLPClassifier

    return TorchMLPClassifier(random_state=seed)


def make_model(
    name: str, *, task: str = "classification", seed: int = 0, scale: bool = True
) -> Any:
    """A ready-made scikit-learn estimator by short name (the CLI's ``--model``).

    Classification: ``logreg`` (standardised logistic regression), ``forest``
    (random forest, 100 trees), ``extra_trees``, ``knn``, ``svm`` (RBF SVC,
    probabilities by :class:`~activelab.models.CalibratedClassifier`), ``hgb``
    (histogram gradient boosting), ``nb`` (Gaussian naive Bayes), ``mlp``
    (standardised :class:`~activelab.models.deep.TorchMLPClassifier`, extra
    ``[torch]``: the model of ``bald``, ``batchbald``, ``badge`` and
    ``deep_coreset``). Regression:
    ``ridge``, ``bayesian_ridge`` (a predictive spread, for ``variance`` and the
    other spread strategies), ``forest``, ``extra_trees``, ``knn``, ``hgb``.

    ``scale=False`` leaves out the :class:`~sklearn.preprocessing.StandardScaler`
    of the linear, k-NN and SVM models: for features that are already on one
    scale, such as text featurised by TF-IDF (sparse, unit rows) or sentence
    embeddings (unit vectors).

    Examples
    --------
    >>> make_model("logreg")
    Pipeline(steps=[('standardscaler', StandardScaler()),
                    ('logisticregression', LogisticRegression(max_iter=1000))])
    >>> make_model("logreg", scale=False)
    Pipeline(steps=[('logisticregression', LogisticRegression(max_iter=1000))])
    """
    from sklearn import ensemble, linear_model, naive_bayes, neighbors, svm
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from activelab.models.calibrated import CalibratedClassifier

    def scaled(model: Any) -> Any:
        return make_pipeline(StandardScaler(), model) if scale else make_pipeline(model)

    key = name.strip().lower().replace("-", "_")
    if task == "regression":
        models = {
            "ridge": lambda: scaled(linear_model.Ridge()),
            "bayesian_ridge": lambda: scaled(linear_model.BayesianRidge()),
            "forest": lambda: ensemble.RandomForestRegressor(100, random_state=seed, n_jobs=1),
            "extra_trees": lambda: ensemble.ExtraTreesRegressor(100, random_state=seed, n_jobs=1),
            "knn": lambda: scaled(neighbors.KNeighborsRegressor()),
            "hgb": lambda: ensemble.HistGradientBoostingRegressor(random_state=seed),
        }
    else:
        models = {
            "logreg": lambda: scaled(linear_model.LogisticRegression(max_iter=1000)),
            "forest": lambda: ensemble.RandomForestClassifier(100, random_state=seed, n_jobs=1),
            "extra_trees": lambda: ensemble.ExtraTreesClassifier(100, random_state=seed, n_jobs=1),
            "knn": lambda: scaled(neighbors.KNeighborsClassifier()),
            "svm": lambda: scaled(CalibratedClassifier(svm.SVC(), random_state=seed)),
            "hgb": lambda: ensemble.HistGradientBoostingClassifier(random_state=seed),
            "nb": lambda: naive_bayes.GaussianNB(),
            "mlp": lambda: scaled(_torch_mlp(seed)),
        }
    if key not in models:
        raise ValueError(
            f"Unknown model {name!r} for {task}; choose one of {', '.join(sorted(models))}."
        )
    return models[key]()


def simulate(
    data: str | Dataset | tuple[Any, Any],
    estimator: Any,
    strategies: str | Strategy | Sequence[str | Strategy],
    *,
    n_initial: int = 10,
    batch_size: int = 10,
    budget: int = 100,
    seeds: int | Sequence[int] = 3,
    scoring: str | None = None,
    test_size: float = 0.25,
    n_jobs: int = 1,
    out: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    dataset_name: str | None = None,
    stopping: bool = False,
    estimates: bool = False,
    top_k: int | None = None,
    strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
    minimize: bool = False,
    test_index: Any = None,
    positive_label: Any = None,
    semi_supervised: str | None = None,
) -> dict[str, Any]:
    """Replay active learning for several strategies and seeds on the same splits.

    Parameters
    ----------
    data : str, Dataset or (X, y)
        A bundled data set's name (:func:`activelab.data.datasets.available`), a
        :class:`~activelab.data.datasets.Dataset` (e.g. from
        :func:`~activelab.data.datasets.load_table`) or a pair ``(X, y)`` of arrays (a
        DataFrame and a Series too); ``y`` needs every label, and whether it is classes or
        a quantity is read from it as :func:`~activelab.data.datasets.infer_task` reads it.
    estimator : estimator
        The model, cloned for every campaign.
    strategies : str or sequence of str or Strategy
        Strategy names (include ``"random"`` for the savings and the paired test); one
        name alone runs that strategy only. A strategy instance is replayed by its
        name with the parameters it was given (``Explore("margin", share=0.3)``), which
        join ``strategy_params`` and are stored in the settings; parameters that cannot
        be stored as JSON (an estimator, a function) are refused, naming them.
    n_initial : int, default=10
        Random labels every campaign starts from (the same set for every
        strategy of a seed).
    batch_size : int, default=10
        Items queried per step.
    budget : int, default=100
        Labels per campaign, initial set included (capped at the pool size).
    seeds : int or sequence of int, default=3
        A count (seeds ``0 … seeds-1``) or explicit seeds. Each seed fixes a
        pool/test split and an initial set.
    scoring : str, optional
        A scikit-learn scorer name, or ``"balanced_accuracy"``,
        ``"average_precision"`` or ``"recall_positive"``
        (:func:`activelab.simulation.rare_metrics.get_rare_scorer`). By default
        accuracy (R² for regression), or balanced accuracy when a class is rare
        (:func:`~activelab.simulation.rare_metrics.rare_class`; the reason is
        stored in the settings' ``scoring_reason``).
    test_size : float, default=0.25
        The held-out share (stratified for classification).
    n_jobs : int, default=1
        Parallel campaigns (joblib; -1 for every core).
    out : str or Path, optional
        The JSON results file, written after every finished campaign.
    resume : bool, default=True
        Skip the campaigns already in ``out`` when its settings match (a
        mismatch raises, naming the differing settings). ``False`` starts over.
    progress : bool, default=True
        Show a rich progress bar.
    dataset_name : str, optional
        The name stored for an (X, y) pair.
    stopping : bool, default=False
        Attach a fresh :class:`~activelab.stopping.StoppingMonitor`
        (stabilising predictions and the confidence criterion, its stop set
        seeded by the campaign's seed) to every campaign and store the label
        count at which each criterion first fired in the run's ``stopping``.
        The campaign still runs to the budget, so what stopping costs can be
        read off (:func:`activelab.simulation.metrics.stopping_summary`).
    estimates : bool, default=False
        For strategies that record selection probabilities (``"auto"``,
        ``Stochastic``, ``Explore``), store after every step the unbiased
        (LURE) accuracy estimate with its 90 % interval beside the naive
        accuracy on the labels (:func:`activelab.weighting.estimate_accuracy`,
        ``losses="blend"``, 5-fold cross-fitting: 5 extra fits per step) in
        the run's ``estimates``; ``None`` for steps whose labels lack a
        probability.
    top_k : int, optional
        Regression only: also record, after every step of every campaign, the
        share of the pool's true top ``k`` (largest values) that has been
        tested (``top_k_found`` in each run; see
        :func:`activelab.simulation.metrics.summarize_top_k`).
    strategy_params : mapping, optional
        Parameters per strategy name, e.g. ``{"greedy": {"maximize": False}}``,
        passed to :func:`~activelab.strategies.get_strategy` (stored in the
        settings).
    minimize : bool, default=False
        Optimisation seeks the smallest values: the top-k curve counts the
        ``k`` smallest, and every strategy that takes ``maximize`` gets
        ``maximize=False`` (unless ``strategy_params`` says otherwise).
    test_index : array-like of int or bool, optional
        A predefined held-out set (row indices, or a boolean mask): every seed
        uses this split and varies only its initial set and the strategies'
        randomness. A data set's own :attr:`~activelab.data.datasets.Dataset.test_mask`
        (``load_table(..., split_column=...)``) is used when this is None.
    positive_label : optional
        Classification: the class that matters (fraud, a rare finding). Each run
        then also records per step the balanced accuracy, the average precision
        of this class and the recall of every class on the test set, and which
        labels bought were positives (``rare`` in each run; see
        :func:`activelab.simulation.rare_metrics.rare_summary`). Defaults to the
        class the strategies' ``positive_label`` (``strategy_params``) names when
        they name one, else the rarest class when it is rare (``rare_class``). A
        label not among the data's labels raises, naming them.
    semi_supervised : {None, "off", "auto", "spreading", "blend", "self-training"}, optional
        Every campaign's model learns from the unlabelled pool too
        (:class:`~activelab.ActiveLearner`'s ``semi_supervised``); the
        whole-pool reference model stays supervised.

    Returns
    -------
    dict
        The results document (the content of ``out``; see ``docs/simulator.md``).

    Examples
    --------
    >>> from sklearn.naive_bayes import GaussianNB
    >>> res = simulate("iris", GaussianNB(), ["random", "margin"],
    ...                n_initial=6, batch_size=6, budget=30, seeds=2, progress=False)
    >>> len(res["runs"]), res["runs"][0]["n_labels"]
    (4, [6, 12, 18, 24, 30])
    >>> res = simulate("iris", GaussianNB(), ["margin"], n_initial=6, batch_size=6,
    ...                budget=30, seeds=1, progress=False, stopping=True)
    >>> sorted(res["runs"][0]["stopping"])
    ['confidence', 'stabilizing_predictions']

    For optimisation on a regression data set, the true top-k curve as well:

    >>> from sklearn.linear_model import Ridge
    >>> res = simulate("diabetes", Ridge(), ["random", "greedy"], n_initial=10,
    ...                batch_size=10, budget=30, seeds=1, progress=False, top_k=20)
    >>> len(res["runs"][0]["top_k_found"])
    3
    """
    ds = _with_split(_as_dataset(data, dataset_name), test_index)
    seed_list = _seed_list(seeds)
    if isinstance(strategies, str | Strategy):  # one name, not its letters
        strategies = [strategies]
    names = [get_strategy(s).name for s in strategies]
    _check_args(ds, names, seed_list, n_initial, batch_size, budget, test_size)
    _check_top_k(ds, estimator, top_k, test_size)
    params = _instance_params(strategies, _strategy_params(names, strategy_params, minimize))
    _check_strategies(names, params, estimator, ds)  # before any campaign runs
    _check_missing_values(ds, estimator)
    params = _with_positive_labels(params, ds)
    if positive_label is None:
        positive_label = _sought_label(params)
    if is_regressor(estimator):
        _check_label_magnitude(ds.y)
    positive_label, scoring, reason = _rare_settings(ds, positive_label, scoring)
    if semi_supervised not in (None, "off", "auto", "spreading", "blend", "self-training"):
        raise ValueError(
            f"semi_supervised must be 'off', 'auto', 'spreading', 'blend' or 'self-training'; "
            f"got {semi_supervised!r}."
        )
    settings = _settings(
        ds, estimator, names, seed_list, n_initial, batch_size, budget, scoring, test_size
    )
    if reason is not None:
        settings["scoring_reason"] = reason
    if positive_label is not None:
        settings["positive_label"] = positive_label
    # stored only when on, so that files written before these options still resume
    if stopping:
        settings["stopping"] = True
    if estimates:
        settings["estimates"] = True
    settings["top_k"] = None if top_k is None else int(top_k)
    if params:
        settings["strategy_params"] = params
    if minimize:
        settings["minimize"] = True
    if ds.test_mask is not None:
        settings["split"] = "predefined"
        settings["test_rows"] = np.flatnonzero(ds.test_mask).tolist()
    if semi_supervised not in (None, "off"):
        settings["semi_supervised"] = semi_supervised
    doc = _open_document(out, settings, resume)
    jobs = _pending_jobs(doc, names, seed_list)
    if jobs:
        _run_jobs(doc, jobs, ds, estimator, settings, n_jobs, out, progress)
    elif out is not None:
        _write_atomic(Path(out), doc)
    return doc


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and check a results file written by :func:`simulate`.

    Raises
    ------
    ValueError
        When the file is not a results file or has a newer schema version.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (not UTF-8 text).") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}).") from exc
    if isinstance(doc, dict) and str(doc.get("schema", "")).startswith("activelab.stream"):
        raise ValueError(
            f"{path} is a stream replay (activelab stream --out), not simulation results: "
            "rerun that activelab stream command with --plot FILE.png to draw its curves; "
            "activelab report makes a page of activelab simulate's results."
        )
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(
            f"{path} is not an activelab simulation results file (no schema {SCHEMA!r})."
        )
    if int(doc.get("schema_version", 0)) > SCHEMA_VERSION:
        raise ValueError(
            f"{path} has schema version {doc['schema_version']}; this activelab reads up to "
            f"{SCHEMA_VERSION}. Upgrade activelab."
        )
    return doc


# --------------------------------------------------------------------------- helpers


def _as_dataset(data: Any, name: str | None) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str):
        return load(data)
    if isinstance(data, tuple) and len(data) == 2:
        X, y = _features_of(data[0]), _labels_of(data[1])
        task = "classification" if y.ndim == 2 else infer_task(y)[0]
        return Dataset(
            name=name or "arrays",
            X=X,
            y=y.astype(np.float64) if task == "regression" else y,
            description=f"{X.shape[0]} rows given as arrays.",
            source="arrays",
            task=task,
        )
    raise TypeError(
        f"data must be a data set name, a Dataset or an (X, y) pair, got {type(data).__name__}."
    )


def _features_of(X: Any) -> Any:
    """The features of an ``(X, y)`` pair: numbers, one row per item, or a clear refusal."""
    other = non_numeric_columns(X)
    if other:
        raise ValueError(
            f"X has non-numeric column(s) {other}: a simulation replays numeric features. "
            "One-hot encode the categories first (pd.get_dummies(X, columns=[...])), or "
            "save the table and load it with activelab.data.datasets.load_table(path, "
            "label_column=...), which encodes them; texts need a text_column= there."
        )
    arr = X if sp.issparse(X) else np.asarray(X)
    if arr.ndim != 2:
        texts = arr.ndim == 1 and arr.size and isinstance(arr.flat[0], str)
        raise ValueError(
            f"X must be 2-D, one row of features per item; got shape {arr.shape}"
            + (
                ": texts need featurising first (sklearn's TfidfVectorizer().fit_transform("
                "texts), or load_table(path, text_column=...))."
                if texts
                else "; reshape a single feature with X.reshape(-1, 1)."
            )
        )
    return arr


def _labels_of(y: Any) -> np.ndarray:
    """The labels of an ``(X, y)`` pair as an array; a missing one is refused, named.

    A single column (``df[["label"]]``, ``y.reshape(-1, 1)``) is one label per row, not a
    multi-label target of one label.
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.dtype == object and arr.ndim == 1:
        missing = np.flatnonzero([v is None or (isinstance(v, float) and v != v) for v in arr])
        if missing.size:
            raise ValueError(
                f"y has {missing.size} missing labels (None or NaN; the first at row "
                f"{missing[0]}); a simulation replays labelled data, so drop those rows."
            )
        if all(isinstance(v, str) for v in arr):  # text labels: a string array, not objects
            arr = arr.astype(str)
    elif arr.dtype.kind == "f" and arr.ndim == 1 and np.isnan(arr).any():
        raise ValueError(
            f"y has {int(np.isnan(arr).sum())} missing labels (NaN; the first at row "
            f"{int(np.flatnonzero(np.isnan(arr))[0])}); a simulation replays labelled data, so "
            "drop those rows."
        )
    return arr


def _check_args(
    ds: Dataset,
    names: list[str],
    seeds: list[int],
    n_initial: int,
    batch_size: int,
    budget: int,
    test_size: float,
) -> None:
    if not names:
        raise ValueError("Give at least one strategy.")
    if len(set(names)) != len(names):
        raise ValueError(f"A strategy is listed twice: {names}.")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}.")
    check_count(batch_size, "batch_size")
    check_count(n_initial, "n_initial", minimum=0)
    check_count(budget, "budget")
    if budget < n_initial:
        raise ValueError(
            f"Need 0 <= n_initial <= budget, got n_initial={n_initial}, budget={budget}."
        )
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}.")
    if len(ds.y) != ds.X.shape[0]:
        raise ValueError(f"X has {ds.X.shape[0]} rows but y has {len(ds.y)}.")


def _seed_list(seeds: Any) -> list[int]:
    """``seeds`` as a list: a count gives ``0 … seeds-1``; explicit seeds are whole numbers.

    Examples
    --------
    >>> _seed_list(3), _seed_list([7, 9])
    ([0, 1, 2], [7, 9])
    >>> _seed_list([1.5])
    Traceback (most recent call last):
    ...
    ValueError: seeds must be a count or a list of whole numbers >= 0, got [1.5].
    """
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        return list(range(check_count(seeds, "seeds")))
    listed = list(seeds) if isinstance(seeds, Iterable) and not isinstance(seeds, str) else None
    if listed is None or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 0 for s in listed
    ):
        raise ValueError(f"seeds must be a count or a list of whole numbers >= 0, got {seeds!r}.")
    return [int(s) for s in listed]


def _with_split(ds: Dataset, test_index: Any) -> Dataset:
    """``ds`` with the predefined held-out rows ``test_index`` (indices or a mask)."""
    if test_index is None:
        return ds
    idx = np.asarray(test_index)
    if idx.size == 0:
        idx = idx.astype(np.int64)
    n = ds.X.shape[0]
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(
                f"A boolean test_index needs {n} entries, one per row; got {idx.size}."
            )
        mask = idx.copy()
    else:
        ok = np.issubdtype(idx.dtype, np.integer) and (
            idx.size == 0 or 0 <= idx.min() <= idx.max() < n
        )
        if not ok:
            raise ValueError(f"test_index must hold row numbers in 0..{n - 1}, got {test_index!r}.")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
    if mask.all() or not mask.any():
        raise ValueError(
            f"test_index holds {int(mask.sum())} of {n} rows; a split needs test and pool rows."
        )
    return replace(ds, test_mask=mask)


_NOT_STORED = object()


def _instance_params(
    strategies: Sequence[Any], params: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``params`` with the parameters of the strategy instances among ``strategies``.

    Campaigns build each strategy anew from its name and parameters (stored in the
    results file, so that a run resumes): an instance's own parameters were dropped
    without a word, and ``Explore("margin", share=0.3)`` replayed ``share=0.1``.

    Parameters
    ----------
    strategies : sequence of str or Strategy
        As given to :func:`simulate`.
    params : dict
        Its ``strategy_params`` per strategy name (:func:`_strategy_params`); updated
        in place.

    Returns
    -------
    dict
        ``params``, the parameters per strategy name.

    Raises
    ------
    ValueError
        For a parameter that cannot be stored as JSON, or that ``params`` sets otherwise.
    """
    for spec in strategies:
        if not isinstance(spec, Strategy):
            continue
        name = spec.name
        own, default = _init_values(spec), _init_values(get_strategy(name))
        if own is None or default is None:
            if repr(spec) == repr(get_strategy(name)):
                continue
            raise ValueError(
                f"simulate replays each strategy by its name and parameters, and those of "
                f"{spec!r} cannot be read; pass {name!r} with strategy_params={{{name!r}: "
                "{...}}."
            )
        changed = {k: v for k, v in own.items() if repr(v) != repr(default.get(k))}
        for key, value in changed.items():
            plain = _stored(value)
            if plain is _NOT_STORED:
                raise ValueError(
                    f"simulate stores each strategy's parameters in the results (JSON), and "
                    f"{name}'s {key}={value!r} is not a number, text or strategy name; replay "
                    "this strategy with run_campaign, which takes the instance as it is."
                )
            earlier = params.setdefault(name, {}).get(key, plain)
            if earlier != plain:
                raise ValueError(
                    f"{name}'s {key} is {value!r} on the instance but {earlier!r} in "
                    "strategy_params; give it once."
                )
            params[name][key] = plain
    return params


def _stored(value: Any) -> Any:
    """A strategy parameter as the results file stores it, or ``_NOT_STORED``.

    Numbers, texts, booleans and ``None`` as they are; a strategy with its default
    parameters by its name; a list or tuple of those as a list.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Strategy):
        return value.name if repr(value) == repr(get_strategy(value.name)) else _NOT_STORED
    if isinstance(value, list | tuple):
        items = [_stored(v) for v in value]
        return _NOT_STORED if any(v is _NOT_STORED for v in items) else items
    return _NOT_STORED


def _strategy_params(
    names: list[str], given: Mapping[str, Mapping[str, Any]] | None, minimize: bool
) -> dict[str, dict[str, Any]]:
    """Parameters per strategy: ``given`` (names resolved), plus ``maximize=False`` to minimise."""
    out: dict[str, dict[str, Any]] = {}
    for spec, values in (given or {}).items():
        name = get_strategy(spec).name
        if name not in names:
            raise ValueError(
                f"Parameters were given for strategy {spec!r}, which is not replayed "
                f"({', '.join(names)})."
            )
        out[name] = dict(values)
    if minimize:
        for name in names:
            if takes_maximize(name):
                out.setdefault(name, {}).setdefault("maximize", False)
    return out


def _check_strategies(
    names: list[str],
    params: Mapping[str, Mapping[str, Any]],
    estimator: Any,
    ds: Dataset | None = None,
) -> None:
    """Build every strategy with its parameters and check it suits ``ds``'s task and can use
    ``estimator``."""
    from activelab.strategies import available

    for name in names:
        try:
            strategy = get_strategy(name, **params.get(name, {}))
        except TypeError as exc:
            raise ValueError(str(exc)) from exc  # names the parameter and those it takes
        # a 2-D label matrix (one column per label) is multi-label classification
        task = None if ds is None else "multilabel" if np.ndim(ds.y) == 2 else ds.task
        if task is not None and strategy.task not in ("any", task):
            fitting = [s for s in available() if get_strategy(s).task in (task, "any")]
            raise ValueError(
                f"Strategy {name!r} is for {strategy.task}, but {ds.name!r} is {task}; "
                f"use one of {', '.join(fitting)}."
            )
        if strategy.needs_model:
            strategy.check_model(estimator)


def _check_missing_values(ds: Dataset, estimator: Any) -> None:
    """Refuse NaN in the features, as :class:`~activelab.ActiveLearner` does, unless the
    estimator takes it (a pipeline that imputes first, or scikit-learn's ``allow_nan``).

    The whole-data reference model is fitted before any campaign, and scikit-learn's
    message for NaN ran over several lines without naming the row.

    Parameters
    ----------
    ds : Dataset
        The data replayed.
    estimator : estimator
        The model of every campaign.

    Raises
    ------
    ValueError
        Naming the first NaN and the fixes (:func:`activelab._validation.check_pool`).
    """
    from activelab.learner import _checked_pool

    if is_dask_collection(ds.X):
        return
    _checked_pool(estimator, ds.X, DEFAULT_CHUNK_SIZE, encode=False)


def _with_positive_labels(
    params: dict[str, dict[str, Any]], ds: Dataset
) -> dict[str, dict[str, Any]]:
    """``params`` with each strategy's ``positive_label`` made a label of the data.

    A rare-class strategy compares the labels with its ``positive_label`` as given; one
    that names no label of the data (a typo, ``"Yes"`` for ``"yes"``) sought nothing and
    silently stayed on its cold start for the whole campaign. A number written as text
    names the number (``"1"`` names ``1``), as ``positive_label`` does.
    """
    given = [name for name, values in params.items() if values.get("positive_label") is not None]
    if ds.task != "classification" or np.ndim(ds.y) != 1 or not given:
        return params
    present = np.unique(np.asarray(ds.y))
    out = {name: dict(values) for name, values in params.items()}
    for name in given:
        values = out[name]
        label = values["positive_label"]
        match = _match_label(label, present)
        if match is None:
            names = ", ".join(repr(v) for v in present.tolist())
            raise ValueError(
                f"The parameter {name}.positive_label={label!r} is not among the labels of the "
                f"data: {names}.{close_label_hint(label, present)} Pass one of them "
                f"(strategy_params={{{name!r}: "
                f"{{'positive_label': ...}}}}; on the command line --param "
                f"{name}.positive_label=LABEL)."
            )
        values["positive_label"] = match
    return out


def _check_top_k(ds: Dataset, estimator: Any, top_k: int | None, test_size: float) -> None:
    if top_k is None:
        return
    if ds.task != "regression" or not is_regressor(estimator):
        raise ValueError(
            f"top_k={top_k} needs a regression data set and a regressor (the true top k are "
            f"the items with the largest values); {ds.name!r} is {ds.task} with "
            f"{type(estimator).__name__}. Leave top_k unset."
        )
    n_pool = _n_pool(ds, test_size)
    if (
        isinstance(top_k, bool)
        or not isinstance(top_k, int | np.integer)
        or not 0 < top_k <= n_pool
    ):
        raise ValueError(f"top_k must be an integer in 1..{n_pool} (the pool size), got {top_k!r}.")


def _digest(ds: Dataset) -> str:
    h = hashlib.sha256()
    if sp.issparse(ds.X):  # TF-IDF of a text column
        X = sp.csr_matrix(ds.X)
        h.update(str(("csr", X.shape, X.dtype.str)).encode())
        for part in (X.data, X.indices, X.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
    else:
        X = np.ascontiguousarray(ds.X)
        h.update(str((X.shape, X.dtype.str)).encode())
        h.update(X.tobytes())
    h.update(np.asarray(ds.y).astype(str).tobytes())
    return h.hexdigest()[:16]


def _machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("activelab", "numpy", "scipy", "scikit-learn", "joblib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _check_scoring(scoring: str) -> None:
    """An unknown scorer name, refused with the closest names (not scikit-learn's message)."""
    import difflib

    from sklearn.metrics import get_scorer_names

    try:
        get_scorer(scoring)
    except ValueError:
        known = sorted({*get_scorer_names(), *RARE_SCORINGS})
        close = difflib.get_close_matches(scoring, known, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown scoring {scoring!r}.{hint} Common ones: accuracy, balanced_accuracy, "
            "f1_macro, average_precision (rare class), r2, neg_root_mean_squared_error."
        ) from None


_BINARY_SCORERS = {
    "f1": "f1_macro",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "jaccard": "jaccard_macro",
    "roc_auc": "roc_auc_ovr",
    "neg_brier_score": "neg_log_loss",
}


def _check_scoring_fits(ds: Dataset, scoring: str) -> None:
    """A scorer of the other task, or a two-class scorer on data it cannot score, refused early.

    scikit-learn would say so only once the first campaign is scored, in its own words
    (``pos_label=1 is not a valid label``, ``multi_class must be in ('ovo', 'ovr')``).
    """
    module = getattr(get_scorer(scoring), "_score_func", None).__module__ or ""
    for_regression = module.endswith("_regression")
    for_classes = module.endswith(("_classification", "_ranking"))
    name = ds.name or "the data"
    if ds.task == "regression" and for_classes:
        raise ValueError(
            f"scoring {scoring!r} scores classes, and {name} is regression; use r2 or "
            "neg_root_mean_squared_error."
        )
    if ds.task == "classification" and for_regression:
        raise ValueError(
            f"scoring {scoring!r} scores a quantity, and {name} has classes; use accuracy, "
            "balanced_accuracy or f1_macro."
        )
    if ds.task != "classification" or scoring not in _BINARY_SCORERS:
        return
    classes = np.unique(np.asarray(ds.y))
    better = _BINARY_SCORERS[scoring]
    if classes.size > 2:
        raise ValueError(
            f"scoring {scoring!r} is for two classes, and {name} has {classes.size}; use "
            f"{better!r}, or a positive label with 'recall_positive'."
        )
    if scoring != "roc_auc" and 1 not in classes.tolist() and True not in classes.tolist():
        shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in classes)
        raise ValueError(
            f"scoring {scoring!r} scores the class 1, which {name} does not have (its classes: "
            f"{shown}); use {better!r}, or a positive label with 'recall_positive' or "
            "'average_precision'."
        )


def _settings(
    ds: Dataset,
    estimator: Any,
    names: list[str],
    seeds: list[int],
    n_initial: int,
    batch_size: int,
    budget: int,
    scoring: str | None,
    test_size: float,
) -> dict[str, Any]:
    if scoring is not None and scoring not in RARE_SCORINGS:
        _check_scoring(scoring)  # fail early on an unknown scorer name
        _check_scoring_fits(ds, scoring)
    return {
        "dataset": ds.summary(),
        "dataset_digest": _digest(ds),
        "estimator": repr(estimator),
        "strategies": names,
        "seeds": seeds,
        "n_initial": int(n_initial),
        "batch_size": int(batch_size),
        "budget": int(min(budget, _n_pool(ds, test_size))),
        "scoring": scoring or ("r2" if ds.task == "regression" else "accuracy"),
        "featuriser": ds.featuriser,
        "test_size": float(test_size),
        "split": "stratified" if ds.task == "classification" and np.ndim(ds.y) == 1 else "random",
        "versions": _versions(),
        "machine": _machine(),
    }


def _n_pool(ds: Dataset, test_size: float) -> int:
    if ds.test_mask is not None:
        return int(np.count_nonzero(~ds.test_mask))
    n = ds.X.shape[0]
    return n - int(np.ceil(test_size * n))


def _new_document(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings,
        "full_pool": {},
        "runs": [],
    }


def _open_document(
    out: str | Path | None, settings: dict[str, Any], resume: bool
) -> dict[str, Any]:
    if out is None or not resume or not Path(out).exists():
        return _new_document(settings)
    doc = load_results(out)
    old = doc["settings"]
    _check_same_settings(out, old, settings, _RESUME_KEYS)
    old["strategies"] = list(dict.fromkeys([*old["strategies"], *settings["strategies"]]))
    old["seeds"] = sorted(set(old["seeds"]) | set(settings["seeds"]))
    old["versions"], old["machine"] = settings["versions"], settings["machine"]
    return doc


def _check_same_settings(
    out: str | Path | None, old: dict[str, Any], new: dict[str, Any], keys: Iterable[str]
) -> None:
    """Refuse to resume the results file ``out`` when its settings differ on ``keys``.

    Shared by :func:`simulate` and ``activelab stream``: a file resumed under other
    settings would mix runs that cannot be compared.

    Parameters
    ----------
    out : str or Path or None
        The results file, as named in the message.
    old, new : dict
        The settings the file holds and those of this run.
    keys : iterable of str
        The settings that must match.

    Raises
    ------
    ValueError
        Naming every differing setting with the file's value and this run's.
    """
    diff = [k for k in keys if old.get(k) != new.get(k)]
    if diff:
        detail = "; ".join(f"{k}: file has {old.get(k)!r}, now {new.get(k)!r}" for k in diff)
        raise ValueError(
            f"{out} holds results for other settings ({detail}). Use another --out, or "
            "--no-resume to overwrite it."
        )


def _pending_jobs(doc: dict[str, Any], names: list[str], seeds: list[int]) -> list[tuple[str, int]]:
    done = {(r["strategy"], int(r["seed"])) for r in doc["runs"]}
    jobs = [("__full__", s) for s in seeds if str(s) not in doc["full_pool"]]
    jobs += [(n, s) for s in seeds for n in names if (n, s) not in done]
    return jobs


def _split(ds: Dataset, seed: int, test_size: float) -> tuple[Any, Any, Any, Any]:
    if ds.test_mask is not None:  # a predefined split, the same for every seed
        test, pool = np.flatnonzero(ds.test_mask), np.flatnonzero(~ds.test_mask)
        return ds.X[pool], ds.X[test], ds.y[pool], ds.y[test]
    return split_pool_test(
        ds.X, ds.y, test_size=test_size, seed=seed, stratify=ds.task == "classification"
    )


def _one_job(
    job: tuple[str, int], ds: Dataset, estimator: Any, settings: dict[str, Any]
) -> tuple[tuple[str, int], Any]:
    name, seed = job
    Xp, Xt, yp, yt = _split(ds, seed, settings["test_size"])
    scoring = settings["scoring"]
    positive = settings.get("positive_label")
    scorer = get_rare_scorer(scoring, positive) if scoring in RARE_SCORINGS else scoring
    if name == "__full__":
        model = clone(estimator).fit(Xp, yp)
        return job, float(get_rare_scorer(scoring, positive)(model, Xt, yt))
    monitor = None
    if settings.get("stopping"):
        from activelab.stopping import (
            ConfidenceCriterion,
            StabilizingPredictions,
            StoppingMonitor,
        )

        monitor = StoppingMonitor([StabilizingPredictions(), ConfidenceCriterion()], seed=seed)
    steps: list[dict[str, Any] | None] = []
    callback = _estimate_step(steps, seed, Xt, yt) if settings.get("estimates") else None
    rare: dict[str, Any] = {}
    if positive is not None:
        classes = _classes(ds, estimator)
        callback = _both(callback, rare_callback(rare, Xt, yt, yp, positive, classes))
    strategy = get_strategy(name, **settings.get("strategy_params", {}).get(name, {}))
    if positive is not None and getattr(strategy, "positive_label", False) is None:
        strategy.positive_label = positive  # the rare-class strategies seek this class
    result = run_campaign(
        estimator,
        strategy,
        Xp,
        yp,
        Xt,
        yt,
        # the same uniform set as initial_indices(yp, n_initial, seed), with its
        # selection probabilities recorded (the LURE estimate needs them)
        initial=int(settings["n_initial"]),
        batch_size=settings["batch_size"],
        budget=settings["budget"],
        seed=seed,
        scoring=scorer,
        classes=_classes(ds, estimator),
        stopping=monitor,
        callback=callback,
        track_top_k=settings.get("top_k"),
        top_k_maximize=not settings.get("minimize", False),
        semi_supervised=settings.get("semi_supervised"),
    )
    record = result.to_dict()
    record["scoring"] = scoring
    if rare:
        record["rare"] = rare
        if scoring == "balanced_accuracy":  # no model yet: one class predicted, BA = 1/K
            record["scores"] = rare["balanced_accuracy"]
    if settings.get("estimates"):
        record["estimates"] = steps
    record["scores"] = [None if np.isnan(v) else v for v in record["scores"]]
    return job, record


def _sought_label(params: dict[str, dict[str, Any]]) -> Any:
    """The ``positive_label`` the strategies' parameters give, when they give one and the same.

    ``--param positive_seeking.positive_label=chargeback`` made the strategy seek
    ``chargeback`` while the positives found, the recall and the average precision were
    counted for the rarest class, another one: the summary said how few of those it found.

    Examples
    --------
    >>> _sought_label({"aad": {"positive_label": "b"}, "positive_seeking": {}})
    'b'
    >>> _sought_label({"aad": {"positive_label": "b"}, "rare_discovery": {"positive_label": "c"}})
    """
    sought = {v["positive_label"] for v in params.values() if v.get("positive_label") is not None}
    return sought.pop() if len(sought) == 1 else None


def _rare_settings(ds: Dataset, positive_label: Any, scoring: str | None) -> tuple[Any, Any, Any]:
    """``(positive label, scoring, why that scoring)`` for a data set (see ``simulate``)."""
    if ds.task != "classification" or np.ndim(ds.y) != 1:
        if positive_label is not None:
            what = ds.task if np.ndim(ds.y) == 1 else "multi-label (one 0/1 column per label)"
            raise ValueError(
                f"positive_label is for single-label classification; {ds.name!r} is {what}. "
                "Leave positive_label unset."
            )
        return None, scoring, None
    asked = positive_label is not None
    positive_label = check_positive_label(ds.y, positive_label) if asked else rare_class(ds.y)
    # the positive is checked when it was asked for, or when it is one of two classes
    check = positive_label is not None and (asked or np.unique(ds.y).shape[0] == 2)
    if ds.test_mask is not None:
        _check_predefined_split(ds, positive_label, check)
    # one positive goes to the pool (none to score on) or to the test set (none to find, and
    # of two classes the pool keeps one: no model can be fitted)
    elif check:
        n_positive = int(np.sum(np.asarray(ds.y) == positive_label))
        if n_positive < 2:
            raise ValueError(
                f"The data hold {n_positive} item of the positive class {positive_label!r}: a "
                "simulation splits them into a pool to search and a test set to score on, and "
                "needs at least 2 positives, one for each. Use data with more positives."
            )
    reason = None
    if scoring is None:
        scoring, reason = default_scoring(ds.y)
        scoring = None if reason is None else scoring
    return positive_label, scoring, reason


def _check_predefined_split(ds: Dataset, positive_label: Any, check_positive: bool) -> None:
    """Refuse a predefined split that leaves the pool one class, or one side no positive.

    A pool of one class cannot be fitted (the whole-pool model failed with scikit-learn's
    "the data contains only one class"); a positive class absent from the pool leaves
    nothing to find, and absent from the test rows nothing to score its recall and
    average precision on (balanced accuracy then measured the other class alone). The
    positive is checked when ``check_positive`` (it was asked for, or it is one of two
    classes).
    """
    y = np.asarray(ds.y)
    test = np.asarray(ds.test_mask, dtype=bool)
    pool_classes = np.unique(y[~test])
    if pool_classes.shape[0] < 2:
        only, n_pool_rows = pool_classes.tolist()[0], int((~test).sum())
        raise ValueError(
            f"The predefined split (--split-column, test_index) leaves only the class {only!r} "
            f"in the pool (the {n_pool_rows} rows not marked test); a classifier needs at least "
            "two classes there. Mark fewer rows of the other classes as test."
        )
    if not check_positive:
        return
    is_pos = y == positive_label
    n_pool, n_test = int(np.sum(is_pos & ~test)), int(np.sum(is_pos & test))
    if n_pool == 0 or n_test == 0:
        where, why = (
            ("pool", "there is nothing to find")
            if n_pool == 0
            else ("test rows", "its recall and average precision cannot be scored")
        )
        total = n_pool + n_test
        raise ValueError(
            f"The predefined split (--split-column, test_index) puts the {total} "
            f"item{'s' if total != 1 else ''} of the positive class {positive_label!r} in the "
            f"{'test rows' if n_pool == 0 else 'pool'} and none in the {where}: {why}. Mark at "
            "least one positive as test and one as train."
        )


def _both(first: Any, second: Any) -> Any:
    if first is None:
        return second

    def callback(learner: Any, result: Any) -> None:
        first(learner, result)
        second(learner, result)

    return callback


def _estimate_step(steps: list[dict[str, Any] | None], seed: int, X_test: Any, y_test: Any) -> Any:
    """A campaign callback appending each step's LURE and naive estimates to ``steps``.

    Each entry also holds ``test``, the model's accuracy on the test set: what the
    estimates estimate, whatever metric the curves are scored by (balanced accuracy
    for a rare class, F1 ...).
    """
    from activelab.weighting import estimate_accuracy

    def callback(learner: Any, result: Any) -> None:
        q = getattr(learner, "selection_probabilities_", None)
        if learner.model_ is None or q is None or q.size == 0 or np.isnan(q).any():
            steps.append(None)
            return
        est = estimate_accuracy(learner, level=0.9, cv=5, seed=seed, losses="blend")
        steps.append(
            {
                "estimate": est.estimate,
                "low": est.low,
                "high": est.high,
                "naive": est.naive,
                "n_effective": est.n_effective,
                "test": float(np.mean(learner.model_.predict(X_test) == y_test)),
            }
        )

    return callback


def _classes(ds: Dataset, estimator: Any) -> np.ndarray | None:
    """Every class of the whole data set (single-label classification only)."""
    if is_regressor(estimator) or ds.task != "classification" or np.ndim(ds.y) != 1:
        return None
    return np.unique(ds.y)


def _run_jobs(
    doc: dict[str, Any],
    jobs: list[tuple[str, int]],
    ds: Dataset,
    estimator: Any,
    settings: dict[str, Any],
    n_jobs: int,
    out: str | Path | None,
    progress: bool,
) -> None:
    from joblib import Parallel, delayed

    results: Iterator[Any] = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_one_job)(job, ds, estimator, settings) for job in jobs
    )
    what = f"simulating {settings['dataset']['name']}"
    with _ProgressBar(progress, what, len(jobs), detailed=True) as advance:
        for (name, seed), value in results:
            if name == "__full__":
                doc["full_pool"][str(seed)] = value
            else:
                doc["runs"].append(value)
                doc["runs"].sort(key=lambda r: (int(r["seed"]), r["strategy"]))
            if out is not None:
                _write_atomic(Path(out), doc)
            advance(f"{name if name != '__full__' else 'whole pool'} / seed {seed}")


def _write_atomic(path: Path, doc: dict[str, Any], default: Any = None) -> None:
    """Write ``doc`` as JSON to ``path`` through a temporary file and :func:`os.replace`.

    An interrupted write leaves the previous file whole. ``default`` is
    :func:`json.dump`'s (how to write what JSON cannot hold).
    """
    write_atomic(path, lambda fh: json.dump(doc, fh, indent=1, allow_nan=True, default=default))
