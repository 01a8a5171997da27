"""What the Label Studio ML backend knows about each Label Studio project, and its training.

One :class:`LSProject` per Label Studio project holds the labelling
configuration, the pool (every task seen: through ``TASKS_CREATED`` webhooks,
``/predict`` requests and annotations), the annotations, and the latest
training round. A round fits an :class:`~activelab.ActiveLearner` on the
annotations and ranks the unannotated tasks with the strategy; it runs in a
background thread, so webhooks answer at once, and consecutive changes are
folded into one round.

The ranking is what Label Studio sees as a prediction's ``score``: ``1 -
rank / n`` over the ``n`` tasks the round ranked (``1.0`` for the task
activelab would ask first; ``0`` for annotated tasks, and for the unranked
tail of a strategy that chooses a set). The strategy's own score
(``priority``) and the model's uncertainty go with it.

Examples
--------
>>> from activelab.interop.label_studio import label_config, parse_label_config
>>> p = LSProject("1", parse_label_config(label_config("text", ["pos", "neg"])))
>>> p.add_tasks([{"id": i, "data": {"text": t}} for i, t in enumerate(
...     ["good fun", "bad dull", "good", "bad", "fun good film", "dull bad film"])])
6
>>> for ann, (task, lab) in enumerate([(0, "pos"), (1, "neg")]):
...     _ = p.annotate(task, ann, {"result": [{"type": "choices", "from_name": "label",
...                                  "value": {"choices": [lab]}}]})
>>> r = p.train()
>>> r.n_labels, r.cold_start, p.query(1) == [r.task_ids[int(np.argmax(r.scores))]]
(2, False, True)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from activelab.interop.images import load_image_ref
from activelab.interop.label_studio import LabelConfig, choices_of, parse_label_config
from activelab.interop.records import FormatError

__all__ = ["DEFAULT_STRATEGY", "LSProject", "RoundResult", "label_studio_id"]

#: strategies of a backend, by task: scoring strategies, so every task gets its own priority
DEFAULT_STRATEGY = {"classification": "margin", "multilabel": "mmc"}
#: tasks ranked by a strategy that chooses a set (the rest score 0)
SET_HEAD = 200
IMAGE_SIZE = 16
_HASH_FEATURES = 2**18


@dataclass
class RoundResult:
    """One training round: the model, and every pool task's guess and priority.

    Arrays are aligned with ``task_ids`` (the pool when the round began).
    """

    version: int
    task_ids: list[int]
    n_labels: int
    strategy: str
    cold_start: bool
    scores: np.ndarray  # 1 - rank / n_ranked; 0 for annotated and unranked tasks
    priority: np.ndarray  # the strategy's own score (NaN where it gives none)
    uncertainty: np.ndarray  # NaN without a model
    guesses: list[list[str]] | None  # None without a model
    seconds: float
    trained_at: float


class LSProject:
    """One Label Studio project: its pool, annotations and model.

    Parameters
    ----------
    key : str
        The Label Studio project id.
    config : LabelConfig
        Its classification control.
    strategy : str, optional
        The query strategy (default: margin, or mmc for multi-label).
    seed : int, default=0
        Seeds the learner.
    text_features : {"hashing", "minilm"}, default="hashing"
        Texts become hashed word and word-pair counts (no fitting, so tasks can
        arrive at any time), or the all-MiniLM-L6-v2 sentence embedding.
    fetch : callable, optional
        Fetches an image by URL (set from ``/setup``'s ``hostname`` and
        ``access_token``).
    """

    def __init__(
        self,
        key: str,
        config: LabelConfig,
        *,
        strategy: str | None = None,
        seed: int = 0,
        text_features: str = "hashing",
        fetch: Any = None,
    ) -> None:
        from activelab.strategies import get_strategy

        self.key = key
        self.config = config
        self.multilabel = config.multiple
        task = "multilabel" if self.multilabel else "classification"
        self.strategy = strategy or DEFAULT_STRATEGY[task]
        strat = get_strategy(self.strategy)
        if strat.task not in (task, "any"):
            raise FormatError(
                f"strategy {self.strategy!r} is for {strat.task} tasks, but this project's "
                f"<Choices> is {'multiple' if self.multilabel else 'single'}-choice."
            )
        self.seed = seed
        self.text_features = text_features
        self.fetch = fetch
        self.lock = threading.RLock()
        self._train_lock = threading.Lock()
        self._index: dict[int, int] = {}  # task id -> pool row
        self._rows: list[Any] = []  # feature blocks, stacked on demand
        self._X: Any = None
        self.annotations: dict[int, tuple[int, list[str] | None]] = {}  # ann id -> (task, labels)
        self.result: RoundResult | None = None
        #: the round whose version ``/setup`` last announced (``/predict`` serves it)
        self.announced: RoundResult | None = None
        self.changes = 0  # annotation changes since the last round
        self.pool_changes = 0  # tasks added since the last round
        self.training = False
        self.rounds = 0
        self.error: str | None = None
        #: the labelling config's XML, when known
        self.label_config: str | None = None
        #: called with each change (a JSON-ready dict) to keep a journal; see :meth:`replay`
        self.journal: Any = None

    # ------------------------------------------------------------------ the pool
    @property
    def n_tasks(self) -> int:
        """Tasks in the pool."""
        return len(self._index)

    def task_ids(self) -> list[int]:
        """Pool task ids in pool order."""
        return list(self._index)

    def add_tasks(self, tasks: list[dict[str, Any]]) -> int:
        """Add the tasks not in the pool yet (featurised now); returns how many were new."""
        new: dict[int, dict[str, Any]] = {}
        for i, task in enumerate(tasks):
            if (
                not isinstance(task, dict)
                or "id" not in task
                or not isinstance(task.get("data"), dict)
            ):
                raise FormatError(f"tasks[{i}] needs an 'id' and a 'data' object.")
            tid = label_studio_id(task["id"], f"tasks[{i}].id")
            if tid not in self._index and tid not in new:
                new[tid] = task["data"]
        if not new:
            return 0
        block = self._featurise(list(new.values()))
        with self.lock:  # another request may have added some of them meanwhile
            keep = [i for i, tid in enumerate(new) if tid not in self._index]
            if not keep:
                return 0
            ids = list(new)
            for i in keep:
                self._index[ids[i]] = len(self._index)
            self._rows.append(block[np.array(keep)] if len(keep) < len(ids) else block)
            self._X = None
            self.pool_changes += len(keep)
            self._log(
                {"event": "tasks", "tasks": [{"id": ids[i], "data": new[ids[i]]} for i in keep]}
            )
        return len(keep)

    def remove_tasks(self, task_ids: list[int]) -> int:
        """Drop tasks (deleted in Label Studio) and their annotations."""
        with self.lock:
            gone = [t for t in task_ids if t in self._index]
            if not gone:
                return 0
            keep_rows = np.array(sorted(set(self._index.values()) - {self._index[t] for t in gone}))
            X = self._pool()
            self._rows = [X[keep_rows]] if keep_rows.size else []
            dropped = set(gone)
            kept = [t for t in self._index if t not in dropped]
            self._index = {t: i for i, t in enumerate(kept)}
            self._X = None
            for ann, (task, _) in list(self.annotations.items()):
                if task in dropped:
                    del self.annotations[ann]
            self.pool_changes += len(gone)
            self._log({"event": "delete_tasks", "ids": gone})
            return len(gone)

    def _pool(self) -> Any:
        if self._X is None and self._rows:
            blocks = self._rows
            self._X = sp.vstack(blocks).tocsr() if sp.issparse(blocks[0]) else np.vstack(blocks)
            self._rows = [self._X]
        return self._X

    def _featurise(self, datas: list[dict[str, Any]]) -> Any:
        key = self.config.data_key
        for n, data in enumerate(datas):
            if key not in data:
                raise FormatError(
                    f"task data {sorted(data)} has no {key!r} field (the label config shows "
                    f"${key}); task {n + 1} of the request."
                )
        if self.config.kind == "image":
            return _pixels([d[key] for d in datas], self.fetch)
        texts = [str(d[key]) for d in datas]
        if self.text_features == "minilm":
            from activelab.data.features import TextEmbedder

            return np.asarray(TextEmbedder().fit_transform(texts), dtype=np.float64)
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(
            n_features=_HASH_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2"
        )
        return vec.transform(texts)

    # ------------------------------------------------------------- annotations
    def annotate(self, task_id: int, annotation_id: int, annotation: dict[str, Any]) -> bool:
        """Record (or replace) an annotation; a cancelled one or one without choices counts as
        none. Returns whether the task's labels changed."""
        if not isinstance(annotation, dict):
            raise FormatError("annotation must be an object.")
        labels = None
        if not annotation.get("was_cancelled"):
            labels = choices_of(
                annotation.get("result", []), self.config.from_name, "annotation.result"
            )
            if labels is not None:
                unknown = [lab for lab in labels if lab not in self.config.choices]
                if unknown:
                    raise FormatError(
                        f"annotation.result: choice(s) {unknown} are not in the label config "
                        f"{self.config.choices}."
                    )
                if not self.multilabel and len(labels) != 1:
                    labels = None  # a single-choice control answered with none: no label
        with self.lock:
            if task_id not in self._index:
                raise FormatError(f"task {task_id} is not known; send the task with it.")
            before = self.labels_of(task_id)
            self.annotations[int(annotation_id)] = (task_id, labels)
            changed = self.labels_of(task_id) != before
            self.changes += changed
            keep = {k: annotation[k] for k in ("result", "was_cancelled") if k in annotation}
            self._log({"event": "annotation", "task": task_id, "id": int(annotation_id), **keep})
        return changed

    def reconfigure(self, config: LabelConfig, label_config: str) -> None:
        """Take a new labelling config that shows the same field the same way (choices added,
        removed or renamed): tasks and annotations are kept; an annotation whose choices are
        not in the config any more is left out of training until they are again."""
        with self.lock:
            self.config = config
            self.label_config = label_config
            self.changes += 1
            self._log({"event": "config", "label_config": label_config})

    def _known(self, labels: list[str] | None) -> bool:
        return labels is not None and all(lab in self.config.choices for lab in labels)

    def delete_annotations(self, annotation_ids: list[int]) -> int:
        """Forget annotations; returns how many were known."""
        with self.lock:
            gone = [a for a in annotation_ids if self.annotations.pop(int(a), None) is not None]
            self.changes += len(gone)
            if gone:
                self._log({"event": "delete_annotations", "ids": gone})
            return len(gone)

    def _log(self, event: dict[str, Any]) -> None:
        if self.journal is not None:
            self.journal(event)

    def replay(self, events: list[dict[str, Any]]) -> None:
        """Apply journalled changes again (a restarted backend), without journalling them."""
        journal, self.journal = self.journal, None
        try:
            for ev in events:
                kind = ev.get("event")
                if kind == "tasks":
                    self.add_tasks(ev["tasks"])
                elif kind == "annotation":
                    self.annotate(ev["task"], ev["id"], ev)
                elif kind == "delete_annotations":
                    self.delete_annotations(ev["ids"])
                elif kind == "delete_tasks":
                    self.remove_tasks(ev["ids"])
                elif kind == "config":
                    self.reconfigure(parse_label_config(ev["label_config"]), ev["label_config"])
        finally:
            self.journal = journal

    def labels_of(self, task_id: int) -> list[str] | None:
        """The task's labels: those of its latest annotation that has some."""
        with self.lock:
            found = None
            for ann in sorted(self.annotations):
                task, labels = self.annotations[ann]
                if task == task_id and self._known(labels):
                    found = labels
            return found

    def labelled(self) -> dict[int, list[str]]:
        """Task id → labels, for every annotated task (latest annotation wins)."""
        with self.lock:
            out: dict[int, list[str]] = {}
            for ann in sorted(self.annotations):
                task, labels = self.annotations[ann]
                if self._known(labels):
                    out[task] = labels
            return out

    # --------------------------------------------------------------- training
    def stale(self) -> bool:
        """Whether annotations or tasks changed since the last round."""
        return self.result is None or bool(self.changes or self.pool_changes)

    def train(self) -> RoundResult:
        """Fit the model on the annotations and rank the pool (one round, now)."""
        from activelab.app.training import make_estimator
        from activelab.learner import ActiveLearner
        from activelab.strategies import ScoringStrategy, get_strategy

        with self._train_lock:
            t0 = time.perf_counter()
            with self.lock:
                X = self._pool()
                ids = self.task_ids()
                labelled = self.labelled()
                self.changes = self.pool_changes = 0
                self.training = True
            try:
                if X is None:
                    raise FormatError("the project has no tasks yet.")
                pos = {t: i for i, t in enumerate(ids)}
                idx = np.array([pos[t] for t in labelled], dtype=np.int64)
                names = list(self.config.choices)
                if self.multilabel:
                    y = np.zeros((idx.size, len(names)), dtype=np.int64)
                    for r, labels in enumerate(labelled.values()):
                        y[r, [names.index(lab) for lab in labels]] = 1
                else:
                    y = np.array([labels[0] for labels in labelled.values()], dtype=object)
                learner = ActiveLearner(
                    make_estimator(self.multilabel),
                    self.strategy,
                    classes=names,
                    random_state=self.seed,
                    **({"multilabel": True} if self.multilabel else {}),
                )
                import warnings

                from sklearn.exceptions import ConvergenceWarning

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    learner.fit(X, idx if idx.size else None, y if idx.size else None)
                    cold = learner.model_ is None
                    unl = learner.unlabelled_
                    strat = get_strategy(self.strategy)
                    n = len(ids)
                    scores = np.zeros(n)
                    priority = np.full(n, np.nan)
                    scoring = isinstance(strat, ScoringStrategy) or (
                        self.multilabel and callable(getattr(strat, "scores", None))
                    )
                    if not cold and scoring and unl.size:
                        raw = np.asarray(strat.scores(learner.context()), dtype=float)
                        order = np.lexsort((unl, -raw))  # score descending, then pool index
                        ranked = unl[order]
                        priority[unl] = raw
                    else:
                        k = min(unl.size, SET_HEAD)
                        ranked = learner.query(k) if k else np.empty(0, dtype=np.int64)
                    if ranked.size:
                        scores[ranked] = 1.0 - np.arange(ranked.size) / ranked.size
                    uncertainty = np.full(n, np.nan)
                    guesses = None
                    if not cold:
                        P = np.asarray(learner.predict_proba(X), dtype=float)
                        guesses = self._guesses(P, names, learner)
                        if self.multilabel:
                            uncertainty = 1.0 - np.abs(2.0 * P - 1.0).mean(axis=1)
                        else:
                            uncertainty = 1.0 - P.max(axis=1)
                used = learner.history_[-1].strategy if learner.history_ else self.strategy
                result = RoundResult(
                    self.rounds + 1,
                    ids,
                    int(idx.size),
                    self.strategy if (scoring and not cold) else used,
                    cold,
                    scores,
                    priority,
                    uncertainty,
                    guesses,
                    time.perf_counter() - t0,
                    time.time(),
                )
                with self.lock:
                    self.result = result
                    self.rounds += 1
                    self.error = None
                return result
            except Exception as exc:
                with self.lock:
                    self.error = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                with self.lock:
                    self.training = False

    def _guesses(self, P: np.ndarray, names: list[str], learner: Any) -> list[list[str]]:
        if self.multilabel:
            on = P > 0.5
            return [[names[j] for j in np.flatnonzero(row)] for row in on]
        classes = [str(c) for c in learner.classes_]
        return [[classes[j]] for j in P.argmax(axis=1)]

    def query(self, n: int = 1) -> list[int]:
        """The ``n`` unannotated task ids activelab would ask about first (latest round;
        tasks deleted since are passed over)."""
        result = self.result
        if result is None:
            return []
        labelled = self.labelled()
        order = np.lexsort((np.arange(len(result.task_ids)), -result.scores))
        out = []
        for i in order:  # stops after n: a walk down the ranking, not over the pool
            tid = result.task_ids[i]
            if result.scores[i] > 0 and tid not in labelled and tid in self._index:
                out.append(tid)
                if len(out) == n:
                    break
        return out

    def status(self) -> dict[str, Any]:
        """What the project holds and how its model stands (JSON)."""
        r = self.result
        with self.lock:
            return {
                "project": self.key,
                "kind": self.config.kind,
                "multilabel": self.multilabel,
                "labels": list(self.config.choices),
                "strategy": self.strategy,
                "tasks": self.n_tasks,
                "annotated": len(self.labelled()),
                "model_version": self.model_version,
                "trained_on": r.n_labels if r else 0,
                "cold_start": r.cold_start if r else True,
                "rounds": self.rounds,
                "training": self.training,
                "stale": self.stale(),
                "error": self.error,
            }

    @property
    def model_version(self) -> str:
        """The version Label Studio sees: ``activelab-v<round>``."""
        return f"activelab-v{self.rounds}"


