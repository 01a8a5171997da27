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
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from activelab.app.store import Annotator, Event, Store, decode_label_set, encode_label_set
from activelab.app.training import TrainResult, stopping_text, train
from activelab.scoring import take_rows

__all__ = ["ItemView", "LabellingService", "Progress", "UnknownItemError", "UnknownLabelError"]

_log = logging.getLogger(__name__)


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
        self._busy: Any = None  # shared flag of the trainer process
        self._proc: Any = None
        self._proc_stop: Any = None
        self.train_errors = 0
        # derived from the event log
        self._last_event = 0
        self._live_count = np.zeros(self.n, dtype=np.int32)
        self._live: dict[int, tuple[int, int, str]] = {}  # event -> (item, annotator, kind)
        self._mine: dict[int, set[int]] = {}
        self._n_mine: dict[int, int] = {}  # live labels per annotator
        self._taken: dict[int, float] = {}  # item -> until when someone else holds it
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
        self._stop_pred: np.ndarray | None = None
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
            if kind == "label":
                self._live_count[item] -= 1
                self._cursor = 0  # the item is open again, maybe before the cursor
                self._n_mine[ann] = self._n_mine.get(ann, 0) - 1
                self._labels_since_train += ev.id > self._trained_event

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
        for _ in range(100):
            now = time.time()
            with self._lock:
                mine = self._mine.get(annotator.id, set())
                self._taken = {i: t for i, t in self._taken.items() if t > now}
                skip = mine | self._taken.keys() if self.overlap == 1 else mine
                head = self._open_head(len(skip) + 1)
                window = head
                if skip:
                    window = head[~np.isin(head, np.fromiter(skip, np.int64, len(skip)))]
                if window.size == 0:
                    if head.size <= len(mine) or not self._taken:
                        return None
                    item = -1
                else:
                    item = int(window[0])
                    # claimed at once, so threads of this process never race for one item
                    self._taken[item] = now + 5.0
                version, strategy = self._version, self._queue_strategy
                score = np.nan if item < 0 else self._score[item]
            if item < 0:  # everything left is reserved by others for now
                time.sleep(0.05)
                continue
            won = self.store.lease(
                item,
                annotator.id,
                seconds=self.lease_seconds,
                overlap=self.overlap,
                strategy=strategy,
                score=None if np.isnan(score) else float(score),
                model_version=version,
            )
            with self._lock:
                # held here for an annotator, or by a process we cannot see: look later
                self._taken[item] = now + (self.lease_seconds if won else 2.0)
            if won:
                return self.view(item)
            self.sync()
        return None

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
            chunk = chunk[self._live_count[chunk] < self.overlap]
            if first:
                if chunk.size == 0:
                    self._cursor = start = start + 4096
                    continue
                self._cursor = start + int(
                    np.argmax(self._live_count[order[start : start + 4096]] < self.overlap)
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
        ``request_id``."""
        self._check_item(item_id)
        stored = self.check_label(label)
        ev = self.store.append_event(
            int(item_id), annotator.id, "label", label=stored, request_id=request_id
        )
        self._after_write()
        return ev

    def skip(self, annotator: Annotator, item_id: int, request_id: str | None = None) -> Event:
        """Skip an item: it is not shown to this annotator again (others may get it)."""
        self._check_item(item_id)
        ev = self.store.append_event(int(item_id), annotator.id, "skip", request_id=request_id)
        self._after_write()
        return ev

    def undo(self, annotator: Annotator, request_id: str | None = None) -> tuple[Event, ItemView]:
        """Take back the annotator's latest answer or skip; returns the event and the item."""
        ev = self.store.undo_last(annotator.id, request_id=request_id)
        self._after_write()
        return ev, self.view(ev.item_id)

    def release(self, annotator: Annotator, item_id: int) -> None:
        """Give back an item without answering it."""
        self._check_item(item_id)
        self.store.release(int(item_id), annotator.id)
        with self._lock:
            self._taken.pop(int(item_id), None)

    def _after_write(self) -> None:
        self.sync()
        if self._labels_since_train >= self.retrain_every:
            self._wake.set()

    def progress(self, annotator: Annotator | None = None) -> Progress:
        """Counts, the model's estimated accuracy and whether more labels still pay."""
        self.sync()
        with self._lock:
            labelled = int(np.count_nonzero(self._live_count))
            remaining = int(np.count_nonzero(self._live_count < self.overlap))
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
        if self.multilabel:
            from activelab.multilabel import to_indicator

            sets = [decode_label_set(c.label) for c in current.values()]
            labels = to_indicator(sets, self.labels).reshape(len(sets), len(self.labels))
        else:
            labels = np.asarray([c.label for c in current.values()], dtype=object).astype(str)
        with self._lock:
            prev, agreements = self._stop_pred, list(self._agreements)
            prev_stopping = self._metrics.get("stopping")
            self._labels_since_train = 0
        result = train(
            self.X,
            labelled,
            labels,
            classes=self.labels,
            strategy=self.strategy,
            seed=int(last_event),
            previous_stop_predictions=prev,
            previous_agreements=agreements,
            multilabel=self.multilabel,
            previous_stopping=prev_stopping,
        )
        version = self.store.save_model_version(
            n_labels=result.n_labels,
            last_event_id=last_event,
            strategy=result.strategy,
            metrics=result.metrics,
            model=result.model_bytes(),
            queue=(result.order, result.scores),
        )
        score = np.full(self.n, np.nan)
        if result.scores is not None:
            score[result.order[: result.scores.shape[0]]] = result.scores
        with self._lock:
            self._model = result.model
            self._version = version
            self._metrics = result.metrics
            self._model_labels = result.n_labels
            self._trained_at = time.time()
            self._trained_event = last_event
            self._queue_strategy = result.strategy
            self._order = result.order
            self._cursor = 0
            self._score = score
            if result.stop_predictions is not None:
                if prev is not None:
                    agreement = (result.metrics.get("still_pays") or {}).get("agreement")
                    if agreement is not None:
                        self._agreements.append(agreement)
                self._stop_pred = result.stop_predictions
        return result

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
        if self._busy is not None:
            return bool(self._busy.value)
        return self._training_here

    def start(self, process: bool | None = None) -> None:
        """Start the background trainer.

        Parameters
        ----------
        process : bool, optional
            Train in a separate process (the default for a database in a file or
            a server), so training never competes with request handling for the
            interpreter; or in a thread of this process (the default, and the
            only choice, for an in-memory database). In process mode, a thread of
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
            ctx = multiprocessing.get_context("spawn")
            self._proc_stop = ctx.Event()
            self._busy = ctx.Value("b", 0)
            self._proc = ctx.Process(
                target=_trainer_main,
                args=(
                    self.store.url,
                    self.retrain_every,
                    self.retrain_seconds,
                    self._proc_stop,
                    self._busy,
                    os.getpid(),
                ),
                name="activelab-trainer",
                daemon=True,
            )
            self._proc.start()
            target = self._watch
        self._thread = threading.Thread(target=target, name="activelab-trainer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background trainer (waits for a round in progress)."""
        self._stop.set()
        self._wake.set()
        if self._proc is not None:
            self._proc_stop.set()
            self._proc.join(timeout)
            if self._proc.is_alive():  # pragma: no cover - a round far too long
                self._proc.terminate()
                self._proc.join(5)
            self._proc = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                if self._needs_training():
                    self.retrain()
            except Exception:  # the trainer must not die; labelling goes on
                self.train_errors += 1
                _log.exception("training round failed")
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


def _trainer_main(
    url: str,
    retrain_every: int,
    retrain_seconds: float,
    stop: Any,
    busy: Any,
    parent_pid: int,
) -> None:
    """The trainer process: retrain when the store has enough new answers, until told to
    stop or the parent process is gone (even if it was killed)."""
    if hasattr(os, "nice"):
        os.nice(10)  # background work: requests of the serving process come first
    store = Store.open(url)
    svc = LabellingService(store, retrain_every=retrain_every, retrain_seconds=retrain_seconds)
    try:
        while not stop.is_set() and os.getppid() == parent_pid:
            try:
                svc.sync()
                if svc._needs_training():
                    busy.value = 1
                    try:
                        svc.retrain()
                    finally:
                        busy.value = 0
            except Exception:
                _log.exception("training round failed")
                stop.wait(5.0)
            stop.wait(0.25)
    finally:
        store.close()
