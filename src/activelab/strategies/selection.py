"""Automatic strategy selection: a multi-armed bandit over query strategies.

No strategy wins on every data set, and which one will win is not known in
advance. :class:`AutoStrategy` learns it while labelling, with no held-out
labels, following Active Learning by Learning (ALBL; Hsu & Lin 2015, AAAI): each
strategy is an *expert* of the EXP4.P bandit (Beygelzimer et al. 2011) that
advises its top candidate; a uniform random expert keeps exploring; the reward
is the importance-weighted accuracy of the model on the items the bandit itself
queried.

Algorithm (one pick)
--------------------
With expert probabilities ``pi_k`` (a softmax of log-weights) and ``R``
candidates left, the pick is drawn from

``p(x) = (1 - gamma) * sum_k pi_k * xi_k(x) + gamma / R``

where ``xi_k`` is expert ``k``'s advice: a point mass on its top remaining
candidate, or ``1 / R`` for the random expert. ``p(x_t)`` is recorded (it is the
selection probability :mod:`activelab.weighting` needs). Once the label is in
and the model refitted, the reward

``r = sum_t [f(x_t) = y_t] / p(x_t)  /  sum_t 1 / p(x_t)``

(self-normalised importance-weighted accuracy over the bandit's own picks)
is computed with *cross-fitted* predictions — each queried item predicted by a
model fitted without it — because a model's accuracy on its own training
items says little. Every expert then gains ``xi_k(x_t) r / p(x_t)`` plus the
confidence bonus ``c * sum_x xi_k(x)**2 / p(x)``: the second moment of that
gain estimate. EXP4.P uses the looser ``sum_x xi_k(x) / p(x)``, which is the
same for an arm advising one item but ``R`` times larger for the uniform arm,
so that on a pool of thousands of items the random arm's bonus alone would
take over.

Batches
-------
The arm is chosen *per pick*: each arm ranks its top ``n`` once per batch, and
the ``j``-th pick of the batch uses each arm's best candidate not yet taken.
The model is refitted only between batches, so every pick of a batch receives
the same reward (the accuracy after the batch was labelled).

Step sizes
----------
EXP4.P's theory sets the learning rate from the number of *actions* (here the
pool, thousands of items), which leaves the weights unmoved over a campaign of
a few hundred labels. As in practical ALBL implementations, the number of arms
stands in for it: ``eta = sqrt(ln N / (N * horizon))`` and
``c = sqrt(ln(N / delta) / (N * horizon))`` for ``N`` experts.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from activelab.strategies._base import (
    PREDICT_PROBA,
    QueryContext,
    Strategy,
    StrategyRequirementError,
)

__all__ = ["DEFAULT_ARMS", "AutoStrategy"]

#: Arms tried by default, in this order; names not registered are skipped. One uncertainty
#: arm (margin: in multi-class pools entropy and least confident rank outliers of many classes
#: first and were dominated by margin on digits and ImageSegments), one batch-aware arm
#: (uncertainty, then diversity) and one density arm; the uniform random arm is always added.
#: Pure k-center coverage is not a default arm: over campaigns of a few hundred labels the
#: bandit's weights move little, so every arm costs its share of picks, and k-center was the
#: weakest arm on every data set of ``benchmarks/auto_selection.py`` (below random on
#: Bananas); with it the default ended 0.012-0.019 below the best single strategy on iris and
#: Bananas, without it within 0.01 everywhere. Pass ``arms=[..., "kcenter"]`` to include it.
DEFAULT_ARMS: tuple[str, ...] = (
    "margin",
    "diverse_batch",
    "density",
)

_RANDOM = "random"


class AutoStrategy(Strategy):
    """Choose among strategies while labelling, by an EXP4.P bandit (ALBL).

    Parameters
    ----------
    arms : sequence of str or Strategy, optional
        The strategies to choose from. Defaults to :data:`DEFAULT_ARMS` that
        are registered when the first query is made (names are resolved
        lazily). A uniform random arm is always added (``"random"`` in
        ``arms`` is that arm).
    gamma : float, default=0.05
        Probability mass spread uniformly over the candidates at every pick
        (EXP4.P's ``K * p_min``), on top of the random arm.
    random_prior : float, default=0.1
        Initial probability of the random arm (the other arms share the rest
        equally); ``None`` starts all arms equal, as ALBL does. Over a campaign
        of a few hundred labels the weights move little, so this prior sets
        most of the exploration cost.
    horizon : int, default=100
        Expected number of picks; sets the learning rate and the bonus. A
        smaller horizon moves the weights faster. The default suits campaigns of
        a few dozen to a few hundred labels, where the bandit has to learn within
        the campaign (with 200, `auto` ended 0.012 below margin on Bananas in
        ``benchmarks/auto_selection.py``; with 100, within 0.01 on all 7 sets).
    learning_rate : float, optional
        Overrides ``sqrt(ln N / (N * horizon))``.
    delta : float, default=0.1
        EXP4.P's confidence parameter.
    cv : int or None, default=5
        Folds of the cross-fitted reward; ``None`` measures the reward with the
        current model on its own training items, as the original ALBL does
        (cheaper, but optimistic).

    Attributes
    ----------
    arm_names_ : list of str
        The arms in use, random first.
    arm_history_ : list of str
        The arm that made each pick, across queries.
    weight_history_ : list of ndarray
        The arm probabilities ``pi`` at each query.
    reward_history_ : list of float
        The reward observed at each query (after the previous batch).
    last_arms_ : tuple of str
        The arms of the last query's picks (the learner records them).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab import ActiveLearner
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), "auto", random_state=0)
    >>> learner = learner.fit(X, [0, 50, 100], y[[0, 50, 100]])
    >>> for _ in range(3):
    ...     idx = learner.query(4)
    ...     learner = learner.teach(idx, y[idx])
    >>> len(learner.history_[-1].arms), learner.n_labelled_
    (4, 15)
    >>> bool(np.isfinite(learner.selection_probabilities_[3:]).all())
    True
    """

    name = "auto"
    requires = (PREDICT_PROBA,)
    fits_models = True
    task = "classification"

    def __init__(
        self,
        arms: Sequence[str | Strategy] | None = None,
        *,
        gamma: float = 0.05,
        random_prior: float | None = 0.1,
        horizon: int = 100,
        learning_rate: float | None = None,
        delta: float = 0.1,
        cv: int | None = 5,
    ) -> None:
        if not 0.0 <= gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {gamma!r}.")
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon!r}.")
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta!r}.")
        if cv is not None and cv < 2:
            raise ValueError(f"cv must be None or >= 2, got {cv!r}.")
        if arms is not None and len(arms) == 0:
            raise ValueError("arms must name at least one strategy (or be None for the default).")
        self.arms = None if arms is None else list(arms)
        if random_prior is not None and not 0.0 < random_prior < 1.0:
            raise ValueError(f"random_prior must be in (0, 1) or None, got {random_prior!r}.")
        self.gamma = float(gamma)
        self.random_prior = random_prior
        self.horizon = int(horizon)
        self.learning_rate = learning_rate
        self.delta = float(delta)
        self.cv = cv
        self._reset()

    # ---------------------------------------------------------------- state
    def _reset(self) -> None:
        self._arms: list[Strategy] | None = None
        self.arm_names_: list[str] = []
        self._log_w = np.zeros(0)
        self._n_pool = -1
        self._picks: list[int] = []
        self._picks_p: list[float] = []
        self._pending: list[tuple[np.ndarray, float, np.ndarray]] = []
        self.arm_history_: list[str] = []
        self.weight_history_: list[np.ndarray] = []
        self.reward_history_: list[float] = []
        self.last_arms_: tuple[str, ...] = ()

    def _resolve(self, ctx: QueryContext) -> None:
        from activelab.strategies._registry import available, get_strategy

        specs = list(DEFAULT_ARMS) if self.arms is None else list(self.arms)
        if self.arms is None:
            specs = [s for s in specs if s in available()]
        arms: list[Strategy] = []
        for spec in specs:
            arm = get_strategy(spec)
            if arm.name in (_RANDOM, self.name) or any(a.name == arm.name for a in arms):
                continue
            try:
                arm.check_model(ctx.model)
            except StrategyRequirementError as err:
                if self.arms is not None:
                    raise
                warnings.warn(f"auto: arm {arm.name!r} skipped: {err}", UserWarning, stacklevel=4)
                continue
            arms.append(arm)
        self._arms = arms
        self.arm_names_ = [_RANDOM] + [a.name for a in arms]
        self._log_w = np.zeros(len(self.arm_names_))
        if self.random_prior is not None and len(arms):
            self._log_w[0] = np.log(self.random_prior * len(arms) / (1.0 - self.random_prior))
        self._n_pool = ctx.n_pool

    def _in_sync(self, ctx: QueryContext) -> bool:
        if self._arms is None or self._n_pool != ctx.n_pool:
            return False
        mine = self._picks
        return len(mine) <= ctx.labelled.shape[0] and bool(np.isin(mine, ctx.labelled).all())

    @property
    def probabilities_(self) -> np.ndarray:
        """The current probability of each arm (aligned with :attr:`arm_names_`)."""
        if self._log_w.size == 0:
            return np.zeros(0)
        w = np.exp(self._log_w - self._log_w.max())
        return w / w.sum()

    def _rates(self) -> tuple[float, float]:
        N = len(self.arm_names_)
        eta = self.learning_rate
        if eta is None:
            eta = float(np.sqrt(np.log(max(N, 2)) / (N * self.horizon)))
        bonus = float(np.sqrt(np.log(N / self.delta) / (N * self.horizon)))
        return eta, bonus

    # --------------------------------------------------------------- reward
    def _reward(self, ctx: QueryContext) -> float:
        from activelab.scoring import take_rows
        from activelab.weighting import cross_fitted_predictions

        lab = ctx.labelled
        pos = {int(i): k for k, i in enumerate(lab.tolist())}
        where = np.array([pos[i] for i in self._picks], dtype=np.int64)
        y = np.asarray(ctx.y_labelled)
        if self.cv is None:
            pred = ctx.model.predict(take_rows(ctx.X, lab[where]))
            correct = pred == y[where]
        else:
            seed = len(self._picks)
            pred = cross_fitted_predictions(
                ctx.estimator, take_rows(ctx.X, lab), y, cv=self.cv, seed=seed
            )
            correct = pred[where] == y[where]
        w = 1.0 / np.asarray(self._picks_p)
        return float(np.sum(w * correct) / np.sum(w))

    def _learn(self, ctx: QueryContext) -> None:
        if not self._pending or ctx.model is None:
            return
        r = self._reward(ctx)
        self.reward_history_.append(r)
        eta, bonus = self._rates()
        for xi, p, vhat in self._pending:
            self._log_w += eta * (xi * r / p + bonus * vhat)
        self._log_w -= self._log_w.max()
        self._pending = []

    # -------------------------------------------------------------- select
    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return self._select_proba(ctx, n)[0]

    def _select_proba(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray]:
        if not self._in_sync(ctx):
            self._reset()
            self._resolve(ctx)
        self._learn(ctx)
        assert self._arms is not None
        pi = self.probabilities_
        self.weight_history_.append(pi.copy())
        cand = ctx.candidates
        m = cand.shape[0]
        rankings = [np.searchsorted(cand, arm.select(ctx, n)) for arm in self._arms]
        taken = np.zeros(m, dtype=bool)
        mass = np.concatenate([[(1 - self.gamma) * pi[0] + self.gamma], (1 - self.gamma) * pi[1:]])
        picks = np.empty(n, dtype=np.int64)
        proba = np.empty(n)
        arms_used: list[str] = []
        for j in range(n):
            R = m - j
            tops = np.array([next(int(p) for p in rk if not taken[p]) for rk in rankings], int)
            k = int(ctx.rng.choice(mass.shape[0], p=mass / mass.sum()))
            if k == 0:
                free = np.flatnonzero(~taken)
                pos = int(free[ctx.rng.integers(free.shape[0])])
            else:
                pos = int(tops[k - 1])
            # p(x) for every distinct advised item, and for the others (base)
            base = mass[0] / R
            distinct = np.unique(tops)
            p_top = base + np.array([mass[1:][tops == d].sum() for d in distinct])
            p_pick = base + float(mass[1:][tops == pos].sum())
            xi = np.concatenate([[1.0 / R], (tops == pos).astype(float)])
            vhat_det = 1.0 / (base + np.array([mass[1:][tops == t].sum() for t in tops]))
            vhat_rand = ((R - distinct.shape[0]) / base + np.sum(1.0 / p_top)) / (R * R)
            self._pending.append((xi, p_pick, np.concatenate([[vhat_rand], vhat_det])))
            taken[pos] = True
            picks[j] = cand[pos]
            proba[j] = p_pick
            arms_used.append(self.arm_names_[k])
        self._picks.extend(picks.tolist())
        self._picks_p.extend(proba.tolist())
        self.arm_history_.extend(arms_used)
        self.last_arms_ = tuple(arms_used)
        return picks, proba

    def __repr__(self) -> str:
        arms = "default" if self.arms is None else [getattr(a, "name", a) for a in self.arms]
        return f"AutoStrategy(arms={arms!r}, gamma={self.gamma}, cv={self.cv})"
