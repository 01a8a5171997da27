"""ActiveLearner: an estimator, a query strategy and the labelled/unlabelled bookkeeping.

The learner is the library door into activelab's one loop::

    fit(pool) -> query(n) -> [a person labels] -> teach(indices, labels) -> query(n) ...

It holds the pool (dense numpy, scipy sparse or a pandas DataFrame), the pool
indices labelled so far and their labels, and the fitted model. Until a model
can be fitted (no labels yet, or a single class seen) a strategy that needs one
is replaced by the named cold-start strategy, and the query record says so.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterator, Set
from dataclasses import dataclass, field, fields
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from activelab._text import count
from activelab._validation import (
    _kinds,
    check_count,
    check_indices,
    check_label_values,
    check_pool,
    non_numeric_columns,
    pool_and_nan,
)
from activelab.cluster import DaskBackend, _gathers, _not_a_dask_pool, is_dask_collection
from activelab.multilabel._model import (
    LABEL_SEPARATOR,
    check_indicator,
    fit_multilabel,
    multilabel_proba,
)
from activelab.scoring import DEFAULT_CHUNK_SIZE, take_rows
from activelab.strategies import clone_strategy, get_strategy
from activelab.strategies._base import NonNumericPoolError, QueryContext, Strategy

__all__ = ["ActiveLearner", "NotFittedError", "QueryRecord"]


class NotFittedError(RuntimeError):
    """The learner has no fitted model yet (no pool, no labels, or a single class)."""


@dataclass(frozen=True)
class QueryRecord:
    """What one call of :meth:`ActiveLearner.query` did.

    Attributes
    ----------
    indices : ndarray of int64
        The pool indices returned.
    strategy : str
        The name of the strategy that chose them (the cold start's name when it
        stood in for the main strategy).
    cold_start : bool
        True when the cold-start strategy stood in.
    n_labelled : int
        Labels known when the query was made.
    seconds : float
        Wall time of the selection.
    probabilities : ndarray of float or None
        The probability with which each pick was drawn from the candidates
        remaining at that moment, or ``None`` for a deterministic strategy.
    arms : tuple of str or None
        For a strategy that delegates each pick (``"auto"``), the arm that
        made each pick; otherwise ``None``.
    """

    indices: np.ndarray
    strategy: str
    cold_start: bool
    n_labelled: int
    seconds: float
    probabilities: np.ndarray | None = None
    arms: tuple[str, ...] | None = None


class ActiveLearner:
    """Pool-based active learning around any scikit-learn estimator.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn classifier or regressor, pipelines included. It is
        cloned before each fit; the original is never modified.
    strategy : str or Strategy, default="margin"
        The query strategy, by name (see :func:`activelab.strategies.available`)
        or as an instance. An instance is cloned at each :meth:`fit`
        (:func:`~activelab.strategies.clone_strategy`): the learner queries with
        its own copy, :attr:`strategy_`, so learners given one instance share no
        state and each repeats under its ``random_state``.
    cold_start : str or Strategy, default="typicality"
        Stands in for ``strategy`` while no model can be fitted. It must not
        need a model. Cloned as ``strategy`` is.
    classes : array-like or int, optional
        The fixed set of classes. Labels outside it are refused. When omitted,
        the classes are those seen so far (a set, such as ``set(y)``, is fine).
        For a multi-label target, the label names in column order (a list, not
        a set), or their number (an int implies multi-label).
    random_state : int or numpy.random.Generator, optional
        Seeds every random choice (strategies, committees, cold start).
    refit : bool, default=True
        Refit the model after every :meth:`teach`.
    embed : callable or "model", optional
        Maps rows of the pool to an embedding for diversity strategies
        (default: the features themselves; for a DataFrame pool with
        non-numeric columns and a :class:`~sklearn.pipeline.Pipeline`, the
        pipeline's leading steps fitted on the pool, such as its
        ``ColumnTransformer``). ``"model"``: the fitted model's leading steps
        (with ``semi_supervised``, those of the pipeline inside the hybrid fit;
        for a ``GridSearchCV`` or ``RandomizedSearchCV``, those of its
        ``best_estimator_``). A model that is not such a pipeline has no
        leading steps: the raw features are used, with a warning (once).
    chunk_size : int, default=16384
        Rows scored at a time; bounds the memory of a query.
    min_labels : int, default=1
        Labels needed before a model is fitted (regressors need at least 2).
        Raise it for an estimator that cross-validates on its own labels
        (``GridSearchCV``, ``CalibratedClassifierCV``): about its folds times
        the classes.
    backend : object, optional
        Where the pool is scored. By default in this process, or — for a Dask
        array/DataFrame pool — on Dask (:class:`activelab.cluster.DaskBackend`,
        with the current client). On a Dask pool the default cold start
        ``"typicality"`` becomes ``"random"`` (clustering would gather the pool).
    multilabel : bool, optional
        Labels are 0/1 indicator rows of shape ``(n, n_labels)``, one column per
        label. Inferred when omitted: an int ``classes`` or 2-D labels given to
        a classifier mean multi-label. A model is fitted once one label has been
        seen both ways; labels seen with one value only are predicted as that
        constant (:class:`~activelab.multilabel.ConstantLabelsClassifier`).
    weighting : {None, "lure"}, default=None
        ``"lure"`` fits the model with bias-corrected sample weights
        (:func:`activelab.weighting.lure_weights`), when the estimator's ``fit``
        takes ``sample_weight`` (a pipeline's last step, or the estimator a
        ``GridSearchCV``/``RandomizedSearchCV`` searches over:
        :func:`activelab.weighting.sample_weight_param`) and every label's
        selection probability is known (a stochastic strategy); otherwise it
        warns and fits unweighted. With ``semi_supervised``, the weights go to
        the classifier part of the fit (not to ``"self-training"``, which warns).
    semi_supervised : {None, "off", "auto", "spreading", "blend", "self-training"}, default=None
        Let the model learn from the unlabelled pool too
        (:class:`~activelab.models.semi.HybridClassifier`): ``"spreading"``
        spreads the labels over the pool's k-nearest-neighbour graph (built once
        per pool, on ``embed`` when it is a callable, else on the standardised
        features, and shared with the strategies that work on the graph, such as
        ``probcover``: :mod:`activelab.shared_graph`), ``"blend"`` averages that
        with the estimator, ``"self-training"`` self-trains the estimator, and
        ``"auto"`` picks supervised, spreading or blend at every refit by
        cross-validation on the labelled items.
        Strategies then score with the hybrid's probabilities. Pseudo-labels
        stay inside the model: ``labels_`` holds human answers only.
        Single-label classification only; ``"auto"`` quietly stays supervised
        where it cannot apply (a regressor, multi-label targets, a Dask pool,
        an estimator without ``predict_proba``, a strategy that needs the
        estimator's own internals, a pool with NaN and no imputing steps to build
        the graph on).

    Attributes
    ----------
    model_ : estimator or None
        The fitted model, or ``None`` while none could be fitted.
    labelled_ : ndarray of int64
        Pool indices labelled so far, in teaching order.
    labels_ : ndarray
        Their labels, aligned with ``labelled_``.
    history_ : list of QueryRecord
        One record per query.
    strategy_ : Strategy
        The strategy the learner queries with: its own copy of ``strategy``,
        made at :meth:`fit`, holding what the strategy records (e.g. ``auto``'s
        ``arm_history_`` and ``weight_history_``).
    graph_pool_ : GraphPool or None
        With ``semi_supervised``: the pool's k-nearest-neighbour graph
        (:class:`~activelab.models.spreading.GraphPool`), built at the first
        hybrid refit and reused by every later one. ``fit`` resets it; set it
        after ``fit(X)`` to reuse a graph built earlier for the same pool.
    hybrid_method_ : str or None
        With ``semi_supervised="auto"``: the method the last refit chose
        (``"supervised"``, ``"spreading"`` or ``"blend"``). The next refit keeps
        it unless another beats it by more than one standard error on the
        labelled items (:class:`~activelab.models.semi.HybridClassifier`'s
        ``previous``). ``fit`` resets it; set it after ``fit(X)`` to carry a
        campaign's choice over from an earlier learner.
    selection_probabilities_ : ndarray of float
        Aligned with ``labelled_``: the probability with which each label was
        chosen from the items then unlabelled; NaN where unknown (a
        deterministic strategy, or labels taught without a query).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), "margin", random_state=0)
    >>> learner = learner.fit(X)               # no labels yet: cold start
    >>> for _ in range(5):
    ...     idx = learner.query(4)
    ...     learner = learner.teach(idx, y[idx])   # the oracle answers
    >>> learner.n_labelled_
    20
    >>> learner.history_[0].cold_start, learner.history_[-1].strategy
    (True, 'margin')
    >>> learner.score(X, y) > 0.85
    True
    """

    def __init__(
        self,
        estimator: Any,
        strategy: str | Strategy = "margin",
        *,
        cold_start: str | Strategy = "typicality",
        classes: Any = None,
        random_state: int | np.random.Generator | None = None,
        refit: bool = True,
        embed: Any = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        min_labels: int = 1,
        backend: Any = None,
        multilabel: bool | None = None,
        weighting: str | None = None,
        semi_supervised: str | None = None,
    ) -> None:
        self.estimator = estimator
        self.strategy = strategy
        self.cold_start = cold_start
        self.classes = classes
        self.random_state = random_state
        self.refit = refit
        self.embed = embed
        self.chunk_size = chunk_size
        self.min_labels = min_labels
        self.backend = backend
        self.multilabel = multilabel
        self.weighting = weighting
        self.semi_supervised = semi_supervised
        self._X: Any = None

    # ------------------------------------------------------------------ set-up
    def fit(self, X: Any, labelled: Any = None, labels: Any = None) -> ActiveLearner:
        """Take the pool, optionally with items already labelled, and fit the model.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame, shape (n_pool, n_features)
            The pool. Infinity is refused, and so is NaN unless the estimator
            takes it: a :class:`~sklearn.pipeline.Pipeline` whose leading steps
            impute (``make_pipeline(SimpleImputer(), ...)``; strategies that place
            items by their features then read the rows those steps give), or an
            estimator whose scikit-learn tags allow NaN
            (``HistGradientBoostingClassifier``; strategies that place items by
            their features are then refused, naming the fixes).
        labelled : array-like of int, optional
            Pool indices already labelled.
        labels : array-like, optional
            Their labels.

        Returns
        -------
        self

        Notes
        -----
        ``fit`` starts over: earlier labels, model and history are dropped. If
        it raises (a bad pool, index or label), the learner is left as it was.
        """
        before = dict(self.__dict__)
        try:
            return self._take_pool(X, labelled, labels)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _take_pool(self, X: Any, labelled: Any, labels: Any) -> ActiveLearner:
        """:meth:`fit`'s work; ``fit`` restores the earlier state if it raises."""
        if isinstance(self.estimator, type):
            name = self.estimator.__name__
            raise TypeError(
                f"estimator is the class {name}, not an estimator object; pass an instance, "
                f"e.g. ActiveLearner({name}(), ...)."
            )
        if not hasattr(self.estimator, "fit"):
            raise TypeError(
                "estimator must be a scikit-learn estimator object, e.g. "
                f"LogisticRegression(max_iter=1000); got {self.estimator!r}."
            )
        on_dask = is_dask_collection(X)
        # the learner's own copies: an instance given to several learners shares no state
        self._strategy = clone_strategy(get_strategy(self.strategy))
        cold = "random" if on_dask and self.cold_start == "typicality" else self.cold_start
        self._cold = clone_strategy(get_strategy(cold))
        if on_dask:
            for s in (self._strategy, self._cold):
                if not s.supports_dask:
                    raise ValueError(_gathers(s.name))
            self._backend = self.backend if self.backend is not None else DaskBackend()
        elif isinstance(self.backend, DaskBackend):
            raise ValueError(_not_a_dask_pool(X))
        else:
            self._backend = self.backend
        if self._cold.needs_model:
            raise ValueError(
                f"cold_start={self._cold.name!r} needs a model, so it cannot start from zero "
                "labels; use 'typicality' or 'random'."
            )
        self._strategy.check_model(self.estimator)  # a model-free one may refuse it too
        check_count(self.min_labels, "min_labels", minimum=0)
        chunk = self.chunk_size  # check_count would call it "a positive whole number"
        if isinstance(chunk, bool) or not isinstance(chunk, Integral) or chunk < 1:
            raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk!r}.")
        if not isinstance(self.refit, bool | np.bool_):
            raise ValueError(f"refit must be True or False, got {self.refit!r}.")
        if self.multilabel is not None and not isinstance(self.multilabel, bool | np.bool_):
            raise ValueError(f"multilabel must be None, True or False, got {self.multilabel!r}.")
        if self.classes is not None and is_regressor(self.estimator):
            raise ValueError(
                f"classes={self.classes!r} was given, but {type(self.estimator).__name__} is a "
                "regressor; leave classes=None for regression."
            )
        _check_embed(self.embed)
        if self.weighting not in (None, "lure"):
            raise ValueError(f"weighting must be None or 'lure', got {self.weighting!r}.")
        X, has_nan, nan_encoder = _checked_pool(self.estimator, X, self.chunk_size)
        self._ml, self._fixed_classes, self._label_names = _resolve_classes(
            self.classes, self.multilabel
        )
        _check_positive_label(self._strategy, self._fixed_classes)
        if not self._ml and self._fixed_classes is not None:
            _check_label_sets(self._fixed_classes, self.estimator)
        self.graph_pool_: Any = None
        self.hybrid_method_: str | None = None
        self._semi = _semi_method(self, on_dask)
        self._rng = _generator(self.random_state)
        self._X = X
        # one function object for the whole pool: the shared graph is keyed by its identity,
        # and a bound method taken anew at every query made every query search the pool again
        if has_nan and (self.embed is None or isinstance(self.embed, str)):
            # the features hold NaN: strategies place items by the pipeline's imputing steps,
            # or are refused in one line when there are none
            self._pool_embed = _missing_features if nan_encoder is None else nan_encoder.transform
        else:
            encoder = _pool_encoder(self.estimator, X) if self.embed is None else None
            self._pool_embed = None if encoder is None else encoder.transform
        graph = self._semi not in (None, "self-training") and not callable(self.embed)
        if graph and self._pool_embed is _missing_features:  # no finite rows for the graph
            if self.semi_supervised != "auto":
                raise ValueError(
                    f"semi_supervised={self._semi!r} spreads the labels over the pool's "
                    "neighbour graph, built on the features, and the pool has NaN: make the "
                    "estimator a Pipeline whose leading steps impute (make_pipeline("
                    "SimpleImputer(), ...)), give embed= a function that returns finite rows, "
                    "or use semi_supervised='off' or 'self-training'."
                )
            self._semi = None  # "auto" stays supervised where the hybrid fit cannot apply
        self._mask = np.zeros(X.shape[0], dtype=bool)
        self.labelled_ = np.empty(0, dtype=np.int64)
        self.labels_ = np.empty(0)
        self.selection_probabilities_ = np.empty(0)
        self._pending: dict[int, float] = {}
        self.model_ = None
        self.history_: list[QueryRecord] = []
        self.fit_seconds_ = 0.0
        self._check_task(self._strategy)
        if labelled is not None or labels is not None:
            if labelled is None or labels is None:
                raise ValueError(
                    "Pass both `labelled` (pool indices) and `labels`, or neither."
                    + _label_vector_hint(labelled, X.shape[0])
                )
            self.teach(labelled, labels)
        return self

    # --------------------------------------------------------------- accessors
    @property
    def pool_(self) -> Any:
        """The pool."""
        self._check_pool_set()
        return self._X

    @property
    def strategy_(self) -> Strategy:
        """The learner's own copy of ``strategy``, made at :meth:`fit`."""
        self._check_pool_set()
        return self._strategy

    @property
    def n_labelled_(self) -> int:
        """How many pool items are labelled."""
        self._check_pool_set()
        return int(self.labelled_.shape[0])

    @property
    def unlabelled_(self) -> np.ndarray:
        """Sorted pool indices not yet labelled."""
        self._check_pool_set()
        return np.flatnonzero(~self._mask)

    @property
    def classes_(self) -> np.ndarray | None:
        """The fixed classes, or those seen so far; ``None`` for regression."""
        self._check_pool_set()
        if self._label_names is not None and self._is_multilabel():
            return self._label_names
        if self._fixed_classes is not None:
            return self._fixed_classes
        if self._is_classifier() and self.labels_.size:
            if self.labels_.ndim == 1:
                return np.unique(self.labels_)
            return np.arange(self.labels_.shape[1]) if self._is_multilabel() else None
        return None

    def _is_multilabel(self) -> bool:
        if self._ml is not None:
            return self._ml
        return self.labels_.ndim == 2 and not is_regressor(self.estimator)

    def _check_task(self, strategy: Strategy) -> None:
        """Refuse a strategy meant for another kind of target, naming the fitting ones."""
        if self._ml is None and not self.labels_.size:
            return
        multi = self._is_multilabel()
        if strategy.task == "any" or (strategy.task == "multilabel") == multi:
            return
        from activelab.strategies import available, get_strategy

        fitting = [s for s in available() if get_strategy(s).task in ("multilabel", "any")]
        kind = "multi-label" if multi else "single-label"
        raise ValueError(
            f"Strategy {strategy.name!r} is for {strategy.task} targets but this learner has "
            f"{kind} targets; "
            + (f"use one of {', '.join(fitting)}." if multi else "use e.g. 'margin'.")
        )

    def _is_classifier(self) -> bool:
        return is_classifier(self.estimator) or not is_regressor(self.estimator)

    def _check_pool_set(self) -> None:
        if self._X is None:
            raise NotFittedError("Call fit(X_pool) first to give the learner its pool.")

    # ----------------------------------------------------------------- the loop
    def query(self, n: int = 1) -> np.ndarray:
        """Pool indices of the ``n`` items to label next, most wanted first.

        Parameters
        ----------
        n : int, default=1
            Batch size, ``0 <= n <=`` the number of unlabelled items.

        Returns
        -------
        ndarray of int64, shape (n,)
        """
        self._check_pool_set()
        is_int = isinstance(n, int | np.integer)  # numpy integers have a shape, ()
        if not is_int and (hasattr(n, "shape") or isinstance(n, list | tuple)):
            raise TypeError(
                f"query(n) takes the batch size, got {type(n).__name__} of shape "
                f"{np.shape(n)}; the pool is given once, to fit(X), and query(n) picks n "
                "of its items."
            )
        strategy = self._strategy
        cold = strategy.needs_model and self.model_ is None
        if cold:
            strategy = self._cold
        self._check_task(strategy)
        ctx = self.context()
        t0 = time.perf_counter()
        try:
            chosen, proba = strategy.select_proba(ctx, n)
        except NonNumericPoolError as exc:
            message = _non_numeric(strategy.name, cold, exc.columns)
            raise NonNumericPoolError(message, exc.columns) from None
        except _MissingFeaturesError:
            raise _MissingFeaturesError(_missing_message(strategy.name, cold)) from None
        except ValueError as exc:
            if "unknown categor" not in str(exc).lower():
                raise
            raise ValueError(
                f"The model, fitted on the {self.n_labelled_} labelled items, cannot read the "
                f"pool ({exc}): an encoder met a category none of them has. Give it "
                "handle_unknown='ignore' (e.g. OneHotEncoder(handle_unknown='ignore'))."
            ) from exc
        seconds = time.perf_counter() - t0
        arms = getattr(strategy, "last_arms_", None) if chosen.size else None
        self.history_.append(
            QueryRecord(
                chosen.copy(),
                strategy.name,
                cold,
                self.n_labelled_,
                seconds,
                None if proba is None else proba.copy(),
                None if arms is None else tuple(arms),
            )
        )
        self._pending = (
            {} if proba is None else dict(zip(chosen.tolist(), proba.tolist(), strict=True))
        )
        return chosen

    def context(self) -> QueryContext:
        """The query context a strategy sees now (useful to call a strategy directly)."""
        self._check_pool_set()
        embed, note = self._embedding_function()
        return (_NotedContext if note is not None else QueryContext)(
            X=self._X,
            candidates=self.unlabelled_,
            labelled=self.labelled_,
            y_labelled=self.labels_,
            model=self.model_,
            estimator=self.estimator,
            classes=self.classes_,
            rng=self._rng,
            chunk_size=self.chunk_size,
            embed=embed,
            backend=self._backend,
            **({} if note is None else {"note": note}),
        )

    def _embedding_function(self) -> tuple[Any, Any]:
        """The context's ``embed``, and what to call when a strategy reads it in its stead.

        Returns
        -------
        embed : callable or None
        note : callable or None
            With ``embed="model"`` and a model that is no pipeline, the warning that
            the raw features stand in, given the first time a strategy reads them.
        """
        embed = _check_embed(self.embed)  # it may have been set again since fit
        if embed is None:
            return getattr(self, "_pool_embed", None), None
        if isinstance(embed, str):  # "model"
            model = _supervised_part(self.model_) if self._semi is not None else self.model_
            model = _embedding_model(model)
            if model is None:  # no model yet: the cold start reads the features
                return getattr(self, "_pool_embed", None), None
            leading = _leading_steps(model)
            if leading is None and not getattr(self, "_warned_embed_model", False):
                return None, lambda: self._warn_no_leading_steps(model)
            return leading, None
        return embed, None

    def _warn_no_leading_steps(self, model: Any) -> None:
        """Say once per learner that ``embed="model"`` found no pipeline to read."""
        if getattr(self, "_warned_embed_model", False):
            return
        self._warned_embed_model = True
        warnings.warn(
            f'embed="model" reads the leading steps of a fitted Pipeline (or of a search\'s '
            f"best_estimator_), and {type(model).__name__} has none: the raw features are used; "
            "make the estimator a Pipeline or pass embed= a function.",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )

    def teach(
        self,
        indices: Any,
        labels: Any,
        *,
        refit: bool | None = None,
        probabilities: Any = None,
    ) -> ActiveLearner:
        """Record labels for pool items and refit the model.

        Everything is checked before anything is stored: an index out of range
        or already labelled, a repeated index, a label outside the fixed
        classes, or a length mismatch raises and leaves the learner unchanged.
        If refitting fails, the labels are rolled back too.

        Parameters
        ----------
        indices : array-like of int
            Pool indices: row positions, as :meth:`query` returns them (not the
            labels of a DataFrame pool's index).
        labels : array-like
            Their labels (1-D; 2-D indicator rows for multi-label). With a
            DataFrame pool whose index is not the positions, a Series looked up
            by index label (``y[idx]``: its index is ``indices`` but the rows at
            those positions are others) is refused; pass ``y.iloc[idx]``.
        refit : bool, optional
            Override the learner's ``refit`` for this call.
        probabilities : array-like of float, optional
            The probability with which each item was chosen (e.g. ``1/remaining``
            for a uniform random initial set). By default the probabilities the
            last :meth:`query` recorded are used; items it did not return get NaN.

        Returns
        -------
        self
        """
        self._check_pool_set()
        try:
            idx = check_indices(indices, self._X.shape[0])
        except (TypeError, IndexError) as exc:
            hint = _index_label_hint(indices, self._X)
            if not hint:
                raise
            raise type(exc)(f"{exc}{hint}") from exc
        _check_series_rows(labels, self._X, idx)
        y = _label_array(self._named_label_columns(labels))
        if y.ndim == 0:
            y = y.reshape(1)
        if y.ndim == 2 and y.shape[1] == 1 and not self._ml:
            y = y[:, 0]  # a column of labels (df[["label"]]): one label per item, not multi-label
        if y.shape[0] != idx.shape[0]:
            whole = y.shape[0] == self._X.shape[0] and idx.shape[0] < y.shape[0]
            raise ValueError(
                f"Got {idx.shape[0]} indices but {y.shape[0]} labels; pass one label per index"
                + (
                    ": these are as many labels as the pool has items, so pass those of the "
                    "items taught, y[idx] (y.iloc[idx] for a pandas Series)."
                    if whole
                    else "."
                )
            )
        already = idx[self._mask[idx]]
        if already.size:
            raise ValueError(
                f"Pool index {already[0]} is already labelled; label events for an item are "
                "recorded once (use a store with undo to correct a label)."
            )
        y = self._check_labels(y, idx)
        if self._fixed_classes is None and y.ndim == 1 and self.labels_.ndim == 1:
            _warn_near_positive_label(self._strategy, self.labels_, y)
        q = self._teach_probabilities(idx, probabilities)
        if idx.size == 0:
            return self
        old = (self.labelled_, self.labels_, self.model_, self.selection_probabilities_)
        self.selection_probabilities_ = np.concatenate([self.selection_probabilities_, q])
        self.labelled_ = np.concatenate([self.labelled_, idx])
        self.labels_ = y.copy() if self.labels_.size == 0 else np.concatenate([self.labels_, y])
        self._mask[idx] = True
        if self.refit if refit is None else refit:
            try:
                self._fit_model()
            except Exception as exc:
                self.labelled_, self.labels_, self.model_, self.selection_probabilities_ = old
                self._mask[idx] = False
                if isinstance(exc, ValueError) and "n_splits" in str(exc):
                    n = old[0].size + idx.size
                    raise ValueError(_too_few_for_cv(exc, self.estimator, n)) from exc
                raise
        return self

    def _named_label_columns(self, labels: Any) -> Any:
        """A DataFrame of indicator columns named after the labels, put in the learner's order.

        ``np.asarray`` reads a DataFrame's columns in its own order, so columns ``c, a, b``
        taught to a learner of ``classes=["a", "b", "c"]`` stored each label's answers under
        another label. Columns that name other labels are refused; unnamed (0, 1, …) columns
        and learners whose labels are only counted (``classes=k``) are read in order.
        """
        columns = getattr(labels, "columns", None)
        names = self._label_names
        if columns is None or names is None or isinstance(self.classes, int | np.integer):
            return labels
        cols, want = list(columns), names.tolist()
        if cols == want or cols == list(range(len(cols))):
            return labels
        if len(set(cols)) == len(cols) and set(cols) == set(want):
            return labels[want]
        missing = [c for c in want if c not in set(cols)]
        extra = [c for c in cols if c not in set(want)]
        raise ValueError(
            f"The label columns {cols} do not match the learner's labels {want} (missing: "
            f"{missing}, not labels: {extra}); name the columns after the labels, or pass a "
            "0/1 array whose columns are in the order of classes."
        )

    def _teach_probabilities(self, idx: np.ndarray, probabilities: Any) -> np.ndarray:
        if probabilities is None:
            pending = self._pending
            return np.array([pending.get(i, np.nan) for i in idx.tolist()], dtype=float)
        q = np.asarray(probabilities, dtype=float).reshape(-1)
        if q.shape[0] != idx.shape[0]:
            raise ValueError(
                f"Got {idx.shape[0]} indices but {q.shape[0]} probabilities; pass one per index."
            )
        bad = np.flatnonzero(~((q > 0) & (q <= 1)))
        if bad.size:
            raise ValueError(
                f"Selection probability at position {bad[0]} is {q[bad[0]]!r}; it must be in "
                "(0, 1]."
            )
        return q

    def _check_labels(self, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if self._ml or (self._ml is None and y.ndim == 2 and not is_regressor(self.estimator)):
            return self._check_indicator_rows(y, idx)
        if y.size == 0:
            return y
        if self.labels_.size and y.ndim != self.labels_.ndim:
            raise ValueError(
                f"Labels have {y.ndim} dimension(s) but earlier labels had {self.labels_.ndim}."
            )
        if y.ndim == 1 and y.dtype.kind not in "biuf" and is_regressor(self.estimator):
            _check_numeric_targets(y, self.estimator)  # before the classes' advice below
        if self._fixed_classes is None:  # with classes=, the membership check below decides
            check_label_values(y, self.labels_)
        elif y.ndim == 1 and y.dtype == object:
            check_label_values(y, np.asarray([]))  # None is never a class
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            bad = np.flatnonzero(~np.isfinite(y.reshape(y.shape[0], -1)).all(axis=1))[0]
            raise ValueError(
                f"Label at position {bad} is {y[bad].tolist()!r}; labels must be finite."
            )
        if y.ndim == 1 and y.dtype.kind == "f" and is_classifier(self.estimator):
            _check_whole_classes(y, self.estimator)
        if y.ndim == 1 and y.dtype.kind in "OUS" and self._fixed_classes is None:
            new = set(y.tolist())
            # only labels holding a ';' can be sets: the labels so far are read only then
            if any(isinstance(v, str) and LABEL_SEPARATOR in v for v in new) or _has_separator(
                self.labels_
            ):
                known = np.asarray(list(new | set(self.labels_.tolist())), dtype=object)
                _check_label_sets(known, self.estimator)
        if self._fixed_classes is not None and y.ndim == 1:
            unknown = ~np.isin(y, self._fixed_classes)
            if unknown.any():
                bad = y[unknown].tolist()[0]
                raise ValueError(
                    f"Label {bad!r} is not one of the classes {self._fixed_classes.tolist()}; "
                    "fix the label or create the learner with the full list of classes."
                )
        return y

    def _check_indicator_rows(self, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if y.ndim == 1 and y.shape[0] == 0:
            y = y.reshape(0, 0 if self._label_names is None else len(self._label_names))
        if y.ndim != 2:
            raise ValueError(
                f"This learner has multi-label targets: pass one 0/1 indicator row per index "
                f"(a 2-D array of shape (n, n_labels)), got an array of shape {y.shape}; "
                "convert label lists with activelab.multilabel.to_indicator."
            )
        if self.labels_.size and self.labels_.ndim != 2:
            raise ValueError(
                f"Labels have {y.ndim} dimension(s) but earlier labels had {self.labels_.ndim}."
            )
        names = self._label_names
        if names is None and self.classes is not None:
            raise ValueError(
                f"classes={self.classes!r} cannot name the columns of a multi-label target: "
                "pass the label names once each, in column order (or their number)."
            )
        width = None
        if names is not None:
            width = len(names)
        elif self.labels_.ndim == 2 and self.labels_.size:
            width = self.labels_.shape[1]
        return check_indicator(
            y,
            n_labels=width,
            label_names=None if names is None else names.tolist(),
            row_names=idx.tolist(),
        )

    def _can_fit(self) -> bool:
        if self.n_labelled_ < max(self.min_labels, 1):
            return False
        if is_regressor(self.estimator):
            return self.n_labelled_ >= max(self.min_labels, 2)
        if self.labels_.ndim == 1:
            return np.unique(self.labels_).shape[0] >= 2
        if self._is_multilabel():  # at least one label seen both ways
            return bool(np.any(self.labels_.min(axis=0) != self.labels_.max(axis=0)))
        return True

    def _fit_model(self) -> None:
        if not self._can_fit():
            self.model_ = None
            return
        t0 = time.perf_counter()
        X = take_rows(self._X, self.labelled_)
        if self._is_multilabel():
            model = _fit_multilabel(self.estimator, X, self.labels_)
        elif self._semi is not None and self.labels_.ndim == 1:
            model = self._fit_hybrid()
        else:
            model = clone(self.estimator)
            model.fit(X, self.labels_, **self._fit_weights(model))
        self.fit_seconds_ = time.perf_counter() - t0
        self.model_ = model

    def _fit_hybrid(self) -> Any:
        from activelab.models.semi import HybridClassifier

        embed = self.embed if callable(self.embed) else None
        if embed is None:
            embed = getattr(self, "_pool_embed", None)  # a pool of categories or texts
        # the last refit's method is kept unless another clearly beats it (no flip-flopping)
        model = HybridClassifier(
            self.estimator, self._semi, embedding=embed, previous=self.hybrid_method_
        )
        weights = self._fit_weights(self.estimator)
        if weights and self._semi == "self-training":
            warnings.warn(
                "weighting='lure' ignored: semi_supervised='self-training' refits on "
                "pseudo-labels that no query chose, so there is no selection probability to "
                "weight them by; use semi_supervised='auto' or 'off' for a weighted fit.",
                UserWarning,
                stacklevel=_user_stacklevel(),
            )
            weights = {}
        model.fit_pool(self._X, self.labelled_, self.labels_, pool=self.graph_pool_, **weights)
        self.graph_pool_ = model.pool_ if model.pool_ is not None else self.graph_pool_
        self.hybrid_method_ = model.chosen_
        return model

    def _fit_weights(self, model: Any) -> dict[str, np.ndarray]:
        if self.weighting != "lure":
            return {}
        from activelab.weighting import _sample_weight_route, lure_weights

        key, why = _sample_weight_route(model)
        q = self.selection_probabilities_
        if key is not None and np.isnan(q).any():
            key = None
            why = (
                "some labels have no recorded selection probability (a deterministic "
                "strategy or labels taught without a query); use a stochastic strategy such as "
                "'auto', Stochastic(...) or Explore(...), and teach labels chosen outside a query "
                "(an initial set) with teach(idx, labels, probabilities=...), e.g. "
                "1/remaining per draw of a uniform random set"
            )
        if key is None:
            warnings.warn(
                f"weighting='lure' ignored: {why}.", UserWarning, stacklevel=_user_stacklevel()
            )
            return {}
        return {key: lure_weights(q, self._X.shape[0])}

    def refit_model(self) -> ActiveLearner:
        """Refit the model on all labels now (after teaching with ``refit=False``)."""
        self._check_pool_set()
        self._fit_model()
        return self

    # -------------------------------------------------------------- delegation
    def _fitted(self) -> Any:
        if getattr(self, "model_", None) is None:
            if self._X is not None and self._can_fit():
                raise NotFittedError(
                    f"No model is fitted yet: the {self.n_labelled_} labels were taught with "
                    "refit=False; call refit_model() to fit it on them."
                )
            if self._X is not None and self._is_multilabel():
                raise NotFittedError(
                    f"No model is fitted yet: a multi-label model needs some label seen both "
                    f"ways (on one item and not on another); the {self.n_labelled_} labelled "
                    "items do not show that yet, so teach more."
                )
            if self._X is not None and is_regressor(self.estimator):
                raise NotFittedError(
                    f"No model is fitted yet: a regressor is fitted from "
                    f"{max(self.min_labels, 2)} labels on; {self.n_labelled_} taught so far."
                )
            raise NotFittedError(
                "No model is fitted yet: teach labels first (a classifier needs at least two "
                "classes among them)."
            )
        return self.model_

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the fitted model."""
        return self._fitted().predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted model.

        The columns follow :attr:`classes_`: with ``classes`` given, a class no
        label has shown yet gets a column of zeros (the model itself knows only
        the classes it was fitted on). For a multi-label target, the
        ``(n, n_labels)`` matrix of ``P(label = 1)`` whatever the estimator (see
        :func:`~activelab.multilabel.multilabel_proba`).
        """
        if self._is_multilabel():
            return multilabel_proba(self._fitted(), X)
        return self._to_fixed_classes(self._fitted().predict_proba(X))

    def _to_fixed_classes(self, P: Any) -> Any:
        """Columns of the model's classes placed under the fixed classes, zeros elsewhere."""
        fixed = self._fixed_classes
        known = getattr(self.model_, "classes_", None)
        if fixed is None or known is None or len(known) == fixed.shape[0]:
            return P
        P = np.asarray(P)
        column = {c: j for j, c in enumerate(fixed.tolist())}
        out = np.zeros((P.shape[0], fixed.shape[0]), dtype=P.dtype)
        out[:, [column[c] for c in np.asarray(known).tolist()]] = P
        return out

    def decision_function(self, X: Any) -> np.ndarray:
        """Decision function of the fitted model.

        With ``semi_supervised`` the model is a hybrid, which has probabilities
        only: this raises, naming :meth:`predict_proba` and the estimator inside.
        """
        model = self._fitted()
        if not hasattr(model, "decision_function"):
            inner = (
                " (the hybrid fit of semi_supervised has probabilities only; "
                "learner.model_.supervised_ is the estimator fitted on the labels)"
                if self._semi is not None
                else ""
            )
            raise AttributeError(
                f"The fitted {type(model).__name__} has no decision_function{inner}; use "
                "predict_proba."
            )
        return model.decision_function(X)

    def score(self, X: Any, y: Any) -> float:
        """The fitted model's default score (accuracy for classifiers, R² for regressors).

        Subset accuracy for a multi-label target.
        """
        return float(self._fitted().score(X, y))

    def __repr__(self) -> str:
        return (
            f"ActiveLearner(estimator={self.estimator!r}, strategy={self.strategy!r}, "
            f"cold_start={self.cold_start!r})"
        )


_SEMI = ("auto", "spreading", "blend", "self-training")


def _check_embed(embed: Any) -> Any:
    """``embed`` itself, refused with one line unless it is None, ``"model"`` or a callable.

    Examples
    --------
    >>> _check_embed("model")
    'model'
    >>> _check_embed(np.zeros((150, 8)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: embed must be None, 'model' or a callable ..., got an array of shape (150, 8).
    """
    if embed is None or callable(embed) or (isinstance(embed, str) and embed == "model"):
        return embed
    shape = getattr(embed, "shape", None)
    got = f"an array of shape {tuple(shape)}" if shape is not None else repr(embed)
    raise ValueError(
        f"embed must be None, 'model' or a callable that maps pool rows to numbers, got {got}."
    )


def _too_few_for_cv(exc: ValueError, estimator: Any, n_labels: int) -> str:
    """The message for an estimator whose own cross-validation cannot split the labels yet.

    ``GridSearchCV``, ``CalibratedClassifierCV`` and the like refuse fewer labels (or
    fewer of a class) than their folds; the campaign's first rounds have that few, and
    the same cold-start picks would be refused again at every try.

    Parameters
    ----------
    exc : ValueError
        scikit-learn's error (it names ``n_splits``).
    estimator : estimator
        The learner's estimator, named in the message.
    n_labels : int
        The labels the refit was given.

    Returns
    -------
    str
    """
    return (
        f"{type(estimator).__name__} could not be fitted on {count(n_labels, 'label')}, too few "
        "for its "
        f"cross-validation ({exc}); the labels of this call were not stored. Create the learner "
        "with min_labels= the labels it needs (about the folds times the classes; the cold "
        "start stands in until then), or give the estimator fewer folds (cv=2)."
    )


@dataclass(frozen=True)
class _NotedContext(QueryContext):
    """A context whose embedding is the features, calling ``note`` when a strategy reads it.

    ``embed="model"`` with a model that is no pipeline warns this way only for a
    strategy that reads the embedding (``embed`` or :meth:`embedding`), not for one
    that reads the model only, such as ``margin``.
    """

    note: Any = field(default=None, repr=False, compare=False)

    def __getattribute__(self, name: str) -> Any:
        """Call ``note`` on the first read of the embedding (the features here)."""
        if name in ("embed", "embedding") and object.__getattribute__(self, "embed") is None:
            note = object.__getattribute__(self, "note")
            if note is not None:
                note()
        return object.__getattribute__(self, name)

    def with_candidates(self, candidates: np.ndarray) -> QueryContext:
        """A copy restricted to other candidates, made without reading the embedding."""
        values = {f.name: object.__getattribute__(self, f.name) for f in fields(self)}
        values["candidates"] = np.asarray(candidates, dtype=np.int64)  # sorted on creation
        return type(self)(**values)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside activelab.

    Returns
    -------
    int
        For ``warnings.warn`` in the function that calls this one.
    """
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
        level += 1
    return level


def _supervised_part(model: Any) -> Any:
    """The fitted estimator inside a hybrid model (self-trained or not), or ``model`` itself.

    ``embed="model"`` reads the leading steps of the user's pipeline; with
    ``semi_supervised`` the learner's model is a
    :class:`~activelab.models.semi.HybridClassifier` around it.

    Parameters
    ----------
    model : estimator or None
        The learner's fitted model.

    Returns
    -------
    estimator or None
    """
    from activelab.models.selftraining import SelfTraining
    from activelab.models.semi import HybridClassifier

    if isinstance(model, HybridClassifier):
        model = getattr(model, "supervised_", None)
    if isinstance(model, SelfTraining):
        model = getattr(model, "estimator_", None)
    return model


def _embedding_model(model: Any) -> Any:
    """The fitted estimator whose leading steps ``embed="model"`` reads, or ``None``.

    A multi-label model with constant labels
    (:class:`~activelab.multilabel.ConstantLabelsClassifier`) is read through the
    estimator it fitted on the others (``None`` when every label is constant), a
    hyper-parameter search (``GridSearchCV``, ``RandomizedSearchCV``) through its
    ``best_estimator_``.

    Parameters
    ----------
    model : estimator or None
        The learner's fitted model (the supervised part of a hybrid one).

    Returns
    -------
    estimator or None
    """
    from activelab.multilabel import ConstantLabelsClassifier

    if isinstance(model, ConstantLabelsClassifier):
        model = getattr(model, "estimator_", None)
    if model is not None and not isinstance(model, Pipeline):
        model = getattr(model, "best_estimator_", model)
    return model


def _leading_steps(model: Any) -> Any:
    """The ``transform`` of a fitted pipeline's steps before its last, or ``None``.

    Parameters
    ----------
    model : estimator
        A fitted model (see :func:`_embedding_model`).

    Returns
    -------
    callable or None
        ``None`` when the model is not a pipeline of at least two steps.
    """
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        return None
    return model[:-1].transform


def _generator(random_state: Any) -> np.random.Generator:
    """``numpy.random.default_rng(random_state)``, refusing a bad seed with the accepted kinds.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        The learner's ``random_state``.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValueError
        For a seed numpy refuses (a string, a fraction, a negative number).
    """
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError):
        raise ValueError(
            f"random_state must be a non-negative int, a numpy Generator or None; got "
            f"{random_state!r}."
        ) from None


def _model_only_fix(cold: bool) -> str:
    """The last fix the feature strategies' messages offer: a strategy that needs no features.

    Parameters
    ----------
    cold : bool
        Whether the strategy was the cold start (then ``cold_start='random'`` alone serves).

    Returns
    -------
    str
    """
    if cold:
        return "or cold_start='random'"
    return (
        "or a strategy that reads the model only (margin, entropy, least_confident) with "
        "cold_start='random'"
    )


def _non_numeric(name: str, cold: bool, columns: list[str]) -> str:
    """The learner's message for a strategy that cannot read a pool of texts or categories.

    Parameters
    ----------
    name : str
        The strategy that met the pool.
    cold : bool
        Whether it was the cold start, standing in for the main strategy.
    columns : list of str
        The pool's non-numeric columns.

    Returns
    -------
    str
        The message, naming the strategy, the columns and the fixes that apply.
    """
    who = f"the cold start {name!r}" if cold else f"strategy {name!r}"
    other = _model_only_fix(cold)
    return (
        f"The pool has non-numeric column(s) {columns}, and {who} places items by their "
        "features: give ActiveLearner an embed= function that turns rows into numbers (e.g. "
        "the pipeline's encoder, or a TextEmbedder over the text column), or make the "
        f"estimator a Pipeline whose leading steps encode those columns without labels, {other}."
    )


def _label_array(labels: Any) -> np.ndarray:
    """``labels`` as an array; label lists of different lengths are refused in one line."""
    try:
        return np.asarray(labels)
    except ValueError as exc:  # numpy: "inhomogeneous shape" for ragged nested lists
        raise ValueError(
            "Labels must be one label per item, or for multi-label targets one 0/1 row per "
            "item of the same width; got lists of different lengths. Turn label lists into "
            "rows with activelab.multilabel.to_indicator(label_lists, learner.classes_)."
        ) from exc


def _label_vector_hint(labelled: Any, n_pool: int) -> str:
    """What to do when ``fit(X, y)`` was given one label (or -1) per pool item."""
    if labelled is None or np.ndim(labelled) != 1 or len(labelled) != n_pool:
        return ""
    return (
        f" The one array given has a value for each of the {n_pool} pool items: if it is a "
        "label per item (scikit-learn's -1 or NaN for the unlabelled), pass "
        "labelled=np.flatnonzero(y != -1) and labels=y[y != -1] instead."
    )


def _index_label_hint(indices: Any, X: Any) -> str:
    """The fix when refused indices are the labels of a DataFrame pool's index, else ``""``.

    Parameters
    ----------
    indices : any
        What was given as pool positions.
    X : any
        The pool; only a pandas index is looked at.

    Returns
    -------
    str
        A sentence (with a leading space) naming ``pool.index.get_indexer``, or ``""``.
    """
    pd = sys.modules.get("pandas")
    pool_index = getattr(X, "index", None)
    if pd is None or not isinstance(pool_index, pd.Index):
        return ""
    values = np.atleast_1d(np.asarray(indices, dtype=object))
    if values.ndim != 1 or not values.size or not pd.Index(values).isin(pool_index).all():
        return ""
    return (
        " They are labels of the pool's index, but pool indices are row positions (as "
        "query() returns them); convert with pool.index.get_indexer(ids)."
    )


def _check_series_rows(labels: Any, X: Any, idx: np.ndarray) -> None:
    """Refuse a pandas Series of labels that was looked up by index label, not position.

    With a DataFrame pool whose index is not ``0 … n-1`` (shuffled, or a split's
    share), ``y[idx]`` on a Series indexed like the pool looks rows up by index
    label and gives the labels of other items: the model would silently learn
    wrong answers. Its signature: the Series' index is the positions ``idx``
    themselves, and they name pool rows other than those at ``idx``.

    Parameters
    ----------
    labels : any
        The labels given to :meth:`ActiveLearner.teach`; checked when a Series
        without a default ``RangeIndex`` (a fresh list of answers has one).
    X : any
        The pool; checked when it has a pandas index.
    idx : ndarray of int64
        The pool positions taught.

    Raises
    ------
    ValueError
        Naming the rows the labels belong to, those at ``idx`` and the fix.
    """
    pd = sys.modules.get("pandas")  # not a dependency: without it loaded, no Series exists
    if pd is None or not isinstance(labels, pd.Series) or isinstance(labels.index, pd.RangeIndex):
        return
    pool_index = getattr(X, "index", None)
    if not isinstance(pool_index, pd.Index) or len(labels) != idx.shape[0] or not idx.size:
        return
    rows = pool_index[idx]
    by_label = np.array_equal(labels.index.to_numpy(), idx) and labels.index.isin(pool_index).all()
    if not by_label or rows.equals(labels.index):
        return
    raise ValueError(
        f"labels is a Series for the pool rows with index labels {idx[:3].tolist()}, but "
        f"the positions given hold the rows {rows[:3].tolist()}: query() returns positions, "
        "so take the labels with y.iloc[idx] (y[idx] on an integer index looks rows up by "
        "label), or pass plain values such as y.to_numpy()[idx]."
    )


def _semi_method(learner: ActiveLearner, on_dask: bool) -> str | None:
    """The pool-aware method the learner fits with, or ``None`` (supervised).

    ``"auto"`` stays supervised where the hybrid fit cannot apply; a method
    named explicitly raises there instead, naming why.
    """
    method = learner.semi_supervised
    if method is None or method == "off":
        return None
    if method not in _SEMI:
        raise ValueError(
            f"semi_supervised must be None, 'off' or one of {', '.join(_SEMI)}; got {method!r}."
        )
    from activelab.strategies._base import EMBEDDING, MODEL, PREDICT_PROBA

    plain = {MODEL, PREDICT_PROBA, EMBEDDING}
    reqs = [r if isinstance(r, tuple) else (r,) for r in learner._strategy.requires]
    why = None
    if is_regressor(learner.estimator):
        why = f"{type(learner.estimator).__name__} is a regressor"
    elif learner._ml:
        why = "the targets are multi-label"
    elif on_dask:
        why = "the pool is a Dask collection"
    elif method != "spreading" and not hasattr(learner.estimator, "predict_proba"):
        why = f"{type(learner.estimator).__name__} has no predict_proba"
    elif any(not (set(r) & plain) for r in reqs):
        why = f"strategy {learner._strategy.name!r} needs the estimator's own internals"
    if why is None:
        return method
    if method == "auto":
        return None
    raise ValueError(
        f"semi_supervised={method!r} cannot apply here: {why}; use semi_supervised='off' "
        "(or 'auto', which falls back to the supervised fit)."
    )


def _resolve_classes(classes: Any, multilabel: bool | None) -> tuple[bool | None, Any, Any]:
    """``(multilabel, fixed single-label classes, multi-label names)`` from the parameters.

    Single-label classes are sorted and unique; multi-label names keep their
    column order (an int ``k`` names the labels ``0 … k-1``). While the kind
    of target is not known yet, a list serves as either.
    """
    if classes is None:
        return multilabel, None, None
    if isinstance(classes, int | np.integer) and not isinstance(classes, bool):
        if multilabel is False:
            raise ValueError(
                f"classes={classes} (an int) gives the number of labels of a multi-label "
                "target; for single-label classes pass their list."
            )
        if classes < 1:
            raise ValueError(f"classes must be a positive number of labels, got {classes}.")
        return True, None, np.arange(int(classes))
    if isinstance(classes, str | bytes):
        raise ValueError(
            f"classes must list the labels, e.g. classes=['negative', 'positive']; got the "
            f"single string {classes!r}."
        )
    if isinstance(classes, Set):  # set(y): no column order, fine as single-label classes
        if multilabel:
            raise ValueError(
                "classes is a set, which has no order; for a multi-label target pass the label "
                "names as a list, in the column order of the indicator rows."
            )
        return multilabel, np.unique(np.asarray(list(classes))), None
    if isinstance(classes, Iterator):
        classes = list(classes)
    arr = np.asarray(classes)
    fixed = None if multilabel else np.unique(arr)
    if multilabel is False:
        return False, fixed, None
    names, counts = np.unique(arr, return_counts=True) if arr.ndim == 1 else (arr, None)
    if arr.ndim != 1 or arr.shape[0] == 0 or (counts > 1).any():
        if not multilabel:
            return multilabel, fixed, None  # fine as single-label classes
        if arr.ndim != 1 or arr.shape[0] == 0:
            raise ValueError(
                f"Multi-label classes must be a non-empty list of names, got {classes!r}."
            )
        raise ValueError(
            f"Label {names[counts > 1].tolist()[0]!r} appears twice in classes; each label "
            "names one column of the indicator matrix."
        )
    return multilabel, fixed, arr


def _check_positive_label(strategy: Any, classes: np.ndarray | None) -> None:
    """Refuse a rare-class strategy's ``positive_label`` that is not one of ``classes``.

    The strategy compares the labels with it as given: a typo (``"Fraud"`` for
    ``"fraud"``) or a number for a text label never matched, and the strategy stayed on
    its cold start (anomalies and random picks) for the whole campaign, silently.
    """
    label = getattr(strategy, "positive_label", None)
    if label is None or classes is None or label in classes.tolist():
        return
    from activelab.simulation.rare_metrics import close_label_hint

    raise ValueError(
        f"The strategy's positive_label={label!r} is not one of the classes "
        f"{classes.tolist()}.{close_label_hint(label, classes)} Pass one of them as "
        f"{type(strategy).__name__}(positive_label=...)."
    )


def _warn_near_positive_label(strategy: Any, taught: np.ndarray, y: np.ndarray) -> None:
    """Warn, once per strategy, when its ``positive_label`` is not taught but nearly names a
    label that is (``"Fraud"`` for ``"fraud"``, ``"1"`` for ``1``).

    Without ``classes`` the learner cannot refuse it at ``fit`` (:func:`_check_positive_label`),
    and a rare-class strategy compares the labels with it as given: it stayed on its cold start
    for the whole campaign, silently.

    Parameters
    ----------
    strategy : Strategy
        The learner's strategy; only one with a ``positive_label`` is checked.
    taught : ndarray
        The labels taught before (1-D).
    y : ndarray
        The labels taught now (1-D).
    """
    from activelab.simulation.rare_metrics import close_label_hint

    label = getattr(strategy, "positive_label", None)
    if label is None or getattr(strategy, "_warned_label", None) == label:
        return
    y = y if taught.size == 0 else np.concatenate([taught, y])  # joined only when it is read
    if y.size == 0:
        return
    present = np.unique(y)
    if label in present.tolist():
        return
    hint = close_label_hint(label, present)
    if not hint:
        return
    strategy._warned_label = label
    warnings.warn(
        f"The strategy's positive_label={label!r} is not among the labels taught "
        f"({', '.join(repr(v) for v in present.tolist())}).{hint} It seeks only that exact "
        f"label, so it stays on its cold start; pass {type(strategy).__name__}(positive_label="
        "...) as the labels spell it (with classes=[...], the learner checks it at fit).",
        UserWarning,
        stacklevel=3,
    )


def _fit_multilabel(estimator: Any, X: Any, Y: np.ndarray) -> Any:
    """:func:`fit_multilabel`, naming the wrapper to use when the estimator takes 1-D targets only.

    Single-output classifiers (``LogisticRegression``, ``GaussianNB``, ...) refuse a 0/1
    indicator matrix with scikit-learn's ``y should be a 1d array``.
    """
    try:
        return fit_multilabel(estimator, X, Y)
    except ValueError as exc:
        if "1d array" not in str(exc):
            raise
        final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
        name = type(final).__name__
        raise ValueError(
            f"{name} fits one label per item, but the targets are multi-label ({Y.shape[1]} "
            f"0/1 columns): wrap it, OneVsRestClassifier({name}(...)) (sklearn.multiclass) or "
            f"MultiOutputClassifier({name}(...)) (sklearn.multioutput), or use a multi-output "
            "estimator such as RandomForestClassifier or KNeighborsClassifier."
        ) from exc


def _pool_encoder(estimator: Any, X: Any) -> Any:
    """The pipeline's leading steps fitted on a pool of non-numeric columns, else None.

    A pool with categories or texts in a pandas DataFrame cannot be placed by its raw
    features (cold start, diversity, density); the user's pipeline already says how its rows
    become numbers. Its leading steps are fitted on the pool without labels (one-hot encoders,
    scalers, vectorisers); steps that need labels leave the pool as it is.
    """
    if is_dask_collection(X) or not non_numeric_columns(X):
        return None
    return _fit_leading_steps(estimator, X)


def _fit_leading_steps(estimator: Any, X: Any) -> Any:
    """The pipeline's leading steps, cloned and fitted on the pool without labels, else None.

    Parameters
    ----------
    estimator : estimator
        The learner's estimator.
    X : ndarray, sparse matrix or DataFrame
        The pool.

    Returns
    -------
    estimator or None
        The fitted leading steps, or ``None`` when the estimator is no pipeline of at
        least two steps, or its leading steps need labels or cannot read the pool.
    """
    if not isinstance(estimator, Pipeline) or len(estimator.steps) < 2:
        return None
    try:
        return clone(estimator[:-1]).fit(X)
    except (TypeError, ValueError):  # a step that needs labels, or that cannot read the pool
        return None


class _MissingFeaturesError(ValueError):
    """A strategy read the features of a pool that holds NaN, with no imputing steps to use."""


def _missing_features(X_chunk: Any) -> np.ndarray:
    """The embedding of a pool with NaN and no imputing pipeline: refused (the learner names
    the strategy).

    Parameters
    ----------
    X_chunk : array-like
        Rows of the pool.

    Raises
    ------
    _MissingFeaturesError
        Always.
    """
    raise _MissingFeaturesError(_missing_message(None, False))  # the learner names the strategy


def _missing_message(name: str | None, cold: bool) -> str:
    """The learner's message for a strategy that places items by features holding NaN.

    Parameters
    ----------
    name : str or None
        The strategy that met the pool; ``None`` when not known (a strategy called on
        :meth:`ActiveLearner.context` directly).
    cold : bool
        Whether it was the cold start, standing in for the main strategy.

    Returns
    -------
    str
    """
    who = "this strategy" if name is None else f"strategy {name!r}"
    who = f"the cold start {name!r}" if cold else who
    other = _model_only_fix(cold)
    return (
        f"The pool has NaN (missing values), and {who} places items by their features, which "
        "must be finite to measure distances: make the estimator a Pipeline whose leading steps "
        "impute (make_pipeline(SimpleImputer(), ...)), give ActiveLearner an embed= function "
        f"that returns finite rows, {other}."
    )


def _checked_pool(
    estimator: Any, X: Any, chunk_size: int, *, encode: bool = True
) -> tuple[Any, bool, Any]:
    """The pool checked, allowing NaN only where the estimator reads it through steps that
    remove it (:func:`_nan_encoder`) or takes it itself (:func:`_takes_nan`).

    Parameters
    ----------
    estimator : estimator
        The learner's estimator.
    X : array-like, sparse matrix or DataFrame
        The pool.
    chunk_size : int
        Rows read at a time.
    encode : bool, default=True
        Whether the imputing steps are wanted: without, they are fitted only when the
        estimator does not take NaN itself, and ``None`` is returned in their place.

    Returns
    -------
    X : ndarray, sparse matrix or DataFrame
        The pool, in the form the learner keeps.
    has_nan : bool
        Whether it holds NaN.
    nan_encoder : estimator or None
        The fitted imputing steps (:func:`_nan_encoder`), with ``encode`` and NaN.

    Raises
    ------
    ValueError
        Naming the first NaN and the fixes, when neither the steps nor the estimator
        take it (:func:`activelab._validation.check_pool`).
    """
    X, has_nan = pool_and_nan(X, chunk_size=chunk_size, allow_nan=True)
    if not has_nan:
        return X, False, None
    encoder = _nan_encoder(estimator, X, chunk_size) if encode else None
    # without encode, the cheap test first: the steps are fitted only to decide
    if (
        encoder is None
        and not _takes_nan(estimator)
        and (encode or _nan_encoder(estimator, X, chunk_size) is None)
    ):
        check_pool(X, chunk_size=chunk_size)  # names the first NaN and the fixes
    return X, True, encoder


def _nan_encoder(estimator: Any, X: Any, chunk_size: int) -> Any:
    """The pipeline's leading steps fitted on a pool with NaN, when they leave none; else None.

    Such steps (an imputer first) are what the estimator reads the pool through, so the
    pool is fine for it, and for the strategies that place items by their features.

    Parameters
    ----------
    estimator : estimator
        The learner's estimator.
    X : ndarray, sparse matrix or DataFrame
        The pool, which holds NaN.
    chunk_size : int
        Rows transformed at a time for the check.

    Returns
    -------
    estimator or None
        The fitted leading steps, or ``None`` when the estimator is no pipeline of at
        least two steps, its leading steps need labels, or they leave NaN or infinity.
    """
    encoder = _fit_leading_steps(estimator, X)
    if encoder is None:
        return None
    try:
        for start in range(0, X.shape[0], chunk_size):
            Z = encoder.transform(
                take_rows(X, np.arange(start, min(start + chunk_size, X.shape[0])))
            )
            values = Z.data if hasattr(Z, "tocsr") else np.asarray(Z, dtype=float)
            if not np.isfinite(values).all():
                return None
    except (TypeError, ValueError):  # a step that cannot transform the pool
        return None
    return encoder


def _takes_nan(estimator: Any) -> bool:
    """Whether the estimator fits and predicts on rows with NaN (scikit-learn's ``allow_nan``).

    A pipeline takes NaN when each step does up to one that imputes (``sklearn.impute``),
    a column transformer when each of its parts does, a hyper-parameter search when the
    estimator it searches over does.

    Parameters
    ----------
    estimator : estimator
        The learner's estimator.

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> _takes_nan(make_pipeline(StandardScaler(), SimpleImputer(), LogisticRegression()))
    True
    >>> _takes_nan(LogisticRegression())
    False
    """
    return _nan_handling(estimator) != "refuses"


def _nan_handling(step: Any) -> str:
    """How a step meets NaN: ``"removes"`` (an imputer), ``"passes"`` it on, or ``"refuses"``."""
    if step is None or isinstance(step, str):  # "passthrough"; "drop" reads nothing
        return "passes" if step in (None, "passthrough") else "removes"
    if type(step).__module__.startswith("sklearn.impute"):
        return "removes"
    if isinstance(step, Pipeline):
        for _, inner in step.steps:
            handling = _nan_handling(inner)
            if handling != "passes":
                return handling
        return "passes"
    if isinstance(step, ColumnTransformer):
        parts = [_nan_handling(t) for _, t, _ in step.transformers] + [
            _nan_handling(step.remainder)
        ]
        if "refuses" in parts:
            return "refuses"
        return "removes" if all(p == "removes" for p in parts) else "passes"
    if isinstance(step, BaseSearchCV):
        return _nan_handling(step.estimator)
    try:
        return "passes" if get_tags(step).input_tags.allow_nan else "refuses"
    except (AttributeError, TypeError, ValueError):  # not a scikit-learn estimator
        return "refuses"


def _has_separator(labels: np.ndarray) -> bool:
    """Whether some text label holds the separator ``;`` (vectorised over a string array).

    Parameters
    ----------
    labels : ndarray
        Labels taught so far (1-D).

    Returns
    -------
    bool
    """
    if labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "OUS":
        return False
    text = labels if labels.dtype.kind in "US" else labels[_kinds(labels) == 1].astype(str)
    return bool(np.char.find(text.astype(str), LABEL_SEPARATOR).max(initial=-1) >= 0)


def _check_label_sets(classes: np.ndarray, estimator: Any) -> None:
    """Refuse single-label classes of which one is several others joined by ``;``.

    ``"politics;sports"`` next to ``"sports"`` is a multi-label item written as one
    text cell, as the labelling app's CSV export and the command line read it
    (:func:`~activelab.multilabel.joined_label_set`); taken as a class of its own, it
    would be learnt apart from both of its labels.

    Parameters
    ----------
    classes : ndarray
        The distinct labels: the fixed classes, or those taught so far with the new ones.
    estimator : estimator
        The learner's estimator; a regressor's numbers are never sets.

    Raises
    ------
    ValueError
        Naming the label, its parts and how to give multi-label targets.
    """
    from activelab.multilabel._model import joined_label_set, label_set_refusal

    if is_regressor(estimator):
        return
    joined = joined_label_set(v for v in classes.tolist() if isinstance(v, str))
    if joined is not None:
        raise ValueError(label_set_refusal(joined))


def _check_whole_classes(y: np.ndarray, estimator: Any) -> None:
    """Refuse a fractional number taught to a classifier (scikit-learn's "continuous" target).

    Checked when taught: the model may not be fitted for several rounds (one class
    so far, ``refit=False``), and a fractional label stored meanwhile would make
    every later refit fail.

    Parameters
    ----------
    y : ndarray of float, shape (n,)
        The taught labels (finite).
    estimator : classifier
        The learner's estimator, named in the message.

    Raises
    ------
    ValueError
        Naming the first fractional label, its position and the fixes.
    """
    fractional = np.flatnonzero(y != np.round(y))
    if fractional.size:
        i = int(fractional[0])
        raise ValueError(
            f"Label {y.tolist()[i]!r} at position {i} is not a whole number, but "
            f"{type(estimator).__name__} is a classifier and its classes are discrete; "
            "give class labels (e.g. 0, 1, 2 or texts), or use a regressor (e.g. Ridge) with a "
            "regression strategy for numeric targets."
        )


def _check_numeric_targets(y: np.ndarray, estimator: Any) -> None:
    """Refuse text taught to a regressor (numpy would fail deep inside its ``fit``).

    Parameters
    ----------
    y : ndarray of shape (n,)
        The taught labels (not of a numeric dtype).
    estimator : regressor
        The learner's estimator, named in the message.

    Raises
    ------
    ValueError
        Naming the first label that is text and its position.
    """
    text = np.flatnonzero(_kinds(y) == 1)
    if text.size:
        i = int(text[0])
        raise ValueError(
            f"Label {y.tolist()[i]!r} at position {i} is text, but {type(estimator).__name__} "
            "is a regressor and needs numeric targets; convert the column to numbers (e.g. "
            "pandas.to_numeric), or use a classifier for categories."
        )
