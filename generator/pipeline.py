"""generate(): portrait + speech in, talking-face MP4 out. The one place the generator's stages are wired."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from likeness.errors import UserError

from .motion.controls import Controls

MOTION_MODELS = ("procedural",)


@dataclass
class GenerateConfig:
    image: Path
    audio: Path
    out: Path
    fps: float = 25.0
    size: int = 512
    seed: int = 0
    motion: str = "procedural"
    controls: Controls = field(default_factory=Controls)
    crf: int = 18

    def __post_init__(self) -> None:
        self.image, self.audio, self.out = Path(self.image), Path(self.audio), Path(self.out)
        if not 128 <= self.size <= 1024 or self.size % 16:
            raise UserError(f"size must be a multiple of 16 between 128 and 1024, got {self.size}")
        if not 10 <= self.fps <= 60:
            raise UserError(f"fps must be between 10 and 60, got {self.fps}")
        if self.motion not in MOTION_MODELS:
            raise UserError(f"unknown motion model {self.motion!r}; choose one of {', '.join(MOTION_MODELS)}")


@dataclass
class GenerateResult:
    out: Path
    frames: int
    duration: float
    timings: dict[str, float]  # seconds per stage

    @property
    def total(self) -> float:
        return sum(self.timings.values())

    @property
    def fps(self) -> float:
        return self.frames / self.total

    def summary(self) -> str:
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        return (f"wrote {self.out}: {self.frames} frames, {self.duration:.2f} s of video in {self.total:.2f} s "
                f"({self.fps:.1f} fps end to end; {stages})")


def generate(cfg: GenerateConfig, progress: Callable[[int, int], None] | None = None) -> GenerateResult:
    """Render `cfg.audio` spoken by the face in `cfg.image` into `cfg.out`. Nothing is left at `cfg.out` on error."""
    from .audio import features, load_audio
    from .face.analysis import analyze_file
    from .motion.procedural import procedural_motion
    from .render.renderer import Renderer
    from .video import VideoWriter

    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - t
        t = now

    audio = load_audio(cfg.audio)
    feats = features(audio, cfg.fps)
    lap("audio")
    portrait = analyze_file(cfg.image, cfg.size)
    renderer = Renderer(portrait)
    lap("analysis")
    motion = procedural_motion(feats, cfg.controls, cfg.seed)
    lap("motion")
    n = len(motion)
    with VideoWriter(cfg.out, cfg.fps, (cfg.size, cfg.size), audio, crf=cfg.crf) as writer:
        for i in range(n):
            writer.write(renderer.render(motion.pose[i], motion.expr[i]))
            if progress:
                progress(i + 1, n)
        lap("render")
    lap("encode")  # flushing the encoder and muxing the audio
    return GenerateResult(cfg.out, n, n / cfg.fps, timings)
