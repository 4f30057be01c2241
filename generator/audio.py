"""Audio front end: decode any PyAV-readable file to mono, and compute per-video-frame features."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from likeness.errors import UserError

FEATURE_RATE = 16_000
N_MELS = 80
HOP = 160      # 10 ms at 16 kHz
WIN = 400      # 25 ms
N_FFT = 512


@dataclass
class Audio:
    """Mono float32 samples in [-1, 1] at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def mix_under(speech: np.ndarray, noise: np.ndarray, snr_db: float | None) -> np.ndarray:
    """`speech` with `noise` (looped to its length) under it at `snr_db` dB of speech over noise power (None: as
    it is); clipped to [-1, 1]."""
    if snr_db is None:
        return np.asarray(speech, np.float32)
    noise = np.resize(np.asarray(noise, np.float64), len(speech))
    gain = np.sqrt(np.mean(np.square(speech, dtype=np.float64)) / max(float(np.mean(noise ** 2)), 1e-12) / 10 ** (snr_db / 10))
    return np.clip(speech + gain * noise, -1, 1).astype(np.float32)


def load_audio(path: str | Path, rate: int = 48_000) -> Audio:
    """Decode the first audio stream of a file (wav, mp3, m4a, flac, or a video's soundtrack) to mono at `rate`."""
    import av

    path = Path(path)
    if not path.is_file():
        raise UserError(f"audio not found: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise UserError(f"no audio stream in {path}")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks = []
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except UserError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"unreadable audio {path}: {getattr(e, 'strerror', None) or e}") from None
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if len(samples) < rate // 10:
        raise UserError(f"audio is empty or shorter than 0.1 s: {path}")
    if not np.isfinite(samples).all():
        raise UserError(f"audio contains invalid samples (NaN or infinite): {path}")
    if np.abs(samples).max() < 1e-3:
        raise UserError(f"audio is silent (peak below -60 dBFS): {path}; nothing to lip-sync to")
    return Audio(np.clip(samples, -1, 1).astype(np.float32), rate)


