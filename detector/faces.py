"""Face crops for the detector: frames sampled from a video, faces found and aligned like the generator does.

The crop is the generator's own aligned canvas (eyes level, face about half the width), so real footage
and generated frames are framed alike and the classifier sees the same region for both.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from likeness.errors import UserError

CROP = 128  # pixels, square


@dataclass
class SampledFrame:
    t: float                      # seconds from the start
    crops: list[np.ndarray]       # (CROP, CROP, 3) uint8 per face, largest face first
    centres: list[np.ndarray] = field(default_factory=list)  # face centre (x, y) in frame pixels
    widths: list[float] = field(default_factory=list)
    landmarks: list[np.ndarray] = field(default_factory=list)  # (478, 2) per face, in its crop's pixels


def sample_frames(path: Path, rate: float, max_seconds: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """(time, RGB frame) about `rate` times per second; only the sampled frames are converted to pixels."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise UserError(f"no video stream in {path}")
            stream = c.streams.video[0]
            stream.thread_type = "AUTO"
            next_t = 0.0
            for i, frame in enumerate(c.decode(stream)):
                t = float(frame.time) if frame.time is not None else i / float(stream.average_rate or 25)
                if max_seconds is not None and t > max_seconds:
                    break
                if t + 1e-6 >= next_t:
                    next_t = t + 1.0 / rate
                    yield t, frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise UserError(f"unreadable video {path}: {e}") from None


class FaceCropper:
    """FaceMesh (tracking mode) + the generator's alignment; up to `max_faces` faces per frame."""

    def __init__(self, crop: int = CROP, max_faces: int = 4):
        from generator.face.analysis import FaceMesh

        self.crop_size = crop
        self.mesh = FaceMesh(static=False, max_faces=max_faces)

    def landmarks(self, rgb: np.ndarray) -> list[np.ndarray]:
        return self.mesh(rgb)

    def crop(self, rgb: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The aligned CROP x CROP face canvas for one face's landmarks, and the landmarks in its pixels."""
        from generator.face.analysis import align_transform, warp_aligned

        m = align_transform(lm, self.crop_size)
        return warp_aligned(rgb, m, self.crop_size), (lm[:, :2] @ m[:, :2].T + m[:, 2]).astype(np.float32)

    def __call__(self, rgb: np.ndarray, t: float = 0.0) -> SampledFrame:
        out = SampledFrame(t, [])
        for lm in self.landmarks(rgb):
            crop, in_crop = self.crop(rgb, lm)
            out.crops.append(crop)
            out.landmarks.append(in_crop)
            out.centres.append(lm[:, :2].mean(0))
            out.widths.append(float(np.ptp(lm[:, 0])))
        return out


def count_tracks(frames: list[SampledFrame], max_jump: float = 0.6) -> int:
    """Distinct faces over time: a face continues a track if its centre moved less than `max_jump` face widths."""
    tracks: list[np.ndarray] = []   # last centre of each track
    width: list[float] = []
    for f in frames:
        free = list(range(len(tracks)))
        for c, w in zip(f.centres, f.widths):
            d = [np.linalg.norm(tracks[i] - c) / max(width[i], w, 1.0) for i in free]
            if d and min(d) < max_jump:
                k = free.pop(int(np.argmin(d)))
                tracks[k], width[k] = c, w
            else:
                tracks.append(c)
                width.append(w)
    return len(tracks)


def video_seconds(path: Path) -> float:
    """The video stream's duration in seconds (0.0 when the container does not say)."""
    import av

    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0] if c.streams.video else None
            if s is not None and s.duration is not None and s.time_base is not None:
                return float(s.duration * s.time_base)
            return float(c.duration or 0) / 1e6
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise UserError(f"unreadable video {path}: {e}") from None
