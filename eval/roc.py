"""Detection metrics from labels (1 = fake) and scores (higher = more likely fake)."""
from __future__ import annotations

import numpy as np


def roc_metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """AUC, equal error rate and the true-positive rate at <= 1% false positives (NaN with one class only)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y, s = np.asarray(y), np.asarray(s, float)
    if len(set(y.tolist())) < 2:
        return {"auc": float("nan"), "eer": float("nan"), "tpr_at_1fpr": float("nan")}
    fpr, tpr, _ = roc_curve(y, s)
    i = np.argmin(np.abs(fpr - (1 - tpr)))
    return {"auc": float(roc_auc_score(y, s)), "eer": float((fpr[i] + 1 - tpr[i]) / 2),
            "tpr_at_1fpr": float(tpr[fpr <= 0.01].max())}
