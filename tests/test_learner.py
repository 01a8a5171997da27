import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from activelab import ActiveLearner, NotFittedError
from activelab.strategies import AutoStrategy, Explore, RareAuto, get_strategy


@pytest.fixture
def learner(iris):
    X, y = iris
    init = np.array([0, 50, 100, 1, 51, 101])
    return ActiveLearner(
        LogisticRegression(max_iter=500), "margin", random_state=0, classes=[0, 1, 2]
    ).fit(X, init, y[init])


def _state(learner):
    return (
        learner.labelled_.copy(),
        learner.labels_.copy(),
        learner.model_,
        learner.unlabelled_.copy(),
    )


def _assert_unchanged(learner, before):
    after = _state(learner)
    assert np.array_equal(before[0], after[0])
    assert np.array_equal(before[1], after[1])
    assert before[2] is after[2]
    assert np.array_equal(before[3], after[3])


def test_loop_improves_the_model(iris):
    X, y = iris
    learner = ActiveLearner(LogisticRegression(max_iter=500), "margin", random_state=0).fit(X)
    for _ in range(6):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    assert learner.n_labelled_ == 30
    assert learner.score(X, y) > 0.9
    assert learner.predict(X[:3]).shape == (3,)
    assert learner.predict_proba(X[:3]).shape == (3, 3)


def test_starts_from_zero_labels_with_named_cold_start(iris):
    X, y = iris
    learner = ActiveLearner(LogisticRegression(), "entropy", random_state=0).fit(X)
    assert learner.model_ is None
    idx = learner.query(3)
    rec = learner.history_[-1]
    assert rec.cold_start and rec.strategy == "typicality"
    learner.teach(idx, y[idx])
    learner.query(2)
    assert learner.history_[-1].strategy == "entropy"
    with pytest.raises(NotFittedError):
        ActiveLearner(LogisticRegression()).fit(X).predict(X)


def test_nan_and_inf_in_pool_are_refused_naming_the_row():
    X = np.ones((5, 3))
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="row 3, column 1"):
        ActiveLearner(LogisticRegression()).fit(X)
    Xs = sp.csr_matrix(np.eye(4))
    Xs.data[2] = np.nan
    with pytest.raises(ValueError, match="row 2, column 2"):
        ActiveLearner(LogisticRegression()).fit(Xs)


def test_nan_in_a_dataframe_pool_names_its_column_and_index_label():
    pd = pytest.importorskip("pandas")
    pool = pd.DataFrame(
        {"city": ["paris", "rome", "oslo"], "age": [30.0, 40.0, 50.0], "income": [1.0, np.nan, 2]},
        index=["u1", "u2", "u3"],
    )  # the text column comes first: a position among the numeric columns would name "age"
    with pytest.raises(ValueError, match=r"at row 1 \(index 'u2'\), column 'income'\."):
        ActiveLearner(LogisticRegression()).fit(pool)
    with pytest.raises(ValueError, match=r"at row 1, column 'income'\."):
        ActiveLearner(LogisticRegression()).fit(pool.reset_index(drop=True))


def _with_nan(X, share=0.1):
    X = np.array(X, dtype=float)
    X[np.random.default_rng(1).random(X.shape) < share] = np.nan
    return X


def test_nan_is_taken_by_a_pipeline_that_imputes_and_strategies_read_its_rows(iris):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = iris
    Xn = _with_nan(X)
    est = make_pipeline(StandardScaler(), SimpleImputer(), LogisticRegression(max_iter=500))
    for strategy in ("margin", "kcenter", "probcover", "density"):
        learner = ActiveLearner(est, strategy, random_state=0).fit(Xn)  # cold start: typicality
        for _ in range(3):
            idx = learner.query(4)
            learner.teach(idx, y[idx])
        assert learner.model_ is not None and learner.score(Xn, y) > 0.5
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at row .*SimpleImputer"):
        ActiveLearner(LogisticRegression()).fit(Xn)  # no imputer: refused, naming the fix
    Xi = Xn.copy()
    Xi[4, 2] = np.inf  # an imputer fills NaN only
    with pytest.raises(ValueError, match=r"infinite value \(inf\) at row 4, column 2"):
        ActiveLearner(est).fit(Xi)


