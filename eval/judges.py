"""Independent judges: dlib's 68-point landmarks and face-recognition ResNet, networks that are not ours.

The model files ship in the `face-recognition-models` wheel; we locate them with importlib rather than
importing that package (its `__init__` needs the removed `pkg_resources`).
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from likeness.errors import UserError


def model_file(name: str) -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the dlib judge needs `face-recognition-models` (pip install face-recognition-models)")
    path = Path(spec.submodule_search_locations[0]) / "models" / name
    if not path.is_file():
        raise UserError(f"dlib model file missing from face-recognition-models: {path}")
    return path


@lru_cache(maxsize=1)
def _embedder():
    import dlib

    return dlib.face_recognition_model_v1(str(model_file("dlib_face_recognition_resnet_model_v1.dat")))


@lru_cache(maxsize=1)
def _dlib():
    import dlib

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))


class Landmarks68:
    """dlib 68-point landmarks of the largest face, the face detected afresh in every frame: dlib's shape predictor
    was trained on its detector's boxes, and a box that followed the previous frame's landmarks drifted from them
    (its lips read noisy on interview footage; `benchmarks/RESULTS.md`, motion section)."""

    def __init__(self):
        self.detector, self.predictor = _dlib()

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """(68, 2) pixel coordinates, or None when no face is found."""
        rgb = np.ascontiguousarray(rgb)
        up = 0 if min(rgb.shape[:2]) >= 300 else 1
        boxes = self.detector(rgb, up) or (self.detector(rgb, 1) if up == 0 else [])  # small face, big image
        if not len(boxes):
            return None
        shape = self.predictor(rgb, max(boxes, key=lambda b: b.area()))
        return np.array([(p.x, p.y) for p in shape.parts()], np.float64)


def mouth_opening68(lm: np.ndarray) -> float:
    """Inner-lip gap (points 61-67, 62-66, 63-65) over the outer eye-corner distance (36-45)."""
    gap = np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
    return float(gap / np.linalg.norm(lm[36] - lm[45]))


def mouth_track(frames, judge: Landmarks68 | None = None) -> np.ndarray:
    """Mouth opening per frame (NaN where no face is found)."""
    judge = judge or Landmarks68()
    out = []
    for f in frames:
        lm = judge(f)
        out.append(np.nan if lm is None else mouth_opening68(lm))
    return np.array(out)


def face_embedding(rgb: np.ndarray, lm: np.ndarray | None = None) -> np.ndarray | None:
    """128-d dlib face-recognition descriptor of the largest face (None without a face), from its 68-point
    landmarks if already known. Descriptors of one person lie within about 0.6 of each other (dlib's threshold)."""
    import dlib

    lm = Landmarks68()(rgb) if lm is None else lm
    if lm is None:
        return None
    rgb = np.ascontiguousarray(rgb)
    box = dlib.rectangle(*(int(v) for v in (*lm.min(0), *lm.max(0))))
    return np.array(_embedder().compute_face_descriptor(rgb, _dlib()[1](rgb, box)))


# On a generic face, the nose tip stands 0.30 eye-corner distances in front of the eye corners and
# 0.38 below them; where it appears relative to the eyes gives yaw and pitch.
_NOSE_DEPTH, _NOSE_DROP = 0.30, 0.38


def head_pose68(lm: np.ndarray) -> np.ndarray:
    """Approximate (yaw, pitch, roll) in degrees from 2-D landmark geometry: roll from the eye-corner line,
    yaw and pitch from the nose tip's offset from the eyes' midpoint (a generic face; no 3-D fit, so it
    does not jump between mirror solutions the way a 6-point PnP does on small faces)."""
    eye_l, eye_r, nose = lm[36], lm[45], lm[30]
    d = eye_r - eye_l
    iod = float(np.hypot(*d))
    roll = np.arctan2(d[1], d[0])
    c, s = np.cos(-roll), np.sin(-roll)
    off = (nose - (eye_l + eye_r) / 2) @ np.array([[c, s], [-s, c]]) / iod  # rotated into the eye frame
    yaw = np.arcsin(np.clip(off[0] / _NOSE_DEPTH, -1, 1))
    r = np.hypot(_NOSE_DEPTH, _NOSE_DROP)
    pitch = np.arcsin(np.clip(off[1] / r, -1, 1)) - np.arctan2(_NOSE_DROP, _NOSE_DEPTH)
    return np.degrees([yaw, pitch, roll])
