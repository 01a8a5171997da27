"""Multi-label targets: the learner, probabilities, early fitting, strategies, metrics, data."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, hamming_loss
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from activelab import ActiveLearner, NotFittedError, QueryContext
from activelab.multilabel import (
    SCORERS,
    ConstantLabelsClassifier,
    f1_macro,
    f1_micro,
    get_scorer,
    load_yeast,
    multilabel_metrics,
    multilabel_proba,
    to_indicator,
)
from activelab.simulation.campaign import aulc, run_campaign, split_pool_test
from activelab.strategies import AdaptiveMultilabel, BinMin, MaxEntropy, MeanEntropy
from activelab.strategies.multilabel import (
    MMC,
    binary_entropy,
    cardinality_inconsistency,
    separation_margin,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(
        n_samples=200, n_features=6, n_classes=4, n_labels=2, random_state=1
    )
    return X.astype(float), Y


def _ovr():
    return OneVsRestClassifier(LogisticRegression(max_iter=500))


# ---------------------------------------------------------------- the learner
def test_value_other_than_0_1_names_row_pool_index_and_label(data):
    X, Y = data
    learner = ActiveLearner(_ovr(), "binmin", classes=["a", "b", "c", "d"]).fit(X)
    bad = Y[:3].copy()
    bad[2, 1] = 2
    with pytest.raises(
        ValueError, match=r"Label row 2 \(pool index 12\) has value 2 for label 'b'"
    ):
        learner.teach([10, 11, 12], bad)
    assert learner.n_labelled_ == 0 and learner.model_ is None


def test_width_must_match_the_label_set(data):
    X, Y = data
    learner = ActiveLearner(_ovr(), "binmin", classes=4).fit(X, [0, 1, 2, 3], Y[:4])
    with pytest.raises(ValueError, match=r"has 3 columns but there are 4 labels"):
        learner.teach([5], Y[5:6, :3])
    with pytest.raises(ValueError, match="pass one 0/1 indicator row per index"):
        learner.teach([5, 6], Y[5:7, 0])
    assert learner.n_labelled_ == 4


def test_width_is_fixed_by_the_first_labels_when_classes_are_omitted(data):
    X, Y = data
    learner = ActiveLearner(_ovr(), "binmin").fit(X, np.arange(10), Y[:10])
    assert learner.classes_.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="has 5 columns but there are 4 labels"):
        learner.teach([20], np.ones((1, 5), int))


def test_single_label_rows_then_indicator_rows_are_refused(data):
    X, Y = data
    learner = ActiveLearner(LogisticRegression(), "random").fit(X, [0, 1], [0, 1])
    with pytest.raises(ValueError, match="Labels have 2 dimension"):
        learner.teach([2], Y[2:3])
    assert learner.labels_.tolist() == [0, 1]


def test_bad_classes_are_refused():
    with pytest.raises(ValueError, match="'b' appears twice"):
        ActiveLearner(_ovr(), "binmin", classes=["a", "b", "b"], multilabel=True).fit(np.eye(3))
    with pytest.raises(ValueError, match="number of labels of a multi-label"):
        ActiveLearner(_ovr(), "margin", classes=3, multilabel=False).fit(np.eye(3))


def test_label_names_keep_their_order_and_booleans_are_accepted(data):
    X, Y = data
    names = ["zeta", "alpha", "mid", "beta"]
    learner = ActiveLearner(_ovr(), "mmc", classes=names, multilabel=True, random_state=0)
    learner.fit(X, np.arange(30), Y[:30].astype(bool))
    assert learner.classes_.tolist() == names
    assert learner.labels_.dtype == np.int64
    assert learner.predict_proba(X[:5]).shape == (5, 4)
    assert learner.predict(X[:5]).shape == (5, 4)


def test_single_label_strategy_is_refused_for_multilabel_targets(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"'margin' is for classification targets.*use one of"):
        ActiveLearner(_ovr(), "margin", classes=4).fit(X)
    learner = ActiveLearner(_ovr(), "entropy").fit(X, np.arange(10), Y[:10])
    with pytest.raises(ValueError, match="binmin"):
        learner.query(1)


def test_model_is_fitted_once_one_label_varies(data):
    X, Y = data
    Y = Y.copy()
    rows = np.arange(8)
    Y[rows] = [1, 0, 0, 1]
    Y[rows[:4], 1] = 1  # only label 1 varies
    for est in (_ovr(), MultiOutputClassifier(LogisticRegression())):
        learner = ActiveLearner(est, "binmin", classes=4, random_state=0).fit(X, rows, Y[rows])
        assert isinstance(learner.model_, ConstantLabelsClassifier)
        P = learner.predict_proba(X)
        assert np.all(P[:, [0, 3]] == 1.0) and np.all(P[:, 2] == 0.0)
        assert 0.0 < P[:, 1].min() < P[:, 1].max() < 1.0
        idx = learner.query(3)
        assert not learner.history_[-1].cold_start and len(set(idx.tolist())) == 3


def test_ragged_label_lists_are_refused_in_one_line_naming_to_indicator(data):
    X, _ = data
    learner = ActiveLearner(_ovr(), "binmin", classes=["a", "b", "c", "d"]).fit(X)
    with pytest.raises(ValueError, match=r"lists of different lengths.*to_indicator\("):
        learner.teach([0, 1], [["a"], ["b", "c"]])
    with pytest.raises(ValueError, match="lists of different lengths"):
        ActiveLearner(_ovr(), "binmin", classes=4).fit(X, [0, 1], [[1, 0, 0, 0], [1, 0]])
    assert learner.n_labelled_ == 0
    learner.teach([0, 1], to_indicator([["a"], ["b", "c"]], learner.classes_))
    assert learner.labels_.tolist() == [[1, 0, 0, 0], [0, 1, 1, 0]]


def test_predicting_before_any_label_varies_says_what_is_missing(data):
    X, _ = data
    learner = ActiveLearner(_ovr(), "mmc", classes=4).fit(X, np.arange(5), np.zeros((5, 4)))
    with pytest.raises(NotFittedError, match=r"needs some label seen both ways.*the 5 labelled"):
        learner.predict(X)


def test_rank_pool_keeps_single_label_and_multilabel_strategies_to_their_models(data):
    """Both read predict_proba, so margin ranked a multi-label model's pool (the gap between
    two independent labels) and binmin a classifier's (its classes as labels) without a word."""
    from activelab.ranking import rank_pool
    from activelab.strategies import StrategyRequirementError

    X, Y = data
    multi = _ovr().fit(X[:100], Y[:100])
    with pytest.raises(
        StrategyRequirementError,
        match=r"'margin' is for classification, but "
        r"OneVsRestClassifier predicts several labels per item.*binmin",
    ):
        rank_pool(multi, X[100:], 5)
    assert rank_pool(multi, X[100:], 5, strategy="binmin").shape == (5,)
    single = LogisticRegression(max_iter=500).fit(X[:100], Y[:100, 0])
    with pytest.raises(
        StrategyRequirementError,
        match=r"'binmin' is for multilabel, but "
        r"LogisticRegression predicts one label per item; use a classification",
    ):
        rank_pool(single, X[100:], 5, strategy="binmin")
    assert rank_pool(single, X[100:], 5).shape == (5,)
    assert rank_pool(multi, X[100:], 5, strategy="random", random_state=0).shape == (5,)


