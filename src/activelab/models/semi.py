"""The pool-aware fit: a supervised model, the pool's label spreading, or both.

:class:`HybridClassifier` wraps any probabilistic classifier. Fitted on the
pool (:meth:`~HybridClassifier.fit_pool`), it fits the classifier on the human
labels and spreads the same labels over the pool's k-nearest-neighbour graph
(:class:`~activelab.models.spreading.GraphSpreading`), then predicts with

- ``"supervised"``: the classifier alone (today's fit);
- ``"spreading"``: the spread labels alone;
- ``"blend"``: the mean of the two distributions;
- ``"self-training"``: the classifier self-trained on the pool
  (:class:`~activelab.models.selftraining.SelfTraining`);
- ``"auto"``: whichever of supervised, spreading and blend has the best
  cross-validated accuracy **on the labelled items** — no test set is needed.
  The folds of the spreading are propagated together (one block of columns per
  fold), so the check costs one spreading and ``cv`` fits of the classifier
  (on pools over :data:`LARGE_POOL` items: at most 3 folds, single precision).
  In a campaign the method chosen at the last refit (``previous=``) is kept
  unless another beats it by more than one standard error of their paired
  difference on the held-out labelled items: with a few dozen labels the check
  is noisy, and a model that flips method every round flips its predictions too.

The human labels are the only labels: the spread distributions and
pseudo-labels are attributes of the model, never written back to the learner.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> t = rng.uniform(0, 3 * np.pi, 300)
>>> arm = np.c_[t * np.cos(t), t * np.sin(t)] + rng.normal(0, 0.1, (300, 2))
>>> X, y = np.r_[arm, -arm], np.repeat([0, 1], 300)        # two interleaved spirals
>>> lab = np.r_[rng.choice(300, 10, replace=False), 300 + rng.choice(300, 10, replace=False)]
>>> m = HybridClassifier(LogisticRegression(), "auto").fit_pool(X, lab, y[lab])
>>> m.chosen_ != "supervised", m.score(X, y) > 0.9
(True, True)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from activelab.models.imbalance import class_weight_of
from activelab.models.selftraining import SelfTraining
from activelab.models.spreading import (
    LARGE_POOL,
    GraphPool,
    GraphSpreading,
    find_by_keys,
    seed_weights,
    spread,
)
from activelab.scoring import take_rows

__all__ = ["METHODS", "HybridClassifier", "scaled_on_pool"]

#: The values of ``method`` (and of the learner's ``semi_supervised``).
METHODS = ("auto", "spreading", "blend", "self-training", "supervised")
#: Candidates of ``"auto"``, in the order ties are broken.
_AUTO = ("blend", "supervised", "spreading")
_WEIGHT = {"supervised": 0.0, "self-training": 0.0, "blend": 0.5, "spreading": 1.0}
#: Pipeline steps that ``scaled_on_pool`` fits on the pool (they read no labels).
_SCALERS = (StandardScaler, RobustScaler, MinMaxScaler, MaxAbsScaler)


def scaled_on_pool(estimator: Any, X: Any) -> Any:
    """``estimator`` with the scalers that lead its pipeline fitted on the whole pool, frozen.

    A scaler fitted on the labelled items alone reads the spread of each column
    from a few dozen actively chosen rows: a column that barely varies among
    them (or not at all) is then blown up at prediction time. The pool is
    there, unlabelled, and a scaler needs no labels: fitted once on it and
    frozen (:class:`sklearn.frozen.FrozenEstimator`), every refit of the
    classifier sees the same, well-estimated scale. Only the leading run of
    scikit-learn scalers (``StandardScaler``, ``RobustScaler``,
    ``MinMaxScaler``, ``MaxAbsScaler``) of a :class:`~sklearn.pipeline.Pipeline`
    is changed, with each scaler's own settings; anything else is returned as
    it is.

    Parameters
    ----------
    estimator : estimator
        Usually a pipeline such as ``make_pipeline(StandardScaler(), LogisticRegression())``.
    X : array-like or sparse matrix
        The pool (every row, labelled or not).

    Returns
    -------
    estimator
        A new pipeline (the original is not changed), or ``estimator`` itself.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.c_[np.arange(10.0), np.r_[np.zeros(9), 30.0]]
    >>> model = scaled_on_pool(make_pipeline(StandardScaler(), LogisticRegression()), X)
    >>> model = model.fit(X[:4], [0, 0, 1, 1])      # the second column is 0 on these rows
    >>> model[0].estimator.scale_.round(2).tolist()   # spread read from the pool
    [2.87, 9.0]
    """
    if not isinstance(estimator, Pipeline) or len(estimator.steps) < 2:
        return estimator
    out = clone(estimator)
    for i, (name, step) in enumerate(estimator.steps[:-1]):
        if not isinstance(step, _SCALERS):
            break
        out.steps[i] = (name, FrozenEstimator(clone(step).fit(X)))
    return out


class HybridClassifier(ClassifierMixin, BaseEstimator):
    """A classifier that learns from the unlabelled pool too.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba`` (cloned).
    method : {"auto", "spreading", "blend", "self-training", "supervised"}, default="auto"
        See the module docstring.
    n_neighbors : int, default=10
        Neighbours per item of the pool's graph.
    alpha : float, default=0.9
        Spreading's ``alpha``.
    embedding : callable, optional
        Maps pool rows to the space of the graph (default: the scaled features of
        :class:`~activelab.shared_graph.GraphSpace`).
    cv : int, default=5
        Folds of ``"auto"``'s check.
    random_state : int, default=0
        Seeds the folds.
    scale_on_pool : bool, default=True
        Fit the scalers that lead a pipeline ``estimator`` on the whole pool
        instead of the labelled items (:func:`scaled_on_pool`), for every
        method and for ``"auto"``'s check.
    previous : str, optional
        The method chosen at the last refit of the same campaign: ``"auto"``
        keeps it unless another candidate scores higher by more than one
        standard error of the paired difference (see the module notes).
    class_weight : {"auto", None, "balanced"}, default="auto"
        ``"balanced"``: the spreading gives every class the same total mass
        and ``"auto"``'s check compares the candidates by balanced accuracy
        (the mean recall over the classes) instead of accuracy. ``"auto"``:
        balanced when the classifier (or a pipeline's last step) has
        ``class_weight="balanced"``, as activelab's models on data with a rare
        class do.

    Attributes
    ----------
    chosen_ : str
        The method used for this fit (``"auto"`` resolved).
    cv_scores_ : dict of str to float
        ``"auto"``: cross-validated accuracy (balanced accuracy when balanced) of each
        candidate on the labelled items.
    supervised_ : classifier
        The classifier (self-trained for ``"self-training"``).
    spreading_ : GraphSpreading or None
    classes_ : ndarray
    pool_ : GraphPool
        The graph, to pass to the next :meth:`fit_pool` of the same pool.
    """

    def __init__(
        self,
        estimator: Any,
        method: str = "auto",
        n_neighbors: int = 10,
        alpha: float = 0.9,
        embedding: Any = None,
        cv: int = 5,
        random_state: int = 0,
        class_weight: str | None = "auto",
        previous: str | None = None,
        scale_on_pool: bool = True,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.embedding = embedding
        self.cv = cv
        self.random_state = random_state
        self.class_weight = class_weight
        self.previous = previous
        self.scale_on_pool = scale_on_pool

    def _balanced(self) -> bool:
        if self.class_weight == "auto":
            return class_weight_of(self.estimator) == "balanced"
        if self.class_weight not in (None, "balanced"):
            raise ValueError(
                f"class_weight must be 'auto', None or 'balanced'; got {self.class_weight!r}."
            )
        return self.class_weight == "balanced"

    def _spreader(self) -> GraphSpreading:
        return GraphSpreading(
            n_neighbors=self.n_neighbors,
            alpha=self.alpha,
            embedding=self.embedding,
            class_weight="balanced" if self._balanced() else None,
        )

    def make_pool(self, X: Any) -> GraphPool:
        """The pool's graph with this model's settings (build once, pass to every fit)."""
        return self._spreader().make_pool(X)

    def fit(self, X: Any, y: Any) -> HybridClassifier:
        """scikit-learn's semi-supervised convention: ``y == -1`` marks unlabelled rows."""
        y = np.asarray(y)
        labelled = np.flatnonzero(y != -1)
        return self.fit_pool(X, labelled, y[labelled])

    def fit_pool(
        self, X: Any, labelled: Any, y: Any, *, pool: GraphPool | None = None, **fit_params: Any
    ) -> HybridClassifier:
        """Fit on the pool ``X`` whose rows ``labelled`` carry the labels ``y``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame
            The whole pool.
        labelled : array-like of int
            Pool indices of the human labels.
        y : array-like
            The human labels.
        pool : GraphPool, optional
            The pool's graph from an earlier fit (not rebuilt).
        **fit_params
            Passed to the classifier's ``fit`` (e.g. ``sample_weight``).

        Returns
        -------
        self
        """
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}.")
        labelled = np.asarray(labelled, dtype=np.intp)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        Xl = take_rows(X, labelled)
        self.cv_scores_: dict[str, float] = {}
        self.spreading_ = None
        base = scaled_on_pool(self.estimator, X) if self.scale_on_pool else self.estimator
        if self.method == "self-training":
            self.supervised_ = SelfTraining(base).fit_pool(X, labelled, y)
            self.chosen_ = "self-training"
            self.pool_ = pool
            return self
        self.supervised_ = clone(base).fit(Xl, y, **fit_params)
        if self.method == "supervised":
            self.chosen_, self.pool_ = "supervised", pool
            return self
        self.pool_ = pool if pool is not None else self.make_pool(X)
        self.spreading_ = self._spreader().fit_pool(X, labelled, y, pool=self.pool_)
        if self.method == "auto":
            self.cv_scores_, gain = self._cross_validate(base, X, labelled, y)
            best = max(_AUTO, key=lambda m: (self.cv_scores_[m], -_AUTO.index(m)))
            keep = self.previous in _AUTO and gain is not None
            self.chosen_ = self.previous if keep and not _beats(gain, best, self.previous) else best
        else:
            self.chosen_ = self.method
        return self

    def _cross_validate(
        self, base: Any, X: Any, labelled: np.ndarray, y: np.ndarray
    ) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
        """Accuracy of supervised, spreading and blend on held-out labelled items, and
        each candidate's weighted hits per held-out item (for paired comparisons)."""
        n = labelled.size
        _, codes = np.unique(y, return_inverse=True)
        n_cls = self.classes_.shape[0]
        counts = np.bincount(codes, minlength=n_cls)
        large = self.pool_.n > LARGE_POOL
        k = int(min(self.cv, n, 3 if large else self.cv))
        if k < 2:
            return dict.fromkeys(_AUTO, 0.0), None
        if counts.min() >= k:
            folds = StratifiedKFold(k, shuffle=True, random_state=self.random_state)
            splits = list(folds.split(np.zeros(n), codes))
        else:
            splits = list(KFold(k, shuffle=True, random_state=self.random_state).split(codes))
        # every fold's spreading at once: one block of n_cls columns per fold (single
        # precision on a large pool: the products are the cost, and only argmax is read)
        weight = "balanced" if self._balanced() else None
        Y = np.zeros((self.pool_.n, k * n_cls), dtype=np.float32 if large else float)
        for f, (train, _) in enumerate(splits):
            counts_f = np.bincount(codes[train], minlength=n_cls)
            Y[labelled[train], f * n_cls + codes[train]] = seed_weights(
                codes[train], counts_f, weight
            )
        S = self.pool_.s32 if large else self.pool_.S
        F = spread(S, Y, alpha=self.alpha, n_iter=self.spreading_.n_iter)
        # predictions of every candidate on every held-out item, scored once at the end
        pred = {m: np.empty(n, dtype=np.intp) for m in _AUTO}
        truth = np.empty(n, dtype=np.intp)
        for f, (train, test) in enumerate(splits):
            P_spr = F[labelled[test], f * n_cls : (f + 1) * n_cls]
            s = P_spr.sum(axis=1, keepdims=True)
            P_spr = np.where(s > 0, P_spr / np.where(s > 0, s, 1), 1.0 / n_cls)
            P_sup = np.full((test.size, n_cls), 1.0 / n_cls)
            own = P_sup.argmax(axis=1)
            if np.unique(codes[train]).size >= 2:
                X_test = take_rows(X, labelled[test])
                try:
                    model = clone(base).fit(take_rows(X, labelled[train]), y[train])
                    proba = model.predict_proba(X_test)
                    # scored as it predicts: the classifier's own rule (a tuned threshold)
                    guess = np.asarray(model.predict(X_test))
                except ValueError:
                    # too few labels in the fold for the model (k-NN with fewer items than
                    # neighbours): it knows no more than a fold of one class, as above
                    proba = None
                if proba is not None:
                    cols = np.searchsorted(self.classes_, model.classes_)
                    P_sup = np.zeros((test.size, n_cls))
                    P_sup[:, cols] = proba
                    own = np.searchsorted(self.classes_, guess)
            truth[test] = codes[test]
            pred["supervised"][test] = own
            pred["spreading"][test] = P_spr.argmax(axis=1)
            pred["blend"][test] = (P_sup + P_spr).argmax(axis=1)
        if weight is None:
            w = np.full(n, 1.0 / n)
        else:  # balanced accuracy as a weighted mean of hits: each class weighs the same
            seen = np.bincount(truth, minlength=n_cls)
            w = 1.0 / (np.count_nonzero(seen) * seen[truth])
        hits = {m: w * (pred[m] == truth) for m in _AUTO}
        return {m: float(hits[m].sum()) for m in _AUTO}, hits

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the pool's graph when the chosen fit does not use it (a saved
        model is then as small as its supervised estimator)."""
        state = self.__dict__.copy()
        if _WEIGHT.get(state.get("chosen_", ""), 1.0) == 0.0:
            state["spreading_"] = state["pool_"] = None
        return state

    def compact(self) -> HybridClassifier:
        """A copy that keeps the pool's predictions but not its graph, for storing.

        The spread class distributions of the pool's rows are kept (in single
        precision) with a content index that finds those rows again; the graph,
        the pool's rows and the affinities are left out. The copy predicts the
        pool's rows as this model does (up to single precision); a row that is
        not in the pool gets the supervised classifier's probabilities. The app
        stores this form: on a 100,000-item pool it is a few megabytes, where
        the whole model is tens.

        Examples
        --------
        >>> import pickle
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.r_[np.zeros((20, 1)), np.ones((20, 1)) * 5] + np.arange(40)[:, None] * 0.01
        >>> model = HybridClassifier(LogisticRegression(), method="spreading")
        >>> model = model.fit_pool(X, [0, 39], [0, 1])
        >>> small = model.compact()
        >>> bool(np.allclose(small.predict_proba(X), model.predict_proba(X), atol=1e-6))
        True
        >>> len(pickle.dumps(small)) < len(pickle.dumps(model)) / 2
        True
        """
        out = copy.copy(self)
        if self.spreading_ is not None and _WEIGHT[self.chosen_] > 0.0:
            out.spreading_ = _PoolLookup(self.spreading_)
        else:
            out.spreading_ = None
        out.pool_ = None
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the chosen method."""
        w = _WEIGHT[self.chosen_]
        if w == 0.0:
            return self._supervised_proba(X)
        P_spr = self.spreading_.predict_proba(X)
        if isinstance(self.spreading_, _PoolLookup):  # a compact copy: rows off the pool
            off = np.isnan(P_spr[:, 0])
            if off.any():
                P_spr[off] = self._supervised_proba(take_rows(X, np.flatnonzero(off)))
        if w == 1.0:
            return P_spr
        return (1.0 - w) * self._supervised_proba(X) + w * P_spr

    def _supervised_proba(self, X: Any) -> np.ndarray:
        model = self.supervised_
        P = model.predict_proba(X)
        if np.array_equal(model.classes_, self.classes_):
            return P
        out = np.zeros((P.shape[0], self.classes_.shape[0]))
        out[:, np.searchsorted(self.classes_, model.classes_)] = P
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The likeliest class of each row; the classifier's own ``predict`` when the fit
        chosen is the classifier's alone (``"supervised"``, ``"self-training"``), so that
        its decision rule (a tuned threshold of
        :class:`~activelab.models.imbalance.ThresholdClassifier`) is kept."""
        if _WEIGHT[self.chosen_] == 0.0:
            return np.asarray(self.supervised_.predict(X))
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _beats(hits: dict[str, np.ndarray], challenger: str, incumbent: str) -> bool:
    """Whether ``challenger`` scores higher than ``incumbent`` by more than one standard
    error of their paired difference over the held-out items (the weighted hits).

    Examples
    --------
    >>> h = {"a": np.full(20, 0.05), "b": np.r_[np.full(19, 0.05), 0.0]}
    >>> _beats(h, "a", "b"), _beats({"a": np.full(20, 0.05), "b": np.zeros(20)}, "a", "b")
    (False, True)
    """
    d = hits[challenger] - hits[incumbent]
    n = d.shape[0]  # at least 2: the check holds out at least two folds' items
    # the scores are sums of weighted hits: the paired difference's standard error
    se = np.sqrt(n / (n - 1) * np.sum((d - d.mean()) ** 2))
    # one held-out item the challenger alone gets right is exactly one standard error: a tie
    return bool(d.sum() > se * (1.0 + 1e-9))


class _PoolLookup:
    """The spread distributions of a fitted :class:`GraphSpreading`, without its graph.

    Rows are found again by two random projections of the graph's space (the
    same index :meth:`GraphPool.locate` uses, without the final comparison of
    the rows themselves); a row not found gets NaN, for the caller to fill.
    """

    def __init__(self, spreading: GraphSpreading) -> None:
        pool = spreading.pool_
        space = copy.copy(pool.space)
        space.Z = None  # the transform keeps only its parameters
        self.space = space
        self.classes_ = spreading.classes_
        self.distributions = spreading.label_distributions_.astype(np.float32)
        self._probe = pool._probe
        self._order = pool._order
        self._sorted_keys = pool._sorted_keys

    def predict_proba(self, X: Any) -> np.ndarray:
        Z = self.space.transform(X)
        keys = np.asarray(Z @ self._probe, dtype=float).reshape(Z.shape[0], 2)
        where = find_by_keys(self._sorted_keys, self._order, keys)
        out = np.full((keys.shape[0], self.classes_.shape[0]), np.nan)
        found = where >= 0
        out[found] = self.distributions[where[found]]
        return out
