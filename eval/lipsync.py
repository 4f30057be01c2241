"""Lip sync: how well mouth opening follows the audio level, and at which lag."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from likeness.metrics import lagged_correlation


def audio_envelope(samples: np.ndarray, rate: int, fps: float, frames: int) -> np.ndarray:
    """RMS level per video frame (linear), `frames` long (zero past the end of the audio)."""
    edges = (np.arange(frames + 1) / fps * rate).astype(int)
    x = np.asarray(samples, np.float64)
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    lo, hi = np.minimum(edges[:-1], len(x)), np.minimum(edges[1:], len(x))
    return np.sqrt((c[hi] - c[lo]) / np.maximum(hi - lo, 1))


@dataclass
class SyncResult:
    lag: int             # frames the mouth trails the audio (negative: it leads)
    peak: float          # correlation at that lag
    at_zero: float       # correlation without a shift
    curve: dict[int, float]


def lip_sync(mouth: np.ndarray, envelope: np.ndarray, max_lag: int = 10) -> SyncResult:
    """Best lag in [-max_lag, max_lag] frames and the peak correlation between mouth opening and audio level."""
    curve = {k: lagged_correlation(mouth, envelope, k) for k in range(-max_lag, max_lag + 1)}
    finite = {k: v for k, v in curve.items() if np.isfinite(v)}
    if not finite:
        return SyncResult(0, float("nan"), float("nan"), curve)
    lag = max(finite, key=finite.get)
    return SyncResult(lag, finite[lag], curve[0], curve)


_GRID = ({"b": "bin", "l": "lay", "p": "place", "s": "set"}, {"b": "blue", "g": "green", "r": "red", "w": "white"},
         {"a": "at", "b": "by", "i": "in", "w": "with"}, None,
         {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
          "8": "eight", "9": "nine"}, {"a": "again", "n": "now", "p": "please", "s": "soon"})


def grid_sentence(name: str) -> str:
    """The sentence a GRID clip speaks, from the six-letter code ending its file stem ("bbaf2n": "bin blue at f
    two now"; GRID grammar: command, colour, preposition, letter, digit, adverb)."""
    code = name.rsplit("_", 1)[-1][-6:]
    if len(code) != 6:
        raise ValueError(f"not a GRID clip name: {name}")
    return " ".join(code[i] if words is None else words[code[i]] for i, words in enumerate(_GRID))


#: dlib inner-lip gap (over the outer eye-corner distance) below which lips count as closed. In the real
#: held-out GRID footage every aligned /p b m/ reaches it within a frame (minima 0.004-0.019); open vowels
#: mostly stay above it (`benchmarks/RESULTS.md`, lip-sync section).
CLOSED_GAP = 0.02


def closure_rate(mouth: np.ndarray, spans: list[tuple[float, float]], fps: float, threshold: float = CLOSED_GAP,
                 tol: int = 1) -> tuple[int, int]:
    """(closed, total): how many of the phone spans (seconds) have a frame within `tol` frames whose mouth
    opening is below `threshold`."""
    hits = 0
    for s, e in spans:
        lo, hi = max(0, int(np.floor(s * fps)) - tol), min(len(mouth), int(np.ceil(e * fps)) + tol)
        seg = mouth[lo:hi]
        hits += bool(len(seg) and np.nanmin(seg) < threshold) if np.isfinite(seg).any() else 0
    return hits, len(spans)
