"""The simulator: replay active learning on data whose labels are known.

One door of the loop (see ``docs/architecture.md``): the oracle is the ground truth of a
labelled data set, revealed one queried item at a time.

- :mod:`~activelab.simulation.campaign`: :func:`run_campaign`, the one replay loop;
- :mod:`~activelab.simulation.runner`: :func:`simulate`, many campaigns (strategies × seeds)
  on the same splits, stored in one resumable JSON file;
- :mod:`~activelab.simulation.design`: experiment design (regression, "find the best");
- :mod:`~activelab.simulation.metrics`: AULC, labels to a target, savings, paired tests;
- :mod:`~activelab.simulation.report`, :mod:`~activelab.simulation.plots` and
  :mod:`~activelab.simulation.selection_plots`: the HTML report and its figures;
- :mod:`~activelab.simulation.demo`: ``activelab demo``.

Examples
--------
>>> from activelab.simulation import aulc
>>> round(aulc([10, 20, 30], [0.5, 0.7, 0.9]), 3)
0.7
"""

from __future__ import annotations

from activelab.simulation.campaign import (
    CampaignResult,
    initial_indices,
    run_campaign,
    split_pool_test,
)
from activelab.simulation.demo import DemoResult, run_demo
from activelab.simulation.design import (
    DesignResult,
    RegressionCurves,
    experiments_to_reach_rmse,
    run_design_campaign,
    run_regression_campaign,
    top_k_found,
)
from activelab.simulation.metrics import (
    aulc,
    label_savings,
    labels_to_reach,
    paired_test,
    score_at,
    summarize,
    true_top_k,
)
from activelab.simulation.report import write_report
from activelab.simulation.runner import SCHEMA, SCHEMA_VERSION, load_results, make_model, simulate

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "CampaignResult",
    "DemoResult",
    "DesignResult",
    "RegressionCurves",
    "aulc",
    "experiments_to_reach_rmse",
    "initial_indices",
    "label_savings",
    "labels_to_reach",
    "load_results",
    "make_model",
    "paired_test",
    "run_campaign",
    "run_demo",
    "run_design_campaign",
    "run_regression_campaign",
    "score_at",
    "simulate",
    "split_pool_test",
    "summarize",
    "top_k_found",
    "true_top_k",
    "write_report",
]
