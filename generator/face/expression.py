"""Expression basis: one 3D displacement field over the 478 landmarks per facial-dynamics coefficient.

Built per identity from the portrait's neutral mesh in canonical units (inter-ocular distance 1, y down,
z away from the camera). Coefficient 1.0 is a large but natural movement; negative values move the
other way (frown, brow lowering, eyes widened).

| coefficient     | what 1.0 moves |
|-----------------|----------------|
| `jaw_open`      | mandible rotates down: lower lip, chin and jaw line drop (inner-lip gap ≈ 0.45 IOD), upper lip lifts slightly; the lips part as an arc |
| `mouth_stretch` | mouth corners pulled apart horizontally by 12% of mouth width each ("ee") |
| `lip_pucker`    | corners drawn in by 18% of mouth width, lips pushed forward ("oo") |
| `smile`         | corners out 8% and up 12% of mouth width, cheeks raised; negative: frown |
| `upper_lip`     | upper lip raised by 0.08 IOD |
| `lower_lip`     | lower lip lowered by 0.08 IOD (jaw still) |
| `blink_l/_r`    | left/right upper lid closes onto the lower lid (1 = shut); negative: widen |
| `brow_raise`    | both brows up by 0.12 IOD, forehead and lids follow; negative: frown |
| `gaze_x/_y`     | both irises shift by 20% of eye width, right/down in the image |
"""
from __future__ import annotations

import numpy as np

from .. import latent
from . import topology as topo


def _gauss(v: np.ndarray, c: np.ndarray, sx: float | np.floating, sy: float | np.floating | None = None) -> np.ndarray:
    d = v[:, :2] - c[:2]
    sy = sx if sy is None else sy
    return np.exp(-0.5 * ((d[:, 0] / sx) ** 2 + (d[:, 1] / sy) ** 2))


def _below_lip_line(n: np.ndarray) -> np.ndarray:
    """Soft 0..1 membership of the mandible (below the lips' meeting line), sharp at the lips, soft on the cheeks."""
    c_r, c_l = n[topo.MOUTH_CORNERS[0]], n[topo.MOUTH_CORNERS[1]]
    mid = (n[13] + n[14]) / 2
    x = n[:, 0]
    y_line = np.interp(x, [c_r[0], mid[0], c_l[0]], [c_r[1], mid[1], c_l[1]])
    half_w = (c_l[0] - c_r[0]) / 2
    soft = 0.006 + 0.3 * np.maximum(0.0, np.abs(x - mid[0]) - half_w)
    below = 1 / (1 + np.exp(-(n[:, 1] - y_line) / soft))
    lower = topo.LIPS_INNER_LOWER[1:-1] + topo.LIPS_OUTER_LOWER[1:-1]
    upper = topo.LIPS_INNER_UPPER[1:-1] + topo.LIPS_OUTER_UPPER[1:-1]
    below[lower], below[upper], below[list(topo.MOUTH_CORNERS)] = 1.0, 0.0, 0.5
    return below


def _blink(n: np.ndarray, upper: list[int], lower: list[int], iris: list[int]) -> np.ndarray:
    d = np.zeros_like(n)
    gap = n[lower] - n[upper]
    width = np.linalg.norm(n[upper[0]] - n[upper[-1]])
    # Skin above the lid follows it (the lid fold), fading with distance.
    w = np.max([_gauss(n, n[u], 0.22 * width, 0.3 * width) for u in upper[1:-1]], 0)
    d[:, 1] = w * 0.5 * gap[1:-1, 1].mean()
    below_eye = n[:, 1] > n[lower, 1].mean()
    d[below_eye] *= 0.0
    d[upper[1:-1]] = 0.85 * gap[1:-1]
    d[lower[1:-1]] = -0.15 * gap[1:-1]
    d[iris] = 0.5 * gap[1:-1].mean(0)
    d[[upper[0], upper[-1]]] = 0.0
    return d


