"""Old import paths and functions kept working for one release, with a :class:`DeprecationWarning`.

A module that moved leaves a two-line stand-in at its old path; :func:`forward` makes that
stand-in warn once when imported and hand every attribute over to the new module. A function
the project no longer uses calls :func:`warn_deprecated` first.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["forward", "warn_deprecated"]

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


def warn_deprecated(name: str, instead: str) -> None:
    """Warn that the function ``name`` goes in :data:`REMOVED_IN`, saying what to use instead.

    Parameters
    ----------
    name : str
        The function's dotted name.
    instead : str
        What to call in its stead, as the end of a sentence.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_deprecated("activelab.old", "use activelab.new")
    >>> print(caught[0].message)
    activelab.old is deprecated and goes in activelab 0.3; use activelab.new.
    """
    warnings.warn(
        f"{name} is deprecated and goes in activelab {REMOVED_IN}; {instead}.",
        DeprecationWarning,
        stacklevel=3,
    )
