"""
Does it pay on my data? The simulator
=====================================

:func:`~activelab.simulation.runner.simulate` replays active learning on data whose labels are
known: every strategy starts from the same random labels on the same pool/test splits, and a
simulated expert reveals a label only when it is asked for. Comparing each strategy with random
sampling says how many labels it saves. This is what ``activelab simulate`` runs.
"""

from sklearn.linear_model import LogisticRegression

from activelab.simulation.metrics import summarize
from activelab.simulation.plots import learning_curves
from activelab.simulation.runner import simulate

results = simulate(
    "digits",
    LogisticRegression(max_iter=1000),
    ["random", "margin"],
    n_initial=10,
    batch_size=10,
    budget=100,
    seeds=3,
    progress=False,
)

# %%
# The summary, over the seeds: the area under the learning curve, the labels needed to reach
# 95 % of the accuracy of a model trained on the whole pool (on the seeds that reached it within
# the budget) and the share of labels saved against random sampling.

summary = summarize(results["runs"], results["full_pool"], baseline="random")
for strategy, row in summary.items():
    reach = row["labels_to_95"]
    reached = f"{reach['mean']:.0f}" if reach["reached"] else "not reached"
    print(
        f"{strategy:>7}: AULC {row['aulc']['mean']:.3f}; labels to 95 %: {reached} "
        f"({reach['reached']} of {reach['of']} seeds)"
    )

# %%
# The learning curves, mean ± standard deviation over the seeds; the dashed line is the model
# trained on the whole pool.

fig = learning_curves(results["runs"], full_pool=results["full_pool"], scoring="accuracy")