def test_nan_with_a_model_that_takes_it_refuses_feature_strategies_in_one_line(iris):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = iris
    Xn = _with_nan(X)
    est = HistGradientBoostingClassifier(max_iter=10)
    learner = ActiveLearner(est, "margin", cold_start="random", random_state=0).fit(Xn)
    for _ in range(2):
        idx = learner.query(10)
        learner.teach(idx, y[idx])
    assert learner.history_[-1].strategy == "margin"
    with pytest.raises(ValueError, match=r"the cold start 'typicality' places items by"):
        ActiveLearner(est).fit(Xn).query(2)
    lab = np.r_[0:5, 50:55, 100:105]
    learner = ActiveLearner(est, "kcenter", random_state=0).fit(Xn, lab, y[lab])
    with pytest.raises(ValueError, match=r"NaN .*strategy 'kcenter' places .*SimpleImputer"):
        learner.query(2)
    with pytest.raises(ValueError, match=r"NaN .*this strategy places .*SimpleImputer"):
        get_strategy("kcenter").select(learner.context(), 2)  # called on the context directly
    learner = ActiveLearner(est, "badge", random_state=0).fit(Xn, lab, y[lab])
    with pytest.raises(ValueError, match=r"'badge' reads the rows .* hold NaN"):
        learner.query(2)
    with pytest.raises(ValueError, match=r"semi_supervised='spreading' spreads .* has NaN"):
        ActiveLearner(est, semi_supervised="spreading").fit(Xn)
    learner = ActiveLearner(est, semi_supervised="auto", cold_start="random").fit(Xn, lab, y[lab])
    assert learner.model_ is not None and learner.hybrid_method_ is None  # stays supervised


def test_nan_in_a_dataframe_column_the_pipeline_imputes_is_taken():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    pool = pd.DataFrame({"city": rng.choice(["paris", "rome"], 60), "age": rng.normal(40, 9, 60)})
    y = (pool["age"] > 40).to_numpy().astype(int)
    pool.loc[[3, 8], "age"] = np.nan
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), (SimpleImputer(), ["age"])
    )
    learner = ActiveLearner(make_pipeline(encode, LogisticRegression()), random_state=0)
    learner.fit(pool, [0, 1, 2, 4], y[[0, 1, 2, 4]])
    assert learner.query(3).shape == (3,)


def test_a_dataframe_pool_is_checked_chunk_by_chunk_without_a_float_copy_of_the_whole():
    import tracemalloc

    pd = pytest.importorskip("pandas")
    from activelab._validation import check_pool

    values = np.random.default_rng(0).normal(size=(20_000, 20)).astype(np.float32)
    pool = pd.DataFrame(values, columns=[f"f{i}" for i in range(20)])
    pool.insert(3, "city", "paris")  # not numeric: left out of the check
    tracemalloc.start()
    try:
        assert check_pool(pool, chunk_size=1_000) is pool
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < values.nbytes / 4  # a float64 copy of the whole pool would be 2 x its size
    pool.iloc[17_500, 7] = np.inf
    with pytest.raises(ValueError, match=r"\(inf\) at row 17500, column 'f6'\."):
        check_pool(pool, chunk_size=1_000)


@pytest.mark.parametrize(
    "texts",
    [["good film", "bad film"], np.array(["good film", "bad film"]), [["good film"], ["bad"]]],
)
def test_a_pool_of_texts_is_refused_naming_the_featurisers(texts):
    with pytest.raises(ValueError, match=r"holds texts \(such as 'good film'\).*TextEmbedder"):
        ActiveLearner(LogisticRegression()).fit(texts)


def test_label_for_already_labelled_index(learner):
    before = _state(learner)
    with pytest.raises(ValueError, match="Pool index 50 is already labelled"):
        learner.teach([7, 50], [0, 1])
    _assert_unchanged(learner, before)


def test_index_out_of_range(learner):
    before = _state(learner)
    with pytest.raises(IndexError, match="index 150 is out of range"):
        learner.teach([150], [0])
    with pytest.raises(IndexError, match="index -1 is out of range"):
        learner.teach([-1], [0])
    _assert_unchanged(learner, before)


def test_label_outside_fixed_classes(learner):
    before = _state(learner)
    with pytest.raises(ValueError, match="Label 7 is not one of the classes"):
        learner.teach([10, 11], [0, 7])
    _assert_unchanged(learner, before)


