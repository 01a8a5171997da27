"""The demo's defaults and the checks of its settings, importable without scikit-learn.

``activelab demo`` checks its numbers with these before it imports anything
heavy, so a bad option fails at once; :mod:`activelab.simulation.demo` uses the
same checks and adds the strategy's.
"""

from __future__ import annotations

__all__ = ["DEFAULT_BUDGET", "DEFAULT_SEEDS", "DEFAULT_TARGET", "N_POOL", "check_demo_numbers"]

#: Seeds, labels per campaign and target (share of the whole-pool accuracy) by default.
DEFAULT_SEEDS = 3
DEFAULT_BUDGET = 500
DEFAULT_TARGET = 0.97
#: The digits pool: 1,797 images less the held-out quarter (450).
N_POOL = 1347


def check_demo_numbers(
    *, seeds: int, budget: int | None, batch_size: int, initial: int, target: float
) -> None:
    """Refuse bad numeric demo settings with a one-line :class:`ValueError`.

    Examples
    --------
    >>> check_demo_numbers(seeds=3, budget=5, batch_size=10, initial=10, target=0.97)
    Traceback (most recent call last):
    ...
    ValueError: --budget must be in 20..1347 (--initial plus one batch, ...), got 5.
    """
    if seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {seeds}.")
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}.")
    if not 1 <= initial < N_POOL:
        raise ValueError(f"--initial must be in 1..{N_POOL - 1}, got {initial}.")
    if budget is not None and initial + batch_size > N_POOL:
        raise ValueError(
            f"--initial plus one --batch-size is {initial + batch_size} labels, more than the "
            f"pool of {N_POOL} images; lower --batch-size or --initial."
        )
    if budget is not None and not initial + batch_size <= budget <= N_POOL:
        raise ValueError(
            f"--budget must be in {initial + batch_size}..{N_POOL} (--initial plus one batch, "
            f"up to the pool of {N_POOL} images), got {budget}."
        )
    if not 0.0 < target <= 1.0:
        raise ValueError(f"--target is a share of the whole-pool accuracy in (0, 1], got {target}.")
