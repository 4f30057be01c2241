"""Self-blended images (Shiohara & Yamasaki, CVPR 2022): pseudo-fakes made from one real face crop alone.

A copy of the crop is changed a little (colour, sharpness or resolution, a small shift and scale) and pasted
back over the face inside a soft mask drawn from its own landmarks. What is left is what face generators share
and no real camera makes: a blending boundary, a seam in colour and noise, a face region whose statistics differ
from the rest. A classifier that learns this from real faces alone meets generators it never saw better than one
trained on one generator's output (SBI's cross-dataset results; Face X-ray makes the same argument). Two mask
shapes: the whole face (identity swaps) and the lower face around the mouth (lip-sync models paste only that).
"""
from __future__ import annotations

from typing import Any

import numpy as np

NOSE_TIP = 1  # MediaPipe face-mesh index: masks of the lower face start just above it


def face_mask(lm: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A soft (0..1, float32) mask of the face in a crop from its landmarks (N, 2): the hull of all of them or of
    the lower face, randomly dilated or eroded and blurred so its edge is never the same twice."""
    import cv2

    h, w = shape
    pts = np.asarray(lm, np.float32)
    if rng.random() < 0.4:  # the lower face: what a mouth-editing model replaces
        pts = pts[pts[:, 1] >= pts[NOSE_TIP, 1] - 0.05 * h]
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    mask: Any = np.zeros((h, w), np.float32)  # OpenCV's stubs type its results too narrowly for reuse
    cv2.fillConvexPoly(mask, hull, 1.0)
    k = int(rng.integers(1, max(2, h // 16)))
    kernel = np.ones((k, k), np.uint8)
    mask = cv2.dilate(mask, kernel) if rng.random() < 0.5 else cv2.erode(mask, kernel)
    for _ in range(2):  # SBI blurs twice with random kernels: a seam as sharp or as soft as a real one
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.5, h / 24))
        mask = mask / max(float(mask.max()), 1e-6)
    return mask


def _source(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The crop to paste: colour and sharpness (or resolution) changed, shifted and scaled a little."""
    import cv2

    h, w = img.shape[:2]
    x: Any = img.astype(np.float32)
    x = x * rng.uniform(0.9, 1.1, 3) + rng.uniform(-12, 12, 3)          # colour and brightness
    r = rng.random()
    if r < 1 / 3:                                                         # softer
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.2))
    elif r < 2 / 3:                                                       # sharper
        x = x + rng.uniform(0.3, 1.0) * (x - cv2.GaussianBlur(x, (0, 0), 1.0))
    else:                                                                 # lower resolution
        k = rng.uniform(0.4, 0.8)
        small = cv2.resize(x, (max(8, int(w * k)), max(8, int(h * k))), interpolation=cv2.INTER_AREA)
        x = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    m = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, rng.uniform(0.96, 1.04)), np.float64)
    m[:, 2] += rng.uniform(-0.03, 0.03, 2) * (w, h)
    return cv2.warpAffine(x, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def self_blend(img: np.ndarray, lm: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(pseudo-fake RGB uint8, blend mask float32 0..1) from one real crop and its landmarks in crop pixels.
    Outside the mask the crop is untouched; the blend ratio is drawn as in SBI (mostly full strength)."""
    mask = face_mask(lm, img.shape[:2], rng) * rng.choice([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    out = _source(img, rng) * mask[..., None] + img.astype(np.float32) * (1 - mask[..., None])
    out = np.where(mask[..., None] > 0, np.clip(np.round(out), 0, 255), img)
    return out.astype(np.uint8), mask
