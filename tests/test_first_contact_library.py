"""Honest numbers and clear errors in the library: savings, scorer direction, labels, packaging."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.simulation.metrics import (
    label_savings,
    lower_is_better,
    reach_target,
    seed_counts,
    summarize,
)

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ savings
def test_savings_count_labels_to_the_whole_pool_target_not_randoms_last_score():
    # random is flat and noisy; the strategy is better at every budget
    n = [10, 20, 30, 40, 50]
    rand = [0.70, 0.80, 0.78, 0.86, 0.79]
    strat = [0.70, 0.86, 0.88, 0.89, 0.90]
    runs = [
        {"strategy": s, "seed": k, "n_labels": n, "scores": sc}
        for k in range(3)
        for s, sc in (("random", rand), ("margin", strat))
    ]
    m = summarize(runs, {k: 0.9 for k in range(3)})
    # target 0.855: random reaches it at 40, margin at 20 -> half the labels saved
    assert m["margin"]["savings"]["mean"] == pytest.approx(0.5)
    assert m["margin"]["savings_target"] == 0.95
    # the old definition (random's final score, 0.79) would have said 0 %
    assert label_savings(n, strat, n, rand, target=0.79)[0] == pytest.approx(0.0)


def test_savings_are_undefined_when_random_never_reaches_the_target():
    assert label_savings([10, 20], [0.9, 0.95], [10, 20], [0.5, 0.6], target=0.8) == (None, False)
    saving, censored = label_savings([10, 20], [0.1, 0.2], [10, 20], [0.5, 0.9], target=0.8)
    assert censored and saving == pytest.approx(0.0)


def test_error_scorers_keep_their_direction():
    assert lower_is_better("neg_root_mean_squared_error") and not lower_is_better("accuracy")
    # whole-pool RMSE 0.5 (stored -0.5): "95 %" asks for an RMSE <= 0.525, never below 0.5
    assert reach_target(-0.5, 0.95) == pytest.approx(-0.525)
    assert reach_target(0.9, 0.99) == pytest.approx(0.891)
    n = [10, 20, 30]
    runs = [
        {"strategy": "random", "seed": 0, "n_labels": n, "scores": [-0.9, -0.7, -0.52]},
        {"strategy": "greedy", "seed": 0, "n_labels": n, "scores": [-0.9, -0.51, -0.5]},
    ]
    m = summarize(runs, {0: -0.5}, scoring="neg_root_mean_squared_error")
    assert m["random"]["labels_to_95"]["mean"] == 30 and m["greedy"]["labels_to_95"]["mean"] == 20
    assert m["greedy"]["labels_to_99"]["mean"] == 30  # RMSE 0.51 > 0.505; 0.50 at 30
    assert m["random"]["aulc"]["mean"] > 0 and m["random"]["lower_is_better"]
    assert m["greedy"]["aulc"]["mean"] < m["random"]["aulc"]["mean"]  # a lower error
    assert m["greedy"]["savings"]["mean"] == pytest.approx(1 / 3)


def test_seed_counts_show_uneven_strategies():
    runs = [{"strategy": "random", "seed": k} for k in range(4)]
    runs += [{"strategy": "margin", "seed": k} for k in range(3)]
    assert seed_counts(runs) == {"random": 4, "margin": 3}


def test_predefined_split_in_simulate():
    from sklearn.naive_bayes import GaussianNB

    from activelab.simulation.runner import simulate

    X = np.random.default_rng(0).normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    test = np.arange(60) >= 45
    doc = simulate(
        (X, y),
        GaussianNB(),
        ["random"],
        n_initial=4,
        batch_size=4,
        budget=12,
        seeds=2,
        progress=False,
        test_index=test,
    )
    assert doc["settings"]["split"] == "predefined"
    assert doc["settings"]["test_rows"] == list(range(45, 60))
    assert doc["settings"]["budget"] == 12
    with pytest.raises(ValueError, match="a split needs test and pool rows"):
        simulate((X, y), GaussianNB(), ["random"], progress=False, test_index=[])


# ------------------------------------------------------------------ teach
POOL = np.random.default_rng(0).normal(size=(30, 3))


@pytest.fixture
def learner():
    X = POOL
    return ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X)


def test_teaching_a_missing_label_is_refused_clearly(learner):
    with pytest.raises(ValueError, match=r"Label at position 1 is None: every taught item"):
        learner.teach([0, 1], [1, None])
    assert learner.n_labelled_ == 0


def test_a_pool_of_categories_names_the_strategy_that_cannot_read_it():
    pd = pytest.importorskip("pandas")
    pool = pd.DataFrame({"city": ["paris", "rome", "oslo"] * 10, "age": np.arange(30.0)})
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(pool)
    with pytest.raises(
        ValueError, match=r"the cold start 'typicality' places .* cold_start='random'\.$"
    ):
        learner.query(3)  # margin reads the model only: the cold start is the one to change
    learner = ActiveLearner(LogisticRegression(), "kcenter", cold_start="random").fit(pool)
    with pytest.raises(ValueError, match=r"strategy 'kcenter' places .*reads the model only"):
        learner.query(3)
    assert ActiveLearner(LogisticRegression(), cold_start="random").fit(pool).query(3).size == 3


def test_a_fractional_label_for_a_classifier_is_refused_when_taught(learner):
    with pytest.raises(ValueError, match=r"Label 0\.5 at position 0 is not a whole number"):
        learner.teach([0], [0.5])  # one class: no fit yet, so the fit could not catch it
    assert learner.n_labelled_ == 0
    learner.teach([0, 1], [0.0, 1.0])  # whole numbers as floats are classes
    assert learner.model_ is not None


def test_a_pandas_missing_label_is_refused_as_missing(learner):
    pd = pytest.importorskip("pandas")
    answers = pd.Series(["cat", None], dtype="string")  # a nullable column's empty cell
    with pytest.raises(ValueError, match=r"Label at position 1 is <NA>: every taught item"):
        learner.teach([0, 1], answers)
    assert learner.n_labelled_ == 0


def test_text_labels_for_a_learner_with_number_labels_are_refused(learner):
    learner.teach([0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"is text, but the labels so far are numbers"):
        learner.teach([2], ["cat"])
    with pytest.raises(ValueError, match=r"use one type for every label"):
        learner.teach([2, 3], np.asarray([1, "dog"], dtype=object))
    assert learner.n_labelled_ == 2
    assert learner.predict(POOL[:3]).dtype.kind in "iu"


def test_text_labels_are_fine_with_classes_given():
    X = np.random.default_rng(0).normal(size=(30, 3))
    al = ActiveLearner(LogisticRegression(), "margin", classes=["cat", "dog"], random_state=0)
    al.fit(X).teach([0, 1], ["cat", "dog"])
    assert al.n_labelled_ == 2


def test_a_label_vector_for_the_whole_pool_gets_the_way_to_pass_it():
    # scikit-learn's semi-supervised convention: one label per item, -1 for the unlabelled
    y = np.full(len(POOL), -1)
    y[:4] = [0, 1, 0, 1]
    al = ActiveLearner(LogisticRegression(), "margin", random_state=0)
    with pytest.raises(ValueError, match=r"labelled=np.flatnonzero\(y != -1\)"):
        al.fit(POOL, y)
    al.fit(POOL, np.flatnonzero(y != -1), y[y != -1])
    assert al.n_labelled_ == 4
    with pytest.raises(ValueError, match=r"Pass both .*neither\.$"):  # indices: no hint
        ActiveLearner(LogisticRegression()).fit(POOL, [0, 1])


def test_querying_with_the_pool_says_the_pool_goes_to_fit(learner):
    with pytest.raises(TypeError, match=r"got ndarray of shape \(30, 3\); the pool is given"):
        learner.query(POOL)
    assert len(learner.query(2)) == 2


def _readme_block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    found = [b for b in blocks if marker in b]
    assert found, f"no README example with {marker!r}"
    return found[0]


def test_readme_bias_corrected_accuracy_example_runs(capsys):
    exec(compile(_readme_block("estimate_accuracy"), "README.md", "exec"), {})
    out = capsys.readouterr().out
    est, naive = re.match(r"([0-9.]+) \(([0-9.]+)-([0-9.]+)\), naive ([0-9.]+)", out).group(1, 4)
    assert 0.5 < float(est) <= 1 and 0.5 < float(naive) <= 1


# ------------------------------------------------------------------ packaging
def test_license_changelog_and_urls():
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text()
    assert "activelab developers" in (ROOT / "LICENSE").read_text()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## Unreleased" in changelog and "deprecat" in changelog.lower()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "https://github.com/activelab/activelab" in pyproject
    assert 'license-files = ["LICENSE"]' in pyproject


def test_wheel_ships_py_typed_and_the_license(tmp_path):
    pytest.importorskip("hatchling")
    from hatchling.builders.wheel import WheelBuilder

    wheel = next(
        iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    )
    names = zipfile.ZipFile(wheel).namelist()
    assert "activelab/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_report_page_warns_on_uneven_seeds_and_states_the_error_direction():
    pytest.importorskip("matplotlib")
    from activelab.simulation.report import render

    runs = [
        {"strategy": s, "seed": k, "n_labels": [5, 10], "scores": [-0.9, -0.6 - 0.05 * k]}
        for s, seeds in (("random", 3), ("greedy", 2))
        for k in range(seeds)
    ]
    doc = {
        "settings": {
            "dataset": {"name": "toy"},
            "budget": 10,
            "n_initial": 5,
            "batch_size": 5,
            "scoring": "neg_root_mean_squared_error",
        },
        "full_pool": {str(k): -0.5 for k in range(3)},
        "runs": runs,
    }
    page = render(doc)
    assert "Strategies ran on different seeds (greedy: 2, random: 3)" in page
    assert "lower is better" in page
    assert "<td>-0." not in page  # the AULC of an error is the error, positive


def test_a_dataframe_pool_of_texts_needs_embed_for_geometry_and_runs_with_it():
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import SelectKBest
    from sklearn.pipeline import make_pipeline

    words = ["good", "bad", "great", "awful", "fine", "poor"]
    pool = pd.DataFrame({"text": [f"{words[i % 6]} film {i}" for i in range(60)]})
    y = np.arange(60) % 2
    pipe = make_pipeline(make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression())
    # the cold start (typicality) clusters the pool: on the pipeline's encoder, fitted on the pool
    picks = ActiveLearner(pipe, "margin", random_state=0).fit(pool).query(5)
    encoder = make_column_transformer((TfidfVectorizer(), "text")).fit(pool)
    same = ActiveLearner(pipe, "margin", random_state=0, embed=encoder.transform).fit(pool)
    assert picks.tolist() == same.query(5).tolist()
    needs_labels = make_pipeline(  # a leading step that needs labels cannot be fitted on the pool
        make_column_transformer((make_pipeline(TfidfVectorizer(), SelectKBest(k=3)), "text")),
        LogisticRegression(),
    )
    learner = ActiveLearner(needs_labels, "margin", random_state=0).fit(pool)
    with pytest.raises(ValueError, match=r"\['text'\], and the cold start 'typicality' .*embed="):
        learner.query(5)
    vec = TfidfVectorizer().fit(pool["text"])
    learner = ActiveLearner(
        pipe, "auto", random_state=0, embed=lambda df: vec.transform(df["text"])
    )
    learner.fit(pool)
    for _ in range(3):  # auto's arms score the rows of a DataFrame by position
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    assert learner.n_labelled_ == 15


def test_a_table_with_categories_runs_on_its_pipeline_and_unknown_categories_are_named():
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 240
    pool = pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "city": rng.choice(["a", "b", "c"], n, p=[0.1, 0.45, 0.45]),
            "income": rng.normal(50, 10, n),
        }
    )
    y = np.where((pool.age > 45) & (pool.city != "a"), "high", "low")

    def pipe(**encoder):
        encode = make_column_transformer(
            (OneHotEncoder(**encoder), ["city"]), (StandardScaler(), ["age", "income"])
        )
        return make_pipeline(encode, LogisticRegression())

    for strategy, semi in [("auto", None), ("badge", "auto"), ("density", "auto")]:
        learner = ActiveLearner(
            pipe(handle_unknown="ignore"), strategy, random_state=0, semi_supervised=semi
        ).fit(pool)
        for _ in range(4):
            idx = learner.query(5)
            learner.teach(idx, y[idx])
        assert learner.history_[0].strategy == "typicality" and learner.n_labelled_ == 20
        assert learner.score(pool, y) > 0.8
    learner = ActiveLearner(pipe(), "margin", random_state=0, cold_start="random").fit(pool)
    idx = np.flatnonzero(pool.city != "a")[:6]  # no item of city 'a' labelled yet
    learner.teach(idx, y[idx])
    with pytest.raises(
        ValueError,
        match=r"fitted on the 6 labelled items, cannot read the pool "
        r".*handle_unknown='ignore'",
    ):
        learner.query(5)


def test_simulate_takes_a_dataframe_and_a_series_of_text_labels():
    import pandas as pd
    from sklearn.datasets import load_wine
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from activelab.simulation import simulate

    model = make_pipeline(StandardScaler(), LogisticRegression())
    wine = load_wine(as_frame=True)
    y = wine.target.map(lambda t: f"c{t}")  # an object Series of str
    doc = simulate(
        (wine.data, y),
        model,
        ["random"],
        seeds=1,
        budget=20,
        progress=False,
    )
    assert doc["settings"]["dataset"]["task"] == "classification" and doc["runs"][0]["scores"]
    with pytest.raises(
        ValueError, match=r"y has 59 missing labels \(None or NaN; the first at row 0\)"
    ):
        simulate((wine.data, y.where(y != "c0")), LogisticRegression(), ["random"], progress=False)
    with pytest.raises(ValueError, match=r"y has 1 missing labels"):
        simulate((np.eye(3), pd.Series([0.5, np.nan, 1.5])), LogisticRegression(), ["random"])


# ------------------------------------------------------ labels from pandas
def _text_labels(n: int) -> np.ndarray:
    """Object-dtype text labels, as ``np.asarray`` gives them for a pandas text Series."""
    return np.asarray(["common"] * (n - n // 5) + ["rare"] * (n // 5), dtype=object)


@pytest.mark.parametrize("strategy", ["positive_seeking", "rare_discovery", "auto_rare", "aad"])
def test_rare_strategies_take_text_labels_of_object_dtype(strategy):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = _text_labels(60)
    learner = ActiveLearner(LogisticRegression(), strategy, random_state=0).fit(X)
    learner.teach([0, 1, 55], y[[0, 1, 55]])
    idx = learner.query(4)
    assert idx.shape == (4,)


def test_an_unknown_text_label_of_object_dtype_is_named():
    learner = ActiveLearner(LogisticRegression(), classes=["cat", "dog"]).fit(POOL)
    with pytest.raises(ValueError, match=r"Label 'bird' is not one of the classes"):
        learner.teach([0, 1], np.asarray(["cat", "bird"], dtype=object))
    assert learner.n_labelled_ == 0


def test_a_repeated_multilabel_name_of_object_dtype_is_named():
    names = np.asarray(["a", "a"], dtype=object)
    with pytest.raises(ValueError, match=r"Label 'a' appears twice in classes"):
        ActiveLearner(LogisticRegression(), classes=names, multilabel=True).fit(POOL)


def test_rare_metrics_take_text_labels_of_object_dtype():
    from activelab.simulation.rare_metrics import (
        check_positive_label,
        class_shares,
        per_class_recall,
        rare_class,
    )

    y = np.asarray(["a"] * 30 + ["b"], dtype=object)
    assert rare_class(y) == "b"
    assert class_shares(y)["b"] == pytest.approx(1 / 31)
    assert per_class_recall(y, y) == {"a": 1.0, "b": 1.0}
    assert check_positive_label(y, "b") == "b"
    with pytest.raises(ValueError, match=r"not among the labels of the data: 'a', 'b'"):
        check_positive_label(y, "c")
    with pytest.raises(ValueError, match=r"all 2 items are labelled 'a'"):
        check_positive_label(y[:2], "c")


# ------------------------------------------------------------------ query
def test_a_numpy_integer_batch_size_is_a_batch_size(learner):
    assert learner.query(np.int64(3)).shape == (3,)
    with pytest.raises(TypeError, match=r"the pool is given once, to fit\(X\)"):
        learner.query(POOL)
    with pytest.raises(TypeError, match=r"the pool is given once"):
        learner.query(sp.csr_matrix(POOL))


@pytest.mark.parametrize("strategy", ["anomaly", "aad", "positive_seeking", "rare_discovery"])
def test_rare_strategies_read_a_table_with_categories_through_its_pipeline(strategy):
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 120
    pool = pd.DataFrame({"city": rng.choice(["a", "b", "c"], n), "amount": rng.normal(50, 10, n)})
    y = np.where(pool.amount > 60, "fraud", "ok")
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), (StandardScaler(), ["amount"])
    )
    model = make_pipeline(encode, LogisticRegression())
    learner = ActiveLearner(model, strategy, random_state=0).fit(pool)
    for _ in range(3):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    assert learner.n_labelled_ == 15


def test_a_regressor_with_a_classification_strategy_is_pointed_to_regression_strategies():
    from sklearn.linear_model import Ridge

    from activelab.strategies import StrategyRequirementError

    with pytest.raises(
        StrategyRequirementError,
        match=r"'margin' is for classification, but Ridge is a regressor; use a regression "
        r"strategy such as 'gsx'",
    ):
        ActiveLearner(Ridge()).fit(POOL)  # the default strategy is margin


# ------------------------------------------------------------ estimates
def test_estimate_accuracy_refuses_a_regressor_and_multilabel_targets():
    from sklearn.linear_model import Ridge
    from sklearn.multiclass import OneVsRestClassifier

    from activelab.weighting import estimate_accuracy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    learner = ActiveLearner(Ridge(), "random", random_state=0).fit(X)
    idx = learner.query(10)
    learner.teach(idx, X[idx, 0] * 2.0)
    with pytest.raises(ValueError, match=r"for classifiers, but Ridge is a regressor.*lure_w"):
        estimate_accuracy(learner)  # it said 0 % accuracy: no float prediction is exact
    Y = (X[:, :2] > 0).astype(int)
    model = OneVsRestClassifier(LogisticRegression())
    learner = ActiveLearner(model, "random", random_state=0).fit(X)
    idx = learner.query(20)
    learner.teach(idx, Y[idx])
    with pytest.raises(ValueError, match=r"multi-label targets.*lure_estimate"):
        estimate_accuracy(learner)


def test_a_single_output_classifier_taught_multilabel_rows_is_told_to_wrap_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 1, 0]])
    learner = ActiveLearner(LogisticRegression(), "random", random_state=0).fit(X)
    with pytest.raises(
        ValueError,
        match=r"LogisticRegression fits one label per item, but the targets are multi-label "
        r"\(3 0/1 columns\): wrap it, OneVsRestClassifier\(LogisticRegression",
    ):
        learner.teach([0, 1, 2, 3], Y)
    assert learner.n_labelled_ == 0 and learner.model_ is None


def test_a_column_of_labels_is_one_label_per_item_not_a_multilabel_target(learner):
    y = (POOL[:, 0] > 0).astype(int)
    idx = np.array([0, 1, 2, 3, 4, 5])
    learner.teach(idx, y[idx].reshape(-1, 1))  # as df[["label"]] gives them
    assert learner.labels_.shape == (6,) and learner.query(2).shape == (2,)  # margin still fits
    assert learner.classes_.tolist() == [0, 1]


def test_simulate_takes_a_column_of_labels():
    from sklearn.naive_bayes import GaussianNB

    from activelab.simulation import simulate

    X = np.random.default_rng(0).normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "yes", "no").reshape(-1, 1)
    doc = simulate(
        (X, y),
        GaussianNB(),
        ["random"],
        n_initial=6,
        batch_size=5,
        budget=20,
        seeds=1,
        progress=False,
    )
    assert doc["runs"][0]["n_labels"][-1] == 20


def test_the_learners_state_before_fit_says_to_call_fit():
    from activelab import NotFittedError

    learner = ActiveLearner(LogisticRegression())
    for attribute in ("n_labelled_", "classes_", "unlabelled_", "pool_"):
        with pytest.raises(NotFittedError, match=r"Call fit\(X_pool\) first"):
            getattr(learner, attribute)


def test_a_boolean_mask_as_indices_gets_flatnonzero(learner):
    mask = np.zeros(POOL.shape[0], dtype=bool)
    mask[[0, 1]] = True
    with pytest.raises(TypeError, match=r"a boolean array of 30 values.*np\.flatnonzero\(mask\)"):
        learner.teach(mask, [0, 1])
    with pytest.raises(TypeError, match=r"got <U1 values such as '0'\.$"):
        learner.teach(["0"], [0])
    assert learner.n_labelled_ == 0


def test_predicting_after_teaching_with_refit_false_names_refit_model(learner):
    from activelab import NotFittedError

    learner.teach([0, 1, 2], [0, 1, 1], refit=False)
    with pytest.raises(NotFittedError, match=r"3 labels were taught with refit=False.*refit_model"):
        learner.predict(POOL)
    assert learner.refit_model().predict(POOL).shape == (30,)


def test_classes_given_as_a_set_or_a_string():
    y = np.array(["no", "yes", "yes", "no"])
    learner = ActiveLearner(LogisticRegression(), classes=set(y)).fit(POOL)
    learner.teach([0, 1], y[:2])
    assert learner.classes_.tolist() == ["no", "yes"]
    with pytest.raises(ValueError, match=r"a set, which has no order"):
        ActiveLearner(LogisticRegression(), classes={"a", "b"}, multilabel=True).fit(POOL)
    with pytest.raises(ValueError, match=r"classes must list the labels.*single string 'no,yes'"):
        ActiveLearner(LogisticRegression(), classes="no,yes").fit(POOL)


def test_a_stream_takes_its_classes_as_a_set():
    from activelab.stream import StreamLearner

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 0, "yes", "no")
    learner = StreamLearner(LogisticRegression(), budget=0.5, classes=set(y), random_state=0)
    for x, label in zip(X, y, strict=True):
        if learner.process(x).query:
            learner.learn(x, label)
    assert learner.process(X[0]).prediction in ("no", "yes")


def test_a_failed_fit_keeps_the_labels_already_taught(learner):
    y = (POOL[:, 0] > 0).astype(int)
    learner.teach(np.arange(8), y[:8])
    model = learner.model_
    with pytest.raises(ValueError, match=r"Label at position 1 is None"):
        learner.fit(POOL, [0, 1], [0, None])
    with pytest.raises(ValueError, match=r"non-finite value"):
        learner.fit(np.full((3, 3), np.nan))
    assert learner.n_labelled_ == 8 and learner.model_ is model
    assert learner.pool_ is POOL and learner.query(2).shape == (2,)


@pytest.mark.parametrize("strategy", ["gsx", "igs"])
def test_greedy_sampling_on_a_sparse_pool_matches_the_dense_one_without_densifying(
    strategy, monkeypatch
):
    import scipy.sparse as sparse
    from sklearn.linear_model import Ridge

    from activelab.strategies._base import QueryContext

    X = sparse.random(300, 2000, density=0.01, format="csr", random_state=0)
    y = np.asarray(X[:, :50].sum(axis=1)).ravel()

    def picks(pool):
        learner = ActiveLearner(Ridge(), strategy, cold_start="gsx", random_state=0).fit(pool)
        for _ in range(3):
            idx = learner.query(4)
            learner.teach(idx, y[idx])
        return learner.labelled_

    dense = picks(X.toarray())
    embedding = QueryContext.embedding

    def never_densify(self, X_chunk):
        assert not sparse.issparse(X_chunk), "a sparse chunk of the pool was made dense"
        return embedding(self, X_chunk)

    monkeypatch.setattr(QueryContext, "embedding", never_densify)  # a chunk: GBs at TF-IDF width
    np.testing.assert_array_equal(picks(X), dense)


def test_a_custom_strategy_that_returns_positions_or_repeats_is_named_at_query(learner):
    from activelab import Strategy, top_k

    class Positions(Strategy):  # forgets to map top_k's positions to pool indices
        name = "positions"

        def _select(self, ctx, n):
            return top_k(np.zeros(ctx.candidates.shape[0]), n, ctx.candidates)  # 0, 1, 2

    class Repeats(Strategy):
        name = "repeats"

        def _select(self, ctx, n):
            return np.repeat(ctx.candidates[:1], n)

    y = (POOL[:, 0] > 0).astype(int)
    for strategy, message in [
        (
            Positions(),
            r"'positions' returned pool index \d+, which is not a candidate.*"
            r"ctx\.candidates\[top_k",
        ),
        (Repeats(), r"'repeats' returned pool index \d+ more than once"),
    ]:
        custom = ActiveLearner(LogisticRegression(), strategy, cold_start=strategy).fit(POOL)
        custom.teach(np.arange(6), y[:6])
        with pytest.raises(ValueError, match=message):
            custom.query(3)
        assert custom.n_labelled_ == 6 and not custom.history_


def test_a_pool_of_rows_of_different_lengths_is_named():
    with pytest.raises(ValueError, match=r"The pool's rows must all have the same number"):
        ActiveLearner(LogisticRegression()).fit([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize(
    ("embed", "message"),
    [
        (
            lambda Z: Z[:, 0],
            r"2-D array of 30 rows, got shape \(30,\); return a 1-D result as a col",
        ),
        (lambda Z: Z[:5], r"2-D array of 30 rows, got shape \(5, 3\)\."),
        (lambda Z: Z * np.nan, r"embed returned a non-finite value \(NaN or infinity\) for row 0"),
    ],
)
def test_an_embed_function_with_a_bad_output_is_named(embed, message):
    learner = ActiveLearner(LogisticRegression(), "kcenter", embed=embed, random_state=0)
    with pytest.raises(ValueError, match=message):
        learner.fit(POOL).query(3)


def test_predict_proba_columns_follow_the_declared_classes_before_every_class_is_seen():
    y = np.array(["cat", "dog"])[(POOL[:, 0] > 0).astype(int)]
    learner = ActiveLearner(LogisticRegression(), classes=["bird", "cat", "dog"]).fit(POOL)
    learner.teach(np.arange(10), y[:10])  # no bird yet: the model knows cat and dog only
    P = learner.predict_proba(POOL)
    assert P.shape == (30, 3) and np.all(P[:, 0] == 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    guesses = learner.classes_[P.argmax(axis=1)]  # the column of "cat" was read as "bird"
    assert guesses.tolist() == learner.predict(POOL).tolist()


def test_plotting_arm_choices_without_any_says_which_strategies_record_them(learner):
    from activelab.simulation.selection_plots import plot_arm_choices

    y = (POOL[:, 0] > 0).astype(int)
    idx = learner.query(6)
    learner.teach(idx, y[idx])
    learner.query(3)  # margin: no arms (matplotlib said "number sections must be larger than 0")
    with pytest.raises(ValueError, match=r"No arm choices to plot.*'auto', 'auto_rare'"):
        plot_arm_choices(learner)
    with pytest.raises(ValueError, match=r"no query yet: call fit\(X\) and query\(n\) first"):
        plot_arm_choices(ActiveLearner(LogisticRegression(), "auto"))


def test_run_campaign_refuses_labels_of_another_length_and_bad_initial_indices():
    from activelab.simulation.campaign import run_campaign

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.arange(60) % 2
    args = (LogisticRegression(), "margin")
    with pytest.raises(ValueError, match=r"X_pool has 40 rows but y_pool has 39 labels"):
        run_campaign(*args, X[:40], y[:39], X[40:], y[40:], initial=4, budget=10)
    with pytest.raises(ValueError, match=r"X_test has 20 rows but y_test has 19 labels"):
        run_campaign(*args, X[:40], y[:40], X[40:], y[41:], initial=4, budget=10)
    with pytest.raises(IndexError, match=r"initial index 99 is out of range for a pool of 40"):
        run_campaign(*args, X[:40], y[:40], X[40:], y[40:], initial=[0, 1, 99], budget=10)


def test_simulate_takes_a_sparse_pool_and_names_features_it_cannot_read():
    import pandas as pd
    import scipy.sparse as sparse

    from activelab.simulation import simulate

    X = sparse.random(120, 40, density=0.1, format="csr", random_state=0)
    y = np.arange(120) % 2
    run = {"n_initial": 6, "batch_size": 5, "budget": 20, "seeds": 1, "progress": False}
    doc = simulate((X, y), LogisticRegression(), ["random"], **run)  # was: tuple index out of range
    assert doc["runs"][0]["n_labels"][-1] == 20
    table = pd.DataFrame({"age": np.arange(120.0), "city": ["paris", "rome"] * 60})
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['city'\].*pd\.get_dummies"):
        simulate((table, y), LogisticRegression(), ["random"], **run)
    with pytest.raises(ValueError, match=r"got shape \(120,\): texts need featurising first"):
        simulate((["good film"] * 120, y), LogisticRegression(), ["random"], **run)
