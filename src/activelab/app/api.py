"""The JSON API and the labelling page (FastAPI).

Every ``/api`` route needs ``Authorization: Bearer <token>`` (a token made by
``activelab annotator add``); a missing, unknown or revoked token gets 401.
Request bodies over :data:`MAX_BODY` bytes get 413, bodies that are not
strictly typed 422, and an answer or skip for an item not leased to the
annotator, answered already, or with a request id used for another request,
409. The routes are thin: each calls the shared
:class:`~activelab.app.service.LabellingService`. ``/healthz`` reports the
store, the trainer and the model version without a token. ``/docs`` is Swagger
UI served from local files, ``/openapi.json`` the schema.

``GET /api/quality`` and the page ``/owner`` are the project owner's: agreement,
each annotator's estimated accuracy and the review queue
(:func:`activelab.app.owner.owner_report`). An annotator's token gets 403
there; an owner's token (``activelab annotator add NAME --owner``) gets them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from activelab.app.ingest import shown_fields
from activelab.app.service import (
    ItemView,
    LabellingService,
    UnknownItemError,
    UnknownLabelError,
)
from activelab.app.store import Annotator, Event, StoreError, decode_label_set

__all__ = ["MAX_BODY", "create_app"]

#: the largest request body accepted, in bytes
MAX_BODY = 64 * 1024
_STATIC = Path(__file__).parent / "static"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: /docs: Swagger UI sets inline styles and draws icons from data: URLs; scripts stay 'self'
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


#: half of a UTF-16 surrogate pair: valid in JSON's \\u escapes, not as text to store
_SURROGATE = re.compile("[\ud800-\udfff]")


class _AsciiJSON(JSONResponse):
    """An error's JSON written with ASCII escapes: whatever a refused request held (even a
    lone surrogate) can be echoed back without failing to encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")


def _swagger_assets() -> Path | None:
    """The folder of Swagger UI's files shipped by the ``swagger-ui-py`` package (found
    without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


# ------------------------------------------------------------------ models
class ItemOut(BaseModel):
    """An item to label, always data: text, table fields as strings, or an image URL."""

    id: int
    external_id: str
    kind: str = Field(description="text, table or image")
    text: str | None = None
    fields: dict[str, str] | None = None
    image_url: str | None = Field(None, description="GET it with the same bearer token")
    guess: str | None = Field(
        None, description="the current model's prediction (single-label projects)"
    )
    confidence: float | None = None
    guess_labels: list[str] | None = Field(
        None,
        description="multi-label projects: the labels the current model gives P > 0.5 "
        "(possibly none)",
    )
    probabilities: dict[str, float] | None = Field(
        None,
        description="label -> probability: of the class (single-label; they sum to 1) or "
        "P(label applies) (multi-label; each on its own)",
    )
    strategy: str | None = Field(None, description="the strategy that ranked the queue")
    score: float | None = None
    model_version: int | None = None


class NextOut(BaseModel):
    """The next item, or ``done`` when nothing is left for this annotator."""

    item: ItemOut | None
    done: bool


class _StrictIn(BaseModel):
    """A request body: strict types (``true`` or ``"46"`` is no item id), no unknown keys,
    and text that is Unicode (a lone surrogate such as ``"\\ud800"``, half of an emoji
    cut in two, cannot be stored)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _unicode_text(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                texts = value if isinstance(value, list) else [value]
                if any(isinstance(t, str) and _SURROGATE.search(t) for t in texts):
                    raise ValueError(
                        f"{key} holds a lone surrogate (half of a character such as an emoji, "
                        "cut in two); send whole characters."
                    )
        return data


class AnswerIn(_StrictIn):
    """An answer: ``label`` in a single-label project, ``labels`` in a multi-label one."""

    item_id: StrictInt = Field(ge=0, description="the id of the item leased to you")
    label: StrictStr | None = Field(
        None, max_length=256, description="single-label projects: one of the project's labels"
    )
    labels: list[StrictStr] | None = Field(
        None,
        max_length=50,
        description="multi-label projects: the item's labels, each once; [] means none of them",
    )
    request_id: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="unique per answer and annotator: a retried request (same id, same body) "
        "is stored once; the same id with a different body gets 409",
    )

    @model_validator(mode="after")
    def _one_of(self) -> AnswerIn:
        if (self.label is None) == (self.labels is None):
            raise ValueError(
                "Send exactly one of label (single-label projects) or labels (multi-label)."
            )
        return self


