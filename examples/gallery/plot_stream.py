"""
A stream under a label budget
=============================

:class:`~activelab.stream.learner.StreamLearner` decides, for each item as it arrives, whether
to ask the expert, and never spends more than its budget over a sliding window.
:func:`~activelab.stream.replay.replay` plays a labelled stream through it and scores every
prediction before the label could be known (prequential accuracy). Here the bundled
``sea-drift`` stream, whose concept changes half-way, is replayed with a 10 % budget by
randomised variable uncertainty and by random sampling.
"""

import matplotlib.pyplot as plt
from sklearn.linear_model import SGDClassifier

from activelab.stream.datasets import load_stream
from activelab.stream.learner import StreamLearner
from activelab.stream.replay import replay

stream = load_stream("sea-drift", n_items=3000, seed=0)
runs = {}
for strategy in ["random", "rvu"]:
    learner = StreamLearner(
        SGDClassifier(loss="log_loss", random_state=0),
        strategy=strategy,
        budget=0.1,
        classes=stream.classes,
        standardize=True,
        random_state=0,
    )
    runs[strategy] = run = replay(learner, stream.X, stream.y, batch_size=50, every=250)
    print(
        f"{strategy:>6}: {run.n_labels[-1]} labels for {run.items_seen[-1]} items "
        f"(spend {run.spend[-1]:.3f}), prequential accuracy {run.scores[-1]:.3f}"
    )

# %%
# Accuracy on the items since the previous checkpoint: the drift and the recovery from it.

fig, ax = plt.subplots(figsize=(6, 3.5))
for strategy, run in runs.items():
    ax.plot(run.items_seen, run.recent_scores, marker="o", markersize=3, label=strategy)
ax.axvline(stream.drift_at, color="grey", linestyle="--", label="drift")
ax.set_xlabel("items seen")
ax.set_ylabel("recent accuracy")
ax.legend()
fig.tight_layout()
