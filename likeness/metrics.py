"""Metrics shared by training, benchmarks and the evaluation harness, so every table computes them the same way.
Detection: labels are 1 for fake, scores are higher for more likely fake. Lip sync: lagged correlations."""
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


def lagged_correlation(x: np.ndarray, y: np.ndarray, lag: int) -> float:
    """Pearson correlation of x[t + lag] with y[t] over the overlap (NaNs ignored)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if lag >= 0:
        a, b = x[lag:], y[: len(y) - lag if lag else len(y)]
    else:
        a, b = x[:lag], y[-lag:]
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:  # constant (std rounds to 1e-17, not 0)
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def best_lag_correlation(x: np.ndarray, y: np.ndarray, max_lag: int = 3) -> float:
    """The highest `lagged_correlation` of x with y over lags within ±max_lag frames (NaN if none is defined):
    lip sync forgives a mouth that leads or trails its sound by a frame or two."""
    r = [lagged_correlation(x, y, k) for k in range(-max_lag, max_lag + 1)]
    return float(np.nanmax(r)) if np.isfinite(r).any() else float("nan")
