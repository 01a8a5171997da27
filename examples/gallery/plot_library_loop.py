"""
The library loop: fit, query, teach
===================================

:class:`~activelab.learner.ActiveLearner` wraps any scikit-learn estimator. ``fit`` takes the
pool, ``query`` returns the items the model most needs and ``teach`` records the expert's
answers and refits. Here the known labels of scikit-learn's digits stand in for the expert, and
margin sampling is compared with random sampling on a held-out test set.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from activelab import ActiveLearner

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# %%
# One loop per strategy: 10 labels a round, 15 rounds. With no labels yet, the learner starts
# with its cold-start strategy and ``history_`` records that.

curves = {}
for strategy in ["random", "margin"]:
    learner = ActiveLearner(LogisticRegression(max_iter=500), strategy, random_state=0)
    learner.fit(X_pool)
    sizes, scores = [], []
    for _ in range(15):
        idx = learner.query(10)
        learner.teach(idx, y_pool[idx])
        sizes.append(learner.n_labelled_)
        scores.append(learner.score(X_test, y_test))
    curves[strategy] = (sizes, scores)
    print(f"{strategy:>7}: {scores[-1]:.3f} accuracy with {sizes[-1]} labels")

print("first query:", learner.history_[0].strategy)

# %%
# The learning curves: accuracy on the test set against the number of labels.

fig, ax = plt.subplots(figsize=(6, 3.5))
for strategy, (sizes, scores) in curves.items():
    ax.plot(sizes, scores, marker="o", markersize=3, label=strategy)
ax.set_xlabel("labels")
ax.set_ylabel("test accuracy")
ax.legend()
fig.tight_layout()
