"""From logits to probabilities: Platt scaling of frame logits, and video calibrations that weigh the mean
frame logit together with video-level cues (`mouth`: the mouth network's pooled logit, `temporal`: warp
consistency, `reference`: the logit of a rendering of the same face), fitted on validation data.

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
        on the original scale), and each weight kept to its cue's `DIRECTION`: a few validation videos of the
        families seen in training must not teach that a higher frame logit means real."""
        from scipy.optimize import minimize

        names = sorted(cues)
        x = np.c_[np.asarray(logits, np.float64), *[np.asarray(cues[k], np.float64) for k in names]]
        y = np.asarray(y)
        mu, sd = x.mean(0), x.std(0) + 1e-9
        xs, sign = (x - mu) / sd, 2.0 * y - 1
        weight = np.where(y == 1, len(y) / (2 * max(1, y.sum())), len(y) / (2 * max(1, (1 - y).sum())))

        def loss(p: np.ndarray) -> tuple[float, np.ndarray]:  # sklearn's objective: C * weighted log-loss + |w|^2 / 2
            m = -sign * (xs @ p[:-1] + p[-1])
            g = weight * sign * -_sigmoid(m)
            return float(c * weight @ np.logaddexp(0, m) + 0.5 * p[:-1] @ p[:-1]), np.r_[c * xs.T @ g + p[:-1], c * g.sum()]

        bounds = [(0, None)] + [{1: (0, None), -1: (None, 0)}.get(DIRECTION.get(k, 0), (None, None)) for k in names] + [(None, None)]
        p = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
        w = p[:-1] / sd
        return cls(names, float(w[0]), [float(v) for v in w[1:]], float(p[-1] - w @ mu))

    @classmethod
    def standardised(cls, logits: np.ndarray | None, cues: dict[str, np.ndarray], y: np.ndarray,
                     real: dict[str, tuple[float, float]]) -> "VideoCalibration":
        """Each feature (the mean frame logit unless `logits` is None, and every cue) counted in real footage's
        standard deviations from real footage's mean (`real`: name -> (mean, sd); "logit" for the frame logit),
        turned to its `DIRECTION` and summed with equal weights; only the sum's scale and offset are fitted on
        the validation videos. Weights fitted on validation videos learn the families that happen to be there
        (a network scores the families it trained on far better than new ones); what real footage looks like
        does not depend on them (benchmarks/RESULTS.md, leave-family-out)."""
        names = sorted(cues)
        scale = {k: DIRECTION.get(k, 1) / max(real[k][1], 1e-6) for k in (["logit"] if logits is not None else []) + names}
        z = sum(scale[k] * (np.asarray(cues[k], np.float64) - real[k][0]) for k in names)
        if logits is not None:
            z = z + scale["logit"] * (np.asarray(logits, np.float64) - real["logit"][0])
        fit = cls.fit(np.asarray(z, np.float64) * np.ones(len(y)), {}, y)
        a = fit.weight
        return cls(names, a * scale.get("logit", 0.0), [a * scale[k] for k in names],
                   fit.bias - a * sum(scale[k] * real[k][0] for k in scale))


#: Which way each cue points to "generated" (the frame logit always up): a more warp-consistent face than real
#: footage shows is a renderer's sign; a high logit on a rendering of the same face explains the suspect's away.
DIRECTION = {"temporal": 1, "excess": 1, "reference": -1, "mouth": 1}


def pick(calibrations: list[VideoCalibration], cues: dict[str, float | None]) -> VideoCalibration | None:
    """The calibration that uses the most of the cues at hand (finite values), or None if none fits."""
    have = {k for k, v in cues.items() if v is not None and np.isfinite(v)}
    usable = [c for c in calibrations if set(c.cues) <= have]
    return max(usable, key=lambda c: len(c.cues), default=None)
