"""Write a file whole or not at all: a temporary file beside it, then :func:`os.replace`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["write_atomic"]


def write_atomic(path: Path, write: Callable[[IO[Any]], None], *, binary: bool = False) -> None:
    """Write ``path`` through a temporary file in its folder and :func:`os.replace`.

    An interrupted or failed write leaves the previous file whole and no temporary file
    behind; the folder is made when missing.

    Parameters
    ----------
    path : Path
        The file to write.
    write : callable
        Writes the content to the open file it is given.
    binary : bool, default False
        Open the temporary file in binary mode.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out" / "a.txt"
    >>> write_atomic(target, lambda fh: fh.write("done"))
    >>> target.read_text(), [p.name for p in target.parent.iterdir()]
    ('done', ['a.txt'])
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
