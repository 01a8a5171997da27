"""A Label Studio ML backend served by activelab (FastAPI; install the ``[app]`` extra).

Label Studio talks to an ML backend over HTTP:

============================  ====================================================================
route                         what it does here
============================  ====================================================================
``GET /health``               ``{"status": "UP", ...}``
``POST /setup``               reads the project's labelling config; answers the model version
``POST /predict``             for each task: the model's guess (a ``choices`` region), ``score`` =
                              activelab's priority (sort by it to label in active-learning order),
                              ``uncertainty`` and ``priority`` (the strategy's own score)
``POST /webhook``             ``ANNOTATION_CREATED``/``UPDATED``, ``ANNOTATIONS_DELETED``,
                              ``TASKS_CREATED``/``DELETED``: taught at once, the model retrains in
                              the background; ``START_TRAINING``: retrain now
``POST /train``               older Label Studio versions' training call (all annotated tasks)
``GET /projects/{id}``        activelab's view of a project (tasks, labels, model version)
``GET /projects/{id}/query``  the task ids activelab would ask about next
============================  ====================================================================

Every route takes HTTP basic auth when the backend is started with a user and
password. A payload the backend cannot read is answered with a 4xx status and
a ``detail`` that names the field; the server never crashes on it.

Examples
--------
>>> from fastapi.testclient import TestClient
>>> from activelab.interop.label_studio import label_config
>>> client = TestClient(create_app(Backend()))
>>> client.get("/health").json()["status"]
'UP'
>>> client.post("/setup", json={"project": "3.1700000000",
...     "schema": label_config("text", ["pos", "neg"])}).json()
{'model_version': 'activelab-v0'}
>>> r = client.post("/webhook", json={"action": "ANNOTATION_EXPLODED", "project": {"id": 3}})
>>> r.status_code, r.json()["detail"][:34]
(422, "unknown action 'ANNOTATION_EXPLODE")
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from activelab.interop.label_studio import choices_result, parse_label_config
from activelab.interop.ls_state import DEFAULT_STRATEGY, LSProject, label_studio_id
from activelab.interop.records import FormatError

__all__ = ["IGNORED_ACTIONS", "Backend", "create_app"]

log = logging.getLogger("activelab.ls_backend")

#: Label Studio webhook actions the backend acknowledges without acting on them
IGNORED_ACTIONS = frozenset(
    {"PROJECT_CREATED", "PROJECT_UPDATED", "PROJECT_DELETED", "LABEL_LINK_CREATED",
     "LABEL_LINK_UPDATED", "LABEL_LINK_DELETED"}
)  # fmt: skip
_ACTIONS = (
    "ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED",
    "ANNOTATIONS_DELETED", "TASKS_CREATED", "TASKS_DELETED", "START_TRAINING",
)  # fmt: skip


_SECURITY = HTTPBasic(auto_error=False)


#: what a project key (the id before the first '.') may hold
_PROJECT_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadPayloadError(ValueError):
    """A request the backend cannot act on; the message names the field."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class Backend:
    """The projects a backend serves, and their background training.

    Parameters
    ----------
    strategy : str, optional
        Query strategy of every project (default: margin, mmc for multi-label).
    retrain_every : int, default=1
        Retrain after this many annotation changes (changes that arrive while a
        round runs are folded into the next one).
    text_features : {"hashing", "minilm"}, default="hashing"
        How texts become features (see :class:`~activelab.interop.ls_state.LSProject`).
    seed : int, default=0
        Seeds every learner.
    state_dir : str or Path, optional
        Keep a journal per project (``project-<id>.jsonl``: the labelling
        config, tasks, annotations, deletions) and replay it on start, so a
        restarted backend knows every earlier annotation. Default: memory only.
    """

    def __init__(
        self,
        *,
        strategy: str | None = None,
        retrain_every: int = 1,
        text_features: str = "hashing",
        seed: int = 0,
        state_dir: str | Path | None = None,
    ) -> None:
        if retrain_every < 1:
            raise ValueError(f"retrain_every must be >= 1, got {retrain_every}.")
        from activelab.strategies import get_strategy

        # unknown names fail here, not on the first request; and the strategies (seconds to
        # import on a busy machine) load now, not on the first /setup, which Label Studio
        # gives 3 s (ML_TIMEOUT_SETUP) before it calls the model unreachable
        for name in [strategy] if strategy is not None else DEFAULT_STRATEGY.values():
            get_strategy(name)
        self.strategy = strategy
        self.retrain_every = retrain_every
        self.text_features = text_features
        self.seed = seed
        self.projects: dict[str, LSProject] = {}
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self.state_dir = None if state_dir is None else Path(state_dir)
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._restore()

    # ----------------------------------------------------------------- journal
    def _journal_path(self, key: str) -> Path:
        assert self.state_dir is not None
        return self.state_dir / f"project-{key}.jsonl"

    def _journal(self, key: str, fresh: bool = False) -> Any:
        """A function appending one change to the project's journal (one JSON line)."""
        path = self._journal_path(key)
        lock = threading.Lock()
        if fresh:
            path.write_text("")

        def write(event: dict[str, Any]) -> None:
            with lock, path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(event) + "\n")

        return write

    def _restore(self) -> None:
        assert self.state_dir is not None
        for path in sorted(self.state_dir.glob("project-*.jsonl")):
            key = path.stem.removeprefix("project-")
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            try:
                events = [json.loads(ln) for ln in lines]
                config = events[0]["label_config"]
            except (ValueError, KeyError, IndexError) as exc:
                raise FormatError(
                    f"{path}: not a backend journal ({exc}); move it away to start afresh."
                ) from exc
            proj = self._new_project(key, config)
            proj.replay(events[1:])
            proj.journal = self._journal(key)
            self.projects[key] = proj
            self.schedule(proj, force=True)
            log.info("project %s: restored %d tasks from %s", key, proj.n_tasks, path)

    def _new_project(self, key: str, label_config: str) -> LSProject:
        proj = LSProject(
            key,
            parse_label_config(label_config),
            strategy=self.strategy,
            seed=self.seed,
            text_features=self.text_features,
        )
        proj.label_config = label_config
        return proj

    # ---------------------------------------------------------------- projects
    def project(self, ref: Any, label_config: Any = None, *, access: Any = None) -> LSProject:
        """The project ``ref`` names (``"12.1700000000"``, ``12`` or ``{"id": 12, ...}``),
        created from its labelling config on first sight."""
        if isinstance(ref, dict):
            label_config = label_config or ref.get("label_config")
            ref = ref.get("id")
        if ref is None or isinstance(ref, bool) or str(ref).strip() == "":
            raise BadPayloadError("field 'project' is missing: send the Label Studio project id.")
        key = str(ref).strip().split(".")[0]
        if not isinstance(ref, str | int) or not _PROJECT_KEY.fullmatch(key):
            # the key names the project's journal file: letters, digits, '_' and '-' only
            raise BadPayloadError(
                f"field 'project' must be a Label Studio project id (12, or \"12.1700000000\"), "
                f"got {ref!r}."
            )
        reconfigured = False
        with self._lock:
            proj = self.projects.get(key)
            if proj is not None and label_config and isinstance(label_config, str):
                config = parse_label_config(label_config)
                if config != proj.config and _same_items(config, proj.config):
                    proj.reconfigure(config, label_config)  # choices changed: keep the work
                    reconfigured = True
                elif config != proj.config:  # other items or answers: start afresh
                    proj = None
            if proj is None:
                if not label_config:
                    raise BadPayloadError(
                        f"project {key} is not set up here: send its label_config (or call "
                        "/setup with its schema) first.",
                        404,
                    )
                if not isinstance(label_config, str):
                    raise BadPayloadError("field 'label_config' must be the labelling config XML.")
                proj = self._new_project(key, label_config)
                if self.state_dir is not None:
                    proj.journal = self._journal(key, fresh=True)
                    proj.journal({"event": "config", "label_config": label_config})
                self.projects[key] = proj
            if access is not None:
                proj.fetch = access
        if reconfigured:
            self.schedule(proj)
        return proj

    # --------------------------------------------------------------- training
    def schedule(self, proj: LSProject, *, force: bool = False) -> bool:
        """Start a background round when due; returns whether one runs now."""
        due = force or proj.changes >= self.retrain_every or proj.pool_changes > 0
        if not due:
            return False
        with proj.lock:
            if proj.n_tasks == 0:  # nothing to rank (none yet, or every task deleted)
                proj.changes = proj.pool_changes = 0
                return False
        with self._lock:
            thread = self._threads.get(proj.key)
            if thread is not None and thread.is_alive():
                return True  # the running loop picks up the new changes
            thread = threading.Thread(
                target=self._loop, args=(proj, force), name=f"ls-train-{proj.key}", daemon=True
            )
            self._threads[proj.key] = thread
            thread.start()
        return True

    def _loop(self, proj: LSProject, force: bool) -> None:
        while force or proj.changes >= self.retrain_every or proj.pool_changes > 0:
            force = False
            try:
                r = proj.train()
                log.info("project %s: %s on %d labels", proj.key, proj.model_version, r.n_labels)
            except Exception:  # keep serving; the error is shown by /projects/{id}
                log.exception("project %s: training failed", proj.key)
                return

    def wait(self, key: str, timeout: float = 60.0) -> None:
        """Wait for the project's background training to finish (tests, shutdown)."""
        thread = self._threads.get(str(key))
        if thread is not None:
            thread.join(timeout)

    def fresh(self, proj: LSProject) -> None:
        """Make sure the latest round covers every task in the pool (trains now if not)."""
        if proj.result is None or proj.pool_changes:
            proj.train()

    def round_for(self, proj: LSProject, task_ids: list[int]) -> Any:
        """The round whose predictions to serve: the one ``/setup`` last announced, if it
        covers the tasks, else the latest (trained now when the tasks are new).

        Label Studio asks ``/setup`` for the model version just before it asks for
        predictions, records that version, and shows only predictions made under
        it (the data manager's prediction score filters on it). Serving the
        announced round keeps the two equal while the model retrains in between.
        """
        announced = proj.announced
        if announced is not None:
            known = set(announced.task_ids)
            if all(t in known for t in task_ids):
                return announced
        self.fresh(proj)
        return proj.result

    # --------------------------------------------------------------- requests
    def predict(self, body: dict[str, Any]) -> dict[str, Any]:
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise BadPayloadError("field 'tasks' must be a list of tasks.")
        proj = self.project(body.get("project"), body.get("label_config"))
        if not tasks:
            return {"results": [], "model_version": proj.model_version}
        proj.add_tasks(tasks)  # checks every task's id
        ids = [label_studio_id(t["id"], "tasks[].id") for t in tasks]
        result = self.round_for(proj, ids)
        version = f"activelab-v{result.version}"
        pos = {t: i for i, t in enumerate(result.task_ids)}
        labelled = proj.labelled()
        cfg = proj.config
        out = []
        for tid in ids:
            i = pos.get(tid)
            if i is None:  # arrived during the round: rank it next time
                out.append({"result": [], "score": 0.0, "model_version": version})
                continue
            guess = result.guesses[i] if result.guesses is not None else None
            score = 0.0 if tid in labelled else float(result.scores[i])
            unc = result.uncertainty[i]
            pri = result.priority[i]
            out.append(
                {
                    "result": []
                    if guess is None
                    else choices_result(guess, cfg.from_name, cfg.to_name, score=1.0 - float(unc)),
                    "score": score,
                    "model_version": version,
                    "uncertainty": None if unc != unc else float(unc),
                    "priority": None if pri != pri or tid in labelled else float(pri),
                }
            )
        return {"results": out, "model_version": version}

    def webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        action = body.get("action")
        if not isinstance(action, str):
            raise BadPayloadError(
                "field 'action' is missing: a Label Studio webhook names its action."
            )
        if action in IGNORED_ACTIONS:
            return {"status": "ignored", "action": action}
        if action not in _ACTIONS:
            raise BadPayloadError(
                f"unknown action {action!r}; this backend acts on {', '.join(_ACTIONS)} "
                f"and ignores {', '.join(sorted(IGNORED_ACTIONS))}."
            )
        proj = self.project(body.get("project"))
        if action in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"):
            anns = _as_list(body.get("annotation"), "annotation")
            tasks = _as_list(body.get("task"), "task")
            if len(tasks) == 1 and len(anns) > 1:
                tasks = tasks * len(anns)
            if len(tasks) != len(anns):
                raise BadPayloadError("fields 'annotation' and 'task' must pair up one to one.")
            ann_ids = [_annotation_id(ann, "annotation") for ann in anns]  # before any change
            proj.add_tasks(tasks)
            changed = 0
            for ann, task, ann_id in zip(anns, tasks, ann_ids, strict=True):
                changed += proj.annotate(label_studio_id(task["id"], "task.id"), ann_id, ann)
            training = self.schedule(proj)
            return {"status": "ok", "changed": changed, "training": training}
        if action in ("ANNOTATION_DELETED", "ANNOTATIONS_DELETED"):
            anns = _as_list(body.get("annotations", body.get("annotation")), "annotations")
            ids = [a.get("id") if isinstance(a, dict) else a for a in anns]
            if not all(isinstance(i, int) for i in ids):
                raise BadPayloadError("field 'annotations' must list annotation ids ({'id': N}).")
            gone = proj.delete_annotations(ids)
            return {"status": "ok", "deleted": gone, "training": self.schedule(proj)}
        if action == "TASKS_CREATED":
            new = proj.add_tasks(_as_list(body.get("tasks"), "tasks"))
            return {"status": "ok", "new_tasks": new, "training": self.schedule(proj)}
        if action == "TASKS_DELETED":
            tasks = _as_list(body.get("tasks"), "tasks")
            ids = [t.get("id") if isinstance(t, dict) else t for t in tasks]
            if not all(isinstance(i, int) for i in ids):
                raise BadPayloadError("field 'tasks' must list task ids ({'id': N}).")
            gone = proj.remove_tasks(ids)
            return {"status": "ok", "deleted": gone, "training": self.schedule(proj)}
        # START_TRAINING
        return {"status": "training", "training": self.schedule(proj, force=True)}

    def train_request(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /train``: every annotated task at once (older Label Studio versions)."""
        tasks = body.get("annotations")
        if not isinstance(tasks, list):
            raise BadPayloadError("field 'annotations' must be a list of annotated tasks.")
        proj = self.project(body.get("project"), body.get("label_config"))
        answers = []  # every id checked before any change
        for i, task in enumerate(tasks):
            if not isinstance(task, dict) or "id" not in task:
                continue  # add_tasks names what is missing
            tid = label_studio_id(task["id"], f"annotations[{i}].id")
            for j, ann in enumerate(_as_list(task.get("annotations", []), "annotations")):
                if not isinstance(ann, dict) or "id" in ann:
                    answers.append(
                        (tid, _annotation_id(ann, f"annotations[{i}].annotations[{j}]"), ann)
                    )
        proj.add_tasks(tasks)
        for tid, ann_id, ann in answers:
            proj.annotate(tid, ann_id, ann)
        self.schedule(proj, force=True)
        return {"job": f"{proj.key}-{proj.rounds + 1}"}


def _same_items(new: Any, old: Any) -> bool:
    """Whether two labelling configs show the same task field the same way, with the same
    kind of answer (single or multiple choice): only their choices or names differ, and the
    tasks' features and annotations still hold."""
    return (new.kind, new.data_key, new.multiple) == (old.kind, old.data_key, old.multiple)


def _annotation_id(ann: Any, where: str) -> int:
    """The id of an annotation object; 422 naming ``where`` when it has none or is no object."""
    if not isinstance(ann, dict):
        raise BadPayloadError(f"field {where!r} must be an annotation object, got {ann!r}.")
    if "id" not in ann:
        raise BadPayloadError(f"field '{where}.id' is missing.")
    return label_studio_id(ann["id"], f"{where}.id")


def _as_list(value: Any, name: str) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(v, dict | int) for v in value):
        return value
    raise BadPayloadError(f"field {name!r} is missing or not an object (or list of objects).")


