"""``activelab serve``: the labelling page and its JSON API."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

__all__ = ["check_port", "serve"]


@click.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port."
)
@click.option(
    "--retrain-every",
    type=click.IntRange(min=1),
    default=None,
    help="Override: retrain after N labels.",
)
@click.option(
    "--retrain-seconds",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Override: ... or after T seconds.",
)
def serve(
    project: Path, host: str, port: int, retrain_every: int | None, retrain_seconds: float | None
) -> None:
    """Serve PROJECT's labelling page and JSON API (docs at /docs).

    The model is retrained in the background; the page never waits for it.
    Put the server behind HTTPS (a reverse proxy) before exposing it beyond
    this machine: tokens travel in request headers.
    """
    import uvicorn

    from activelab.app.api import create_app
    from activelab.app.project import ProjectError, open_project, project_name
    from activelab.app.service import LabellingService

    try:
        store = open_project(project)
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        check_port(host, port)
    except click.ClickException:
        store.close()
        raise
    service = LabellingService(store, retrain_every=retrain_every, retrain_seconds=retrain_seconds)
    app = create_app(service, name=project_name(store.settings, project))
    click.echo(
        f"Labelling {project} at http://{host}:{port}/ (API docs at /docs). "
        "Open it with ?token=YOUR_TOKEN or paste the token. Ctrl+C stops.",
        err=True,
    )
    code = 0
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    except KeyboardInterrupt:  # Ctrl+C, re-raised by uvicorn after its clean shutdown
        pass
    except SystemExit as exc:  # e.g. the port is taken (uvicorn has said so)
        code = exc.code if isinstance(exc.code, int) else 1
    # The trainer is stopped and the store closed: exit now, without the interpreter's
    # seconds-long teardown of the loaded libraries (a restart should be quick).
    store.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def check_port(host: str, port: int) -> None:
    """Refuse, in one line, a host that does not resolve or a port already taken."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise click.ClickException(f"Cannot listen on host {host!r}: {exc.strerror}.") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"Cannot listen on {host}:{port} ({exc.strerror}); another server may hold the "
                "port: choose another with --port."
            ) from None
