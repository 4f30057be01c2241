"""Motion realism: Fréchet distance between windows of motion latents, head-pose speed and range, diversity."""
from __future__ import annotations

import numpy as np

# Channels of the (T, 17) latent summarised per window: head pose and the expressive coefficients.
_CHANNELS = {"yaw": 0, "pitch": 1, "roll": 2, "tx": 3, "ty": 4, "log_scale": 5, "jaw_open": 6, "smile": 9,
             "blink_l": 12, "brow_raise": 14, "gaze_x": 15, "gaze_y": 16}


def window_stats(x: np.ndarray, fps: float, window_s: float = 2.0, hop_s: float = 0.2) -> np.ndarray:
    """(N, 2C) features of the windows of a (T, C) series: each channel's standard deviation and mean
    absolute speed (per second)."""
    w, hop = int(round(window_s * fps)), max(1, int(round(hop_s * fps)))
    rows = [np.r_[x[s: s + w].std(0), np.abs(np.diff(x[s: s + w], axis=0)).mean(0) * fps]
            for s in range(0, len(x) - w + 1, hop)]
    return np.array(rows).reshape(-1, 2 * x.shape[1])


def window_features(z: np.ndarray, fps: float, window_s: float = 2.0, hop_s: float = 0.2) -> np.ndarray:
    """(N, 24) window features of a (T, 17) motion latent, over head pose and the expressive channels."""
    return window_stats(z[:, list(_CHANNELS.values())], fps, window_s, hop_s)


def frechet_distance(a: np.ndarray, b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    from scipy import linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    s1 = np.cov(a, rowvar=False) + eps * np.eye(a.shape[1])
    s2 = np.cov(b, rowvar=False) + eps * np.eye(b.shape[1])
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def standardise(ref: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale every feature set by the reference's per-feature spread, so each feature counts alike."""
    mu, sd = ref.mean(0), ref.std(0) + 1e-8
    return [(x - mu) / sd for x in (ref, *others)]


def head_stats(z: np.ndarray, fps: float) -> dict[str, float]:
    """Head rotation speed (deg/s, mean) and range (deg, 5th-95th percentile, mean over yaw/pitch/roll)."""
    rot = np.degrees(z[:, :3])
    speed = np.linalg.norm(np.diff(rot, axis=0), axis=1) * fps
    rng = np.percentile(rot, 95, axis=0) - np.percentile(rot, 5, axis=0)
    return {"head_speed_deg_s": float(speed.mean()), "head_range_deg": float(rng.mean())}


def diversity(samples: list[np.ndarray]) -> float:
    """Mean per-frame standard deviation across seeds (same audio), over head pose and expression, in latent units."""
    n = min(len(s) for s in samples)
    return float(np.stack([s[:n] for s in samples]).std(0).mean())
