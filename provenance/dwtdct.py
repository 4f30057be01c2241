"""Library-compatible watermark: the `invisible-watermark` dwtDct scheme, vectorised, with soft decoding.

The scheme (as in `imwatermark.maxDct`): convert BGR to YUV, take the one-level Haar approximation of
the U channel, cut it into 4x4 blocks in raster order; block k carries bit k mod n by quantising its
largest-magnitude non-first coefficient to (q + 0.25 + 0.5 * bit) * scale. Our embedder writes the same
marks as the library's `WatermarkEncoder(...).encode(bgr, 'dwtDct')` (its decoder reads ours and ours reads
its), but in a few array operations instead of a Python loop over blocks.

Decoding returns *soft* bits in [-1, 1] (positive means 1) averaged over the blocks of a frame; videos
pool them over frames before deciding (`provenance.payload`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WatermarkConfig:
    scale: float = 36.0   # quantisation step in the Haar domain: strength (PSNR) vs robustness
    block: int = 4
    n_bits: int = 64
    margin: float = 4.0   # how far the marked coefficient must stay above the block's runner-up


def _ca_blocks(u: np.ndarray, block: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Haar approximation (pywt 'haar' normalisation) of the usable area, as (n_blocks, block*block)."""
    import cv2

    h, w = u.shape
    h4, w4 = h // 4 * 4, w // 4 * 4
    x = np.ascontiguousarray(u[:h4, :w4]).astype(np.float32)
    ca = cv2.resize(x, (w4 // 2, h4 // 2), interpolation=cv2.INTER_AREA) * 2.0  # 2x2 mean, exact in float32
    nr, nc = ca.shape[0] // block, ca.shape[1] // block
    blocks = ca[: nr * block, : nc * block].reshape(nr, block, nc, block).swapaxes(1, 2).reshape(nr * nc, block * block)
    return blocks, (nr, nc)


def _peak(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos = np.abs(blocks[:, 1:]).argmax(1) + 1
    return pos, blocks[np.arange(len(blocks)), pos]


def embed(bgr: np.ndarray, bits: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> np.ndarray:
    """Return a marked copy of a BGR uint8 frame carrying `bits` (0/1 array of length cfg.n_bits)."""
    import cv2

    bits = np.asarray(bits, np.float32)
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    u = np.ascontiguousarray(yuv[..., 1])
    blocks, (nr, nc) = _ca_blocks(u, cfg.block)
    pos, val = _peak(blocks)
    bit = bits[np.arange(len(blocks)) % len(bits)]
    mag = np.abs(val)
    # Unlike the library, keep the marked coefficient the block's largest (else decoders read another one):
    # take the next quantisation level up when the nearest one would fall below the runner-up.
    runner_up = np.partition(np.abs(blocks[:, 1:]), -2, axis=1)[:, -2]  # the peak is the largest
    level = (mag // cfg.scale + 0.25 + 0.5 * bit) * cfg.scale
    level = np.where(level < runner_up + cfg.margin, level + cfg.scale, level)
    target = np.sign(val + (val == 0)) * level
    delta_blocks = np.zeros_like(blocks)
    delta_blocks[np.arange(len(blocks)), pos] = target - val
    b = cfg.block
    delta_ca = delta_blocks.reshape(nr, nc, b, b).swapaxes(1, 2).reshape(nr * b, nc * b)
    # Inverse Haar of a change in the approximation only: each of the 2x2 pixels moves by delta/2
    # (rounded before adding: u is integer, so this equals rounding the sum).
    half = np.rint(delta_ca * 0.5).astype(np.int16)
    dh, dw = half.shape[0] * 2, half.shape[1] * 2
    delta = cv2.resize(half, (dw, dh), interpolation=cv2.INTER_NEAREST)
    yuv[:dh, :dw, 1] = cv2.add(u[:dh, :dw], delta, dtype=cv2.CV_8U)  # saturating add into uint8
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)


def soft_bits(bgr: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Per-bit sum of soft votes in [-1, 1] (positive = 1) and the number of votes per bit, for one frame."""
    import cv2

    u = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[..., 1]
    blocks, _ = _ca_blocks(u, cfg.block)
    _, val = _peak(blocks)
    frac = np.mod(np.abs(val) / cfg.scale, 1.0)
    votes = -np.cos(2 * np.pi * (frac - 0.25))     # -1 at 0.25 (bit 0), +1 at 0.75 (bit 1)
    slot = np.arange(len(blocks)) % cfg.n_bits
    return np.bincount(slot, votes, cfg.n_bits), np.bincount(slot, minlength=cfg.n_bits).astype(np.float64)


def decode_bits(bgr: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> np.ndarray:
    """Hard bits of one frame (0/1), by the mean soft vote."""
    s, n = soft_bits(bgr, cfg)
    return (s / np.maximum(n, 1) > 0).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))

# Measured here (benchmarks/RESULTS.md): this scheme quantises the *magnitude* of raw chroma, so H.264's
# 4:2:0 subsampling and limited-range conversion shift every block the same way and invert most bits
# (bit accuracy 0.1-0.5 after CRF 18-35). It suits still PNG frames; videos carry `provenance.spread`.
