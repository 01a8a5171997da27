"""A table's columns as model features: numbers standardised, categories one-hot.

A project made from a table (CSV, JSON Lines, Excel) learns from its numeric columns and from
its columns of categories (a city, a merchant type, a yes/no), each category a 0/1 column.
A column of mostly distinct texts (a comment, a date, a code) is shown to the annotators but
not learnt from (:func:`category_columns` says which is which). The fitted
:class:`TableFeatures` is the project's featuriser: ``activelab add`` puts new rows through it,
and the model ``activelab model`` saves reads a table file's columns by name. The simulator's
tables (:func:`activelab.data.datasets.load_table`) one-hot encode their categories by the same
rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["MAX_CATEGORIES", "TableFeatures", "category_columns", "category_value"]

MAX_CATEGORIES = 50
"""The most distinct values a column read as categories may hold (found by itself)."""


def category_columns(
    rows: Sequence[Mapping[str, Any]] | Any, columns: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Split columns of text into categories (learnt from) and the rest (shown only).

    A column is a category when it holds 2 to :data:`MAX_CATEGORIES` distinct values and
    each value comes back on two rows on average (so an id, a comment or a date is not one);
    numbers written with a decimal comma (``1,5``) are not categories.

    Parameters
    ----------
    rows : sequence of mappings, or pandas DataFrame
        The table's rows (column -> value; a missing or empty value is a category of its own).
    columns : iterable of str
        The columns that are not numbers.

    Returns
    -------
    (categories, others) : two lists of column names

    Examples
    --------
    >>> rows = [{"city": c, "note": f"call {i}"} for i, c in enumerate("ABAB")]
    >>> category_columns(rows, ["city", "note"])
    (['city'], ['note'])
    """
    categories, others = [], []
    table = rows if hasattr(rows, "columns") else None  # a pandas DataFrame: by column
    for col in columns:
        if table is not None:
            distinct = set(_category_strings(table[col]).tolist())
        else:
            distinct = {category_value(row.get(col)) for row in rows}
        (categories if _is_category(distinct, len(rows)) else others).append(col)
    return categories, others


def _is_category(distinct: Iterable[str], n_rows: int) -> bool:
    """The rule of :func:`category_columns` on a column's distinct values (as
    :func:`category_value` gives them) and its number of rows."""
    distinct = set(distinct)
    fits = 2 <= len(distinct) <= MAX_CATEGORIES and 2 * len(distinct) <= n_rows
    # "1,5": a number written with a decimal comma, not a category
    return fits and not all(_comma_number(v) for v in distinct if v)


def _comma_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return "," in text


def category_value(value: Any) -> str:
    """A cell as a category: its text without surrounding spaces; an empty or missing cell ``""``.

    Examples
    --------
    >>> category_value(" Lyon "), category_value(None), category_value(float("nan"))
    ('Lyon', '', '')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _category_strings(column: Any) -> np.ndarray:
    """:func:`category_value` of every cell of a pandas Series, without a Python loop."""
    text = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    return text.to_numpy(dtype=object)


class TableFeatures(TransformerMixin, BaseEstimator):
    """Numeric columns standardised, columns of categories one-hot encoded, in one array.

    Takes a pandas DataFrame (or a list of row mappings) holding at least the named columns.
    A category not seen when it was fitted becomes a row of zeros in that column's block.

    Parameters
    ----------
    numeric : sequence of str
        Columns of numbers (standardised with the spread read at ``fit``).
    categorical : sequence of str
        Columns of categories (one 0/1 column per value seen at ``fit``).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The columns read, numbers first.
    categories_ : list of list of str
        The values of each categorical column.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"age": [20, 40, 60], "city": ["Lyon", "Nice", "Lyon"]})
    >>> features = TableFeatures(["age"], ["city"]).fit(table)
    >>> features.transform(table).round(2).tolist()
    [[-1.22, 1.0, 0.0], [0.0, 0.0, 1.0], [1.22, 1.0, 0.0]]
    >>> features.transform(pd.DataFrame({"age": [40], "city": ["Paris"]})).tolist()
    [[0.0, 0.0, 0.0]]
    """

    def __init__(self, numeric: Sequence[str] = (), categorical: Sequence[str] = ()) -> None:
        self.numeric = numeric
        self.categorical = categorical

    def fit(self, X: Any, y: Any = None) -> TableFeatures:
        """Read the spread of each numeric column and the values of each categorical one."""
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numbers, cats = self._parts(X)
        self.scaler_ = StandardScaler().fit(numbers) if numbers.shape[1] else None
        self.encoder_ = (
            OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64).fit(cats)
            if cats.shape[1]
            else None
        )
        self.categories_ = (
            [[str(v) for v in c] for c in self.encoder_.categories_] if self.encoder_ else []
        )
        self.feature_names_in_ = np.asarray([*self.numeric, *self.categorical], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The feature matrix of the rows of ``X``: float64, one row per row."""
        numbers, cats = self._parts(X)
        parts = []
        if self.scaler_ is not None:
            parts.append(self.scaler_.transform(numbers))
        if self.encoder_ is not None:
            parts.append(self.encoder_.transform(cats))
        return np.hstack(parts) if parts else np.empty((numbers.shape[0], 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``age``, ``city=Lyon``, ``city=Nice`` ... in the order of the columns of the output."""
        names = list(self.numeric)
        for col, values in zip(self.categorical, self.categories_, strict=True):
            names += [f"{col}={v}" for v in values]
        return np.asarray(names, dtype=object)

    def _parts(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        import pandas as pd

        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(list(X))
        missing = [c for c in [*self.numeric, *self.categorical] if c not in frame.columns]
        if missing:
            raise ValueError(
                f"The table lacks the column(s) {missing} the model reads; it has "
                f"{[str(c) for c in frame.columns]}."
            )
        numeric = list(self.numeric)
        numbers = frame[numeric].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        if numeric and not np.isfinite(numbers).all():
            row, col = np.argwhere(~np.isfinite(numbers))[0]
            raise ValueError(
                f"Row {row + 1}, column {numeric[col]!r}: {frame[numeric[col]].iloc[row]!r} is "
                "not a finite number."
            )
        cats = np.empty((len(frame), len(self.categorical)), dtype=object)
        for j, col in enumerate(self.categorical):  # a loop over columns, not rows
            cats[:, j] = _category_strings(frame[col])
        return numbers, cats
