"""
Choosing a strategy, an honest accuracy and when to stop
========================================================

With ``"auto"`` the learner chooses among strategies while it labels (a bandit over margin,
diverse-batch and density sampling, with a share of random picks) and records the probability of
every pick. :func:`~activelab.weighting.estimate_accuracy` turns those probabilities into an
accuracy estimate corrected for the selection, with a confidence interval, from the labelled
items alone; the naive accuracy on the same items is biased, because the items were chosen for
being hard. :class:`~activelab.stopping.StoppingMonitor` says when the predictions have
stabilised. A held-out test set, which a real project would not have, checks both.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from activelab import ActiveLearner
from activelab.stopping import StoppingMonitor
from activelab.weighting import estimate_accuracy

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# A random first batch keeps every label's selection probability known.
learner = ActiveLearner(
    LogisticRegression(max_iter=500), "auto", cold_start="random", random_state=0
).fit(X_pool)
monitor = StoppingMonitor(stop_set_size=500, seed=0)

rows = []
for _ in range(16):
    idx = learner.query(10)
    learner.teach(idx, y_pool[idx])
    monitor.update_from(learner)
    if learner.n_labelled_ >= 40:
        est = estimate_accuracy(learner, cv=5)
        test = learner.score(X_test, y_test)
        rows.append((learner.n_labelled_, test, est.naive, est.estimate, est.low, est.high))

n, test, naive, estimate, low, high = rows[-1]
print(f"{n} labels: test accuracy {test:.3f}, naive {naive:.3f}, corrected {estimate:.3f}")
print(f"{est.level:.0%} interval of the corrected estimate: [{low:.3f}, {high:.3f}]")
# The number of labels at which each stopping criterion fired (None: not yet).
print("stopping criteria:", monitor.fired_)

# %%
# Which strategy made each pick: the bandit's arms.

arms = [arm for record in learner.history_ if record.arms for arm in record.arms]
for arm in sorted(set(arms)):
    print(f"{arm:>14}: {arms.count(arm)} picks")

# %%
# The corrected estimate and its interval against the naive accuracy and the test accuracy.

labels = [r[0] for r in rows]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.fill_between(labels, [r[4] for r in rows], [r[5] for r in rows], alpha=0.2, label="interval")
ax.plot(labels, [r[3] for r in rows], marker="o", markersize=3, label="corrected estimate")
ax.plot(labels, [r[2] for r in rows], linestyle="--", label="naive")
ax.plot(labels, [r[1] for r in rows], color="black", label="test set")
ax.set_xlabel("labels")
ax.set_ylabel("accuracy")
ax.legend()
fig.tight_layout()
