"""``--out`` files are written plain: a name that promises compression is refused.

A results or labels file named ``results.json.gz`` would otherwise hold plain
text, which gzip, pandas and ``json`` tools refuse to read as what its name says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["COMPRESSED", "compressed_message", "plain_out"]

#: suffixes of compressed files, which no command writes
COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".zst")


def compressed_message(out: str | Path) -> str | None:
    """The one line refusing ``out`` when its name is a compressed file's, else None.

    Examples
    --------
    >>> compressed_message("labels.csv.gz").split("; ")[1]
    'name the file labels.csv and compress it afterwards (e.g. gzip labels.csv).'
    >>> compressed_message("results.json") is None
    True
    """
    path = Path(out)
    if path.suffix.lower() not in COMPRESSED:
        return None
    plain = path.with_suffix("").name
    return (
        f"--out {out}: files are written uncompressed; name the file {plain} and compress it "
        f"afterwards (e.g. gzip {plain})."
    )


def plain_out(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Click callback for an ``--out`` option: refuse a compressed file's name."""
    if value is not None:
        message = compressed_message(value)
        if message is not None:
            raise click.UsageError(message, ctx)
    return value
