"""The rich progress bar of long runs, shared by the simulator and the cluster backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__: list[str] = []


class _ProgressBar:
    """A rich progress bar, or nothing when ``show`` is false, advanced by what ``with`` gives.

    Parameters
    ----------
    show : bool
        Draw the bar; when false, ``with`` gives a function that does nothing.
    description : str
        The task's description, in bold before the bar.
    total : int
        The steps the bar counts to.
    stderr : bool, default False
        Draw on standard error (when standard output carries results).
    transient : bool, default False
        Clear the bar when it is done.
    detailed : bool, default False
        Also show the time remaining and the text the last advance was given; the
        description is then a :class:`rich.progress.TextColumn`, else a plain column.

    Examples
    --------
    >>> with _ProgressBar(False, "work", 2) as advance:
    ...     advance()
    ...     advance("the last step")
    """

    def __init__(
        self,
        show: bool,
        description: str,
        total: int,
        *,
        stderr: bool = False,
        transient: bool = False,
        detailed: bool = False,
    ) -> None:
        self.show, self.description, self.total = show, description, total
        self.stderr, self.transient, self.detailed = stderr, transient, detailed

    def __enter__(self) -> Callable[..., None]:
        if not self.show:
            return lambda _last="": None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns: list[str | ProgressColumn] = [
            TextColumn("[bold]{task.description}") if self.detailed else "[bold]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        if self.detailed:
            columns += [TimeRemainingColumn(), TextColumn("{task.fields[last]}")]
        options: dict[str, Any] = {"transient": self.transient}
        if self.stderr:
            from rich.console import Console

            options["console"] = Console(stderr=True)
        self._bar = Progress(*columns, **options)
        self._bar.__enter__()
        task = self._bar.add_task(self.description, total=self.total, last="")
        return lambda last="": self._bar.update(task, advance=1, last=last)

    def __exit__(self, *exc: Any) -> None:
        if self.show:
            self._bar.__exit__(*exc)
