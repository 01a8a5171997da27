"""Multi-label targets: indicator checks, probabilities in one shape, early fitting.

A multi-label target is a binary indicator matrix ``Y`` of shape
``(n_items, n_labels)``: ``Y[i, j] == 1`` when item ``i`` carries label ``j``.
scikit-learn's multi-label estimators disagree on the shape of
``predict_proba``: :class:`~sklearn.multiclass.OneVsRestClassifier` returns an
``(n, n_labels)`` matrix, while native multi-output estimators
(:class:`~sklearn.neighbors.KNeighborsClassifier`,
:class:`~sklearn.ensemble.RandomForestClassifier`) and
:class:`~sklearn.multioutput.MultiOutputClassifier` return one
``(n, n_classes_j)`` array per label. :func:`multilabel_proba` turns every one
of them into the ``(n, n_labels)`` matrix of ``P(label = 1)``.

Early in a campaign some labels have been seen with one value only (every item
so far lacks a rare label). :class:`ConstantLabelsClassifier` fits the model on
the labels that vary and predicts the constant for the others, so a model can be
fitted (and uncertainty strategies can run) long before every label has been
seen both ways.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone

__all__ = [
    "ConstantLabelsClassifier",
    "check_indicator",
    "fit_multilabel",
    "joined_label_set",
    "label_set_refusal",
    "multilabel_proba",
    "split_label_set",
    "to_indicator",
]


def check_indicator(
    Y: Any,
    *,
    n_labels: int | None = None,
    label_names: Any = None,
    row_names: Any = None,
) -> np.ndarray:
    """Validate a multi-label indicator matrix and return it as ``int64``.

    Parameters
    ----------
    Y : array-like of shape (n, n_labels)
        0/1 (or boolean) values, one row per item, one column per label.
    n_labels : int, optional
        The width every row must have.
    label_names : sequence, optional
        Names of the columns, used in error messages.
    row_names : sequence, optional
        What to call each row in error messages (e.g. pool indices).

    Returns
    -------
    ndarray of int64, shape (n, n_labels)

    Examples
    --------
    >>> check_indicator([[1, 0, 1], [0, 0, 0]])
    array([[1, 0, 1],
           [0, 0, 0]])
    >>> check_indicator([[1, 2]], label_names=["cat", "dog"], row_names=[17])
    Traceback (most recent call last):
    ...
    ValueError: Label row 0 (pool index 17) has value 2 for label 'dog'; ...
    """
    arr = _indicator_array(Y)
    if arr.ndim != 2:
        raise ValueError(
            f"Multi-label targets must be a 2-D 0/1 indicator matrix (n_items, n_labels), got "
            f"an array of shape {arr.shape}; convert label lists with "
            "activelab.multilabel.to_indicator."
        )

    def where(i: int) -> str:
        return f"Label row {i}" + (f" (pool index {row_names[i]})" if row_names is not None else "")

    if n_labels is not None and arr.shape[1] != n_labels and arr.shape[0]:
        names = "" if label_names is None else f" {list(label_names)}"
        raise ValueError(
            f"{where(0)} has {arr.shape[1]} columns but there are {n_labels} labels{names}; "
            "pass one 0/1 column per label, in the order of the learner's classes."
        )
    if arr.dtype == bool:
        return arr.astype(np.int64)
    ones, cell = _indicator_cells(arr)
    if cell is not None:
        i, j = cell
        label = repr(label_names[j]) if label_names is not None else f"column {j}"
        value = _plain(arr[i, j])
        hint = (
            "; convert label lists with activelab.multilabel.to_indicator"
            if isinstance(value, str)
            else ""
        )
        raise ValueError(
            f"{where(i)} has value {value!r} for label {label}; multi-label rows must be 0/1 "
            f"indicators (1 = the item carries the label){hint}."
        )
    return ones.astype(np.int64)


def _indicator_array(Y: Any) -> np.ndarray:
    """``Y`` as an ndarray, a sparse matrix made dense."""
    return Y.toarray() if sparse.issparse(Y) else np.asarray(Y)


def _indicator_cells(arr: np.ndarray) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The cells of an indicator matrix that are 1, and the first cell that is neither 0
    nor 1 (None when every cell is one of them): the check behind :func:`check_indicator`
    and the multi-label metrics.

    Examples
    --------
    >>> ones, cell = _indicator_cells(np.array([["0", "1"], ["1", "x"]]))
    >>> ones.tolist(), cell
    ([[False, True], [True, False]], (1, 1))
    """
    try:
        values = arr.astype(float)
    except (TypeError, ValueError):  # a text or None among the numbers: found cell by cell
        values = np.frompyfunc(_float_or_nan, 1, 1)(arr).astype(float)
    bad = (values != 0) & (values != 1)
    cell = tuple(int(k) for k in np.argwhere(bad)[0]) if bad.any() else None
    return values == 1, cell  # type: ignore[return-value]


