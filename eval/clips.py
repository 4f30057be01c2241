"""Evaluation inputs cut to a common length: speech clips for the generator, real videos into segments."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from likeness.errors import UserError


def trim_audio(src: Path, dst: Path, seconds: float) -> Path:
    """The first `seconds` of an audio file as a WAV (16 kHz mono)."""
    from generator.audio import load_audio, save_wav

    a = load_audio(src, 16_000)
    return save_wav(dst, a.samples[: int(seconds * a.rate)], a.rate)


def cut_segments(src: Path, dst: Path, seconds: float, max_segments: int) -> list[Path]:
    """Up to `max_segments` consecutive `seconds`-long H.264 CRF 18 segments of a real video, with its
    audio if it has any (as the generator writes its fakes), so real and generated videos match in length and codec."""
    from generator.audio import Audio, load_audio
    from generator.video import VideoWriter, probe, read_frames

    info = probe(src)
    if "fps" not in info:
        raise UserError(f"{Path(src).name}: no video stream")
    fps, audio = info["fps"], None
    if "audio_codec" in info:
        try:
            audio = load_audio(src, 48_000)
        except UserError:  # a silent or broken soundtrack: the segments go without one
            pass
    n = int(round(seconds * fps))
    frames = list(read_frames(src, n * max_segments))
    out = []
    for k in range(min(max_segments, len(frames) // n)):
        chunk = frames[k * n: (k + 1) * n]
        h, w = (chunk[0].shape[0] // 2) * 2, (chunk[0].shape[1] // 2) * 2
        sound = None if audio is None else Audio(audio.samples[int(k * seconds * audio.rate):][: int(seconds * audio.rate)], audio.rate)
        path = Path(dst) / f"{Path(src).stem}_{k}.mp4"
        with VideoWriter(path, fps, (w, h), audio=sound, crf=18) as wr:
            for f in chunk:
                wr.write(np.ascontiguousarray(f[:h, :w]))
        out.append(path)
    if not out:
        raise UserError(f"{Path(src).name}: shorter than {seconds:g} s")
    return out
