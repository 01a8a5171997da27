import numpy as np
import pytest

from activelab import top_k


def test_orders_by_score_then_index():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.5, 0.0])
    assert top_k(scores, 4).tolist() == [1, 3, 2, 4]


def test_ties_at_the_cut_go_to_the_smallest_index():
    scores = np.zeros(1000)
    scores[[10, 500]] = 1.0
    assert top_k(scores, 5).tolist() == [10, 500, 0, 1, 2]


def test_uses_given_index_for_tie_break():
    scores = np.array([1.0, 1.0, 1.0])
    assert top_k(scores, 2, index=np.array([5, 1, 3])).tolist() == [1, 2]


@pytest.mark.parametrize("k", [0, 1, 17, 200])
def test_matches_full_lexsort(k):
    rng = np.random.default_rng(k)
    scores = rng.integers(0, 5, size=200).astype(float)
    expected = np.lexsort((np.arange(200), -scores))[:k]
    assert top_k(scores, k).tolist() == expected.tolist()


def test_rejects_k_out_of_range():
    with pytest.raises(ValueError, match="0 <= k <= 3"):
        top_k(np.ones(3), 4)


def test_nan_scores_rank_last_and_never_shorten_the_selection():
    # a model that diverged on some rows: the cut used to compare with NaN and keep nothing
    scores = np.array([np.nan, 0.5, 0.2, np.nan])
    assert top_k(scores, 3).tolist() == [1, 2, 0]
    assert top_k(np.array([np.nan, np.nan]), 1).tolist() == [0]
    assert top_k(scores, 3, np.array([9, 5, 7, 1])).tolist() == [1, 2, 3]
