"""Automatic strategy selection: a multi-armed bandit over query strategies.

No strategy wins on every data set, and which one will win is not known in
advance. :class:`AutoStrategy` learns it while labelling, with no held-out
labels and no extra model fits.

Default: hindsight credit (``reward="gain"``)
---------------------------------------------
Each pick of a batch is made by one arm, drawn from the arm probabilities
``pi``; only the arms drawn rank the candidates, and a share ``gamma`` of the
picks is uniform over the candidates left (so every recorded selection
probability is positive). The recorded probability of a pick is the one given
the arm drawn for it, ``(1 - gamma) [x = the arm's next item] + gamma / R``,
which is what sequential importance weighting needs (the arm draw is part of
the history it conditions on).

The reward (:class:`~activelab.strategies._hindsight.HindsightCredit`): the
pool items whose predicted class changed between the model before a batch
and the model after it are the batch's effect; each is credited to the pick
of the batch nearest to it, ``+1`` if the change agrees with the newest model
(or the item's label, once known), ``−1`` if not. The arm offsets of a
linear model of those per-pick credits, compared *within* batches (so that
the shrinking gains of a flattening learning curve cancel), give a posterior;
``pi`` is the posterior probability that each arm is the best (Thompson
sampling) times a prior, with a floor of 0.1 spread by the prior. The cost is
one prediction pass over the candidates per query plus the arms drawn.

ALBL (``reward="albl"``)
------------------------
Active Learning by Learning (Hsu & Lin 2015): each strategy is an *expert* of
the EXP4.P bandit (Beygelzimer et al. 2011) advising its top candidate; a pick
is drawn from ``p(x) = (1 - gamma) * sum_k pi_k * xi_k(x) + gamma / R``; the
reward ``r = sum_t [f(x_t) = y_t] / p(x_t) / sum_t 1 / p(x_t)`` is the
self-normalised importance-weighted accuracy over the bandit's own picks with
*cross-fitted* predictions (``cv`` extra fits); every expert gains
``xi_k(x_t) r / p(x_t)`` plus the bonus ``c * sum_x xi_k(x)**2 / p(x)``, with
``eta = sqrt(ln N / (N * horizon))`` and ``c = sqrt(ln(N / delta) / (N *
horizon))`` for ``N`` experts. Its reward is the accuracy *level*, whose
expected credit is the same for every arm, so over a few hundred labels the
weights stay near uniform; it is kept for comparison and for existing code.
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
from activelab.strategies._hindsight import HindsightCredit

__all__ = ["DEFAULT_ARMS", "AutoStrategy"]

#: Arms tried by default, in this order; names not registered are skipped; the uniform random
#: arm is always added. One batch-aware uncertainty arm (uncertainty, then diversity), one
#: density-weighted uncertainty arm and one coverage arm (ProbCover on the pool graph), which
#: wins where uncertainty cannot yet (many classes, few labels). Chosen with
#: ``benchmarks/auto_arms.py`` (3 seeds) on digits, MNIST-2000, ImageSegments and Bananas with
#: both models: adding ``margin`` as a fourth arm lowered ``auto`` on 6 of those 8 pairs (it
#: is the weakest arm on the many-class sets and on Bananas with extra trees, and
#: ``diverse_batch`` already starts from margin). ``kcenter`` was the weakest arm on every set
#: of ``benchmarks/auto_selection.py``. Pass ``arms=[...]`` to choose others.
DEFAULT_ARMS: tuple[str, ...] = (
    "diverse_batch",
    "density",
    "probcover",
)

_RANDOM = "random"


def _check_arms(specs: Sequence[str | Strategy]) -> None:
    """Refuse arms that ``auto`` cannot choose among, each in one line.

    Parameters
    ----------
    specs : sequence of str or Strategy
        The arms given to :class:`AutoStrategy`.

    Raises
    ------
    ValueError
        For an unknown name, an arm given twice, an ``auto`` arm inside ``auto``,
        or an arm made for another task than classification.
    """
    from activelab.strategies._registry import get_strategy

    seen: set[str] = set()
    for spec in specs:
        arm = get_strategy(spec)
        if isinstance(arm, AutoStrategy):
            raise ValueError(
                f"arms cannot hold {arm.name!r}: auto already chooses among its arms; "
                "list the strategies themselves instead."
            )
        if arm.name in seen:
            raise ValueError(
                f"arms names {arm.name!r} twice; give each strategy once (the bandit "
                "learns one weight per arm)."
            )
        seen.add(arm.name)
        if arm.task not in ("classification", "any"):
            raise ValueError(
                f"arm {arm.name!r} is a {arm.task} strategy, but auto chooses among "
                "classification strategies; drop it from arms."
            )


class AutoStrategy(Strategy):
    """Choose among strategies while labelling: a bandit with a hindsight reward (or ALBL).

    Parameters
    ----------
    arms : sequence of str or Strategy, optional
        The strategies to choose from. Defaults to :data:`DEFAULT_ARMS` that
        are registered when the first query is made (names are resolved
        lazily). A uniform random arm is always added (``"random"`` in
        ``arms`` is that arm). Each arm is given once, is not itself an
        ``auto`` strategy, and is a classification (or any-task) strategy;
        other arms are refused here.
    gamma : float, default=0.05
        Probability mass spread uniformly over the candidates at every pick
        (EXP4.P's ``K * p_min``), on top of the random arm.
    random_prior : float, default=0.1
        Prior probability of the random arm (the other arms share the rest
        equally); ``None`` starts all arms equal, as ALBL does. With
        ``reward="gain"`` it multiplies the posterior probability throughout.
    reward : {"gain", "albl"}, default="gain"
        ``"gain"``: per-pick hindsight credit with Thompson sampling (see the
        module docstring), no extra fits. ``"albl"``: the EXP4.P bandit with
        the importance-weighted accuracy reward; ``horizon``, ``learning_rate``,
        ``delta`` and ``cv`` apply to it only.
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
        The reward observed at each query: the mean per-pick credit
        (``"gain"``; from the third query on) or the accuracy (``"albl"``).
    gain_estimates_ : ndarray
        Posterior mean of each arm's credit offset (``"gain"``).
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
        reward: str = "gain",
    ) -> None:
        if reward not in ("gain", "albl"):
            raise ValueError(f"reward must be 'gain' or 'albl', got {reward!r}.")
        if not 0.0 <= gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {gamma!r}.")
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon!r}.")
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta!r}.")
        if cv is not None and cv < 2:
            raise ValueError(f"cv must be None or >= 2, got {cv!r}.")
        if isinstance(arms, str | Strategy):
            shown = arms if isinstance(arms, str) else arms.name
            raise TypeError(
                f"arms must be a list of strategies, got the single strategy {shown!r}; pass "
                f"arms=[{shown!r}] (the random arm is always added)."
            )
        if arms is not None and len(arms) == 0:
            raise ValueError("arms must name at least one strategy (or be None for the default).")
        self.arms = None if arms is None else list(arms)
        if self.arms is not None:  # refused now, not at the first fitted query
            _check_arms(self.arms)
        if random_prior is not None and not 0.0 < random_prior < 1.0:
            raise ValueError(f"random_prior must be in (0, 1) or None, got {random_prior!r}.")
        self.gamma = float(gamma)
        self.random_prior = random_prior
        self.horizon = int(horizon)
        self.learning_rate = learning_rate
        self.delta = float(delta)
        self.cv = cv
        self.reward = reward
        self._reset()

    # ---------------------------------------------------------------- state
    def _reset(self) -> None:
        self._arms: list[Strategy] | None = None
        self.arm_names_: list[str] = []
        self._log_w = np.zeros(0)
        self._n_pool = -1
        self._picks: list[int] = []
        self._picks_p: list[float] = []
        self._seen = np.zeros(0, dtype=np.int64)  # the labelled items at the last query
        self._pending: list[tuple[np.ndarray, float, np.ndarray]] = []
        self.arm_history_: list[str] = []
        self.weight_history_: list[np.ndarray] = []
        self.reward_history_: list[float] = []
        self.last_arms_: tuple[str, ...] = ()
        # reward="gain": one arm per batch, judged by its hindsight gain (see _GainBook)
        self._book: HindsightCredit | None = None

    def reset(self) -> None:
        """Start a campaign: the bandit starts over, and the arms given as instances
        forget theirs (:meth:`Strategy.reset <activelab.strategies.Strategy.reset>`)."""
        self._reset()
        for spec in self.arms or []:
            if isinstance(spec, Strategy):
                spec.reset()

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
        """Whether this query continues the campaign the bandit has seen.

        Labels only grow within a campaign: every item labelled at the last query
        is still labelled. Picks left unlabelled (skipped, or not yet answered) do
        not end it; another pool or a fresh set of labels does.
        """
        if self._arms is None or self._n_pool != ctx.n_pool:
            return False
        seen = self._seen
        return seen.shape[0] <= ctx.labelled.shape[0] and bool(np.isin(seen, ctx.labelled).all())

    @property
    def probabilities_(self) -> np.ndarray:
        """The current probability of each arm (aligned with :attr:`arm_names_`)."""
        if self.reward == "gain":
            return self.weight_history_[-1].copy() if self.weight_history_ else np.zeros(0)
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
    def _reward(self, ctx: QueryContext) -> float | None:
        from activelab.scoring import take_rows
        from activelab.weighting import cross_fitted_predictions

        lab = ctx.labelled
        picks = np.asarray(self._picks, dtype=np.int64)
        taught = np.isin(picks, lab)  # picks left unlabelled (skipped) have no say
        if not taught.any():
            return None
        order = np.argsort(lab)
        where = order[np.searchsorted(lab, picks[taught], sorter=order)]
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
        w = 1.0 / np.asarray(self._picks_p)[taught]
        return float(np.sum(w * correct) / np.sum(w))

    def _learn(self, ctx: QueryContext) -> None:
        if not self._pending or ctx.model is None:
            return
        r = self._reward(ctx)
        if r is None:  # none of the bandit's picks labelled yet: nothing to learn from
            return
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
        self._seen = np.array(ctx.labelled, dtype=np.int64)
        if self.reward == "gain":
            return self._select_gain(ctx, n)
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

    # ---------------------------------------------------------- gain mode
    def _prior(self) -> np.ndarray:
        K = len(self.arm_names_)
        if self.random_prior is None or K == 1:
            return np.full(K, 1.0 / K)
        return np.concatenate(
            [[self.random_prior], np.full(K - 1, (1 - self.random_prior) / (K - 1))]
        )

    def _select_gain(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray]:
        assert self._arms is not None
        if self._book is None:
            self._book = HindsightCredit(len(self.arm_names_))
        book = self._book
        credit = book.step(ctx)
        if credit is not None:
            self.reward_history_.append(credit)
        pi = book.arm_probabilities(self._prior(), ctx.rng)
        self.weight_history_.append(pi.copy())
        # Each pick's arm is drawn first; only the arms drawn rank the candidates.
        draw = ctx.rng.choice(pi.shape[0], size=n, p=pi)
        cand = ctx.candidates
        m = cand.shape[0]
        rankings = {
            int(k): np.searchsorted(cand, self._arms[k - 1].select(ctx, n)).tolist()
            for k in np.unique(draw)
            if k > 0
        }
        taken = np.zeros(m, dtype=bool)
        picks = np.empty(n, dtype=np.int64)
        proba = np.empty(n)
        arms = np.empty(n, dtype=np.int64)
        for j in range(n):
            R = m - j
            k = int(draw[j])
            if k == 0:
                share, nxt = 1.0, -1
            else:
                share, nxt = self.gamma, next(p for p in rankings[k] if not taken[p])
            if k == 0 or ctx.rng.random() < share:
                free = np.flatnonzero(~taken)
                pos = int(free[ctx.rng.integers(free.shape[0])])
            else:
                pos = nxt
            # the probability of this pick given the arm drawn for it
            proba[j] = share / R + (1.0 - share) * (pos == nxt)
            arms[j] = k if pos == nxt else 0
            taken[pos] = True
            picks[j] = cand[pos]
        book.add_batch(picks, arms, ctx.labelled.shape[0])
        arms_used = [self.arm_names_[k] for k in arms]
        self._picks.extend(picks.tolist())
        self._picks_p.extend(proba.tolist())
        self.arm_history_.extend(arms_used)
        self.last_arms_ = tuple(arms_used)
        return picks, proba

    @property
    def gain_estimates_(self) -> np.ndarray:
        """Posterior mean of each arm's credit offset (``reward="gain"``), else empty."""
        if self._book is None:
            return np.zeros(0)
        return self._book.posterior()[0]

    def __repr__(self) -> str:
        arms = "default" if self.arms is None else [getattr(a, "name", a) for a in self.arms]
        return (
            f"AutoStrategy(arms={arms!r}, gamma={self.gamma}, reward={self.reward!r}, cv={self.cv})"
        )
