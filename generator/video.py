"""Video I/O with PyAV: an atomic H.264 + AAC MP4 writer and a frame reader."""
from __future__ import annotations

import os
import queue
import tempfile
import threading
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from likeness.errors import UserError
from likeness.files import publish

from .audio import Audio


def add_h264_stream(container, fps: float, size: tuple[int, int], crf: int = 18, preset: str = "veryfast"):
    """The H.264 (yuv420p, constant quality) video stream every Likeness MP4 is encoded with."""
    rate = Fraction(fps).limit_denominator(1001)
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": str(crf), "preset": preset}
    stream.codec_context.time_base = 1 / rate
    return stream


class VideoWriter:
    """Writes RGB frames (and optional mono audio) to an MP4, atomically.

    Frames are encoded on a background thread (libx264 releases the GIL), so rendering and encoding
    overlap. The file appears at `path` only when `close()` succeeds; on any error the temp file is removed.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], audio: Audio | None = None,
                 crf: int = 18, preset: str = "veryfast", audio_rate: int | None = None):
        """`audio` is muxed at `close`; a stream whose audio is not known yet (live) gives `audio_rate` and passes
        the audio to `close`."""
        import av

        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise UserError(f"output must be an .mp4 file, got {self.path.name}")
        if not self.path.parent.is_dir():
            raise UserError(f"output folder does not exist: {self.path.parent}")
        self._queue: queue.Queue = queue.Queue(maxsize=16)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode_loop, daemon=True)
        self._container = None
        self.frames = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".mp4.part", dir=self.path.parent)
        self._tmp = Path(tmp)
        try:  # a signal raised in here (SIGTERM) must not leave the temp file behind
            os.close(fd)
            self._container = av.open(tmp, "w", format="mp4")
            self._video = add_h264_stream(self._container, fps, size, crf, preset)
            self._audio = audio
            if audio is not None or audio_rate is not None:
                self._astream = self._container.add_stream("aac", rate=audio.rate if audio is not None else audio_rate)
                self._astream.layout = "mono"
            self._thread.start()
        except BaseException:
            self.abort()
            raise

    def _encode_loop(self) -> None:
        import av

        try:
            while (item := self._queue.get()) is not None:
                frame = av.VideoFrame.from_ndarray(item, format="rgb24")
                frame.pts = self.frames
                self.frames += 1
                self._container.mux(self._video.encode(frame))
        except BaseException as e:  # reported on the caller's thread
            self._error = e
            while self._queue.get() is not None:
                pass

    def write(self, frame: np.ndarray) -> None:
        if self._error:
            raise self._error
        self._queue.put(np.ascontiguousarray(frame))

    def _write_audio(self) -> None:
        import av

        a, n = self._audio, 1024
        pts = 0
        for i in range(0, len(a.samples), n):
            chunk = a.samples[i:i + n].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts = a.rate, pts
            pts += chunk.shape[1]
            self._container.mux(self._astream.encode(frame))
        self._container.mux(self._astream.encode(None))

    def close(self, audio: Audio | None = None) -> Path:
        """Finish encoding (muxing `audio` if given here) and move the file into place."""
        if audio is not None:
            self._audio = audio
        try:
            self._queue.put(None)
            self._thread.join()
            if self._error:
                raise self._error
            self._container.mux(self._video.encode(None))
            if self._audio is not None:
                self._write_audio()
            self._container.close()
            publish(self._tmp, self.path)
            return self.path
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop and delete the partial file."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        try:
            if self._container is not None:
                self._container.close()
        except Exception:
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_frames(path: str | Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield RGB frames of the first video stream."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise UserError(f"no video stream in {path}")
            for i, f in enumerate(c.decode(video=0)):
                if max_frames is not None and i >= max_frames:
                    break
                yield f.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise UserError(f"unreadable video {path}: {e}") from None


def probe(path: str | Path) -> dict:
    """Duration, fps, size and streams of a media file (as the container reports them)."""
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0] if c.streams.video else None
        a = c.streams.audio[0] if c.streams.audio else None
        info: dict[str, object] = {"duration": c.duration / 1e6 if c.duration else None}
        if v is not None:
            info.update(fps=float(v.average_rate), width=v.width, height=v.height, frames=v.frames, video_codec=v.codec_context.name,
                        video_duration=float(v.duration * v.time_base) if v.duration else None)
        if a is not None:
            info.update(audio_codec=a.codec_context.name, audio_rate=a.rate,
                        audio_duration=float(a.duration * a.time_base) if a.duration else None)
        return info
