"""Fine-tune the sentence encoder on the labels: contrastive pairs, then a classifier head.

Frozen sentence embeddings give a linear model a good start, but the encoder was trained to
place sentences by topic and paraphrase, not by the distinction a project needs (a positive
from a negative review of the same film sit close together). With a few dozen labels the
encoder itself can be moved: :class:`FineTunedTextClassifier` fine-tunes a copy of
all-MiniLM-L6-v2 contrastively (the SetFit recipe, Tunstall et al. 2022): pairs of labelled
texts are drawn, each text once with a text of its own class (target cosine 1) and once with
a text of another class (target 0), per round of ``pairs_per_text``, and the encoder is
trained for one pass on the squared error between the pair's cosine similarity and its
target. A classifier head (standardised logistic regression by default) is then fitted on
the tuned encoder's embeddings of the labelled texts.

Each fit starts again from the pretrained weights (the estimator keeps no state across
fits, as scikit-learn's clone expects). Its cost grows with the number of pairs, capped at
``max_pairs``: on two CPU cores one pair costs about 55 ms, so the 1,000 pairs of 100
labels take about a minute, and every fit re-embeds the texts it is asked to score (about
100 texts per CPU-second). Use it where a label costs far more than a minute of CPU: as the
model of a text campaign refitted every few dozen labels, or as the final model trained on
the labels a campaign collected (docs/transfer.md has the measurements).

Needs the ``[text]`` extra (``pip install 'activelab[text]'``).

Examples
--------
Fine-tuning loads the 90 MB model, so this example is shown, not run::

    clf = FineTunedTextClassifier(random_state=0).fit(texts, labels)
    clf.predict_proba(["a gripping film"])   # shape (1, n_classes)
    clf.embed(["a gripping film"])            # the tuned encoder's embedding, (1, 384)

The pairs are drawn by :func:`contrastive_pairs`:

>>> codes = np.array([0, 0, 1, 1, 1])
>>> a, b, target = contrastive_pairs(codes, 2, np.random.default_rng(0))
>>> a.shape, int(target.sum())
((20,), 10)
>>> bool(np.array_equal(codes[a] == codes[b], target == 1))
True
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from activelab.models.deep import _threads

__all__ = ["FineTunedTextClassifier", "contrastive_pairs"]


def contrastive_pairs(
    codes: np.ndarray, pairs_per_text: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of labelled texts for contrastive tuning, with their target similarity.

    For every text and every one of ``pairs_per_text`` rounds, one partner of its own class
    (target 1) and one of another class (target 0), drawn uniformly; the order is shuffled.

    Parameters
    ----------
    codes : ndarray of int
        Class code of each labelled text (at least two classes).
    pairs_per_text : int
        Rounds; ``2 * pairs_per_text * len(codes)`` pairs in all.
    rng : numpy.random.Generator

    Returns
    -------
    a, b : ndarray of int
        Indices into ``codes`` of the two texts of each pair.
    target : ndarray of float32
        1.0 for a same-class pair, 0.0 otherwise.

    Examples
    --------
    >>> a, b, t = contrastive_pairs(np.array([0, 1, 1]), 1, np.random.default_rng(1))
    >>> len(a), int(t.sum())
    (6, 3)
    """
    codes = np.asarray(codes, dtype=np.intp)
    n = codes.shape[0]
    counts = np.bincount(codes)
    if np.count_nonzero(counts) < 2:
        raise ValueError("Contrastive pairs need labelled texts of at least two classes.")
    order = np.argsort(codes, kind="stable")  # texts grouped by class
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    anchors = np.tile(np.arange(n), pairs_per_text)
    c = codes[anchors]
    # own class: a uniform position inside the class's block of `order`
    same = order[starts[c] + rng.integers(0, counts[c])]
    # another class: a uniform position among the n - counts[c] others, skipping the block
    pos = rng.integers(0, n - counts[c])
    other = order[np.where(pos >= starts[c], pos + counts[c], pos)]
    a = np.repeat(anchors, 2)
    b = np.column_stack([same, other]).ravel()
    target = np.tile(np.array([1.0, 0.0], dtype=np.float32), anchors.shape[0])
    shuffle = rng.permutation(a.shape[0])
    return a[shuffle], b[shuffle], target[shuffle]


class FineTunedTextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier whose sentence encoder is fine-tuned on its labels (SetFit).

    Parameters
    ----------
    head : classifier, optional
        Fitted on the tuned encoder's embeddings (cloned); default
        ``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))``.
    pairs_per_text : int, default=5
        Rounds of pairs per labelled text (one same-class and one other-class pair each).
    max_pairs : int, default=2000
        At most this many pairs per fit (a random subset beyond it): bounds the cost of a
        fit on many labels.
    learning_rate : float, default=6e-5
        AdamW's learning rate for the encoder.
    batch_size : int, default=16
        Pairs per training step.
    random_state : int, default=0
        Seeds the pairs, their order and dropout (a forked generator: torch's global state
        is untouched): a fit is reproducible on the same machine and thread count.
    n_threads : int, optional
        Torch CPU threads during the fit and embedding (restored afterwards); ``None``
        keeps torch's setting.
    device : str, default="cpu"
        Torch device.

    Attributes
    ----------
    classes_ : ndarray
    encoder_ : SentenceTransformer
        The tuned copy of the encoder (the shared pretrained model is never modified).
    head_ : classifier
    n_pairs_ : int
        Pairs the encoder was trained on.
    train_loss_ : float
        Mean loss of the last tenth of the training steps.
    """

    def __init__(
        self,
        head: Any = None,
        pairs_per_text: int = 5,
        max_pairs: int = 2000,
        learning_rate: float = 6e-5,
        batch_size: int = 16,
        random_state: int = 0,
        n_threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.head = head
        self.pairs_per_text = pairs_per_text
        self.max_pairs = max_pairs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device

    def fit(self, X: Any, y: Any) -> FineTunedTextClassifier:
        """Tune a copy of the encoder on the labelled texts ``X``, then fit the head.

        Parameters
        ----------
        X : list, array or pandas Series of str
        y : array-like
            One label per text, at least two classes.

        Returns
        -------
        self
        """
        from activelab.data.features import _as_texts, _load_model

        texts = _as_texts(X)
        y = np.asarray(y)
        if y.shape[0] != len(texts):
            raise ValueError(f"Got {len(texts)} texts and {y.shape[0]} labels; pass one per text.")
        for name in ("pairs_per_text", "max_pairs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)!r}.")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "FineTunedTextClassifier needs labels of at least two classes; "
                f"got only {self.classes_.tolist()}."
            )
        base = _load_model(self.device)  # first: without the [text] extra, a clear error
        import torch

        rng = np.random.default_rng(self.random_state)
        a, b, target = contrastive_pairs(codes, int(self.pairs_per_text), rng)
        if a.shape[0] > self.max_pairs:
            a, b, target = a[: self.max_pairs], b[: self.max_pairs], target[: self.max_pairs]
        self.encoder_ = copy.deepcopy(base)
        self._memo: dict[str, np.ndarray] = {}
        # a forked generator: dropout is seeded without touching the global torch state
        with _threads(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            self.train_loss_ = self._train(torch, texts, a, b, target)
        self.n_pairs_ = int(a.shape[0])
        head = self.head if self.head is not None else _default_head()
        self.head_ = clone(head).fit(self.embed(texts), y)
        return self

    def _train(
        self, torch: Any, texts: list[Any], a: np.ndarray, b: np.ndarray, t: np.ndarray
    ) -> float:
        from sentence_transformers.util import batch_to_device

        enc = self.encoder_
        tokenize = getattr(enc, "preprocess", None) or enc.tokenize
        opt = torch.optim.AdamW(enc.parameters(), lr=float(self.learning_rate))
        enc.train()

        def forward(rows: np.ndarray) -> Any:
            features = batch_to_device(tokenize([texts[i] for i in rows]), enc.device)
            return enc(features)["sentence_embedding"]

        step, losses = int(self.batch_size), []
        for start in range(0, a.shape[0], step):  # one pass over the pairs, in batches
            batch = slice(start, start + step)
            cos = torch.nn.functional.cosine_similarity(forward(a[batch]), forward(b[batch]))
            loss = torch.nn.functional.mse_loss(cos, torch.as_tensor(t[batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        enc.eval()
        tail = max(len(losses) // 10, 1)
        return float(np.mean(losses[-tail:]))

    def embed(self, X: Any) -> np.ndarray:
        """The tuned encoder's unit-length embeddings of the texts ``X``, shape (n, 384).

        Texts embedded before by this fitted model are not encoded again.
        """
        from activelab.data.features import _as_texts, normalise_text

        check_is_fitted(self, "encoder_")
        keys = [normalise_text(t) for t in _as_texts(X)]
        todo = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if todo:
            import torch

            with _threads(self.n_threads), torch.no_grad():
                Z = self.encoder_.encode(
                    todo,
                    batch_size=64,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
            self._memo.update(zip(todo, np.asarray(Z, dtype=np.float32), strict=True))
        if not keys:
            return np.empty((0, self.encoder_.get_sentence_embedding_dimension()), np.float32)
        return np.stack([self._memo[k] for k in keys])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the texts ``X`` (columns in the order of ``classes_``)."""
        check_is_fitted(self, "head_")
        return self.head_.predict_proba(self.embed(X))

    def predict(self, X: Any) -> np.ndarray:
        """The likeliest class of each text."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_memo", None)  # embeddings are recomputed on demand
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "encoder_" in state:
            self._memo = {}


def _default_head() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
