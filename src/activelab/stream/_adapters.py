"""One interface over stream models: scikit-learn ``partial_fit``, refitted scikit-learn, river.

Every adapter takes a batch of items (a 2-D array or a list of dicts), returns
class probabilities as an ``(n, n_classes)`` array over the adapter's
``classes_``, and learns from labelled items. A scikit-learn model with
``partial_fit`` gets the classes on its first ``partial_fit``; a scikit-learn
model with only ``fit`` is refitted, after each labelled batch, on the last
``label_memory`` labelled items (a bounded memory, which also forgets an old
concept); a river model learns one item at a time and its classes grow as
labels arrive.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence, Set
from typing import Any, NoReturn

import numpy as np
from sklearn.base import clone

from activelab._validation import check_count

__all__: list[str] = []


def _proba_fix(model: Any) -> str:
    """How to get probabilities for ``model``: its own switch where it has one."""
    from sklearn.linear_model import SGDClassifier

    name = type(model).__name__
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    if "probability" in params:  # SVC, NuSVC
        return f"pass {name}(probability=True)"
    if isinstance(model, SGDClassifier):
        return "use a probabilistic loss: loss='log_loss' or loss='modified_huber'"
    return (
        "use a model with probabilities, e.g. SGDClassifier(loss='log_loss') (partial_fit) "
        "or LogisticRegression() (refitted on the recent labels)"
    )


def _is_river(model: Any) -> bool:
    return hasattr(model, "learn_one") and hasattr(model, "predict_proba_one")


def make_adapter(
    model: Any,
    classes: Any,
    feature_names: Sequence[Any] | None,
    standardize: bool,
    label_memory: int = 1000,
) -> _Adapter:
    """Wrap ``model`` (a clone of it) behind the adapter interface."""
    if _is_river(model):
        if standardize:
            raise ValueError(
                "standardize=True applies to scikit-learn models; for a river model put "
                "river.preprocessing.StandardScaler() in its pipeline instead."
            )
        return _RiverAdapter(model, classes, feature_names)
    if not hasattr(model, "predict_proba"):
        if hasattr(model, "partial_fit") or hasattr(model, "fit"):
            raise TypeError(
                f"{type(model).__name__} has no predict_proba, which stream strategies need "
                f"to measure uncertainty; {_proba_fix(model)}."
            )
    elif hasattr(model, "partial_fit"):
        return _SklearnAdapter(model, classes, feature_names, standardize)
    elif hasattr(model, "fit"):
        return _RefitAdapter(model, classes, feature_names, standardize, label_memory)
    raise TypeError(
        f"{type(model).__name__} cannot learn from a stream: give a scikit-learn classifier "
        "with predict_proba and partial_fit (e.g. SGDClassifier(loss='log_loss'), GaussianNB) "
        "or fit (refitted on the recent labels, e.g. LogisticRegression()), or a river "
        "classifier (learn_one and predict_proba_one)."
    )


def _refuse_non_finite(i: int) -> NoReturn:
    """Refuse a batch whose item ``i`` has a NaN or infinite feature."""
    raise ValueError(
        f"Item {i} of the batch has a NaN or infinite feature; impute or drop it first."
    )


class _Adapter:
    kind = ""
    classes_: np.ndarray
    fitted = False

    def __init__(self, classes: Any, feature_names: Sequence[Any] | None) -> None:
        if isinstance(classes, Set | Iterator):  # set(y): sorted, as the models order them
            classes = np.unique(np.asarray(list(classes)))
        self.classes_ = np.asarray(classes) if classes is not None else np.empty(0)
        self.fixed_classes = classes is not None
        if self.fixed_classes and (self.classes_.ndim != 1 or self.classes_.size < 2):
            raise ValueError(f"classes must list at least two classes, got {classes!r}.")
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.n_features: int | None = None

    def _batch(self, X: np.ndarray) -> np.ndarray:
        """``X`` as a batch of rows (a 1-D array is one item), checked: two dimensions, the
        number of features the stream started with, and no NaN or infinite number."""
        if X.ndim == 1:
            if not X.size:  # [] is an empty batch, not one item without features
                return np.empty((0, self.n_features or 0))
            X = X[None, :]
        if X.ndim != 2:
            raise ValueError(f"Expected items as a 2-D array (n_items, n_features), got {X.shape}.")
        if self.n_features is None:
            self.n_features = X.shape[1]
        elif X.shape[1] != self.n_features:
            raise ValueError(
                f"Items have {X.shape[1]} features; the stream started with {self.n_features}."
            )
        if X.dtype.kind in "fc":
            finite = np.isfinite(X).all(axis=1)
            if not finite.all():
                _refuse_non_finite(int(np.flatnonzero(~finite)[0]))
        return X

    def observe(self, items: Any) -> Any:
        """Convert a batch to the model's input (and update unsupervised statistics)."""
        return items

    def predict_proba(self, items: Any) -> np.ndarray:
        raise NotImplementedError

    def learn(self, items: Any, y: np.ndarray) -> None:
        raise NotImplementedError

    def check_labels(self, y: np.ndarray) -> None:
        if not self.fixed_classes:
            return
        bad = ~np.isin(y, self.classes_)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Label {y[i].tolist()!r} (item {i} of the batch) is not one of the classes "
                f"{self.classes_.tolist()}; pass every class in classes=."
            )


