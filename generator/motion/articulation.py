"""Learned articulation: the mouth as a linear function of the audio around each frame.

A ridge regression from ±`context` frames of the per-frame audio features (log-mel, level, pitch and the
viseme classes of the decoded phones, `data.audio_matrix`) to the five mouth channels, fitted on real footage of
people speaking with their own voice. It predicts the mouth a real speaker makes for these sounds on average, so
it forms the words better than a hand-made viseme table and is deterministic and cheap (one matrix product per
clip). Its outputs shrink towards the mean as any regression does; `gain` restores the real footage's spread.
In sustained silence the procedural motion takes it to rest (`visemes.with_rest`, `procedural.py`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from likeness.errors import UserError
from likeness.files import atomic_path

from ..latent import FPS
from .data import Clip, loudness_reference, normalise_loudness
from .visemes import MOUTH, latent_columns

DEFAULT_PATH = Path(__file__).parent / "assets" / "articulation.npz"
_MOUTH_COLS = latent_columns()


def stack_context(a: np.ndarray, context: int) -> np.ndarray:
    """(T, D) -> (T, D * (2 context + 1)): each row with its neighbours, edges repeated."""
    n = len(a)
    pad = np.pad(a, ((context, context), (0, 0)), mode="edge")
    return np.concatenate([pad[k: k + n] for k in range(2 * context + 1)], 1)


def _inputs(audio: np.ndarray, context: int) -> np.ndarray:
    """Loudness-normalised features with their context (recordings differ by 40 dB in level)."""
    return stack_context(normalise_loudness(audio, loudness_reference(audio)), context)


@dataclass
class Articulation:
    """A fitted model: `predict(audio_matrix)` -> (T, 5) mouth channels in `visemes.MOUTH` order, at `FPS`."""

    context: int
    in_mean: np.ndarray   # (D',) input standardisation
    in_std: np.ndarray
    weights: np.ndarray   # (D', 5)
    out_mean: np.ndarray  # (5,)
    gain: np.ndarray      # (5,) spread restored around out_mean

    def predict(self, audio: np.ndarray) -> np.ndarray:
        x = (_inputs(np.asarray(audio, np.float32), self.context) - self.in_mean) / self.in_std
        if x.shape[1] != len(self.weights):
            raise UserError(f"articulation model expects {len(self.weights)} inputs, got {x.shape[1]}")
        return (self.out_mean + self.gain * (x @ self.weights)).astype(np.float32)

    def predict_at(self, audio: np.ndarray, fps: float) -> np.ndarray:
        """`predict` for features at any frame rate: resampled to the model's `FPS` and back."""
        if abs(fps - FPS) < 1e-6 or len(audio) < 2:
            return self.predict(audio)
        t_in = np.arange(len(audio)) / fps
        t_model = np.arange(int(np.ceil(t_in[-1] * FPS)) + 1) / FPS
        resampled = np.stack([np.interp(t_model, t_in, col) for col in np.asarray(audio).T], 1)
        mouth = self.predict(resampled)
        return np.stack([np.interp(t_in, t_model, col) for col in mouth.T], 1).astype(np.float32)

    def save(self, path: Path) -> None:
        with atomic_path(path, ".npz") as tmp:
            np.savez(tmp, context=self.context, in_mean=self.in_mean, in_std=self.in_std, weights=self.weights,
                     out_mean=self.out_mean, gain=self.gain)

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "Articulation":
        try:
            with np.load(path) as z:
                model = cls(int(z["context"]), *(z[k].astype(np.float32) for k in
                                                 ("in_mean", "in_std", "weights", "out_mean", "gain")))
        except FileNotFoundError:
            raise UserError(f"articulation model not found: {path} (rebuild it with `make train-articulation`)") from None
        except Exception as e:
            raise UserError(f"articulation model {path} is unreadable ({type(e).__name__}); "
                            "rebuild it with `make train-articulation`") from None
        if model.weights.shape != (len(model.in_mean), len(MOUTH)):
            raise UserError(f"articulation model {path} has weights of shape {model.weights.shape}")
        return model


@functools.lru_cache(maxsize=1)
def shipped() -> Articulation:
    """The articulation model shipped in the package (loaded once)."""
    return Articulation.load(DEFAULT_PATH)


def fit(clips: list[Clip], context: int, ridge: float, max_gain: float = 2.0) -> Articulation:
    """Ridge regression of the clips' tracked mouth channels on their audio features (features standardised,
    `ridge` on that scale). `gain`: the real spread over the fitted spread per channel, at most `max_gain`."""
    if not clips:
        raise UserError("no clips to fit the articulation model on")
    x = np.concatenate([_inputs(c.audio, context) for c in clips]).astype(np.float64)
    mouths = [mouth_of(c).astype(np.float64) for c in clips]
    y = np.concatenate(mouths)
    # the weights learn how a mouth moves within a clip: where a speaker's lips rest differs by person and
    # tracking, which the audio cannot tell, so each clip's own mean is taken out (the mean over all is put back)
    within = np.concatenate([m - m.mean(0) for m in mouths])
    mean, std = x.mean(0), x.std(0) + 1e-4
    x = (x - mean) / std
    out_mean = y.mean(0)
    w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ within)
    gain = np.minimum(within.std(0) / np.maximum((x @ w).std(0), 1e-6), max_gain)
    f32 = functools.partial(np.asarray, dtype=np.float32)
    return Articulation(context, f32(mean), f32(std), f32(w), f32(out_mean), f32(gain))


def mouth_of(clip: Clip) -> np.ndarray:
    """The tracked (T, 5) mouth channels of a prepared clip."""
    return clip.latent[:, _MOUTH_COLS]
