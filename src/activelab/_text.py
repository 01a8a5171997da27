"""Counts in messages ("1 label", "2 labels") and "Did you mean" hints, in one place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["count", "did_you_mean"]


def count(n: float, noun: str, plural: str | None = None, *, spec: str = "") -> str:
    """``n`` and ``noun``, in the singular when ``n`` reads 1 and in the plural otherwise.

    Parameters
    ----------
    n : int or float
        The count; a float is rounded to a whole number unless ``spec`` says otherwise.
    noun : str
        The singular.
    plural : str, optional
        The plural, where it is not the singular with an "s".
    spec : str, default ""
        How ``n`` is written (a format spec, such as ``","``); the noun agrees with
        what is written.

    Examples
    --------
    >>> count(1, "label"), count(2, "label"), count(0, "run")
    ('1 label', '2 labels', '0 runs')
    >>> count(1.2, "label"), count(12.6, "label"), count(1, "entry", "entries")
    ('1 label', '13 labels', '1 entry')
    >>> count(1000, "item", spec=",")
    '1,000 items'
    """
    shown = format(n, spec or (".0f" if isinstance(n, float) else ""))
    return f"{shown} {noun if shown == '1' else plural or noun + 's'}"


def did_you_mean(
    name: Any, choices: Iterable[Any], *, cutoff: float = 0.6, lowercase: bool = False
) -> str:
    """`` Did you mean 'x'?`` for the choice ``name`` nearly names, else ``""``.

    The choice that is ``name`` but for case and surrounding spaces comes first, then
    the closest spelling (:func:`difflib.get_close_matches`).

    Parameters
    ----------
    name : object
        What was given; compared as text.
    choices : iterable
        What it may have meant; the hint shows the choice itself (its ``repr``).
    cutoff : float, default 0.6
        How close a spelling must be, from 0 to 1 (:func:`difflib.get_close_matches`).
    lowercase : bool, default False
        Compare lowercased texts, the choices stripped of surrounding spaces, in both
        steps (of choices that read the same, the last is named); else the same text but
        for case (:meth:`str.casefold`) and spaces names the first such choice, and
        spellings are compared as written.

    Returns
    -------
    str
        The hint, with a leading space, or ``""``.

    Examples
    --------
    >>> did_you_mean("Fraud ", ["fraud", "ok"]), did_you_mean("maybe", ["no", "yes"])
    (" Did you mean 'fraud'?", '')
    >>> did_you_mean("lable", ["a", "label"], cutoff=0.7, lowercase=True)
    " Did you mean 'label'?"
    """
    import difflib

    values = list(choices)
    if lowercase:
        spelled = {str(v).strip().lower(): v for v in values}
        wanted = str(name).strip().lower()
        same = [spelled[wanted]] if wanted in spelled else []
        query = str(name).lower()
    else:
        spelled = {str(v): v for v in values}
        wanted = str(name).strip().casefold()
        same = [v for v in values if str(v).strip().casefold() == wanted]
        query = str(name)
    if not same:
        found = difflib.get_close_matches(query, list(spelled), n=1, cutoff=cutoff)
        same = [spelled[t] for t in found]
    return f" Did you mean {same[0]!r}?" if same else ""
