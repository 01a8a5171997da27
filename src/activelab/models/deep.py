"""A small scikit-learn-compatible PyTorch classifier with MC dropout and gradient embeddings.

:class:`TorchMLPClassifier` is a multi-layer perceptron trained on the CPU
for a fixed number of epochs, deterministic under ``random_state``. Beyond
``fit``/``predict``/``predict_proba`` it offers what the deep active-learning
strategies need:

- :meth:`~TorchMLPClassifier.predict_proba_samples`: class probabilities under
  ``n_samples`` Monte-Carlo dropout masks (Gal & Ghahramani 2016), for BALD
  and BatchBALD. Dropout sits on the penultimate layer only, during training
  and sampling alike, and one mask is shared by every row of a sample
  ("consistent" MC dropout, as BatchBALD needs): each sample is one model.
- :meth:`~TorchMLPClassifier.embed`: the penultimate-layer representation, for
  core-set selection on the learned embedding.
- :meth:`~TorchMLPClassifier.gradient_embedding`: the BADGE embedding (Ash et
  al. 2020), the gradient of the loss with respect to the last layer's weights
  under the hypothesised label ``argmax p``, in closed form:
  ``(p - onehot(argmax p)) ⊗ h``.

Needs the ``[torch]`` extra (``pip install 'activelab[torch]'``); torch is
imported lazily.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> clf = TorchMLPClassifier(hidden_layer_sizes=(16,), epochs=60, random_state=0).fit(X, y)
>>> clf.predict_proba_samples(X[:5], n_samples=8, random_state=0).shape
(8, 5, 3)
>>> clf.embed(X[:5]).shape, clf.gradient_embedding(X[:5]).shape
((5, 16), (5, 48))
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from activelab._validation import check_label_values, check_threads

__all__ = ["TorchMLPClassifier", "gradient_embedding_factors"]

_INSTALL = "pip install 'activelab[torch]'"


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is installed in the test environment
        raise ImportError(f"Deep models need PyTorch (CPU build): {_INSTALL}") from exc
    return torch


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    torch = _torch()
    check_threads(n)
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _dense32(X: Any) -> np.ndarray:
    if sp.issparse(X):
        X = X.toarray()
    elif hasattr(X, "to_numpy"):
        X = X.to_numpy()
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array of features, got shape {X.shape}.")
    return X


def _column_names(X: Any) -> np.ndarray | None:
    """The column names of a DataFrame whose columns are all strings, else ``None``."""
    columns = getattr(X, "columns", None)
    if columns is None or sp.issparse(X):
        return None
    names = np.asarray(columns, dtype=object)
    return names if all(isinstance(c, str) for c in names) else None


def _seed_of(random_state: Any) -> int:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))


def gradient_embedding_factors(P: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two factors of the BADGE gradient embedding ``g = a ⊗ h``.

    For a softmax output layer ``p = softmax(W h + b)`` and the cross-entropy
    loss under the hypothesised label ``ŷ = argmax p``, the gradient with
    respect to ``W`` is ``(p - e_ŷ) h^T``. Returning ``a = p - e_ŷ`` and ``h``
    separately lets distances be computed without forming the
    ``n × (classes · hidden)`` matrix: ``<a_i ⊗ h_i, a_j ⊗ h_j> = <a_i, a_j> <h_i, h_j>``.

    Examples
    --------
    >>> a, h = gradient_embedding_factors(np.array([[0.7, 0.3]]), np.array([[1.0, 2.0]]))
    >>> a.round(2).tolist(), h.tolist()
    ([[-0.3, 0.3]], [[1.0, 2.0]])
    """
    P = np.asarray(P)
    A = P.copy()
    A[np.arange(P.shape[0]), np.argmax(P, axis=1)] -= 1.0
    return A, np.asarray(H)


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """A multi-layer perceptron in PyTorch with MC dropout, for deep active learning.

    ReLU hidden layers, dropout on the last hidden layer, a linear softmax
    output; trained with Adam on the cross-entropy for a fixed number of
    epochs (at least ``min_steps`` minibatch updates, so that tiny labelled
    sets are not under-trained). CPU only; deterministic under
    ``random_state``.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(128,)
        Width of each hidden layer (an int: one layer); the last one is the
        embedding.
    dropout : float, default=0.3
        Dropout probability on the last hidden layer (training and MC samples).
    epochs : int, default=30
        Passes over the training data.
    min_steps : int, default=100
        Lower bound on minibatch updates (epochs are added when the training
        set is small).
    batch_size : int, default=64
        Minibatch size.
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=1e-4
        L2 penalty (Adam ``weight_decay``).
    random_state : int, numpy Generator or None
        Seeds initialisation, shuffling and dropout during training.
    n_threads : int or None, default=1
        Torch CPU threads while fitting/predicting (restored afterwards);
        ``None`` keeps torch's setting.
    predict_batch_size : int, default=4096
        Rows per forward pass at prediction time.

    Attributes
    ----------
    classes_ : ndarray
        The class labels.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        The columns of a DataFrame the model was fitted on (only then); a
        DataFrame given to predict must have them, in that order.
    loss_curve_ : list of float
        Mean training loss of each epoch.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = TorchMLPClassifier(epochs=20, random_state=0).fit(X[:500] / 16, y[:500])
    >>> clf.score(X[500:] / 16, y[500:]) > 0.85
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: int | tuple[int, ...] = (128,),
        dropout: float = 0.3,
        epochs: int = 30,
        min_steps: int = 100,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        random_state: Any = None,
        n_threads: int | None = 1,
        predict_batch_size: int = 4096,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.n_threads = n_threads
        self.predict_batch_size = predict_batch_size

    # ------------------------------------------------------------------ training
    def _sizes(self) -> tuple[int, ...]:
        """The hidden widths; one int is one layer, as in scikit-learn's MLPClassifier."""
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, int | np.integer):
            return (int(sizes),)
        return tuple(int(s) for s in sizes)

    def _check_params(self) -> None:
        try:
            sizes = self._sizes()
        except (TypeError, ValueError):
            sizes = ()
        if not sizes or any(s < 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a non-empty tuple of them, got "
                f"{self.hidden_layer_sizes!r}."
            )
        check_threads(self.n_threads)
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        for name in ("epochs", "batch_size", "predict_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")

    def _build(self, n_in: int, n_out: int) -> Any:
        torch = _torch()
        nn = torch.nn
        layers: list[Any] = []
        width = n_in
        for h in self._sizes():
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        body = nn.Sequential(*layers)
        head = nn.Linear(width, n_out)
        return nn.ModuleDict({"body": body, "drop": nn.Dropout(float(self.dropout)), "head": head})

    def fit(self, X: Any, y: Any) -> TorchMLPClassifier:
        """Train from scratch on ``(X, y)`` for the fixed number of epochs."""
        self._check_params()
        torch = _torch()
        Xd = _dense32(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != Xd.shape[0]:
            raise ValueError(
                f"y must be 1-D with one label per row of X ({Xd.shape[0]}), got shape {y.shape}."
            )
        if Xd.shape[0] == 0:
            raise ValueError("X has no rows; fit needs at least one labelled row.")
        if not np.all(np.isfinite(Xd)):
            bad = int(np.flatnonzero(~np.isfinite(Xd).all(axis=1))[0])
            raise ValueError(f"X has a non-finite value in row {bad}; impute or drop it.")
        check_label_values(y, np.asarray([]))  # a missing label (None, NaN) is not a class
        names = _column_names(X)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        self.n_features_in_ = Xd.shape[1]
        n = Xd.shape[0]
        steps_per_epoch = max(1, -(-n // int(self.batch_size)))
        epochs = max(int(self.epochs), -(-int(self.min_steps) // steps_per_epoch))
        seed = _seed_of(self.random_state)
        with _threads(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = self._build(Xd.shape[1], len(self.classes_))
            opt = torch.optim.Adam(
                net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
            )
            gen = torch.Generator().manual_seed(seed)
            Xt = torch.from_numpy(Xd)
            yt = torch.from_numpy(y_enc.astype(np.int64))
            loss_fn = torch.nn.CrossEntropyLoss()
            net.train()
            self.loss_curve_ = []
            for _ in range(epochs):
                perm = torch.randperm(n, generator=gen)
                total = 0.0
                for start in range(0, n, int(self.batch_size)):
                    b = perm[start : start + int(self.batch_size)]
                    opt.zero_grad()
                    logits = net["head"](net["drop"](net["body"](Xt[b])))
                    loss = loss_fn(logits, yt[b])
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * b.shape[0]
                self.loss_curve_.append(total / n)
            net.eval()
        self.net_ = net
        return self

    # ---------------------------------------------------------------- inference
    def _batches(self, X: Any) -> Iterator[Any]:
        torch = _torch()
        n = X.shape[0]
        step = int(self.predict_batch_size)
        for start in range(0, n, step):
            chunk = X[start : start + step]
            Xd = _dense32(chunk)
            if Xd.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {Xd.shape[1]} features, but the model was fitted with "
                    f"{self.n_features_in_}."
                )
            finite = np.isfinite(Xd).all(axis=1)
            if not finite.all():  # NaN would flow through the network as NaN probabilities
                bad = start + int(np.flatnonzero(~finite)[0])
                raise ValueError(f"X has a non-finite value in row {bad}; impute or drop it.")
            yield torch.from_numpy(Xd)

    def _check_columns(self, X: Any) -> None:
        """Refuse a DataFrame whose columns are not the ones the model was fitted on.

        The network reads columns by position: the same columns in another order
        would be scored silently as the wrong features.
        """
        fitted = getattr(self, "feature_names_in_", None)
        names = _column_names(X)
        if fitted is None or names is None or np.array_equal(names, fitted):
            return
        have = set(names)
        missing = [c for c in fitted if c not in have]
        if missing:
            raise ValueError(
                f"X lacks the column(s) {missing[:5]} the model was fitted on; it has "
                f"{list(names)[:10]}."
            )
        raise ValueError(
            f"X has the model's columns in another order or with others beside them "
            f"({list(names)[:10]}); select them in the fitted order: X[model.feature_names_in_]."
        )

    def _hidden(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "net_")
        self._check_columns(X)
        torch = _torch()
        out = []
        with _threads(self.n_threads), torch.no_grad():
            for xb in self._batches(X):
                out.append(self.net_["body"](xb).numpy())
        if not out:
            width = self._sizes()[-1]
            return np.empty((0, width), dtype=np.float32)
        return np.concatenate(out)

    def _head(self) -> tuple[np.ndarray, np.ndarray]:
        head = self.net_["head"]
        return head.weight.detach().numpy(), head.bias.detach().numpy()

    def embed(self, X: Any) -> np.ndarray:
        """The penultimate-layer representation ``h(x)``, shape (n, last hidden width)."""
        return self._hidden(X)

    def _proba_from_hidden(self, H: np.ndarray) -> np.ndarray:
        W, b = self._head()
        logits = H.astype(np.float64) @ W.T.astype(np.float64) + b
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (dropout off), shape (n, n_classes), float64."""
        return self._proba_from_hidden(self._hidden(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_proba_samples(
        self, X: Any, n_samples: int = 20, random_state: Any = None
    ) -> np.ndarray:
        """Class probabilities under ``n_samples`` MC-dropout masks, shape (n_samples, n, classes).

        Each sample draws one dropout mask on the penultimate layer and applies
        it to every row (consistent MC dropout), so sample ``k`` is one model
        and a joint over rows (BatchBALD) is well defined. The same
        ``random_state`` gives the same masks for any rows, so chunks of a pool
        scored separately share their masks. With ``dropout=0`` all samples equal
        :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n, n_features)
        n_samples : int, default=20
        random_state : int, numpy Generator or None
            Seeds the masks.
        """
        if int(n_samples) < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
        H = self._hidden(X).astype(np.float64)
        masks = self.dropout_masks(int(n_samples), random_state)
        W, b = self._head()
        W = W.astype(np.float64)
        out = np.empty((masks.shape[0], H.shape[0], W.shape[0]))
        for k, m in enumerate(masks):
            logits = (H * m) @ W.T + b
            logits -= logits.max(axis=1, keepdims=True)
            np.exp(logits, out=logits)
            logits /= logits.sum(axis=1, keepdims=True)
            out[k] = logits
        return out

    def dropout_masks(self, n_samples: int, random_state: Any = None) -> np.ndarray:
        """``n_samples`` inverted-dropout masks of the penultimate layer (0 or ``1/(1-p)``)."""
        check_is_fitted(self, "net_")
        width = self._sizes()[-1]
        p = float(self.dropout)
        rng = np.random.default_rng(_seed_of(random_state))
        keep = rng.random((int(n_samples), width)) >= p
        return keep / (1.0 - p)

    def gradient_embedding(self, X: Any) -> np.ndarray:
        """BADGE gradient embeddings ``(p - onehot(argmax p)) ⊗ h``, shape (n, n_classes · width).

        Materialises the outer products; strategies use
        :func:`gradient_embedding_factors` instead, which never does.
        """
        H = self._hidden(X).astype(np.float64)
        A, H = gradient_embedding_factors(self._proba_from_hidden(H), H)
        return (A[:, :, None] * H[:, None, :]).reshape(H.shape[0], -1)

    def gradient_embedding_factors(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(p - onehot(argmax p), h)`` from one forward pass (see the module function)."""
        H = self._hidden(X).astype(np.float64)
        return gradient_embedding_factors(self._proba_from_hidden(H), H)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "net_" in state:
            state["net_"] = {k: v.detach().clone() for k, v in state["net_"].state_dict().items()}
            state["_net_shape"] = (self.n_features_in_, len(self.classes_))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.get("net_")
        shape = state.pop("_net_shape", None)
        self.__dict__.update(state)
        if isinstance(weights, dict) and shape is not None:
            net = self._build(*shape)
            net.load_state_dict(weights)
            net.eval()
            self.net_ = net
