"""Deep active learning: BALD, BatchBALD, BADGE and core-set on the learned embedding.

These strategies use what a neural network offers beyond probabilities:

- :class:`BALD` (Houlsby et al. 2011; Gal et al. 2017): the mutual information
  between a label and the model's parameters, estimated from MC-dropout samples:
  ``H[mean_k p_k] - mean_k H[p_k]``. Needs ``predict_proba_samples``.
- :class:`BatchBALD` (Kirsch et al. 2019): greedily grows a batch maximising
  the *joint* mutual information of its labels, so that a batch is not filled
  with near-copies of one informative point.
- :class:`BADGE` (Ash et al. 2020): k-means++ seeding on the gradient embeddings
  ``(p - onehot(argmax p)) ⊗ h`` (uncertainty = gradient norm, diversity =
  spread), computed from the two factors without forming the outer products.
- :class:`DeepCoreSet` (Sener & Savarese 2018): the shared k-center greedy
  (``kcenter``) on the model's learned embedding (penultimate layer), the
  labelled items as initial centres.

A model offers these through :class:`activelab.models.deep.TorchMLPClassifier` (or any
estimator with ``predict_proba_samples`` / ``embed``); a scikit-learn pipeline
ending in such a model works too (the earlier steps transform the rows first).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from activelab.strategies._base import (
    EMBEDDING,
    MODEL,
    PREDICT_PROBA,
    QueryContext,
    Strategy,
    StrategyRequirementError,
    top_k,
)
from activelab.strategies.diversity import KCenterGreedy
from activelab.strategies.uncertainty import entropy

__all__ = [
    "BADGE",
    "BALD",
    "MC_DROPOUT",
    "MODEL_EMBEDDING",
    "BatchBALD",
    "DeepCoreSet",
    "bald_scores",
    "kmeanspp_factored",
]

#: Requirement: the model draws MC-dropout samples (``predict_proba_samples``).
MC_DROPOUT = "mc_dropout"
#: Requirement: the model has a learned embedding (``embed``).
MODEL_EMBEDDING = "model_embedding"


def _split(model: Any) -> tuple[Any, Any]:
    """``(transform, final estimator)``: pipelines are unwrapped to their last step."""
    steps = getattr(model, "steps", None)
    if steps is not None and len(steps) > 1:
        return model[:-1].transform, steps[-1][1]
    if steps is not None and len(steps) == 1:
        return (lambda X: X), steps[0][1]
    return (lambda X: X), model


def _has(model: Any, method: str) -> bool:
    return model is not None and hasattr(_split(model)[1], method)


def _sqnorms(Z: Any) -> np.ndarray:
    if sp.issparse(Z):
        return np.asarray(Z.multiply(Z).sum(axis=1), dtype=float).ravel()
    return np.einsum("ij,ij->i", Z, Z)


def _dot_row(Z: Any, i: int) -> np.ndarray:
    """``Z @ Z[i]`` for a dense array or a sparse matrix."""
    if sp.issparse(Z):
        return np.asarray((Z @ Z[i].T).toarray(), dtype=float).ravel()
    return Z @ Z[i]


def _no_dropout(model: Any) -> bool:
    """Whether the model's MC-dropout samples cannot differ (a ``dropout`` of 0)."""
    rate = getattr(_split(model)[1], "dropout", None)
    return isinstance(rate, int | float) and float(rate) == 0.0


class _DeepStrategy(Strategy):
    def check_model(self, model: Any) -> None:
        super().check_model(model)
        for req in self.requires:
            options = req if isinstance(req, tuple) else (req,)
            if MC_DROPOUT in options and not _has(model, "predict_proba_samples"):
                kind = type(_split(model)[1]).__name__ if model is not None else "None"
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} needs MC-dropout samples (`predict_proba_samples`) "
                    f"on the model, but {kind} has none. Use "
                    "activelab.models.deep.TorchMLPClassifier "
                    "(pip install 'activelab[torch]') or a model with that method.",
                    needs=MC_DROPOUT,
                    strategy=self.name,
                )
            if MC_DROPOUT in options and _no_dropout(model):
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} measures how MC-dropout samples disagree, but the "
                    "model has dropout=0: every sample is the same model and every item scores "
                    "0. Set dropout > 0 (0.3 by default), or use 'margin' or 'entropy'."
                )
            if options == (MODEL_EMBEDDING,) and not _has(model, "embed"):
                kind = type(_split(model)[1]).__name__ if model is not None else "None"
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} needs a learned embedding (`embed`) on the model, "
                    f"but {kind} has none. Use activelab.models.deep.TorchMLPClassifier.",
                    needs=MODEL_EMBEDDING,
                    strategy=self.name,
                )


