"""The strategy protocol, the shared query context and the deterministic top-k.

Every query strategy in activelab is a small class deriving from :class:`Strategy`.
It receives one :class:`QueryContext` (the fitted model, the pool, the candidate
indices, the labelled set and a random generator) and returns pool indices.

Ties are broken the same way everywhere: by score descending, then by pool index
ascending (:func:`top_k`), so that a query repeats exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from activelab._text import count
from activelab._validation import non_numeric_columns
from activelab.scoring import DEFAULT_CHUNK_SIZE, IN_PROCESS, iter_chunks, top_k

__all__ = [
    "DECISION_FUNCTION",
    "EMBEDDING",
    "MODEL",
    "PREDICT_PROBA",
    "NonNumericPoolError",
    "QueryContext",
    "Strategy",
    "StrategyRequirementError",
    "numeric_rows",
    "top_k",
]

#: Requirement: a fitted model (any estimator).
MODEL = "model"
#: Requirement: the fitted model has ``predict_proba``.
PREDICT_PROBA = "predict_proba"
#: Requirement: the fitted model has ``decision_function``.
DECISION_FUNCTION = "decision_function"
#: Requirement: an embedding of the pool (features, a transform, or the model's).
EMBEDDING = "embedding"


class StrategyRequirementError(TypeError):
    """A strategy was given a model that lacks what the strategy needs.

    Parameters
    ----------
    message : str
        What is missing and how to give it, for a person.
    needs : str, optional
        What the model lacks, for a program that names its own way of giving it (a
        command-line option): a requirement such as ``"mc_dropout"``,
        ``"model_embedding"`` or ``"spread"``; ``None`` when there is no such way.
    strategy : str, optional
        The name of the strategy that needs it.

    Attributes
    ----------
    needs, strategy : str or None
        As given.

    Examples
    --------
    >>> err = StrategyRequirementError("Strategy 'bald' needs ...", needs="mc_dropout",
    ...                                strategy="bald")
    >>> err.needs, err.strategy, str(err)
    ('mc_dropout', 'bald', "Strategy 'bald' needs ...")
    """

    def __init__(
        self, message: str, *, needs: str | None = None, strategy: str | None = None
    ) -> None:
        super().__init__(message)
        self.needs = needs
        self.strategy = strategy


class NonNumericPoolError(ValueError):
    """A strategy that places items by their features met a pool of texts or categories.

    Attributes
    ----------
    columns : list of str
        The pool's columns that are not numbers.
    """

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


@dataclass(frozen=True)
class QueryContext:
    """Everything a strategy may look at, in one place.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix, shape (n_pool, n_features)
        The whole pool, labelled items included.
    candidates : ndarray of int64
        Sorted pool indices a strategy may choose from (the unlabelled ones).
    labelled : ndarray of int64
        Pool indices already labelled, in the order they were labelled.
    y_labelled : ndarray
        Labels of ``labelled``, aligned with it.
    model : estimator or None
        The fitted model, or ``None`` while none could be fitted.
    estimator : estimator or None
        The unfitted template (for strategies that must fit models of their
        own, e.g. committees and expected error reduction).
    classes : ndarray or None
        The classes the model knows (classification), else ``None``.
    rng : numpy.random.Generator
        The only source of randomness a strategy may use.
    chunk_size : int
        Rows scored at a time; bounds the memory of a query.
    embed : callable or None
        Maps rows of ``X`` to an embedding; ``None`` means the features.
    backend : object or None
        Where chunks are scored: ``None`` means in this process
        (:data:`activelab.scoring.IN_PROCESS`); the Dask backend
        (:class:`activelab.cluster.DaskBackend`) scores on a cluster. A backend
        has ``map_chunks(func, X, rows, chunk_size)`` and
        ``select_top(func, X, candidates, n, chunk_size)``.
    """

    X: Any
    candidates: np.ndarray
    labelled: np.ndarray
    y_labelled: np.ndarray
    model: Any = None
    estimator: Any = None
    classes: np.ndarray | None = None
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    chunk_size: int = DEFAULT_CHUNK_SIZE
    embed: Callable[[Any], np.ndarray] | None = None
    backend: Any = None

    def __post_init__(self) -> None:
        """Take lists as arrays: indices as sorted int64 positions, a list pool as floats."""
        if isinstance(self.X, list | tuple):
            object.__setattr__(self, "X", np.asarray(self.X, dtype=float))
        for name in ("candidates", "labelled"):
            value = getattr(self, name)
            if value is None:
                raise TypeError(
                    f"QueryContext needs {name} as pool indices (an empty array for none), "
                    "got None."
                )
            rows = np.asarray(value)
            if rows.dtype != np.int64:
                rows = rows.astype(np.int64) if rows.size else np.empty(0, np.int64)
            if name == "candidates" and rows.size > 1 and not np.all(rows[1:] >= rows[:-1]):
                rows = np.sort(rows)
            object.__setattr__(self, name, rows)
        object.__setattr__(self, "y_labelled", np.asarray(self.y_labelled))

    @property
    def n_pool(self) -> int:
        """Number of rows in the pool."""
        return int(self.X.shape[0])

    def with_candidates(self, candidates: np.ndarray) -> QueryContext:
        """A copy of this context restricted to other candidates (kept sorted)."""
        return replace(self, candidates=np.asarray(candidates, dtype=np.int64))  # sorted then

    def map_chunks(
        self,
        func: Callable[[Any], np.ndarray],
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Apply ``func`` to chunks of pool rows and concatenate the results.

        ``rows`` defaults to the candidates. Memory is bounded by the chunk size.
        """
        rows = self.candidates if rows is None else rows
        return (self.backend or IN_PROCESS).map_chunks(func, self.X, rows, self.chunk_size)

    def select_top(self, func: Callable[[Any], np.ndarray], n: int) -> np.ndarray:
        """The ``n`` candidates with the highest ``func`` scores (ties: lowest index).

        ``func`` maps a chunk of rows to one score per row. The backend decides
        where the chunks are scored; the result is the same on every backend.
        """
        backend = self.backend or IN_PROCESS
        return backend.select_top(func, self.X, self.candidates, n, self.chunk_size)

    def iter_rows(self, rows: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, Any]]:
        """Yield ``(positions, X_chunk)`` over ``rows`` (default: the candidates)."""
        rows = self.candidates if rows is None else rows
        yield from iter_chunks(self.X, rows, self.chunk_size)

    def embedding(self, X_chunk: Any) -> np.ndarray:
        """The embedding of a chunk of rows, dense float64.

        An ``embed`` function must give one finite row per row of the chunk;
        otherwise a ValueError says what it returned.
        """
        if self.embed is None:
            Z = numeric_rows(X_chunk)
            return np.asarray(Z.toarray() if sp.issparse(Z) else Z, dtype=float)
        Z = self.embed(X_chunk)
        Z = np.asarray(Z.toarray() if sp.issparse(Z) else Z, dtype=float)
        _check_embedding_rows(Z, X_chunk.shape[0] if hasattr(X_chunk, "shape") else len(X_chunk))
        return Z