class SkipIn(_StrictIn):
    item_id: StrictInt = Field(ge=0, description="the id of the item leased to you")
    request_id: StrictStr | None = Field(None, min_length=1, max_length=128)


class UndoIn(_StrictIn):
    request_id: StrictStr | None = Field(None, min_length=1, max_length=128)


class ReleaseIn(_StrictIn):
    item_id: StrictInt = Field(ge=0)


class ReleaseHeldIn(_StrictIn):
    """No keys: every item held is given back (a body may be left out)."""


class ReleasedOut(BaseModel):
    released: list[int] = Field(
        description="the ids of the items given back, in increasing order ([]: none was held)"
    )


class EventOut(BaseModel):
    id: int
    item_id: int
    kind: str
    label: str | None = Field(description="the label (single-label projects)")
    labels: list[str] | None = Field(
        None, description="the labels of a multi-label answer ([] = none of them)"
    )
    undoes: int | None
    request_id: str | None
    created_at: float


class UndoOut(BaseModel):
    event: EventOut
    item: ItemOut
    undone: EventOut = Field(
        description="the answer or skip taken back (a page may pre-select its labels)"
    )


class ProgressOut(BaseModel):
    n_items: int
    labelled: int
    remaining: int = Field(description="items still to be answered (the queue)")
    mine: int = Field(description="labels by this annotator")
    model_version: int | None
    model_labels: int = Field(description="labels the current model was trained on")
    strategy: str | None
    accuracy: float | None = Field(
        description="cross-validated quality on the labels: accuracy, or micro-F1 for a "
        "multi-label project (see quality_metric)"
    )
    accuracy_low: float | None
    accuracy_high: float | None
    accuracy_note: str | None
    still_pays: bool | None = Field(description="do new labels still change the model?")
    still_pays_reason: str | None
    training: bool
    last_trained_at: float | None
    quality_metric: str = Field(description='what accuracy measures: "accuracy" or "micro-F1"')
    stopping: dict[str, Any] | None = Field(
        default=None,
        description="stopping criteria: stabilizing_predictions and confidence, each with fired "
        "(null: cannot tell yet), since (labels at which it started to fire), and its statistic; "
        "with a rare class, rare_class: its label, found (labelled items of it), labels and "
        "recall (the model's cross-validated recall of it)",
    )
    stopping_text: str | None = Field(default=None, description="the stopping read-out as text")
    trainer: str | None = Field(
        default=None,
        description="the background trainer: idle, training, starting, restarting or stopped "
        "(null: none runs in this server)",
    )
    trainer_error: str | None = Field(
        default=None, description="the trainer's last error (a failed round, or its death)"
    )
    model_ready: bool = Field(
        default=False,
        description="a model exists; false while the labels cannot train one yet (the "
        "version is then a cold-start ranking of the queue)",
    )
    class_counts: dict[str, int] | None = Field(default=None, description="labels per class")
    class_recall: dict[str, float | None] | None = Field(
        default=None, description="cross-validated recall of each class on the labels"
    )
    balanced_accuracy: float | None = Field(
        default=None, description="cross-validated mean recall over the classes"
    )


class HealthOut(BaseModel):
    """What ``/healthz`` reports; ``ok`` is false (and the status 503) when the store fails."""

    ok: bool
    store: str = Field(description='"ok", or the error reading the store')
    trainer: dict[str, Any] | None = Field(
        description="state, pid, restarts, last_error, heartbeat_age (null: no trainer here)"
    )
    model_version: int | None
    labelled: int | None


class ProjectOut(BaseModel):
    name: str
    kind: str
    task: str = Field(description='"classification" (one label per item) or "multilabel"')
    labels: list[str]
    strategy: str
    overlap: int
    retrain_every: int
    retrain_seconds: float
    annotator: str
    owner: bool = Field(False, description="this token is the project owner's (see /owner)")


class MeOut(BaseModel):
    id: int
    name: str
    owner: bool = False


class KappaOut(BaseModel):
    annotators: list[str]
    kappa: float


class AnnotatorQualityOut(BaseModel):
    name: str
    answers: int
    skips: int = Field(description="items this annotator skipped (not undone)")
    shared_items: int = Field(description="items this annotator answered that have several answers")
    estimated_accuracy: float | None = Field(
        description="Dawid–Skene estimate, without gold labels (null: no shared items yet, "
        "or an adjudicator, whose decisions are the reference)"
    )
    gold_answers: int = Field(description="answers on gold items")
    gold_accuracy: float | None = Field(description="share of gold items answered right")
    agreement_with_aggregate: float | None = Field(
        description="share of the answers that agree with the aggregate (null: only skips)"
    )
    median_seconds: float | None