def bald_scores(samples: np.ndarray) -> np.ndarray:
    """Mutual information from MC samples of shape (n_samples, n, n_classes).

    ``H[mean_k p_k] - mean_k H[p_k]``, clipped at 0 against rounding.

    Examples
    --------
    >>> agree = np.array([[[0.5, 0.5]], [[0.5, 0.5]]])      # uncertain, but no disagreement
    >>> disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    >>> bald_scores(agree).round(4).tolist(), bald_scores(disagree).round(4).tolist()
    ([0.0], [0.6931])
    """
    S = np.asarray(samples, dtype=float)
    K, n, C = S.shape
    mean_entropy = entropy(S.reshape(K * n, C)).reshape(K, n).mean(axis=0)
    return np.maximum(entropy(S.mean(axis=0)) - mean_entropy, 0.0)


def _samples_fn(model: Any, n_samples: int, seed: int) -> Any:
    transform, final = _split(model)
    return lambda X_chunk: final.predict_proba_samples(
        transform(X_chunk), n_samples=n_samples, random_state=seed
    )


class BALD(_DeepStrategy):
    """Bayesian active learning by disagreement: the highest mutual information first.

    Scores each candidate by the mutual information between its label and the
    model parameters, estimated from ``n_samples`` MC-dropout samples that
    share their masks across the pool. Chunked; memory
    O(chunk × n_samples × classes). Runs on a Dask pool block by block (the
    masks follow from one seed, so every block draws the same ones) and
    picks what it picks in process.

    Parameters
    ----------
    n_samples : int, default=20
        MC-dropout samples.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from activelab.models.deep import TorchMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = TorchMLPClassifier(hidden_layer_sizes=(16,), epochs=40, random_state=0)
    >>> model = model.fit(X[::10], y[::10])
    >>> ctx = QueryContext(X=X, candidates=np.arange(1, 150), labelled=np.array([0]),
    ...                    y_labelled=y[:1], model=model, rng=np.random.default_rng(0))
    >>> BALD(n_samples=10).select(ctx, 3).shape
    (3,)
    """

    name = "bald"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA, MC_DROPOUT)
    supports_dask = True  # each candidate is scored on its own, under masks shared by seed

    def __init__(self, n_samples: int = 20) -> None:
        self.n_samples = n_samples

    def _score_fn(self, ctx: QueryContext) -> Any:
        """Rows to BALD scores, the MC-dropout masks drawn once from ``ctx.rng``."""
        if int(self.n_samples) < 2:
            raise ValueError(f"BALD needs n_samples >= 2, got {self.n_samples}.")
        seed = int(ctx.rng.integers(2**31 - 1))
        sample = _samples_fn(ctx.model, int(self.n_samples), seed)
        return lambda X_chunk: bald_scores(sample(X_chunk))

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """BALD score of every candidate, aligned with ``ctx.candidates``."""
        return ctx.map_chunks(self._score_fn(ctx))

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return ctx.select_top(self._score_fn(ctx), n)


class BatchBALD(_DeepStrategy):
    """BatchBALD: greedy maximisation of the joint mutual information of a batch.

    The batch ``A`` grows one item at a time, each time adding the candidate
    ``x`` that maximises ``H(y_A, y_x) - sum_{i in A+x} E_ω H(y_i | ω)``. The
    joint entropy is computed exactly by enumerating label configurations of
    ``A`` while there are at most ``n_configurations`` of them, then estimated
    by importance sampling from ``n_configurations`` configurations drawn from
    the joint predictive (each configuration with its dropout sample, as in
    Kirsch et al. 2019).

    Limits (to keep time and memory bounded): the greedy search runs over the
    ``max_candidates`` candidates of highest BALD score (at least ``2n``), and
    each step costs O(max_candidates × n_configurations × n_samples × classes)
    time and O(chunk × n_configurations × classes) memory. The first pick is
    the BALD choice.

    Parameters
    ----------
    n_samples : int, default=20
        MC-dropout samples (shared masks).
    n_configurations : int, default=256
        Label configurations kept for the joint entropy.
    max_candidates : int, default=1000
        Candidates considered by the greedy search (top BALD scores).
    """

    name = "batchbald"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA, MC_DROPOUT)

    def __init__(
        self, n_samples: int = 20, n_configurations: int = 256, max_candidates: int = 1000
    ) -> None:
        self.n_samples = n_samples
        self.n_configurations = n_configurations
        self.max_candidates = max_candidates

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        K = int(self.n_samples)
        M = int(self.n_configurations)
        if K < 2 or M < 1:
            raise ValueError(
                f"BatchBALD needs n_samples >= 2 and n_configurations >= 1, got {K} and {M}."
            )
        seed = int(ctx.rng.integers(2**31 - 1))
        sample = _samples_fn(ctx.model, K, seed)
        bald = ctx.map_chunks(lambda X_chunk: bald_scores(sample(X_chunk)))
        m = min(ctx.candidates.shape[0], max(int(self.max_candidates), 2 * n))
        keep = np.sort(top_k(bald, m, ctx.candidates))
        cand = ctx.candidates[keep]
        # (n_samples, m, classes): samples of the shortlisted candidates only
        S = np.concatenate(
            [sample(X_chunk).transpose(1, 0, 2) for _, X_chunk in ctx.iter_rows(cand)]
        ).transpose(1, 0, 2)
        cond = entropy(S.reshape(-1, S.shape[2])).reshape(K, -1).mean(axis=0)  # E_ω H(y|ω)
        return cand[_batchbald_greedy(S, cond, n, M, ctx.rng, chunk=256)]


