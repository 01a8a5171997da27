"""The demo campaign: a strategy against random sampling on scikit-learn's digits.

Used by ``activelab demo``; importable so its numbers can be checked by tests.
The defaults are sized to finish in well under 20 s on 2 cores: 3 seeds, a
budget of 500 labels and, as the target, 97 % of the accuracy of a model
trained on the whole pool (``--seeds 5 --budget 1347 --target 1`` runs the
full comparison, a few minutes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from activelab import _demo_args
from activelab._demo_args import check_demo_numbers
from activelab.simulation.campaign import labels_to_reach, run_campaign, split_pool_test

#: Seeds the demo replays by default.
DEFAULT_SEEDS = _demo_args.DEFAULT_SEEDS
#: Labels per campaign by default.
DEFAULT_BUDGET = _demo_args.DEFAULT_BUDGET
#: The share of the whole-pool model's accuracy the labels are counted to, by default.
DEFAULT_TARGET = _demo_args.DEFAULT_TARGET

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_SEEDS",
    "DEFAULT_TARGET",
    "DemoResult",
    "check_demo_args",
    "demo_estimator",
    "run_demo",
]


def demo_estimator() -> LogisticRegression:
    """The demo's model: standardised pixels into a multinomial LogisticRegression."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=0.5))


@dataclass
class DemoResult:
    """Curves and targets of the demo, one row per seed."""

    strategies: list[str]
    n_labels: list[int]
    curves: dict[str, np.ndarray]
    full_scores: np.ndarray
    to_target: dict[str, list[int | None]]
    n_pool: int
    n_test: int
    budget: int
    model: str
    target: float = 1.0

    @property
    def full_mean(self) -> float:
        return float(self.full_scores.mean())

    @property
    def full_std(self) -> float:
        return float(self.full_scores.std())

    def saving(self) -> tuple[float, float] | None:
        """Mean labels saved by the strategy against random, and the share saved."""
        rand, other = (self.to_target[s] for s in self.strategies)
        if any(v is None for v in rand + other):
            return None
        r, o = float(np.mean(rand)), float(np.mean(other))  # type: ignore[arg-type]
        return r - o, (r - o) / r


def check_demo_args(
    *, seeds: int, budget: int | None, batch_size: int, initial: int, strategy: str, target: float
) -> None:
    """Refuse bad demo settings before any work starts (one-line :class:`ValueError`).

    Examples
    --------
    >>> check_demo_args(seeds=0, budget=None, batch_size=10, initial=10, strategy="auto",
    ...                 target=0.98)
    Traceback (most recent call last):
    ...
    ValueError: --seeds must be at least 1, got 0.
    """
    from activelab.strategies import get_strategy

    check_demo_numbers(
        seeds=seeds, budget=budget, batch_size=batch_size, initial=initial, target=target
    )
    chosen = get_strategy(strategy)  # an unknown name fails here, with a suggestion
    if chosen.name == "random":
        raise ValueError(
            "--strategy random is the baseline the demo compares with; name another strategy "
            "(margin, entropy or auto)."
        )
    task = chosen.task
    if task not in ("classification", "any"):
        raise ValueError(
            f"--strategy {strategy!r} is for {task} data; digits is classification "
            "(try margin, entropy or auto)."
        )


def _one(
    seed: int,
    strategy: str,
    budget: int,
    batch_size: int,
    initial: int,
    semi_supervised: str | None = None,
) -> tuple[str, int, list[int], list[float], float | None]:
    with threadpool_limits(1):  # one BLAS thread per campaign: far faster on a busy machine
        return _campaign(seed, strategy, budget, batch_size, initial, semi_supervised)


def _campaign(
    seed: int,
    strategy: str,
    budget: int,
    batch_size: int,
    initial: int,
    semi_supervised: str | None = None,
) -> tuple[str, int, list[int], list[float], float | None]:
    X, y = load_digits(return_X_y=True)
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
    res = run_campaign(
        demo_estimator(),
        strategy,
        Xp,
        yp,
        Xt,
        yt,
        initial=initial,
        batch_size=batch_size,
        budget=budget,
        seed=seed,
        semi_supervised=semi_supervised,
    )
    full = None
    if strategy == "random":  # the whole-pool model, once per seed
        full = float(clone(demo_estimator()).fit(Xp, yp).score(Xt, yt))
    return strategy, seed, res.n_labels, res.scores, full


def run_demo(
    *,
    seeds: int = DEFAULT_SEEDS,
    budget: int | None = DEFAULT_BUDGET,
    batch_size: int = 10,
    initial: int = 10,
    strategy: str = "auto",
    target: float = DEFAULT_TARGET,
    n_jobs: int = -1,
    semi_supervised: str | None = None,
) -> DemoResult:
    """Run ``strategy`` and random sampling on digits for ``seeds`` seeds.

    ``budget=None`` labels the whole pool; ``target`` is the share of the
    whole-pool model's accuracy that the labels-to-target count asks for.

    ``semi_supervised`` (e.g. ``"auto"``, see :mod:`activelab.models.semi`) is
    the fit of ``strategy``'s campaigns; random sampling is fitted on its
    labels alone, as before.

    Examples
    --------
    >>> r = run_demo(seeds=1, budget=40, batch_size=10, n_jobs=1)
    >>> r.strategies, r.n_labels
    (['random', 'auto'], [10, 20, 30, 40])
    """
    check_demo_args(
        seeds=seeds,
        budget=budget,
        batch_size=batch_size,
        initial=initial,
        strategy=strategy,
        target=target,
    )
    _X, y = load_digits(return_X_y=True)
    n_test = int(np.ceil(len(y) * 0.25))
    budget = len(y) - n_test if budget is None else budget
    names = ["random", strategy]
    jobs = [(s, name) for s in range(seeds) for name in names]
    out = Parallel(n_jobs=n_jobs)(
        delayed(_one)(
            seed, name, budget, batch_size, initial, None if name == "random" else semi_supervised
        )
        for seed, name in jobs
    )
    curves = {name: np.array([o[3] for o in out if o[0] == name]) for name in names}
    full = np.array([o[4] for o in out if o[0] == names[0]])
    n_labels = out[0][2]
    to_target = {
        name: [labels_to_reach(n_labels, c, target * full[i]) for i, c in enumerate(curves[name])]
        for name in names
    }
    return DemoResult(
        names,
        n_labels,
        curves,
        full,
        to_target,
        len(y) - n_test,
        n_test,
        budget,
        "StandardScaler + LogisticRegression",
        target,
    )
