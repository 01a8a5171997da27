"""Agreement figures against hand-computed values, Dawid–Skene on simulated annotators,
second-opinion values, the cost model and the multi-annotator simulator."""

from __future__ import annotations

import re

import numpy as np
import pytest

from activelab.annotators.aggregate import dawid_skene, majority_vote, soft_rows
from activelab.annotators.agreement import (
    krippendorff_alpha,
    pairwise_kappa,
    percent_agreement,
)
from activelab.annotators.cost import CostModel
from activelab.annotators.second_opinion import (
    answer_value,
    choose_requests,
    fit_model_weight,
    relabel_value,
)
from activelab.annotators.simulated import (
    SimulatedAnnotators,
    class_dependent,
    one_careless,
    uniform_noise,
)
from activelab.simulation.annotated import run_annotated_campaign


def test_kappa_hand_computed() -> None:
    # a: 0 0 1 1 1 ; b: 0 1 1 1 0 -> po = 3/5; pa = (2/5, 3/5), pb = (2/5, 3/5)
    # pe = 0.16 + 0.36 = 0.52; kappa = (0.6 - 0.52) / 0.48 = 1/6
    items = np.repeat(np.arange(5), 2)
    who = np.tile([0, 1], 5)
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 0])
    k = pairwise_kappa(items, who, labels)
    assert k[0, 1] == pytest.approx(1 / 6)
    assert k[1, 0] == k[0, 1]
    assert np.isnan(k[0, 0])


def test_kappa_pairs_without_shared_items_are_nan() -> None:
    k = pairwise_kappa(np.array([0, 1, 0]), np.array([0, 1, 2]), np.array([1, 1, 0]))
    assert np.isnan(k[0, 1]) and np.isnan(k[1, 2])


def test_agreement_before_any_answer_is_undefined_not_an_error() -> None:
    none = np.array([], dtype=np.int64)
    assert pairwise_kappa(none, none, none).shape == (0, 0)
    assert np.isnan(pairwise_kappa(none, none, none, n_annotators=2)).all()
    assert np.isnan(krippendorff_alpha(none, none)) and np.isnan(percent_agreement(none, none))


def test_krippendorff_alpha_hand_computed() -> None:
    # items: {a, a, b}, {a, a}, {b, b, b}, {a}  (the last one is ignored)
    # coincidences, weight 1/(m-1): item 1 (m=3): o_aa = 2*1/2 = 1, o_ab = o_ba = 2*1/2 = 1
    # item 2: o_aa += 2 ; item 3 (m=3): o_bb += 6/2 = 3
    # o = [[3, 1], [1, 3]], n = 8, n_a = n_b = 4
    # alpha = 1 - (n-1) (n - trace o) / (n^2 - sum n_c^2) = 1 - 7 * 2 / (64 - 32) = 0.5625
    items = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    labels = np.array([0, 0, 1, 0, 0, 1, 1, 1, 0])
    assert krippendorff_alpha(items, labels) == pytest.approx(0.5625)
    # pairs: item 0 agrees on 1 of 3 pairs, items 1 and 2 on all
    assert percent_agreement(items, labels) == pytest.approx((1 / 3 + 1 + 1) / 3)


def test_krippendorff_alpha_matches_kappa_regime() -> None:
    # perfect agreement is 1; no repeated items is nan
    assert krippendorff_alpha(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])) == 1.0
    assert np.isnan(krippendorff_alpha(np.array([0, 1]), np.array([0, 1])))


