"""Warp consistency: how much of a face's change over one second an image warp explains.

A renderer that animates one photo (ours, and single-image animators generally) makes every frame by
warping that photo, so once two frames a second apart are aligned with optical flow their fine texture
matches almost exactly. In real footage skin, light and sensor noise change in ways no warp explains.
The cue is the median, over pairs of face crops `DT` seconds apart, of the correlation between their
high-passed central face after DIS optical-flow alignment. It has no weights. DT and SIGMA are the best of
`benchmarks/bench_temporal.py`'s sweep on the training identities (see benchmarks/RESULTS.md); REGION and
the median were chosen on them too, in an earlier sweep (on crops made before they were anti-aliased). The
detector's video calibration weighs the cue against the frame logits.

A video of a still photo (a slideshow, a pan across a picture) is warp-consistent too, but its face does
not move: once crops are aligned, what is left of the flow after the best affine fit (the face's own,
non-rigid motion: lips, jaw, eyes) is at most 0.12 px over 1 s for pans over the training portraits (one with
a flickering face track aside), against 0.23 px and more for every filmed and generated talking face of the
training identities, clean or re-encoded. Below MIN_MOTION, chosen between the two, the cue is not measured
(NaN) and the verdict rests on the frames.

How consistent real footage is depends on how much its face moves: a speaker who sits still, filmed at low
resolution (GRID's 360x288 MPEG-1), is as consistent as a warp, one who moves is not. `RealNorm` holds that
dependence as real training videos show it (fitted on real videos alone), and its `excess` is how much more
consistent than real footage with the same motion a video is. Checkpoints carry a calibration on it, but the
scanner weighs the raw cue: on the leave-family-out protocol the excess lost on four folds of five
(benchmarks/RESULTS.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np

DT = 1.0                                    # seconds between the two crops of a pair
TOLERANCE = 0.15                            # seconds of slack in finding a pair's second crop
SIGMA = 14.0                                # high-pass: the image minus its Gaussian blur at this sigma
REGION = (slice(16, 96), slice(16, 112))    # brows to mouth, cheek to cheek, in the 128 px aligned crop
MIN_MOTION = 0.17                           # px of non-rigid motion over DT (median of pairs), below which the face is still


def align(g1: np.ndarray, g2: np.ndarray, flow) -> tuple[np.ndarray, float]:
    """Grey crop `g2` warped onto grey crop `g1` by `flow` (an OpenCV DIS optical flow), and the mean length (px)
    of the flow in REGION that no affine map explains (the face's own motion, not the camera's or the alignment's)."""
    import cv2

    f = flow.calc(g1, g2, None)
    gx, gy, xy = _grid(*g1.shape)
    warped = cv2.remap(g2, gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR)
    uv = f[REGION].reshape(-1, 2)
    affine, *_ = np.linalg.lstsq(xy, uv, rcond=None)
    return warped, float(np.linalg.norm(uv - xy @ affine, axis=1).mean())


def texture_correlation(a: np.ndarray, b: np.ndarray, sigma: float = SIGMA) -> float:
    """Correlation of two aligned grey crops' REGION after a high-pass (the image minus its Gaussian blur at `sigma`)."""
    import cv2

    def high_pass(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32)
        x = (x - cv2.GaussianBlur(x, (0, 0), sigma))[REGION].ravel()
        return x - x.mean()

    p, q = high_pass(a), high_pass(b)
    return float((p @ q) / (np.sqrt((p @ p) * (q @ q)) + 1e-6))


@lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel x and y coordinates of an h x w crop, and REGION's (x, y, 1) rows for the affine fit."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return gx, gy, np.c_[gx[REGION].ravel(), gy[REGION].ravel(), np.ones(gx[REGION].size, np.float32)]


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


def aligned_pairs(crops: np.ndarray, times: np.ndarray, dt: float = DT) -> Iterator[tuple[int, np.ndarray, np.ndarray, float]]:
    """For each pair of crops (RGB uint8) `dt` apart (`crop_pairs`): the first one's index, it in grey, the second
    warped onto it, and the face's motion between them (`align`)."""
    import cv2

    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]  # not in the stubs
    grey = [cv2.cvtColor(np.ascontiguousarray(x), cv2.COLOR_RGB2GRAY) for x in crops]
    for i, j in crop_pairs(times, dt):
        warped, motion = align(grey[i], grey[j], flow)
        yield i, grey[i], warped, motion


def consistencies(crops: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per crop (RGB uint8): its consistency with the crop DT later (`texture_correlation` once aligned) and the
    face's motion between them (`aligned_pairs`); NaN where there is no such crop."""
    consistency, motion = np.full(len(crops), np.nan), np.full(len(crops), np.nan)
    for i, grey, warped, m in aligned_pairs(crops, times):
        consistency[i], motion[i] = texture_correlation(grey, warped), m
    return consistency, motion


def face_motion(motion: np.ndarray) -> float:
    """A stretch's face motion: the median over its pairs (`consistencies`); NaN where none was measured."""
    motion = np.asarray(motion)[np.isfinite(motion)]
    return float(np.median(motion)) if len(motion) else float("nan")


def is_still(motion: float) -> bool:
    """A face whose `face_motion` is below MIN_MOTION (or was not measured): a still picture, which any warp explains."""
    return not motion >= MIN_MOTION


def summary(consistency: np.ndarray, motion: np.ndarray) -> float:
    """A stretch's cue: the median consistency of its pairs; NaN where none was measured or where the face
    did not move (`is_still`)."""
    consistency = np.asarray(consistency)[np.isfinite(consistency)]
    if not len(consistency) or is_still(face_motion(motion)):
        return float("nan")
    return float(np.median(consistency))


def warp_consistency(crops: np.ndarray, times: np.ndarray) -> float:
    """The video's cue (`summary` of its `consistencies`): NaN with no pair DT apart (a clip shorter than DT,
    or frames sampled less often than once per DT) or a face that does not move."""
    return summary(*consistencies(crops, times))


def _inconsistency(consistency) -> np.ndarray:
    """-log(1 - consistency): the cue on a scale where it is close to linear in log face motion."""
    return -np.log1p(-np.minimum(np.asarray(consistency, np.float64), 1 - 1e-5))


@dataclass
class RealNorm:
    """What warp consistency real footage shows for the face motion it has: -log(1 - consistency) ~ slope *
    log(face motion) + intercept, with residual spread `sd` (a least-squares line over real videos)."""
    slope: float
    intercept: float
    sd: float

    def excess(self, consistency, motion) -> np.ndarray:
        """How much more consistent than real footage with the same motion, in units of `sd` (NaN where either is)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = self.slope * np.log(np.asarray(motion, np.float64)) + self.intercept
            return (_inconsistency(consistency) - expected) / self.sd

    @classmethod
    def fit(cls, consistency: np.ndarray, motion: np.ndarray, min_videos: int = 5) -> "RealNorm | None":
        """The line through real videos' (log face motion, -log(1 - consistency)); None with fewer than
        `min_videos` measured ones (too few to say what real footage does)."""
        c, m = np.asarray(consistency, np.float64), np.asarray(motion, np.float64)
        ok = np.isfinite(c) & np.isfinite(m) & (m > 0)
        if ok.sum() < min_videos:
            return None
        x, y = np.log(m[ok]), _inconsistency(c[ok])
        slope, intercept = np.polyfit(x, y, 1)
        return cls(float(slope), float(intercept), float(np.std(y - (slope * x + intercept)) + 1e-6))