class _SklearnAdapter(_Adapter):
    kind = "sklearn"

    def __init__(
        self, model: Any, classes: Any, feature_names: Sequence[Any] | None, standardize: bool
    ) -> None:
        super().__init__(classes, feature_names)
        self.model = clone(model)
        self.scaler: Any = None
        if standardize:
            from sklearn.preprocessing import StandardScaler

            self.scaler = StandardScaler()

    def to_array(self, items: Any) -> np.ndarray:
        if isinstance(items, Mapping):
            items = [items]
        if isinstance(items, list | tuple) and items and isinstance(items[0], Mapping):
            if self.feature_names is None:
                self.feature_names = list(items[0])
            names = self.feature_names
            try:
                X = np.array([[row[k] for k in names] for row in items], dtype=float)
            except KeyError as exc:
                raise ValueError(
                    f"An item has no feature {exc.args[0]!r}; every item needs the features "
                    f"{names}."
                ) from None
        else:
            X = np.asarray(items, dtype=float)
        return self._batch(X)

    def observe(self, items: Any) -> np.ndarray:
        X = self.to_array(items)
        if self.scaler is not None and len(X):
            self.scaler.partial_fit(X)
        return X

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        if self.scaler is None:
            return X
        if not hasattr(self.scaler, "scale_"):
            self.scaler.partial_fit(X)
        return self.scaler.transform(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        # a model that saw one class may yield NaN (GaussianNB): the learner handles it
        with np.errstate(all="ignore"):
            return np.asarray(self.model.predict_proba(self._scaled(X)), dtype=float)

    def learn(self, items: Any, y: np.ndarray) -> None:
        X = self.to_array(items)
        self.check_labels(y)
        if not self.fitted:
            classes = self.classes_
            if not self.fixed_classes:
                classes = np.unique(y)
                if classes.size < 2:
                    raise ValueError(
                        f"The first labels are all {classes.tolist()}; a scikit-learn model "
                        "fixes its classes at its first partial_fit, so pass every class in "
                        "classes=."
                    )
            self.model.partial_fit(self._scaled(X), y, classes=classes)
            # the classes are fixed only once the model has accepted them
            self.classes_ = np.asarray(self.model.classes_)
            self.fixed_classes = True
            self.fitted = True
            return
        self.model.partial_fit(self._scaled(X), y)


class _RefitAdapter(_SklearnAdapter):
    """A scikit-learn classifier refitted on the last ``label_memory`` labelled items."""

    kind = "sklearn"

    def __init__(
        self,
        model: Any,
        classes: Any,
        feature_names: Sequence[Any] | None,
        standardize: bool,
        label_memory: int,
    ) -> None:
        super().__init__(model, classes, feature_names, standardize)
        self.template = model
        self.label_memory = check_count(label_memory, "label_memory")
        self._X: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._cols: np.ndarray | None = None  # columns of the fitted model's classes

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        k = len(self.classes_)
        if self._cols is None:
            # one class seen so far: the smoothed label frequencies, the same for every item
            counts = (self._y[:, None] == self.classes_[None, :]).sum(axis=0)
            prior = (counts + 1.0) / (counts.sum() + k)
            return np.broadcast_to(prior, (len(X), k)).copy()
        P = np.zeros((len(X), k))
        with np.errstate(all="ignore"):
            P[:, self._cols] = self.model.predict_proba(self._scaled(X))
        return P

    def learn(self, items: Any, y: np.ndarray) -> None:
        X = self.to_array(items)
        self.check_labels(y)
        y = np.asarray(y)
        if self._X is None:
            kept_X, kept_y = X, y
        else:
            kept_X = np.concatenate([self._X, X])[-self.label_memory :]
            kept_y = np.concatenate([self._y, y])[-self.label_memory :]
        classes = self.classes_
        if not self.fixed_classes:
            classes = np.unique(kept_y if classes.size == 0 else np.concatenate([classes, y]))
        model, cols = None, None
        if np.unique(kept_y).size >= 2:
            model = clone(self.template).fit(self._scaled(kept_X), kept_y)
            cols = np.array([np.flatnonzero(classes == c)[0] for c in model.classes_])
        # the labels are kept only once the model has been fitted on them
        self._X, self._y, self.classes_, self._cols = kept_X, kept_y, classes, cols
        if model is not None:
            self.model = model
        self.fitted = True


class _RiverAdapter(_Adapter):
    kind = "river"

    def __init__(self, model: Any, classes: Any, feature_names: Sequence[Any] | None) -> None:
        super().__init__(classes, feature_names)
        self.model = model.clone()
        self._class_list: list[Any] = self.classes_.tolist()

    def to_dicts(self, items: Any) -> list[dict[Any, Any]]:
        if isinstance(items, Mapping):
            items = [items]
        if isinstance(items, list | tuple) and items and isinstance(items[0], Mapping):
            dicts = [dict(x) for x in items]
            for i, x in enumerate(dicts):  # a river model learns NaN into its weights for good
                if any(isinstance(v, float) and not math.isfinite(v) for v in x.values()):
                    _refuse_non_finite(i)
            return dicts
        X = self._batch(np.asarray(items))
        names = self.feature_names
        if names is None:
            names = list(range(X.shape[1]))
        elif len(names) != X.shape[1]:
            raise ValueError(
                f"Items have {X.shape[1]} features but feature_names lists {len(names)}."
            )
        return [dict(zip(names, row, strict=True)) for row in X.tolist()]

    def observe(self, items: Any) -> list[dict[Any, Any]]:
        return self.to_dicts(items)

    def predict_proba(self, items: list[dict[Any, Any]]) -> np.ndarray:
        rows = [self.model.predict_proba_one(x) for x in items]
        for r in rows:
            for c in r:
                if c not in self._class_list:
                    self._class_list.append(c)
        cols = self._class_list
        P = np.array([[r.get(c, 0.0) for c in cols] for r in rows], dtype=float)
        self.classes_ = np.asarray(cols)
        return P

    def learn(self, items: Any, y: np.ndarray) -> None:
        xs = self.to_dicts(items)
        self.check_labels(y)
        for x, label in zip(xs, np.asarray(y).tolist(), strict=True):
            self.model.learn_one(x, label)
            if label not in self._class_list:
                self._class_list.append(label)
        self.classes_ = np.asarray(self._class_list)
        self.fitted = True