def _float_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages), anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


#: What joins the labels of one item in a text cell (a CSV export of a multi-label project).
LABEL_SEPARATOR = ";"
#: How a text cell writes the empty label set (none of the labels).
EMPTY_LABEL_SET = "[]"


def split_label_set(value: str | list[str]) -> list[str]:
    """An item's labels from a text cell: split at ``;``, blanks dropped; ``"[]"`` is none.

    The one reading of a label set written as text, as the labelling app and the
    command line write and read it. A list is taken as the labels already.

    Parameters
    ----------
    value : str or list of str
        The cell (``"b; a"``, ``"[]"``) or the labels.

    Returns
    -------
    list of str

    Examples
    --------
    >>> split_label_set("b; a"), split_label_set("[]"), split_label_set(["c"])
    (['b', 'a'], [], ['c'])
    """
    if isinstance(value, str) and value.strip() == EMPTY_LABEL_SET:
        return []
    parts = value if isinstance(value, list) else value.split(LABEL_SEPARATOR)
    return [v.strip() for v in parts if v.strip()]


def joined_label_set(labels: Any) -> str | None:
    """A label among ``labels`` that reads as several of them joined by ``;``, or ``None``.

    A value counts as a set when it splits (:func:`split_label_set`) into two or more
    labels and one of them is a label of its own, or another value holds the same
    labels in another order (``"a;b"`` and ``"b;a"``): multi-label data flattened into
    one label per item, where each set would be taken as a class of its own.

    Parameters
    ----------
    labels : iterable
        The distinct labels (classes) of a single-label target; those that are not
        text are never sets.

    Returns
    -------
    str or None
        The first such label (in sorted order), or ``None``.

    Examples
    --------
    >>> joined_label_set(["sports", "politics", "politics;sports"])
    'politics;sports'
    >>> joined_label_set(["rock;pop", "jazz"]) is None  # one label with a ';' in its name
    True
    """
    names = {str(c) for c in labels}
    seen: set[frozenset[str]] = set()
    for value in sorted(names):
        parts = split_label_set(value)
        if LABEL_SEPARATOR not in value or len(parts) < 2:
            continue
        key = frozenset(parts)
        if any(p in names for p in parts) or key in seen:
            return value
        seen.add(key)
    return None


def label_set_refusal(value: str) -> str:
    """The message refusing a single-label class that is a set of labels joined by ``;``.

    Parameters
    ----------
    value : str
        The label, as :func:`joined_label_set` found it.

    Returns
    -------
    str
        One line: the label, why, and how to give multi-label targets.
    """
    parts = split_label_set(value)
    return (
        f"The label {value!r} reads as the labels {parts} of one item joined by "
        f"{LABEL_SEPARATOR!r} (multi-label data), and would be taken as a class of its own: "
        "give multi-label targets as 0/1 rows, Y = activelab.multilabel.to_indicator("
        "[split_label_set(v) for v in labels], names), with a multi-label strategy such as "
        "'mmc'; or rename the label if it is one class."
    )


def to_indicator(label_lists: Any, classes: Any) -> np.ndarray:
    """Turn per-item label lists into an indicator matrix over a fixed label set.

    Parameters
    ----------
    label_lists : sequence of sequences
        Each item's labels (a list, tuple or set; ``[]`` for an item carrying none).
    classes : sequence or int
        The label set, in column order; an int ``k`` stands for the labels
        ``0 … k-1``, as ``ActiveLearner(classes=k)`` numbers them.

    Returns
    -------
    ndarray of int64, shape (n_items, n_labels)

    Examples
    --------
    >>> to_indicator([["cat"], [], ["dog", "cat"]], ["cat", "dog", "owl"])
    array([[1, 0, 0],
           [0, 0, 0],
           [1, 1, 0]])
    >>> to_indicator([[2], [0, 1]], 3)
    array([[0, 0, 1],
           [1, 1, 0]])
    """
    if isinstance(classes, numbers.Integral) and not isinstance(classes, bool):
        classes = list(range(int(classes)))
    elif isinstance(classes, str) or not isinstance(classes, Iterable):
        raise ValueError(
            f"classes must list the labels in column order (or give their number), got {classes!r}."
        )
    classes = list(classes)
    position = {c: j for j, c in enumerate(classes)}
    if len(position) < len(classes):  # a later column would take every hit of its name
        twice = next(c for j, c in enumerate(classes) if position[c] != j)
        raise ValueError(f"Label {twice!r} appears twice in classes; each label names one column.")
    out = np.zeros((len(label_lists), len(classes)), dtype=np.int64)
    for i, labels in enumerate(label_lists):
        if isinstance(labels, str):  # iterating it would read each character as a label
            raise ValueError(
                f"Item {i} is the text {labels!r}, not a list of labels; wrap it: [{labels!r}]."
            )
        if not isinstance(labels, Iterable):
            raise ValueError(
                f"Item {i} is {labels!r}, not a list of labels; give [] for an item that "
                f"carries none of them (and leave unlabelled items out), [{labels!r}] for one "
                "label."
            )
        for label in labels:
            if label not in position:
                raise ValueError(
                    f"Item {i} has label {label!r}, which is not one of {classes}; fix the label "
                    "or add it to the label set."
                )
            out[i, position[label]] = 1
    return out


