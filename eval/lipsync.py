"""Lip sync: how well mouth opening follows the audio level, and at which lag."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def audio_envelope(samples: np.ndarray, rate: int, fps: float, frames: int) -> np.ndarray:
    """RMS level per video frame (linear), `frames` long (zero past the end of the audio)."""
    edges = (np.arange(frames + 1) / fps * rate).astype(int)
    x = np.asarray(samples, np.float64)
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    lo, hi = np.minimum(edges[:-1], len(x)), np.minimum(edges[1:], len(x))
    return np.sqrt((c[hi] - c[lo]) / np.maximum(hi - lo, 1))


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
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@dataclass
class SyncResult:
    lag: int             # frames the mouth trails the audio (negative: it leads)
    peak: float          # correlation at that lag
    at_zero: float       # correlation without a shift
    curve: dict[int, float]


def lip_sync(mouth: np.ndarray, envelope: np.ndarray, max_lag: int = 10) -> SyncResult:
    """Best lag in [-max_lag, max_lag] frames and the peak correlation between mouth opening and audio level."""
    curve = {k: lagged_correlation(mouth, envelope, k) for k in range(-max_lag, max_lag + 1)}
    finite = {k: v for k, v in curve.items() if np.isfinite(v)}
    if not finite:
        return SyncResult(0, float("nan"), float("nan"), curve)
    lag = max(finite, key=finite.get)
    return SyncResult(lag, finite[lag], curve[0], curve)
