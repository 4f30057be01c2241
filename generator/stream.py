"""The live engine: audio in chunks, watermarked frames out, as soon as each frame's audio has been heard.

Audio arrives at 16 kHz in chunks of any size (`LiveSession.push`). A video frame is decided once the audio
reaches one frame beyond its own span (`lookahead`, 40 ms at 25 fps): that is what its analysis windows
(25 ms log-mel, 40 ms pitch) reach into, so the features of every decided frame equal the offline features of
the same audio exactly (`generator.audio.features` over a short trailing window). With phones (the default) a
frame also waits until its phones are fixed (`generator.phones.PhoneStream`: the phone loop decodes as audio
arrives and a frame is fixed once it has heard LIVE_LAG_S past the frame's end); without, the lips follow
loudness. The motion is the causal live model (`generator.motion.live`); frames go through the offline renderer and the same per-frame watermark
as `likeness generate`, and without signing keys there is no session (fail closed). A session may record: the
frames and the audio heard go to an MP4 that is signed with a C2PA manifest when the session ends.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from likeness.errors import UserError

from . import latent
from .audio import Audio, AudioFeatures, features, n_video_frames, silence_is_rest
from .latent import FPS
from .motion.controls import Controls
from .options import RENDERER_NAMES

RATE = 16_000      # the engine's audio rate: what clients send (the browser page resamples to it)
CONTEXT_FRAMES = 2  # frames of audio before the first undecided one that each feature window includes


@dataclass
class LiveConfig:
    size: int = 512
    fps: float = FPS
    seed: int = 0
    renderer: str = RENDERER_NAMES[0]
    controls: Controls = field(default_factory=Controls)
    max_burst: int = 3   # at most this many frames rendered per push; older ready frames are dropped (not drawn)
    phones: bool = True  # lips shaped by the live phone stream (`generator.phones.PhoneStream`), at its latency
    motion_blur: bool = False  # the renderer's shutter (`Renderer.render(sequence=True)`): two more remaps a frame,
                               # which at 512 px on 2 cores drop live below real time (benchmarks/RESULTS.md)

    def __post_init__(self) -> None:
        if not 128 <= self.size <= 1024 or self.size % 16:
            raise UserError(f"size must be a multiple of 16 between 128 and 1024, got {self.size}")
        if RATE % self.fps:
            raise UserError(f"live fps must divide {RATE} Hz evenly (e.g. 25), got {self.fps:g}")
        if self.max_burst < 1:
            raise UserError(f"max_burst must be at least 1, got {self.max_burst}")


@dataclass
class LiveFrame:
    index: int          # frame number since the session started
    rgb: np.ndarray     # (size, size, 3) uint8, watermarked
    heard: int          # audio samples received when the frame was decided
    done: float         # time.perf_counter() when it was ready


class FeatureStream:
    """Audio features frame by frame as audio arrives: each frame once the audio reaches one frame past its end,
    computed over a short trailing window so that it equals `features(all the audio)` for that frame. Only that
    window is kept, so a session of any length holds a few frames of audio."""

    def __init__(self, fps: float, phones: bool = False):
        from .phones import PhoneStream  # light: pocketsphinx itself loads only with a stream

        self.fps, self.hop = fps, int(RATE // fps)  # samples per video frame
        self.lookahead = self.hop                   # audio beyond a frame's end before it is decided
        self.phones = PhoneStream(fps) if phones else None  # with phones, a frame also waits for its phones
        self.buf = np.zeros(0, np.float32)          # the audio from sample `base` on
        self.base = 0
        self.heard = 0                              # samples received so far
        self.next = 0                               # the first frame not yet decided

    def push(self, samples: np.ndarray) -> AudioFeatures:
        """Add mono float audio at 16 kHz; the features of the frames it completes."""
        x = np.asarray(samples, np.float32).ravel()
        if not np.isfinite(x).all():
            raise UserError("live audio contains NaN or infinite samples")
        self.buf, self.heard = np.r_[self.buf, x], self.heard + len(x)
        upto = max(0, (self.heard - self.lookahead) // self.hop)
        if self.phones is not None:
            self.phones.push(x)
            upto = min(upto, self.phones.ready)
        return self._decide(upto, final=False)

    def flush(self) -> AudioFeatures:
        """At the end of the input: every frame the audio reaches into (as offline)."""
        n = n_video_frames(self.heard / RATE, self.fps)
        if self.phones is not None:
            self.phones.flush(n)
        return self._decide(n, final=True)

    def _decide(self, upto: int, final: bool) -> AudioFeatures:
        if upto <= self.next:
            return AudioFeatures.empty(self.fps)
        start = max(0, self.next - CONTEXT_FRAMES)
        window = self.buf[start * self.hop - self.base:]
        if not final:  # to a frame boundary past the lookahead: no later frame's hops get folded into ours
            window = window[: (upto + 1 - start) * self.hop]
        f = features(Audio(window, RATE), self.fps, phones=False).frames(self.next - start, upto - start)
        if self.phones is not None:
            f.visemes = silence_is_rest(self.phones.take(self.next, upto), f.energy_db)
        self.next = upto
        keep = max(0, self.next - CONTEXT_FRAMES) * self.hop  # what the next window starts from
        self.buf, self.base = self.buf[keep - self.base:], keep
        return f


def streamed_features(samples: np.ndarray, fps: float = FPS, phones: bool = True,
                      chunk: int = 640) -> list[AudioFeatures]:
    """The features a live session decides for 16 kHz `samples` arriving in `chunk`s, block by block (non-empty)."""
    stream = FeatureStream(fps, phones)
    parts = [stream.push(samples[i: i + chunk]) for i in range(0, len(samples), chunk)] + [stream.flush()]
    return [f for f in parts if len(f)]


def streamed_motion(samples: np.ndarray, fps: float = FPS, seed: int = 0, mouth_open: float = 0.0,
                    phones: bool = True, chunk: int = 640) -> latent.Motion:
    """The motion a live session makes for 16 kHz `samples` arriving in `chunk`s, without rendering it (for
    comparing live motion with offline motion on the same audio)."""
    from .motion.live import LiveMotion

    motion = LiveMotion(fps, Controls(), seed, mouth_open)
    made = [motion.step(f) for f in streamed_features(samples, fps, phones, chunk)]
    return latent.Motion(np.concatenate([m.pose for m in made]), np.concatenate([m.expr for m in made]), fps)


class LiveSession:
    """One live stream: `push` audio, get frames; `set_controls` at any time; `close` to finish (and sign)."""

    def __init__(self, image: Path, cfg: LiveConfig = LiveConfig(), record: Path | None = None, identity=None):
        from provenance.marker import Marker, content_id

        from .face.analysis import analyze_file
        from .motion.live import LiveMotion
        from .render.renderer import make_renderer
        from .video import VideoWriter

        image = Path(image)
        if not image.is_file():
            raise UserError(f"image not found: {image}")
        self.cfg, self.image = cfg, image
        self.marker = Marker(content_id(image.read_bytes(), "live", repr(cfg)), identity)  # no keys: no session
        self.portrait = analyze_file(image, cfg.size)
        self.renderer = make_renderer(self.portrait, cfg.renderer)
        self.motion = LiveMotion(cfg.fps, cfg.controls, cfg.seed, self.portrait.mouth_open)
        self.controls = cfg.controls
        self.stream = FeatureStream(cfg.fps, cfg.phones)
        self._heard: list[np.ndarray] | None = [] if record is not None else None  # the recording's soundtrack
        # warm up now, not on the first frame
        self.marker.mark(self.renderer.render(np.zeros(len(latent.POSE)), np.zeros(len(latent.EXPRESSION))))
        self.dropped = 0
        self.record = record
        self._writer: VideoWriter | None = None
        self._last: np.ndarray | None = None
        if record is not None:
            self._writer = VideoWriter(record.with_name(f".{record.stem}.unsigned.mp4"), cfg.fps,
                                       (cfg.size, cfg.size), audio_rate=RATE)

    def set_controls(self, controls: Controls) -> None:
        """New controls, reached smoothly (`LiveMotion.set_controls`); `controls` is what is in force."""
        self.controls = controls
        self.motion.set_controls(controls)

    def frame_centre(self, index: int) -> int:
        """The audio sample at the middle of frame `index`'s span (for latency: when was this moment heard?)."""
        return index * self.stream.hop + self.stream.hop // 2

    def push(self, samples: np.ndarray) -> list[LiveFrame]:
        """Add mono float audio at 16 kHz; returns the frames it completes, rendered and watermarked."""
        first = self.stream.next
        new = self.stream.push(samples)
        if self._heard is not None:
            self._heard.append(np.asarray(samples, np.float32).ravel())
        return self._draw(first, new)

    def flush(self) -> list[LiveFrame]:
        """At the end of the input: the frames the audio reaches into (as offline)."""
        first = self.stream.next
        return self._draw(first, self.stream.flush())

    def _draw(self, first: int, new: AudioFeatures) -> list[LiveFrame]:
        if not len(new):
            return []
        motion = self.motion.step(new)
        heard, out = self.stream.heard, []
        for k in range(len(new)):
            i = first + k
            if k < len(new) - self.cfg.max_burst:  # behind real time: skip drawing all but the newest frames
                self.dropped += 1
                self.renderer.new_sequence()  # a blurred frame after a gap must not smear across it
                if self._writer is not None and self._last is not None:
                    self._writer.write(self._last)  # the recording keeps its timing
                continue
            rgb = self.marker.mark(self.renderer.render(motion.pose[k], motion.expr[k], sequence=self.cfg.motion_blur))
            if self._writer is not None:
                self._writer.write(rgb)
            self._last = rgb
            out.append(LiveFrame(i, rgb, heard, time.perf_counter()))
        return out

    def close(self) -> Path | None:
        """End the session; with a recording, finish it and sign it (C2PA) at `record`. Returns its path."""
        if self._writer is None:
            return None
        writer, self._writer = self._writer, None
        # close() removes its partial file on failure
        unsigned = writer.close(Audio(np.concatenate(self._heard or [np.zeros(0, np.float32)]), RATE))
        try:
            params = {"mode": "live", "size": self.cfg.size, "fps": self.cfg.fps, "seed": self.cfg.seed,
                      "renderer": self.cfg.renderer, "frames": self.stream.next, "dropped": self.dropped}
            return self.marker.sign(unsigned, self.record, params, {"portrait": self.image})
        finally:
            unsigned.unlink(missing_ok=True)

    def abort(self) -> None:
        """End the session without keeping a recording."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


class LatestFrames:
    """Frames waiting for a consumer (a network client): at most `size`; when it is full the oldest is dropped, so a
    slow consumer sees fewer frames, never older ones, and memory stays bounded."""

    def __init__(self, size: int = 4):
        from collections import deque

        self._q: deque = deque(maxlen=size)
        self.dropped = 0

    def put(self, item) -> None:
        if len(self._q) == self._q.maxlen:
            self.dropped += 1
        self._q.append(item)

    def get(self):
        """The oldest waiting item, or None."""
        return self._q.popleft() if self._q else None

    def __len__(self) -> int:
        return len(self._q)


@dataclass
class LiveStats:
    """How a session kept up: frames drawn and dropped, sustained output rate, audio-to-frame latency, CPU."""

    frames: int
    dropped: int
    seconds: float                 # wall time from the first chunk to the last frame
    latency_ms: list[float]        # per frame: from the moment at its centre being spoken to the frame being ready
    cpu_cores: float               # process CPU time over wall time

    @property
    def fps(self) -> float:
        return self.frames / max(self.seconds, 1e-9)

    def latency(self, q: float) -> float:
        return float(np.percentile(self.latency_ms, q)) if self.latency_ms else float("nan")

    def summary(self) -> str:
        return (f"{self.frames} frames in {self.seconds:.1f} s = {self.fps:.1f} fps, {self.dropped} dropped; latency "
                f"p50 {self.latency(50):.0f} ms, p95 {self.latency(95):.0f} ms; CPU {self.cpu_cores:.2f} cores")


def play(session: LiveSession, samples: np.ndarray, chunk_s: float = 0.04, realtime: bool = True,
         on_frame=None, on_second=None) -> LiveStats:
    """Feed `samples` (16 kHz) to `session` in chunks as a microphone would: each chunk is handed over when its last
    sample has been spoken (`realtime`; otherwise as fast as the session takes them). `on_frame(frame)` gets every
    frame, `on_second(stats so far)` is called about once a second."""
    import resource

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    chunk = max(1, int(round(chunk_s * RATE)))
    t0, c0 = time.perf_counter(), cpu()
    frames, latency, next_report = 0, [], 1.0

    def take(out: list[LiveFrame], spoken_at) -> None:
        nonlocal frames
        for f in out:
            frames += 1
            latency.append(1000 * (f.done - spoken_at(session.frame_centre(f.index))))
            if on_frame:
                on_frame(f)

    k = 0
    while k < len(samples):
        end = min(k + chunk, len(samples))
        if realtime:
            time.sleep(max(0.0, t0 + end / RATE - time.perf_counter()))
            # behind real time, every chunk spoken by now in one push, as a microphone's queue read dry (and the
            # web app's engine) hands them over: the session then draws the newest frames and drops the rest
            spoken = int((time.perf_counter() - t0) * RATE) // chunk * chunk
            end = min(len(samples), max(end, spoken))
        start = t0 if realtime else time.perf_counter() - end / RATE  # fast: as if spoken just now
        take(session.push(samples[k:end]), lambda s, start=start: start + s / RATE)
        k = end
        if on_second and time.perf_counter() - t0 >= next_report:
            next_report += 1.0
            on_second(LiveStats(frames, session.dropped, time.perf_counter() - t0, latency, 0.0))
    start = t0 if realtime else time.perf_counter() - len(samples) / RATE
    take(session.flush(), lambda s: start + s / RATE)
    wall = time.perf_counter() - t0
    return LiveStats(frames, session.dropped, wall, latency, (cpu() - c0) / max(wall, 1e-9))
