"""Regression in the learner and the replay loops, the design metrics and the chemistry extra."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

from activelab import ActiveLearner, NotFittedError
from activelab.data.chem import (
    SmilesError,
    load_chembl_series,
    morgan_fingerprints,
    parse_smiles,
    rdkit_descriptors,
)
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.simulation.design import (
    experiments_to_reach_rmse,
    run_design_campaign,
    run_regression_campaign,
    top_k_found,
    true_top_k,
)
from activelab.strategies.regression import expected_improvement


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


# ------------------------------------------------------------------ learner and run_campaign
def test_learner_with_a_regressor_has_no_classes(diabetes):
    X, y = diabetes
    learner = ActiveLearner(RandomForestRegressor(10, random_state=0), "variance", random_state=0)
    learner.fit(X, [0], y[:1])
    assert learner.model_ is None and learner.classes_ is None  # one label: no fit yet
    with pytest.raises(NotFittedError, match="a regressor is fitted from 2 labels on; 1 taught"):
        learner.predict(X)
    learner.teach([1], y[1:2])
    assert learner.model_ is not None and learner.context().classes is None


def test_classes_with_a_regressor_is_refused(diabetes):
    X, _y = diabetes
    with pytest.raises(ValueError, match="leave classes=None for regression"):
        ActiveLearner(Ridge(), "greedy", classes=[0, 1]).fit(X)


def test_text_targets_for_a_regressor_are_refused_with_the_label(diabetes):
    X, _ = diabetes
    with pytest.raises(ValueError, match=r"Label 'low' at position 0 is text, but Ridge is a regr"):
        ActiveLearner(Ridge(), "gsx").fit(X, [0, 1, 2], ["low", "mid", "high"])
    learner = ActiveLearner(Ridge(), "gsx").fit(X, [0], [1.0])
    with pytest.raises(ValueError, match="is text") as err:
        learner.teach([1], ["1.5"])
    assert "Ridge is a regressor" in str(err.value)
    assert "classes=" not in str(err.value)  # classes= is refused for a regressor
    assert learner.n_labelled_ == 1  # nothing stored from the refused call
    learner.teach([1, 2], np.array([1.5, 2], dtype=object))  # numbers as objects are fine
    assert learner.model_ is not None


@pytest.mark.parametrize(
    "scoring", ["neg_root_mean_squared_error", "neg_mean_absolute_error", "r2", None]
)
def test_run_campaign_regression_curves(diabetes, scoring):
    X, y = diabetes  # integer-valued float target: must not be taken for classes
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    r = run_campaign(
        RandomForestRegressor(10, random_state=0),
        "variance",
        Xp,
        yp,
        Xt,
        yt,
        initial=10,
        batch_size=10,
        budget=40,
        scoring=scoring,
    )
    assert r.n_labels == [10, 20, 30, 40]
    assert r.strategies_used[1:] == ["variance"] * 3
    scores = np.asarray(r.scores)
    assert np.isfinite(scores).all()
    if scoring and scoring.startswith("neg_"):
        assert (scores < 0).all()
    else:
        assert (scores < 1).all()


@pytest.mark.parametrize("scoring", ["accuracy", "f1_micro", "roc_auc"])
def test_run_campaign_refuses_a_classification_scorer_for_a_regressor(diabetes, scoring):
    X, y = diabetes
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    with pytest.raises(ValueError, match=f"scoring='{scoring}' scores classes, and Ridge is a"):
        run_campaign(Ridge(), "greedy", Xp, yp, Xt, yt, budget=20, scoring=scoring)


@pytest.mark.parametrize("count", [5.0, True])
def test_run_campaign_refuses_an_initial_count_that_is_not_a_whole_number(diabetes, count):
    """5.0 was read as the one index 5, True as one random item."""
    X, y = diabetes
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    with pytest.raises(ValueError, match=r"initial must be a whole number >= 0, got"):
        run_campaign(Ridge(), "gsx", Xp, yp, Xt, yt, initial=count, budget=20)


def test_split_of_a_continuous_target_is_not_stratified():
    y = np.repeat([1.5, 2.5], 20)  # two values, each twice: would stratify if discrete
    X = np.arange(40.0).reshape(-1, 1)
    a = split_pool_test(X, y, seed=0)[3]
    b = split_pool_test(X, y, seed=0, stratify=False)[3]
    assert np.array_equal(a, b)


# ------------------------------------------------------------------ design metrics
def test_top_k_found_counts_hits_in_order():
    y = np.array([5.0, 9.0, 1.0, 8.0, 7.0, 2.0])
    assert true_top_k(y, 3).tolist() == [1, 3, 4]
    assert top_k_found(y, [2, 1, 5, 4, 3], 3).tolist() == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert top_k_found(y, [2, 5], 2, maximize=False).tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="repeats"):
        top_k_found(y, [1, 1], 2)
    # a negative index counted the last item as tested; a fraction was cut to a whole number
    with pytest.raises(IndexError, match="tested index -1 is out of range"):
        top_k_found(y, [-1, 2], 2)
    with pytest.raises(TypeError, match="integers"):
        top_k_found(y, [0.7], 2)
    with pytest.raises(ValueError, match="k must be"):
        true_top_k(y, 0)


def test_an_unmeasured_value_is_refused_before_the_search(diabetes):
    """NaN sorted last, so an unmeasured item silently never counted as a hit (or stopped a
    campaign halfway when a strategy picked it)."""
    X, y = diabetes
    y = y.copy()
    y[[5, 9]] = np.nan
    with pytest.raises(ValueError, match=r"y is nan at index 5 \(2 value\(s\) not finite\)"):
        top_k_found(y, [0, 1], 5)
    with pytest.raises(ValueError, match="leave the unmeasured ones out"):
        run_design_campaign(Ridge(), "greedy", X, y, k=10, budget=30)


def test_experiments_to_reach_rmse_refuses_an_rmse_curve_and_mismatched_lengths():
    assert experiments_to_reach_rmse([5, 10, 15], [-3.0, -2.0, -1.0], 1.5) == 15
    # a plain RMSE curve met any target at its first point
    with pytest.raises(ValueError, match=r"neg_rmse holds positive values \(e.g. 3.0\)"):
        experiments_to_reach_rmse([5, 10, 15], [3.0, 2.0, 1.0], 1.5)
    with pytest.raises(ValueError, match="n_labels has 2 points but neg_rmse has 3"):
        experiments_to_reach_rmse([5, 10], [-3.0, -2.0, -1.0], 0.5)


def test_experiments_to_reach_rmse():
    assert experiments_to_reach_rmse([5, 10, 15], [-3.0, -2.0, -1.0], 2.0) == 10
    assert experiments_to_reach_rmse([5, 10], [-3.0, -2.5], 1.0) is None
    with pytest.raises(ValueError, match=r"target_rmse must be an RMSE \(0 or more\), got -2.0"):
        experiments_to_reach_rmse([5, 10], [-3.0, -2.5], -2.0)  # was None: never "reached"


def test_expected_improvement_matches_the_closed_form():
    from scipy.stats import norm

    mu, sd, best = 1.3, 0.7, 1.0
    z = (mu - best) / sd
    expected = (mu - best) * norm.cdf(z) + sd * norm.pdf(z)
    assert expected_improvement(np.array([mu]), np.array([sd]), best)[0] == pytest.approx(expected)
    # Monte Carlo check of the same quantity
    draws = np.random.default_rng(0).normal(mu, sd, 200_000)
    assert np.maximum(draws - best, 0).mean() == pytest.approx(expected, rel=0.02)


def test_expected_improvement_without_labels_says_so(diabetes, tmp_path):
    """`activelab query` ranks a pool without its labels: EI has no best to improve on."""
    import joblib
    from click.testing import CliRunner

    from activelab import QueryContext
    from activelab.cli import main
    from activelab.strategies.regression import ExpectedImprovement

    X, y = diabetes
    forest = RandomForestRegressor(10, random_state=0).fit(X[:40], y[:40])
    none = np.empty(0, dtype=np.int64)
    ctx = QueryContext(
        X=X[40:],
        candidates=np.arange(len(X) - 40),
        labelled=none,
        y_labelled=np.empty(0),
        model=forest,
    )
    with pytest.raises(ValueError, match="no labels were given; rank with 'ucb' or 'greedy'"):
        ExpectedImprovement().select(ctx, 3)
    joblib.dump(forest, tmp_path / "m.joblib")
    np.save(tmp_path / "pool.npy", X[40:])
    run = CliRunner().invoke(
        main,
        [
            "query",
            "--model",
            str(tmp_path / "m.joblib"),
            "--pool",
            str(tmp_path / "pool.npy"),
            "--strategy",
            "expected_improvement",
            "-n",
            "3",
        ],
    )
    assert run.exit_code == 1 and "no labels were given" in run.output
    assert "zero-size array" not in run.output and "Traceback" not in run.output


def test_design_campaign_greedy_beats_random_on_a_smooth_function():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    y = -np.sum((X - 0.6) ** 2, axis=1)
    est = RandomForestRegressor(20, random_state=0)
    kw = {"k": 20, "initial": 10, "batch_size": 10, "budget": 60}
    found = {
        s: np.mean(
            [run_design_campaign(est, s, X, y, seed=seed, **kw).found[-1] for seed in (0, 1)]
        )
        for s in ("greedy", "random")
    }
    assert found["greedy"] > found["random"] + 0.3
    r = run_design_campaign(est, "ucb", X, y, seed=0, **kw)
    assert r.n_tested == [10, 20, 30, 40, 50, 60]
    assert len(set(r.tested)) == 60
    assert r.found_after(60) == r.found[-1]
    assert r.best == sorted(r.best)


def test_design_campaign_refuses_bad_input():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="needs a regressor"):
        from sklearn.linear_model import LogisticRegression

        run_design_campaign(LogisticRegression(), "greedy", X, np.arange(10.0))
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        run_design_campaign(Ridge(), "greedy", X, np.arange(9.0))
    y = np.arange(10.0)
    # explicit initial indices are checked as the learner checks them: a fraction was cut to
    # a whole number, an index out of range was numpy's IndexError, a float count a TypeError
    with pytest.raises(
        TypeError, match=r"Indices must be integers, got float64 values such as 0\.5"
    ):
        run_design_campaign(Ridge(), "greedy", X, y, k=2, initial=[0.5, 3.7], budget=5)
    with pytest.raises(IndexError, match="initial index 12 is out of range for a pool of 10"):
        run_design_campaign(Ridge(), "greedy", X, y, k=2, initial=[1, 12], budget=5)
    for count in (5.0, True):
        with pytest.raises(ValueError, match=r"initial must be a whole number >= 0, got"):
            run_design_campaign(Ridge(), "greedy", X, y, k=2, initial=count, budget=5)
    r = run_design_campaign(Ridge(), "greedy", X, y, k=2, initial=np.array([4, 2]), budget=4)
    assert r.tested[:2] == [4, 2] and r.n_tested == [2, 4]


@pytest.mark.parametrize("strategy", ["greedy", "ucb", "expected_improvement", "thompson"])
def test_design_campaign_minimising_searches_for_the_smallest(strategy):
    from sklearn.linear_model import BayesianRidge

    from activelab.simulation.runner import _strategy_params
    from activelab.strategies import get_strategy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=300)
    r = run_design_campaign(
        BayesianRidge(), strategy, X, y, k=20, batch_size=10, budget=60, maximize=False
    )
    assert r.found[-1] > 0.5  # the strategy searched for the largest values: 0 found
    assert r.best[-1] == y.min()
    with pytest.raises(ValueError, match="strategy has maximize=True but the campaign"):
        run_design_campaign(
            BayesianRidge(), get_strategy(strategy), X, y, budget=20, maximize=False
        )
    # --minimize reached greedy and thompson only (ucb and EI take maximize through **kwargs)
    assert _strategy_params([strategy], None, True) == {strategy: {"maximize": False}}


# ------------------------------------------------------------------ chemistry
def test_rows_after_skipped_smiles_are_named_as_in_the_file(tmp_path):
    """A label problem after a skipped row was named one row too early (the kept rows' count)."""
    pytest.importorskip("rdkit")
    from activelab.data.datasets import load_table

    smiles = ["C" * k + "O" for k in range(1, 12)]
    smiles[3] = "CC("  # data row 4 does not parse
    values = [f"{0.3 * k:.1f}" for k in range(11)]
    path = tmp_path / "mols.csv"

    def write(vals: list[str]) -> None:
        path.write_text(
            "smiles,y\n" + "".join(f"{s},{v}\n" for s, v in zip(smiles, vals, strict=True))
        )

    write([*values[:5], "", *values[6:]])  # data row 6 has no value
    with pytest.raises(ValueError, match=r"no label in column 'y' \(the first: data row 6\)"):
        load_table(path, "y", smiles_column="smiles", skip_bad_rows=True)
    write([*values[:7], "high", *values[8:]])  # data row 8 is text
    with pytest.raises(ValueError, match=r"'y' has 'high' on data row 8 "):
        load_table(path, "y", smiles_column="smiles", skip_bad_rows=True, task="regression")


def test_unparsable_smiles_names_the_row():
    with pytest.raises(SmilesError, match=r"Row 3: cannot parse SMILES 'C1CC'"):
        parse_smiles(["CCO", "c1ccccc1", "C1CC", "CCN"])
    with pytest.raises(SmilesError, match="Row 1"):
        morgan_fingerprints([""])


def test_rdkit_parse_errors_are_silent(capfd):
    with pytest.raises(SmilesError):
        parse_smiles(["C(C"])
    assert "SMILES Parse Error" not in capfd.readouterr().err


def test_morgan_fingerprints():
    fp = morgan_fingerprints(["CCO", "CCCO", "c1ccccc1"], radius=2, n_bits=512)
    assert fp.shape == (3, 512) and set(np.unique(fp)) <= {0, 1}
    assert not np.array_equal(fp[0], fp[1])
    counts = morgan_fingerprints(["CCCCCC"], n_bits=512, counts=True)
    assert counts.max() > 1
    small = morgan_fingerprints(["CCCCCCO"], radius=0, n_bits=512)
    assert small.sum() < morgan_fingerprints(["CCCCCCO"], radius=3, n_bits=512).sum()
    sparse = morgan_fingerprints(["CCO"], n_bits=64, sparse=True)
    assert sparse.shape == (1, 64) and sparse.nnz > 0


def test_descriptors():
    values, names = rdkit_descriptors(["CCO", "c1ccccc1O"])
    assert values.shape == (2, len(names)) and np.isfinite(values).all()
    assert values[1, names.index("NumAromaticRings")] == 1
    with pytest.raises(ValueError, match="Unknown RDKit descriptor"):
        rdkit_descriptors(["CCO"], ["NotADescriptor"])


def test_chembl_series_loads_and_joins_by_id():
    s = load_chembl_series()
    assert len(s) == 1017 == len(s.pic50) == len(s.ids)
    assert np.unique(s.ids).shape[0] == 1017
    assert s.pic50.min() > 4.0 and s.pic50.max() < 10.0
    # the first row of the activity file, joined to its SMILES
    assert s.ids[0] == 1520012 and s.pic50[0] == pytest.approx(5.48)
    assert s.smiles[0].startswith("O=S(=O)(Nc1cccs1)")


def test_regression_campaign_stops_at_the_target_rmse(diabetes):
    X, y = diabetes
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=1)
    kw = {"initial": 10, "batch_size": 10, "budget": 60, "seed": 1}
    full = run_regression_campaign(Ridge(0.1), "gsx", Xp, yp, Xt, yt, **kw)
    assert full.campaign.n_labels == [10, 20, 30, 40, 50, 60]
    assert full.campaign.scores == pytest.approx([-r for r in full.rmse])
    target = full.rmse[2]
    stopped = run_regression_campaign(Ridge(0.1), "gsx", Xp, yp, Xt, yt, stop_rmse=target, **kw)
    reach = experiments_to_reach_rmse(full.campaign.n_labels, full.campaign.scores, target)
    assert stopped.campaign.n_labels[-1] == reach <= 30
    assert stopped.rmse == full.rmse[: len(stopped.rmse)]
    never = run_regression_campaign(Ridge(0.1), "gsx", Xp, yp, Xt, yt, stop_rmse=0.0, **kw)
    assert never.campaign.n_labels == full.campaign.n_labels