def _pixels(refs: list[Any], fetch: Any) -> np.ndarray:
    import io

    from PIL import Image, UnidentifiedImageError

    from activelab.app.ingest import grey_levels

    X = np.empty((len(refs), IMAGE_SIZE * IMAGE_SIZE), dtype=np.float64)
    for i, ref in enumerate(refs):  # one decode per image
        if not isinstance(ref, str):
            raise FormatError(f"image reference must be a string, got {ref!r}.")
        try:
            data, _ = load_image_ref(ref, fetch=fetch)
            with Image.open(io.BytesIO(data)) as im:  # as Label Studio shows it (the
                X[i] = grey_levels(im, IMAGE_SIZE)  # journal is read again on a restart)
        except (ValueError, OSError, UnidentifiedImageError) as exc:
            raise FormatError(f"image {ref[:80]!r}: cannot be read ({exc}).") from exc
    return X


def label_studio_id(value: Any, where: str) -> int:
    """A Label Studio id (of a task or an annotation) as an integer.

    An integer, a whole number written as a float (``3.0``) or digits in a string
    (``"3"``) are ids; anything else, ``true``, ``1.5`` or ``Infinity`` included, is
    refused naming ``where``, rather than read as another task's id.

    Raises
    ------
    FormatError
        ``value`` is not an integer id.

    Examples
    --------
    >>> label_studio_id(7, "tasks[0].id"), label_studio_id("8", "x"), label_studio_id(9.0, "x")
    (7, 8, 9)
    >>> label_studio_id(1.5, "tasks[0].id")
    Traceback (most recent call last):
    ...
    activelab.interop.records.FormatError: tasks[0].id must be an integer, got 1.5.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise FormatError(f"{where} must be an integer, got {value!r}.")
