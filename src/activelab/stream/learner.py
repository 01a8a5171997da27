"""StreamLearner: decide at once on each arriving item whether to ask for its label.

The online door into activelab's loop::

    process(x) -> [query? ask the oracle] -> learn(x, y) -> process(next x) ...

Each item is scored by the current model, the stream strategy decides under
the budget manager, and the decision comes back with the prediction, the
utility and the spend so far. :meth:`StreamLearner.process_many` does the same
for a mini-batch with one ``predict_proba`` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from activelab._validation import _kinds
from activelab.strategies.uncertainty import least_confident, margin
from activelab.stream._adapters import make_adapter
from activelab.stream.budget import BudgetManager, get_budget_manager
from activelab.stream.strategies import StreamStrategy, get_stream_strategy

__all__ = ["StreamBatch", "StreamDecision", "StreamLearner"]

_UTILITIES = {"margin": margin, "least_confident": least_confident}


@dataclass(frozen=True)
class StreamDecision:
    """The decision on one item.

    Attributes
    ----------
    query : bool
        Ask the oracle for this item's label.
    prediction : object
        The model's predicted class (None while the model has seen no label, or
        when its probabilities for the item are NaN: ``GaussianNB`` after a first
        batch of one label, whose variances are 0).
    utility : float
        The item's uncertainty (``1 - confidence``; NaN without a model, 1
        while the labels learned hold a single class).
    spend : float
        The share of items queried over the budget manager's window, this item
        included.
    n_queried : int
        Items queried so far, this one included.
    n_seen : int
        Items decided on so far, this one included.
    """

    query: bool
    prediction: Any
    utility: float
    spend: float
    n_queried: int
    n_seen: int


@dataclass(frozen=True)
class StreamBatch:
    """The decisions on a mini-batch, aligned with its items.

    Attributes
    ----------
    query : ndarray of bool
    prediction : ndarray
        Predicted classes (an object array, None while the model has seen
        no label and for items whose probabilities are NaN).
    utility : ndarray of float
    spend : float
        The window spend after the batch.
    n_queried, n_seen : int
        Totals after the batch.
    """

    query: np.ndarray
    prediction: np.ndarray
    utility: np.ndarray
    spend: float
    n_queried: int
    n_seen: int

    def __len__(self) -> int:
        return len(self.query)

    @property
    def indices(self) -> np.ndarray:
        """Positions in the batch of the items to query."""
        return np.flatnonzero(self.query)

    def __getitem__(self, i: int) -> StreamDecision:
        return StreamDecision(
            bool(self.query[i]),
            self.prediction[i],
            float(self.utility[i]),
            self.spend,
            self.n_queried,
            self.n_seen,
        )


def _check_stream_labels(y: np.ndarray, known: np.ndarray) -> None:
    """Refuse missing labels and labels of another kind than the classes known so far.

    Parameters
    ----------
    y : ndarray of shape (n,)
        The batch's labels.
    known : ndarray
        The classes known so far (empty before the first label when none were given).

    Raises
    ------
    ValueError
        For a ``None`` or NaN label (with its position in the batch), or string labels
        for a stream whose classes are numbers (or the reverse), which would otherwise
        turn every stored label into a string.
    """
    missing = _kinds(y) == 2  # None or NaN, as the pool learner's label check reads them
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"Label {y.tolist()[i]!r} (item {i} of the batch) is missing; give every item its "
            "label or leave the item out of learn."
        )
    if known.size and (known.dtype.kind in "biuf") != (y.dtype.kind in "biuf"):
        raise ValueError(
            f"Labels {y[:3].tolist()!r} are not of the kind of the stream's classes "
            f"{known.tolist()!r} (numbers and strings do not mix); give the labels as "
            f"{'numbers' if known.dtype.kind in 'biuf' else 'strings'}."
        )


class StreamLearner:
    """Stream-based active learning under a label budget.

    Parameters
    ----------
    model : estimator
        A scikit-learn classifier with ``predict_proba`` and ``partial_fit``
        (e.g. ``SGDClassifier(loss="log_loss")``, ``GaussianNB``), updated
        with each labelled batch; a scikit-learn classifier with ``predict_proba``
        and only ``fit`` (e.g. ``LogisticRegression()``), refitted after each
        labelled batch on the last ``label_memory`` labelled items; or a river
        classifier (``learn_one``/``predict_proba_one``). It is cloned; the
        original is not modified.
    strategy : str or StreamStrategy, default="rvu"
        ``"random"``, ``"fixed-uncertainty"``, ``"vu"``, ``"rvu"`` or
        ``"split"`` (see :mod:`activelab.stream.strategies`), or an instance.
    budget : float or BudgetManager, default=0.1
        The share of items that may be queried, or a budget manager.
    classes : array-like, optional
        Every class of the stream. A scikit-learn model fixes its classes at
        its first ``partial_fit``: give them here unless the first labels
        contain every class. Labels outside them are refused.
    window : int, optional
        Items the spend is measured over (default 1,000): at least
        ``1 / budget`` for ``"window"``, above it for ``"estimated"`` (a
        shorter one is refused). A budget manager given as ``budget`` has its
        own: another one here is refused rather than ignored.
    budget_manager : {"window", "estimated"}, optional
        :class:`~activelab.stream.budget.WindowBudget` (exact sliding count,
        the default) or :class:`~activelab.stream.budget.EstimatedBudget` (the
        paper's forgetting estimate). With either, the queries among the first
        ``n`` items never exceed ``budget * n``. Like ``window``, it belongs to
        a budget given as a share.
    utility : {"margin", "least_confident"}, default="margin"
        The uncertainty measure; the confidence is ``1 - utility``.
    standardize : bool, default=False
        Standardise the features of a scikit-learn model with running means and
        variances over every item seen (labelled or not).
    label_memory : int, default=1000
        Labelled items a refitted model (one without ``partial_fit``) is fitted
        on: the most recent ones (bounded memory; older labels are forgotten,
        which also lets the model follow a drift). Until the kept labels hold
        two classes, such a model predicts the smoothed label frequencies.
    feature_names : sequence, optional
        Names of the columns when items come as arrays and the model reads
        dicts (river), or the dict keys' order when a scikit-learn model gets
        dicts (default: the first item's keys).
    random_state : int or numpy.random.Generator, optional
        Seeds every random decision.
    **strategy_params
        Passed to the strategy when it is given by name (``step``, ``delta``,
        ``share``, ``threshold``).

    Attributes
    ----------
    model_ : estimator
        The model being trained.
    budget_manager_ : BudgetManager
    strategy_ : StreamStrategy
    n_seen_, n_queried_, n_learned_ : int

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> learner = StreamLearner(SGDClassifier(loss="log_loss", random_state=0), "rvu", budget=0.1,
    ...                         classes=[0, 1], random_state=0)
    >>> d = learner.process(X[0])
    >>> d.query, d.prediction            # no label yet: no prediction, query if the budget allows
    (False, None)
    >>> for start in range(0, 5000, 100):                       # mini-batches
    ...     batch = learner.process_many(X[start:start + 100])
    ...     ask = start + batch.indices
    ...     learner = learner.learn_many(X[ask], y[ask])        # the oracle answers
    >>> round(learner.spend_, 2) <= 0.1
    True
    >>> float(np.mean(learner.predict(X) == y)) > 0.9
    True
    """

    def __init__(
        self,
        model: Any,
        strategy: str | StreamStrategy = "rvu",
        budget: float | BudgetManager = 0.1,
        *,
        classes: Any = None,
        window: int | None = None,
        budget_manager: str | None = None,
        utility: str = "margin",
        standardize: bool = False,
        label_memory: int = 1000,
        feature_names: Sequence[Any] | None = None,
        random_state: int | np.random.Generator | None = None,
        **strategy_params: Any,
    ) -> None:
        if utility not in _UTILITIES:
            raise ValueError(f"utility must be one of {sorted(_UTILITIES)}, got {utility!r}.")
        self.model = model
        self.strategy = strategy
        self.budget = budget
        self.classes = classes
        self.window = window
        self.utility = utility
        self.random_state = random_state
        self.strategy_ = get_stream_strategy(strategy, **strategy_params)
        self.budget_manager_ = get_budget_manager(budget, budget_manager, window)
        self.label_memory = label_memory
        self._adapter = make_adapter(model, classes, feature_names, standardize, label_memory)
        self._utility = _UTILITIES[utility]
        self._rng = np.random.default_rng(random_state)
        self.n_learned_ = 0
        self._labels_seen: set[Any] = set()

    # ----------------------------------------------------------------- state
    @property
    def model_(self) -> Any:
        return self._adapter.model

    @property
    def classes_(self) -> np.ndarray:
        """The classes known so far (fixed when given)."""
        return self._adapter.classes_

    @property
    def has_model(self) -> bool:
        """Whether the model has learned from at least one label."""
        return self._adapter.fitted

    @property
    def n_seen_(self) -> int:
        return self.budget_manager_.n_seen

    @property
    def n_queried_(self) -> int:
        return self.budget_manager_.n_queried

    @property
    def spend_(self) -> float:
        """The realised spend: queried items over all items seen."""
        return self.budget_manager_.realised

    @property
    def window_spend_(self) -> float:
        """The spend over the budget manager's window."""
        return self.budget_manager_.spend

    # ------------------------------------------------------------- decisions
    def process(self, x: Any) -> StreamDecision:
        """Decide on one arriving item.

        Parameters
        ----------
        x : 1-D array-like or dict
            The item's features.

        Returns
        -------
        StreamDecision
        """
        if not isinstance(x, dict):
            x = np.asarray(x)
            if x.ndim != 1:
                raise ValueError(
                    f"process takes one item (a 1-D array or a dict), got shape {x.shape}; "
                    "use process_many for a batch."
                )
        return self.process_many([x] if isinstance(x, dict) else x[None, :])[0]

    def process_many(self, X: Any) -> StreamBatch:
        """Decide on a mini-batch, in order, scoring it with one model call.

        Every item of the batch is scored by the model as it was before the
        batch; the decisions are taken in order under the budget.

        Parameters
        ----------
        X : 2-D array-like or list of dicts

        Returns
        -------
        StreamBatch
        """
        items = self._adapter.observe(X)
        n = len(items)
        if self._adapter.fitted and n:
            P = self._adapter.predict_proba(items)
            util = self._utility(P)
            bad = ~np.isfinite(util)
            if bad.any():  # a model that cannot score an item yet: treat it as unsure
                util[bad] = 1.0
            pred = self._adapter.classes_[np.argmax(P, axis=1)]
            unscored = ~np.isfinite(P).all(axis=1)
            if unscored.any():  # NaN probabilities name no class: no prediction, as before a label
                pred = pred.astype(object)
                pred[unscored] = None
            conf: np.ndarray | None = 1.0 - util
            if len(self._labels_seen) < 2:
                # one class learned: no boundary to be sure about, so every item is
                # unsure and, as before any label, queried while the budget allows
                util[:] = 1.0
                conf = None
        else:
            util = np.full(n, np.nan)
            pred = np.full(n, None, dtype=object)
            conf = None
        query = self.strategy_.decide(conf, self.budget_manager_, self._rng, n=n)
        m = self.budget_manager_
        return StreamBatch(query, pred, util, m.spend, m.n_queried, m.n_seen)

    # -------------------------------------------------------------- learning
    def learn(self, x: Any, y: Any) -> StreamLearner:
        """Update the model with one labelled item."""
        items = [x] if isinstance(x, dict) else np.asarray(x)[None, :]
        return self.learn_many(items, [y])

    def learn_many(self, X: Any, y: Any) -> StreamLearner:
        """Update the model with labelled items (nothing happens for an empty batch)."""
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}.")
        n_items = len(X) if isinstance(X, list | tuple) else np.shape(X)[0]
        if n_items != len(y):
            raise ValueError(f"Got {n_items} items but {len(y)} labels.")
        if len(y) == 0:
            return self
        _check_stream_labels(y, self._adapter.classes_)
        self._adapter.learn(X, y)
        self.n_learned_ += len(y)
        if len(self._labels_seen) < 2:
            self._labels_seen.update(np.unique(y).tolist())
        return self

    # ------------------------------------------------------------ prediction
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (columns in the order of :attr:`classes_`)."""
        self._check_fitted()
        return self._adapter.predict_proba(self._convert(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most likely class of each item."""
        P = self.predict_proba(X)
        return self._adapter.classes_[np.argmax(P, axis=1)]

    def _convert(self, X: Any) -> Any:
        a = self._adapter
        return a.to_dicts(X) if a.kind == "river" else a.to_array(X)

    def _check_fitted(self) -> None:
        if not self._adapter.fitted:
            raise RuntimeError("The model has not learned from any label yet; call learn first.")

    def __repr__(self) -> str:
        return (
            f"StreamLearner({type(self.model).__name__}, {self.strategy_!r}, "
            f"{self.budget_manager_!r})"
        )
