"""What uploads and sources do to a face crop: re-compression, resizing, blur, sharpening, noise, GIF palettes, colour
shifts, crops and flips. Both classes get all of it, so a source's quality (a 160 px crop, MPEG-1 blocks, a GIF's
256 colours, a sharp 1080p studio face) cannot be what tells real from generated."""
from __future__ import annotations

import numpy as np


def degrade(img: np.ndarray, rng: np.random.Generator, p: float = 0.5, reframe: bool = True) -> np.ndarray:
    """One random chain of upload degradations applied to an RGB uint8 crop (each step with probability p);
    `reframe` False leaves out the re-framing crop and the mirror flip, so the face's landmarks stay where they were."""
    import cv2

    h, w = img.shape[:2]
    x = img
    if reframe and rng.random() < p:  # crop and rescale (re-framing)
        k = rng.uniform(0.85, 1.0)
        ch, cw = int(h * k), int(w * k)
        y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        x = cv2.resize(x[y0: y0 + ch, x0: x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < p:  # downscale and back up (a smaller upload)
        k = rng.uniform(0.25, 0.9)
        small = cv2.resize(x, (max(8, int(w * k)), max(8, int(h * k))), interpolation=cv2.INTER_AREA)
        x = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < p * 0.5:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.5))
    elif rng.random() < p * 0.3:  # sharpened (studio cameras, upscalers)
        f = x.astype(np.float32)
        x = np.clip(f + rng.uniform(0.3, 1.2) * (f - cv2.GaussianBlur(f, (0, 0), 1.0)), 0, 255).astype(np.uint8)
    if rng.random() < p:  # brightness, contrast, colour cast
        gain = rng.uniform(0.8, 1.2) * rng.uniform(0.93, 1.07, 3)
        x = np.clip(x.astype(np.float32) * gain + rng.uniform(-15, 15), 0, 255).astype(np.uint8)
    if rng.random() < p * 0.5:
        x = np.clip(x + rng.normal(0, rng.uniform(1, 6), x.shape), 0, 255).astype(np.uint8)
    if rng.random() < p * 0.2:  # an animated GIF's palette
        from PIL import Image

        dither = Image.Dither.FLOYDSTEINBERG if rng.random() < 0.5 else Image.Dither.NONE
        x = np.asarray(Image.fromarray(x).quantize(int(rng.integers(32, 257)), dither=dither).convert("RGB"))
    if rng.random() < p:  # block-transform re-compression (JPEG stands in for H.264 and MPEG-1 intra frames)
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(x[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 95))])
        x = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    if reframe and rng.random() < 0.5:
        x = x[:, ::-1]
    return np.ascontiguousarray(x)
