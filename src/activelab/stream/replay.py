"""Prequential replay of a labelled stream: test on each item, then maybe train on it.

:func:`replay` drives a :class:`~activelab.stream.StreamLearner` over a stream
whose labels are known, in mini-batches: every item is predicted before its
label can be learned (test-then-train), a label is revealed only for the items
the strategy queries, and a curve of prequential accuracy against labels spent
is recorded. :class:`StreamRun` holds one such run; its :meth:`StreamRun.to_dict`
has the fields of :class:`activelab.simulation.campaign.CampaignResult` (``n_labels``,
``scores`` ...), so the simulator's report and plot code reads it, plus the
stream's own fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from activelab._validation import check_count, check_seed
from activelab.simulation.campaign import CampaignResult
from activelab.stream.learner import StreamLearner

__all__ = ["StreamRun", "replay"]


@dataclass
class StreamRun(CampaignResult):
    """One replayed stream: the fields of :class:`~activelab.simulation.CampaignResult` and more.

    ``n_labels`` is the number of labels spent at each checkpoint and ``scores``
    the prequential accuracy over all items seen so far (an item predicted
    before the model had any label counts as wrong).

    Attributes
    ----------
    items_seen : list of int
        Items processed at each checkpoint.
    spend : list of float
        Realised spend (labels / items) at each checkpoint.
    recent_scores : list of float
        Prequential accuracy over the items since the previous checkpoint
        (shows a drift and the recovery from it).
    budget : float
    n_items : int
    batch_size : int
    seconds : float
        Wall time of the whole replay.
    class_items, class_correct, class_labels : dict of str to int
        Per class (the label as a string): items seen, items predicted
        correctly (prequentially) and labels bought, over the whole replay.
    """

    items_seen: list[int] = field(default_factory=list)
    spend: list[float] = field(default_factory=list)
    recent_scores: list[float] = field(default_factory=list)
    budget: float = 0.0
    n_items: int = 0
    batch_size: int = 1
    seconds: float = 0.0
    class_items: dict[str, int] = field(default_factory=dict)
    class_correct: dict[str, int] = field(default_factory=dict)
    class_labels: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)

    @property
    def balanced_accuracy(self) -> float:
        """Prequential balanced accuracy: the mean over classes of the share predicted right."""
        if not self.class_items:
            return float("nan")
        return float(
            np.mean([self.class_correct.get(c, 0) / n for c, n in self.class_items.items()])
        )

    @property
    def accuracy(self) -> float:
        """The final prequential accuracy."""
        return self.scores[-1] if self.scores else float("nan")

    @property
    def realised_spend(self) -> float:
        """Labels spent over items seen, at the end."""
        return self.spend[-1] if self.spend else 0.0

    @property
    def items_per_second(self) -> float:
        return self.n_items / self.seconds if self.seconds else float("nan")


def replay(
    learner: StreamLearner,
    X: Any,
    y: Any,
    *,
    batch_size: int = 1,
    every: int | None = None,
    seed: int | None = 0,
    on_checkpoint: Callable[[StreamRun], None] | None = None,
) -> StreamRun:
    """Replay a labelled stream through ``learner``, prequentially.

    Parameters
    ----------
    learner : StreamLearner
        A learner with its strategy and budget set; one that has already seen
        items may go on (the run counts only this stream's items and labels).
    X : array-like of shape (n_items, n_features), or list of dicts
    y : ndarray of shape (n_items,)
        The labels the simulated oracle reveals when asked.
    batch_size : int, default=1
        Items decided on per :meth:`~StreamLearner.process_many` call; the
        model learns after each batch.
    every : int, optional
        Items between checkpoints of the curve (default: about 100 checkpoints,
        a multiple of ``batch_size``).
    seed : int or None, default=0
        Recorded in the result (the learner's ``random_state`` seeds it); ``None``
        records a fresh seed.
    on_checkpoint : callable, optional
        Called with the run so far at each checkpoint (live progress).

    Returns
    -------
    StreamRun

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2)); y = (X[:, 0] > 0).astype(int)
    >>> learner = StreamLearner(SGDClassifier(loss="log_loss", random_state=0), "rvu", 0.05,
    ...                         classes=[0, 1],
    ...                         random_state=0)
    >>> run = replay(learner, X, y, batch_size=50)
    >>> run.items_seen[-1], run.n_labels[-1] <= 100, run.accuracy > 0.85
    (2000, True, True)
    """
    y = np.asarray(y)
    n = len(y)
    if not (isinstance(X, list | tuple) and X and isinstance(X[0], Mapping)):
        X = np.asarray(X)  # a list of rows is sliced and indexed as an array
    if np.shape(X)[0] != n:
        raise ValueError(f"X has {np.shape(X)[0]} items but y has {n} labels.")
    batch_size = check_count(batch_size, "batch_size")
    seed = check_seed(seed)
    if every is not None:
        every = check_count(every, "every")
    if every is None:
        every = max(batch_size, (max(n // 100, 1) // batch_size) * batch_size)
    run = StreamRun(
        strategy=learner.strategy_.name,
        seed=seed,
        budget=float(learner.budget_manager_.budget),
        n_items=n,
        batch_size=batch_size,
    )
    correct = 0
    recent_correct = 0
    recent_n = 0
    select_s = fit_s = 0.0
    used = learner.strategy_.name
    next_mark = every
    queried_before = learner.n_queried_  # a learner that goes on: count this stream only
    t_start = time.perf_counter()
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        Xb, yb = X[start:stop], y[start:stop]
        if not learner.has_model:
            used = "cold-start"
        t0 = time.perf_counter()
        batch = learner.process_many(Xb)
        select_s += time.perf_counter() - t0
        right = batch.prediction == yb if learner.has_model else np.zeros(len(yb), dtype=bool)
        hits = int(np.count_nonzero(right))
        _tally(run.class_items, yb)
        _tally(run.class_correct, yb[right])
        correct += hits
        recent_correct += hits
        recent_n += stop - start
        ask = batch.indices
        _tally(run.class_labels, yb[ask])
        if ask.size:
            t0 = time.perf_counter()
            learner.learn_many(_rows(Xb, ask), yb[ask])
            fit_s += time.perf_counter() - t0
        if stop >= next_mark or stop == n:
            run.items_seen.append(stop)
            queried = learner.n_queried_ - queried_before
            run.n_labels.append(queried)
            run.scores.append(correct / stop)
            run.recent_scores.append(recent_correct / recent_n)
            run.spend.append(queried / stop)
            run.select_seconds.append(select_s)
            run.fit_seconds.append(fit_s)
            run.strategies_used.append(used)
            recent_correct = recent_n = 0
            select_s = fit_s = 0.0
            used = learner.strategy_.name
            next_mark = stop + every
            if on_checkpoint is not None:
                on_checkpoint(run)
    run.seconds = time.perf_counter() - t_start
    return run


def _rows(X: Any, index: np.ndarray) -> Any:
    """The items of a batch at ``index``: rows of an array, or dicts of a list."""
    return [X[i] for i in index.tolist()] if isinstance(X, list | tuple) else X[index]


def _tally(counts: dict[str, int], labels: np.ndarray) -> None:
    """Add the count of each label in ``labels`` to ``counts`` (keyed by the label as text)."""
    if len(labels) == 0:
        return
    values, n = np.unique(labels, return_counts=True)
    for v, k in zip(values.tolist(), n.tolist(), strict=True):
        counts[str(v)] = counts.get(str(v), 0) + int(k)
