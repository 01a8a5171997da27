"""The labelling loop behind every door: the web page, the JSON API and the terminal.

:class:`LabellingService` hands the next item to an annotator (from the current
queue, never waiting for training), records answers, skips and undos in the
store, and reports progress. A background :class:`threading.Thread` retrains the
model and re-ranks the queue after every ``retrain_every`` labels or
``retrain_seconds`` seconds, through :func:`activelab.app.training.train`.

The store is the truth; the service's in-memory view (which items are
answered, by whom) is rebuilt from the event log at start and kept in step with
it by reading the events appended since the last look, so several processes
(a server and a terminal) can share one project.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from activelab.app.quality import answer_targets
from activelab.app.store import (
    Annotator,
    Event,
    Store,
    decode_label_set,
    encode_label_set,
)
from activelab.app.trainer import STATUS_ARTIFACT, TrainerSupervisor
from activelab.app.training import TrainResult, stopping_text, train
from activelab.scoring import take_rows

__all__ = ["ItemView", "LabellingService", "Progress", "UnknownItemError", "UnknownLabelError"]

_log = logging.getLogger(__name__)
#: gold items still wanting answers are mixed into the queue, one every this many items
GOLD_EVERY = 10
#: an item being leased now is kept from the process's other threads this long
_CLAIM_SECONDS = 5.0


class UnknownLabelError(ValueError):
    """A label that is not one of the project's labels."""


class UnknownItemError(LookupError):
    """An item id that the project does not have."""


@dataclass(frozen=True)
class ItemView:
    """What an annotator is shown for one item."""

    id: int
    external_id: str
    kind: str
    content: dict[str, Any]
    guess: str | None
    confidence: float | None
    probabilities: dict[str, float] | None
    strategy: str | None
    score: float | None
    model_version: int | None
    #: multi-label projects: the labels the model gives ``P > 0.5`` (``guess`` is None)
    guess_labels: list[str] | None = None


@dataclass(frozen=True)
class Progress:
    """Where the project stands."""

    n_items: int
    labelled: int
    remaining: int
    mine: int
    model_version: int | None
    model_labels: int
    strategy: str | None
    accuracy: float | None
    accuracy_low: float | None
    accuracy_high: float | None
    accuracy_note: str | None
    still_pays: bool | None
    still_pays_reason: str | None
    training: bool
    last_trained_at: float | None
    #: what ``accuracy`` measures: "accuracy", or "micro-F1" for a multi-label project
    quality_metric: str = "accuracy"
    #: stopping criteria: name -> {"fired", "since", ...} (None before any model)
    stopping: dict[str, Any] | None = None
    #: the same as one line of text
    stopping_text: str | None = None
    #: the background trainer: "idle", "training", "starting", "restarting", "stopped"
    #: (None: no trainer runs in this process)
    trainer: str | None = None
    #: the trainer's last error (a failed round, or how its process died), if any
    trainer_error: str | None = None
    #: a model exists (False while too few labels: the version is a cold-start ranking)
    model_ready: bool = False
    #: labels per class, and each class's cross-validated recall (a rare class shows here)
    class_counts: dict[str, int] | None = None
    class_recall: dict[str, float | None] | None = None
    balanced_accuracy: float | None = None


