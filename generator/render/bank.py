"""Real mouth interiors: a bank of exemplars cut from real footage, indexed by inner-lip shape (Video Rewrite).

Every exemplar lives in a *mouth frame*: the similarity that puts the inner-lip corners (landmarks 78 and 308)
at fixed points of a PATCH_W x PATCH_H patch. At render time the target's inner lip is taken into the same
frame, and the nearest exemplars by shape are mapped column by column onto it (`source_rows`: their inner lips
land exactly on the target's, upper teeth stay with the upper lip, lower teeth with the lower lip, a wider
opening shows more of the exemplar's dark depth), blended with weights that fall continuously to zero as an
exemplar leaves the nearest K (no popping), and colour-matched to the portrait (`colour_gain`).
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from likeness.errors import UserError

from ..face import topology as topo

BANK_PATH = Path(__file__).parent / "assets" / "mouth_bank.npz"
PATCH_W, PATCH_H = 128, 112
CORNER_R, CORNER_L = (16.0, 48.0), (112.0, 48.0)   # inner-lip corners in the mouth frame (96 px apart)
UPPER, LOWER = topo.LIPS_INNER_UPPER, topo.LIPS_INNER_LOWER  # both run corner 78 -> corner 308
REBUILD = "rebuild it with `make train-renderer`"
K = 3  # exemplars blended per frame
DEPTH_ROWS = 6.0   # mouth-frame rows over which a wider opening fades into the exemplar's depth colour
LIP_MARGIN = 5.0   # mouth-frame px: the exemplar's own lip edge inside its landmark contour, left out
LUMA_GAIN, CHROMA_GAIN = (0.6, 1.4), (0.93, 1.07)  # limits of the colour transfer
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # RGB weights of brightness (Rec. 601)


def mouth_frame(lm: np.ndarray) -> np.ndarray:
    """2x3 similarity from image pixels to the mouth frame of landmarks `lm` (478, 2|3)."""
    a, b = lm[UPPER[0], :2].astype(np.float64), lm[UPPER[-1], :2].astype(np.float64)
    src, dst = b - a, np.subtract(CORNER_L, CORNER_R)
    z = complex(*dst) / complex(*src) if np.hypot(*src) > 1e-6 else 1.0
    m = np.array([[z.real, -z.imag, 0.0], [z.imag, z.real, 0.0]])
    m[:, 2] = np.asarray(CORNER_R) - m[:, :2] @ a
    return m


def lip_curves(lm: np.ndarray, m: np.ndarray, xs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(upper, lower) inner-lip heights in the mouth frame `m` at columns `xs` (default: every patch column)."""
    xs = np.arange(PATCH_W, dtype=np.float64) if xs is None else xs
    out = []
    for idx in (UPPER, LOWER):
        p = lm[idx, :2] @ m[:, :2].T + m[:, 2]
        order = np.argsort(p[:, 0])
        out.append(np.interp(xs, p[order, 0], p[order, 1]))
    upper, lower = out
    return upper, np.maximum(lower, upper)


def shape_key(lm: np.ndarray) -> np.ndarray:
    """Inner-lip shape descriptor (the 18 non-corner points in the mouth frame), what the bank is indexed by."""
    m = mouth_frame(lm)
    idx = UPPER[1:-1] + LOWER[1:-1]
    return (lm[idx, :2] @ m[:, :2].T + m[:, 2]).ravel().astype(np.float32)


