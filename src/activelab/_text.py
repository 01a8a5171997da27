"""Counts in messages: "1 label", "2 labels", in one place."""

from __future__ import annotations

__all__ = ["count"]


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
