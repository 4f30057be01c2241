"""The mouth view: a patch around the lips cut from the aligned face crop, for a second network of its own.

Every talking-face generator makes the mouth (lip shapes, teeth, tongue, the inside of the mouth) from audio
or from another face, and each does it in its own way; the rest of the frame is often the source's own
pixels. A network that only sees the mouth learns what those generators share and the people in the
footage do not, and on the leave-family-out protocol it meets unseen generator families far better than
the whole-face network does (benchmarks/RESULTS.md). The patch is cut from the same 128 px crop the
face network sees, so training crops and scanned faces give the same patches.
"""
from __future__ import annotations

import numpy as np

MOUTH = 64                          # patch pixels, square
POOL = 0.25                         # a video's mouth logit: the mean of this share of its least suspicious frames
LIPS = (13, 14, 61, 291, 0, 17)     # MediaPipe face-mesh points whose mean is the patch's centre
EYES = (33, 263)                    # outer eye corners: the patch's side is SPAN times their distance
SPAN = 0.83


def mouth_transform(lm: np.ndarray) -> np.ndarray:
    """The 2x3 affine map from face-crop pixels to the mouth patch, for the face's landmarks (N, 2) in the crop."""
    lm = np.asarray(lm, np.float32)
    centre = lm[list(LIPS), :2].mean(0)
    side = max(SPAN * float(np.linalg.norm(lm[EYES[0], :2] - lm[EYES[1], :2])), 8.0)
    k = MOUTH / side
    x0, y0 = centre - side / 2
    return np.array([[k, 0, -x0 * k], [0, k, -y0 * k]], np.float32)


def mouth_patch(crop: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The (MOUTH, MOUTH, 3) uint8 patch around the lips of one face crop."""
    import cv2

    return cv2.warpAffine(crop, mouth_transform(lm), (MOUTH, MOUTH), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def mouth_patches(crops: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`mouth_patch` of each crop: (N, MOUTH, MOUTH, 3) uint8."""
    out = [mouth_patch(c, lm) for c, lm in zip(crops, landmarks)]
    return np.stack(out) if out else np.zeros((0, MOUTH, MOUTH, 3), np.uint8)


def patch_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """Face-crop landmarks (N, P, 2) carried into their mouth patches' pixels."""
    out = [lm @ m[:, :2].T + m[:, 2] for lm, m in ((np.asarray(lm, np.float32), mouth_transform(lm)) for lm in landmarks)]
    return np.stack(out).astype(landmarks.dtype) if out else landmarks


def pool(logits: np.ndarray) -> float:
    """A video's mouth logit from its frames': the mean of the lowest POOL share (at least one frame). A generator
    makes every frame's mouth, so even its most natural-looking frames read as made; real footage has a few frames
    that look made (motion blur, a hand, a compression burst), and a mean counts them. On the leave-family-out folds
    this read unseen families better than the mean in two seeds (benchmarks/RESULTS.md)."""
    v = np.sort(np.asarray(logits, np.float64).ravel())
    return float(v[: max(1, int(len(v) * POOL))].mean()) if len(v) else float("nan")
