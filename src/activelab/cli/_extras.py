"""One message for every command that misses an optional dependency.

A command imports what it needs only when it runs; when that import fails, the
command line turns the :class:`ModuleNotFoundError` into one line naming the
command, the missing module and the ``pip install`` that brings it, instead of
a traceback.
"""

from __future__ import annotations

__all__ = ["EXTRA_OF", "extra_for", "missing_extra_message"]

#: top-level module -> the extra of ``activelab`` that installs it
EXTRA_OF: dict[str, str] = {
    "click": "cli",
    "rich": "cli",
    "matplotlib": "plot",
    "joblib": "sim",
    "pandas": "sim",
    "pyarrow": "sim",
    "river": "data",
    "mlxtend": "data",
    "fastapi": "app",
    "starlette": "app",
    "uvicorn": "app",
    "sqlalchemy": "app",
    "multipart": "app",
    "python_multipart": "app",
    "PIL": "app",
    "psycopg": "postgres",
    "sentence_transformers": "text",
    "torch": "torch",
    "dask": "dask",
    "distributed": "dask",
    "rdkit": "chem",
    "pynndescent": "scale",
}

#: the extra a command needs first (for modules both [sim] and [app] install)
_COMMAND_EXTRA: dict[str, str] = {
    "init": "app",
    "add": "app",
    "serve": "app",
    "label": "app",
    "annotator": "app",
    "status": "app",
    "export": "app",
    "model": "app",
    "simulate": "sim",
    "report": "sim",
    "demo": "sim",
    "query": "sim",
}


def extra_for(exc: BaseException, command: str | None = None) -> tuple[str, str] | None:
    """The missing module and the extra that installs it, or None when no extra does.

    Follows the exception's chain, so an error re-raised with a friendlier
    message (``raise ModuleNotFoundError(...) from exc``) is still recognised.

    Examples
    --------
    >>> extra_for(ModuleNotFoundError("No module named 'fastapi'", name="fastapi"))
    ('fastapi', 'app')
    >>> extra_for(ModuleNotFoundError("x", name="pandas"), "init")
    ('pandas', 'app')
    >>> extra_for(ModuleNotFoundError("x", name="activelab.nothing")) is None
    True
    """
    seen: BaseException | None = exc
    while seen is not None:
        name = getattr(seen, "name", None)
        if isinstance(seen, ModuleNotFoundError) and name:
            top = name.split(".")[0]
            if top in EXTRA_OF:
                extra = EXTRA_OF[top]
                if extra in ("sim", "app") and command in _COMMAND_EXTRA:
                    extra = _COMMAND_EXTRA[command]
                return top, extra
        seen = seen.__cause__ or seen.__context__
    return None


def missing_extra_message(command: str, module: str, extra: str) -> str:
    """The one-line message for a command that misses an extra.

    Examples
    --------
    >>> print(missing_extra_message("serve", "fastapi", "app"))
    activelab serve needs the [app] extra (module 'fastapi' is missing): pip install ...
    """
    return (
        f"activelab {command} needs the [{extra}] extra (module {module!r} is missing): "
        f"pip install 'activelab[{extra}]'"
    )