def test_a_dataframe_of_named_label_columns_is_read_by_name(data):
    """np.asarray read the columns c, a, b in their own order: c's answers were stored as a's."""
    import pandas as pd

    X, _ = data
    Y = pd.DataFrame({"c": [1, 0, 1], "a": [0, 1, 1], "b": [1, 1, 0]})
    learner = ActiveLearner(_ovr(), "binmin", classes=["a", "b", "c"]).fit(X)
    learner.teach([0, 1, 2], Y)
    assert learner.labels_.tolist() == [[0, 1, 1], [1, 1, 0], [1, 0, 1]]
    other = ActiveLearner(_ovr(), "binmin", classes=["a", "b", "c"]).fit(X)
    with pytest.raises(ValueError, match=r"missing: \['c'\], not labels: \['x'\]"):
        other.teach([0, 1, 2], Y.rename(columns={"c": "x"}))
    assert other.n_labelled_ == 0
    counted = ActiveLearner(_ovr(), "binmin", classes=3).fit(X)  # no names: read in order
    counted.teach([0, 1, 2], Y)
    assert counted.labels_.tolist() == Y.to_numpy().tolist()


def test_plain_estimator_once_every_label_varies(data):
    X, Y = data
    learner = ActiveLearner(_ovr(), "binmin", classes=4).fit(X, np.arange(60), Y[:60])
    assert (Y[:60].min(0) != Y[:60].max(0)).all()
    assert isinstance(learner.model_, OneVsRestClassifier)


