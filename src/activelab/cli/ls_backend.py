"""``activelab ls-backend``: serve activelab as a Label Studio ML backend."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["ls_backend"]


@click.command("ls-backend")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=9090,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--strategy",
    default=None,
    help='Query strategy  [default: margin; mmc for multi-label (Choices choice="multiple")].',
)
@click.option(
    "--retrain-every",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Retrain after N annotation changes (changes during a round join the next one).",
)
@click.option(
    "--text-features",
    type=click.Choice(["hashing", "minilm"], case_sensitive=False),
    default="hashing",
    show_default=True,
    help="Texts as hashed word and word-pair counts, or the MiniLM sentence embedding.",
)
@click.option("--seed", default=0, show_default=True, help="Seeds every learner.")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Journal tasks and annotations here and replay them on start  [default: memory only].",
)
@click.option(
    "--basic-auth",
    default=None,
    metavar="USER:PASSWORD",
    help="Require HTTP basic auth  [default: $ACTIVELAB_LS_BASIC_AUTH, else none].",
)
def ls_backend(
    host: str,
    port: int,
    strategy: str | None,
    retrain_every: int,
    text_features: str,
    seed: int,
    state_dir: Path | None,
    basic_auth: str | None,
) -> None:
    """Serve a Label Studio ML backend: predictions scored by activelab's strategy.

    In Label Studio: project Settings → Model → Connect Model, URL http://HOST:PORT.
    Each prediction's score is activelab's priority, so sorting the data manager by
    prediction score (descending) lists the tasks in active-learning order;
    annotations retrain the model in the background. See docs/interop.md.
    """
    # a missing [app] extra stops here with the one-line message of every command
    import uvicorn

    from activelab.interop.ls_backend import Backend, create_app

    auth_text = basic_auth if basic_auth is not None else os.environ.get("ACTIVELAB_LS_BASIC_AUTH")
    auth = None
    if auth_text:
        user, sep, password = auth_text.partition(":")
        if not sep or not user or not password:
            raise click.ClickException("--basic-auth must be USER:PASSWORD, both non-empty.")
        auth = (user, password)
    from activelab.cli.serve import check_port

    check_port(host, port)
    try:
        backend = Backend(
            strategy=strategy,
            retrain_every=retrain_every,
            text_features=text_features,
            seed=seed,
            state_dir=state_dir,
        )
    except (KeyError, ValueError, OSError) as exc:
        raise click.ClickException(f"{exc}") from exc
    click.echo(
        f"activelab Label Studio ML backend on http://{host}:{port} "
        f"(strategy {strategy or 'margin / mmc'}{', basic auth' if auth else ''})",
        err=True,
    )
    uvicorn.run(create_app(backend, basic_auth=auth), host=host, port=port, log_level="warning")
