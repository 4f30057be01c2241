"""Phones to mouth shapes: a viseme target per class, blended over time by dominance (Cohen & Massaro, 1993).

Each decoded phone pulls the mouth towards its class's target with a dominance that peaks at the phone's
centre and decays with distance, reaching further ahead than behind (lips anticipate the next sound by about
100 ms). Lip closures and lip-teeth contacts dominate strongly, so they are reached even between open
vowels; alveolars and velars dominate weakly and take their neighbours' shape (coarticulation).
"""
from __future__ import annotations

import numpy as np

from .. import latent
from ..phones import VISEMES


#: The mouth channels a viseme sets, in this order.
MOUTH = ("jaw_open", "mouth_stretch", "lip_pucker", "upper_lip", "lower_lip")
# Targets in expression units (`generator.face.expression`: jaw_open 1 = a 0.45 IOD gap); negative lip
# values press the lips together. Dominance: how strongly a class holds its target against its neighbours.
_TARGETS = {  # jaw, stretch, pucker, upper lip, lower lip;  dominance
    "rest":      ((0.00, 0.00, 0.00, 0.00, 0.00), 0.5),
    "closed":    ((0.00, 0.00, 0.10, -0.30, -0.60), 15.0),
    "lip_teeth": ((0.06, 0.05, 0.00, 0.35, -0.40), 4.0),
    "tongue":    ((0.18, 0.10, 0.00, 0.15, 0.10), 1.0),
    "alveolar":  ((0.14, 0.15, 0.00, 0.10, 0.05), 0.6),
    "sh":        ((0.14, -0.10, 0.45, 0.30, 0.25), 2.0),
    "back":      ((0.28, 0.05, 0.00, 0.05, 0.10), 0.5),
    "round":     ((0.22, -0.20, 0.70, 0.05, 0.10), 1.5),
    "spread":    ((0.20, 0.45, 0.00, 0.20, 0.10), 1.2),
    "open":      ((0.60, 0.05, 0.00, 0.10, 0.30), 1.2),
    "mid":       ((0.42, 0.25, 0.00, 0.15, 0.25), 1.2),
    "r":         ((0.18, -0.05, 0.40, 0.10, 0.10), 1.0),
}
TARGETS = np.array([_TARGETS[v][0] for v in VISEMES], np.float32)   # (12, 5)
DOMINANCE = np.array([_TARGETS[v][1] for v in VISEMES], np.float32)  # (12,)
AHEAD_S, BEHIND_S = 0.10, 0.06  # dominance falls to 1/e this far before / after a phone's span
LEAD_S = 0.02                   # the mouth shape leads its sound slightly
REST_FROM = 0.9                 # `with_rest`: the blended rest share from which a learned mouth goes to rest
CONTACT = 0.04                  # `pressed`: the lip gap (inter-ocular) below which a learned mouth's lips press


def reach(fps: float) -> int:
    """Frames either side of a frame whose phones pull on it."""
    return int(np.ceil(3 * AHEAD_S * fps)) + 1


def blend_weights(visemes: np.ndarray, fps: float, causal: bool = False) -> np.ndarray:
    """(T, 12) normalised dominance of each viseme class at each frame, from per-frame viseme shares (T, 12).

    Works on frames, not phone lists, so it runs on anything `audio_matrix` carries and needs only AHEAD_S * 3
    of look-ahead; the mouth is `blend_weights(...) @ targets`. `causal`: only the frame itself and earlier ones
    pull (live, where the next phones are not known yet: no anticipation)."""
    v = np.asarray(visemes, np.float64)
    n, r = len(v), reach(fps)
    out = np.zeros_like(v)
    for k in range(-r, 1 if causal else r + 1):  # frame i + k pulls on frame i
        dt = k / fps - LEAD_S
        w = np.exp(-abs(dt) / (AHEAD_S if dt > 0 else BEHIND_S))
        lo, hi = max(0, -k), min(n, n - k)
        if hi > lo:
            out[lo:hi] += w * v[lo + k: hi + k] * DOMINANCE
    return (out / np.maximum(out.sum(1, keepdims=True), 1e-12)).astype(np.float32)