def save_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono float samples in [-1, 1] as 16-bit PCM WAV."""
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return Path(path)


def resample(audio: Audio, rate: int) -> Audio:
    """`audio` at `rate`: scipy's polyphase resampler, or the same filter in numpy alone for a whole-number
    decimation (48 kHz to 16 kHz, every generation): scipy.signal takes a second to import, a cold run has 8."""
    if audio.rate == rate:
        return audio
    if audio.rate % rate == 0:
        return Audio(_decimate(audio.samples, audio.rate // rate).astype(np.float32), rate)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(audio.rate, rate)
    return Audio(resample_poly(audio.samples, rate // g, audio.rate // g).astype(np.float32), rate)


def _decimate(x: np.ndarray, down: int) -> np.ndarray:
    """`scipy.signal.resample_poly(x, 1, down)`: its Kaiser-windowed (beta 5) sinc low-pass of 20 * down + 1 taps,
    every `down`-th sample, aligned as it aligns them."""
    half = 10 * down
    taps = np.sinc(np.arange(-half, half + 1) / down) * np.kaiser(2 * half + 1, 5.0)
    pre = down - half % down
    h = np.r_[np.zeros(pre), taps / taps.sum()]
    skip = (half + pre) // down
    return np.convolve(np.asarray(x, np.float64), h)[::down][skip: skip + -(-len(x) // down)]


@lru_cache(maxsize=4)
def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = FEATURE_RATE,
                   fmin: float = 20.0, fmax: float = 7600.0) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular HTK-mel filters."""
    def mel(f):
        return 2595 * np.log10(1 + np.asarray(f) / 700)

    hz = 700 * (10 ** (np.linspace(mel(fmin), mel(fmax), n_mels + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(n_fft, 1 / rate)
    lo, c, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    return np.maximum(0, np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c))).astype(np.float32)


@dataclass
class AudioFeatures:
    """Audio described at the video frame rate: one row per output frame."""

    mel: np.ndarray        # (T, 80) log-mel
    energy_db: np.ndarray  # (T,) RMS level, dBFS
    band_db: np.ndarray    # (T,) 300-3000 Hz speech-band level, dB
    high_ratio: np.ndarray  # (T,) share of 2.5-7 kHz energy (fricatives, "s", "ee")
    centroid: np.ndarray   # (T,) spectral centroid, Hz
    pitch: np.ndarray      # (T,) f0 in Hz, 0 where unvoiced
    fps: float
    visemes: np.ndarray | None = None  # (T, 12) share of each viseme class (`generator.phones`), if decoded

    def __len__(self) -> int:
        return len(self.energy_db)

    @classmethod
    def empty(cls, fps: float) -> "AudioFeatures":
        z = np.zeros(0, np.float32)
        return cls(np.zeros((0, N_MELS), np.float32), z, z, z, z, z, fps)

    def frames(self, a: int, b: int) -> "AudioFeatures":
        """Frames a..b-1 as their own AudioFeatures."""
        return AudioFeatures(self.mel[a:b], self.energy_db[a:b], self.band_db[a:b], self.high_ratio[a:b],
                             self.centroid[a:b], self.pitch[a:b], self.fps,
                             None if self.visemes is None else self.visemes[a:b])


def n_video_frames(duration: float, fps: float) -> int:
    return max(1, int(round(duration * fps)))


def _frame_signal(x: np.ndarray, win: int, hop: int) -> np.ndarray:
    pad = np.pad(x, (win // 2, win // 2))
    n = 1 + (len(pad) - win) // hop
    return np.lib.stride_tricks.as_strided(pad, (n, win), (pad.strides[0] * hop, pad.strides[0]))


def _pitch(x: np.ndarray, n: int) -> np.ndarray:
    """Autocorrelation f0 (70-400 Hz) per 10 ms hop; 0 when unvoiced."""
    frames = _frame_signal(x, 640, HOP)[:n]
    frames = (frames - frames.mean(1, keepdims=True)) * np.hanning(640)
    spec = np.fft.rfft(frames, 1280)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, :640]
    lo, hi = FEATURE_RATE // 400, FEATURE_RATE // 70
    lag = lo + ac[:, lo:hi].argmax(1)
    strength = ac[np.arange(len(ac)), lag] / (ac[:, 0] + 1e-9)
    return np.where(strength > 0.45, FEATURE_RATE / lag, 0.0)


def features(audio: Audio, fps: float, phones: bool = True) -> AudioFeatures:
    """Log-mel, levels, spectral shape and pitch, pooled over each video frame's time span; with `phones`,
    also the viseme classes of the decoded phones (`generator.phones`)."""
    import scipy.sparse as sp

    a = resample(audio, FEATURE_RATE)
    x = a.samples.astype(np.float64)
    t = n_video_frames(audio.duration, fps)
    frames = _frame_signal(x, WIN, HOP) * np.hanning(WIN)
    power = np.abs(np.fft.rfft(frames, N_FFT)) ** 2
    freqs = np.fft.rfftfreq(N_FFT, 1 / FEATURE_RATE)
    n = len(power)
    # the frame each 10 ms hop belongs to, as hop * HOP * fps // rate: multiplied first, so that a hop on a frame
    # boundary is not put a frame early by rounding (and a window cut at a frame boundary pools as the whole)
    owner = np.minimum((np.arange(n) * HOP * fps // FEATURE_RATE).astype(int), t - 1)
    counts = np.bincount(owner, minlength=t)
    pooling = sp.csr_matrix((1.0 / np.maximum(counts, 1)[owner], (owner, np.arange(n))), shape=(t, n))

    def pool(v: np.ndarray) -> np.ndarray:
        out = pooling @ v
        empty = counts == 0
        if empty.any():  # fps above 100: borrow the nearest hop
            out[empty] = v[np.minimum((np.flatnonzero(empty) / fps * FEATURE_RATE / HOP).astype(int), n - 1)]
        return out

    p = pool(power)
    total = p.sum(1) + 1e-10
    band = p[:, (freqs >= 300) & (freqs <= 3000)].sum(1)
    high = p[:, (freqs >= 2500) & (freqs <= 7000)].sum(1)
    mel = np.log(p @ mel_filterbank().T + 1e-6)
    scale = N_FFT * np.sum(np.hanning(WIN) ** 2) / 2
    f0 = _pitch(x, n)
    voiced = pool((f0 > 0).astype(float)[:, None])[:, 0]
    f0_frame = pool(f0[:, None])[:, 0] / np.maximum(voiced, 1e-9)
    energy_db = (10 * np.log10(total / scale + 1e-10)).astype(np.float32)
    return AudioFeatures(
        mel=mel.astype(np.float32),
        energy_db=energy_db,
        band_db=(10 * np.log10(band / scale + 1e-10)).astype(np.float32),
        high_ratio=(high / total).astype(np.float32),
        centroid=((p * freqs).sum(1) / total).astype(np.float32),
        pitch=np.where(voiced > 0.5, f0_frame, 0.0).astype(np.float32),
        fps=fps,
        visemes=_visemes(a.samples, t, fps, energy_db) if phones else None)


SILENCE_DB = -50.0  # frames quieter than this are silence whatever the phone loop heard in them


def _visemes(samples: np.ndarray, frames: int, fps: float, energy_db: np.ndarray) -> np.ndarray:
    from .phones import decode_phones, viseme_matrix

    return silence_is_rest(viseme_matrix(decode_phones(samples), frames, fps), energy_db)


def silence_is_rest(visemes: np.ndarray, energy_db: np.ndarray) -> np.ndarray:
    """`visemes` (T, 12) with the frames quieter than SILENCE_DB set to `rest`, whatever the phone loop heard."""
    v = np.array(visemes, np.float32)
    v[energy_db < SILENCE_DB, :] = 0.0
    v[energy_db < SILENCE_DB, 0] = 1.0
    return v
