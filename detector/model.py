"""The detector networks (timm backbones trained from scratch: the whole face, and the mouth), checkpoint, scoring."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likeness.files import atomic_path

from .calibration import Calibration, VideoCalibration, pick
from .temporal import RealNorm

DEFAULT_CHECKPOINT = Path(__file__).parent / "assets" / "detector.pt"


@dataclass
class DetectorConfig:
    arch: str = "resnet18"
    size: int = 112          # input pixels (the 128 px face crop, resized)
    drop_rate: float = 0.2

    @classmethod
    def from_dict(cls, d: dict) -> "DetectorConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def create(cfg: DetectorConfig):
    """The backbone with one logit out; random weights (nothing is downloaded)."""
    import timm

    return timm.create_model(cfg.arch, pretrained=False, num_classes=1, drop_rate=cfg.drop_rate)


def to_tensor(crops: np.ndarray, size: int):
    """(N, H, W, 3) uint8 RGB -> normalised (N, 3, size, size) float tensor."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div_(255).sub_(0.5).div_(0.25)
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x


class Detector:
    """Scores face crops: calibrated probability that each crop is generated."""

    def __init__(self, net, cfg: DetectorConfig, calibration: Calibration, threshold: float = 0.5, info: dict | None = None,
                 videos: list[VideoCalibration] | None = None, norm: RealNorm | None = None,
                 mouth: tuple[Any, DetectorConfig] | None = None):
        self.net, self.cfg, self.calibration, self.threshold = net.eval(), cfg, calibration, threshold
        self.videos = videos or []  # mean frame logit + video cues (detector.calibration), one per cue set
        self.norm = norm            # real footage's warp consistency for its face motion (the `excess` cue, an ablation)
        self.mouth = (mouth[0].eval(), mouth[1]) if mouth else None  # the mouth view's network (detector.mouth)
        self.info = info or {}

    @classmethod
    def load(cls, path: Path | None = None) -> "Detector":
        from likeness.checkpoints import checkpoint

        with checkpoint(path or DEFAULT_CHECKPOINT, "detector", "run `make train-detector`") as ck:
            cfg = DetectorConfig.from_dict(ck["config"])
            net = _network(cfg, ck["state"])
            norm, mouth = ck.get("temporal_norm"), ck.get("mouth")
            if mouth:
                mouth_cfg = DetectorConfig.from_dict(mouth["config"])
                mouth = (_network(mouth_cfg, mouth["state"]), mouth_cfg)
            return cls(net, cfg, Calibration(**ck["calibration"]), float(ck["threshold"]), ck.get("info", {}),
                       [VideoCalibration(**v) for v in ck.get("video_calibrations", [])], RealNorm(**norm) if norm else None,
                       mouth)

    def logits(self, crops: np.ndarray, batch: int = 64) -> np.ndarray:
        """The face network's logit per (128 px) face crop."""
        return _logits(self.net, self.cfg, crops, batch)

    def mouth_logits(self, crops: np.ndarray, landmarks: np.ndarray, batch: int = 64) -> np.ndarray:
        """The mouth network's logit per face crop (its mouth patch, cut by the crop's landmarks); NaN without one."""
        from .mouth import mouth_patches

        if self.mouth is None:
            return np.full(len(crops), np.nan, np.float32)
        return _logits(*self.mouth, mouth_patches(crops, landmarks), batch)

    def probabilities(self, crops: np.ndarray) -> np.ndarray:
        return self.calibration(self.logits(crops))

    def calibrated(self, logits: np.ndarray, cues: dict[str, float | None] | None = None) -> np.ndarray:
        """P(generated) for frame logits (or a video's mean logit), together with the video's cues
        (`temporal`, `reference`, `excess`) through the checkpoint's calibration for the most cues at hand."""
        cal = pick(self.videos, cues or {})
        return cal(logits, cues) if cal else self.calibration(logits)

    def has_cue(self, name: str) -> bool:
        return any(name in c.cues for c in self.videos)

    def save(self, path: Path, info: dict) -> None:
        """Half-precision weights (small enough to commit), config, calibration, threshold; written atomically."""
        import torch

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        def half(net) -> dict:
            return {k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}

        mouth = {"config": asdict(self.mouth[1]), "state": half(self.mouth[0])} if self.mouth else None
        with atomic_path(path) as tmp:
            torch.save({"config": asdict(self.cfg), "state": half(self.net), "calibration": asdict(self.calibration),
                        "threshold": self.threshold, "info": info, "format": 2,
                        "video_calibrations": [asdict(v) for v in self.videos],
                        "temporal_norm": asdict(self.norm) if self.norm else None, "mouth": mouth}, tmp)


def _network(cfg: DetectorConfig, state: dict):
    net = create(cfg)
    net.load_state_dict({k: v.float() for k, v in state.items()})
    return net


def _logits(net, cfg: DetectorConfig, images: np.ndarray, batch: int) -> np.ndarray:
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            out.append(net(to_tensor(images[i: i + batch], cfg.size))[:, 0].numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def threshold_meaning(checkpoint: Path | None = None) -> str:
    """What the checkpoint's verdict threshold means, in a sentence for reports and the CLI."""
    import json

    path = Path(checkpoint or DEFAULT_CHECKPOINT).with_suffix(".json")
    info = json.loads(path.read_text()) if path.is_file() else {}
    if "threshold_fpr" not in info:
        return "the threshold is the checkpoint's even-odds point."
    return (f"set so that at most {info['threshold_fpr']:.0%} of real videos score above it, on "
            f"{info['threshold_real_videos']} videos of {info['threshold_real_people']} people the detector never trained on"
            + (f", each also in {info['threshold_looks']} degraded looks." if info.get("threshold_looks") else "."))
