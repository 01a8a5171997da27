"""Fine-tune the sentence encoder on the labels: contrastive pairs, then a head.

Frozen sentence embeddings give a linear model a good start, but the encoder was trained to
place sentences by topic and paraphrase, not by the distinction a project needs (a positive
from a negative review of the same film sit close together). With a few dozen labels the
encoder itself can be moved: :class:`FineTunedTextClassifier` fine-tunes a copy of
all-MiniLM-L6-v2 contrastively (the SetFit recipe, Tunstall et al. 2022): pairs of labelled
texts are drawn, each text once with a text of its own class (target cosine 1) and once with
a text of another class (target 0), per round of ``pairs_per_text``, and the encoder is
trained for two passes on the squared error between the pair's cosine similarity and its
target (the learning rate warmed up over the first tenth of the steps, then decayed
linearly). A classifier head (standardised logistic regression by default) is then fitted
on the tuned encoder's embeddings of the labelled texts. An optional end-to-end stage
(``end_to_end_epochs``) trains the encoder with a linear head on cross-entropy, after the
pairs or instead of them.

Each fit starts again from the pretrained weights (the estimator keeps no state across fits,
as scikit-learn's clone expects). Its cost grows with the number of pairs, capped at
``max_pairs``, and with the texts' length: on two CPU cores 100 short review snippets (1,000
pairs, two passes) take a little under two minutes, 100 debate statements of up to 3,000
characters about ten, and every fit re-embeds the texts it is asked to score (about 100
texts per CPU-second); ``passes=0, end_to_end_epochs=8, end_to_end_learning_rate=3e-5`` (no
pairs) takes about half a minute for slightly lower accuracy. Use it where a label costs far
more than a minute of CPU: as the model of a text campaign refitted every few dozen labels,
or as the final model trained on the labels a campaign collected (docs/transfer.md has the
measurements).

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
        Pairs (and, end to end, texts) per training step.
    passes : int, default=2
        Passes over the contrastive pairs (the same pairs each pass); 0 skips the
        contrastive stage (then ``end_to_end_epochs`` must be positive).
    warmup_ratio : float or None, default=0.1
        ``None`` keeps the learning rate constant; a share in [0, 1) warms it up linearly
        over that share of the contrastive steps and then decays it linearly to zero.
    end_to_end_epochs : int, default=0
        After the contrastive passes (or instead of them, with ``passes=0``), epochs of
        cross-entropy training of the encoder together with a linear head (initialised from
        a logistic regression on the tuned embeddings); 0, the default, skips this stage
        (after two passes it added no accuracy in docs/transfer.md's measurements). The
        head named by ``head`` is fitted afterwards, as always, on the final encoder's
        embeddings.
    end_to_end_learning_rate : float, default=2e-5
        The encoder's learning rate in the end-to-end stage (the linear head's is 1e-3).
    random_state : int, default=0
        Seeds the pairs, their order and dropout (a forked generator: torch's global state
        is untouched): a fit is reproducible on the same machine and thread count.
    n_threads : int, optional
        Torch CPU threads during the fit and embedding (restored afterwards); ``None``
        keeps torch's setting.
    device : str, default="cpu"
        Torch device; one this machine lacks (``"cuda"`` without a GPU) is
        refused with a one-line ``ValueError``.

    Attributes
    ----------
    classes_ : ndarray
    encoder_ : SentenceTransformer
        The tuned copy of the encoder (the shared pretrained model is never modified).
    head_ : classifier
    n_pairs_ : int
        Pairs the encoder was trained on.
    train_loss_ : float
        Mean loss of the last tenth of the contrastive steps (NaN with ``passes=0``).
    end_to_end_loss_ : float
        Mean cross-entropy of the last end-to-end epoch (only with ``end_to_end_epochs``).
    """

    def __init__(
        self,
        head: Any = None,
        pairs_per_text: int = 5,
        max_pairs: int = 2000,
        learning_rate: float = 6e-5,
        batch_size: int = 16,
        passes: int = 2,
        warmup_ratio: float | None = 0.1,
        end_to_end_epochs: int = 0,
        end_to_end_learning_rate: float = 2e-5,
        random_state: int = 0,
        n_threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.head = head
        self.pairs_per_text = pairs_per_text
        self.max_pairs = max_pairs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.passes = passes
        self.warmup_ratio = warmup_ratio
        self.end_to_end_epochs = end_to_end_epochs
        self.end_to_end_learning_rate = end_to_end_learning_rate
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

        texts = _as_texts(X, "FineTunedTextClassifier.fit")
        y = np.asarray(y)
        if y.shape[0] != len(texts):
            raise ValueError(f"Got {len(texts)} texts and {y.shape[0]} labels; pass one per text.")
        for name in ("pairs_per_text", "max_pairs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)!r}.")
        for name in ("passes", "end_to_end_epochs"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)!r}.")
        if int(self.passes) + int(self.end_to_end_epochs) == 0:
            raise ValueError(
                "passes and end_to_end_epochs are both 0: nothing would be tuned; "
                "set one of them to 1 or more."
            )
        if self.warmup_ratio is not None and not 0.0 <= float(self.warmup_ratio) < 1.0:
            raise ValueError(f"warmup_ratio must be None or in [0, 1); got {self.warmup_ratio!r}.")
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
        if a.shape[0] > self.max_pairs or int(self.passes) == 0:
            keep = int(self.max_pairs) if int(self.passes) > 0 else 0
            a, b, target = a[:keep], b[:keep], target[:keep]
        self.encoder_ = copy.deepcopy(base)
        self._memo: dict[str, np.ndarray] = {}
        # a forked generator: dropout is seeded without touching the global torch state
        with _threads(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            self.train_loss_ = self._train(torch, texts, a, b, target) if a.size else np.nan
            if int(self.end_to_end_epochs) > 0:
                self.end_to_end_loss_ = self._end_to_end(torch, texts, codes, rng)
        self.n_pairs_ = int(a.shape[0])
        head = self.head if self.head is not None else _default_head()
        self.head_ = clone(head).fit(self.embed(texts), y)
        return self

    def _train(
        self, torch: Any, texts: list[Any], a: np.ndarray, b: np.ndarray, t: np.ndarray
    ) -> float:
        from sentence_transformers.util import batch_to_device

        enc = self.encoder_
        forward = _forward(enc, texts, batch_to_device)
        opt = torch.optim.AdamW(enc.parameters(), lr=float(self.learning_rate))
        step = int(self.batch_size)
        per_pass = -(-a.shape[0] // step)
        sched = _schedule(torch, opt, per_pass * int(self.passes), self.warmup_ratio)
        enc.train()
        losses = []
        for _ in range(int(self.passes)):  # the same pairs each pass, in batches
            for start in range(0, a.shape[0], step):
                batch = slice(start, start + step)
                cos = torch.nn.functional.cosine_similarity(forward(a[batch]), forward(b[batch]))
                loss = torch.nn.functional.mse_loss(cos, torch.as_tensor(t[batch]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
        enc.eval()
        tail = max(len(losses) // 10, 1)
        return float(np.mean(losses[-tail:]))

    def _end_to_end(
        self, torch: Any, texts: list[Any], codes: np.ndarray, rng: np.random.Generator
    ) -> float:
        """Cross-entropy epochs over encoder + linear head; mean loss of the last epoch."""
        from sentence_transformers.util import batch_to_device

        enc = self.encoder_
        Z = self._encode(texts)
        start = LogisticRegression(C=10.0, max_iter=1000).fit(Z, codes)
        n_classes = self.classes_.shape[0]
        linear = torch.nn.Linear(Z.shape[1], n_classes)
        with torch.no_grad():  # binary: the two logits are -w/2 and +w/2
            W, b = start.coef_, start.intercept_
            if n_classes == 2:
                W, b = np.vstack([-W / 2, W / 2]), np.r_[-b / 2, b / 2]
            linear.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
            linear.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
        opt = torch.optim.AdamW(
            [
                {"params": enc.parameters(), "lr": float(self.end_to_end_learning_rate)},
                {"params": linear.parameters(), "lr": _HEAD_LR},
            ]
        )
        forward = _forward(enc, texts, batch_to_device)
        target = torch.as_tensor(codes, dtype=torch.long)
        step, losses = int(self.batch_size), []
        enc.train()
        for _ in range(int(self.end_to_end_epochs)):
            order = rng.permutation(codes.shape[0])
            losses = []
            for s in range(0, order.shape[0], step):
                rows = order[s : s + step]
                loss = torch.nn.functional.cross_entropy(linear(forward(rows)), target[rows])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
        enc.eval()
        self._memo = {}
        return float(np.mean(losses))

    def _encode(self, texts: list[Any]) -> np.ndarray:
        import torch

        with torch.no_grad():
            Z = self.encoder_.encode(
                texts,
                batch_size=64,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.asarray(Z, dtype=np.float32)

    def embed(self, X: Any) -> np.ndarray:
        """The tuned encoder's unit-length embeddings of the texts ``X``, shape (n, 384).

        Texts embedded before by this fitted model are not encoded again.
        """
        from activelab.data.features import _as_texts, normalise_text

        check_is_fitted(self, "encoder_")
        keys = [normalise_text(t) for t in _as_texts(X, "FineTunedTextClassifier.embed")]
        todo = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if todo:
            with _threads(self.n_threads):
                Z = self._encode(todo)
            self._memo.update(zip(todo, Z, strict=True))
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


_HEAD_LR = 1e-3  # the linear head's learning rate in the end-to-end stage


def _forward(enc: Any, texts: list[Any], to_device: Any) -> Any:
    """A function from row indices to the encoder's (trainable) sentence embeddings."""
    tokenize = getattr(enc, "preprocess", None) or enc.tokenize

    def forward(rows: np.ndarray) -> Any:
        features = to_device(tokenize([texts[i] for i in rows]), enc.device)
        return enc(features)["sentence_embedding"]

    return forward


def _schedule(torch: Any, opt: Any, steps: int, warmup_ratio: float | None) -> Any:
    """Constant learning rate, or linear warm-up over a share of ``steps`` then linear decay."""
    if warmup_ratio is None:
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    warm = round(float(warmup_ratio) * steps)

    def factor(i: int) -> float:
        if i < warm:
            return (i + 1) / warm
        return max(steps - i, 0) / max(steps - warm, 1)

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _default_head() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
