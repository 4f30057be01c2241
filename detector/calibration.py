"""From logits to probabilities: Platt scaling of frame logits, and video calibrations that weigh the mean
frame logit together with video-level cues (`temporal`: warp consistency, `reference`: the logit of a
rendering of the same face), all fitted with scikit-learn on validation data.

Both classes weigh the same in every fit, so P = 0.5 means even odds whatever the mix of real and generated
validation data (the data builder renders several fakes per real person; that ratio is no prior)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@dataclass
class Calibration:
    """Platt scaling fitted on validation frames: p = sigmoid(a * logit + b)."""
    a: float = 1.0
    b: float = 0.0

    def __call__(self, logits: np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * np.asarray(logits) + self.b)

    @classmethod
    def fit(cls, y: np.ndarray, logits: np.ndarray) -> "Calibration":
        from sklearn.linear_model import LogisticRegression

        if len(set(np.asarray(y).tolist())) < 2:
            return cls()
        lr = LogisticRegression(C=1e4, class_weight="balanced").fit(np.asarray(logits)[:, None], y)
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]))


@dataclass
class VideoCalibration:
    """p(generated) = sigmoid(weight * mean frame logit + sum(cue_weights[k] * cue_k) + bias)."""
    cues: list[str]
    weight: float
    cue_weights: list[float]
    bias: float

    def __call__(self, logits: np.ndarray, cues: dict[str, float]) -> np.ndarray:
        z = self.weight * np.asarray(logits, np.float64) + self.bias
        return _sigmoid(z + sum(w * cues[k] for k, w in zip(self.cues, self.cue_weights)))

    @classmethod
    def fit(cls, logits: np.ndarray, cues: dict[str, np.ndarray], y: np.ndarray, c: float = 10.0) -> "VideoCalibration":
        """L2-regularised logistic regression of the video label on (mean frame logit, *cues), the two classes
        weighed alike, each feature standardised first so the penalty treats them alike (weights are returned
        on the original scale)."""
        from sklearn.linear_model import LogisticRegression

        names = sorted(cues)
        x = np.c_[np.asarray(logits, np.float64), *[np.asarray(cues[k], np.float64) for k in names]]
        mu, sd = x.mean(0), x.std(0) + 1e-9
        lr = LogisticRegression(C=c, class_weight="balanced").fit((x - mu) / sd, y)
        w = lr.coef_[0] / sd
        return cls(names, float(w[0]), [float(v) for v in w[1:]], float(lr.intercept_[0] - w @ mu))


def pick(calibrations: list[VideoCalibration], cues: dict[str, float | None]) -> VideoCalibration | None:
    """The calibration that uses the most of the cues at hand (finite values), or None if none fits."""
    have = {k for k, v in cues.items() if v is not None and np.isfinite(v)}
    usable = [c for c in calibrations if set(c.cues) <= have]
    return max(usable, key=lambda c: len(c.cues), default=None)
