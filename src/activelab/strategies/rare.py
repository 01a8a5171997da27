"""Finding a rare class: anomaly cold start, class balance, positive seeking, anomaly discovery.

When the class that matters is 1-7 % of the data (fraud, a rare finding), uncertainty
sampling spends its labels on the boundary of the common classes, and random sampling
meets a positive once every 20-100 labels. The strategies here go looking for it:

``anomaly`` (:class:`AnomalyColdStart`)
    No model and no positive yet: the items an isolation forest (Liu, Ting & Zhou
    2008) isolates fastest, because rare classes tend to sit away from the bulk.
``class_balanced`` (:class:`ClassBalanced`)
    Margin uncertainty weighted by the inverse frequency of the classes among
    the labels, so that the boundary of the rare class gets its share.
``positive_seeking`` (:class:`PositiveSeeking`)
    The highest predicted probability of the rare class (exploitation, as the
    experiment-design greedy does for potency); while no model or no positive is
    known, the anomaly score. ``auto_rare`` (:class:`RareAuto`) is the ``auto``
    bandit with this arm added.
``aad`` (:class:`ActiveAnomalyDiscovery`)
    Active anomaly discovery (Das, Wong, Dietterich, Fern & Emmott 2016; Das, Wong,
    Fern, Dietterich & Siddiqui 2017): the isolation forest's leaves get weights,
    learned from the expert's answers so that items sharing leaves with confirmed
    positives rise and those sharing leaves with negatives sink; for data with no
    labels at all.

The positive class is ``positive_label`` when given. Without it, the class the pool
holds least of as the model estimates it (:func:`estimated_shares`: the mean predicted
probability of each class over the unlabelled candidates, the labelled items counting
by their labels), not the rarest class among the labels: the labels are what these
strategies bias, and once the positives found outnumbered the negatives, the rarest
labelled class was the negative one, and the strategy sought it. Once chosen, the
target is kept for the campaign unless another class's estimate falls below half of
the target's (``target_`` names it; ``reset``, called by ``ActiveLearner.fit``, forgets
it). While the labels hold a single class, no positive is known and that class is taken as
the common one.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_regressor
from sklearn.ensemble import IsolationForest

from activelab._deprecated import warn_deprecated
from activelab._validation import non_numeric_columns
from activelab.strategies._base import (
    PREDICT_PROBA,
    QueryContext,
    Strategy,
    StrategyRequirementError,
    numeric_rows,
    top_k,
)
from activelab.strategies.selection import DEFAULT_ARMS, AutoStrategy

__all__ = [
    "RARE_ARMS",
    "ActiveAnomalyDiscovery",
    "AnomalyColdStart",
    "ClassBalanced",
    "PositiveSeeking",
    "RareAuto",
    "RareDiscovery",
    "estimated_shares",
    "known_positive",
    "leaf_features",
]

#: The arms of ``auto_rare``: the default arms of ``auto`` and positive seeking.
RARE_ARMS: tuple[str, ...] = (*DEFAULT_ARMS, "positive_seeking")


def known_positive(y_labelled: Any, positive_label: Any = None) -> Any:
    """The positive class: ``positive_label``, else the rarest labelled class (deprecated).

    .. deprecated:: 0.2
        The rare-class strategies no longer use it, and it goes in 0.3: the rarest class
        *among the labels* is the one their own picks bias (once the positives found
        outnumber the negatives, it is the negative class). Pass ``positive_label`` to the
        strategy, read the class a strategy seeks from its ``target_``, or estimate each
        class's share of the pool with :func:`estimated_shares`.

    ``None`` while the labels hold fewer than two classes (no positive known yet).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     known_positive([0, 0, 1, 0]), known_positive([0, 0]) is None
    (1, True)
    """
    warn_deprecated(
        "activelab.strategies.rare.known_positive",
        "pass positive_label to the strategy, read the class it seeks from its target_, "
        "or estimate the classes' shares of the pool with estimated_shares",
    )
    if positive_label is not None:
        return positive_label
    labels, counts = np.unique(np.asarray(y_labelled), return_counts=True)
    if labels.shape[0] < 2:
        return None
    return labels.tolist()[int(np.argmin(counts))]  # plain Python value, whatever the dtype


def estimated_shares(ctx: QueryContext, classes: np.ndarray, candidate_sums: Any) -> np.ndarray:
    """Each class's share of the pool as the model estimates it, the labels where known.

    ``(candidate_sums + n_c) / (n_candidates + n_labelled)``: ``candidate_sums`` is,
    per class, the sum over the candidates of the model's predicted probability (or
    of its predicted labels as 0/1), and ``n_c`` the labelled items of class ``c``.

    Parameters
    ----------
    ctx : QueryContext
        The candidates and the labels.
    classes : ndarray
        The classes, in the order of ``candidate_sums``.
    candidate_sums : array-like of shape (n_classes,)
        Per class, the model's estimate summed over ``ctx.candidates``.

    Returns
    -------
    ndarray of shape (n_classes,)

    Examples
    --------
    >>> ctx = QueryContext(X=np.zeros((10, 1)), candidates=np.arange(2, 10),
    ...                    labelled=np.array([0, 1]), y_labelled=np.array([1, 1]))
    >>> estimated_shares(ctx, np.array([0, 1]), [7.5, 0.5]).tolist()   # 2 positives labelled
    [0.75, 0.25]
    """
    y = np.asarray(ctx.y_labelled)
    counts = (y[:, None] == np.asarray(classes)[None, :]).sum(axis=0)
    total = max(int(ctx.candidates.shape[0]) + y.shape[0], 1)
    return (np.asarray(candidate_sums, dtype=float) + counts) / total


class _PicksItsTarget:
    """Without ``positive_label``: seeks the class the pool holds least of, and keeps to it.

    The target is the class of smallest :func:`estimated_shares`; the strategy keeps
    it (in ``_target_``, pickled with it) unless another class's estimate falls below
    :data:`_SWITCH` times the target's, or the model no longer knows it, so that it
    does not flip-flop between classes of nearly equal estimates. :meth:`reset` (which
    :meth:`ActiveLearner.fit <activelab.learner.ActiveLearner.fit>` calls) forgets it
    for a new campaign, or takes up one an earlier run chose.
    """

    positive_label: Any

    @property
    def target_(self) -> Any:
        """The class sought: ``positive_label``, else the class chosen (``None`` before)."""
        if self.positive_label is not None:
            return self.positive_label
        return getattr(self, "_target_", None)

    def reset(self, target: Any = None) -> None:
        """Start a campaign: forget the class chosen, or take up ``target`` as chosen.

        Parameters
        ----------
        target : optional
            The class an earlier run of the same campaign chose (its :attr:`target_`),
            kept under the same rule as one chosen here; ``None`` forgets it. A
            ``positive_label`` given still comes first.
        """
        self._target_ = target

    def _target(self, ctx: QueryContext, classes: np.ndarray, shares: np.ndarray) -> Any:
        kept = getattr(self, "_target_", None)
        least = int(np.argmin(shares))
        where = np.flatnonzero(classes == kept) if kept is not None else np.empty(0, int)
        if where.size and not shares[least] < _SWITCH * shares[where[0]]:
            return kept
        self._target_ = classes.tolist()[least]  # plain Python value, whatever the dtype
        return self._target_


#: Another class's estimated share below this times the target's makes it the target.
_SWITCH = 0.5


def _pool_key(ctx: QueryContext) -> tuple[Any, ...]:
    """What tells one pool from another across queries: its identity, shape and dtype."""
    return (id(ctx.X), ctx.X.shape, str(getattr(ctx.X, "dtype", "")))


def _c(n: np.ndarray) -> np.ndarray:
    """Average path length of an unsuccessful search in a binary tree of ``n`` items."""
    n = np.asarray(n, dtype=float)
    out = np.zeros_like(n)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _node_depths(tree: Any) -> np.ndarray:
    """Depth of every node of a fitted scikit-learn tree (the root at 0), level by level."""
    t = tree.tree_
    depth = np.zeros(t.node_count, dtype=float)
    inner = np.flatnonzero(t.children_left >= 0)
    frontier = np.array([0])
    level = 0
    while frontier.size:
        depth[frontier] = level
        kids = frontier[np.isin(frontier, inner)]
        frontier = np.concatenate([t.children_left[kids], t.children_right[kids]])
        level += 1
    return depth


def leaf_features(forest: IsolationForest, X: Any) -> sp.csr_matrix:
    """The leaf-depth features of Das et al.: one column per leaf of every tree.

    Row ``i`` has one entry per tree, in the column of the leaf that holds item
    ``i``, equal to ``-(depth + c(leaf size)) / c(max_samples)``: its isolation
    path in that tree, negated and normalised. With every weight ``1 / n_trees``
    the weighted sum is the forest's average path, negated: the isolation
    forest's ranking (higher: more anomalous).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(200, 2)); X[0] = 8.0
    >>> forest = IsolationForest(n_estimators=20, random_state=0).fit(X)
    >>> Phi = leaf_features(forest, X)
    >>> Phi.shape[0], int(Phi.getnnz(axis=1).max())
    (200, 20)
    >>> int(np.argmax(Phi.sum(axis=1)))
    0
    """
    n = int(X.shape[0])
    norm = float(_c(np.array([forest.max_samples_]))[0]) or 1.0
    blocks_rows, blocks_cols, blocks_vals = [], [], []
    offset = 0
    for tree, feats in zip(forest.estimators_, forest.estimators_features_, strict=True):
        Xs = X if len(feats) == X.shape[1] else X[:, feats]
        leaves = tree.apply(Xs)
        path = _node_depths(tree) + _c(tree.tree_.n_node_samples)
        blocks_rows.append(np.arange(n))
        blocks_cols.append(offset + leaves)
        blocks_vals.append(-path[leaves] / norm)
        offset += tree.tree_.node_count
    return sp.csr_matrix(
        (np.concatenate(blocks_vals), (np.concatenate(blocks_rows), np.concatenate(blocks_cols))),
        shape=(n, offset),
    )


class _SeeksAClass:
    """Refuses a regressor: the strategy seeks a class, which numeric targets do not have."""

    name: str

    def check_model(self, model: Any) -> None:
        """Raise :class:`StrategyRequirementError` for a regressor, naming the regression fits.

        Parameters
        ----------
        model : estimator or None
            The learner's estimator (or fitted model).
        """
        if model is not None and is_regressor(model):
            raise StrategyRequirementError(
                f"Strategy {self.name!r} seeks a rare class, but {type(model).__name__} is a "
                "regressor with numeric targets; to look for the largest values use 'greedy' "
                "(or 'ucb', 'expected_improvement'), or use a classifier."
            )
        super().check_model(model)  # type: ignore[misc]


class _ForestMixin:
    """Fits (once per pool) an isolation forest and its leaf features."""

    n_estimators: int
    max_samples: int | str
    random_state: int

    def _forest(self, ctx: QueryContext) -> tuple[IsolationForest, sp.csr_matrix]:
        key = _pool_key(ctx)
        cache = getattr(self, "_forest_cache", None)
        if cache is not None and cache[0] == key:
            return cache[1], cache[2]
        X = _forest_features(ctx)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            random_state=self.random_state,
        ).fit(X)
        Phi = leaf_features(forest, X)
        self._forest_cache = (key, forest, Phi)
        return forest, Phi

    def _anomaly_top(self, ctx: QueryContext, n: int) -> np.ndarray:
        _forest, Phi = self._forest(ctx)
        w = np.full(Phi.shape[1], 1.0 / self.n_estimators)
        return _top(ctx.candidates, Phi[ctx.candidates] @ w, n)


def _forest_features(ctx: QueryContext) -> Any:
    """The rows the isolation forest reads: the pool's numbers.

    A DataFrame pool with category or text columns is read through the context's
    embedding (``ActiveLearner``'s ``embed``, or its pipeline's leading steps fitted on
    the pool); without one, :func:`numeric_rows` names the columns and the fix.
    """
    if sp.issparse(ctx.X):
        return ctx.X.tocsr()
    if ctx.embed is not None and non_numeric_columns(ctx.X):
        return ctx.map_chunks(ctx.embedding, rows=np.arange(ctx.n_pool))
    return np.asarray(numeric_rows(ctx.X))


def _split(n: int, share: float, rng: np.random.Generator) -> int:
    """How many of ``n`` picks make a share ``share``: the whole part, one more at random.

    ``floor(n * share)``, plus one with the probability of the remainder, so that the
    share holds on average over batches of any size.
    """
    whole = int(np.floor(n * share))
    return whole + int(rng.random() < n * share - whole)


def _top(candidates: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` candidates of highest score (ties: lowest index)."""
    return candidates[top_k(np.asarray(scores, dtype=float), n)]


