"""Many annotators: agreement, aggregation, simulated annotators, second opinions, cost.

Answers are given in *long form*: three integer arrays of equal length,
``items`` (pool index), ``annotators`` (annotator index) and ``labels``
(class index), one entry per answer. Every function here is vectorised over
the answers.

- :mod:`activelab.annotators.agreement`: Cohen's kappa per pair, Krippendorff's
  alpha (nominal), raw agreement.
- :mod:`activelab.annotators.aggregate`: majority vote and Dawid–Skene EM, soft
  labels as weighted training rows.
- :mod:`activelab.annotators.simulated`: annotators with a confusion matrix each.
- :mod:`activelab.annotators.second_opinion`: the value of a new item versus a
  second opinion on a labelled one.
- :mod:`activelab.annotators.cost`: time per item, predicted, and value per second.
"""

from activelab.annotators.aggregate import (
    Aggregate,
    dawid_skene,
    label_counts,
    majority_vote,
    soft_rows,
)
from activelab.annotators.agreement import (
    krippendorff_alpha,
    pairwise_kappa,
    percent_agreement,
)
from activelab.annotators.cost import CostModel, value_per_second
from activelab.annotators.second_opinion import (
    choose_requests,
    fit_model_weight,
    new_item_value,
    next_requests,
    relabel_value,
)
from activelab.annotators.simulated import (
    SimulatedAnnotators,
    class_dependent,
    one_careless,
    uniform_noise,
)

__all__ = [
    "Aggregate",
    "CostModel",
    "SimulatedAnnotators",
    "choose_requests",
    "class_dependent",
    "dawid_skene",
    "fit_model_weight",
    "krippendorff_alpha",
    "label_counts",
    "majority_vote",
    "new_item_value",
    "next_requests",
    "one_careless",
    "pairwise_kappa",
    "percent_agreement",
    "relabel_value",
    "soft_rows",
    "uniform_noise",
    "value_per_second",
]
