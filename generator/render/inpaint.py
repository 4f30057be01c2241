"""The learned mouth interior: a small U-Net that fills the opening between the lips, run with onnxruntime.

It works in the mouth frame of `generator.render.bank` (inner-lip corners at fixed points of a PATCH_W x PATCH_H
patch). In: the frame's mouth patch with the opening masked out, the mask, and a reference mouth of the same
person (the portrait's) with its own mask; out: the patch with the opening filled (teeth, tongue, cavity and the
lips' inner edge), in the lighting and detail of what surrounds it. Trained by `generator.render.train_mouth` on
real footage (`make train-renderer`); at run time only onnxruntime is needed, so a cold start loads no torch.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from likeness.errors import UserError

from .bank import CORNER_L, CORNER_R, LUMA, PATCH_H, PATCH_W

MODEL_PATH = Path(__file__).parent / "assets" / "mouth_net.onnx"
RETRAIN = "retrain it with `make train-renderer`"
IN_CHANNELS = 8
MASK_PAD = 1.5   # mouth-frame px the mask reaches beyond the inner-lip contour: the lips' inner edge is redrawn
MIN_GAP = 0.3    # mouth-frame px: columns whose lips are closer than this have no opening
SEAM = 2.0       # mouth-frame px either side of the lips' midline redrawn when the portrait's own mouth is open


def opening_mask(upper: np.ndarray, lower: np.ndarray, pad: float = MASK_PAD, seam: float = 0.0) -> np.ndarray:
    """(PATCH_H, PATCH_W) float32 mask of the opening between inner-lip curves `upper`/`lower` (PATCH_W,), grown by
    `pad` and soft over one pixel; zero in columns where the lips touch. With `seam` > 0 it is at least that many
    pixels either side of the lips' midline between the corners (tapering to them), so where the lips meet their
    junction is redrawn too (a portrait's open mouth squeezed shut leaves a jagged seam there)."""
    rows = np.arange(PATCH_H, dtype=np.float32)[:, None]
    up, lo = np.asarray(upper, np.float32)[None], np.asarray(lower, np.float32)[None]
    if seam > 0:
        cols = np.arange(PATCH_W, dtype=np.float32)
        half = seam * np.sin(np.pi * np.clip((cols - CORNER_R[0]) / (CORNER_L[0] - CORNER_R[0]), 0, 1))[None]
        mid = (up + lo) / 2
        up, lo = np.minimum(up, mid - half), np.maximum(lo, mid + half)
    m = np.clip(np.minimum(rows - (up - pad), (lo + pad) - rows) + 0.5, 0.0, 1.0)
    return (m * (lo - up > MIN_GAP)).astype(np.float32)


def model_input(patch: np.ndarray, mask: np.ndarray, ref: np.ndarray, ref_mask: np.ndarray) -> np.ndarray:
    """(8, PATCH_H, PATCH_W) float32 network input: the masked patch, the mask, the reference and its mask.
    Images are uint8 or float in 0..255, masks 0..1; images go to -1..1."""
    m = mask[None]
    img = (np.transpose(np.asarray(patch, np.float32), (2, 0, 1)) / 127.5 - 1.0) * (1.0 - m)
    r = np.transpose(np.asarray(ref, np.float32), (2, 0, 1)) / 127.5 - 1.0
    return np.concatenate([img, m, r, ref_mask[None]]).astype(np.float32)


def tissue_colour(rgb: np.ndarray, light: np.ndarray) -> np.ndarray:
    """`rgb` (..., 3) float, 0..255, recoloured as the inside of a mouth lit like a portrait whose lips and whites of
    the eyes are `light` (`bank.lighting`): each pixel keeps its brightness and takes the colour of the tissue that
    brightness suggests: the lips' (cavity, tongue and gums) up to the lips' own brightness, the eye whites' (teeth)
    at theirs, blended between. The network draws a mouth's shapes from real footage, but where a portrait's palette
    is unlike any it saw, its colours drift off it (green teeth under a painting's yellow varnish); a real mouth's
    colours are those of its lips and teeth under the portrait's own light."""
    lips, whites = np.asarray(light[0], np.float32), np.asarray(light[1], np.float32)
    y = np.asarray(rgb, np.float32) @ LUMA
    y_lips, y_white = max(float(lips @ LUMA), 1.0), max(float(whites @ LUMA), 1.0)
    t = np.clip((y - y_lips) / max(y_white - y_lips, 1.0), 0.0, 1.0)[..., None]
    tint = (1 - t) * lips / y_lips + t * whites / y_white
    return y[..., None] * tint


class MouthNet:
    """The exported network: `fill(patch, mask, ref, ref_mask)` -> the filled patch (float32 RGB 0..255)."""

    def __init__(self, session):
        self._session = session
        self._input = session.get_inputs()[0].name

    def fill(self, patch: np.ndarray, mask: np.ndarray, ref: np.ndarray, ref_mask: np.ndarray) -> np.ndarray:
        y = self.run(model_input(patch, mask, ref, ref_mask))
        return (np.transpose(y, (1, 2, 0)) + 1.0) * 127.5

    def run(self, x: np.ndarray) -> np.ndarray:
        """The raw network: (8, PATCH_H, PATCH_W) input (`model_input`) -> (3, PATCH_H, PATCH_W) in -1..1."""
        return self._session.run(None, {self._input: np.asarray(x, np.float32)[None]})[0][0]

    @classmethod
    def load(cls, path: Path | None = None) -> "MouthNet":
        """The network at `path` (default: the shipped one); a missing or corrupt file is a UserError, never a
        fallback to another mouth."""
        path = Path(path or MODEL_PATH)
        if not path.is_file():
            raise UserError(f"mouth model missing: {path}; {RETRAIN}")
        return _load(str(path), hashlib.sha256(path.read_bytes()).hexdigest())


@lru_cache(maxsize=2)
def _load(path: str, digest: str) -> MouthNet:
    from likeness.checkpoints import onnx_session

    try:
        session = onnx_session(path)
        shape = session.get_inputs()[0].shape
        if list(shape[1:]) != [IN_CHANNELS, PATCH_H, PATCH_W]:
            raise ValueError(f"input shape {shape}")
        net = MouthNet(session)
        probe = net.fill(np.zeros((PATCH_H, PATCH_W, 3), np.float32), np.zeros((PATCH_H, PATCH_W), np.float32),
                         np.zeros((PATCH_H, PATCH_W, 3), np.float32), np.zeros((PATCH_H, PATCH_W), np.float32))
        if probe.shape != (PATCH_H, PATCH_W, 3):
            raise ValueError(f"output shape {probe.shape}")
    except Exception as e:  # a truncated, foreign or hand-edited file
        raise UserError(f"mouth model is corrupt: {path} ({type(e).__name__}); {RETRAIN}") from None
    return net