def _batchbald_greedy(
    S: np.ndarray,
    cond: np.ndarray,
    n: int,
    M: int,
    rng: np.random.Generator,
    chunk: int = 256,
) -> np.ndarray:
    """Greedy BatchBALD over candidates with MC samples ``S`` (K, m, C); positions into m."""
    K, m, C = S.shape
    chosen: list[int] = []
    available = np.ones(m, dtype=bool)
    # P[k, j]: probability of configuration j under dropout sample k
    P = np.ones((K, 1))
    ks: np.ndarray | None = None  # the dropout sample of each sampled configuration
    for _ in range(n):
        q = P.mean(axis=0)  # probability of each configuration under the joint predictive
        w = np.ones_like(q) if ks is None else 1.0 / (q * q.shape[0])
        gain = np.full(m, -np.inf)
        for start in range(0, m, chunk):
            sl = slice(start, min(start + chunk, m))
            # joint[i, j, c] = mean_k P[k, j] S[k, i, c]
            joint = np.einsum("kj,kic->ijc", P, S[:, sl, :]) / K
            with np.errstate(divide="ignore", invalid="ignore"):
                plogp = np.where(joint > 0, joint * np.log(np.where(joint > 0, joint, 1.0)), 0.0)
            gain[sl] = -np.einsum("ijc,j->i", plogp, w) - cond[sl]
        gain[~available] = -np.inf
        best = int(np.argmax(gain))  # first maximum: lowest pool index among ties
        chosen.append(best)
        available[best] = False
        Sb = S[:, best, :]  # (K, C)
        if ks is None and P.shape[1] * C <= M:
            # still exact: enumerate every configuration of the batch
            P = (P[:, :, None] * Sb[:, None, :]).reshape(K, -1)
            continue
        if ks is None:
            # switch to M configurations drawn from the exact joint, each tied to one sample
            ks = rng.integers(K, size=M)
            P = P[:, _draw(P[ks], rng)]
        # extend every configuration by a label drawn under its own dropout sample
        P = P * Sb[:, _draw(Sb[ks], rng)]
        # Rescale each configuration to mean 1 so long batches do not underflow. Scaling column
        # j by s_j shifts the estimated joint entropy by the same -mean_j log s_j for every
        # candidate (the labels of x sum to one), so the greedy choice is unchanged.
        P /= np.maximum(P.mean(axis=0, keepdims=True), np.finfo(float).tiny)
    return np.asarray(chosen, dtype=np.int64)


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1).clip(max=probs.shape[1] - 1)