def test_repeated_index_and_length_mismatch(learner):
    before = _state(learner)
    with pytest.raises(ValueError, match="appears more than once"):
        learner.teach([10, 10], [0, 0])
    with pytest.raises(ValueError, match="2 indices but 1 labels"):
        learner.teach([10, 11], [0])
    _assert_unchanged(learner, before)


def test_failed_refit_rolls_back(iris):
    X, y = iris

    class Exploding(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            if len(y) > 6:
                raise RuntimeError("boom")
            return super().fit(X, y)

    init = np.array([0, 50, 100])
    learner = ActiveLearner(Exploding(), "margin").fit(X, init, y[init])
    before = _state(learner)
    with pytest.raises(RuntimeError, match="boom"):
        learner.teach([1, 2, 3, 4], y[[1, 2, 3, 4]])
    _assert_unchanged(learner, before)


def test_estimator_without_proba_refused_at_fit(iris):
    X, _ = iris
    with pytest.raises(TypeError, match=r"needs `predict_proba`.*CalibratedClassifier\(SVC"):
        ActiveLearner(SVC(), "entropy").fit(X)
    with pytest.raises(TypeError, match="estimator must be a scikit-learn estimator object"):
        ActiveLearner("logreg", "margin").fit(X)  # the simulator's model names are not objects


def test_estimator_class_instead_of_instance_is_refused_at_fit(iris):
    X, _ = iris
    learner = ActiveLearner(LogisticRegression, "margin")
    with pytest.raises(TypeError, match=r"the class LogisticRegression.*LogisticRegression\(\)"):
        learner.fit(X)
    assert learner._X is None


def test_get_strategy_names_an_unknown_parameter_and_those_it_takes():
    from activelab import get_strategy

    with pytest.raises(TypeError, match=r"no parameter 'bta' \(did you mean 'beta'\?\); it takes"):
        get_strategy("density", bta=1.0)
    with pytest.raises(TypeError, match="Strategy 'margin' takes no parameters, got 'beta'"):
        get_strategy("margin", beta=1.0)
    assert get_strategy("qbc", n_members=3).n_members == 3


def test_missing_predict_proba_names_the_model_to_wrap(iris):
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _ = iris
    with pytest.raises(TypeError, match=r"RidgeClassifier has none.*\(RidgeClassifier\(\.\.\.\)\)"):
        ActiveLearner(RidgeClassifier(), "entropy").fit(X)
    pipe = make_pipeline(StandardScaler(), SVC())
    with pytest.raises(TypeError, match=r"Pipeline \(final step SVC\) has none.*\(the_pipeline\)"):
        ActiveLearner(pipe, "entropy").fit(X)


def test_margin_works_with_decision_function_only(iris):
    X, y = iris
    init = np.array([0, 50, 100, 1, 51, 101])
    learner = ActiveLearner(SVC(), "margin", random_state=0).fit(X, init, y[init])
    assert learner.query(3).shape == (3,)


def test_unknown_strategy_lists_known_ones(iris):
    X, _ = iris
    with pytest.raises(ValueError, match=r"Known strategies: .*margin"):
        ActiveLearner(LogisticRegression(), "marginal").fit(X)


def test_string_labels(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    learner = ActiveLearner(LogisticRegression(max_iter=500), "entropy", random_state=1).fit(X)
    for _ in range(4):
        idx = learner.query(5)
        learner.teach(idx, names[idx])
    assert set(learner.predict(X)) <= set(names)


def test_labels_series_looked_up_by_index_label_is_refused():
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    pool = X.sample(frac=1, random_state=0)  # an integer index that is not the positions
    y_pool = y.loc[pool.index]
    learner = ActiveLearner(LogisticRegression(max_iter=500), random_state=0).fit(pool)
    idx = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"y\.iloc\[idx\]"):
        learner.teach(idx, y_pool[idx])  # label look-up: the answers of other items
    assert learner.n_labelled_ == 0
    learner.teach(idx, y_pool.iloc[idx])  # the rows at those positions
    learner.teach([3, 4], pd.Series(y_pool.iloc[[3, 4]].to_numpy()))  # a fresh list of answers
    np.testing.assert_array_equal(learner.labels_, y_pool.to_numpy()[:5])
    reset = ActiveLearner(LogisticRegression(max_iter=500)).fit(pool.reset_index(drop=True))
    reset.teach(idx, y_pool.iloc[idx])  # y kept its own index: by position is still right
    np.testing.assert_array_equal(reset.labels_, y_pool.to_numpy()[:3])


def test_index_labels_given_as_positions_name_get_indexer():
    pd = pytest.importorskip("pandas")
    pool = pd.DataFrame({"a": np.arange(6.0)}, index=[f"id{i}" for i in range(6)])
    learner = ActiveLearner(LogisticRegression()).fit(pool)
    with pytest.raises(TypeError, match=r"labels of the pool's index.*get_indexer\(ids\)"):
        learner.teach(["id1", "id2"], [0, 1])
    shifted = ActiveLearner(LogisticRegression()).fit(pool.set_axis(np.arange(6) + 100))
    with pytest.raises(IndexError, match=r"out of range.*labels of the pool's index"):
        shifted.teach([101, 102], [0, 1])
    with pytest.raises(IndexError, match=r"\(valid: 0 to 5\)\.$"):
        shifted.teach([7], [0])  # neither a position nor an index label: no hint


@pytest.mark.parametrize("seed", ["0", 1.5, -1])
def test_a_bad_random_state_is_refused_naming_the_accepted_kinds(iris, seed):
    X, _ = iris
    learner = ActiveLearner(LogisticRegression(), random_state=seed)
    with pytest.raises(ValueError, match=r"random_state must be a non-negative int, a numpy Gen"):
        learner.fit(X)
    assert learner._X is None


def test_a_bad_embed_is_refused_at_fit(iris):
    X, _ = iris
    learner = ActiveLearner(LogisticRegression(), embed="pca")
    with pytest.raises(ValueError, match=r"embed must be None, 'model' or a callable"):
        learner.fit(X)  # not at the first query
    assert learner._X is None


def test_an_embedding_array_is_refused_in_one_line(iris):
    X, _ = iris
    learner = ActiveLearner(LogisticRegression(), embed=np.zeros((150, 8)))
    with pytest.raises(ValueError, match=r"a callable .*, got an array of shape \(150, 8\)\.$"):
        learner.fit(X)  # was numpy's "truth value of an array ... is ambiguous"
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X)
    learner.embed = 5  # set again after fit
    with pytest.raises(ValueError, match=r"embed must be None, 'model' or a callable that maps"):
        learner.query(2)


