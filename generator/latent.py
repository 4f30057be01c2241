"""The disentangled face latent: per-frame head pose + facial dynamics (identity lives in the Portrait)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Head pose relative to the portrait: radians, inter-ocular units, log of the head's scale.
POSE = ("yaw", "pitch", "roll", "tx", "ty", "log_scale")
#: Facial dynamics; what each one moves is documented in `generator.face.expression`.
EXPRESSION = ("jaw_open", "mouth_stretch", "lip_pucker", "smile", "upper_lip", "lower_lip",
              "blink_l", "blink_r", "brow_raise", "gaze_x", "gaze_y")
DIM = len(POSE) + len(EXPRESSION)
#: Frames per second of motion the learned models are trained and sampled at (the data is resampled to it).
FPS = 25.0
#: The extremes the motion models produce (procedural and DiT over the shared speech, widened): what the renderer
#: must draw without tearing. Expression coefficients one at a time; head poses in `POSE` order.
EXPRESSION_EXTREMES = {"jaw_open": 1.0, "lower_lip": 1.7, "upper_lip": -1.0, "mouth_stretch": 0.5, "lip_pucker": 0.55,
                       "smile": 0.3, "blink_l": 1.0, "brow_raise": 0.6, "gaze_x": 1.2}
POSE_LIMITS = ((0.2, 0.16, 0.12, 0, 0, 0), (-0.2, -0.16, -0.12, 0, 0, 0), (0.2, -0.16, 0.0, 0.3, 0.3, 0.04),
               (-0.2, 0.16, 0.0, -0.3, -0.3, -0.04))


@dataclass
class Motion:
    """A motion sequence: `pose` (T, 6) and `expr` (T, 11) at `fps`. All zeros reproduces the portrait."""

    pose: np.ndarray
    expr: np.ndarray
    fps: float

    def __post_init__(self) -> None:
        self.pose = np.asarray(self.pose, np.float32).reshape(-1, len(POSE))
        self.expr = np.asarray(self.expr, np.float32).reshape(-1, len(EXPRESSION))
        if len(self.pose) != len(self.expr):
            raise ValueError(f"pose has {len(self.pose)} frames but expr has {len(self.expr)}")

    def __len__(self) -> int:
        return len(self.pose)

    def __getitem__(self, i: int | slice) -> "Motion":
        sl = i if isinstance(i, slice) else slice(i, i + 1)
        return Motion(self.pose[sl], self.expr[sl], self.fps)

    @classmethod
    def zeros(cls, frames: int, fps: float) -> "Motion":
        return cls(np.zeros((frames, len(POSE))), np.zeros((frames, len(EXPRESSION))), fps)

    @classmethod
    def from_latent(cls, z: np.ndarray, fps: float) -> "Motion":
        return cls(z[:, : len(POSE)], z[:, len(POSE):], fps)

    @property
    def latent(self) -> np.ndarray:
        """(T, 17) vector per frame, the representation the motion models generate."""
        return np.concatenate([self.pose, self.expr], 1)

    def channel(self, name: str) -> np.ndarray:
        if name in POSE:
            return self.pose[:, POSE.index(name)]
        return self.expr[:, EXPRESSION.index(name)]
