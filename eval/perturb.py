"""The perturbation matrix: what happens to a video between its maker and a viewer.

Each perturbation reads a video, transforms its frames and writes a real H.264 file (CRF 18 unless the
perturbation is itself a re-encode), except `none` (the file as made) and `tamper` (a few bytes of the
file flipped in place, as an edit that keeps the container would). The source looks (`LOOKS`) re-make a video
as footage from elsewhere looks (a 1990s MPEG-1 corpus, a 1080p studio master, a face-crop dataset, a GIF), in
that format's own container and codec: a detector must not call real people fake for where their video came from.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, cast

import numpy as np

Frames = list[np.ndarray]


@dataclass(frozen=True)
class Perturbation:
    name: str
    frames: Callable[[Frames, float], tuple[Frames, float]] | None  # (RGB frames, fps) -> (frames, fps)
    crf: int = 18
    description: str = ""
    visual: bool = True   # False: a file edit for the manifest check only (detectors and watermark skip it)
    container: str = "mp4"  # "mpg" (MPEG-1 video) or "gif": the written file's suffix and codec


def _resize(k: float):
    import cv2

    return lambda fr, fps: ([cv2.resize(f, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) for f in fr], fps)


def _crop(k: float):
    def fn(fr, fps):
        h, w = fr[0].shape[:2]
        dh, dw = int(h * (1 - k) / 2), int(w * (1 - k) / 2)
        return [f[dh: h - dh, dw: w - dw] for f in fr], fps
    return fn


def _blur(sigma: float):
    import cv2

    return lambda fr, fps: ([cv2.GaussianBlur(f, (0, 0), sigma) for f in fr], fps)


def _noise(sd: float):
    def fn(fr, fps):
        rng = np.random.default_rng(0)
        return [np.clip(f + rng.normal(0, sd, f.shape), 0, 255).astype(np.uint8) for f in fr], fps
    return fn


def _brightness(k: float):
    return lambda fr, fps: ([np.clip(f.astype(np.float32) * k, 0, 255).astype(np.uint8) for f in fr], fps)


def _fps(target: float):
    return lambda fr, fps: ([fr[int(i * fps / target)] for i in range(int(len(fr) * target / fps))], target)


def _look(aspect: float, size: tuple[int, int], fps: float | None = None, sharpen: float = 0.0):
    """The centre of each frame at `aspect` (width / height), resized to `size`, optionally sharpened (unsharp mask)
    and resampled to `fps`."""
    import cv2

    def frame(f: np.ndarray) -> np.ndarray:
        h, w = f.shape[:2]
        cw, ch = min(w, round(h * aspect)), min(h, round(w / aspect))
        f = f[(h - ch) // 2: (h - ch) // 2 + ch, (w - cw) // 2: (w - cw) // 2 + cw]
        f = cv2.resize(f, size, interpolation=cv2.INTER_AREA if cw > size[0] else cv2.INTER_LANCZOS4)
        if sharpen:
            f = cv2.addWeighted(f, 1 + sharpen, cv2.GaussianBlur(f, (0, 0), 1.5), -sharpen, 0)
        return f

    def fn(fr, rate):
        fr, rate = _fps(fps)(fr, rate) if fps else (fr, rate)
        return [frame(f) for f in fr], rate
    return fn


_same = lambda fr, fps: (fr, fps)  # noqa: E731

PERTURBATIONS: dict[str, Perturbation] = {p.name: p for p in (
    Perturbation("none", None, description="the file as generated"),
    Perturbation("crf18", _same, 18, "H.264 CRF 18"),
    Perturbation("crf23", _same, 23, "H.264 CRF 23"),
    Perturbation("crf28", _same, 28, "H.264 CRF 28"),
    Perturbation("crf35", _same, 35, "H.264 CRF 35"),
    Perturbation("resize0.5", _resize(0.5), 18, "0.5x resize"),
    Perturbation("resize0.25", _resize(0.25), 18, "0.25x resize"),
    Perturbation("resize0.5-crf28", _resize(0.5), 28, "0.5x resize, then H.264 CRF 28 (a typical re-upload)"),
    Perturbation("crop0.9", _crop(0.9), 18, "90% centre crop"),
    Perturbation("blur", _blur(1.5), 18, "Gaussian blur, sigma 1.5 px"),
    Perturbation("noise", _noise(5.0), 18, "Gaussian noise, sd 5 levels"),
    Perturbation("brightness", _brightness(1.2), 18, "brightness +20%"),
    Perturbation("fps30", _fps(30.0), 23, "frame-rate change to 30 fps (frame repeat), CRF 23"),
    Perturbation("tamper", None, description="64 bytes flipped in the middle of the file, container kept",
                 visual=False),
    Perturbation("mpeg1-360x288", _look(360 / 288, (360, 288), 25.0), description="MPEG-1 at 360x288, 25 fps, "
                 "900 kbit/s: a read-speech corpus of the 1990s", container="mpg"),
    Perturbation("studio1080", _look(16 / 9, (1920, 1080), sharpen=0.6), 16,
                 "up-scaled to 1920x1080 (Lanczos) and sharpened, CRF 16: a 1080p studio master"),
    Perturbation("square256", _look(1.0, (256, 256)), 23, "the centre square at 256x256, CRF 23: a face-crop dataset"),
    Perturbation("square160-crf30", _look(1.0, (160, 160)), 30, "the centre square at 160x160, CRF 30"),
    Perturbation("gif10", _look(1.0, (320, 320), 10.0), description="an animated GIF, 320x320, 10 fps, 256 colours",
                 container="gif"),
)}
#: The source looks: real footage from elsewhere, as the detector meets it (benchmarks/bench_detector.py)
LOOKS = ("mpeg1-360x288", "studio1080", "square256", "square160-crf30", "gif10")


#: container -> (PyAV format, codec, pixel format, bit rate or None for the codec's own)
_OTHER = {"mpg": ("mpeg", "mpeg1video", "yuv420p", 900_000), "gif": ("gif", "gif", "rgb8", None)}


def _write_other(dst: Path, frames: Frames, fps: float, container: str) -> None:
    """Frames to an MPEG-1 (.mpg) or GIF file at `dst`, atomically."""
    import av
    from av.video.stream import VideoStream

    fmt, codec, pix, bit_rate = _OTHER[container]
    h, w = frames[0].shape[:2]
    tmp = dst.with_name(f".{dst.name}.part")
    try:
        with av.open(str(tmp), "w", format=fmt) as c:
            s = cast(VideoStream, c.add_stream(codec, rate=round(fps)))
            s.width, s.height, s.pix_fmt = w, h, pix
            if bit_rate:
                s.bit_rate = bit_rate
            for f in frames:
                c.mux(s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")))
            c.mux(s.encode())
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)


def perturb_file(src: Path, name: str, dst: Path, max_seconds: float | None = None) -> Path:
    """Write `src` under perturbation `name` to `dst` and return the written path (`dst`, or `dst` with the
    perturbation's own suffix: .mpg, .gif)."""
    from generator.video import VideoWriter, probe, read_frames

    p = PERTURBATIONS[name]
    dst = Path(dst)
    if p.name == "none":
        shutil.copyfile(src, dst)
        return dst
    if p.name == "tamper":
        data = bytearray(Path(src).read_bytes())
        mid = len(data) // 2
        data[mid: mid + 64] = bytes(b ^ 0xFF for b in data[mid: mid + 64])
        dst.write_bytes(bytes(data))
        return dst
    fps = probe(src)["fps"]
    frames = list(read_frames(src, None if max_seconds is None else int(max_seconds * fps) + 1))
    frames, fps = p.frames(frames, fps)
    if p.container != "mp4":
        dst = dst.with_suffix(f".{p.container}")
        _write_other(dst, frames, fps, p.container)
        return dst
    h, w = (frames[0].shape[0] // 2) * 2, (frames[0].shape[1] // 2) * 2
    with VideoWriter(dst, fps, (w, h), crf=p.crf) as wr:
        for f in frames:
            wr.write(np.ascontiguousarray(f[:h, :w]))
    return dst