def test_labels_for_the_whole_pool_name_the_items_to_pass(iris):
    X, y = iris
    learner = ActiveLearner(LogisticRegression()).fit(X)
    with pytest.raises(ValueError, match=r"as many labels as the pool has items.*y\[idx\]"):
        learner.teach([0, 50], y)
    with pytest.raises(
        ValueError, match=r"Got 2 indices but 3 labels; pass one label per index\.$"
    ):
        learner.teach([0, 50], y[:3])


def test_an_estimator_whose_cross_validation_needs_more_labels_names_min_labels(iris):
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=5)
    learner = ActiveLearner(search, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"GridSearchCV could not be fitted on 3 labels.*min_lab"):
        learner.teach([0, 50, 100], y[[0, 50, 100]])
    assert learner.n_labelled_ == 0
    learner = ActiveLearner(search, random_state=0, min_labels=15).fit(X)
    first = np.r_[0:5, 50:55, 100:105]
    learner.teach(first[:6], y[first[:6]])  # stored: the cold start stands in until 15
    assert learner.model_ is None and learner.history_ == []
    learner.teach(first[6:], y[first[6:]])
    assert learner.model_ is not None


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("min_labels", "5", r"min_labels must be a whole number >= 0, got '5'"),
        ("min_labels", 2.5, r"min_labels must be a whole number >= 0, got 2\.5"),
        ("chunk_size", "100", r"chunk_size must be a whole number >= 1, got '100'"),
        ("chunk_size", 0, r"chunk_size must be a whole number >= 1, got 0"),
        ("refit", "no", r"refit must be True or False, got 'no'"),
        ("multilabel", "yes", r"multilabel must be None, True or False, got 'yes'"),
    ],
)
def test_bad_settings_are_refused_at_fit(iris, param, value, message):
    X, _ = iris
    learner = ActiveLearner(LogisticRegression(), **{param: value})
    with pytest.raises(ValueError, match=message):
        learner.fit(X)
    assert learner._X is None


def test_a_strategy_class_is_refused_naming_an_instance_or_its_name(iris):
    from activelab.strategies import Explore, Margin

    X, _ = iris
    with pytest.raises(
        TypeError, match=r"got the class Margin; pass an instance, Margin\(\) or its name 'margin'"
    ):
        ActiveLearner(LogisticRegression(), Margin).fit(X)
    with pytest.raises(TypeError, match=r"got the class Margin"):
        Explore(Margin)