@pytest.mark.parametrize(
    "make",
    [
        _ovr,
        lambda: MultiOutputClassifier(LogisticRegression()),
        lambda: KNeighborsClassifier(5),
        lambda: RandomForestClassifier(20, random_state=0),
        lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(5)),
    ],
    ids=["ovr", "multioutput", "knn", "forest", "pipeline-knn"],
)
def test_estimators_loop(make, data):
    X, Y = data
    learner = ActiveLearner(make(), "mean_entropy", classes=4, random_state=0).fit(
        X, np.arange(12), Y[:12]
    )
    for _ in range(3):
        idx = learner.query(6)
        learner.teach(idx, Y[idx])
    assert learner.n_labelled_ == 30
    P = learner.predict_proba(X)
    assert P.shape == (200, 4) and np.all((P >= 0) & (P <= 1))
    assert f1_micro(Y, learner.predict(X)) > 0.4


@pytest.mark.parametrize(
    "make",
    [_ovr, lambda: RandomForestClassifier(10, random_state=0), lambda: KNeighborsClassifier(3)],
    ids=["ovr", "forest", "knn"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
def test_a_single_label_keeps_one_column_per_label(make, data):
    """With one label scikit-learn reads the column as a binary target; the learner still
    predicts (n, 1) rows and P(label = 1), and the strategies score that one column."""
    X, Y = data
    y1 = Y[:, :1]
    learner = ActiveLearner(make(), "binmin", classes=["x"], multilabel=True, random_state=0)
    learner.fit(X, np.arange(20), y1[:20])
    assert learner.predict(X).shape == (200, 1)
    P = learner.predict_proba(X)
    assert P.shape == (200, 1) and np.all((P >= 0) & (P <= 1))
    assert f1_micro(y1, learner.predict(X)) > 0.4
    idx = learner.query(5)
    expected = np.argsort(np.abs(P[20:, 0] - 0.5), kind="stable")[:5] + 20
    np.testing.assert_array_equal(np.sort(idx), np.sort(expected))


def test_multilabel_proba_reads_the_positive_class_of_every_output(data):
    X, Y = data
    knn = KNeighborsClassifier(7).fit(X[:50], Y[:50])
    raw = knn.predict_proba(X[50:60])
    P = multilabel_proba(knn, X[50:60])
    for j in range(4):
        pos = list(knn.classes_[j]).index(1)
        np.testing.assert_allclose(P[:, j], raw[j][:, pos])
    Yc = Y[:50].copy()
    Yc[:, 2] = 0  # a native estimator keeps a one-class output: P(1) is 0
    P = multilabel_proba(KNeighborsClassifier(7).fit(X[:50], Yc), X[50:60])
    assert np.all(P[:, 2] == 0.0)
    with pytest.raises(ValueError, match="has 4 columns but there are 3 labels"):
        multilabel_proba(knn, X[:2], n_labels=3)


def test_to_indicator_refuses_unknown_labels():
    with pytest.raises(ValueError, match="Item 1 has label 'emu'"):
        to_indicator([["cat"], ["emu"]], ["cat", "dog"])
    # a bare text was read character by character: "ab" carried labels a and b
    with pytest.raises(ValueError, match=r"Item 1 is the text 'ab', not a list of labels"):
        to_indicator([["a"], "ab"], ["a", "b"])


def test_to_indicator_names_a_missing_label_list_and_takes_a_label_count():
    with pytest.raises(ValueError, match=r"Item 1 is None, not a list of labels; give \[\]"):
        to_indicator([["a"], None], ["a", "b"])
    with pytest.raises(ValueError, match=r"Item 0 is 3, not a list of labels; .* \[3\] for one"):
        to_indicator([3], 4)
    with pytest.raises(ValueError, match="classes must list the labels in column order"):
        to_indicator([["a"]], "ab")
    # the first column of a name given twice stayed 0 for every item
    with pytest.raises(ValueError, match="Label 'a' appears twice in classes"):
        to_indicator([["a"], ["b"]], ["a", "b", "a"])
    np.testing.assert_array_equal(
        to_indicator([[2], [], (0, 1)], 3), [[0, 0, 1], [0, 0, 0], [1, 1, 0]]
    )
    np.testing.assert_array_equal(
        to_indicator([{"b"}, np.array(["a"])], ["a", "b"]), [[0, 1], [1, 0]]
    )


# ---------------------------------------------------------------- strategies
def _ctx(P_rows, Y_lab=None):
    """A context whose 'model' returns the given probabilities for row indices."""

    class Fixed:
        classes_ = np.arange(P_rows.shape[1])

        def predict_proba(self, X):
            return P_rows[np.asarray(X)[:, 0].astype(int)]

    n = P_rows.shape[0]
    X = np.arange(n, dtype=float)[:, None]
    Y_lab = np.zeros((0, P_rows.shape[1]), int) if Y_lab is None else Y_lab
    return QueryContext(
        X=X,
        candidates=np.arange(n),
        labelled=np.arange(Y_lab.shape[0]),
        y_labelled=Y_lab,
        model=Fixed(),
        chunk_size=2,
    )


def test_known_answers_of_the_score_functions():
    P = np.array([[0.9, 0.1, 0.45], [0.8, 0.7, 0.05], [0.5, 0.5, 0.5], [0.99, 0.01, 0.02]])
    assert BinMin().select(_ctx(P), 2).tolist() == [2, 0]
    assert MeanEntropy().select(_ctx(P), 4).tolist() == [2, 0, 1, 3]
    assert MaxEntropy().select(_ctx(P), 2).tolist() == [2, 0]
    np.testing.assert_allclose(binary_entropy(np.array([[0.5]])), [[np.log(2)]])
    np.testing.assert_allclose(separation_margin(P), [0.8 + 0.1, 0.4 + 0.9, 0.0, 0.98 + 0.96])
    np.testing.assert_allclose(cardinality_inconsistency(P, 1.0), [0, 1, 1, 0])


def test_mmc_prefers_the_row_whose_predicted_label_set_is_least_certain():
    # Labelled rows: cardinality 1 whenever one probability dominates, else 2.
    P = np.array(
        [
            [0.95, 0.05, 0.05],
            [0.05, 0.9, 0.1],
            [0.9, 0.85, 0.05],
            [0.1, 0.8, 0.9],
            [0.97, 0.02, 0.01],  # confident, one label
            [0.6, 0.55, 0.4],  # unsure of everything
            [0.9, 0.9, 0.02],  # confident, two labels
        ]
    )
    Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 1, 1]])
    ctx = _ctx(P, Y).with_candidates(np.array([4, 5, 6]))
    scores = MMC().scores(ctx)
    assert scores.argmax() == 1 and MMC().select(ctx, 1).tolist() == [5]
    np.testing.assert_allclose(MMC.loss_reduction(P[[4]], np.array([1])), [0.06])