def kmeanspp_factored(A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding on rows ``g_i = a_i ⊗ h_i`` without forming them.

    ``||g_i - g_j||² = |a_i|²|h_i|² + |a_j|²|h_j|² - 2 <a_i, a_j><h_i, h_j>``,
    so each seed costs O(rows × (dim a + dim h)). ``H`` may be a sparse matrix
    (e.g. TF-IDF features under a linear model). The first seed is the row of
    largest norm (as in Ash et al.'s implementation); the next ones are drawn
    with probability proportional to the squared distance to the nearest seed.
    Rows at distance 0 from the seeds (duplicates) are drawn only when nothing
    else is left, uniformly.

    Examples
    --------
    >>> A = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> H = np.array([[1.0], [1.0], [1.0]])
    >>> sorted(kmeanspp_factored(A, H, 2, np.random.default_rng(0)).tolist())
    [0, 2]
    """
    A = np.asarray(A, dtype=float)
    H = sp.csr_matrix(H, dtype=float) if sp.issparse(H) else np.asarray(H, dtype=float)
    norms = _sqnorms(A) * _sqnorms(H)
    m = A.shape[0]
    chosen = [int(np.argmax(norms))]
    free = np.ones(m, dtype=bool)
    free[chosen[0]] = False
    d2 = np.full(m, np.inf)
    for _ in range(1, n):
        c = chosen[-1]
        dist = norms + norms[c] - 2.0 * (A @ A[c]) * _dot_row(H, c)
        np.minimum(d2, np.maximum(dist, 0.0), out=d2)
        weights = np.where(free, d2, 0.0)
        total = weights.sum()
        if total > 0 and np.isfinite(total):
            pick = int(rng.choice(m, p=weights / total))
        else:
            pick = int(rng.choice(np.flatnonzero(free)))
        chosen.append(pick)
        free[pick] = False
    return np.asarray(chosen, dtype=np.int64)


class BADGE(_DeepStrategy):
    """Batch active learning by diverse gradient embeddings (Ash et al. 2020).

    Embeds each candidate by the gradient of the cross-entropy loss with
    respect to the output layer under its predicted label, ``(p - e_ŷ) ⊗ h``
    (``h`` the penultimate layer: the model's ``embed``, or, for a model without
    one such as LogisticRegression, the input of the final estimator — the
    features, transformed by the earlier pipeline steps; dense or sparse — for
    which this is the exact gradient of a linear softmax model), then picks the
    batch by k-means++ seeding: large gradients (uncertain) and spread out
    (diverse). The factors are computed in chunks and kept as
    O(candidates × (classes + width)) floats; the products are never formed.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X[::10], y[::10])
    >>> ctx = QueryContext(X=X, candidates=np.arange(1, 150), labelled=np.array([0]),
    ...                    y_labelled=y[:1], model=model, rng=np.random.default_rng(0))
    >>> picks = BADGE().select(ctx, 5)
    >>> len(set(picks.tolist()))
    5
    """

    name = "badge"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA, (MODEL_EMBEDDING, EMBEDDING))

    def _factors(self, ctx: QueryContext) -> tuple[np.ndarray, Any]:
        # a hybrid fit (activelab.models.semi): its probabilities, its estimator's steps for h
        hybrid = getattr(ctx.model, "supervised_", None)
        transform, final = _split(ctx.model if hybrid is None else hybrid)
        own = hybrid is None and hasattr(final, "gradient_embedding_factors")
        has_embed = hasattr(final, "embed")
        A_parts: list[np.ndarray] = []
        H_parts: list[Any] = []
        for _, X_chunk in ctx.iter_rows():
            Xt = transform(X_chunk)
            if own:
                A, H = final.gradient_embedding_factors(Xt)
            else:
                # without a learned embedding, the input of the final (linear) model is h
                H = final.embed(Xt) if has_embed else Xt
                P = np.asarray(
                    final.predict_proba(Xt) if hybrid is None else ctx.model.predict_proba(X_chunk),
                    dtype=float,
                )
                A = P.copy()
                A[np.arange(P.shape[0]), np.argmax(P, axis=1)] -= 1.0
            A_parts.append(np.asarray(A, dtype=np.float32))
            H_parts.append(
                sp.csr_matrix(H, dtype=np.float32)
                if sp.issparse(H)
                else np.asarray(H, dtype=np.float32)
            )
        if any(sp.issparse(h) for h in H_parts):
            H = sp.vstack(H_parts, format="csr")
        else:
            H = np.concatenate(H_parts)
        if not np.isfinite(H.data if sp.issparse(H) else H).all():
            raise ValueError(
                f"Strategy {self.name!r} reads the rows the model's final step takes, and they "
                "hold NaN or infinity (a pool with missing values and no imputing step): make "
                "the estimator a Pipeline whose leading steps impute (make_pipeline("
                "SimpleImputer(), ...)), or use a strategy that reads the model only (margin)."
            )
        return np.concatenate(A_parts), H

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        A, H = self._factors(ctx)
        return ctx.candidates[kmeanspp_factored(A, H, n, ctx.rng)]


class DeepCoreSet(_DeepStrategy):
    """Core-set on the learned embedding: k-center greedy (Sener & Savarese 2018).

    Runs the shared :class:`~activelab.strategies.KCenterGreedy` (``"kcenter"``)
    in the model's penultimate-layer space (``embed``, after the earlier
    pipeline steps): each pick is the candidate farthest from every labelled or
    already chosen item, which minimises the covering radius of the labelled
    set. For a model without ``embed`` it is ``kcenter`` on the context's
    embedding (the features by default). Memory O(pool × width).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [0.0, 0.2], [5.1, 5.0]])
    >>> model = LogisticRegression().fit(X[[0, 2]], [0, 1])
    >>> ctx = QueryContext(X=X, candidates=np.array([1, 3, 4]), labelled=np.array([0, 2]),
    ...                    y_labelled=np.array([0, 1]), model=model)
    >>> DeepCoreSet().select(ctx, 1)
    array([3])
    """

    name = "deep_coreset"
    requires: ClassVar[tuple[Any, ...]] = (MODEL, (MODEL_EMBEDDING, EMBEDDING))

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        transform, final = _split(ctx.model)
        if hasattr(final, "embed"):
            ctx = replace(ctx, embed=lambda X_chunk: final.embed(transform(X_chunk)))
        return KCenterGreedy().select(ctx, n)
