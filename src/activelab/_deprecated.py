"""Old import paths kept working for one release, with a :class:`DeprecationWarning`.

A module that moved leaves a two-line stand-in at its old path; :func:`forward` makes that
stand-in warn once when imported and hand every attribute over to the new module.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["forward"]

#: The release in which the old paths go.
REMOVED_IN = "0.3"


def forward(old: str, *targets: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Warn that ``old`` moved and return the ``__getattr__``/``__dir__`` pair that forwards.

    Parameters
    ----------
    old : str
        The dotted name of the old module (its ``__name__``).
    *targets : str
        The modules that now hold its names, searched in order.

    Returns
    -------
    tuple of callables
        Module-level ``__getattr__`` and ``__dir__`` (PEP 562).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     getattr_, dir_ = forward("activelab.old_name", "activelab.scoring")
    >>> "activelab.scoring" in str(caught[0].message)
    True
    >>> getattr_("top_k").__name__
    'top_k'
    """
    warnings.warn(
        f"{old} moved to {targets[0]}; import from there "
        f"(the old path goes in activelab {REMOVED_IN})",
        DeprecationWarning,
        stacklevel=3,
    )
    modules = [importlib.import_module(t) for t in targets]

    def __getattr__(name: str) -> Any:  # noqa: N807 - the PEP 562 hook
        for module in modules:
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook
        return sorted({n for m in modules for n in dir(m)})

    return __getattr__, __dir__
