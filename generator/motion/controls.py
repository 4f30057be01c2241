"""User controls shared by every motion model: gaze, head distance, emotion, pose amplitude."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import latent
from ..options import CONTROLS, EMOTIONS
from likeness.errors import UserError

@dataclass(frozen=True)
class Controls:
    """`gaze` (x, y): main gaze direction in [-1, 1] (right/down positive); `head_distance`: log scale of
    the head (positive is closer); `emotion`: a key of EMOTIONS; `pose_scale`: head-motion amplitude."""

    gaze: tuple[float, float] = (0.0, 0.0)
    head_distance: float = 0.0
    emotion: str = "neutral"
    pose_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.emotion not in EMOTIONS:
            raise UserError(f"unknown emotion {self.emotion!r}; choose one of {', '.join(EMOTIONS)}")
        for name, value in (("gaze_x", self.gaze[0]), ("gaze_y", self.gaze[1]), ("pose_scale", self.pose_scale),
                            ("head_distance", self.head_distance)):
            CONTROLS[name].check(name, value)

    def emotion_offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """(pose offset (6,), expression offset (11,)) for the chosen emotion."""
        pose, expr = np.zeros(len(latent.POSE)), np.zeros(len(latent.EXPRESSION))
        for k, v in EMOTIONS[self.emotion].items():
            if k in latent.POSE:
                pose[latent.POSE.index(k)] = v
            else:
                expr[latent.EXPRESSION.index(k)] = v
        return pose, expr


def parse_gaze(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"gaze must look like 'x,y' (e.g. 0.2,-0.1), got {text!r}") from None
    return x, y
