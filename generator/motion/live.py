"""Causal procedural motion for live streams: one call per block of new audio frames, no future needed.

The offline procedural model (`procedural.py`) sees the whole clip: it scales the level between the clip's own
noise floor and peaks, centres pitch on the clip's median and decodes phones in 1 s blocks. Live, none of that
is known yet, so this model keeps the offline formulas for the mouth (its level-and-spectrum branch), the head,
blinks and gaze, and replaces each whole-clip statistic by a running one over the last `HISTORY_S` of audio.
With phones (the live phone stream, `generator.phones.PhoneStream`) the mouth is the offline viseme table's,
blended causally: the next phones are not known yet, so the lips do not anticipate them. Controls may change at
any frame and are followed smoothly (`CONTROL_TAU_S`).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .. import latent
from ..audio import SILENCE_DB, AudioFeatures
from .controls import Controls
from .procedural import E, P, blink_track, follower_step, normalize_level, saccade_track
from .visemes import channels, mouth_from_visemes, reach

HISTORY_S = 10.0            # running level and pitch statistics look back this far
WARMUP_DB = (-60.0, -20.0)  # a typical speech range, blended in until a second of audio has been heard
CONTROL_TAU_S = 0.3         # time constant of the glide to new controls (95% there after 0.9 s)
SEGMENT_S = 30.0            # blinks and gaze holds are drawn per segment of this length, each seeded on its own
_FOLLOW = {"jaw": (0.03, 0.06), "stretch": (0.04, 0.1), "pucker": (0.05, 0.1), "speaking": (0.05, 0.6),
           "emph": (0.08, 0.4), "onset": (0.05, 0.25), "gain": (0.03, 0.08)}  # attack, release (s): the offline model's


class Drift:
    """Smooth zero-mean unit-RMS noise at absolute times: random-phase sinusoids (as the offline `_noise`), with
    the RMS known in closed form, so that any stretch of it is scaled alike."""

    def __init__(self, rng: np.random.Generator, freqs: tuple[float, ...]):
        self.freqs = np.array(freqs)
        self.phase = rng.uniform(0, 2 * np.pi, len(freqs))
        self.amp = rng.uniform(0.6, 1.0, len(freqs))
        self.rms = float(np.sqrt((self.amp**2).sum() / 2))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return (self.amp * np.sin(2 * np.pi * self.freqs * t[:, None] + self.phase)).sum(1) / self.rms


class LiveMotion:
    """Motion latents for live audio features, block by block (`step`): the same features, seed and controls give
    the same motion however the audio is cut into blocks."""

    def __init__(self, fps: float, controls: Controls = Controls(), seed: int = 0, mouth_open: float = 0.0):
        self.fps, self.seed, self.n, self.mouth_open = fps, seed, 0, mouth_open
        self.visemes: np.ndarray | None = None  # the last few frames' viseme shares (what the next frames blend with)
        rng = np.random.default_rng([seed, 0])
        self.drift = {k: Drift(rng, f) for k, f in (
            ("brow", (0.11, 0.23)), ("smile", (0.05, 0.13)), ("yaw", (0.07, 0.17, 0.31)), ("pitch", (0.09, 0.21, 0.4)),
            ("roll", (0.05, 0.13, 0.27)), ("tx", (0.04, 0.1)), ("scale", (0.03, 0.08)))}
        self.breath = rng.uniform(0, 2 * np.pi)
        self.db: deque[float] = deque(maxlen=int(HISTORY_S * fps))
        self.log_f0: deque[float] = deque(maxlen=int(HISTORY_S * fps))
        self.state = dict.fromkeys(_FOLLOW, 0.0)
        self.prev_level: float | None = None
        self.target = self.control = _control_vector(controls)
        self._segments: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def set_controls(self, controls: Controls) -> None:
        """New gaze, emotion, head distance or motion scale; reached smoothly within about a second."""
        self.target = _control_vector(controls)

    def step(self, feats: AudioFeatures) -> latent.Motion:
        """Motion for the next len(feats) frames."""
        n, fps = len(feats), self.fps
        track = {k: np.zeros(n) for k in _FOLLOW}
        ctrl = np.zeros((n, len(self.control)))
        glide = 1 - np.exp(-1 / (CONTROL_TAU_S * fps))
        for i in range(n):
            level, f0 = self._level(float(feats.band_db[i])), float(feats.pitch[i])
            if feats.energy_db[i] < SILENCE_DB:  # digital silence or a muted microphone: nothing is said
                level = 0.0
            if f0 > 0:
                self.log_f0.append(float(np.log(f0)))
            drive = {
                "jaw": level**2,
                "stretch": np.clip((feats.high_ratio[i] - 0.15) / 0.5, 0, 1) * (level > 0.05),
                "pucker": np.clip((1500 - feats.centroid[i]) / 1000, 0, 1) * (f0 > 0) * level,
                "speaking": float(level > 0.15),
                "emph": np.clip((np.log(f0) - np.median(self.log_f0)) / 0.15, 0, 2) if f0 > 0 else 0.0,
                "onset": 0.0 if self.prev_level is None else np.clip((level - self.prev_level) * 4, 0, 1),
                "gain": 0.4 + 0.9 * level,  # the jaw's loudness scaling when phones shape the mouth
            }
            for k, (attack, release) in _FOLLOW.items():
                self.state[k] = follower_step(self.state[k], float(drive[k]), fps, attack, release)
                track[k][i] = self.state[k]
            self.prev_level = level
            self.control = self.control + glide * (self.target - self.control)
            ctrl[i] = self.control
        return self._compose(track, ctrl, n, feats.visemes)

    def _compose(self, track: dict[str, np.ndarray], ctrl: np.ndarray, n: int,
                 visemes: np.ndarray | None) -> latent.Motion:
        """The offline model's formulas on this block's followers and controls."""
        fps, deg = self.fps, np.pi / 180
        t = np.arange(self.n, self.n + n) / fps
        pose, expr = np.zeros((n, len(latent.POSE))), np.zeros((n, len(latent.EXPRESSION)))
        if visemes is not None:  # as `procedural.viseme_mouth`, blended over what has been heard
            seen = visemes if self.visemes is None else np.r_[self.visemes, visemes]
            mouth = mouth_from_visemes(seen, fps, self.mouth_open, causal=True)[-n:]
            self.visemes = seen[-reach(fps):]
            mouth[:, 0] = np.maximum(mouth[:, 0], 0) * track["gain"] + np.minimum(mouth[:, 0], 0)
            expr[:, channels()] = mouth
        else:
            expr[:, E["jaw_open"]], expr[:, E["lower_lip"]] = 0.55 * track["jaw"], 0.25 * track["jaw"]
            expr[:, E["mouth_stretch"]] = 0.5 * track["stretch"]
            expr[:, E["lip_pucker"]] = 0.4 * track["pucker"]
            expr[:, E["upper_lip"]] = 0.3 * expr[:, E["mouth_stretch"]]
        emph, onset = track["emph"], track["onset"]
        expr[:, E["brow_raise"]] = 0.25 * emph + 0.05 * self.drift["brow"](t)
        expr[:, E["smile"]] = 0.05 * self.drift["smile"](t)
        blink, gaze = self._blinks_and_gaze(np.arange(self.n, self.n + n))
        expr[:, E["blink_l"]], expr[:, E["blink_r"]] = blink[:, 0], blink[:, 1]
        expr[:, [E["gaze_x"], E["gaze_y"]]] = np.clip(gaze + ctrl[:, 0:2], -1, 1)
        amp = 0.35 + 0.65 * track["speaking"]  # calmer in silence, never frozen
        pose[:, P["yaw"]] = deg * (3.0 * amp * self.drift["yaw"](t) + 1.0 * emph)
        pose[:, P["pitch"]] = deg * (2.0 * amp * self.drift["pitch"](t) + 2.0 * onset - 1.0 * emph)
        pose[:, P["roll"]] = deg * 1.5 * amp * self.drift["roll"](t)
        pose[:, P["tx"]] = 0.02 * self.drift["tx"](t)
        pose[:, P["ty"]] = 0.01 * np.sin(2 * np.pi * 0.25 * t + self.breath) + 0.01 * onset
        pose[:, : P["log_scale"]] *= ctrl[:, 2:3]
        pose[:, P["log_scale"]] = ctrl[:, 3] + 0.005 * self.drift["scale"](t)
        k = 4 + len(latent.POSE)
        self.n += n
        return latent.Motion(pose + ctrl[:, 4:k], expr + ctrl[:, k:], fps)

    def _level(self, db: float) -> float:
        """`db` in 0..1 between the running noise floor and peaks (the offline model uses the clip's own)."""
        self.db.append(db)
        ref = np.array(self.db)
        if len(ref) < self.fps:  # the first second: the speaker's own range is not known yet
            ref = np.r_[ref, WARMUP_DB]
        return float(normalize_level(ref, np.array([db]))[0])

    def _blinks_and_gaze(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Blinks (n, 2) and gaze around the centre (n, 2) at absolute frame indices, from seeded schedules."""
        seg = int(SEGMENT_S * self.fps)
        blink, gaze = np.zeros((len(frames), 2)), np.zeros((len(frames), 2))
        for k in np.unique(frames // seg):
            if k not in self._segments:  # one segment kept: frames only move forward
                rng = np.random.default_rng([self.seed, 1, int(k)])
                b = blink_track(rng, seg, self.fps)
                self._segments = {k: (np.c_[b, b * rng.uniform(0.9, 1.0)], saccade_track(rng, seg, self.fps, (0, 0)))}
            sel = frames // seg == k
            b, g = self._segments[k]
            blink[sel], gaze[sel] = b[frames[sel] % seg], g[frames[sel] % seg]
        return blink, gaze


def _control_vector(c: Controls) -> np.ndarray:
    """Controls as one vector that can glide: gaze x, gaze y, pose scale, head distance, then the emotion's pose and
    expression offsets."""
    pose_off, expr_off = c.emotion_offsets()
    return np.r_[c.gaze, c.pose_scale, c.head_distance, pose_off, expr_off].astype(np.float64)
