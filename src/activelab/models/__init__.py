"""Models that activelab brings beside scikit-learn's.

- :mod:`~activelab.models.deep`: :class:`TorchMLPClassifier`, a scikit-learn-shaped PyTorch
  classifier with Monte Carlo dropout, for BALD, BatchBALD and BADGE (the ``[torch]`` extra;
  torch is imported only when a model is fitted).
"""

from __future__ import annotations

from activelab.models.deep import TorchMLPClassifier

__all__ = ["TorchMLPClassifier"]
