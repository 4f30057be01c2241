"""Detectors under evaluation: ours, and any a researcher registers, behind one small interface.

A detector scores a video file: a video-level score (higher = more likely fake) and, when it has them,
per-frame scores. Register your own as a callable `frames -> score` (RGB uint8 frames sampled at 2 per
second, at most 10 s), either with `likeness eval run --detector NAME=module:function` or through the
`likeness.detectors` entry-point group of your package.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from likeness.errors import UserError

ENTRY_POINT_GROUP = "likeness.detectors"


@dataclass
class Score:
    video: float
    frames: list[float] = field(default_factory=list)


class VideoDetector(Protocol):
    name: str

    def score(self, path: Path) -> Score: ...


class LikenessDetector:
    """The shipped classifier, run exactly as `likeness scan` runs it (provenance checks off)."""

    name = "likeness"
    scan_options: dict = {}

    def __init__(self, checkpoint: Path | None = None):
        from detector.scan import ScanConfig, Scanner

        self._scanner = Scanner(ScanConfig(provenance=False, checkpoint=checkpoint, **self.scan_options))
        self.threshold = self._scanner.detector.threshold  # its verdict threshold (on the score below)

    def score(self, path: Path) -> Score:
        r = self._scanner.scan_file(path)
        if r.status != "ok":
            raise UserError(r.error or f"{Path(path).name}: {r.verdict.replace('_', ' ')}")
        return Score(r.probability_fake, [f["probability_fake"] for f in r.frames])


class LikenessFramesOnly(LikenessDetector):
    """Ours as `likeness scan --frames-only` runs it (the frame classifier alone, no warp consistency), to set
    beside the default: `likeness eval run --detector likeness-frames=eval.detectors:LikenessFramesOnly`."""

    name = "likeness-frames"
    scan_options = {"temporal": False}


class CallableDetector:
    """Wraps `fn(frames) -> float`; frames are RGB uint8 arrays sampled at `rate` per second."""

    def __init__(self, name: str, fn: Callable[[list[np.ndarray]], float], rate: float = 2.0, max_seconds: float = 10.0):
        self.name, self.fn, self.rate, self.max_seconds = name, fn, rate, max_seconds

    def score(self, path: Path) -> Score:
        from detector.faces import sample_frames

        frames = [f for _, f in sample_frames(path, self.rate, self.max_seconds)]
        if not frames:
            raise UserError(f"{Path(path).name}: no frames")
        s = float(self.fn(frames))
        if not np.isfinite(s):
            raise UserError(f"detector {self.name} returned {s}")
        return Score(s)


def load_callable(spec: str) -> Callable:
    """'package.module:function' -> the function (a clear error if it cannot be imported)."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise UserError(f"detector must be given as NAME=module:function, got {spec!r}")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise UserError(f"cannot load detector {spec}: {e}") from None
    if not callable(fn):
        raise UserError(f"detector {spec} is not callable")
    return fn


def registered() -> dict[str, str]:
    """Detectors other packages registered under the `likeness.detectors` entry-point group: name -> spec."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def build_detectors(specs: list[str], ours: bool = True, plugins: bool = True) -> list[VideoDetector]:
    """Ours, the registered entry points and every `NAME=module:function` in `specs`."""
    out: list[VideoDetector] = [LikenessDetector()] if ours else []
    named = dict(registered()) if plugins else {}
    for spec in specs:
        name, sep, target = spec.partition("=")
        if not sep:
            raise UserError(f"detector must be given as NAME=module:function, got {spec!r}")
        named[name] = target
    for name, target in named.items():
        obj = load_callable(target)
        out.append(obj() if isinstance(obj, type) else CallableDetector(name, obj))
    return out