def test_adaptive_extremes_are_its_two_criteria():
    P = np.array([[0.9, 0.55, 0.1], [0.95, 0.9, 0.85], [0.51, 0.2, 0.1], [0.9, 0.1, 0.05]])
    Y = np.array([[1, 0, 0], [0, 1, 0]])  # mean cardinality 1
    by_margin = AdaptiveMultilabel(beta=1.0).select(_ctx(P, Y), 4)
    assert by_margin.tolist() == list(np.argsort(separation_margin(P), kind="stable"))
    by_cardinality = AdaptiveMultilabel(beta=0.0).select(_ctx(P, Y), 1)
    assert by_cardinality.tolist() == [1]  # predicts 3 labels against a mean of 1
    with pytest.raises(ValueError, match="beta must be"):
        AdaptiveMultilabel(beta=1.5)


def test_adaptive_auto_picks_a_grid_value_and_repeats(data):
    X, Y = data
    picks = []
    for _ in range(2):
        strategy = AdaptiveMultilabel(betas=(0.0, 0.5, 1.0))
        learner = ActiveLearner(_ovr(), strategy, classes=4, random_state=0)
        learner.fit(X, np.arange(20), Y[:20])
        picks.append(learner.query(5).tolist())
        assert learner.strategy_.beta_ in (0.0, 0.5, 1.0)
    assert picks[0] == picks[1]