class LabelQualityOut(BaseModel):
    label: str
    items: int = Field(description="items carrying the label in the aggregate")
    percent_agreement: float | None
    krippendorff_alpha: float | None


class ReviewItemOut(BaseModel):
    item: int
    id: str = Field(description="the item's id in the data")
    label: str = Field(description="the aggregated label")
    confidence: float
    answers: list[dict[str, str]]


class ShortOfAnnotatorsOut(BaseModel):
    items: int = Field(description="items that can never get all the answers they ask for")
    answers: int = Field(description="the most answers one of them asks for")
    overlap: int
    active_annotators: int = Field(description="annotators not revoked")
    text: str = Field(description="the same as one line, with what to do")


class QualityOut(BaseModel):
    """The owner's view of label quality (what ``activelab status --json`` shows under
    ``quality``), with the first disputed items."""

    task: str
    answers: int
    items_answered: int
    items_with_several_answers: int
    aggregate: str
    percent_agreement: float | None
    krippendorff_alpha: float | None
    kappa: list[KappaOut]
    class_shares: dict[str, dict[str, float | None]] | None = Field(
        None,
        description="single-label projects: each class's share of the raw answers "
        "('answers') and of the aggregated labels ('aggregate')",
    )
    disputed: int = Field(
        description="items in the review queue (activelab review): answers that disagree, or "
        "several answers and an aggregate less sure than 0.9"
    )
    doubtful: int = Field(
        0,
        description="items whose one answer leaves the aggregate less sure than 0.9: not in "
        "the review queue, a second answer settles them (activelab review --doubtful)",
    )
    gold_items: int
    annotators: list[AnnotatorQualityOut]
    per_label: list[LabelQualityOut] | None = Field(
        None, description="multi-label projects: agreement label by label"
    )
    review: list[ReviewItemOut] = Field(description="the disputed items, least sure first")
    short_of_annotators: ShortOfAnnotatorsOut | None = Field(
        None,
        description="items asking for more answers (overlap, double share, second opinions) "
        "than the active annotators can give, which stay in the queue for good; null if none",
    )


