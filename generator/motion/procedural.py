"""Procedural motion: a deterministic, seeded audio-to-motion mapping. The baseline learned models must beat.

Mouth follows the decoded phones: the viseme table (targets blended by dominance, `visemes.py`, the jaw scaled
by the speech-band level) or the learned articulation (`articulation.py`: the mouth real speakers make for the
sounds around each frame), taken to rest in sustained silence; without phones, the level and spectral shape; head motion follows prosody plus smooth noise;
blinks every 2-6 s; gaze holds and jumps (saccades); breathing and drift keep a silent face alive.
"""
from __future__ import annotations

import numpy as np

from .. import latent
from ..audio import SILENCE_DB, AudioFeatures
from .controls import Controls
from .visemes import channels, mouth_from_visemes, with_rest

#: How the mouth is made when phones are known: the `visemes` table, or the `learned` articulation.
MOUTH_MODELS = ("visemes", "learned")

E = {k: i for i, k in enumerate(latent.EXPRESSION)}
P = {k: i for i, k in enumerate(latent.POSE)}


def follower_step(y: float, v, fps: float, attack_s: float, release_s: float) -> float:
    """One frame of an asymmetric one-pole follower at `y` towards `v` (fast opening, slower closing)."""
    s = attack_s if v > y else release_s
    return y + (1 - np.exp(-1 / (s * fps))) * (v - y)


def _smooth(x: np.ndarray, fps: float, attack_s: float, release_s: float) -> np.ndarray:
    """`follower_step` over a whole track, starting at its first value."""
    y, out = float(x[0]), np.empty_like(x)
    for i, v in enumerate(x):
        y = follower_step(y, v, fps, attack_s, release_s)
        out[i] = y
    return out


def _noise(rng: np.random.Generator, t: np.ndarray, freqs: tuple[float, ...]) -> np.ndarray:
    """Smooth zero-mean noise with unit RMS: random-phase sinusoids at a few low frequencies."""
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.6, 1.0) for f in freqs)
    return x / (np.sqrt(np.mean(x**2)) + 1e-9)


def normalize_level(reference: np.ndarray, db: np.ndarray) -> np.ndarray:
    """Map dB values to 0..1 between the noise floor and the loud peaks of a `reference` dB track (offline: the
    clip itself; live: the last seconds heard)."""
    floor, peak = np.percentile(reference, 10), np.percentile(reference, 97)
    if peak - floor < 6:  # almost flat: treat as constant activity
        floor = peak - 30
    return np.clip((db - floor - 6) / (peak - floor - 6 + 1e-6), 0, 1)


def viseme_mouth(feats: AudioFeatures, mouth_open: float = 0.0) -> np.ndarray:
    """(T, 5) mouth channels (`visemes.MOUTH`) from the decoded phones, the jaw scaled by the speech level."""
    mouth = mouth_from_visemes(feats.visemes, feats.fps, mouth_open)
    jaw = mouth[:, 0]  # loudness scales the opening, never a closure
    mouth[:, 0] = np.maximum(jaw, 0) * level_gain(feats.band_db, feats.fps) + np.minimum(jaw, 0)
    return mouth


def learned_mouth(feats: AudioFeatures) -> np.ndarray:
    """(T, 5) mouth channels from the learned articulation, at rest in sustained silence (`visemes.with_rest`)."""
    from .articulation import shipped
    from .data import audio_matrix

    return with_rest(shipped().predict_at(audio_matrix(feats), feats.fps), feats.visemes, feats.fps)


def level_gain(db: np.ndarray, fps: float) -> np.ndarray:
    """Jaw gain from a dB track: loud speech opens wider than the viseme target, quiet speech less."""
    return _smooth(0.4 + 0.9 * normalize_level(db, db), fps, 0.03, 0.08)