# ---------------------------------------------------------------- metrics
def test_metrics_match_scikit_learn(data):
    _, Y = data
    rng = np.random.default_rng(0)
    Y_pred = np.where(rng.random(Y.shape) < 0.2, 1 - Y, Y)
    m = multilabel_metrics(Y, Y_pred)
    assert m["f1_micro"] == pytest.approx(f1_score(Y, Y_pred, average="micro"))
    assert m["f1_macro"] == pytest.approx(f1_score(Y, Y_pred, average="macro"))
    assert m["hamming_loss"] == pytest.approx(hamming_loss(Y, Y_pred))
    assert m["subset_accuracy"] == pytest.approx(np.mean((Y_pred == Y).all(axis=1)))
    assert 0 < m["subset_accuracy"] < m["f1_micro"] < 1
    assert f1_macro(Y, np.zeros_like(Y)) == 0.0
    with pytest.raises(ValueError, match="neg_hamming_loss"):
        get_scorer("hamming_loss")


def test_metrics_score_one_label_as_a_label_and_refuse_non_indicators():
    # one label (a single column): F1 of that label, not the accuracy over classes 0 and 1
    m = multilabel_metrics([[1], [0]], [[1], [1]])
    assert m["f1_micro"] == pytest.approx(2 / 3) and m["f1_macro"] == pytest.approx(2 / 3)
    assert m["hamming_loss"] == 0.5 and m["subset_accuracy"] == 0.5
    assert f1_micro(np.array([[True, False]]), [[1, 0]]) == 1.0  # booleans are 0/1
    for Y_pred, match in [
        ([[0.9, 0.2], [0.3, 0.8]], r"Y_pred\[0, 0\] is 0.9; .*threshold probabilities"),
        ([[1, -1], [-1, 1]], r"Y_pred\[0, 1\] is -1"),
        ([[1, 0], [1, np.nan]], r"Y_pred\[1, 1\] is nan"),
        ([1, 0], r"Y_pred must be a 0/1 indicator matrix .* shape \(2,\)"),
        ([[1, 0, 1], [0, 1, 1]], r"Y_true has shape \(2, 2\) but Y_pred \(2, 3\)"),
    ]:
        with pytest.raises(ValueError, match=match):
            multilabel_metrics([[1, 0], [1, 1]], Y_pred)
    with pytest.raises(ValueError, match="Y_true"):
        f1_micro([[1, -1], [-1, 1]], [[1, 0], [0, 1]])  # f1 scored -1/1 codes as 1.0 before
    # a text among the numbers: the cell that holds it (it named cell [0, 0], holding '0')
    with pytest.raises(ValueError, match=r"Y_pred\[0, 1\] is 'x'"):
        multilabel_metrics([[1, 0]], [["0", "x"]])
    with pytest.raises(ValueError, match=r"Y_pred\[0, 1\] is None"):  # was an AttributeError
        multilabel_metrics([[1, 0]], np.array([[1, None]], dtype=object))


