"""Query by committee: ask where a committee of models disagrees most.

Seung, Opper & Sompolinsky (1992) introduced the idea; Settles (2009, section
3.2) surveys the disagreement measures. A committee of ``n_members`` models is
built at query time, either by *bagging* the learner's estimator (Abe & Mamitsuka
1998: each member is fitted on a bootstrap resample of the labelled set) or from
a list of estimators given by the user, each fitted on the whole labelled set.
Each candidate is scored by the committee's disagreement:

``vote_entropy``
    Entropy of the members' hard votes (Dagan & Engelson 1995). Hard votes of a
    small committee tie often; ties are broken by the margin of the members'
    averaged probabilities (``1 - (p_(1) - p_(2))``, added with a weight of 1e-9,
    far below the gap between two vote-entropy levels), so the ranking stays
    informative. The margin, not the consensus entropy, breaks the ties: on
    ten-class digits the entropy tie-break left the strategy below random
    sampling (AULC −0.013 with logistic regression, 10 seeds) and the margin
    one above it (+0.010; +0.033 with extra trees).
``consensus_entropy``
    Entropy of the members' averaged class probabilities (the "soft vote").
``kl_divergence``
    Mean Kullback-Leibler divergence of each member's class distribution from
    the consensus (McCallum & Nigam 1998).

The default, ``vote_entropy`` over a bagged committee of 5, beats random
sampling on digits with both benchmark models; KL divergence over a bagged
*linear* model ranks worse than random there (see ``benchmarks/README.md``): bootstrap members of a
well-regularised linear model agree closely almost everywhere, and their small
differences rank the candidates poorly. Prefer KL divergence with a
``committee`` of different model kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import is_regressor

from activelab.scoring import take_rows
from activelab.strategies._base import (
    MODEL,
    PREDICT_PROBA,
    QueryContext,
    Strategy,
    StrategyRequirementError,
    top_k,
)
from activelab.strategies._models import (
    check_has,
    context_classes,
    proba_on_classes,
    seeded_clone,
)
from activelab.strategies.uncertainty import entropy, margin

__all__ = ["KLDivergence", "QueryByCommittee", "VoteEntropy", "stratified_bootstrap"]

METHODS = ("vote_entropy", "consensus_entropy", "kl_divergence")


def stratified_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions of a bootstrap resample of ``y`` that keeps every class's count.

    Each class is resampled with replacement within itself, so every class seen
    appears in the resample as often as in ``y``.

    Examples
    --------
    >>> y = np.array([0, 0, 0, 1, 2, 2])
    >>> pos = stratified_bootstrap(y, np.random.default_rng(0))
    >>> np.bincount(y[pos]).tolist()
    [3, 1, 2]
    """
    y = np.asarray(y)
    _, inverse = np.unique(y, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # one uniform draw per row, scaled into that row's class block
    draws = np.floor(rng.random(y.shape[0]) * counts[inverse[order]]).astype(np.int64)
    return np.sort(order[starts[inverse[order]] + draws])


class QueryByCommittee(Strategy):
    """Query the candidates a committee of models disagrees on most.

    Parameters
    ----------
    method : {"vote_entropy", "consensus_entropy", "kl_divergence"}, default="vote_entropy"
        The disagreement measure (see the module notes).
    committee : list of estimators, optional
        Unfitted estimators, each cloned and fitted on the labelled set at every
        query. By default the committee is built by bagging the learner's
        estimator.
    n_members : int, default=5
        Size of the bagged committee (ignored when ``committee`` is given).

    Notes
    -----
    ``fits_models`` is True: every query fits ``n_members`` models (or one per
    listed estimator) on the labelled set, then scores the candidates in chunks,
    so memory stays O(chunk × classes × members). Bootstrap resamples are
    stratified, so every member sees every class seen so far. The members'
    probabilities are mapped onto the full class set.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab import ActiveLearner
    >>> X, y = load_iris(return_X_y=True)
    >>> first = [0, 50, 100, 1, 51, 101]
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), QueryByCommittee(),
    ...                         random_state=0).fit(X, first, y[first])
    >>> learner.query(3).shape
    (3,)

    A committee of different models, compared by KL divergence:

    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> qbc = QueryByCommittee("kl_divergence", committee=[
    ...     LogisticRegression(max_iter=500), GaussianNB(), DecisionTreeClassifier(max_depth=3)])
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), qbc, random_state=0)
    >>> learner.fit(X, [0, 50, 100], y[[0, 50, 100]]).query(2).shape
    (2,)
    """

    name = "qbc"
    fits_models: ClassVar[bool] = True

    def __init__(
        self,
        method: str = "vote_entropy",
        committee: Sequence[Any] | None = None,
        n_members: int = 5,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
        if committee is None:
            if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 2:
                raise ValueError(f"n_members must be an integer >= 2, got {n_members!r}.")
        else:
            committee = list(committee)
            if len(committee) < 2:
                raise ValueError(
                    f"A committee needs at least 2 estimators, got {len(committee)}; pass a "
                    "list of estimators, or leave `committee` unset to bag the learner's one."
                )
            needed = "predict" if method == "vote_entropy" else "predict_proba"
            for est in committee:
                check_has(est, needed, self.name)
        self.method = method
        self.committee = committee
        self.n_members = n_members

    @property  # type: ignore[override]
    def requires(self) -> tuple[Any, ...]:  # type: ignore[override]
        """Hard votes need only a classifier; the soft measures need probabilities."""
        return (MODEL,) if self.method == "vote_entropy" else (PREDICT_PROBA,)

    def check_model(self, model: Any) -> None:
        """Also refuse a regressor, which cannot vote on classes."""
        super().check_model(model)
        if model is not None and is_regressor(model):
            raise StrategyRequirementError(
                f"Strategy {self.name!r} needs a classifier, but {type(model).__name__} is a "
                "regressor; use 'committee_variance', the committee strategy for regression "
                "(or another regression strategy such as 'variance' or 'emcm')."
            )

    def _members(self, ctx: QueryContext) -> list[Any]:
        X_lab = take_rows(ctx.X, ctx.labelled)
        y_lab = np.asarray(ctx.y_labelled)
        members = []
        if self.committee is not None:
            for est in self.committee:
                members.append(seeded_clone(est, ctx.rng).fit(X_lab, y_lab))
            return members
        for _ in range(self.n_members):
            pos = stratified_bootstrap(y_lab, ctx.rng)
            est = seeded_clone(ctx.estimator, ctx.rng)
            members.append(est.fit(take_rows(X_lab, pos), y_lab[pos]))
        return members

    def _check_estimators(self, ctx: QueryContext) -> None:
        ests = self.committee if self.committee is not None else [ctx.estimator]
        for est in ests:
            if est is None:
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} bags the learner's estimator, but the query "
                    "context has none; pass `estimator` or a `committee` list."
                )
            if is_regressor(est):
                raise StrategyRequirementError(
                    f"Strategy {self.name!r} needs classifiers, but {type(est).__name__} is a "
                    "regressor."
                )
            if self.method != "vote_entropy":
                check_has(est, "predict_proba", self.name)

    def disagreement(self, members: list[Any], X_chunk: Any, classes: np.ndarray) -> np.ndarray:
        """The committee's disagreement on each row of ``X_chunk`` (higher = more)."""
        n_classes = classes.shape[0]
        rows = np.arange(X_chunk.shape[0])
        soft = [m for m in members if hasattr(m, "predict_proba")]
        if self.method == "vote_entropy":
            votes = np.zeros((rows.shape[0], n_classes))
            for m in members:
                pred = np.asarray(m.predict(X_chunk))
                pos = np.minimum(np.searchsorted(classes, pred), n_classes - 1)
                votes[rows, pos] += 1.0
            score = entropy(votes / len(members))
            if len(soft) == len(members) and n_classes > 1:
                mean = sum(proba_on_classes(m, X_chunk, classes) for m in soft) / len(soft)
                score = score + 1e-9 * margin(mean)
            return score
        P = np.stack([proba_on_classes(m, X_chunk, classes) for m in members])
        mean = P.mean(axis=0)
        if self.method == "consensus_entropy":
            return entropy(mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(P > 0, np.log(np.where(P > 0, P, 1.0) / mean[None]), 0.0)
        return np.einsum("mic,mic->i", P, ratio) / len(members)

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        self._check_estimators(ctx)
        classes = context_classes(ctx)
        members = self._members(ctx)
        scores = ctx.map_chunks(lambda X_chunk: self.disagreement(members, X_chunk, classes))
        return ctx.candidates[top_k(scores, n, ctx.candidates)]


class VoteEntropy(QueryByCommittee):
    """Query by committee with vote entropy (registered as ``"vote_entropy"``).

    Examples
    --------
    >>> VoteEntropy(n_members=3)
    VoteEntropy(committee=None, method='vote_entropy', n_members=3)
    """

    name = "vote_entropy"

    def __init__(self, committee: Sequence[Any] | None = None, n_members: int = 5) -> None:
        super().__init__("vote_entropy", committee=committee, n_members=n_members)


class KLDivergence(QueryByCommittee):
    """Query by committee with KL divergence to the consensus (``"kl_divergence"``).

    Examples
    --------
    >>> KLDivergence().requires
    ('predict_proba',)
    """

    name = "kl_divergence"

    def __init__(self, committee: Sequence[Any] | None = None, n_members: int = 5) -> None:
        super().__init__("kl_divergence", committee=committee, n_members=n_members)
