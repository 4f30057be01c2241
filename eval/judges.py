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
def _dlib():
    import dlib

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))


class Landmarks68:
    """dlib 68-point landmarks of the largest face; remembers the last box so a clip needs few detections."""

    def __init__(self, redetect_every: int = 10):
        self.detector, self.predictor = _dlib()
        self.redetect_every = redetect_every
        self._box, self._calls = None, 0

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """(68, 2) pixel coordinates, or None when no face is found."""
        import dlib

        rgb = np.ascontiguousarray(rgb)
        if self._box is None or self._calls % self.redetect_every == 0:
            boxes = self.detector(rgb, 0 if min(rgb.shape[:2]) >= 300 else 1)
            self._box = max(boxes, key=lambda b: b.area()) if len(boxes) else None
        self._calls += 1
        if self._box is None:
            return None
        shape = self.predictor(rgb, self._box)
        pts = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
        self._box = dlib.rectangle(*(int(v) for v in (*pts.min(0), *pts.max(0))))  # follow the face
        return pts


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