class Strategy(ABC):
    """Base class of all query strategies.

    Subclasses set :attr:`requires` (what they need from the fitted model) and
    implement :meth:`_select`. :meth:`select` checks the request and the
    requirements before any work is done.

    Attributes
    ----------
    name : str
        Short name used by the CLI, the simulator and the store.
    requires : tuple of str
        Each entry is one of ``"model"``, ``"predict_proba"``,
        ``"decision_function"``, ``"embedding"``; an entry that is a tuple means
        "any one of these".
    fits_models : bool
        True when the strategy fits models of its own at query time.
    supports_dask : bool
        True when the strategy runs on a Dask pool without gathering it (it
        scores through :meth:`QueryContext.select_top` or ``map_chunks`` only).
    task : str
        ``"classification"``, ``"regression"``, ``"multilabel"`` or ``"any"``:
        the kind of target the strategy is meant for (the conformance suite
        tests each strategy on its task).
    """

    name: ClassVar[str] = "strategy"
    requires: ClassVar[tuple[Any, ...]] = ()
    fits_models: ClassVar[bool] = False
    task: ClassVar[str] = "classification"
    supports_dask: ClassVar[bool] = False

    @property
    def needs_model(self) -> bool:
        """Whether this strategy needs a fitted model (else it can cold-start)."""
        flat = {r for req in self.requires for r in (req if isinstance(req, tuple) else (req,))}
        return bool(flat & {MODEL, PREDICT_PROBA, DECISION_FUNCTION})

    def check_model(self, model: Any) -> None:
        """Raise :class:`StrategyRequirementError` if ``model`` lacks a requirement.

        Examples
        --------
        >>> from sklearn.svm import SVC
        >>> from activelab.strategies import Entropy
        >>> Entropy().check_model(SVC())
        Traceback (most recent call last):
        ...
        activelab.strategies._base.StrategyRequirementError: Strategy 'entropy' needs ...
        """
        for req in self.requires:
            options = req if isinstance(req, tuple) else (req,)
            methods = [o for o in options if o in (PREDICT_PROBA, DECISION_FUNCTION)]
            if not methods:
                continue
            if model is None or not any(hasattr(model, m) for m in methods):
                kind = type(model).__name__ if model is not None else "None"
                from sklearn.base import is_regressor

                if model is not None and is_regressor(model):
                    raise StrategyRequirementError(
                        f"Strategy {self.name!r} is for classification, but {kind} is a "
                        "regressor; use a regression strategy such as 'gsx' (needs no model), "
                        "'variance' or 'emcm' (activelab.available_strategies() lists them all)."
                    )
                wanted = " or ".join(f"`{m}`" for m in methods)
                hint = (
                    " Use a probabilistic classifier (e.g. LogisticRegression) or wrap it "
                    "for calibrated probabilities: activelab.models.CalibratedClassifier("
                    f"{_wrapped(model)}) works from the first labels (CalibratedClassifierCV "
                    "needs 5 of each class)."
                    if PREDICT_PROBA in methods
                    else ""
                )
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} needs {wanted} on the model, but "
                    f"{_model_name(model)} has none." + hint
                )

    def reset(self) -> None:
        """Forget what an earlier campaign taught the strategy: a new one starts.

        :func:`~activelab.strategies.clone_strategy` calls it on a strategy it
        deep-copies, so that the copy :meth:`ActiveLearner.fit
        <activelab.learner.ActiveLearner.fit>` makes for a new campaign (a new pool,
        new labels) starts afresh. Stateless strategies have nothing to forget; a strategy that
        keeps a choice between queries (the class a rare-class strategy seeks)
        drops it here.
        """
        return  # nothing to forget

    def select(self, ctx: QueryContext, n: int) -> np.ndarray:
        """Choose ``n`` candidates to label next.

        Parameters
        ----------
        ctx : QueryContext
            The model, pool, candidates, labelled set and random generator.
        n : int
            Batch size, ``0 <= n <= len(ctx.candidates)``.

        Returns
        -------
        ndarray of int64, shape (n,)
            Unique pool indices, all among ``ctx.candidates``, most wanted first.
        """
        n = self._check_request(ctx, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        chosen = np.asarray(self._select(ctx, n), dtype=np.int64)
        self._check_picks(ctx, chosen, n)
        return chosen

    def select_proba(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Choose ``n`` candidates and say with which probability each was drawn.

        Stochastic strategies return, for the ``j``-th pick, the probability
        with which it was drawn from the candidates still remaining at that
        moment (sequential sampling without replacement; Farquhar et al. 2021).
        These probabilities make unbiased estimates possible
        (:mod:`activelab.weighting`). Deterministic strategies return ``None``.

        Returns
        -------
        indices : ndarray of int64, shape (n,)
            As :meth:`select`.
        probabilities : ndarray of float, shape (n,), or None
            The per-pick selection probabilities, or ``None`` when the choice
            was deterministic.
        """
        n = self._check_request(ctx, n)
        if n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        chosen, proba = self._select_proba(ctx, n)
        chosen = np.asarray(chosen, dtype=np.int64)
        self._check_picks(ctx, chosen, n)
        return chosen, None if proba is None else np.asarray(proba, dtype=float)

    def _check_picks(self, ctx: QueryContext, chosen: np.ndarray, n: int) -> None:
        """Refuse a selection that is not ``n`` distinct candidates (a custom strategy's bug).

        Caught here, the message names the strategy; caught later, it would be a
        refusal of the labels at ``teach`` ("already labelled") or a short batch.
        """
        if chosen.shape != (n,):
            raise ValueError(
                f"Strategy {self.name!r} returned {chosen.size} pool indices (shape "
                f"{chosen.shape}) for n={n}; a strategy returns n distinct candidates."
            )
        cand = ctx.candidates
        pos = np.minimum(np.searchsorted(cand, chosen), max(cand.shape[0] - 1, 0))
        suspect = chosen[cand[pos] != chosen] if cand.size else chosen
        outside = suspect[~np.isin(suspect, cand)]  # candidates are sorted; isin if not
        if outside.size:
            raise ValueError(
                f"Strategy {self.name!r} returned pool index {int(outside[0])}, which is not a "
                "candidate (labelled already, or not in the pool). top_k returns positions "
                "into the scores: map them with ctx.candidates[top_k(scores, n, ctx.candidates)]."
            )
        if np.unique(chosen).shape[0] != n:
            uniq, counts = np.unique(chosen, return_counts=True)
            raise ValueError(
                f"Strategy {self.name!r} returned pool index {int(uniq[counts > 1][0])} more "
                "than once; a strategy returns n distinct candidates."
            )

    def _select_proba(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Indices and per-pick probabilities; deterministic strategies give ``None``."""
        return self._select(ctx, n), None

    def _check_request(self, ctx: QueryContext, n: int) -> int:
        n = _check_batch_size(n, ctx.candidates.shape[0])
        if n == 0:
            return 0
        if self.needs_model:
            if ctx.model is None:
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} needs a fitted model; fit the learner on labelled "
                    "data first, or use a cold-start strategy such as 'typicality' or 'random'."
                )
            self.check_model(ctx.model)
        return n

    @abstractmethod
    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        """Return ``n`` unique pool indices from ``ctx.candidates``."""

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in sorted(vars(self).items()) if not k.startswith("_")
        )
        return f"{type(self).__name__}({params})"


