"""generate(): portrait + speech in, talking-face MP4 out. The one place the generator's stages are wired."""
from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.files import check_destination

from provenance.keys import SigningIdentity

from .motion.controls import Controls

from .options import MOTION_MODELS, RENDERER_NAMES


@dataclass
class GenerateConfig:
    image: Path
    audio: Path
    out: Path
    fps: float = 25.0
    size: int = 512
    seed: int = 0
    motion: str = MOTION_MODELS[0]  # the DiT: the best lip sync on people never seen (benchmarks/RESULTS.md)
    renderer: str = RENDERER_NAMES[0]  # v2 and warp-v1 are the older ones
    audio_scale: float = 1.5    # DiT guidance scales
    control_scale: float = 1.0
    controls: Controls = field(default_factory=Controls)
    crf: int = 18
    frames_dir: Path | None = None   # also write every frame as a marked, signed PNG
    identity: SigningIdentity | None = None  # None: the local keys (`likeness keys init`)

    def __post_init__(self) -> None:
        self.image, self.audio, self.out = Path(self.image), Path(self.audio), Path(self.out)
        if self.frames_dir is not None:
            self.frames_dir = Path(self.frames_dir)
        if len(self.out.name.encode()) > 240:  # the temp and part files beside it add a few characters
            raise UserError(f"output file name is too long ({len(self.out.name.encode())} bytes; at most 240)")
        if self.out.suffix.lower() != ".mp4":
            raise UserError(f"output must be an .mp4 file, got {self.out.name}")
        check_destination(self.out, "output")
        if self.frames_dir is not None and self.frames_dir.exists() and not self.frames_dir.is_dir():
            raise UserError(f"--frames-dir {self.frames_dir} is a file, not a folder")
        if not 128 <= self.size <= 1024 or self.size % 16:
            raise UserError(f"size must be a multiple of 16 between 128 and 1024, got {self.size}")
        if not 10 <= self.fps <= 60:
            raise UserError(f"fps must be between 10 and 60, got {self.fps}")
        for name, path in (("portrait", self.image), ("audio", self.audio)):
            if self.out.resolve() == path.resolve():
                raise UserError(f"--out {self.out} is the {name} input: writing it would destroy the input; choose "
                                "another output name")
        for name, v in (("audio-scale", self.audio_scale), ("control-scale", self.control_scale)):
            if not (math.isfinite(v) and 0 <= v <= 10):
                raise UserError(f"{name} must be a number between 0 and 10, got {v}")
        if not 0 <= self.seed < 2**32:
            raise UserError(f"seed must be between 0 and {2**32 - 1}, got {self.seed}")
        if self.motion not in MOTION_MODELS:
            raise UserError(f"unknown motion model {self.motion!r}; choose one of {', '.join(MOTION_MODELS)}")
        if self.renderer not in RENDERER_NAMES:
            raise UserError(f"unknown renderer {self.renderer!r}; choose one of {', '.join(RENDERER_NAMES)}")


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
    """Render `cfg.audio` spoken by the face in `cfg.image` into `cfg.out`.

    Every frame is watermarked and the file is signed with a C2PA manifest; if marking or signing fails,
    nothing is left at `cfg.out` (or in `cfg.frames_dir`).
    """
    import tempfile

    from provenance.marker import Marker, content_id

    from .audio import features, load_audio
    from .face.analysis import analyze_file
    from .render.renderer import make_renderer
    from .video import VideoWriter

    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - t
        t = now

    params = {"seed": cfg.seed, "motion": cfg.motion, "renderer": cfg.renderer, "audio_scale": cfg.audio_scale,
              "control_scale": cfg.control_scale, "fps": cfg.fps, "size": cfg.size,
              "gaze": list(cfg.controls.gaze), "emotion": cfg.controls.emotion, "pose_scale": cfg.controls.pose_scale,
              "head_distance": cfg.controls.head_distance}
    for what, path in (("image", cfg.image), ("audio", cfg.audio)):
        if not path.is_file():
            raise UserError(f"{what} not found: {path}")
    # the signing identity is tried on a probe first: a bad key fails now, not after the render
    marker = Marker(content_id(cfg.image.read_bytes(), cfg.audio.read_bytes(), repr(sorted(params.items()))), cfg.identity)
    lap("sign")
    audio = load_audio(cfg.audio)
    feats = features(audio, cfg.fps)
    lap("audio")
    portrait = analyze_file(cfg.image, cfg.size)
    renderer = make_renderer(portrait, cfg.renderer)
    lap("analysis")
    motion = make_motion(cfg, audio, feats, portrait.mouth_open)
    lap("motion")
    n = len(motion)
    inputs = {"portrait": cfg.image, "audio": cfg.audio}
    frames_tmp = unsigned = None
    try:  # every temp file is made inside, so a signal at any point leaves nothing behind
        if cfg.frames_dir is not None:
            cfg.frames_dir.mkdir(parents=True, exist_ok=True)
            frames_tmp = Path(tempfile.mkdtemp(prefix=".frames.", dir=cfg.frames_dir))
        fd, tmp = tempfile.mkstemp(prefix=f".{cfg.out.stem}.unsigned.", suffix=".mp4", dir=cfg.out.parent)
        unsigned = Path(tmp)
        os.close(fd)
        mark_s = 0.0
        with VideoWriter(unsigned, cfg.fps, (cfg.size, cfg.size), audio, crf=cfg.crf) as writer:
            for i, frame in enumerate(renderer.frames(motion.pose, motion.expr)):
                t0 = time.perf_counter()
                frame = marker.mark(frame)
                mark_s += time.perf_counter() - t0
                writer.write(frame)
                if frames_tmp is not None:
                    _save_png(frames_tmp / f"frame_{i:06d}.png", frame)
                if progress:
                    progress(i + 1, n)
            lap("render")
        lap("encode")  # flushing the encoder and muxing the audio
        timings["render"] -= mark_s
        timings["watermark"] = mark_s
        marker.sign(unsigned, cfg.out, params | {"frames": n}, inputs)
        if frames_tmp is not None:
            for png in sorted(frames_tmp.glob("*.png")):
                marker.sign(png, cfg.frames_dir / png.name, params | {"frame": int(png.stem[6:])}, inputs)
        lap("sign")
    except BaseException:
        if cfg.frames_dir is not None and frames_tmp is not None:
            for png in frames_tmp.glob("*.png"):
                (cfg.frames_dir / png.name).unlink(missing_ok=True)
        raise
    finally:
        if unsigned is not None:
            unsigned.unlink(missing_ok=True)
        if frames_tmp is not None:
            shutil.rmtree(frames_tmp, ignore_errors=True)
    return GenerateResult(cfg.out, n, n / cfg.fps, timings)


