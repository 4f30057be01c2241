"""Motion encoder: tracked FaceMesh landmarks -> the `Motion` latent the renderer consumes.

Pose is relative to the clip's mean head pose (so a clip and a portrait share one convention); expression
is a ridge least-squares fit of the canonical-space residual onto the identity's own expression basis,
with the clip's median shape as its neutral. The mouth channels are then shifted so that zero is the clip's
lips at rest, closed (`at_rest`): zero is what the renderer shows as the portrait's own mouth, and almost every
portrait's lips are closed, so a model trained on these latents opens and closes a portrait's mouth as far as the
speaker opened and closed theirs. (Relative to the median shape, a talking mouth's zero is half open: rendered
from closed lips, every opening came out smaller and every closure pressed past closed.)
"""
from __future__ import annotations

import numpy as np

from .. import latent
from ..face.expression import build_basis, canonical_lip_gap
from ..face.geometry import Pose, estimate_pose, euler
from .visemes import channels

REST_SHARE = 0.1  # the clip's most-closed frames (share) whose median mouth is its rest
#: Ridge of the expression fit, relative to each coefficient's reach: a stronger one renders a tracked mouth that
#: opens less than the speaker's, a weaker one follows tracking noise (chosen on training clips by
#: `benchmarks/bench_encode.py`).
RIDGE = 0.1


def _mean_rotation(rots: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(rots.mean(0))
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return r


def encode_landmarks(seq: np.ndarray, fps: float, ridge: float = RIDGE) -> latent.Motion:
    """(T, 478, 3) pixel-space landmarks of one face -> Motion (T frames)."""
    poses = [estimate_pose(lm) for lm in seq]
    canon = np.stack([p.to_canonical(lm) for p, lm in zip(poses, seq)])
    expr = at_rest(fit_expression(canon, np.median(canon, 0), ridge), canonical_lip_gap(canon))
    r0 = _mean_rotation(np.stack([p.rot for p in poses]))
    s0 = float(np.median([p.scale for p in poses]))
    t0 = np.median(np.stack([p.t for p in poses]), 0)
    return latent.Motion(relative_pose(poses, Pose(s0, r0, t0)), expr, fps)


def fit_expression(canon: np.ndarray, neutral: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """(T, 11) coefficients: ridge least squares of canonical shapes (T, 478, 3) minus `neutral` on its own basis."""
    basis = build_basis(neutral).reshape(len(latent.EXPRESSION), -1).T          # (1434, 11)
    gram = basis.T @ basis
    gram = gram + ridge * np.diag(np.diag(gram))  # ridge relative to each coefficient's own reach
    return np.linalg.solve(gram, basis.T @ (canon - neutral).reshape(len(canon), -1).T).T


def at_rest(expr: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """`expr` (T, 11) with the mouth channels shifted so that their median over the `REST_SHARE` most-closed
    frames (by lip `gap`, (T,)) is zero."""
    rest = gap <= np.quantile(gap, REST_SHARE)
    cols = channels()  # the mouth, `visemes.MOUTH`
    out = np.array(expr, np.float64)
    out[:, cols] -= np.median(out[rest][:, cols], 0)
    return out


def from_closed_lips(z: np.ndarray, mouth_open: float) -> np.ndarray:
    """(T, 17) motion latents whose mouth is relative to closed lips (`at_rest`: what the DiT learns and makes) made
    relative to a portrait whose own lip gap is `mouth_open` (`Portrait.mouth_open`), the renderer's zero: the gap is
    taken off the jaw, in place. Without it a portrait taken mid-word or smiling with parted lips never closes them,
    not on a /p/ nor in silence, and opens past the footage's widest."""
    z[:, len(latent.POSE) + latent.EXPRESSION.index("jaw_open")] -= mouth_open
    return z


def relative_pose(poses: list[Pose], ref: Pose) -> np.ndarray:
    """(T, 6) pose latents of `poses` relative to `ref`, in the renderer's convention (`Renderer._posed`)."""
    return np.array([[*euler(ref.rot.T @ p.rot), *((p.t - ref.t)[:2] / ref.scale), np.log(p.scale / ref.scale)]
                     for p in poses])


def resample_motion(m: latent.Motion, fps: float) -> latent.Motion:
    """Linear resampling of a motion sequence to another frame rate."""
    if abs(m.fps - fps) < 1e-6:
        return m
    t_src = np.arange(len(m)) / m.fps
    t_dst = np.arange(int(round(len(m) / m.fps * fps))) / fps
    z = np.stack([np.interp(t_dst, t_src, c) for c in m.latent.T], 1)
    return latent.Motion.from_latent(z, fps)
