"""The motion DiT's shape and settings, without torch: the runtime (onnxruntime) reads them as training wrote them."""
from __future__ import annotations

from dataclasses import asdict, dataclass

CONTROL_NAMES = ("gaze_x", "gaze_y", "head_distance", "smile", "brow_raise")


@dataclass
class DiTConfig:
    latent_dim: int = 17
    audio_dim: int = 94      # log-mel, level, pitch (82) + viseme classes (12); any per-frame feature width works
    control_dim: int = len(CONTROL_NAMES)
    window: int = 50         # frames generated per window (2 s at 25 fps)
    prefix: int = 10         # frames of the previous window conditioning the next
    d_model: int = 96
    n_layers: int = 4
    n_heads: int = 4
    dropout: float = 0.4
    sample_steps: int = 8
    auto_gain: bool = True   # loudness-normalise our features (`data.normalise_loudness`); off for other encoders

    @classmethod
    def from_dict(cls, d: dict) -> "DiTConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def config_dict(cfg: DiTConfig) -> dict:
    return asdict(cfg)