def create_app(
    backend: Backend | None = None, *, basic_auth: tuple[str, str] | None = None
) -> FastAPI:
    """The FastAPI application serving ``backend`` (basic auth when ``(user, password)``)."""
    backend = backend or Backend()

    def check(credentials: Annotated[HTTPBasicCredentials | None, Depends(_SECURITY)]) -> None:
        if basic_auth is None:
            return
        ok = credentials is not None and (
            secrets.compare_digest(credentials.username.encode(), basic_auth[0].encode())
            & secrets.compare_digest(credentials.password.encode(), basic_auth[1].encode())
        )
        if not ok:
            raise HTTPException(
                401,
                "basic auth required: set the user and password in Label Studio's model settings",
                headers={"WWW-Authenticate": "Basic"},
            )

    app = FastAPI(
        title="activelab: Label Studio ML backend",
        description="Predictions scored by activelab's query strategy; annotations retrain "
        "the model in the background.",
        dependencies=[Depends(check)],
    )
    app.state.backend = backend

    @app.exception_handler(BadPayloadError)
    async def _bad(_: Request, exc: BadPayloadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(FormatError)
    async def _format(_: Request, exc: FormatError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as exc:
            raise BadPayloadError(f"the request body is not JSON ({exc}).", 400) from exc
        if not isinstance(body, dict):
            raise BadPayloadError("the request body must be a JSON object.", 400)
        return body

    @app.get("/health")
    @app.get("/")
    def health() -> dict[str, Any]:
        return {"status": "UP", "model_class": "activelab", "projects": len(backend.projects)}

    @app.post("/setup")
    async def setup(request: Request) -> dict[str, Any]:
        body = await body_of(request)
        schema = body.get("schema")
        if not isinstance(schema, str) or not schema.strip():
            raise BadPayloadError("field 'schema' must be the project's labelling config (XML).")
        fetch = _fetcher(body.get("hostname"), body.get("access_token"))
        proj = backend.project(body.get("project"), schema, access=fetch)
        proj.announced = proj.result  # /predict serves this round until the next /setup
        return {"model_version": proj.model_version}

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        body = await body_of(request)
        return await run_in_threadpool(backend.predict, body)

    @app.post("/webhook", status_code=201)
    async def webhook(request: Request) -> dict[str, Any]:
        body = await body_of(request)
        return await run_in_threadpool(backend.webhook, body)

    @app.post("/train", status_code=201)
    async def train(request: Request) -> dict[str, Any]:
        body = await body_of(request)
        return await run_in_threadpool(backend.train_request, body)

    @app.get("/projects/{key}")
    def project_status(key: str) -> dict[str, Any]:
        return backend.project(key).status()

    @app.get("/projects/{key}/query")
    def query(key: str, n: int = 1) -> dict[str, Any]:
        if n < 1:
            raise BadPayloadError(f"n must be >= 1, got {n}.")
        proj = backend.project(key)
        return {"task_ids": proj.query(n), "model_version": proj.model_version}

    return app


def _fetcher(hostname: Any, token: Any) -> Any:
    """Fetches Label Studio's images (``/data/upload/...``) with the project owner's token."""
    if not isinstance(hostname, str) or not hostname:
        return None

    def fetch(url: str) -> bytes:
        import urllib.request

        full = url if url.startswith(("http://", "https://")) else hostname.rstrip("/") + url
        req = urllib.request.Request(full)
        if token and full.startswith(hostname):
            req.add_header("Authorization", f"Token {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()

    return fetch