def _positive_column(P: np.ndarray, classes: Any) -> np.ndarray:
    """P(class 1) from one binary output's ``(n, k)`` probabilities and its classes."""
    classes = np.asarray(classes if classes is not None else np.arange(P.shape[1]))
    hit = np.flatnonzero(classes.astype(float) == 1.0) if classes.dtype != object else []
    if len(hit):
        return np.asarray(P[:, hit[0]], dtype=float)
    if classes.shape[0] == 1:  # a constant output seen only as 0 (or only as 1 above)
        return np.zeros(P.shape[0])
    return np.asarray(P[:, -1], dtype=float)


def _predicts_label_sets(model: Any, X: Any) -> bool:
    """Whether a fitted ``model`` predicts label sets (0/1 indicator rows, multi-label).

    Told by its prediction for the first row of ``X``: an indicator row is 2-D, one label
    per item 1-D. The one test of :func:`activelab.ranking.rank_pool`, ``activelab query``
    and :class:`activelab.stopping.ConfidenceCriterion`.

    Parameters
    ----------
    model : fitted estimator
        With ``predict``.
    X : array-like, sparse matrix, DataFrame or Dask collection
        Rows as the model reads them; only the first is predicted (a Dask collection's
        first row is computed).

    Returns
    -------
    bool
        ``False`` for an empty ``X``. What ``predict`` raises is not caught.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> knn = KNeighborsClassifier(n_neighbors=1)
    >>> _predicts_label_sets(knn.fit(X, [0, 1, 1]), X)
    False
    >>> _predicts_label_sets(knn.fit(X, [[1, 0], [0, 1], [1, 1]]), X)
    True
    """
    from activelab.scoring import take_rows

    first = X.head(1) if hasattr(X, "head") else take_rows(X, np.arange(1))
    if hasattr(first, "compute"):  # a Dask collection: one row comes back
        first = first.compute()
    if not first.shape[0]:
        return False
    return bool(np.ndim(model.predict(first)) == 2)


def multilabel_proba(model: Any, X: Any, n_labels: int | None = None) -> np.ndarray:
    """The ``(n, n_labels)`` matrix of ``P(label = 1)`` from any multi-label classifier.

    Parameters
    ----------
    model : fitted classifier
        One-vs-rest, ``MultiOutputClassifier``, a native multi-output estimator
        (whose ``predict_proba`` returns one array per label), a
        :class:`ConstantLabelsClassifier`, or a pipeline ending in one of them.
    X : array-like or sparse matrix
        The rows to score.
    n_labels : int, optional
        The expected width; a single-output binary model (``(n, 2)``
        probabilities) is read as one label when ``n_labels == 1``.

    Returns
    -------
    ndarray of float, shape (n, n_labels)

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    >>> knn = KNeighborsClassifier(n_neighbors=2).fit(X, Y)
    >>> multilabel_proba(knn, [[0.2], [2.8]])
    array([[1., 0.],
           [0., 1.]])
    """
    return _label_columns(model.predict_proba(X), getattr(model, "classes_", None), n_labels)


def _label_columns(P: Any, classes: Any, n_labels: int | None = None) -> np.ndarray:
    """:func:`multilabel_proba` from the model's ``predict_proba`` output ``P`` and its
    ``classes_``: one positive-probability column per label."""
    if isinstance(P, list):
        if not isinstance(classes, list):
            classes = [None] * len(P)
        cols = [_positive_column(np.asarray(p), c) for p, c in zip(P, classes, strict=True)]
        P = np.column_stack(cols) if cols else np.empty((len(P), 0))
    P = np.asarray(P, dtype=float)
    if P.ndim != 2:
        raise ValueError(f"predict_proba returned shape {P.shape}; expected a 2-D array.")
    if n_labels == 1 and P.shape[1] == 2:
        return _positive_column(P, classes)[:, None]
    if n_labels is not None and P.shape[1] != n_labels:
        raise ValueError(
            f"The model's predict_proba has {P.shape[1]} columns but there are {n_labels} "
            "labels; fit a multi-label model (e.g. OneVsRestClassifier) on the indicator matrix."
        )
    return P