def source_rows(y, up_src, lo_src, up_dst, lo_dst, split: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Source rows for destination rows `y` (arrays broadcast together, one lip height per column), and how far
    (in rows) each lies beyond what the source shows. Rows outside the destination lips follow the nearer lip
    rigidly. Between them: where the destination opens less than the source, rows map linearly onto the source's;
    where it opens more, the upper half follows the upper lip and the lower half the lower lip, up to the source's
    middle row (a wider mouth shows more of its dark depth, not stretched teeth). With `split` (0..1 of the
    destination gap) the halves are cut there and nothing is compressed (the portrait's own teeth)."""
    top = y < (up_dst + lo_dst) / 2 if split is None else y < up_dst + split * (lo_dst - up_dst)
    rigid = np.where(top, y - up_dst + up_src, y - lo_dst + lo_src)
    if split is not None:
        return rigid, np.zeros_like(rigid)
    mid = (up_src + lo_src) / 2
    beyond = np.where(top, rigid - mid, mid - rigid)
    linear = up_src + (y - up_dst) * (lo_src - up_src) / np.maximum(lo_dst - up_dst, 1e-3)
    grows = (lo_dst - up_dst > lo_src - up_src) & (y >= up_dst) & (y <= lo_dst)
    rows = np.where(grows, np.where(top, np.minimum(rigid, mid), np.maximum(rigid, mid)), rigid)
    rows = np.where((y >= up_dst) & (y <= lo_dst) & ~grows, linear, rows)
    return rows, np.where(grows, np.maximum(beyond, 0.0), 0.0)


class JpegPatches:
    """Exemplar patches kept as JPEG bytes and decoded on first use: a clip touches a fraction of the bank, and a
    cold start should not pay for all of it."""

    def __init__(self, jpeg: np.ndarray, offsets: np.ndarray):
        self._jpeg, self._offsets = jpeg, offsets
        self._decoded: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        from PIL import Image

        i = int(i)
        if i not in self._decoded:
            a, b = self._offsets[i], self._offsets[i + 1]
            self._decoded[i] = np.asarray(Image.open(io.BytesIO(self._jpeg[a:b].tobytes())).convert("RGB"))
        return self._decoded[i]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self[0].shape)


@dataclass
class MouthBank:
    """Exemplar interiors in the mouth frame with their inner-lip curves, shape keys and lip colours."""

    patches: np.ndarray | JpegPatches  # (N, PATCH_H, PATCH_W, 3) uint8
    upper: np.ndarray     # (N, PATCH_W) float32
    lower: np.ndarray     # (N, PATCH_W) float32
    keys: np.ndarray      # (N, 36) float32
    light: np.ndarray     # (N, 2, 3) float32 lips and eye whites of the source frame (`lighting`)
    sources: np.ndarray   # (N,) str: "clip:frame", for attribution
    _depth: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def nearest(self, key: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
        """Indices and blend weights of the exemplars nearest `key`; each weight reaches zero exactly when its
        exemplar leaves the nearest k, so weights change continuously as the target shape does."""
        d = np.sqrt(((self.keys - key) ** 2).mean(1))
        order = np.argsort(d)[: k + 1]
        scale = max(float(d[order[0]]), 1.0)
        w = np.exp(-((d[order] / scale) ** 2))
        w = np.maximum(w[:k] - (w[k] if len(w) > k else 0.0), 0.0)
        if w.sum() <= 1e-9:
            w = np.r_[1.0, np.zeros(len(w) - 1)]
        return order[:k], w / w.sum()

    def depth_colour(self, i: int) -> np.ndarray:
        """Colour of exemplar `i`'s depth: the darkest quarter of its interior."""
        if i not in self._depth:
            p, rows = self.patches[i], np.arange(PATCH_H)[:, None]
            inside = (rows > self.upper[i] + LIP_MARGIN) & (rows < self.lower[i] - LIP_MARGIN)
            px = p[inside].astype(np.float32) if inside.sum() >= 8 else p.reshape(-1, 3).astype(np.float32)
            lum = px @ LUMA
            self._depth[i] = px[lum <= np.quantile(lum, 0.25)].mean(0)
        return self._depth[i]

    def interior(self, qx: np.ndarray, qy: np.ndarray, up: np.ndarray, lo: np.ndarray, key: np.ndarray,
                 light: np.ndarray) -> np.ndarray:
        """Interior colours (float32, qx.shape + (3,)) at mouth-frame points (qx, qy) whose target inner-lip
        heights are `up`/`lo` (same shape), colour-matched to a portrait lit as `light` says (`lighting`). Where the
        target opens wider than an exemplar, its depth fades in over DEPTH_ROWS beyond what the exemplar shows."""
        import cv2

        idx, w = self.nearest(key)
        out = np.zeros((*qx.shape, 3), np.float32)
        cols = np.arange(PATCH_W, dtype=np.float32)
        for i, wi in zip(idx, w):
            if wi <= 0:
                continue
            up_e, lo_e = np.interp(qx, cols, self.upper[i]), np.interp(qx, cols, self.lower[i])
            margin = np.minimum(LIP_MARGIN, 0.25 * (lo_e - up_e))
            rows, beyond = source_rows(qy, up_e + margin, lo_e - margin, up, lo)
            warped = cv2.remap(self.patches[i], qx.astype(np.float32), rows.astype(np.float32), cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
            depth = np.clip(beyond / DEPTH_ROWS, 0.0, 1.0)[..., None]
            out += (wi * colour_gain(light, self.light[i])) * (warped * (1 - depth) + self.depth_colour(i) * depth)
        return out

    def save(self, path: Path) -> None:
        """A compressed .npz: patches as one JPEG each (the bank is committed)."""
        from PIL import Image

        from likeness.files import atomic_path

        jpegs = []
        for p in self.patches:
            buf = io.BytesIO()
            Image.fromarray(p).save(buf, format="JPEG", quality=92)
            jpegs.append(np.frombuffer(buf.getvalue(), np.uint8))
        offsets = np.cumsum([0] + [len(j) for j in jpegs])
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, jpeg=np.concatenate(jpegs), offsets=offsets, upper=self.upper, lower=self.lower,
                                keys=self.keys, light=self.light, sources=self.sources)

    @classmethod
    def load(cls, path: Path | None = None) -> "MouthBank":
        """The bank at `path` (default: the shipped one); a missing or corrupt file is a UserError, never a fallback."""
        path = Path(path or BANK_PATH)
        return _load(str(path), _digest(path))


def _digest(path: Path) -> str:
    if not Path(path).is_file():
        raise UserError(f"mouth bank missing: {path}; {REBUILD}")
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=2)
def _load(path: str, digest: str) -> MouthBank:
    try:
        with np.load(path, allow_pickle=False) as z:
            bank = MouthBank(JpegPatches(z["jpeg"], z["offsets"]), z["upper"].astype(np.float32),
                             z["lower"].astype(np.float32), z["keys"].astype(np.float32), z["light"].astype(np.float32),
                             z["sources"])
        n = len(bank.patches)
        shape = bank.patches.shape if n else None  # decodes the first patch: a foreign format fails here
    except Exception as e:  # a truncated, foreign or hand-edited file
        raise UserError(f"mouth bank is corrupt: {path} ({type(e).__name__}); {REBUILD}") from None
    arrays = (bank.upper, bank.lower, bank.keys, bank.light)
    if n == 0 or shape[1:] != (PATCH_H, PATCH_W, 3) or any(len(a) != n for a in arrays):
        raise UserError(f"mouth bank is corrupt: {path} (inconsistent arrays); {REBUILD}")
    return bank


def colour_gain(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Per-channel gain taking an exemplar lit as `source` to a portrait lit as `target` (each `lighting`): the
    brightness from the lips (large and sharp at any resolution), the tint from the whites of the eyes (near-white
    like teeth, so free of skin tone; a painting's varnish) at half strength, as small eyes give noisy whites."""
    lips = np.maximum(target[0], 1.0) / np.maximum(source[0], 1.0)
    whites = np.maximum(target[1], 1.0) / np.maximum(source[1], 1.0)
    tint = np.clip(np.sqrt(whites / float(whites @ LUMA)), *CHROMA_GAIN)
    return (float(np.clip(lips @ LUMA, *LUMA_GAIN)) * tint).astype(np.float32)


def lighting(image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(2, 3) RGB of the lips and of the whites of the eyes of the face `lm` in `image`."""
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER[::-1], :2]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(lm[topo.inner_lip_loop(), :2]).astype(np.int32)], 0)
    lips = np.median(image[mask > 0].reshape(-1, 3), 0) if mask.any() else np.array([150.0, 80, 80])
    return np.stack([lips, white_colour(image, lm)]).astype(np.float32)


def white_colour(image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """RGB of the whites of the eyes: the brightest third of both eye openings, irises excluded."""
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    for upper, lower in ((topo.RIGHT_EYE_UPPER, topo.RIGHT_EYE_LOWER), (topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER)):
        cv2.fillPoly(mask, [np.round(lm[upper + lower[::-1], :2]).astype(np.int32)], 1)
    for iris in (topo.RIGHT_IRIS, topo.LEFT_IRIS):
        r = np.linalg.norm(lm[iris[1:], :2] - lm[iris[0], :2], axis=1).mean()
        cv2.circle(mask, tuple(int(v) for v in np.round(lm[iris[0], :2])), int(np.ceil(r)), 0, -1)
    px = image[mask > 0].reshape(-1, 3).astype(np.float32)
    if len(px) < 6:
        return np.array([200.0, 190.0, 185.0], np.float32)
    lum = px @ LUMA
    return np.median(px[lum >= np.quantile(lum, 2 / 3)], 0).astype(np.float32)


def cut_patch(image: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(patch, upper, lower): `image`'s mouth region in the mouth frame of `lm`, and its inner-lip curves."""
    import cv2

    m = m0 = mouth_frame(lm)
    scale = float(np.hypot(*m[0, :2]))
    src = image
    if scale < 0.8:  # shrink first so the patch is anti-aliased (a 1080p mouth into 96 px)
        src = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        m = m @ np.array([[1 / scale, 0, 0], [0, 1 / scale, 0], [0, 0, 1]])
    patch = cv2.warpAffine(src, m, (PATCH_W, PATCH_H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    up, lo = lip_curves(lm, m0)
    return patch, up.astype(np.float32), lo.astype(np.float32)