class LabellingService:
    """The one labelling loop over a project store.

    Parameters
    ----------
    store : Store
        The project store.
    retrain_every : int, optional
        Retrain after this many new answers (default: the project setting).
    retrain_seconds : float, optional
        ... or when this many seconds passed with new answers (default: the
        project setting).
    lease_seconds : float, optional
        How long an item handed out stays reserved for its annotator.

    Examples
    --------
    >>> from activelab.app.store import Store
    >>> store = Store.create("sqlite://", {"labels": ["neg", "pos"], "strategy": "margin"})
    >>> store.add_items([{"external_id": str(i), "kind": "table",
    ...                   "content": {"fields": {"x": i}}} for i in range(6)])
    >>> store.save_features(np.arange(6, dtype=float).reshape(-1, 1))
    >>> ada, _ = store.add_annotator("ada")
    >>> svc = LabellingService(store)
    >>> item = svc.next_item(ada)
    >>> _ = svc.answer(ada, item.id, "neg" if item.id < 3 else "pos")
    >>> svc.progress(ada).labelled
    1
    >>> svc.next_item(ada).id != item.id
    True
    """

    def __init__(
        self,
        store: Store,
        *,
        retrain_every: int | None = None,
        retrain_seconds: float | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        self.store = store
        s = store.settings
        self.labels: list[str] = [str(x) for x in s["labels"]]
        self.multilabel: bool = s.get("task") == "multilabel"
        self.strategy: str = s.get("strategy", "auto")
        self.overlap: int = int(s.get("overlap", 1))
        #: how answers become training labels: "dawid_skene", "majority" or "latest"
        self.aggregate: str = s.get("aggregate", "dawid_skene")
        self.second_opinions: bool = bool(s.get("second_opinions", False))
        #: rank the head of the queue by value per predicted second of answering
        self.cost_aware: bool = bool(s.get("cost_aware", False))
        self.retrain_every = int(retrain_every or s.get("retrain_every", 10))
        self.retrain_seconds = float(retrain_seconds or s.get("retrain_seconds", 30.0))
        self.lease_seconds = float(lease_seconds or s.get("lease_seconds", 600.0))
        self.X = store.load_features()
        self.n = int(self.X.shape[0])
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        self._train_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._training_here = False
        self._supervisor: TrainerSupervisor | None = None
        self._thread_state: dict[str, Any] | None = None  # thread mode: state, last error
        #: the trainer process sets this: a model is stored only while it returns True
        self._may_save: Any = None
        self.train_errors = 0
        # derived from the event log
        self._last_event = 0
        self._live_count = np.zeros(self.n, dtype=np.int32)
        self._live: dict[int, tuple[int, int, str]] = {}  # event -> (item, annotator, kind)
        self._mine: dict[int, set[int]] = {}
        self._n_mine: dict[int, int] = {}  # live labels per annotator
        self._taken: dict[int, float] = {}  # item -> until when someone else holds it
        #: item -> annotator -> until when: the leases this process handed out, so an item
        #: whose every slot is held is passed over without a lease that must fail
        self._holders: dict[int, dict[int, float]] = {}
        self._labels_since_train = 0
        # derived from the latest model
        self._model: Any = None
        self._version: int | None = None
        self._metrics: dict[str, Any] = {}
        self._model_labels = 0
        self._trained_at: float | None = None
        self._trained_event = 0
        self._queue_strategy: str | None = None
        # a fixed random order of the pool: the queue after the ranked head
        self._tail_order = np.random.default_rng(0).permutation(self.n).astype(np.int64)
        self._order = self._tail_order
        self._cursor = 0  # items of the queue before it are all answered
        self._score = np.full(self.n, np.nan)
        # answers wanted per item: overlap, 2 for the sampled double share, more for
        # items raised on demand (second opinions)
        self._target = answer_targets(s, self.n)
        self._base_target = self._target.copy()  # before any second opinion
        # the latest model's predictions on the stop set, for the next round's stopping check
        self._stop_pred: np.ndarray | None = None
        self._stop_items: np.ndarray | None = None
        self._agreements: list[float] = []
        self._load_latest()
        self.sync()

    # ----------------------------------------------------------- state
    def _load_latest(self) -> None:
        latest = self.store.latest_model()
        if latest is None:
            return
        model = None
        if latest.model is not None:
            import joblib

            model = joblib.load(io.BytesIO(latest.model))
        order, scores, _, _ = self.store.queue(latest.version)
        # a version stored without them (trained before they were kept) leaves the stopping
        # check to wait for the next two models, as before
        stop = self.store.stop_predictions(latest.version)
        agreement = (latest.metrics.get("still_pays") or {}).get("agreement")
        rest = np.ones(self.n, dtype=bool)
        rest[order] = False
        tail = self._tail_order[rest[self._tail_order]]
        score = np.full(self.n, np.nan)
        if scores is not None:
            score[order[: scores.shape[0]]] = scores
        with self._lock:
            self._model = model
            self._version = latest.version
            self._metrics = latest.metrics
            self._model_labels = latest.n_labels
            self._trained_at = latest.created_at
            self._trained_event = latest.last_event_id
            self._queue_strategy = latest.strategy
            self._order = np.concatenate([order, tail])
            self._cursor = 0
            self._score = score
            self._raise_targets(latest.metrics)
            self._stop_items, self._stop_pred = stop if stop is not None else (None, None)
            self._agreements = [] if agreement is None else [float(agreement)]

    def sync(self) -> None:
        """Apply the events appended to the store since the last look."""
        with self._sync_lock:
            events = self.store.events(after=self._last_event)
            if not events:
                return
            with self._lock:
                for ev in events:  # loop over new events, not over the pool
                    self._apply(ev)
                self._last_event = events[-1].id

    def _apply(self, ev: Event) -> None:
        if ev.kind in ("label", "skip"):
            self._live[ev.id] = (ev.item_id, ev.annotator_id, ev.kind)
            self._mine.setdefault(ev.annotator_id, set()).add(ev.item_id)
            self._taken.pop(ev.item_id, None)  # answered or skipped: no longer reserved
            self._drop_holder(ev.item_id, ev.annotator_id)
            if ev.kind == "label":
                self._live_count[ev.item_id] += 1
                self._n_mine[ev.annotator_id] = self._n_mine.get(ev.annotator_id, 0) + 1
                self._labels_since_train += ev.id > self._trained_event
        elif ev.undoes is not None:
            undone = self._live.pop(ev.undoes, None)
            if undone is None:
                return
            item, ann, kind = undone
            self._mine.get(ann, set()).discard(item)
            # the store hands the item straight back to whoever undid it
            self._taken[item] = ev.created_at + self.lease_seconds
            self._holders.setdefault(item, {})[ann] = ev.created_at + self.lease_seconds
            if kind == "label":
                self._live_count[item] -= 1
                self._cursor = 0  # the item is open again, maybe before the cursor
                self._n_mine[ann] = self._n_mine.get(ann, 0) - 1
                self._labels_since_train += ev.id > self._trained_event

    def _raise_targets(self, metrics: dict[str, Any]) -> None:
        """Items the latest model version asked a second opinion on want one more answer.

        An item an earlier round asked and this one did not is worth no more than the head
        of the queue now: it goes back to the answers it took before (the new queue does
        not hold it, so it would be wanted and never served), unless someone holds it now,
        whose answer is still taken. Call under the lock."""
        target = self._base_target.copy()
        held = np.fromiter(self._holders.keys(), np.int64, len(self._holders))
        target[held] = self._target[held]
        ask = metrics.get("second_opinions") or {}
        items = np.asarray(ask.get("items", []), dtype=np.int64)
        want = np.asarray(ask.get("target", []), dtype=np.int32)
        if items.size:
            target[items] = np.maximum(target[items], want)
        self._target = target

    def _check_item(self, item_id: int) -> None:
        if not 0 <= int(item_id) < self.n:
            raise UnknownItemError(f"No item with id {item_id}; ids run from 0 to {self.n - 1}.")

    # ---------------------------------------------------------- the loop
    def next_item(self, annotator: Annotator) -> ItemView | None:
        """The next item for an annotator, or ``None`` when nothing is left for them.

        The item they hold and have not answered comes first (a reload shows the
        same item); otherwise the best item in the queue that is not answered
        and not reserved for someone else is reserved for them.
        """
        self.sync()
        held = self.store.held_item(annotator.id)
        if held is not None:
            return self.view(held)
        checked = False  # whether the leases barring the pick were looked up in the store
        lost: set[int] = set()  # items whose lease this request lost: their slots are taken
        for _ in range(100):
            now = time.time()
            with self._lock:
                mine = self._mine.get(annotator.id, set())
                self._taken = {i: t for i, t in self._taken.items() if t > now}
                # an item held by someone else is skipped unless it wants more answers
                # than those given and held
                busy = np.fromiter(self._taken.keys(), np.int64, len(self._taken))
                busy = busy[self._target[busy] - self._live_count[busy] < 2]
                # one that wants several more is passed over, as a lost lease is, when the
                # others' leases through this process hold all its open slots
                full = self._full_items(annotator.id, now)
                skip = mine | set(busy.tolist()) | lost | full
                head = self._open_head(len(skip) + 1)
                skipped = np.isin(head, np.fromiter(skip, np.int64, len(skip)))
                window = head[~skipped]
                barring: list[int] = []
                if not checked:
                    # only a lease ranked before the pick can change it: ask the store about
                    # those alone, once per request
                    ahead = head if window.size == 0 else head[: int(np.argmin(skipped))]
                    limit = now + _CLAIM_SECONDS
                    barring = [i for i in ahead.tolist() if self._taken.get(i, 0.0) > limit]
                if not barring:
                    if window.size == 0:
                        # nothing to wait for: the rest is answered by them, or all held
                        left = set(head.tolist()) - mine - lost - full
                        if head.size <= len(mine) or not self._taken or not left:
                            return None
                        item = -1
                    else:
                        item = int(window[0])
                        # claimed at once, so threads of this process never race for one item
                        self._taken[item] = now + _CLAIM_SECONDS
                    version, strategy = self._version, self._queue_strategy
                    score = np.nan if item < 0 else self._score[item]
            if barring:  # nothing was claimed: look again once the store has been asked
                checked = True
                self._forget_released(barring)
                continue
            if item < 0:  # everything left is reserved by others for now
                time.sleep(0.05)
                continue
            won = self.store.lease(
                item,
                annotator.id,
                seconds=self.lease_seconds,
                overlap=int(self._target[item]),
                strategy=strategy,
                score=None if np.isnan(score) else float(score),
                model_version=version,
            )
            with self._lock:
                # held here for an annotator, or by a process we cannot see: look later
                self._taken[item] = now + (self.lease_seconds if won else 2.0)
                if won:
                    self._holders.setdefault(item, {})[annotator.id] = now + self.lease_seconds
            if won:
                return self.view(item)
            # an item that wants more answers than it has is not skipped as reserved, yet
            # its slots may all be held (overlap): pass over it for the rest of this request
            lost.add(item)
            self.sync()
        return None

    def _drop_holder(self, item: int, annotator_id: int) -> None:
        """Forget the annotator's lease on ``item`` (answered, skipped or given back)."""
        holders = self._holders.get(item)
        if holders is not None:
            holders.pop(annotator_id, None)
            if not holders:
                del self._holders[item]

    def _full_items(self, annotator_id: int, now: float) -> set[int]:
        """Items that want at least two more answers, all of whose open slots other
        annotators hold through this process (expired leases dropped). Call under the lock.

        Parameters
        ----------
        annotator_id : int
            Who asks: their own lease holds no slot against them.
        now : float
            The time of the request (Unix seconds).

        Returns
        -------
        set of int
        """
        self._holders = {
            i: live
            for i, h in self._holders.items()
            if (live := {a: t for a, t in h.items() if t > now})
        }
        if not self._holders:
            return set()
        items = np.fromiter(self._holders.keys(), np.int64, len(self._holders))
        others = np.fromiter(
            (len(h) - (annotator_id in h) for h in self._holders.values()), np.int64, items.size
        )
        wanted = self._target[items] - self._live_count[items]
        return set(items[(wanted >= 2) & (others >= wanted)].tolist())

    def _forget_released(self, held: list[int]) -> None:
        """Drop the reservations of ``held`` (items leased through this process) whose
        lease the store no longer holds: given back by another process (a revoked
        annotator's, say). One read of those few items; for items several annotators
        hold, the read names each holder, so a slot given back elsewhere opens here."""
        with self._lock:
            several = {i for i in held if len(self._holders.get(i, ())) > 1}
        holders = self.store.lease_holders(held) if held else {}
        with self._lock:
            for i in set(held) - set(holders):
                self._taken.pop(i, None)
                self._holders.pop(i, None)
            for i in several & set(holders):  # a few items, never the pool
                live = holders[i]
                self._holders[i] = {a: t for a, t in self._holders.get(i, {}).items() if a in live}

    def _open_head(self, k: int) -> np.ndarray:
        """The first ``k`` items of the queue not answered yet (fewer at its end).

        Walks the queue from a cursor in slices, so a request costs O(k + slice),
        not O(pool); the cursor only moves past answered items and goes back to
        the start when a new queue arrives or an answer is undone. Call under the lock.
        """
        order, n_order = self._order, self._order.shape[0]
        start, found = self._cursor, []
        count = 0
        first = True
        while start < n_order and count < k:
            chunk = order[start : start + 4096]
            chunk = chunk[self._live_count[chunk] < self._target[chunk]]
            if first:
                if chunk.size == 0:
                    self._cursor = start = start + 4096
                    continue
                self._cursor = start + int(
                    np.argmax(
                        self._live_count[order[start : start + 4096]]
                        < self._target[order[start : start + 4096]]
                    )
                )
                first = False
            found.append(chunk)
            count += chunk.size
            start += 4096
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(found)[:k]

    def view(self, item_id: int) -> ItemView:
        """An item with the current model's guess."""
        self._check_item(item_id)
        item = self.store.item(item_id)
        with self._lock:
            model, version, strategy = self._model, self._version, self._queue_strategy
            score = self._score[item_id]
        guess = confidence = probs = guess_labels = None
        if model is not None and self.multilabel:
            from activelab.multilabel import multilabel_proba

            p = multilabel_proba(model, take_rows(self.X, np.array([item_id])), len(self.labels))
            probs = {lab: float(v) for lab, v in zip(self.labels, p[0], strict=True)}
            guess_labels = [lab for lab, v in probs.items() if v > 0.5]
        elif model is not None and hasattr(model, "predict_proba"):
            p = model.predict_proba(take_rows(self.X, np.array([item_id])))[0]
            probs = {str(c): float(v) for c, v in zip(model.classes_, p, strict=True)}
            best = int(np.argmax(p))
            guess, confidence = str(model.classes_[best]), float(p[best])
        return ItemView(
            item["id"],
            item["external_id"],
            item["kind"],
            item["content"],
            guess,
            confidence,
            probs,
            strategy,
            None if np.isnan(score) else float(score),
            version,
            guess_labels,
        )

    def check_label(self, label: str | list[str] | tuple[str, ...]) -> str:
        """Validate an answer and return what the store records for it.

        A single-label project takes one of its labels. A multi-label project
        takes a list of distinct labels of the project (an empty list means
        "none of these"), recorded as a JSON list in the project's label order.
        Raises :class:`UnknownLabelError` naming the problem otherwise.

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b", "c"], "task": "multilabel"})
        >>> store.add_items([{"external_id": "x", "kind": "text", "content": {"text": "x"}}])
        >>> store.save_features(np.zeros((1, 1)))
        >>> svc = LabellingService(store)
        >>> svc.check_label(["c", "a"])
        '["a", "c"]'
        >>> svc.check_label(["a", "d"])
        Traceback (most recent call last):
        ...
        activelab.app.service.UnknownLabelError: Unknown label(s) ['d'] in ['a', 'd']; the project's labels are ['a', 'b', 'c'].
        """  # noqa: E501
        if not self.multilabel:
            if not isinstance(label, str):
                raise UnknownLabelError(
                    f"This project takes one label per item (send label: one of {self.labels}), "
                    f"got {label!r}."
                )
            if label not in self.labels:
                raise UnknownLabelError(
                    f"Unknown label {label!r}; the project's labels are {self.labels}."
                )
            return label
        if isinstance(label, str) or not isinstance(label, list | tuple):
            raise UnknownLabelError(
                f"This project is multi-label: send labels as a list of {self.labels} "
                f"([] for none of them), got {label!r}."
            )
        unknown = [lab for lab in label if lab not in self.labels]
        if unknown:
            raise UnknownLabelError(
                f"Unknown label(s) {unknown} in {list(label)}; the project's labels are "
                f"{self.labels}."
            )
        dup = sorted({lab for lab in label if label.count(lab) > 1})
        if dup:
            raise UnknownLabelError(f"Label(s) {dup} given twice in {list(label)}; each once.")
        return encode_label_set([lab for lab in self.labels if lab in label])

    def answer(
        self,
        annotator: Annotator,
        item_id: int,
        label: str | list[str],
        request_id: str | None = None,
    ) -> Event:
        """Record a label (a list of labels in a multi-label project); idempotent on
        ``request_id``.

        The annotator must hold the item's lease and not have answered it; otherwise,
        or when ``request_id`` was used for a different request, the store raises
        :class:`~activelab.app.store.ConflictError` and nothing is stored.
        """
        self._check_item(item_id)
        stored = self.check_label(label)
        ev = self.store.append_event(
            int(item_id),
            annotator.id,
            "label",
            label=stored,
            request_id=request_id,
            require_lease=True,
            overlap=self._item_target(int(item_id)),
        )
        self._after_write()
        return ev

    def _item_target(self, item_id: int) -> int:
        """How many answers the item takes now (the project's overlap, raised for
        double-annotated items and second opinions)."""
        with self._lock:
            return int(self._target[item_id])

    def skip(self, annotator: Annotator, item_id: int, request_id: str | None = None) -> Event:
        """Skip an item leased to the annotator: it is not shown to them again (others may
        get it); :class:`~activelab.app.store.ConflictError` for an item they do not hold."""
        self._check_item(item_id)
        ev = self.store.append_event(
            int(item_id), annotator.id, "skip", request_id=request_id, require_lease=True
        )
        self._after_write()
        return ev

    def undo(self, annotator: Annotator, request_id: str | None = None) -> tuple[Event, ItemView]:
        """Take back the annotator's latest answer or skip; returns the event and the item."""
        ev = self.store.undo_last(annotator.id, request_id=request_id, seconds=self.lease_seconds)
        self._after_write()
        return ev, self.view(ev.item_id)

    def release(self, annotator: Annotator, item_id: int) -> None:
        """Give back an item without answering it."""
        self._check_item(item_id)
        self.store.release(int(item_id), annotator.id)
        self._forget_given_back([int(item_id)], annotator.id)

    def release_held(self, annotator: Annotator) -> list[int]:
        """Give back every item the annotator holds unanswered (the one on screen, and
        those that were on screen when an undo brought an earlier item back); returns them."""
        items = self.store.release_held(annotator.id)
        self._forget_given_back(items, annotator.id)
        return items

    def _forget_given_back(self, items: list[int], annotator_id: int) -> None:
        """Drop this process's reservations of ``items``, given back by the annotator."""
        with self._lock:
            for item in items:  # the few items one annotator holds, never the pool
                self._taken.pop(item, None)
                self._drop_holder(item, annotator_id)

    def _after_write(self) -> None:
        self.sync()
        if self._labels_since_train >= self.retrain_every:
            self._wake.set()

    def progress(self, annotator: Annotator | None = None) -> Progress:
        """Counts, the model's estimated accuracy and whether more labels still pay."""
        self.sync()
        trainer = self.trainer_state()
        with self._lock:
            labelled = int(np.count_nonzero(self._live_count))
            remaining = int(np.count_nonzero(self._live_count < self._target))
            mine = 0 if annotator is None else self._n_mine.get(annotator.id, 0)
            acc = self._metrics.get("accuracy") or {}
            pays = self._metrics.get("still_pays") or {}
            return Progress(
                n_items=self.n,
                labelled=labelled,
                remaining=remaining,
                mine=mine,
                model_version=self._version,
                model_labels=self._model_labels,
                strategy=self._queue_strategy,
                accuracy=acc.get("estimate"),
                accuracy_low=acc.get("low"),
                accuracy_high=acc.get("high"),
                accuracy_note=acc.get("note"),
                still_pays=pays.get("value"),
                still_pays_reason=pays.get("reason"),
                training=self.training,
                last_trained_at=self._trained_at,
                quality_metric=acc.get("metric") or ("micro-F1" if self.multilabel else "accuracy"),
                stopping=self._metrics.get("stopping"),
                stopping_text=stopping_text(self._metrics.get("stopping")),
                trainer=None if trainer is None else trainer["state"],
                trainer_error=None if trainer is None else trainer.get("last_error"),
                model_ready=self._model is not None,
                class_counts=self._metrics.get("class_counts"),
                class_recall=acc.get("recall"),
                balanced_accuracy=acc.get("balanced_accuracy"),
            )

    def image(self, item_id: int) -> tuple[bytes, str]:
        """The stored bytes of an image item and their media type."""
        self._check_item(item_id)
        blob = self.store.item_blob(int(item_id))
        if blob is None:
            raise UnknownItemError(f"Item {item_id} has no image.")
        return blob

    # ------------------------------------------------------- training
    def retrain(self) -> TrainResult:
        """Train on the labels in the store now and swap in the new model and queue."""
        with self._train_lock:
            self._training_here = True
            try:
                return self._retrain()
            finally:
                self._training_here = False

    def _retrain(self) -> TrainResult:
        last_event = self.store.last_event_id()
        current = self.store.current_labels()
        labelled = np.fromiter(current.keys(), dtype=np.int64, count=len(current))
        agg = table = soft = None
        settings = self.store.refresh_settings()  # gold items may have come since
        # the answer table also carries the answers' times, which --cost-aware learns from
        wants_table = self.aggregate != "latest" or settings.get("gold") or self.cost_aware
        if not self.multilabel and wants_table:
            from activelab.app.quality import aggregate_answers, answer_table

            table = answer_table(self.store)
            agg = aggregate_answers(table, self.aggregate)
            labelled = np.flatnonzero(agg.answered)
            labels = np.asarray(table.classes, dtype=object)[agg.labels[labelled]].astype(str)
            if self.aggregate != "latest":
                soft = agg.posterior[labelled]  # soft labels where answers disagree
        elif self.multilabel and (sets := self._aggregated_label_sets()) is not None:
            labelled, labels = sets
        elif self.multilabel:
            from activelab.multilabel import to_indicator

            sets = [decode_label_set(c.label) for c in current.values()]
            labels = to_indicator(sets, self.labels).reshape(len(sets), len(self.labels))
        else:
            labels = np.asarray([c.label for c in current.values()], dtype=object).astype(str)
        with self._lock:
            prev, prev_items = self._stop_pred, self._stop_items
            agreements = list(self._agreements)
            prev_stopping = self._metrics.get("stopping")
            prev_method = self._metrics.get("hybrid_method")
            prev_target = self._metrics.get("rare_target")
            self._labels_since_train = 0
        result = train(
            self.X,
            labelled,
            labels,
            classes=self.labels,
            strategy=self.strategy,
            seed=int(last_event),
            previous_stop_predictions=prev,
            previous_stop_items=prev_items,
            previous_agreements=agreements,
            multilabel=self.multilabel,
            previous_stopping=prev_stopping,
            previous_hybrid_method=prev_method,
            previous_rare_target=prev_target,
            soft_labels=soft,
        )
        if self._may_save is not None and not self._may_save():
            return result  # the server is gone or stopping: store nothing more
        order, scores = result.order, result.scores
        if agg is not None and table is not None and self.cost_aware:
            order, scores = self._cost_rerank(result, agg, table)
        if agg is not None and table is not None and self.second_opinions:
            order, scores = self._plan_second_opinions(result, agg, table, order, scores)
        if table is not None and table.gold_items.size:
            order, scores = self._mix_gold(table, order, scores, int(last_event))
        version = self.store.save_model_version(
            n_labels=result.n_labels,
            last_event_id=last_event,
            strategy=result.strategy,
            metrics=result.metrics,
            model=result.model_bytes(),
            queue=(order, scores),
            stop_predictions=(
                None
                if result.stop_predictions is None
                else (result.stop_items, result.stop_predictions)
            ),
        )
        score = np.full(self.n, np.nan)
        if scores is not None:
            score[order[: scores.shape[0]]] = scores
        with self._lock:
            self._model = result.model
            self._version = version
            self._metrics = result.metrics
            self._model_labels = result.n_labels
            self._trained_at = time.time()
            self._trained_event = last_event
            self._queue_strategy = result.strategy
            self._order = order
            self._cursor = 0
            self._score = score
            self._raise_targets(result.metrics)
            if result.stop_predictions is not None:
                # successive comparisons only: a round that could not compare starts over
                agreement = (result.metrics.get("still_pays") or {}).get("agreement")
                self._agreements = [] if agreement is None else [*self._agreements, agreement]
                self._stop_pred = result.stop_predictions
                self._stop_items = result.stop_items
        return result

    def _mix_gold(
        self, table: Any, order: np.ndarray, scores: np.ndarray | None, seed: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Gold items still wanting answers go into the queue, one every :data:`GOLD_EVERY`
        items, in a random order: annotators answer them unaware, which scores them."""
        answers = np.bincount(table.items, minlength=self.n)
        gold = table.gold_items[answers[table.gold_items] < self._target[table.gold_items]]
        gold = gold[~np.isin(gold, order)]
        if gold.size == 0:
            return order, scores
        gold = np.random.default_rng(seed).permutation(gold)
        pos = np.minimum((np.arange(gold.size) + 1) * GOLD_EVERY, order.size)
        mixed = np.insert(order, pos, gold).astype(np.int64)
        if scores is not None:
            scores = np.insert(scores, pos[pos < scores.shape[0]], np.nan)
        return mixed, scores

    def _aggregated_label_sets(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Multi-label: the items and their label sets aggregated label by label, or
        ``None`` (the latest answer as before) when no item has two answers."""
        if self.aggregate == "latest":
            return None
        from activelab.app.multilabel_quality import aggregate_label_sets, multilabel_answer_table

        table = multilabel_answer_table(self.store)
        if np.bincount(table.items, minlength=self.n).max(initial=0) < 2:
            return None
        agg = aggregate_label_sets(table, self.aggregate)
        labelled = np.flatnonzero(agg.answered)
        return labelled, agg.indicator[labelled]

    def _class_proba(self, model: Any, rows: np.ndarray) -> np.ndarray:
        """The model's probabilities for ``rows``, one column per project label."""
        k = len(self.labels)
        out = np.zeros((rows.shape[0], k))
        if rows.size:
            cls = [self.labels.index(str(c)) for c in model.classes_]
            out[:, cls] = model.predict_proba(take_rows(self.X, rows))
        return out

    def _cost_rerank(
        self, result: TrainResult, agg: Any, table: Any
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Cost-aware mode: the ranked head of the queue, re-ordered by value per second."""
        from activelab.app.quality import cost_aware_head

        model = result.model
        n_head = 0 if result.scores is None else result.scores.shape[0]
        if model is None or not hasattr(model, "predict_proba") or n_head == 0:
            return result.order, result.scores
        head = result.order[:n_head]
        seen = ~np.isnan(agg.accuracy)
        conf = agg.confusion[seen].mean(axis=0) if seen.any() else None
        perm, info = cost_aware_head(self.X, head, self._class_proba(model, head), table, conf)
        result.metrics["cost_aware"] = info
        order = np.concatenate([head[perm], result.order[n_head:]]).astype(np.int64)
        return order, result.scores[perm]

    def _plan_second_opinions(
        self,
        result: TrainResult,
        agg: Any,
        table: Any,
        order: np.ndarray,
        scores: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Ask again on labelled items whose aggregate is in more doubt than the head of the
        queue is worth; they go first in the queue and are recorded in the metrics."""
        from activelab.app.quality import doubtful_items

        model = result.model
        if model is None or not hasattr(model, "predict_proba"):
            return order, scores
        k = len(self.labels)

        def proba(rows: np.ndarray) -> np.ndarray:
            return self._class_proba(model, rows)

        limit = max(1, self.retrain_every)
        head = order[: 2 * limit]
        answered_by = np.bincount(table.items, minlength=self.n)
        lab = np.flatnonzero(agg.answered)
        full = np.full((self.n, k), 1.0 / k)
        full[lab] = proba(lab)
        # an item can take one more answer while someone who may still answer has not:
        # answers of revoked annotators, and of a file's labels (``imported:…``, whom no one
        # can ask again), count towards the item's target, not against them
        able = {a.name for a in self.store.annotators() if a.may_answer}
        can = np.array([name in able for name in table.names], dtype=bool)
        by_active = np.bincount(table.items[can[table.annotators]], minlength=self.n)
        items, values = doubtful_items(
            agg,
            by_active,
            full,
            proba(head),
            n_annotators=int(can.sum()),
            limit=limit,
        )
        result.metrics["second_opinions"] = {
            "items": items.tolist(),
            "target": (answered_by[items] + 1).tolist(),
            "values": [round(float(v), 4) for v in values],
        }
        if items.size == 0:
            return order, scores
        if scores is not None:
            scores = np.concatenate([np.full(items.size, np.nan), scores])
        return np.concatenate([items, order]).astype(np.int64), scores

    def _needs_training(self) -> bool:
        if self._version is None:
            return True
        since = self._labels_since_train
        if since >= self.retrain_every:
            return True
        waited = time.time() - (self._trained_at or 0.0)
        return since > 0 and waited >= self.retrain_seconds

    @property
    def training(self) -> bool:
        """True while a training round runs (in this process or in the trainer process)."""
        if self._supervisor is not None:
            return self._supervisor.busy
        return self._training_here

    def trainer_state(self) -> dict[str, Any] | None:
        """The background trainer's state (``None`` when none was started here).

        Keys: ``mode`` (``process`` or ``thread``), ``state`` (``starting``, ``idle``,
        ``training``, ``restarting``, ``stopped``), ``pid``, ``restarts``,
        ``last_error``, ``last_error_at`` and ``heartbeat_age`` in seconds.
        """
        if self._supervisor is not None:
            return {"mode": "process", **self._supervisor.state()}
        if self._thread_state is not None:
            state = dict(self._thread_state)
            state["state"] = "training" if self._training_here else state["state"]
            return state
        return None

    def start(self, process: bool | None = None) -> None:
        """Start the background trainer.

        Parameters
        ----------
        process : bool, optional
            Train in a separate, supervised process (the default for a database in
            a file or a server), so training never competes with request handling
            for the interpreter; or in a thread of this process (the default, and the
            only choice, for an in-memory database). In process mode the process is
            restarted when it dies (see :mod:`activelab.app.trainer`), and a thread of
            this process picks up every new model version from the store.
        """
        if self._thread is not None:
            return
        use_process = (not self.store.in_memory) if process is None else process
        if use_process and self.store.in_memory:
            raise ValueError("An in-memory database cannot be shared with a trainer process.")
        self._stop.clear()
        target = self._run
        if use_process:
            self._supervisor = TrainerSupervisor(
                self.store.url,
                self.retrain_every,
                self.retrain_seconds,
                factory=_open_for_training,
                publish=self._publish_trainer_state,
            )
            self._supervisor.start()
            target = self._watch
        else:
            self._thread_state = {
                "mode": "thread",
                "state": "idle",
                "pid": None,
                "restarts": 0,
                "last_error": None,
                "last_error_at": None,
                "heartbeat_age": 0.0,
            }
        self._thread = threading.Thread(target=target, name="activelab-trainer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background trainer.

        A trainer process is asked to stop and killed after a second (a round in
        progress is abandoned: the model is derived state); a trainer thread finishes
        its round, up to ``timeout`` seconds.
        """
        self._stop.set()
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.stop(timeout=min(timeout, 1.0))
            self._publish_trainer_state(self._supervisor.state())
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._thread_state is not None:
            self._thread_state["state"] = "stopped"
        self._supervisor = None

    def _publish_trainer_state(self, state: dict[str, Any]) -> None:
        """Store the trainer's state, for ``activelab status`` in another process."""
        state = {**state, "published_at": time.time(), "server_pid": os.getpid()}
        self.store.save_artifact(STATUS_ARTIFACT, json.dumps(state).encode())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                if self._needs_training():
                    self.retrain()
            except Exception as exc:  # the trainer must not die; labelling goes on
                self.train_errors += 1
                _log.exception("training round failed")
                if self._thread_state is not None:
                    self._thread_state["last_error"] = f"{type(exc).__name__}: {exc}"[:500]
                    self._thread_state["last_error_at"] = time.time()
                self._stop.wait(5.0)
            self._wake.wait(1.0)
            self._wake.clear()

    def _watch(self) -> None:
        """Process mode: load each new model version and queue the trainer stores."""
        while not self._stop.is_set():
            try:
                latest = self.store.latest_version()
                if latest is not None and latest != self._version:
                    self._load_latest()
            except Exception:  # pragma: no cover - a transient database error
                _log.exception("loading the latest model failed")
            self._stop.wait(0.25)

    def __enter__(self) -> LabellingService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _open_for_training(url: str, retrain_every: int, retrain_seconds: float) -> LabellingService:
    """The trainer process's own service over the project (see activelab.app.trainer)."""
    store = Store.open(url)
    return LabellingService(store, retrain_every=retrain_every, retrain_seconds=retrain_seconds)
