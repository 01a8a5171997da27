"""Checks of the benchmark scripts' options: a bad name fails at once, in one line.

Each function is an ``argparse`` ``type``: a name argparse cannot accept raises
:class:`argparse.ArgumentTypeError`, which argparse prints as ``script: error:
argument --sets: ...`` before anything runs (rather than a traceback, minutes in).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

__all__ = ["name_list", "strategy_name"]


def name_list(
    known: Iterable[str], what: str = "data set", *, none: bool = False
) -> Callable[[str], str]:
    """A comma-separated list of names from ``known``; returns the text unchanged.

    With ``none``, an empty list (``""``) is accepted: that part of the run is left out.

    Examples
    --------
    >>> name_list(["iris", "wine"])("iris,wine")
    'iris,wine'
    >>> name_list(["iris", "wine"])("iris,wnie")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown data set 'wnie'; choose from iris, wine
    >>> name_list(["iris", "wine"], none=True)("")
    ''
    """
    choices = tuple(known)

    def parse(text: str) -> str:
        names = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in names if n not in choices]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad))}; choose from {', '.join(choices)}"
            )
        if not names and not none:
            raise argparse.ArgumentTypeError(f"no {what} named; choose from {', '.join(choices)}")
        return text

    return parse


def strategy_name(text: str) -> str:
    """A strategy activelab knows (``activelab.strategies.get_strategy``); returns the name.

    Examples
    --------
    >>> strategy_name("margin")
    'margin'
    """
    from activelab.strategies import get_strategy

    try:
        get_strategy(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