def test_the_learner_check_names_the_text_cell_and_takes_sparse_rows():
    from scipy import sparse

    from activelab.multilabel import check_indicator

    with pytest.raises(
        ValueError, match=r"Label row 0 has value 'x' for label 'b'; .*to_indicator"
    ):
        check_indicator([[0, "x"]], label_names=["a", "b"])  # it named the valid '0'
    assert check_indicator(sparse.csr_matrix([[0, 1], [1, 0]])).tolist() == [[0, 1], [1, 0]]


def test_run_campaign_on_multilabel_targets(data):
    X, Y = data
    Xp, Xt, Yp, Yt = split_pool_test(X, Y, seed=0)
    for scoring in ("f1_micro", "neg_hamming_loss"):
        r = run_campaign(
            _ovr(),
            "binmin",
            Xp,
            Yp,
            Xt,
            Yt,
            initial=6,
            batch_size=8,
            budget=46,
            seed=0,
            scoring=scoring,
        )
        assert r.n_labels == [6, 14, 22, 30, 38, 46]
        assert np.isfinite(r.scores[-1])
        model = ActiveLearner(_ovr(), "binmin", classes=4).fit(Xp, np.arange(46), Yp[:46]).model_
        expected = SCORERS[scoring](model, Xt, Yt)
        assert (scoring == "f1_micro") == (expected > 0)
    assert r.scores[-1] <= 0  # a negated loss
    assert np.isfinite(aulc(r.n_labels, r.scores))