class AnomalyColdStart(_ForestMixin, Strategy):
    """Cold start for a rare class: the candidates an isolation forest isolates fastest.

    Needs no model. The forest is fitted once per pool (all rows) and cached.

    Parameters
    ----------
    n_estimators : int, default=100
    max_samples : int or "auto", default="auto"
        Rows each tree is grown on (``"auto"``: ``min(256, n)``).
    random_state : int, default=0

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 3)); X[[5, 7]] += 6.0
    >>> ctx = QueryContext(X=X, candidates=np.arange(300), labelled=np.array([], int),
    ...                    y_labelled=np.array([]))
    >>> sorted(AnomalyColdStart().select(ctx, 2).tolist())
    [5, 7]
    """

    name = "anomaly"
    task = "classification"

    def __init__(
        self, n_estimators: int = 100, max_samples: int | str = "auto", random_state: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return self._anomaly_top(ctx, n)


class ClassBalanced(Strategy):
    """Margin uncertainty weighted towards the classes with few labels.

    The priority of a candidate is ``(1 - margin) * sum_c p_c w_c`` with
    ``w_c = (N + K) / (K (n_c + 1))``: ``n_c`` labels of class ``c`` among ``N``, ``K``
    classes. A class with few labels weighs up to ``N / K`` times more, so its boundary
    gets its share of the queries instead of the common classes' boundaries.

    Parameters
    ----------
    power : float, default=1.0
        Exponent of the class weights (0: plain margin).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] > 1.6).astype(int)
    >>> lab = np.r_[np.flatnonzero(y == 0)[:30], np.flatnonzero(y == 1)[:3]]
    >>> model = LogisticRegression().fit(X[lab], y[lab])
    >>> ctx = QueryContext(X=X, candidates=np.setdiff1d(np.arange(400), lab), labelled=lab,
    ...                    y_labelled=y[lab], model=model, classes=np.array([0, 1]))
    >>> ClassBalanced().select(ctx, 5).shape
    (5,)
    """

    name = "class_balanced"
    requires = (PREDICT_PROBA,)
    supports_dask = True

    def __init__(self, power: float = 1.0) -> None:
        self.power = power

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        model = ctx.model
        classes = np.asarray(model.classes_)
        y = np.asarray(ctx.y_labelled)
        counts = (y[:, None] == classes[None, :]).sum(axis=0).astype(float)
        k = classes.shape[0]
        w = ((counts.sum() + k) / (k * (counts + 1.0))) ** self.power

        def score(X_chunk: Any) -> np.ndarray:
            P = np.asarray(model.predict_proba(X_chunk), dtype=float)
            two = -np.partition(-P, 1, axis=1)[:, :2] if P.shape[1] > 1 else np.c_[P, 0 * P]
            return (1.0 - (two[:, 0] - two[:, 1])) * (P @ w)

        return ctx.select_top(score, n)


class PositiveSeeking(_SeeksAClass, _PicksItsTarget, _ForestMixin, Strategy):
    """The candidates the model thinks most likely positive; anomalies and random ones before.

    Needs no model to start: while none is fitted, or the model does not know the
    positive class yet, a share ``cold_explore`` of each batch is drawn at random
    and the rest are the candidates the isolation forest isolates fastest
    (:class:`AnomalyColdStart`). The random share is there because a rare class need
    not be odd: on ImageSegments (``brickface`` at 3 %, 10 seeds) the anomaly ranking
    alone met no positive in 140 labels in 7 of 10 campaigns, since each round asked
    about the same outlying region again. With a model it ranks by the positive
    class's ``predict_proba`` column (without it, ``decision_function``: binary, or
    one column per class).

    Parameters
    ----------
    positive_label : optional
        The class sought; default: the class the model estimates the pool holds
        least of (:func:`estimated_shares`, from the probabilities the ranking
        computes anyway), kept once chosen unless another falls below half of it.
    cold_explore : float, default=0.5
        The share of each batch drawn at random while no positive is known
        (``floor(n * cold_explore)`` picks, plus one with the probability of the
        remainder); 0 ranks by the anomaly score alone. The same share as the stream
        triage's cold start (:func:`activelab.stream.triage.triage_replay`).
    n_estimators, max_samples, random_state
        Of the anomaly fallback's isolation forest.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] > 1.6).astype(int)
    >>> lab = np.r_[np.flatnonzero(y == 0)[:20], np.flatnonzero(y == 1)[:2]]
    >>> model = LogisticRegression().fit(X[lab], y[lab])
    >>> ctx = QueryContext(X=X, candidates=np.setdiff1d(np.arange(400), lab), labelled=lab,
    ...                    y_labelled=y[lab], model=model, classes=np.array([0, 1]))
    >>> bool(y[PositiveSeeking().select(ctx, 10)].mean() > 0.8)
    True

    With no positive known, half of a batch is random and half anomalous:

    >>> X[[3, 9]] = 9.0
    >>> ctx0 = QueryContext(X=X, candidates=np.arange(400), labelled=np.array([], int),
    ...                     y_labelled=np.array([]), rng=np.random.default_rng(0))
    >>> sorted(PositiveSeeking().select(ctx0, 4)[:2].tolist())   # the two outliers first
    [3, 9]
    """

    name = "positive_seeking"
    task = "classification"
    # requires nothing: without a usable model it falls back on the anomaly score
    requires: ClassVar[tuple[Any, ...]] = ()

    def __init__(
        self,
        positive_label: Any = None,
        n_estimators: int = 100,
        max_samples: int | str = "auto",
        random_state: int = 0,
        cold_explore: float = 0.5,
    ) -> None:
        if not 0.0 <= cold_explore <= 1.0:
            raise ValueError(f"cold_explore must be in [0, 1], got {cold_explore!r}.")
        self.positive_label = positive_label
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state
        self.cold_explore = cold_explore

    def _cold(self, ctx: QueryContext, n: int) -> np.ndarray:
        """No positive known: ``n`` picks, a share ``cold_explore`` random, the rest anomalies."""
        # no share: no draw either, so that the random stream is the anomaly-only one
        n_random = _split(n, self.cold_explore, ctx.rng) if self.cold_explore else 0
        odd = self._anomaly_top(ctx, n - n_random) if n > n_random else np.empty(0, np.int64)
        if n_random == 0:
            return np.asarray(odd, dtype=np.int64)
        rest = np.setdiff1d(ctx.candidates, odd)
        more = ctx.rng.choice(rest, min(n_random, rest.shape[0]), replace=False)
        return np.concatenate([np.asarray(odd, dtype=np.int64), np.asarray(more, np.int64)])

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        model = ctx.model
        classes = np.asarray(getattr(model, "classes_", []))
        proba = model is not None and hasattr(model, "predict_proba")
        if not (proba or (model is not None and hasattr(model, "decision_function"))):
            return self._cold(ctx, n)
        k = classes.shape[0]
        if self.positive_label is None:
            return self._seek_least(ctx, n, classes, proba)
        where = np.flatnonzero(classes == self.positive_label)
        if not where.size:
            return self._cold(ctx, n)
        col = int(where[0])
        return ctx.select_top(lambda X_chunk: _class_scores(model, X_chunk, k, proba)[:, col], n)

    def _seek_least(
        self, ctx: QueryContext, n: int, classes: np.ndarray, proba: bool
    ) -> np.ndarray:
        """No ``positive_label``: one pass over the candidates gives both the estimate of each
        class's share (the target) and the ranking (its probability, or decision value)."""
        if np.unique(np.asarray(ctx.y_labelled)).shape[0] < 2:
            return self._cold(ctx, n)  # one class answered: no positive known yet
        model, k = ctx.model, classes.shape[0]
        S = ctx.map_chunks(lambda X_chunk: _class_scores(model, X_chunk, k, proba))
        sums = S.sum(axis=0) if proba else np.bincount(np.argmax(S, axis=1), minlength=k)
        target = self._target(ctx, classes, estimated_shares(ctx, classes, sums))
        return _top(ctx.candidates, S[:, int(np.flatnonzero(classes == target)[0])], n)


def _class_scores(model: Any, X_chunk: Any, k: int, proba: bool) -> np.ndarray:
    """One column per class that grows with the model's belief in it: ``predict_proba``, else
    ``decision_function`` (binary: ``-f, f``; one-vs-rest: as it is)."""
    if proba:
        return np.asarray(model.predict_proba(X_chunk), dtype=float)
    d = np.asarray(model.decision_function(X_chunk), dtype=float)
    if d.ndim == 1:
        return np.column_stack([-d, d])
    final = model[-1] if hasattr(model, "steps") else model  # a pipeline's classifier
    if d.shape[1] != k or getattr(final, "decision_function_shape", "ovr") == "ovo":
        raise ValueError(
            f"{type(model).__name__}.decision_function gives {d.shape[1]} columns for {k} "
            "classes (one per pair of classes); positive_seeking ranks by one column per "
            "class: use decision_function_shape='ovr', or a model with predict_proba."
        )
    return d


class ActiveAnomalyDiscovery(_SeeksAClass, _PicksItsTarget, _ForestMixin, Strategy):
    """Active anomaly discovery: an isolation forest re-weighted by the expert's answers.

    Each leaf of each tree gets a weight ``w`` (start: ``w0 = 1 / n_trees``, the
    plain forest); an item scores ``w · phi(x)`` (:func:`leaf_features`), as in Das,
    Wong, Dietterich, Fern & Emmott (2016) and Das et al. (2017). After every answer
    the weights minimise a loss over the confirmed positives ``a`` and negatives
    ``n`` plus ``lam T / 2 |w - w0|²`` (``T`` trees), so that items sharing leaves
    with confirmed positives rise and those sharing leaves with negatives sink.

    ``loss="linear"`` (the default): ``-mean_a s_a + mean_n s_n``, whose minimiser
    is closed-form, ``w = w0 + (mean_a phi_a - mean_n phi_n) / (lam T)`` (the linear
    loss of the online variant of Siddiqui et al. 2018). ``loss="hinge"``: Das et
    al.'s ``mean_a max(0, q - s_a) + mean_n max(0, s_n - q)``, with ``q`` the score
    at the top-``tau`` quantile of the pool, by ``steps`` gradient steps. On digits
    (one digit as 40 positives among 1,600; 60 labels from none) the linear loss
    found 22-40 positives, the hinge 1-5 and the plain forest 1-3.

    Needs no model and no label to start.

    Parameters
    ----------
    positive_label : optional
        The class of the anomalies; default: the class the model of the context
        estimates the pool holds least of (:func:`estimated_shares`: its predicted
        probabilities, else its predicted labels, over the candidates; without a
        model, the labels), kept once chosen unless another falls below half of it
        (while only one class was answered, it is taken as the nominal one).
    loss : {"linear", "hinge"}, default="linear"
    lam : float, default=0.1
        Pull towards the plain forest.
    tau : float, default=0.03
        ``loss="hinge"``: the share of the pool expected to be anomalous.
    steps : int, default=50
        ``loss="hinge"``: gradient steps per query (step size ``1 / T``).
    n_estimators, max_samples, random_state
        Of the isolation forest.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2)); X[:10] += 4; X[10:40] *= 4   # 10 true, 30 dull
    >>> y = np.r_[np.ones(10, int), np.zeros(490, int)]
    >>> lab = np.r_[0, 10, 11, 12, 13]
    >>> ctx = QueryContext(X=X, candidates=np.setdiff1d(np.arange(500), lab), labelled=lab,
    ...                    y_labelled=y[lab])
    >>> int(y[AnomalyColdStart().select(ctx, 9)].sum())   # the plain forest: dull outliers
    0
    >>> found = y[ActiveAnomalyDiscovery(positive_label=1).select(ctx, 9)].sum()
    >>> int(found), int(y[ctx.candidates].sum())   # 8 of the 9 positives not yet labelled
    (8, 9)
    """

    name = "aad"
    task = "classification"

    def __init__(
        self,
        positive_label: Any = None,
        loss: str = "linear",
        lam: float = 0.1,
        tau: float = 0.03,
        steps: int = 50,
        n_estimators: int = 100,
        max_samples: int | str = "auto",
        random_state: int = 0,
    ) -> None:
        if loss not in ("linear", "hinge"):
            raise ValueError(f"loss must be 'linear' or 'hinge', got {loss!r}.")
        if not 0.0 < tau < 1.0:
            raise ValueError(f"tau must be in (0, 1), got {tau!r}.")
        if lam <= 0:
            raise ValueError(f"lam must be positive, got {lam!r}.")
        self.positive_label = positive_label
        self.loss = loss
        self.lam = lam
        self.tau = tau
        self.steps = steps
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    def weights(self, ctx: QueryContext) -> np.ndarray:
        """The leaf weights learned from the labels of ``ctx``."""
        _forest, Phi = self._forest(ctx)
        T = float(self.n_estimators)
        w0 = np.full(Phi.shape[1], 1.0 / T)
        y = np.asarray(ctx.y_labelled)
        if y.shape[0] == 0:
            return w0
        positive = self.positive_label
        present = np.unique(y) if positive is None else None
        if present is not None and present.shape[0] > 1:
            classes, sums = _model_sums(ctx)
            if classes is None:  # no model: the labels are the only estimate
                classes, sums = present, np.zeros(present.shape[0])
            positive = self._target(ctx, classes, estimated_shares(ctx, classes, sums))
        is_pos = y == positive if positive is not None else np.zeros(y.shape[0], dtype=bool)
        P, N = Phi[ctx.labelled[is_pos]], Phi[ctx.labelled[~is_pos]]
        if self.loss == "linear":
            return w0 + (_mean_row(P) - _mean_row(N)) / (self.lam * T)
        w = w0.copy()
        for _ in range(self.steps):
            q = np.quantile(Phi @ w, 1.0 - self.tau)
            grad = self.lam * T * (w - w0)
            if P.shape[0]:
                grad -= _mean_row(P[(P @ w) < q], P.shape[0])
            if N.shape[0]:
                grad += _mean_row(N[(N @ w) > q], N.shape[0])
            w -= grad / T
        return w

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        _forest, Phi = self._forest(ctx)
        return _top(ctx.candidates, Phi[ctx.candidates] @ self.weights(ctx), n)


def _model_sums(ctx: QueryContext) -> tuple[np.ndarray | None, np.ndarray]:
    """The context's model's classes and, per class, its estimate summed over the candidates:
    the predicted probabilities, else the predicted labels (0/1); ``None`` without a model."""
    model = ctx.model
    classes = np.asarray(getattr(model, "classes_", []))
    if model is None or classes.shape[0] < 2:
        return None, np.zeros(0)
    if hasattr(model, "predict_proba"):
        P = ctx.map_chunks(lambda X_chunk: np.asarray(model.predict_proba(X_chunk), float))
        return classes, P.sum(axis=0)
    predicted = ctx.map_chunks(lambda X_chunk: np.asarray(model.predict(X_chunk)))
    return classes, (predicted[:, None] == classes[None, :]).sum(axis=0).astype(float)


def _mean_row(M: sp.csr_matrix, count: int | None = None) -> np.ndarray:
    """Sum of the rows of ``M`` over ``count`` (default: its rows); zeros when empty."""
    count = M.shape[0] if count is None else count
    if count == 0 or M.shape[0] == 0:
        return np.zeros(M.shape[1])
    return np.asarray(M.sum(axis=0)).ravel() / count


class RareDiscovery(_SeeksAClass, Strategy):
    """Seek positives with part of each batch, and explore with the rest.

    Pure positive seeking finds many positives but learns only from what the model
    already believes positive: on ImageSegments (one class at 3 %) its balanced
    accuracy ended below random's. Here a share ``explore`` of each batch is spent
    on exploration (uniform random picks by default, or class-balanced margin once
    a model exists), the rest by :class:`PositiveSeeking` (anomalies while no
    positive is known, so that the batch is then half anomalies, half random, as
    positive seeking's own cold start). The split of a batch of ``n`` is ``floor(n * explore)``
    exploration picks, plus one more with the probability of the remainder.

    Parameters
    ----------
    positive_label : optional
        The class sought; default: :class:`PositiveSeeking`'s, the class the model
        estimates the pool holds least of, kept once chosen.
    explore : float, default=0.5
        The share of each batch spent on exploration.
    explorer : {"random", "class_balanced"}, default="random"

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 3)); X[[5, 7]] += 6.0
    >>> ctx = QueryContext(X=X, candidates=np.arange(300), labelled=np.array([], int),
    ...                    y_labelled=np.array([]), rng=np.random.default_rng(0))
    >>> picks = RareDiscovery().select(ctx, 4)
    >>> sorted(picks[:2].tolist())   # two anomalies sought, two random picks
    [5, 7]
    """

    name = "rare_discovery"
    task = "classification"
    requires: ClassVar[tuple[Any, ...]] = ()

    def __init__(
        self, positive_label: Any = None, explore: float = 0.5, explorer: str = "random"
    ) -> None:
        if not 0.0 <= explore <= 1.0:
            raise ValueError(f"explore must be in [0, 1], got {explore!r}.")
        if explorer not in ("random", "class_balanced"):
            raise ValueError(f"explorer must be 'random' or 'class_balanced', got {explorer!r}.")
        self.positive_label = positive_label
        self.explore = explore
        self.explorer = explorer
        # its own random share already explores: the seeking part keeps to the anomalies
        # while no positive is known (half anomalies, half random in all)
        self._seeker = PositiveSeeking(cold_explore=0.0)

    def check_model(self, model: Any) -> None:
        """Refuse a regressor, and for ``explorer="class_balanced"`` a model without
        ``predict_proba``, which that explorer needs.

        Parameters
        ----------
        model : estimator or None
            The learner's estimator (or fitted model).
        """
        super().check_model(model)
        if self.explorer != "class_balanced" or model is None:
            return
        try:
            ClassBalanced().check_model(model)
        except StrategyRequirementError as err:
            raise StrategyRequirementError(
                f"RareDiscovery(explorer='class_balanced') explores by class-balanced margin, "
                f"which needs `predict_proba`, but {type(model).__name__} has none: use "
                "explorer='random' (the default), or a model with predict_proba. "
                + str(err).split(" has none. ", 1)[-1]
            ) from err

    @property
    def target_(self) -> Any:
        """The class sought: ``positive_label``, else the one its seeking part chose."""
        if self.positive_label is not None:
            return self.positive_label
        return self._seeker.target_

    def reset(self, target: Any = None) -> None:
        """Start a campaign: forget the class chosen, or take up ``target``
        (:meth:`PositiveSeeking.reset`)."""
        self._seeker.reset(target)

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        n_explore = _split(n, self.explore, ctx.rng)
        self._seeker.positive_label = self.positive_label
        seek = self._seeker._select(ctx, n - n_explore) if n > n_explore else np.empty(0, int)
        if n_explore == 0:
            return np.asarray(seek, dtype=np.int64)
        rest = ctx.with_candidates(np.setdiff1d(ctx.candidates, seek))
        model = ctx.model
        if self.explorer == "class_balanced" and model is not None:
            more = ClassBalanced().select(rest, n_explore)
        else:
            more = ctx.rng.choice(rest.candidates, n_explore, replace=False)
        return np.concatenate([np.asarray(seek, dtype=np.int64), np.asarray(more, np.int64)])


class RareAuto(AutoStrategy):
    """The ``auto`` bandit with a positive-seeking arm: ``auto_rare``.

    :class:`~activelab.strategies.selection.AutoStrategy` over :data:`RARE_ARMS`
    (its default arms and ``positive_seeking``) unless ``arms`` is given; every
    other parameter is the bandit's.

    Parameters
    ----------
    arms : sequence of str or Strategy, optional
        Default: :data:`RARE_ARMS`.
    positive_label : optional
        The class the rare-class arms seek (given to every arm that takes a
        ``positive_label`` and was not given one); default: each arm's own, the
        class the model estimates the pool holds least of.
    **params
        The bandit's (:class:`~activelab.strategies.selection.AutoStrategy`).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 1.0).astype(int)
    >>> lab = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:6]]
    >>> ctx = QueryContext(X=X, candidates=np.setdiff1d(np.arange(200), lab), labelled=lab,
    ...                    y_labelled=y[lab], model=LogisticRegression().fit(X[lab], y[lab]),
    ...                    classes=np.array([0, 1]), rng=np.random.default_rng(0))
    >>> strategy = RareAuto(positive_label=1)
    >>> _ = strategy.select(ctx, 5)
    >>> [a.positive_label for a in strategy._arms if a.name == "positive_seeking"]
    [1]
    """

    name = "auto_rare"

    def __init__(self, arms: Any = None, positive_label: Any = None, **params: Any) -> None:
        self.positive_label = positive_label
        super().__init__(arms=list(RARE_ARMS) if arms is None else arms, **params)

    @property
    def target_(self) -> Any:
        """The class sought: ``positive_label``, else the one its seeking arms chose
        (``None`` before any did)."""
        if self.positive_label is not None:
            return self.positive_label
        for arm in self._arms or []:
            if getattr(arm, "target_", None) is not None:
                return arm.target_
        return self._taken_up

    def reset(self, target: Any = None) -> None:
        """Start a campaign: the bandit starts over, its seeking arms forget the class
        they chose, or take up ``target`` (:meth:`PositiveSeeking.reset`)."""
        super().reset()
        self._taken_up = target

    def _reset(self) -> None:
        # the bandit starts over when the pool grows: its new arms keep the class chosen
        self._taken_up = self.target_ if hasattr(self, "_taken_up") else None
        super()._reset()

    def _resolve(self, ctx: QueryContext) -> None:
        kept = self._taken_up
        super()._resolve(ctx)
        for arm in self._arms or []:
            if getattr(arm, "positive_label", False) is not None:
                continue  # an arm without the parameter, or one given its own label
            if self.positive_label is not None:
                arm.positive_label = self.positive_label
            elif hasattr(arm, "target_"):
                arm.reset(kept)