def build_basis(n: np.ndarray) -> np.ndarray:
    """(11, 478, 3) displacement basis for the neutral canonical mesh `n` (478, 3), in `latent.EXPRESSION` order."""
    n = np.asarray(n, np.float64)
    basis = {k: np.zeros_like(n) for k in latent.EXPRESSION}
    c_r, c_l = n[topo.MOUTH_CORNERS[0]], n[topo.MOUTH_CORNERS[1]]
    mw = np.linalg.norm(c_l - c_r)
    mid = (n[13] + n[14]) / 2
    below = _below_lip_line(n)
    lip_zone = _gauss(n, mid, 0.55 * mw, 0.18)

    y_hinge, y_chin = n[[33, 263], 1].mean(), n[topo.CHIN, 1]
    hinge = np.clip((n[:, 1] - y_hinge) / (y_chin - y_hinge), 0, 1)
    # The lips open as an arc, not a box: soft tissue anchored at the corners, so on the lips the drop falls
    # from the centre to a quarter at the corners; the chin and jaw below move with the mandible undamped.
    t = np.clip(np.abs(n[:, 0] - mid[0]) / (0.5 * mw), 0, 1)
    arc = 1 - lip_zone * (1 - (0.25 + 0.75 * np.sqrt(1 - t**2)))
    basis["jaw_open"][:, 1] = (0.65 * below * hinge - 0.05 * (1 - below) * lip_zone) * arc

    for corner, side in ((c_r, -1.0), (c_l, 1.0)):
        g = _gauss(n, corner, 0.35 * mw)
        basis["mouth_stretch"][:, 0] += side * 0.12 * mw * g
        basis["lip_pucker"][:, 0] -= side * 0.18 * mw * g
        gs = _gauss(n, corner, 0.45 * mw)
        basis["smile"][:, 0] += side * 0.08 * mw * gs
        basis["smile"][:, 1] -= 0.12 * mw * gs
        cheek = corner + np.array([side * 0.05, -0.4, 0.0])
        basis["smile"][:, 1] -= 0.03 * _gauss(n, cheek, 0.22)
    basis["lip_pucker"][:, 2] -= 0.1 * _gauss(n, mid, 0.6 * mw)

    basis["upper_lip"][:, 1] = -0.08 * (1 - below) * lip_zone
    basis["lower_lip"][:, 1] = 0.08 * below * lip_zone

    basis["blink_l"] = _blink(n, topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER, topo.LEFT_IRIS)
    basis["blink_r"] = _blink(n, topo.RIGHT_EYE_UPPER, topo.RIGHT_EYE_LOWER, topo.RIGHT_IRIS)

    brows = topo.LEFT_BROW + topo.RIGHT_BROW
    w = np.max([_gauss(n, n[b], 0.18) for b in brows], 0)
    w[brows] = 1.0
    eyes = topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER + topo.RIGHT_EYE_UPPER + topo.RIGHT_EYE_LOWER
    w[eyes + topo.LEFT_IRIS + topo.RIGHT_IRIS] *= 0.4
    w[n[:, 1] > n[eyes, 1].max()] = 0.0
    basis["brow_raise"][:, 1] = -0.12 * w

    for upper, iris in ((topo.LEFT_EYE_UPPER, topo.LEFT_IRIS), (topo.RIGHT_EYE_UPPER, topo.RIGHT_IRIS)):
        width = np.linalg.norm(n[upper[0]] - n[upper[-1]])
        basis["gaze_x"][iris, 0] = 0.2 * width
        basis["gaze_y"][iris, 1] = 0.2 * width
    return np.stack([basis[k] for k in latent.EXPRESSION])


def inter_ocular(lm: np.ndarray) -> float:
    eye_r = lm[topo.RIGHT_EYE_UPPER + topo.RIGHT_EYE_LOWER].mean(0)
    eye_l = lm[topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER].mean(0)
    return float(np.linalg.norm((eye_l - eye_r)[:2]))


def canonical_lip_gap(canon: np.ndarray) -> np.ndarray:
    """Inner-lip gap of canonical shapes (..., 478, 3), in inter-ocular units, at the middle of the lips."""
    return np.mean(canon[..., topo.LIPS_INNER_LOWER[3:8], 1] - canon[..., topo.LIPS_INNER_UPPER[3:8], 1], -1)


def mouth_opening(lm: np.ndarray) -> float:
    """Inner-lip gap over inter-ocular distance, for any (478, 2|3) landmark array (a measurement, not the latent)."""
    pairs = [(82, 87), (13, 14), (312, 317)]
    gap = np.mean([np.linalg.norm(lm[a, :2] - lm[b, :2]) for a, b in pairs])
    return float(gap / inter_ocular(lm))
