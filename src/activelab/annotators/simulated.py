"""Simulated annotators: each one answers through its own confusion matrix.

``confusion[a, k, l]`` is the probability that annotator ``a`` answers ``l``
for an item whose true class is ``k``. Three families are built in:
:func:`uniform_noise` (a wrong answer is any other class), :func:`class_dependent`
(some classes are harder, and errors go to a "neighbour" class) and
:func:`one_careless` (good annotators and one careless one).

Examples
--------
>>> import numpy as np
>>> sim = one_careless(4, n_classes=3, noise=0.1, careless_noise=0.6)
>>> sim.accuracy().round(2).tolist()
[0.9, 0.9, 0.9, 0.4]
>>> rng = np.random.default_rng(0)
>>> sim.answer(np.array([0, 1]), np.array([0, 3]), np.array([2, 2]), rng).shape
(2,)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from activelab._validation import check_count

__all__ = ["SimulatedAnnotators", "class_dependent", "one_careless", "uniform_noise"]


@dataclass(frozen=True)
class SimulatedAnnotators:
    """A panel of simulated annotators.

    Attributes
    ----------
    confusion : ndarray of shape (n_annotators, n_classes, n_classes)
        Rows sum to 1.
    name : str
        What kind of noise (for reports).
    """

    confusion: np.ndarray
    name: str = "custom"

    def __post_init__(self) -> None:
        c = np.asarray(self.confusion, dtype=float)
        if c.ndim != 3 or c.shape[1] != c.shape[2]:
            raise ValueError(
                f"confusion must have shape (n_annotators, n_classes, n_classes), got {c.shape}."
            )
        if not np.allclose(c.sum(axis=2), 1.0) or (c < 0).any():
            raise ValueError(
                "Every row of every confusion matrix must be probabilities summing to 1."
            )

    @property
    def n_annotators(self) -> int:
        """Number of annotators."""
        return int(self.confusion.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.confusion.shape[1])

    def accuracy(self, class_shares: np.ndarray | None = None) -> np.ndarray:
        """True share of correct answers of each annotator (classes equally likely by default)."""
        k = self.n_classes
        p = np.full(k, 1.0 / k) if class_shares is None else np.asarray(class_shares, float)
        return np.einsum("akk,k->a", self.confusion, p / p.sum())

    def answer(
        self,
        items: np.ndarray,
        annotators: np.ndarray,
        y_true: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Draw the answers of ``annotators[i]`` on ``items[i]`` (true classes ``y_true``).

        ``y_true`` is indexed by item (the whole pool's true classes).
        """
        items = np.asarray(items, dtype=np.int64)
        annotators = np.asarray(annotators, dtype=np.int64)
        rows = self.confusion[annotators, np.asarray(y_true)[items]]  # (n, K)
        u = rng.random(items.shape[0])[:, None]
        return np.minimum((rows.cumsum(axis=1) < u).sum(axis=1), self.n_classes - 1)


def _check_panel(n_annotators: int, n_classes: int) -> tuple[int, int]:
    """``n_annotators`` (at least 1) and ``n_classes`` (at least 2) as plain ints."""
    return (
        check_count(n_annotators, "n_annotators"),
        check_count(n_classes, "n_classes", minimum=2),
    )


def _as_per_annotator(
    noise: float | Sequence[float], n_annotators: int, name: str = "noise"
) -> np.ndarray:
    """One error rate per annotator, each in [0, 1], from one value or one per annotator."""
    arr = np.asarray(noise, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n_annotators):
        raise ValueError(
            f"{name} must be one value or one per annotator ({n_annotators}), "
            f"got shape {arr.shape}."
        )
    if not ((arr >= 0) & (arr <= 1)).all():  # NaN fails too
        raise ValueError(f"{name} must lie in [0, 1], got {arr.tolist()}.")
    return np.broadcast_to(arr, (n_annotators,)).copy()


def uniform_noise(
    n_annotators: int, noise: float | Sequence[float], *, n_classes: int
) -> SimulatedAnnotators:
    """Each annotator is wrong with probability ``noise`` (one value, or one per annotator);
    a wrong answer is any other class, uniformly.

    Examples
    --------
    >>> uniform_noise(2, 0.2, n_classes=3).confusion[0].round(2).tolist()
    [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    """
    n_annotators, k = _check_panel(n_annotators, n_classes)
    e = _as_per_annotator(noise, n_annotators)
    off = (e / (k - 1))[:, None, None] * (1 - np.eye(k))[None]
    conf = off + ((1 - e)[:, None, None] * np.eye(k)[None])
    return SimulatedAnnotators(conf, "uniform")


def class_dependent(
    n_annotators: int,
    noise: float,
    *,
    n_classes: int,
    seed: int = 0,
) -> SimulatedAnnotators:
    """Noise that depends on the class: the mean error is ``noise``, but some classes
    are up to twice as hard as others, and three quarters of the errors on a class go
    to one confusable neighbour class (the same for every annotator).

    Examples
    --------
    >>> sim = class_dependent(3, 0.2, n_classes=4)
    >>> round(float(sim.accuracy().mean()), 2)
    0.8
    """
    n_annotators, k = _check_panel(n_annotators, n_classes)
    noise = float(_as_per_annotator(noise, 1)[0])
    rng = np.random.default_rng(seed)
    per_class = rng.uniform(0.5, 1.5, k)
    per_class = np.clip(noise * per_class / per_class.mean(), 0.0, 0.95)
    per_ann = rng.uniform(0.8, 1.2, n_annotators)
    per_ann /= per_ann.mean()
    err = np.clip(per_ann[:, None] * per_class[None, :], 0.0, 0.95)  # (A, K)
    neighbour = (np.arange(k) + 1 + rng.integers(0, k - 1, k)) % k
    neighbour = np.where(neighbour == np.arange(k), (neighbour + 1) % k, neighbour)
    spread = (1 - np.eye(k)) / (k - 1)
    to_neighbour = np.zeros((k, k))
    to_neighbour[np.arange(k), neighbour] = 1.0
    wrong = 0.25 * spread + 0.75 * to_neighbour  # rows sum to 1, zero diagonal
    conf = err[:, :, None] * wrong[None] + (1 - err)[:, :, None] * np.eye(k)[None]
    return SimulatedAnnotators(conf, "class-dependent")


def one_careless(
    n_annotators: int,
    *,
    n_classes: int,
    noise: float = 0.1,
    careless_noise: float = 0.6,
) -> SimulatedAnnotators:
    """``n_annotators - 1`` good annotators (error ``noise``) and one careless one (the last,
    error ``careless_noise``), all with uniform noise.

    Examples
    --------
    >>> one_careless(3, n_classes=2, noise=0.0, careless_noise=0.5).accuracy().tolist()
    [1.0, 1.0, 0.5]
    """
    n_annotators, _ = _check_panel(n_annotators, n_classes)
    e = np.full(n_annotators, float(_as_per_annotator(noise, 1)[0]))
    e[-1] = _as_per_annotator(careless_noise, 1, "careless_noise")[0]
    sim = uniform_noise(n_annotators, e, n_classes=n_classes)
    return SimulatedAnnotators(sim.confusion, "one careless")
