"""Detection metrics shared by detector training, its benchmarks and the evaluation harness: labels are 1 for
fake, scores are higher for more likely fake. One home, so every table computes them the same way."""
from __future__ import annotations

import numpy as np


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    return float(roc_auc_score(y, np.asarray(s, float))) if len(set(y.tolist())) == 2 else float("nan")


def tpr_at_fpr(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    """The share of positives above the score that at most `fpr` of negatives exceed (NaN without both classes)."""
    y, s = np.asarray(y), np.asarray(s, float)
    neg, pos = s[y == 0], s[y == 1]
    if not len(neg) or not len(pos):
        return float("nan")
    return float((pos > np.quantile(neg, 1 - fpr, method="higher")).mean())
