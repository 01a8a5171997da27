"""The torch classifier, MC dropout, gradient embeddings and the deep strategies on real images."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner, StrategyRequirementError
from activelab.data.bundled import load_fashion_mnist, stratified_subset
from activelab.models.deep import TorchMLPClassifier
from activelab.simulation.campaign import run_campaign
from activelab.strategies import QueryContext, get_strategy
from activelab.strategies.deep import BALD, BatchBALD, bald_scores, kmeanspp_factored

torch = pytest.importorskip("torch")  # the [torch] extra is part of the test environment


@pytest.fixture(scope="module")
def fashion():
    """A stratified Fashion-MNIST subset: 1,200 pool and 600 test images."""
    X, y = load_fashion_mnist("test")
    pool = stratified_subset(y, 1800, seed=0)
    rng = np.random.default_rng(0)
    pool = rng.permutation(pool)
    return X[pool[:1200]], y[pool[:1200]], X[pool[1200:]], y[pool[1200:]]


def _small(**kw):
    params = {"hidden_layer_sizes": (64,), "epochs": 15, "random_state": 0}
    params.update(kw)
    return TorchMLPClassifier(**params)


@pytest.fixture(scope="module")
def fitted(fashion):
    X, y, _, _ = fashion
    return _small().fit(X[:200], y[:200])


def test_fit_is_deterministic_under_random_state(fashion):
    X, y, Xt, _ = fashion
    a = _small().fit(X[:100], y[:100]).predict_proba(Xt[:50])
    b = _small().fit(X[:100], y[:100]).predict_proba(Xt[:50])
    c = _small(random_state=1).fit(X[:100], y[:100]).predict_proba(Xt[:50])
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_learns_fashion_mnist(fitted, fashion):
    _, _, Xt, yt = fashion
    assert fitted.score(Xt, yt) > 0.6  # 200 labels, 10 classes: chance is 0.1
    assert list(fitted.classes_) == list(range(10))
    assert np.allclose(fitted.predict_proba(Xt[:20]).sum(axis=1), 1.0)


def test_clone_and_pickle_keep_predictions(fitted, fashion):
    _, _, Xt, _ = fashion
    assert clone(fitted).get_params() == fitted.get_params()
    again = pickle.loads(pickle.dumps(fitted))
    assert np.allclose(again.predict_proba(Xt[:30]), fitted.predict_proba(Xt[:30]))


def test_bad_input_is_refused_with_a_clear_message(fitted):
    with pytest.raises(ValueError, match="has 5 features, but the model was fitted with 784"):
        fitted.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="dropout must be in"):
        _small(dropout=1.0).fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="non-finite value in row 1"):
        _small().fit(np.array([[0.0], [np.nan]]), [0, 1])
    # predicting on NaN gave NaN probabilities; a NaN label became a class of its own
    rows = np.zeros((3, 784))
    rows[2, 5] = np.nan
    for method in (fitted.predict_proba, fitted.predict, fitted.embed):
        with pytest.raises(ValueError, match="non-finite value in row 2"):
            method(rows)
    with pytest.raises(ValueError, match="Label at position 2 is nan"):
        _small().fit(np.zeros((3, 2)), [0.0, 1.0, np.nan])


def test_parameters_are_checked_before_torch_sees_them():
    X, y = np.random.default_rng(0).normal(size=(12, 3)), np.arange(12) % 2
    # one int is one hidden layer, as in scikit-learn's MLPClassifier (was a TypeError)
    one = TorchMLPClassifier(hidden_layer_sizes=8, epochs=1, min_steps=1, random_state=0)
    assert one.fit(X, y).embed(X[:2]).shape == (2, 8)
    assert one.predict_proba_samples(X[:2], n_samples=3, random_state=0).shape == (3, 2, 2)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a positive int"):
        _small(hidden_layer_sizes="wide").fit(X, y)
    # torch's "set_num_threads expects a positive integer" RuntimeError
    with pytest.raises(ValueError, match=r"n_threads must be >= 1 or None"):
        _small(n_threads=0).fit(X, y)
    # no rows was a ZeroDivisionError
    with pytest.raises(ValueError, match="X has no rows"):
        _small().fit(X[:0], y[:0])


def test_a_dataframe_is_read_by_its_column_names():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    y = (frame["a"] > 0).astype(int)
    clf = TorchMLPClassifier(hidden_layer_sizes=8, epochs=1, min_steps=5, random_state=0)
    clf.fit(frame, y)
    assert clf.feature_names_in_.tolist() == ["a", "b", "c"]
    assert np.allclose(clf.predict_proba(frame), clf.predict_proba(frame.to_numpy()))
    # the same columns in another order were scored silently as the wrong features
    with pytest.raises(ValueError, match=r"another order.*X\[model.feature_names_in_\]"):
        clf.predict(frame[["c", "b", "a"]])
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['c'\]"):
        clf.predict(frame[["a", "b"]].assign(d=0.0))
    assert not hasattr(clf.fit(frame.to_numpy(), y), "feature_names_in_")  # a refit forgets them


def test_mc_samples_share_masks_across_chunks_and_differ_across_samples(fitted, fashion):
    _, _, Xt, _ = fashion
    full = fitted.predict_proba_samples(Xt[:40], n_samples=6, random_state=3)
    parts = np.concatenate(
        [fitted.predict_proba_samples(Xt[i : i + 10], 6, random_state=3) for i in (0, 10, 20, 30)],
        axis=1,
    )
    assert full.shape == (6, 40, 10)
    assert np.allclose(full, parts)
    assert not np.allclose(full[0], full[1])
    assert np.allclose(full.sum(axis=2), 1.0)
    # with dropout switched off every sample is the deterministic prediction
    X, y, _, _ = fashion
    nodrop = _small(dropout=0.0).fit(X[:100], y[:100])
    s = nodrop.predict_proba_samples(Xt[:10], n_samples=3, random_state=0)
    assert np.allclose(s, nodrop.predict_proba(Xt[:10])[None])


def test_gradient_embedding_equals_autograd(fitted, fashion):
    _, _, Xt, _ = fashion
    G = fitted.gradient_embedding(Xt[:5])
    net = fitted.net_
    for i in range(5):
        x = torch.from_numpy(Xt[i : i + 1])
        net.zero_grad()
        logits = net["head"](net["body"](x))
        label = logits.argmax(dim=1)
        torch.nn.functional.cross_entropy(logits, label).backward()
        g = net["head"].weight.grad.numpy().reshape(-1)
        assert np.allclose(G[i], g, atol=1e-5)
    net.zero_grad()


def _kmeanspp_explicit(G, n, rng):
    norms = (G * G).sum(axis=1)
    chosen = [int(np.argmax(norms))]
    d2 = np.full(len(G), np.inf)
    for _ in range(1, n):
        d2 = np.minimum(d2, ((G - G[chosen[-1]]) ** 2).sum(axis=1))
        w = d2.copy()
        w[chosen] = 0
        chosen.append(int(rng.choice(len(G), p=w / w.sum())))
    return chosen


def test_factored_kmeanspp_matches_the_explicit_outer_products():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(300, 4))
    H = rng.normal(size=(300, 7))
    G = (A[:, :, None] * H[:, None, :]).reshape(300, -1)
    got = kmeanspp_factored(A, H, 12, np.random.default_rng(5)).tolist()
    assert got == _kmeanspp_explicit(G, 12, np.random.default_rng(5))
    assert len(set(got)) == 12


def test_bald_scores_prefer_disagreement_over_plain_uncertainty():
    # item 0: every sample says 50/50 (aleatoric); item 1: samples disagree (epistemic)
    S = np.array([[[0.5, 0.5], [0.9, 0.1]], [[0.5, 0.5], [0.1, 0.9]]])
    s = bald_scores(S)
    assert s[1] > 0.3 and s[0] == pytest.approx(0.0)


def _ctx(model, X, labelled, seed=0):
    cand = np.setdiff1d(np.arange(X.shape[0]), labelled)
    return QueryContext(
        X=X,
        candidates=cand,
        labelled=np.asarray(labelled),
        y_labelled=np.zeros(len(labelled)),
        model=model,
        rng=np.random.default_rng(seed),
        chunk_size=256,
    )


def test_batchbald_first_pick_is_bald_and_copies_are_avoided(fitted, fashion):
    X, _, _, _ = fashion
    pool = X[200:700]
    top = int(BALD(n_samples=30).select(_ctx(fitted, pool, [], seed=1), 1)[0])
    # put three exact copies of the most informative image into the pool
    dup = np.vstack([pool, pool[[top, top, top]]])
    copies = {top, len(pool), len(pool) + 1, len(pool) + 2}
    bald = BALD(n_samples=30).select(_ctx(fitted, dup, [], seed=1), 4)
    bb = BatchBALD(n_samples=30, n_configurations=200).select(_ctx(fitted, dup, [], seed=1), 4)
    assert int(bb[0]) == top
    assert len(copies & set(bald.tolist())) == 4  # BALD takes all four copies
    assert len(copies & set(bb.tolist())) < 4  # the joint criterion does not
    assert len(set(bb.tolist())) == 4


def test_batchbald_sampled_configurations_are_deterministic(fitted, fashion):
    X, _, _, _ = fashion
    pool = X[200:500]
    strat = BatchBALD(n_samples=10, n_configurations=16, max_candidates=100)
    a = strat.select(_ctx(fitted, pool, [0, 1], seed=4), 6)
    b = strat.select(_ctx(fitted, pool, [0, 1], seed=4), 6)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 6
    assert not np.isin(a, [0, 1]).any()


def test_deep_coreset_covers_the_learned_embedding(fitted, fashion):
    X, _, _, _ = fashion
    pool = X[200:600]
    ctx = _ctx(fitted, pool, [0, 1, 2])
    picks = get_strategy("deep_coreset").select(ctx, 5)
    Z = fitted.embed(pool)
    lab = [0, 1, 2]
    # the first pick is the candidate farthest from the labelled set in the embedding
    d = np.min(((Z[ctx.candidates, None, :] - Z[None, lab, :]) ** 2).sum(axis=2), axis=1)
    assert int(picks[0]) == int(ctx.candidates[np.argmax(d)])


def test_mc_strategies_refuse_a_model_without_dropout_samples():
    X = np.random.default_rng(0).normal(size=(30, 3))
    msg = r"predict_proba_samples.*LogisticRegression"
    with pytest.raises(StrategyRequirementError, match=msg):
        ActiveLearner(LogisticRegression(), "bald").fit(X)
    with pytest.raises(StrategyRequirementError, match="MC-dropout"):
        ActiveLearner(LogisticRegression(), "batchbald").fit(X)
    # dropout=0: every sample the same model, every score 0, picks decided by rounding
    for name in ("bald", "batchbald"):
        with pytest.raises(StrategyRequirementError, match=r"dropout=0.*Set dropout > 0"):
            ActiveLearner(_small(dropout=0.0), name).fit(X, [0, 1], [0, 1])


@pytest.mark.parametrize("strategy", ["bald", "badge"])
def test_bald_and_badge_run_on_an_image_subset(strategy, fashion):
    X, y, Xt, yt = fashion
    r = run_campaign(
        _small(epochs=10),
        strategy,
        X,
        y,
        Xt,
        yt,
        initial=20,
        batch_size=20,
        budget=80,
        seed=0,
    )
    assert r.n_labels == [20, 40, 60, 80]
    assert r.strategies_used[1:] == [strategy] * 3
    assert r.scores[-1] > 0.45  # 80 labels, 10 classes
    assert max(r.select_seconds) < 10.0


@pytest.mark.parametrize("name", ["badge", "deep_coreset"])
def test_linear_model_on_sparse_features_gives_the_dense_answer(name):
    # without a learned embedding the features are h; sparse features stay sparse
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.random((300, 40)) * (rng.random((300, 40)) < 0.2)
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 0.1).astype(int)
    lab = np.arange(20)
    model = LogisticRegression().fit(X[lab], y[lab])
    picks = [
        get_strategy(name).select(_ctx(model, Xp, lab, seed=2), 8).tolist()
        for Xp in (X, sp.csr_matrix(X))
    ]
    assert picks[0] == picks[1] and len(set(picks[0])) == 8


def test_mnist_subset_trains_the_mlp():
    from activelab.data.bundled import load_mnist_subset

    X, y = load_mnist_subset()
    assert X.shape == (5000, 784) and X.max() <= 1.0 and np.bincount(y).tolist() == [500] * 10
    rng = np.random.default_rng(0)
    idx = rng.permutation(5000)
    clf = _small().fit(X[idx[:300]], y[idx[:300]])
    assert clf.score(X[idx[4000:]], y[idx[4000:]]) > 0.7


def test_batchbald_long_batches_do_not_underflow():
    # 10 classes, near-uniform samples: a product of 400 label probabilities (about 0.1 each)
    # underflows without rescaling
    from activelab.strategies.deep import _batchbald_greedy

    rng = np.random.default_rng(0)
    logits = rng.normal(scale=0.3, size=(8, 600, 10))
    S = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    cond = np.zeros(600)
    with np.errstate(divide="raise", invalid="raise"):  # an all-zero configuration would
        picks = _batchbald_greedy(S, cond, 400, 64, np.random.default_rng(1))
    assert len(set(picks.tolist())) == 400