class ScoringStrategy(Strategy):
    """A strategy that scores each candidate independently and takes the top ``n``.

    Subclasses implement :meth:`score_chunk`, mapping a chunk of rows to scores
    (higher = more wanted). Scoring walks the candidates in chunks, so memory is
    O(chunk × classes) plus one float per candidate.
    """

    supports_dask: ClassVar[bool] = True

    @abstractmethod
    def score_chunk(self, model: Any, X_chunk: Any) -> np.ndarray:
        """Scores of a chunk of rows, higher meaning more informative."""

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Scores of every candidate, aligned with ``ctx.candidates``."""
        model = ctx.model
        return ctx.map_chunks(lambda X_chunk: self.score_chunk(model, X_chunk))

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        model = ctx.model
        return ctx.select_top(lambda X_chunk: self.score_chunk(model, X_chunk), n)


def _model_name(model: Any) -> str:
    """The model's class name, with the final step's for a pipeline (``Pipeline (... SVC)``)."""
    if model is None:
        return "None"
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        return f"{type(model).__name__} (final step {type(steps[-1][1]).__name__})"
    return type(model).__name__


def _wrapped(model: Any) -> str:
    """What goes inside ``CalibratedClassifier(...)`` for ``model``: its class, or the pipeline."""
    if model is None:
        return "SVC()"
    if isinstance(getattr(model, "steps", None), list):
        return "the_pipeline"
    return f"{type(model).__name__}(...)"


def _check_embedding_rows(Z: np.ndarray, n_rows: int) -> None:
    """Refuse an ``embed`` output that is not one finite row per input row."""
    if Z.ndim != 2 or Z.shape[0] != n_rows:
        hint = "; return a 1-D result as a column, z.reshape(-1, 1)" if Z.ndim == 1 else ""
        raise ValueError(
            f"embed must map a chunk of {n_rows} rows to a 2-D array of {n_rows} rows, got "
            f"shape {Z.shape}{hint}."
        )
    finite = np.isfinite(Z)
    if not finite.all():
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise ValueError(
            f"embed returned a non-finite value (NaN or infinity) for row {row} of a chunk; "
            "an embedding must be finite to measure distances."
        )


def numeric_rows(X: Any) -> Any:
    """``X`` itself when its columns are numbers; a clear error for a DataFrame that is not.

    A strategy that places items by their features (clusters, distances, densities, an
    isolation forest) cannot read a pool of texts or categories: that pool needs an
    ``embed`` function, or strategies that read the model only.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_rows(pd.DataFrame({"text": ["good film"], "n": [1]}))
    Traceback (most recent call last):
    ...
    activelab.strategies._base.NonNumericPoolError: This strategy places items by their ...
    """
    bad = non_numeric_columns(X)
    if bad:
        raise NonNumericPoolError(
            f"This strategy places items by their features, but the pool has non-numeric "
            f"column(s) {bad}: give ActiveLearner an embed= function that turns rows into "
            "numbers (e.g. the pipeline's encoder, or a TextEmbedder over the text column), "
            "or use cold_start='random' with a strategy that reads the model only "
            "(margin, entropy, least_confident).",
            bad,
        )
    return X


def _check_batch_size(n: Any, n_candidates: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"Batch size n must be an integer, got {n!r}.")
    n = int(n)
    if n < 0:
        raise ValueError(f"Batch size n must be >= 0, got {n}.")
    if n > n_candidates:
        raise ValueError(
            f"Asked for n={n} items but only {count(n_candidates, 'unlabelled candidate')} "
            f"{'remains' if n_candidates == 1 else 'remain'}; "
            f"ask for at most {n_candidates}."
        )
    return n