def test_rdkit_logging_is_restored_after_parsing(capfd):
    from rdkit import Chem

    with pytest.raises(SmilesError):
        parse_smiles(["C1CC"])
    Chem.MolFromSmiles("C1CC")  # outside activelab, RDKit reports as usual
    assert "SMILES Parse Error" in capfd.readouterr().err


def test_campaigns_take_seed_none_and_refuse_fractional_counts() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    kw = dict(initial=6, batch_size=6, budget=18)
    r = run_campaign(LogisticRegression(), "entropy", Xp, yp, Xt, yt, seed=None, **kw)
    assert isinstance(r.seed, int) and r.n_labels == [6, 12, 18]  # was a TypeError
    with pytest.raises(ValueError, match=r"batch_size must be a positive whole number, got 5\.5"):
        run_campaign(LogisticRegression(), "entropy", Xp, yp, Xt, yt, **{**kw, "batch_size": 5.5})
    Xr, yr = load_diabetes(return_X_y=True)
    d = run_design_campaign(Ridge(), "greedy", Xr[:100], yr[:100], k=5, budget=20, seed=None)
    assert isinstance(d.seed, int)
    with pytest.raises(ValueError, match=r"budget must be a whole number >= 0, got 20\.5"):
        run_design_campaign(Ridge(), "greedy", Xr[:100], yr[:100], k=5, budget=20.5)
    c = run_regression_campaign(
        Ridge(),
        "gsx",
        Xr[:100],
        yr[:100],
        Xr[100:],
        yr[100:],
        initial=10,
        batch_size=10,
        budget=20,
        seed=None,
        stop_rmse=1.0,
    )
    assert isinstance(c.campaign.seed, int)


def test_labels_too_large_to_square_are_refused_before_any_fit():
    from activelab.simulation import simulate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X[:, 0] * 1e300
    with pytest.raises(ValueError, match=r"y_pool holds labels as large as .*rescale them"):
        run_campaign(Ridge(), "random", X[:30], y[:30], X[30:], y[30:], initial=5, budget=10)
    with pytest.raises(ValueError, match=r"too large to square in float64.*divide them by 1e\+"):
        simulate(
            (X, y),
            Ridge(),
            ["random"],
            n_initial=5,
            batch_size=5,
            budget=10,
            seeds=1,
            progress=False,
        )
    with pytest.raises(ValueError, match=r"y_pool holds labels as large as"):
        run_regression_campaign(
            Ridge(), "random", X[:30], y[:30], X[30:], y[30:], initial=5, budget=10, stop_rmse=1.0
        )
    r = run_campaign(
        Ridge(),
        "random",
        X[:30],
        y[:30] * 1e-150,
        X[30:],
        y[30:] * 1e-150,
        initial=5,
        budget=10,
        scoring="r2",
    )
    assert np.isfinite(r.scores).all()
