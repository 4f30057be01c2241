"""Detection metrics from labels (1 = fake) and scores (higher = more likely fake)."""
from __future__ import annotations

import numpy as np

from likeness.metrics import auc


def roc_metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """AUC, equal error rate and the true-positive rate at <= 1% false positives (NaN with one class only)."""
    from sklearn.metrics import roc_curve

    y, s = np.asarray(y), np.asarray(s, float)
    if len(set(y.tolist())) < 2:
        return {"auc": float("nan"), "eer": float("nan"), "tpr_at_1fpr": float("nan")}
    fpr, tpr, _ = roc_curve(y, s)
    i = np.argmin(np.abs(fpr - (1 - tpr)))
    return {"auc": auc(y, s), "eer": float((fpr[i] + 1 - tpr[i]) / 2),
            "tpr_at_1fpr": float(tpr[fpr <= 0.01].max())}


def auc_interval(y: np.ndarray, s: np.ndarray, groups: np.ndarray, n: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the AUC that resamples whole groups (people) within each class,
    since videos of one person are not independent evidence."""
    y, s, groups = np.asarray(y), np.asarray(s, float), np.asarray(groups)
    if len(set(y.tolist())) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    members = [[np.flatnonzero((y == k) & (groups == g)) for g in np.unique(groups[y == k])] for k in (0, 1)]
    aucs = []
    for _ in range(n):
        idx = np.concatenate([m[i] for m in members for i in rng.integers(0, len(m), len(m))])
        aucs.append(auc(y[idx], s[idx]))
    lo, hi = np.quantile(aucs, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
