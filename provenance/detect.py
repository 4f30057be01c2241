"""Watermark detection for images and videos: per-frame correlations pooled over frames, then decoded."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from likeness.errors import UserError

from .payload import FALSE_POSITIVE_BOUND, decode
from .spread import SpreadMark

SCHEME = "likeness-spread-v1"


@dataclass
class WatermarkReport:
    found: bool
    payload: str | None = None        # 64-bit payload, hex
    generator: int | None = None
    content: int | None = None
    confidence: float = 0.0           # pooled signed correlation / embedding strength: ~1 fresh, 0 unmarked
    bit_accuracy: float | None = None  # mean per-frame agreement with the decoded payload
    corrected_bits: int = 0
    frames: int = 0
    false_positive_bound: float = 2 * FALSE_POSITIVE_BOUND  # two pooling attempts, each <= 2^8 * 2^-32
    scheme: str = SCHEME

    def to_dict(self) -> dict:
        return asdict(self)


def detect_frames(frames: Iterable[np.ndarray], mark: SpreadMark | None = None) -> WatermarkReport:
    """Pool the soft bits of RGB frames and decode the payload (found only if its CRC passes)."""
    mark = mark or SpreadMark()
    return decode_correlations(np.array([mark.correlations(f) for f in frames]), mark)


def decode_correlations(corr: np.ndarray, mark: SpreadMark | None = None) -> WatermarkReport:
    """Decode from per-frame soft bits (frames, 64), as `SpreadMark.correlations` gives them."""
    mark = mark or SpreadMark()
    if len(corr) == 0:
        return WatermarkReport(found=False)
    # Mean pooling is the most sensitive; the median survives frames wrecked by corruption or edits.
    for pooled in (corr.mean(0), np.median(corr, 0)):
        payload, flips = decode(pooled)
        if payload is not None:
            break
    else:
        return WatermarkReport(found=False, frames=len(corr))
    bits = payload.bits().astype(bool)
    signed = np.where(bits, pooled, -pooled)
    return WatermarkReport(
        found=True, payload=payload.hex, generator=payload.generator, content=payload.content,
        confidence=float(np.clip(signed.mean() / mark.cfg.strength, 0, None)),
        bit_accuracy=float(((corr > 0) == bits).mean()), corrected_bits=flips, frames=len(corr))


def iter_media_frames(path: Path, max_frames: int) -> Iterable[np.ndarray]:
    """RGB frames of a still image or of a video's first video stream. A stream damaged part way (a tampered or
    truncated file) yields the frames before the damage: they are still evidence; one with none is an error."""
    import av
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    try:
        with Image.open(path) as im:
            if getattr(im, "n_frames", 1) == 1 and im.format in ("PNG", "JPEG", "WEBP", "BMP", "TIFF"):
                yield np.asarray(im.convert("RGB"))
                return
    except (UnidentifiedImageError, OSError):
        pass
    decoded = 0
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise UserError(f"no video or image content in {path}")
            for frame in c.decode(video=0):
                if decoded >= max_frames:
                    break
                decoded += 1
                yield frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        if decoded:
            return
        raise UserError(f"unreadable media file {path}: {getattr(e, 'strerror', None) or e}") from None


def detect_file(path: Path, max_frames: int = 250) -> WatermarkReport:
    """Detect the watermark in an image or in the first `max_frames` frames of a video."""
    return detect_frames(iter_media_frames(path, max_frames))
