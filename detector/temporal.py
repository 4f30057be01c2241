"""Warp consistency: how much of a face's change over one second an image warp explains.

A renderer that animates one photo (ours, and single-image animators generally) makes every frame by
warping that photo, so once two frames a second apart are aligned with optical flow their fine texture
matches almost exactly. In real footage skin, light and sensor noise change in ways no warp explains.
The cue is the median, over pairs of face crops `DT` seconds apart, of the correlation between their
high-passed central face after DIS optical-flow alignment. It has no weights; its settings (DT, SIGMA,
REGION, the median) were chosen on the training identities among 48 combinations, and the detector's video
calibration weighs it against the frame logits. A video of a still photo (a slideshow, a pan across a
picture) is warp-consistent too and will look generated to this cue.
"""
from __future__ import annotations

import numpy as np

DT = 1.0                                    # seconds between the two crops of a pair
TOLERANCE = 0.15                            # seconds of slack in finding a pair's second crop
SIGMA = 3.0                                 # high-pass: the image minus its Gaussian blur at this sigma
REGION = (slice(16, 96), slice(16, 112))    # brows to mouth, cheek to cheek, in the 128 px aligned crop


def pair_consistency(g1: np.ndarray, g2: np.ndarray, flow) -> float:
    """Correlation of the high-passed REGION of grey crop `g1` and of grey crop `g2` warped onto it by `flow`
    (an OpenCV DIS optical flow)."""
    import cv2

    f = flow.calc(g1, g2, None)
    h, w = g1.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(g2, gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR)

    def high_pass(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32)
        return (x - cv2.GaussianBlur(x, (0, 0), SIGMA))[REGION].ravel()

    p, q = high_pass(g1), high_pass(warped)
    p, q = p - p.mean(), q - q.mean()
    return float((p @ q) / (np.sqrt((p @ p) * (q @ q)) + 1e-6))


def crop_pairs(times: np.ndarray, dt: float = DT, tolerance: float = TOLERANCE) -> list[tuple[int, int]]:
    """(i, j) with times[j] - times[i] within `tolerance` of `dt` (the nearest such j for each i)."""
    times = np.asarray(times, np.float64)
    out = []
    for i, t in enumerate(times):
        gap = np.abs(times - t - dt)
        j = int(np.argmin(gap))
        if gap[j] <= tolerance and j != i:
            out.append((i, j))
    return out


def consistencies(crops: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per crop (RGB uint8): its consistency with the crop DT later; NaN where there is none."""
    import cv2

    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(np.ascontiguousarray(x), cv2.COLOR_RGB2GRAY) for x in crops]
    out = np.full(len(crops), np.nan)
    for i, j in crop_pairs(times):
        out[i] = pair_consistency(grey[i], grey[j], flow)
    return out


def summary(values: np.ndarray) -> float:
    """A stretch's cue from its crops' `consistencies`: their median; NaN where none was measured."""
    values = np.asarray(values)[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")


def warp_consistency(crops: np.ndarray, times: np.ndarray) -> float:
    """The video's cue: median consistency over its crop pairs DT apart; NaN with no such pair
    (a clip shorter than DT, or frames sampled less often than once per DT)."""
    return summary(consistencies(crops, times))