def _answers(sim, n: int, per_item: int, seed: int):
    """``n`` items of random classes, each answered by ``per_item`` different annotators of
    ``sim``: (items, annotators, labels, true classes), one entry per answer."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, sim.n_classes, n)
    who = np.argsort(rng.random((n, sim.n_annotators)), axis=1)[:, :per_item].ravel()
    items = np.repeat(np.arange(n), per_item)
    return items, who, sim.answer(items, who, y, rng), y


@pytest.mark.parametrize(
    "make",
    [
        lambda: uniform_noise(4, [0.05, 0.15, 0.25, 0.35], n_classes=4),
        lambda: class_dependent(4, 0.25, n_classes=4, seed=1),
        lambda: one_careless(4, n_classes=4, noise=0.1, careless_noise=0.6),
    ],
)
@pytest.mark.parametrize("confusion", ["full", "one_coin", "shrunk"])
def test_dawid_skene_recovers_annotator_accuracy(make, confusion: str) -> None:
    sim = make()
    n = 600
    items, who, labels, y = _answers(sim, n, 3, seed=0)  # each item: 3 of the 4 annotators
    ds = dawid_skene(items, who, labels, n_items=n, n_classes=sim.n_classes, confusion=confusion)
    true_acc = np.bincount(who, weights=labels == y[items]) / np.bincount(who)
    assert np.abs(ds.accuracy - true_acc).max() < 0.05
    mv = majority_vote(items, labels, n_items=n, n_classes=sim.n_classes)
    assert np.mean(ds.labels == y) >= np.mean(mv.labels == y) - 0.005
    if np.ptp(true_acc) > 0.1:  # a real spread of quality: the ranking is recovered
        assert np.corrcoef(ds.accuracy, true_acc)[0, 1] > 0.95


def test_one_coin_confusion_spreads_errors_evenly() -> None:
    sim = class_dependent(3, 0.3, n_classes=4, seed=2)
    n = 400
    items, who, labels, _ = _answers(sim, n, 2, seed=5)
    coin = dawid_skene(items, who, labels, n_items=n, n_classes=4, confusion="one_coin")
    off = coin.confusion[:, ~np.eye(4, dtype=bool)].reshape(3, -1)
    assert np.allclose(off, off[:, :1])  # one error rate per annotator
    assert np.allclose(np.diagonal(coin.confusion, axis1=1, axis2=2), coin.accuracy[:, None])
    full = dawid_skene(items, who, labels, n_items=n, n_classes=4)
    shrunk = dawid_skene(items, who, labels, n_items=n, n_classes=4, confusion="shrunk")
    # the shrunk model is a full matrix: it sees the class-dependent errors
    assert not np.allclose(shrunk.confusion[:, ~np.eye(4, dtype=bool)], off.ravel()[0])
    assert np.mean(shrunk.labels == full.labels) > 0.9
    with pytest.raises(ValueError, match="Unknown confusion model 'coin'"):
        dawid_skene(items, who, labels, n_items=n, n_classes=4, confusion="coin")


def test_auto_keeps_the_full_model_only_where_the_answers_pay_for_it() -> None:
    # errors that go to one confusable class, three answers per item: the full model
    sim = class_dependent(4, 0.3, n_classes=4, seed=1)
    items, who, labels, y = _answers(sim, 600, 3, seed=0)
    auto = dawid_skene(items, who, labels, n_items=600, n_classes=4, confusion="auto")
    coin = dawid_skene(items, who, labels, n_items=600, n_classes=4, confusion="one_coin")
    assert auto.annotator_model == "full"
    assert np.mean(auto.labels == y) > np.mean(coin.labels == y)
    # uniform errors: one number per annotator says it all
    sim = uniform_noise(4, [0.05, 0.15, 0.25, 0.35], n_classes=4)
    items, who, labels, y = _answers(sim, 600, 3, seed=0)
    auto = dawid_skene(items, who, labels, n_items=600, n_classes=4, confusion="auto")
    assert auto.annotator_model == "one_coin"
    assert dawid_skene(items, who, labels, n_items=600, n_classes=4).annotator_model == "full"


def test_simulated_answers_follow_confusion() -> None:
    sim = uniform_noise(2, [0.0, 0.3], n_classes=3)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 5000)
    items = np.arange(5000)
    perfect = sim.answer(items, np.zeros(5000, int), y, rng)
    noisy = sim.answer(items, np.ones(5000, int), y, rng)
    assert np.array_equal(perfect, y)
    assert np.mean(noisy != y) == pytest.approx(0.3, abs=0.02)
    with pytest.raises(ValueError, match="probabilities"):
        SimulatedAnnotators(np.full((1, 2, 2), 0.7))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: uniform_noise(3, 0.2, n_classes=1), "n_classes must be a whole number >= 2"),
        (lambda: class_dependent(3, 0.2, n_classes=1), "n_classes must be a whole number >= 2"),
        (lambda: one_careless(0, n_classes=3), "n_annotators must be a positive whole number"),
        (lambda: class_dependent(3, 1.5, n_classes=3), "noise must lie in [0, 1], got 1.5."),
        (lambda: class_dependent(3, -0.2, n_classes=3), "noise must lie in [0, 1], got -0.2."),
        (lambda: uniform_noise(3, np.nan, n_classes=3), "noise must lie in [0, 1], got nan."),
        (
            lambda: one_careless(3, n_classes=3, careless_noise=1.2),
            "careless_noise must lie in [0, 1], got 1.2.",
        ),
        (
            lambda: uniform_noise(3, [0.1, 0.2], n_classes=3),
            "noise must be one value or one per annotator (3), got shape (2,).",
        ),
    ],
)
def test_simulated_panels_refuse_bad_sizes_and_noise_in_one_line(make, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: dawid_skene(
                np.array([0, 0, 1]),
                np.array([0, 2, 1]),
                np.array([0, 1, 1]),
                n_items=2,
                n_classes=2,
                n_annotators=2,
            ),
            "annotator indices must lie in [0, 2), got 2; pass n_annotators large enough.",
        ),
        (
            lambda: majority_vote(
                np.array([0, 0]),
                np.array([0, 1]),
                n_items=1,
                n_classes=2,
                annotators=np.array([0, -1]),
                n_annotators=2,
            ),
            "annotator indices must lie in [0, 2), got -1",
        ),
        (
            lambda: krippendorff_alpha(np.array([0, 0]), np.array([0, -1])),
            "labels must be class indices 0 or more, got -1",
        ),
        (
            lambda: krippendorff_alpha(np.array([0, 0]), np.array([0, 3]), n_classes=2),
            "labels must be class indices in [0, 2), got 3",
        ),
        (
            lambda: percent_agreement(np.array([-1, 0]), np.array([0, 1])),
            "item indices must be 0 or more, got -1.",
        ),
        (  # used to give a silent [[nan]]
            lambda: pairwise_kappa(np.array([0, 0]), np.array([0]), np.array([0, 1])),
            "items, annotators and labels must have one entry per answer each, got lengths "
            "2, 1 and 2.",
        ),
        (
            lambda: pairwise_kappa(
                np.array([0, 0]), np.array([0, 3]), np.array([0, 1]), n_annotators=2
            ),
            "annotator indices must lie in [0, 2)",
        ),
        (  # names the index at fault, as majority_vote and dawid_skene do
            lambda: pairwise_kappa(
                np.array([0, 0]), np.array([-1, 1]), np.array([0, 1]), n_annotators=2
            ),
            "annotator indices must lie in [0, 2), got -1; pass n_annotators large enough.",
        ),
    ],
)
def test_bad_answer_indices_are_one_line_errors(call, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_soft_rows_weights_sum_to_one() -> None:
    rows, _, w = soft_rows(np.array([3, 4]), np.array([[0.97, 0.02, 0.01], [0.4, 0.35, 0.25]]))
    assert rows.tolist() == [3, 4, 4, 4]
    assert np.bincount(rows, weights=w)[[3, 4]] == pytest.approx([1.0, 1.0])


def test_relabel_value_prefers_disputed_items() -> None:
    conf = uniform_noise(1, 0.2, n_classes=3).confusion[0]
    posterior = np.array([[0.98, 0.01, 0.01], [0.5, 0.5, 0.0], [0.9, 0.05, 0.05]])
    model = np.array([[0.9, 0.05, 0.05], [0.5, 0.45, 0.05], [0.1, 0.85, 0.05]])
    v = relabel_value(posterior, model, conf)
    assert v[0] < v[1] and v[0] < v[2]
    assert (answer_value(np.eye(3), conf) == 0).all()  # certain items gain nothing
    new, old = choose_requests(np.array([0.01, 0.02]), v, 2)
    assert new.size == 0 and set(old.tolist()) == {1, 2}
    # with costs, a cheap new item beats a dear re-label of the same value
    new, old = choose_requests(
        np.array([0.3]), np.array([0.3]), 1, new_cost=np.array([1.0]), relabel_cost=np.array([5.0])
    )
    assert new.tolist() == [0] and old.size == 0


def test_fit_model_weight_follows_the_model_s_reliability() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    posterior = np.eye(3)[y]
    sharp = np.full((300, 3), 0.1)
    sharp[np.arange(300), y] = 0.8  # right and a little under-confident
    noise = np.full((300, 3), 0.1)
    noise[np.arange(300), rng.integers(0, 3, 300)] = 0.8  # confident, right a third of the time
    assert fit_model_weight(sharp, posterior) > 1.0
    assert fit_model_weight(noise, posterior) == 0.0
    assert fit_model_weight(np.empty((0, 3)), np.empty((0, 3))) == 1.0
    # weight 0: the model's prediction does not move the belief
    conf = np.eye(3) * 0.7 + 0.1
    disputed = np.array([[0.5, 0.5, 0.0]])
    flat = np.full((1, 3), 1 / 3)
    assert relabel_value(disputed, noise[:1], conf, model_weight=0.0) == pytest.approx(
        relabel_value(disputed, flat, conf)
    )


def test_campaign_with_a_fitted_model_weight(digits) -> None:
    X, y = digits
    sim = uniform_noise(3, 0.2, n_classes=10)
    kw = dict(policy="active", budget=60, batch=20, initial=20, seed=0)
    r = run_annotated_campaign(X / 16.0, y, X / 16.0, y, sim, model_weight="auto", **kw)
    assert r.answers[-1] == 60
    with pytest.raises(ValueError, match="model_weight"):
        run_annotated_campaign(X / 16.0, y, X / 16.0, y, sim, model_weight="fitted", **kw)


@pytest.mark.parametrize("n", [5, 20])  # below and above min_answers
def test_cost_model_refuses_unknown_times(n) -> None:
    X = np.random.default_rng(0).normal(size=(n, 2))
    seconds = np.ones(n)
    seconds[3] = np.nan  # before: NaN predictions (n=5) or a scikit-learn error (n=20)
    with pytest.raises(ValueError, match=r"seconds must be finite; answer 3 has nan"):
        CostModel().fit(X, seconds)


def test_cost_model_falls_back_to_median() -> None:
    X = np.arange(10, dtype=float).reshape(-1, 1)
    cm = CostModel(min_answers=20).fit(X[:5], np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert cm.predict(X).tolist() == [3.0] * 10
    assert CostModel().predict(X).tolist() == [1.0] * 10
    with pytest.raises(ValueError, match="one per answer"):
        CostModel().fit(X, np.ones(3))


@pytest.mark.parametrize("policy", ["new", "double", "active"])
def test_campaign_spends_budget_and_never_repeats(policy: str, digits) -> None:
    X, y = digits
    X = X / 16.0
    sim = uniform_noise(3, 0.2, n_classes=10)
    r = run_annotated_campaign(
        X[:400],
        y[:400],
        X[400:700],
        y[400:700],
        sim,
        policy=policy,
        budget=80,
        batch=20,
        initial=20,
        seed=0,
        cost=1.0 + (y[:400] % 5),
        cost_aware=policy == "active",
    )
    assert r.answers[-1] == 80
    assert r.cost == sorted(r.cost) and r.cost[-1] > 80  # every answer costs >= ~1 s
    if policy == "new":
        assert r.items[-1] == 80 and r.relabels[-1] == 0
    if policy == "double":
        assert r.items[-1] == 40 and r.relabels[-1] == 40
    # the campaign checks, at every answer, that no annotator sees an item twice
    # (an AssertionError otherwise), so at most 3 answers per item with 3 annotators
    assert r.items[-1] * 3 >= r.answers[-1]
    assert len(r.annotator_accuracy_est) == 3


def test_campaign_rejects_bad_input(iris) -> None:
    X, y = iris
    sim = uniform_noise(3, 0.2, n_classes=3)
    with pytest.raises(ValueError, match="Unknown policy"):
        run_annotated_campaign(X, y, X, y, sim, policy="often")
    with pytest.raises(ValueError, match="one value per pool item"):
        run_annotated_campaign(X, y, X, y, sim, cost=np.ones(3), budget=20, initial=10)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_costs_of_zero_below_zero_or_not_finite_are_refused(iris, bad) -> None:
    from activelab.annotators.second_opinion import choose_requests, next_requests

    X, y = iris
    sim = uniform_noise(3, 0.2, n_classes=3)
    cost = np.ones(len(y))
    cost[7] = bad
    where = f"cost must be seconds per item, finite and above 0; item 7 has {bad!r}"
    with pytest.raises(ValueError, match=re.escape(where)):
        run_annotated_campaign(X, y, X, y, sim, cost=cost, budget=20, initial=10)
    with pytest.raises(ValueError, match="item 7"):  # a function of the pool, too
        run_annotated_campaign(X, y, X, y, sim, cost=lambda X, y: cost, budget=20, initial=10)
    proba = np.full((len(y), 3), 1 / 3)
    with pytest.raises(ValueError, match="item 7"):
        next_requests(
            proba, np.array([0]), np.array([0]), np.array([0]), 2, n_annotators=3, cost=cost
        )
    with pytest.raises(ValueError, match=r"relabel_cost .* item 0"):
        choose_requests(np.array([0.1]), np.array([0.2]), 1, relabel_cost=np.array([bad]))


def test_gold_items_fix_the_posterior_and_inform_accuracy() -> None:
    sim = uniform_noise(3, [0.1, 0.1, 0.45], n_classes=3)
    n = 300
    items, who, labels, y = _answers(sim, n, 2, seed=3)
    gold = np.arange(100)
    ds = dawid_skene(
        items, who, labels, n_items=n, n_classes=3, gold_items=gold, gold_labels=y[gold]
    )
    assert np.array_equal(ds.labels[gold], y[gold])
    assert (ds.confidence[gold] == 1.0).all()
    true_acc = np.bincount(who, weights=labels == y[items]) / np.bincount(who)
    assert np.abs(ds.accuracy - true_acc).max() < 0.06


def test_next_requests_asks_again_where_answers_disagree() -> None:
    from activelab.annotators.second_opinion import next_requests

    n = 50
    proba = np.tile([0.97, 0.03], (n, 1))  # a confident model: new items are worth little
    proba[0] = [0.5, 0.5]  # ... but not on the item whose answers disagree
    proba[10] = [0.6, 0.4]  # one new item worth asking, less than item 0
    items = np.array([0, 0, 1, 1, 2, 2])
    who = np.array([0, 1, 0, 1, 0, 1])
    labels = np.array([0, 1, 0, 0, 1, 1])  # item 0 is disputed by two equally good annotators
    new, again = next_requests(proba, items, who, labels, 1, n_annotators=3)
    assert again.tolist() == [0] and new.size == 0
    # dear items are passed over when costs are given
    cost = np.ones(n)
    cost[0] = 1000.0
    new, again = next_requests(proba, items, who, labels, 1, n_annotators=3, cost=cost)
    assert new.tolist() == [10] and again.size == 0


def test_known_costs_buy_cheaper_answers(digits) -> None:
    X, y = digits
    X = X / 16.0
    sim = uniform_noise(3, 0.2, n_classes=10)
    cost = np.where(np.arange(400) % 2 == 0, 1.0, 5.0)
    per_answer = {}
    for known in (False, True):
        r = run_annotated_campaign(
            X[:400],
            y[:400],
            X[400:700],
            y[400:700],
            sim,
            policy="active",
            budget=80,
            batch=20,
            initial=20,
            seed=0,
            cost=cost,
            cost_aware=known,
            cost_known=known,
        )
        per_answer[known] = r.cost[-1] / r.answers[-1]
    assert per_answer[True] < 0.8 * per_answer[False]


def test_annotated_campaign_seed_none_is_recorded_and_fractions_refused(digits) -> None:
    X, y = digits
    sim = uniform_noise(3, 0.2, n_classes=10)
    kw = dict(policy="new", budget=30, batch=10, initial=10)
    r = run_annotated_campaign(X / 16.0, y, X / 16.0, y, sim, seed=None, **kw)
    assert isinstance(r.seed, int)  # was None, recorded as it came
    with pytest.raises(ValueError, match=r"batch must be a positive whole number, got 2\.5"):
        run_annotated_campaign(X / 16.0, y, X / 16.0, y, sim, **{**kw, "batch": 2.5})