def test_embed_model_reads_a_searched_pipeline_and_warns_once_without_one():
    import warnings

    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.tile([0, 1], 20)
    double = FunctionTransformer(lambda Z: 2.0 * Z)
    pipe = make_pipeline(double, LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=2)
    learner = ActiveLearner(search, "kcenter", random_state=0, embed="model")
    learner.fit(X, np.arange(8), y[:8])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        embedding = learner.context().embed
    assert np.allclose(embedding(X[:3]), 2.0 * X[:3])
    learner = ActiveLearner(LogisticRegression(), "kcenter", random_state=0, embed="model")
    learner.fit(X, np.arange(8), y[:8])
    with pytest.warns(UserWarning, match=r'embed="model" reads .*LogisticRegression has none'):
        learner.query(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        learner.query(2)  # once per learner


def test_embed_model_without_a_pipeline_warns_only_for_a_strategy_that_reads_the_embedding():
    import warnings

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.tile([0, 1], 20)
    picks = {}
    for embed in (None, "model"):
        learner = ActiveLearner(LogisticRegression(), "margin", random_state=0, embed=embed)
        learner.fit(X, np.arange(8), y[:8])
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            picks[embed] = learner.query(3)
    assert np.array_equal(picks[None], picks["model"])
    learner = ActiveLearner(LogisticRegression(), "density", random_state=0, embed="model")
    learner.fit(X, np.arange(8), y[:8])
    with pytest.warns(UserWarning, match=r'embed="model" reads') as record:
        learner.query(2)
    assert record[0].filename == __file__  # points at the caller


def test_embed_model_reads_the_pipeline_of_a_multilabel_model_with_a_constant_label():
    import warnings

    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X = np.random.default_rng(0).normal(size=(30, 2))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0, np.zeros(30)].astype(int)  # the third: never on
    pipe = make_pipeline(FunctionTransformer(lambda Z: 3.0 * Z), KNeighborsClassifier(1))
    learner = ActiveLearner(pipe, "probcover", random_state=0, embed="model", multilabel=True)
    learner.fit(X, np.arange(10), Y[:10])
    assert type(learner.model_).__name__ == "ConstantLabelsClassifier"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        embedding = learner.context().embed
    assert np.allclose(embedding(X[:2]), 3.0 * X[:2])


def _picks(learners, X, y, rounds=3, n=3):
    """Interleaved campaigns: each learner queries and is taught in turn."""
    for learner in learners:
        learner.fit(X, [0, 50, 100, 1, 51, 101], y[[0, 50, 100, 1, 51, 101]])
    out = [[] for _ in learners]
    for _ in range(rounds):
        for picks, learner in zip(out, learners, strict=True):
            idx = learner.query(n)
            picks.append(idx.tolist())
            learner.teach(idx, y[idx])
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda: AutoStrategy(cv=None),
        lambda: RareAuto(cv=None),
        lambda: Explore("margin", share=0.5),
    ],
    ids=["auto", "auto_rare", "explore"],
)
def test_learners_sharing_a_strategy_instance_repeat_as_with_their_own(iris, make):
    # auto's bandit state (weights, its picks) lived on the instance: a second learner
    # given the same one read the first's, and neither repeated under its seed
    X, y = iris
    est = LogisticRegression(max_iter=300)
    alone = _picks([ActiveLearner(est, make(), random_state=3)], X, y)[0]
    shared = make()
    both = _picks([ActiveLearner(est, shared, random_state=3) for _ in range(2)], X, y)
    assert both == [alone, alone]
    assert not getattr(shared, "arm_history_", [])  # the instance given is never used itself


def test_clone_strategy_keeps_parameters_and_clones_inner_strategies():
    from activelab.strategies import Stochastic, clone_strategy, get_strategy

    stochastic = Stochastic(get_strategy("entropy"), power=2.0, uniform=0.1)
    twin = clone_strategy(stochastic)
    assert repr(twin) == repr(stochastic) and twin.base is not stochastic.base
    rare = RareAuto(positive_label="fraud", gamma=0.2, cv=None)
    twin = clone_strategy(rare)
    assert (twin.positive_label, twin.gamma, twin.cv, twin.arms) == ("fraud", 0.2, None, rare.arms)
