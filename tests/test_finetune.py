"""Fine-tuning the sentence encoder on the labels: the contrastive pairs and the classifier."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from activelab.data.features import _load_model
from activelab.learner import ActiveLearner
from activelab.models.finetune import FineTunedTextClassifier, _schedule, contrastive_pairs

TEXTS = [
    "A wonderful, moving film with superb acting.",
    "This movie was a delight from start to finish.",
    "Brilliant, funny and warm: I loved every minute.",
    "A gripping story, beautifully shot.",
    "One of the best films of the year.",
    "Charming and clever, a real treat.",
    "A dull, lifeless film that drags on forever.",
    "Terrible acting and a plot that makes no sense.",
    "I was bored from the first scene to the last.",
    "A mess: loud, long and pointless.",
    "The worst film I have seen in years.",
    "Flat jokes and wooden characters throughout.",
]
LABELS = np.array(["pos"] * 6 + ["neg"] * 6)


def test_pairs_pair_each_text_with_its_class_and_another():
    codes = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    a, b, target = contrastive_pairs(codes, 3, np.random.default_rng(0))
    assert a.shape == b.shape == target.shape == (2 * 3 * codes.size,)
    assert np.array_equal(codes[a] == codes[b], target == 1.0)
    # every text anchors the same number of same-class and of other-class pairs
    assert np.array_equal(np.bincount(a[target == 1], minlength=codes.size), np.full(9, 3))
    assert np.array_equal(np.bincount(a[target == 0], minlength=codes.size), np.full(9, 3))
    # other-class partners reach every class but the anchor's
    assert set(codes[b[(codes[a] == 2) & (target == 0)]]) == {0, 1}


def test_pairs_need_two_classes():
    with pytest.raises(ValueError, match="at least two classes"):
        contrastive_pairs(np.zeros(4, dtype=int), 2, np.random.default_rng(0))


@pytest.fixture(scope="module")
def tuned():
    """One small tuning of the real model (about 10 s with its loading)."""
    pretrained = next(_load_model("cpu").parameters()).detach().clone()
    clf = FineTunedTextClassifier(max_pairs=24, batch_size=8, random_state=0, n_threads=1)
    torch.manual_seed(123)
    clf.fit(TEXTS, LABELS)
    # the fit seeds its own generator: the global torch state is where the caller left it
    assert torch.equal(torch.random.get_rng_state(), torch.manual_seed(123).get_state())
    return clf, pretrained


def test_tuning_fits_a_text_classifier_and_leaves_the_shared_model_alone(tuned):
    clf, pretrained = tuned
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert clf.n_pairs_ == 24
    P = clf.predict_proba(["An absolute joy to watch.", "Tedious and badly made."])
    assert P.shape == (2, 2)
    assert np.allclose(P.sum(axis=1), 1.0)
    assert clf.embed(TEXTS[:2]).shape == (2, 384)
    assert np.allclose(np.linalg.norm(clf.embed(TEXTS[:2]), axis=1), 1.0, atol=1e-5)
    # the copy was trained; the model other callers share was not
    assert torch.equal(next(_load_model("cpu").parameters()), pretrained)
    assert not torch.equal(next(clf.encoder_.parameters()), pretrained)


def test_tuning_is_reproducible_under_a_seed(tuned):
    clf, _ = tuned
    again = FineTunedTextClassifier(max_pairs=24, batch_size=8, random_state=0, n_threads=1)
    again.fit(TEXTS, LABELS)
    assert np.allclose(again.embed(TEXTS), clf.embed(TEXTS), atol=1e-5)
    other = FineTunedTextClassifier(max_pairs=24, batch_size=8, random_state=1, n_threads=1)
    other.fit(TEXTS, LABELS)
    assert not np.allclose(other.embed(TEXTS), clf.embed(TEXTS), atol=1e-5)


def test_a_pickled_tuned_model_predicts_the_same(tuned):
    clf, _ = tuned
    back = pickle.loads(pickle.dumps(clf))
    assert np.allclose(back.predict_proba(TEXTS[:3]), clf.predict_proba(TEXTS[:3]), atol=1e-6)


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="at least two classes"):
        FineTunedTextClassifier().fit(TEXTS[:3], ["pos"] * 3)
    with pytest.raises(ValueError, match="12 texts and 3 labels"):
        FineTunedTextClassifier().fit(TEXTS, ["pos", "neg", "pos"])
    with pytest.raises(ValueError, match="max_pairs must be >= 1"):
        FineTunedTextClassifier(max_pairs=0).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="passes must be >= 0"):
        FineTunedTextClassifier(passes=-1).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="nothing would be tuned"):
        FineTunedTextClassifier(passes=0, end_to_end_epochs=0).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="end_to_end_epochs must be >= 0"):
        FineTunedTextClassifier(end_to_end_epochs=-1).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match=r"warmup_ratio must be None or in \[0, 1\)"):
        FineTunedTextClassifier(warmup_ratio=1.0).fit(TEXTS, LABELS)


def test_the_warm_up_schedule_rises_then_decays_to_zero():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = _schedule(torch, opt, 10, 0.2)
    rates = []
    for _ in range(10):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert np.allclose(rates, [0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125])
    const = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    sched = _schedule(torch, const, 5, None)
    for _ in range(5):
        assert const.param_groups[0]["lr"] == pytest.approx(0.3)
        const.step()
        sched.step()


def test_the_default_recipe_is_two_passes_and_an_end_to_end_stage_is_optional(tuned):
    clf, _ = tuned
    assert not hasattr(clf, "end_to_end_loss_")  # the default skips the end-to-end stage
    common = {"max_pairs": 24, "batch_size": 8, "random_state": 0, "n_threads": 1}
    one = FineTunedTextClassifier(passes=1, warmup_ratio=None, **common).fit(TEXTS, LABELS)
    assert one.n_pairs_ == clf.n_pairs_ == 24
    # a second pass with the warm-up schedule moves the encoder elsewhere than one pass
    assert not np.allclose(one.embed(TEXTS), clf.embed(TEXTS), atol=1e-4)
    e2e = FineTunedTextClassifier(end_to_end_epochs=1, **common).fit(TEXTS, LABELS)
    assert np.isfinite(e2e.end_to_end_loss_) and e2e.end_to_end_loss_ > 0
    # the final head is fitted on the end-to-end encoder's embeddings
    assert not np.allclose(e2e.embed(TEXTS), clf.embed(TEXTS), atol=1e-4)
    assert e2e.predict(TEXTS).shape == (12,)
    back = pickle.loads(pickle.dumps(e2e))
    assert np.allclose(back.predict_proba(TEXTS[:3]), e2e.predict_proba(TEXTS[:3]), atol=1e-6)


def test_the_learner_queries_a_text_pool_with_the_tuned_model():
    pool = pd.DataFrame({"text": TEXTS})
    learner = ActiveLearner(
        FineTunedTextClassifier(max_pairs=8, batch_size=8, n_threads=1),
        strategy="margin",
        cold_start="random",
        random_state=0,
    )
    learner.fit(pool)
    learner.teach([0, 1, 6, 7], LABELS[[0, 1, 6, 7]])
    picked = learner.query(3)
    assert len(set(picked.tolist()) - {0, 1, 6, 7}) == 3
    assert learner.labels_.tolist() == ["pos", "pos", "neg", "neg"]


def test_end_to_end_alone_tunes_without_pairs():
    pretrained = next(_load_model("cpu").parameters()).detach().clone()
    clf = FineTunedTextClassifier(
        passes=0, end_to_end_epochs=1, batch_size=8, random_state=0, n_threads=1
    ).fit(TEXTS, LABELS)
    assert clf.n_pairs_ == 0 and np.isnan(clf.train_loss_)
    assert np.isfinite(clf.end_to_end_loss_)
    assert not torch.equal(next(clf.encoder_.parameters()), pretrained)
    assert clf.predict_proba(TEXTS[:2]).shape == (2, 2)


def test_a_single_string_is_refused_in_the_classifiers_own_name():
    from activelab.models import FineTunedTextClassifier

    with pytest.raises(TypeError, match=r"^FineTunedTextClassifier\.fit takes a list of texts"):
        FineTunedTextClassifier().fit("one review", ["pos"])