def targets_for(mouth_open: float = 0.0) -> np.ndarray:
    """(12, 5) viseme targets for a portrait whose own lip gap is `mouth_open` jaw units (`Portrait.mouth_open`):
    closures and lip-teeth contacts close the jaw by that much more, so a portrait taken mid-word still closes its
    lips on a /p/."""
    targets = TARGETS.copy()
    targets[VISEMES.index("closed"), 0] -= mouth_open
    targets[VISEMES.index("lip_teeth"), 0] -= 0.8 * mouth_open
    return targets


def with_rest(mouth: np.ndarray, visemes: np.ndarray, fps: float) -> np.ndarray:
    """(T, 5) mouth channels taken to rest (zero: closed lips for the DiT, whose caller then takes the portrait's gap
    off, `encode.from_closed_lips`; the portrait's own lips for the articulation) where the decoded phones are sustained
    rest, silence or sound that is not speech; the weight ramps from 0 at a rest share of `REST_FROM` to 1 at 1, so
    a short pause between words barely counts. A learned mouth (the articulation's regression, the DiT) otherwise
    keeps its lips parted and moving with noise, music or breath. Only rest is laid over: the table's /p b m/
    closures are not, because in the real footage the frames they would shut are no more often closed than others
    (the decoded phone loop misplaces them; `benchmarks/RESULTS.md`), and laying them over cost lip sync.
    `visemes`: per-frame viseme shares (T, 12)."""
    rest = blend_weights(visemes, fps)[:, [VISEMES.index("rest")]]
    return np.asarray(mouth) * (1 - np.clip((rest - REST_FROM) / (1 - REST_FROM), 0, 1))


def lip_gap(mouth: np.ndarray) -> np.ndarray:
    """Inner-lip gap (inter-ocular units) of (T, 5) mouth channels, from the expression basis: jaw_open 1 parts the
    lips by 0.45, upper_lip and lower_lip 1 by 0.08 each (`generator.face.expression`)."""
    m = {k: mouth[:, i] for i, k in enumerate(MOUTH)}
    return 0.45 * m["jaw_open"] + 0.08 * (m["upper_lip"] + m["lower_lip"])


# `pressed`: the closure target's lips, nothing else
_PRESS = np.where(np.isin(MOUTH, ("upper_lip", "lower_lip")), TARGETS[VISEMES.index("closed")], 0).astype(np.float32)


def pressed(mouth: np.ndarray, contact: float = CONTACT) -> np.ndarray:
    """(T, 5) mouth channels relative to closed lips, with the lip press of the closure target (`closed`'s upper
    and lower lip) blended in as their gap falls below `contact`, fully at a gap of 0. Lips that meet press
    together. A learned mouth (the DiT) comes to lips just touching at /p b m/, which on many faces reads as
    slightly parted: rendered, dlib's inner-lip gap stayed above the closure threshold (`benchmarks/RESULTS.md`)."""
    mouth = np.asarray(mouth, np.float32)
    w = np.clip((contact - lip_gap(mouth)) / contact, 0.0, 1.0)[:, None]
    return mouth + w * _PRESS


def mouth_from_visemes(visemes: np.ndarray, fps: float, mouth_open: float = 0.0, causal: bool = False) -> np.ndarray:
    """(T, 5) mouth channels (`MOUTH` order) for per-frame viseme shares (T, 12): targets blended by dominance."""
    return blend_weights(visemes, fps, causal) @ targets_for(mouth_open)


def channels() -> list[int]:
    """Indices of `MOUTH` in `latent.EXPRESSION`."""
    return [latent.EXPRESSION.index(k) for k in MOUTH]


def latent_columns() -> list[int]:
    """Indices of `MOUTH` in a (T, 17) motion latent (pose first, then expression)."""
    return [len(latent.POSE) + i for i in channels()]
