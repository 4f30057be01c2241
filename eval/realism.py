"""Realism of one video, judged by networks that are not ours (dlib landmarks and face-recognition ResNet).

Every measure runs the same way on generated and on real videos, so each has a real-footage reference.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from likeness.errors import UserError

from .judges import Landmarks68, face_embedding, head_pose68, mouth_opening68
from .lipsync import audio_envelope, lip_sync
from .motion import window_stats

_MOUTH = slice(48, 68)


def landmark_jitter(lms: np.ndarray) -> float:
    """Mean |x[t+1] - 2 x[t] + x[t-1]| of 68 landmarks over the eye-corner distance: 0 for a still face or
    a face moving at constant speed; tracking noise and temporal flicker raise it. `lms` is (T, 68, 2)."""
    if len(lms) < 3:
        return float("nan")
    iod = np.linalg.norm(lms[:, 36] - lms[:, 45], axis=1).mean()
    acc = lms[2:] - 2 * lms[1:-1] + lms[:-2]
    return float(np.linalg.norm(acc, axis=2).mean() / iod)


def _face_box(lm: np.ndarray, shape: tuple[int, ...], margin: float = 0.15) -> tuple[int, int, int, int]:
    (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    h, w = shape[:2]
    return int(max(0, x0 - mx)), int(max(0, y0 - my)), int(min(w, x1 + mx)), int(min(h, y1 + my))


def flicker(frames: list[np.ndarray], lms: list[np.ndarray]) -> float:
    """Mean absolute grey-level change between consecutive frames inside the face box, the mouth excluded
    (speech moves the mouth; elsewhere frame-to-frame change is head motion plus flicker). 0 for identical frames."""
    diffs = []
    for a, b, lm in zip(frames[:-1], frames[1:], lms[1:]):
        x0, y0, x1, y1 = _face_box(lm, a.shape)
        d = np.abs(a[y0:y1, x0:x1].astype(np.float32).mean(2) - b[y0:y1, x0:x1].astype(np.float32).mean(2))
        m = np.ones(d.shape, bool)
        mx0, my0, mx1, my1 = _face_box(lm[_MOUTH], a.shape, 0.3)
        m[max(0, my0 - y0): max(0, my1 - y0), max(0, mx0 - x0): max(0, mx1 - x0)] = False
        if m.any():
            diffs.append(float(d[m].mean()))
    return float(np.mean(diffs)) if diffs else float("nan")


def sharpness(frame: np.ndarray, lm: np.ndarray) -> float:
    """Variance of the Laplacian of the face region, resized to 128 px wide (higher is sharper)."""
    import cv2

    x0, y0, x1, y1 = _face_box(lm, frame.shape)
    face = cv2.cvtColor(np.ascontiguousarray(frame[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    face = cv2.resize(face, (128, max(8, int(128 * face.shape[0] / max(face.shape[1], 1)))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var())


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@dataclass
class VideoRealism:
    frames: int
    face_fraction: float         # frames where the judge found a face
    identity_similarity: float   # cosine of dlib descriptors, reference face vs frames (1 = same vector)
    identity_distance: float     # dlib's own distance (same person below ~0.6)
    lip_sync_peak: float         # peak correlation of mouth opening with the audio level, lags -10..10
    lip_sync_lag: int            # frames the mouth trails the audio at that peak
    landmark_jitter: float
    flicker: float
    sharpness: float
    head_speed_deg_s: float
    head_range_deg: float

    def to_dict(self) -> dict:
        return asdict(self)


def measure_video(path: Path, reference: np.ndarray | None = None, max_seconds: float | None = None,
                  identity_every: int = 5) -> tuple[VideoRealism, np.ndarray]:
    """Realism of `path` and its per-window head-motion features (for a Fréchet distance against real).

    `reference` is the RGB image whose identity the video should keep (the portrait); None uses the
    video's own first frame with a face (for real footage). Lip sync uses the video's own audio track."""
    from generator.audio import load_audio
    from generator.video import probe, read_frames

    info = probe(path)
    fps = info.get("fps")
    if not fps:
        raise UserError(f"{Path(path).name}: no video stream")
    judge = Landmarks68()
    frames, lms = [], []
    for f in read_frames(path, None if max_seconds is None else int(max_seconds * fps)):
        frames.append(f)
        lms.append(judge(f))
    seen = [i for i, lm in enumerate(lms) if lm is not None]
    if len(seen) < 3:
        raise UserError(f"{Path(path).name}: no face found by the dlib judge")
    ref_emb = face_embedding(reference) if reference is not None else face_embedding(frames[seen[0]], lms[seen[0]])
    if ref_emb is None:
        raise UserError("no face found in the reference image")
    embs = [face_embedding(frames[i], lms[i]) for i in seen[::identity_every]]  # same landmarks as the judge's
    mouth = np.array([np.nan if lm is None else mouth_opening68(lm) for lm in lms])
    if "audio_codec" in info:
        a = load_audio(path, 16_000)
        sync = lip_sync(mouth, audio_envelope(a.samples, a.rate, fps, len(frames)))
    else:
        raise UserError(f"{Path(path).name}: no audio track to judge lip sync against")
    run = np.array(seen)
    posed = np.array([head_pose68(lms[i]) for i in seen])
    t = np.arange(len(frames))
    pose = np.stack([np.interp(t, run, posed[:, k]) for k in range(3)], 1)  # gaps bridged linearly
    speed = np.linalg.norm(np.diff(pose, axis=0), axis=1) * fps
    rng = (np.percentile(pose, 95, 0) - np.percentile(pose, 5, 0)).mean()
    seen_lms = [lms[i] for i in seen]
    seen_frames = [frames[i] for i in seen]
    res = VideoRealism(
        frames=len(frames), face_fraction=len(seen) / len(frames),
        identity_similarity=float(np.mean([cosine(ref_emb, e) for e in embs])) if embs else float("nan"),
        identity_distance=float(np.mean([np.linalg.norm(ref_emb - e) for e in embs])) if embs else float("nan"),
        lip_sync_peak=sync.peak, lip_sync_lag=sync.lag,
        landmark_jitter=landmark_jitter(np.stack(seen_lms)), flicker=flicker(seen_frames, seen_lms),
        sharpness=float(np.mean([sharpness(seen_frames[i], seen_lms[i]) for i in range(0, len(seen), identity_every)])),
        head_speed_deg_s=float(np.mean(speed)), head_range_deg=float(rng))
    return res, window_stats(pose, fps)
