"""Models that activelab brings beside scikit-learn's.

- :mod:`~activelab.models.deep`: :class:`TorchMLPClassifier`, a scikit-learn-shaped PyTorch
  classifier with Monte Carlo dropout, for BALD, BatchBALD and BADGE (the ``[torch]`` extra;
  torch is imported only when a model is fitted).
- :mod:`~activelab.models.calibrated`: :class:`CalibratedClassifier`, calibrated
  probabilities for a model without them (an SVC) from the first labels on, where
  scikit-learn's ``CalibratedClassifierCV`` needs five items of every class.
- :mod:`~activelab.models.finetune`: :class:`FineTunedTextClassifier`, a text classifier whose
  sentence encoder is fine-tuned contrastively on its labels (the ``[text]`` extra; loaded only
  when a model is fitted).
"""

from __future__ import annotations

from activelab.models.calibrated import CalibratedClassifier
from activelab.models.deep import TorchMLPClassifier
from activelab.models.finetune import FineTunedTextClassifier

__all__ = ["CalibratedClassifier", "FineTunedTextClassifier", "TorchMLPClassifier"]
