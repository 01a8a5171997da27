"""``activelab annotator add|list|owner|token|revoke``: who may label, each with a secret
token, and who owns the project."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["annotator", "refuse_reserved_name"]


def _open(project: Path):  # type: ignore[no-untyped-def]
    from activelab.app.project import ProjectError, open_project

    try:
        return open_project(project)
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def annotator() -> None:
    """Add, list or revoke annotators, give one a new token (for the web page and API), or
    give or take an owner's rights."""


@annotator.command("add")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("name")
@click.option(
    "--owner",
    is_flag=True,
    help="The project's owner: their token also opens the quality page (/owner) and "
    "GET /api/quality.",
)
def add(project: Path, name: str, owner: bool) -> None:
    """Add annotator NAME and print their token (shown once; only its hash is kept)."""
    from activelab.app.store import StoreError

    refuse_reserved_name(name, "pick another name")
    store = _open(project)
    try:
        if owner and store.annotator_by_name(name.strip()) is not None:
            raise click.ClickException(
                f"An annotator named {name.strip()!r} exists already; give them the owner's "
                f"rights with: activelab annotator owner {project} {name.strip()!r}"
            )
        ann, token = store.add_annotator(name)
        if owner:
            store.make_owner(ann.name)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    role = "Owner" if owner else "Annotator"
    click.echo(f"{role} {ann.name!r} added. Their token (shown only now):", err=True)
    click.echo(token)


@annotator.command("list")
@click.argument("project", type=click.Path(path_type=Path))
def list_(project: Path) -> None:
    """List annotators."""
    import time

    store = _open(project)
    owners = set(store.settings.get("owners", []))
    for a in store.annotators():
        state = "revoked" if a.revoked else ("active" if a.has_token else "terminal only")
        state += ", owner" if a.name in owners else ""
        created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(a.created_at))
        click.echo(f"{a.name}\t{state}\tsince {created} UTC")
    store.close()


@annotator.command("owner")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("name")
@click.option("--remove", is_flag=True, help="Take the owner's rights back instead.")
def owner(project: Path, name: str, remove: bool) -> None:
    """Give annotator NAME the owner's rights (the quality page /owner, GET /api/quality,
    deciding with review --decide by default), or take them back with --remove. Their
    token and labels stay as they are."""
    from activelab.app.store import StoreError

    name = name.strip()
    if not remove:
        refuse_reserved_name(name, f"no one owns as them (activelab annotator add {project} NAME)")
    store = _open(project)
    try:
        was = name in store.settings.get("owners", [])
        ann = store.make_owner(name, owner=not remove)
    except StoreError as exc:
        raise click.ClickException(
            f"{exc} Add them first: activelab annotator add {project} NAME --owner"
        ) from exc
    finally:
        store.close()
    if remove:
        done = "is no owner (nothing changed)" if not was else "is no longer an owner"
    else:
        done = "owns the project already (nothing changed)" if was else "now owns the project"
    note = " (revoked: give them a token with activelab annotator token)" if ann.revoked else ""
    click.echo(f"{ann.name!r} {done}{note}.")


@annotator.command("token")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("name")
def token(project: Path, name: str) -> None:
    """Give annotator NAME a new token and print it (shown once): for a lost or leaked token,
    a revoked annotator coming back, or someone who labelled in the terminal only. The old
    token is refused from now on; their labels stay theirs."""
    from activelab.app.store import StoreError

    name = name.strip()
    # no one signs in as a file's labels: a token would make them a live annotator
    refuse_reserved_name(name, f"no one signs in as them (activelab annotator add {project} NAME)")
    store = _open(project)
    try:
        ann, new = store.new_token(name)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(
        f"New token for {ann.name!r} (shown only now; the old one is refused from now on):",
        err=True,
    )
    click.echo(new)


@annotator.command("revoke")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("name")
def revoke(project: Path, name: str) -> None:
    """Revoke NAME's token at once; their labels stay, the item they hold is given back."""
    from activelab.app.store import StoreError

    name = name.strip()
    store = _open(project)
    try:
        store.revoke_annotator(name)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(
        f"Revoked {name!r}: their token is refused from now on; their labels stay and the "
        "item they held is free for the others."
    )


def refuse_reserved_name(name: str, fix: str) -> None:
    """Refuse, in one line, a person's name that marks labels read from files, or one with
    a control character (a tab or a line break would break the lists that show names)."""
    import unicodedata

    from activelab.interop.project import IMPORTED_PREFIX

    bad = [c for c in name.strip() if unicodedata.category(c) == "Cc"]
    if bad:
        raise click.ClickException(
            f"The name {name.strip()!r} holds a control character ({bad[0]!r}); {fix}, "
            "without tabs or line breaks."
        )
    if name.startswith(IMPORTED_PREFIX):
        raise click.ClickException(
            f"Names starting with {IMPORTED_PREFIX!r} mark labels read from files; {fix}."
        )