class ConstantLabelsClassifier(ClassifierMixin, BaseEstimator):
    """Fit a multi-label model on the labels that vary; predict the others' constant.

    Labels seen with a single value (all 0 or all 1 so far) are predicted as
    that value with probability 1; the wrapped estimator is fitted on the
    remaining columns only. This lets a model be fitted as soon as one label
    has been seen both ways, with estimators that otherwise refuse a constant
    column (``MultiOutputClassifier(LogisticRegression())``) or warn about it
    (``OneVsRestClassifier``).

    Parameters
    ----------
    estimator : estimator
        Any multi-label classifier; cloned at fit.

    Attributes
    ----------
    estimator_ : estimator or None
        Fitted on the varying columns (``None`` when every column is constant).
    varying_ : ndarray of bool, shape (n_labels,)
        Which columns vary.
    constant_ : ndarray of int64, shape (n_labels,)
        The value of each constant column (meaningless where ``varying_``).
    classes_ : ndarray
        ``arange(n_labels)``, as for ``OneVsRestClassifier``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> Y = np.array([[0, 0, 1], [0, 0, 1], [1, 0, 1], [1, 0, 1]])
    >>> clf = ConstantLabelsClassifier(MultiOutputClassifier(LogisticRegression())).fit(X, Y)
    >>> clf.varying_
    array([ True, False, False])
    >>> clf.predict([[3.0]])
    array([[1, 0, 1]])
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, Y: Any) -> ConstantLabelsClassifier:
        """Fit on the varying columns of the indicator matrix ``Y``."""
        Y = check_indicator(Y)
        if Y.shape[0] == 0:
            raise ValueError("Cannot fit on zero rows.")
        self.varying_ = Y.min(axis=0) != Y.max(axis=0)
        self.constant_ = Y[0].copy()
        self.classes_ = np.arange(Y.shape[1])
        self.n_labels_ = int(Y.shape[1])
        self.estimator_ = None
        if self.varying_.any():
            self.estimator_ = clone(self.estimator).fit(X, Y[:, self.varying_])
        return self

    def _n_rows(self, X: Any) -> int:
        return int(X.shape[0]) if hasattr(X, "shape") else len(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, n_labels)`` matrix of ``P(label = 1)``."""
        out = np.tile(self.constant_.astype(float), (self._n_rows(X), 1))
        if self.estimator_ is not None:
            k = int(self.varying_.sum())
            out[:, self.varying_] = multilabel_proba(self.estimator_, X, k)
        return out

    def predict(self, X: Any) -> np.ndarray:
        """``(n, n_labels)`` 0/1 indicator predictions."""
        out = np.tile(self.constant_, (self._n_rows(X), 1))
        if self.estimator_ is not None:
            pred = np.asarray(self.estimator_.predict(X))
            out[:, self.varying_] = pred.reshape(pred.shape[0], -1).astype(np.int64)
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def fit_multilabel(estimator: Any, X: Any, Y: np.ndarray) -> Any:
    """Fit a clone of ``estimator`` on ``Y``, wrapping it when some label is constant.

    Returns the fitted clone when every column varies, else (or when ``Y`` has a
    single column) a fitted :class:`ConstantLabelsClassifier`, whose ``predict``
    and ``predict_proba`` always give one column per label.

    Examples
    --------
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> type(fit_multilabel(OneVsRestClassifier(LogisticRegression()), X,
    ...                     np.array([[0, 1], [0, 1], [1, 0], [1, 1]]))).__name__
    'OneVsRestClassifier'
    >>> type(fit_multilabel(OneVsRestClassifier(LogisticRegression()), X,
    ...                     np.array([[0, 1], [0, 1], [1, 1], [1, 1]]))).__name__
    'ConstantLabelsClassifier'
    """
    Y = np.asarray(Y)
    # one label: scikit-learn reads a single column as a binary target (1-D predictions and
    # two probability columns), so the wrapper keeps the (n, 1) shapes
    if Y.ndim == 2 and Y.shape[1] > 1 and Y.shape[0] and np.all(Y.min(axis=0) != Y.max(axis=0)):
        return clone(estimator).fit(X, Y)
    return ConstantLabelsClassifier(estimator).fit(X, Y)