def blink_track(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    out, t = np.zeros(n), rng.uniform(0.5, 3.0)
    shape_t = np.array([0.0, 0.06, 0.1, 0.16, 0.26])
    shape_v = np.array([0.0, 0.8, 1.0, 0.6, 0.0])
    times = np.arange(n) / fps
    while t < n / fps:
        dur = rng.uniform(0.85, 1.15)
        m = (times >= t) & (times <= t + shape_t[-1] * dur)
        out[m] = np.maximum(out[m], np.interp((times[m] - t) / dur, shape_t, shape_v))
        t += rng.uniform(2.0, 6.0)
    return out


def saccade_track(rng: np.random.Generator, n: int, fps: float, centre: tuple[float, float]) -> np.ndarray:
    out, i = np.zeros((n, 2)), 0
    pos = np.array(centre, float)
    while i < n:
        hold = int(rng.uniform(0.6, 3.0) * fps)
        target = np.clip(np.array(centre) + rng.normal(0, [0.18, 0.1]), -1, 1)
        ramp = max(1, int(0.05 * fps))
        for k in range(min(ramp, n - i)):
            out[i + k] = pos + (target - pos) * (k + 1) / ramp
        out[i + ramp: i + hold] = target
        pos, i = target, i + max(hold, ramp)
    return out


def procedural_motion(feats: AudioFeatures, controls: Controls = Controls(), seed: int = 0,
                      mouth_open: float = 0.0, mouth: str = "visemes") -> latent.Motion:
    """Motion latents for every video frame of `feats`; the same inputs and seed give the same motion.
    `mouth_open`: the portrait's own lip gap (`Portrait.mouth_open`), which the viseme table closes on /p b m/;
    `mouth`: `MOUTH_MODELS`."""
    if mouth not in MOUTH_MODELS:
        raise ValueError(f"mouth must be one of {MOUTH_MODELS}, got {mouth!r}")
    rng = np.random.default_rng(seed)
    n, fps = len(feats), feats.fps
    t = np.arange(n) / fps
    pose, expr = np.zeros((n, len(latent.POSE))), np.zeros((n, len(latent.EXPRESSION)))

    level = np.where(feats.energy_db < SILENCE_DB, 0.0, normalize_level(feats.band_db, feats.band_db))  # as live
    speaking = _smooth((level > 0.15).astype(float), fps, 0.05, 0.6)
    voiced = feats.pitch > 0
    if feats.visemes is not None:
        expr[:, channels()] = learned_mouth(feats) if mouth == "learned" else viseme_mouth(feats, mouth_open)
    else:
        jaw = _smooth(level**2, fps, 0.03, 0.06)
        expr[:, E["jaw_open"]] = 0.55 * jaw
        expr[:, E["lower_lip"]] = 0.25 * jaw
        hi = np.clip((feats.high_ratio - 0.15) / 0.5, 0, 1) * (level > 0.05)
        expr[:, E["mouth_stretch"]] = 0.5 * _smooth(hi, fps, 0.04, 0.1)
        dark = np.clip((1500 - feats.centroid) / 1000, 0, 1) * voiced * level
        expr[:, E["lip_pucker"]] = 0.4 * _smooth(dark, fps, 0.05, 0.1)
        expr[:, E["upper_lip"]] = 0.3 * expr[:, E["mouth_stretch"]]

    # Prosody: emphasis where f0 rises above the speaker's median, and on loudness onsets.
    f0 = np.where(voiced, np.log(np.maximum(feats.pitch, 1)), np.nan)
    med = np.nanmedian(f0) if voiced.any() else 0.0
    emph = _smooth(np.nan_to_num(np.clip((f0 - med) / 0.15, 0, 2), nan=0.0), fps, 0.08, 0.4)
    onset = _smooth(np.clip(np.diff(level, prepend=level[0]) * 4, 0, 1), fps, 0.05, 0.25)
    expr[:, E["brow_raise"]] = 0.25 * emph + 0.05 * _noise(rng, t, (0.11, 0.23))
    expr[:, E["smile"]] = 0.05 * _noise(rng, t, (0.05, 0.13))

    blink = blink_track(rng, n, fps)
    expr[:, E["blink_l"]] = blink
    expr[:, E["blink_r"]] = blink * rng.uniform(0.9, 1.0)
    gaze = saccade_track(rng, n, fps, controls.gaze)
    expr[:, E["gaze_x"]], expr[:, E["gaze_y"]] = gaze[:, 0], gaze[:, 1]

    amp = 0.35 + 0.65 * speaking  # calmer in silence, never frozen
    deg = np.pi / 180
    pose[:, P["yaw"]] = deg * (3.0 * amp * _noise(rng, t, (0.07, 0.17, 0.31)) + 1.0 * emph)
    pose[:, P["pitch"]] = deg * (2.0 * amp * _noise(rng, t, (0.09, 0.21, 0.4)) + 2.0 * onset - 1.0 * emph)
    pose[:, P["roll"]] = deg * 1.5 * amp * _noise(rng, t, (0.05, 0.13, 0.27))
    pose[:, P["tx"]] = 0.02 * _noise(rng, t, (0.04, 0.1))
    pose[:, P["ty"]] = 0.01 * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 6.3)) + 0.01 * onset
    pose *= controls.pose_scale
    pose[:, P["log_scale"]] = controls.head_distance + 0.005 * _noise(rng, t, (0.03, 0.08))

    pose_off, expr_off = controls.emotion_offsets()
    return latent.Motion(pose + pose_off, expr + expr_off, fps)