def make_motion(cfg: GenerateConfig, audio, feats, mouth_open: float = 0.0):
    """Motion latents for every output frame, from the chosen motion model (`mouth_open`: the portrait's lip gap)."""
    from .audio import features, n_video_frames
    from .motion.procedural import procedural_motion

    if cfg.motion in ("procedural", "articulated"):
        mouth = "learned" if cfg.motion == "articulated" else "visemes"
        return procedural_motion(feats, cfg.controls, cfg.seed, mouth_open, mouth)
    from .latent import Motion
    from .latent import FPS
    from .motion.dit_motion import DiTMotion
    from .motion.encode import resample_motion

    dit = DiTMotion.load(audio_scale=cfg.audio_scale, control_scale=cfg.control_scale)
    m = dit.generate(feats if abs(cfg.fps - FPS) < 1e-6 else features(audio, FPS), cfg.controls, cfg.seed, rest=True,
                     mouth_open=mouth_open)
    z = resample_motion(m, cfg.fps).latent
    n = n_video_frames(audio.duration, cfg.fps)
    z = np.concatenate([z, np.repeat(z[-1:], max(0, n - len(z)), 0)])[:n]
    return Motion.from_latent(z, cfg.fps)


def _save_png(path: Path, rgb) -> None:
    from PIL import Image

    Image.fromarray(rgb).save(path, compress_level=1)