@pytest.mark.parametrize(
    ("scoring", "message"),
    [
        ("hamming_loss", "use scoring='neg_hamming_loss'"),
        (
            "f1",
            "scoring='f1' scores one class of a single label; for a multi-label target use "
            "'f1_micro'",
        ),
        ("r2", "scoring='r2' scores a quantity, and the target is a 0/1 label matrix"),
    ],
)
def test_run_campaign_names_the_multilabel_scorer_to_use(data, scoring, message):
    """scikit-learn's own words were "not a valid scoring value", "average='binary'", or,
    for r2, a curve of R² over 0/1 cells."""
    X, Y = data
    Xp, Xt, Yp, Yt = split_pool_test(X, Y, seed=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        run_campaign(_ovr(), "binmin", Xp, Yp, Xt, Yt, initial=6, budget=20, scoring=scoring)


# ---------------------------------------------------------------- data
def test_load_yeast_matches_rivers_stream():
    from river.datasets import Yeast

    X, Y = load_yeast()
    assert X.shape == (2417, 103) and Y.shape == (2417, 14)
    assert set(np.unique(Y)) == {0, 1} and 4.0 < Y.sum(axis=1).mean() < 4.5
    for i, (x, y) in enumerate(Yeast()):
        if i in (0, 1, 2416):
            assert X[i].tolist() == [x[f"Att{k}"] for k in range(1, 104)]
            assert Y[i].tolist() == [int(y[f"Class{k}"]) for k in range(1, 15)]


def test_predicts_label_sets_reads_one_row_of_any_pool():
    # rank_pool, activelab query and ConfidenceCriterion share this one test of a multi-label
    # model; each took the first row its own way (a Dask frame's head, X[:1], take_rows)
    import dask.array as da
    import pandas as pd
    from scipy import sparse
    from sklearn.neighbors import KNeighborsClassifier

    from activelab.cli.query import _task_of
    from activelab.multilabel._model import _predicts_label_sets

    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    multi = KNeighborsClassifier(n_neighbors=1).fit(X, [[1, 0], [0, 1], [1, 1]])
    single = KNeighborsClassifier(n_neighbors=1).fit(X, [0, 1, 1])
    pools = [X, sparse.csr_matrix(X), pd.DataFrame(X), da.from_array(X, chunks=2)]
    for pool in pools:
        assert _predicts_label_sets(multi, pool) and not _predicts_label_sets(single, pool)
        assert _task_of(multi, pool) == "multilabel" and _task_of(single, pool) == "classification"
    assert not _predicts_label_sets(multi, X[:0])  # no row to tell by


class _ProbaOnly:  # predict_proba without predict: one label per item
    def predict_proba(self, X):
        return np.tile([[0.9, 0.5]], (len(X), 1))


class _IndicatorRows(_ProbaOnly):  # the same matrix, each column one label's P(yes)
    def predict(self, X):
        return np.ones((len(X), 2), dtype=int)


def test_confidence_criterion_tells_label_sets_by_the_prediction_of_one_row():
    from activelab.stopping import ConfidenceCriterion

    X = np.zeros((3, 2))
    crit = ConfidenceCriterion(threshold=0.0)
    crit.update(_IndicatorRows(), X, 3)  # each label's yes/no: 0.1 and 0.5
    crit.update(_ProbaOnly(), X, 3)  # the least confident class: 1 - 0.9
    assert np.allclose(crit.values_, [0.3, 0.1])


def test_label_sets_joined_by_semicolons_are_refused_alike_by_learner_simulate_and_app():
    # the command line refused "a;b" next to "a" as multi-label data; the library learnt it
    # as a class of its own, and a single-label project took it as a label
    from activelab.app.project import ProjectError, check_labels
    from activelab.multilabel import joined_label_set
    from activelab.simulation import simulate

    X = np.random.default_rng(0).normal(size=(24, 3))
    y = np.array(["a", "b", "a;b", "b"] * 6)
    learner = ActiveLearner(LogisticRegression(), "margin").fit(X, [0, 1], y[:2])
    with pytest.raises(ValueError, match=r"'a;b' reads as the labels \['a', 'b'\] of one item"):
        learner.teach([2], y[2:3])
    assert learner.n_labelled_ == 2  # nothing stored
    learner = ActiveLearner(LogisticRegression()).fit(X, [2, 3], ["a;b", "c"])  # "a;b" first
    with pytest.raises(ValueError, match=r"'a;b' reads as the labels"):
        learner.teach([0], ["a"])
    with pytest.raises(ValueError, match=r"to_indicator\(\[split_label_set\(v\)"):
        ActiveLearner(LogisticRegression(), classes=["a", "b", "b; a"]).fit(X)
    with pytest.raises(ValueError, match=r"'a;b' reads as the labels"):
        simulate(
            (X, y), LogisticRegression(), ["random"], seeds=1, n_initial=4, budget=8, progress=False
        )
    with pytest.raises(ProjectError, match=r"'a;b' reads as the labels \['a', 'b'\]"):
        check_labels(["a", "b", "a;b"])
    # one label whose name holds a ';' is no set: none of its parts is a label
    assert joined_label_set(["rock;pop", "jazz"]) is None
    assert check_labels(["rock;pop", "jazz"]) == ["rock;pop", "jazz"]
    learner = ActiveLearner(LogisticRegression()).fit(X, [0, 1], ["rock;pop", "jazz"])
    assert learner.classes_.tolist() == ["jazz", "rock;pop"]