# ------------------------------------------------------------- middleware
class _BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413 (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = self.limit + 1
                if size > self.limit:
                    await self._too_large(send)
                    return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(
                        status_code=413,
                        detail=f"Request body too large: at most {self.limit} bytes.",
                    )
            return message

        await self.app(scope, limited, send)

    async def _too_large(self, send: Any) -> None:
        body = b'{"detail":"Request body too large: at most %d bytes."}' % self.limit
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------ helpers
def _item_out(view: ItemView) -> ItemOut:
    content = view.content
    text = content.get("text") if view.kind == "text" else None
    fields = shown_fields(view.kind, content) or None
    return ItemOut(
        id=view.id,
        external_id=view.external_id,
        kind=view.kind,
        text=text,
        fields=fields,
        image_url=f"/api/items/{view.id}/image" if view.kind == "image" else None,
        guess=view.guess,
        confidence=view.confidence,
        guess_labels=view.guess_labels,
        probabilities=view.probabilities,
        strategy=view.strategy,
        score=view.score,
        model_version=view.model_version,
    )


def _event_out(ev: Event, multilabel: bool = False) -> EventOut:
    multi = multilabel and ev.kind == "label"
    return EventOut(
        id=ev.id,
        item_id=ev.item_id,
        kind=ev.kind,
        label=None if multi else ev.label,
        labels=decode_label_set(ev.label) if multi else None,
        undoes=ev.undoes,
        request_id=ev.request_id,
        created_at=ev.created_at,
    )


# --------------------------------------------------------------------- app
_log = logging.getLogger(__name__)


def _database_trouble(request: Request, exc: OperationalError) -> str:
    """The one-line answer to a request the database could not serve (unreachable,
    restarting, or busy past its timeout); logged on the server as one line too."""
    reason = str(exc.orig if exc.orig is not None else exc).strip()
    reason = reason.splitlines()[0] if reason else type(exc.orig or exc).__name__
    _log.warning("%s %s: the database failed: %s", request.method, request.url.path, reason)
    return (
        f"The project's database could not serve this request ({reason}). Nothing is lost: "
        "try again in a moment; an answer sent again with the same request_id is stored once."
    )


def create_app(
    service: LabellingService, *, run_trainer: bool = True, name: str | None = None
) -> FastAPI:
    """The FastAPI application over a labelling service.

    Parameters
    ----------
    service : LabellingService
        The shared labelling loop.
    run_trainer : bool, default=True
        Start the background trainer with the app (and stop it on shutdown).
    name : str, optional
        The project's name on the pages; default the store's
        (:meth:`~activelab.app.store.Store.project_name`).
    """
    # a store made without a name or kind (Store.create) is named after its database, and
    # its kind is its items'
    title = name or service.store.project_name()
    kind = service.store.project_kind() or ""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        if run_trainer:
            service.start()
        try:
            yield
        finally:
            if run_trainer:
                service.stop()

    app = FastAPI(
        docs_url=None,  # served below from local files: the page's CSP blocks a CDN
        redoc_url=None,
        title="activelab labelling API",
        version="1",
        description=(
            "Drive the active-learning loop of one project: get the item the model most "
            "needs, answer, skip or undo, and follow progress. Every /api route needs "
            "`Authorization: Bearer <token>` (made by `activelab annotator add NAME`)."
        ),
        lifespan=lifespan,
    )
    app.add_middleware(_BodyLimit, limit=MAX_BODY)
    bearer = HTTPBearer(auto_error=False)

    async def annotator(
        creds: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Annotator:
        # one indexed read that never waits for writers (WAL): run on the event loop,
        # sparing every request a hop through the thread pool
        found = None
        if creds is not None and creds.scheme.lower() == "bearer":
            found = service.store.authenticate(creds.credentials)
        if found is None:
            raise HTTPException(
                status_code=401,
                detail="A valid annotator token is needed: Authorization: Bearer <token>. "
                "Ask the project owner for one (activelab annotator add NAME).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        docs = request.url.path == "/docs" or request.url.path.startswith("/static/swagger/")
        response.headers["Content-Security-Policy"] = _DOCS_CSP if docs else _CSP
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(UnknownLabelError)
    async def _unknown_label(_r: Request, exc: UnknownLabelError) -> JSONResponse:
        return _AsciiJSON(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(UnknownItemError)
    async def _unknown_item(_r: Request, exc: UnknownItemError) -> JSONResponse:
        return _AsciiJSON(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(StoreError)
    async def _store_error(_r: Request, exc: StoreError) -> JSONResponse:
        return _AsciiJSON(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        # the database went away, restarted or stayed busy: say so in one line (the page
        # shows it) instead of a bare 500; the request may be sent again as it was
        return _AsciiJSON(
            status_code=503,
            content={"detail": _database_trouble(request, exc)},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer, written so that any text of the request echoes back
        return _AsciiJSON(status_code=422, content={"detail": jsonable_encoder(exc.errors())})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # the API answers JSON; a person who mistypes a page address gets a page
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 404 and wants_html and not request.url.path.startswith("/api/"):
            page = (_STATIC / "404.html").read_text(encoding="utf-8")
            return HTMLResponse(page, status_code=404)
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    who = Depends(annotator)

    def owner(me: Annotator = who) -> Annotator:
        if not service.store.is_owner(me):
            raise HTTPException(
                status_code=403,
                detail="Only the project owner may see this; an owner's token is made by "
                "activelab annotator add NAME --owner.",
            )
        return me

    the_owner = Depends(owner)

    @app.get("/api/project", response_model=ProjectOut, tags=["project"])
    def project(me: Annotator = who) -> ProjectOut:
        """The project's labels and settings."""
        return ProjectOut(
            name=title,
            kind=kind,
            task="multilabel" if service.multilabel else "classification",
            labels=service.labels,
            strategy=service.strategy,
            overlap=service.overlap,
            retrain_every=service.retrain_every,
            retrain_seconds=service.retrain_seconds,
            annotator=me.name,
            owner=service.store.is_owner(me),
        )

    @app.get("/api/me", response_model=MeOut, tags=["project"])
    def me_(me: Annotator = who) -> MeOut:
        """Who the token belongs to."""
        return MeOut(id=me.id, name=me.name, owner=service.store.is_owner(me))

    @app.get(
        "/api/quality",
        response_model=QualityOut,
        tags=["project"],
        responses={403: {"description": "the token is not the project owner's"}},
    )
    def quality(_owner: Annotator = the_owner) -> QualityOut:
        """The project owner's view: agreement (raw, Krippendorff's alpha, Cohen's kappa per
        pair), each annotator's estimated accuracy, accuracy on gold items, agreement with
        the aggregate and median seconds, and the disputed items. Owner's token only."""
        from activelab.app.owner import owner_report

        return QualityOut(**owner_report(service.store))

    @app.get("/api/next", response_model=NextOut, tags=["labelling"])
    def next_item(me: Annotator = who) -> NextOut:
        """The item the model most needs, reserved for this annotator."""
        view = service.next_item(me)
        return NextOut(item=None if view is None else _item_out(view), done=view is None)

    @app.post("/api/answer", response_model=EventOut, tags=["labelling"])
    def answer(body: AnswerIn, me: Annotator = who) -> EventOut:
        """Label an item. A retried request with the same request_id is stored once.

        Single-label projects take ``label``; multi-label projects take ``labels``, a
        list of distinct project labels (``[]``: none of them apply). An unknown label
        gets 422 and nothing is stored.
        """
        answer = body.labels if body.labels is not None else body.label
        ev = service.answer(me, body.item_id, answer, body.request_id)  # type: ignore[arg-type]
        return _event_out(ev, service.multilabel)

    @app.post("/api/skip", response_model=EventOut, tags=["labelling"])
    def skip(body: SkipIn, me: Annotator = who) -> EventOut:
        """Skip an item: it is not shown to this annotator again."""
        return _event_out(service.skip(me, body.item_id, body.request_id), service.multilabel)

    @app.post("/api/undo", response_model=UndoOut, tags=["labelling"])
    def undo(body: UndoIn, me: Annotator = who) -> UndoOut:
        """Take back this annotator's latest answer or skip; returns the item to show again."""
        ev, view = service.undo(me, body.request_id)
        undone = service.store.event(ev.undoes) if ev.undoes is not None else ev
        return UndoOut(
            event=_event_out(ev, service.multilabel),
            item=_item_out(view),
            undone=_event_out(undone, service.multilabel),
        )

    @app.post("/api/release", status_code=204, tags=["labelling"])
    def release(body: ReleaseIn, me: Annotator = who) -> Response:
        """Give an item back without answering it."""
        service.release(me, body.item_id)
        return Response(status_code=204)

    @app.post("/api/release-held", response_model=ReleasedOut, tags=["labelling"])
    def release_held(body: ReleaseHeldIn | None = None, me: Annotator = who) -> ReleasedOut:
        """Give back every item this annotator holds unanswered: the one on screen, and
        those that were on screen when an undo brought an earlier item back (signing out)."""
        return ReleasedOut(released=service.release_held(me))

    @app.get("/api/progress", response_model=ProgressOut, tags=["progress"])
    def progress(me: Annotator = who) -> ProgressOut:
        """Counts, estimated accuracy with its interval, and whether labels still pay."""
        return ProgressOut(**service.progress(me).__dict__)

    @app.get("/api/items/{item_id}", response_model=ItemOut, tags=["items"])
    def item(item_id: int, _me: Annotator = who) -> ItemOut:
        """One item with the model's guess."""
        return _item_out(service.view(item_id))

    @app.get(
        "/api/items/{item_id}/image",
        response_class=Response,
        tags=["items"],
        responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
    )
    def image(item_id: int, _me: Annotator = who) -> Response:
        """The image of an image item."""
        data, media = service.image(item_id)
        return Response(content=data, media_type=media)

    @app.get(
        "/healthz",
        response_model=HealthOut,
        tags=["health"],
        responses={503: {"model": HealthOut, "description": "the store cannot be read"}},
    )
    def healthz() -> JSONResponse:
        """Is the server healthy? The store, the background trainer and the model version.

        Needs no token (it tells nothing about the items); 503 when the store fails.
        """
        try:
            version = service.store.latest_version()
            labelled = service.progress().labelled
            store_state = "ok"
        except Exception as exc:  # any failure is the answer
            version, labelled = None, None
            store_state = f"{type(exc).__name__}: {exc}"[:300]
        out = HealthOut(
            ok=store_state == "ok",
            store=store_state,
            trainer=service.trainer_state(),
            model_version=version,
            labelled=labelled,
        )
        return JSONResponse(out.model_dump(), status_code=200 if out.ok else 503)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(_STATIC / "index.html", media_type="text/html")

    @app.get("/owner", include_in_schema=False)
    def owner_page() -> FileResponse:
        return FileResponse(_STATIC / "owner.html", media_type="text/html")

    swagger = _swagger_assets()

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        page = "docs.html" if swagger is not None else "docs-missing.html"
        return FileResponse(_STATIC / page, media_type="text/html")

    if swagger is not None:
        app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    return app
