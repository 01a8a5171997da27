"""The ``activelab`` command line (click + rich; install the ``[cli]`` extra).

Each command group lives in its own module and is registered in
:data:`_COMMANDS`; modules are imported only when their command runs, so
``activelab --help`` stays fast and a missing optional dependency only affects
the command that needs it: a command whose extra is missing stops with one line
naming the ``pip install`` that brings it (:mod:`activelab.cli._extras`).
"""

from __future__ import annotations

import importlib
from typing import Any

try:
    import click
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
    raise SystemExit(
        "The activelab command line needs the [cli] extra: pip install 'activelab[cli]'"
    ) from exc

__all__ = ["main"]

#: command name -> (module, attribute, one-line help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("activelab.cli.demo", "demo", "The default strategy against random on digits."),
    "query": ("activelab.cli.query", "query", "Rank a pool file with a fitted model (Dask too)."),
    "stream": ("activelab.cli.stream", "stream", "Replay a stream under a label budget, live."),
    "init": ("activelab.cli.project", "init", "Create a labelling project from a data set."),
    "add": ("activelab.cli.add", "add", "Add a new batch of items, or new labels, to a project."),
    "serve": ("activelab.cli.serve", "serve", "Serve a project's labelling page and JSON API."),
    "label": ("activelab.cli.label", "label", "Label a project in the terminal."),
    "annotator": (
        "activelab.cli.annotator",
        "annotator",
        "Add, list or revoke annotators; new tokens, owner rights.",
    ),
    "status": ("activelab.cli.project", "status", "Show a project's labels, model and people."),
    "export": ("activelab.cli.project", "export", "Export final labels or the label log."),
    "review": ("activelab.cli.review", "review", "Disputed items of a project; settle them."),
    "gold": ("activelab.cli.gold", "gold", "Load a project's gold items (id,label CSV)."),
    "model": ("activelab.cli.project", "model", "Save a project's latest model (joblib)."),
    "simulate": ("activelab.cli.simulate", "simulate", "Replay strategies on labelled data."),
    "report": ("activelab.cli.report", "report", "HTML page of a simulation's results."),
    "ls-backend": (
        "activelab.cli.ls_backend",
        "ls_backend",
        "Serve a Label Studio ML backend (active-learning scores).",
    ),
}


#: names a newcomer may try for a command that has another name
_ALIASES: dict[str, str] = {
    "import": "'add' (new items or labels into a project) or 'init --data FILE'",
    "create": "'init'",
    "new": "'init'",
    "train": "'model'",
    "rank": "'query'",
}


class _LazyGroup(click.Group):
    _running: str | None = None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            from activelab.cli._extras import extra_for, missing_extra_message

            found = extra_for(exc, self._running)
            if found is None:
                raise
            raise click.ClickException(missing_extra_message(self._running or "", *found)) from None
        except OSError as exc:  # a path that cannot be read or written: one line, not a traceback
            if exc.filename is None:
                raise
            raise click.ClickException(
                f"Cannot use {exc.filename}: {exc.strerror or exc}; check the path and its "
                "folder's permissions."
            ) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command named first in ``args``; a mistyped name gets the closest ones."""
        name = click.utils.make_str(args[0]) if args else ""
        if name and not name.startswith("-") and name not in _COMMANDS:
            import difflib

            close = difflib.get_close_matches(name.lower(), list(_COMMANDS), n=2, cutoff=0.6)
            alias = _ALIASES.get(name.lower())
            hint = alias or (" or ".join(repr(c) for c in close) if close else "")
            ctx.fail(f"No such command {name!r}." + (f" Did you mean {hint}?" if hint else ""))
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, attr, _ = _COMMANDS[cmd_name]
        self._running = cmd_name
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="activelab")
def main() -> None:
    """activelab: train on a few labels, ask an expert only where it pays, retrain."""
