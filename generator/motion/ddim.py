"""The motion DiT's sampler in numpy: deterministic DDIM (eta 0) with three-way classifier-free guidance.

The network is any callable `denoise(x_t, t, audio, prefix, controls, has_prefix, use_audio, use_controls)` -> the
predicted clean window, all numpy: the exported ONNX model at run time (no torch to import), the torch model in
training. The starting noise is torch's `randn` for the same seed, reproduced here, so a checkpoint samples the same
motion whichever runs it, and figures measured with the torch sampler still hold.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

Denoise = Callable[..., np.ndarray]


def alpha_bar(t):
    """Cosine noise schedule: signal fraction at diffusion time t in [0, 1] (numpy, float32)."""
    s = 0.008
    return np.maximum(np.cos((np.asarray(t, np.float32) + s) / (1 + s) * math.pi / 2), 1e-5).astype(np.float32) ** 2


def torch_randn(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """`torch.randn(*shape, generator=torch.Generator().manual_seed(seed))` on the CPU, to float rounding: torch
    draws 24-bit uniforms from MT19937 (seeded as numpy's legacy `RandomState`) and turns each 16 into normals by
    Box-Muller, the first 8 paired with the last 8; a remainder redraws the last 16. At least 16 values."""
    n = math.prod(shape)
    if n < 16:
        raise ValueError(f"torch_randn needs at least 16 values, got {n}")
    raw = np.random.RandomState(seed & 0xFFFFFFFF).randint(0, 2**32, n + (16 if n % 16 else 0), dtype=np.uint64)
    u = (raw & 0xFFFFFF).astype(np.float32) * np.float32(2.0**-24)

    def box_muller(v: np.ndarray) -> np.ndarray:
        v = v.reshape(-1, 16)
        r, theta = np.sqrt(-2 * np.log(1 - v[:, :8])), np.float32(2 * math.pi) * v[:, 8:]
        return np.concatenate([r * np.cos(theta), r * np.sin(theta)], 1).ravel()

    m = n // 16 * 16
    out = np.empty(n, np.float32)
    out[:m] = box_muller(u[:m])
    if n % 16:
        out[n - 16:] = box_muller(u[n:])
    return out.reshape(shape)


def sample(denoise: Denoise, audio: np.ndarray, prefix: np.ndarray, controls: np.ndarray, has_prefix: np.ndarray,
           seed: int, window: int, steps: int, audio_scale: float = 1.5, control_scale: float = 1.0) -> np.ndarray:
    """(B, window, L) clean latents. Guidance: none -> +audio (`audio_scale`) -> +controls (`control_scale`), the
    three evaluated as one batch. audio (B, P+W, A), prefix (B, P, L), controls (B, C), has_prefix (B,) bool."""
    b = audio.shape[0]
    x = torch_randn(seed, (b, window, prefix.shape[-1]))
    ts = np.linspace(1.0, 0.0, steps + 1, dtype=np.float32)
    rep = lambda z: np.concatenate([z, z, z])  # noqa: E731
    yes, no = np.ones(b, bool), np.zeros(b, bool)
    use_audio, use_ctrl = np.r_[yes, yes, no], np.r_[yes, no, no]
    for t, t_next in zip(ts[:-1], ts[1:]):
        full, aud, none = np.split(denoise(rep(x), np.full(3 * b, t, np.float32), rep(audio), rep(prefix),
                                           rep(controls), rep(has_prefix), use_audio, use_ctrl), 3)
        x0 = none + audio_scale * (aud - none) + control_scale * (full - aud)
        ab, ab_next = alpha_bar(t), alpha_bar(t_next) if t_next > 0 else np.float32(1.0)
        eps = (x - np.sqrt(ab) * x0) / np.sqrt(1 - ab)
        x = np.sqrt(ab_next) * x0 + np.sqrt(1 - ab_next) * eps
    return x.astype(np.float32)
