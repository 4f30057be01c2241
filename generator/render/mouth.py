"""The mouth interior, drawn where the rendered lips part: learned (v3, `LearnedMouth`), real exemplars (v2,
`RealMouth`) or painted (v1, `PaintedMouth`); the portrait's own interior is kept where it showed one."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face import topology as topo

_LOOP = topo.inner_lip_loop()
_GAP_PAIRS = ([82, 13, 312], [87, 14, 317])
_SUB = 4  # sub-pixel bits for anti-aliased polygons


@dataclass(frozen=True)
class MouthStyle:
    """Colours sampled from the portrait so the interior matches photos and paintings alike."""

    cavity: np.ndarray  # RGB float
    teeth: np.ndarray

    @classmethod
    def from_portrait(cls, image: np.ndarray, lm: np.ndarray) -> "MouthStyle":
        import cv2

        mask = np.zeros(image.shape[:2], np.uint8)
        lips = topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER[::-1]
        cv2.fillPoly(mask, [np.round(lm[lips, :2]).astype(np.int32)], 1)
        lip = image[mask > 0].reshape(-1, 3).mean(0) if mask.any() else np.array([150.0, 80, 80])
        skin = image[np.clip(np.round(lm[topo.NOSE, 1]).astype(int), 0, image.shape[0] - 1),
                     np.clip(np.round(lm[topo.NOSE, 0]).astype(int), 0, image.shape[1] - 1)].mean(0)
        bright = np.clip(skin.mean() / 170.0, 0.55, 1.05)
        return cls(cavity=lip * 0.3 + 4, teeth=(0.5 * skin + 0.5 * np.array([225.0, 220, 205])) * bright * 0.95)


def lip_gap(lm: np.ndarray) -> float:
    """Mean vertical inner-lip gap in pixels."""
    return float(np.mean(lm[_GAP_PAIRS[1], 1] - lm[_GAP_PAIRS[0], 1]))


def paint_mouth(frame: np.ndarray, lm: np.ndarray, src_gap: float, style: MouthStyle) -> None:
    """In place: fill the inner-lip polygon of output landmarks `lm` (478, 2) with cavity and teeth."""
    import cv2

    opened = lip_gap(lm) - max(src_gap, 0.0)
    if opened < 0.5:
        return
    poly = lm[_LOOP, :2]
    x0, y0 = np.floor(poly.min(0)).astype(int) - 3
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 4
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    origin = np.array([x0, y0], np.float64)

    def fill(pts: np.ndarray) -> np.ndarray:
        m = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(m, [np.round((pts - origin) * (1 << _SUB)).astype(np.int32)], 1.0, cv2.LINE_AA, _SUB)
        return m

    inside = cv2.GaussianBlur(fill(poly), (5, 5), 1.0)
    upper, lower = lm[topo.LIPS_INNER_UPPER, :2], lm[topo.LIPS_INNER_LOWER, :2]
    mouth_w = float(np.linalg.norm(upper[-1] - upper[0]))
    gap = lip_gap(lm)
    t_up = min(0.45 * gap, 0.09 * mouth_w)
    t_lo = min(max(0.0, 0.3 * gap - 0.06 * mouth_w), 0.05 * mouth_w)
    teeth = fill(np.r_[upper, upper[::-1] + [0, t_up]])
    if t_lo > 0.5:
        teeth = np.maximum(teeth, 0.6 * fill(np.r_[lower, lower[::-1] - [0, t_lo]]))
    teeth = cv2.GaussianBlur(teeth, (3, 3), 0.8)[..., None]
    xs = (np.arange(x0, x1) - (upper[0, 0] + upper[-1, 0]) / 2) / (0.5 * mouth_w + 1e-6)
    across = np.clip(1.3 - 1.6 * xs**2, 0.0, 1.0)[None, :, None]       # teeth recede into the corners
    ys = np.arange(y0, y1)[:, None, None] - upper[:, 1].mean()
    under_lip = np.clip(0.55 + 0.45 * ys / (t_up + 1e-6), 0.55, 1.0)  # shadow of the upper lip
    depth = np.clip(ys / (gap + 1e-6), 0, 1)
    cavity = style.cavity * (0.8 + 0.2 * np.cos(np.pi * depth))
    tooth = cavity + (style.teeth * under_lip - cavity) * across
    interior = cavity + (tooth - cavity) * teeth
    a = (inside * min(1.0, opened / 2.0))[..., None]
    roi = frame[y0:y1, x0:x1]
    roi[:] = np.clip(roi * (1 - a) + interior * a, 0, 255).astype(np.uint8)


class PaintedMouth:
    """The v1 mouth: a painted cavity and teeth bar where the lips part further than in the portrait."""

    def __init__(self, image: np.ndarray, lm: np.ndarray):
        self.style, self.src_gap = MouthStyle.from_portrait(image, lm), lip_gap(lm)

    def paint(self, frame: np.ndarray, lm: np.ndarray) -> None:
        paint_mouth(frame, lm, self.src_gap, self.style)


class RealMouth:
    """The v2 mouth: inside the output's inner-lip contour, the portrait's own interior where it showed one
    (upper part attached to the upper lip, lower part to the lower lip, never stretched) and real exemplar
    interiors from the bank (`generator.render.bank`) everywhere else."""

    def __init__(self, image: np.ndarray, lm: np.ndarray, upscale: float = 1.0, bank=None):
        from .bank import MouthBank, lighting

        self.bank = bank or MouthBank.load()
        self._set_portrait(image, lm, upscale)
        self.light = lighting(image, lm)

    def _set_portrait(self, image: np.ndarray, lm: np.ndarray, upscale: float) -> None:
        """What `_own_interior` and the painters need of the portrait's mouth."""
        from .bank import mouth_frame

        self.image, self.lm_src = image, lm
        self.m_src = mouth_frame(lm)
        self.inv_src = _invert(self.m_src)
        self.own = lip_gap(lm) > 1.0  # the portrait shows some interior of its own
        self.upscale = upscale        # what is drawn is brought down to the portrait's own detail

    def paint(self, frame: np.ndarray, lm: np.ndarray) -> None:
        """In place: fill the inner-lip polygon of output landmarks `lm` (478, 2|3)."""
        import cv2

        from .bank import lip_curves, mouth_frame, shape_key

        poly = lm[_LOOP, :2]
        x0, y0 = np.floor(poly.min(0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2 or lip_gap(lm) < 0.3:
            return
        origin = np.array([x0, y0], np.float64)
        inside = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(inside, [np.round((poly - origin) * (1 << _SUB)).astype(np.int32)], 1.0, cv2.LINE_AA, _SUB)
        if not inside.any():
            return
        m = mouth_frame(lm)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        qx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
        qy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
        up, lo = (c.reshape(qx.shape) for c in lip_curves(lm, m, qx.ravel()))
        interior = self.bank.interior(qx, qy, up, lo, shape_key(lm), self.light)
        if self.upscale > 1.25:
            ih, iw = interior.shape[:2]
            small = cv2.resize(interior, (max(1, round(iw / self.upscale)), max(1, round(ih / self.upscale))),
                               interpolation=cv2.INTER_AREA)
            interior = cv2.resize(small, (iw, ih), interpolation=cv2.INTER_LINEAR)
        if self.own:
            own, a = self._own_interior(qx, qy, up, lo)
            interior = own * a + interior * (1 - a)
        # the lips' inner edge is as soft as the portrait's own detail (a low-resolution source blurs it); the
        # softening blends with the warped lips themselves, never with what lies beyond the exemplar's lips
        roi = frame[y0:y1, x0:x1]
        interior = np.where(inside[..., None] > 0, interior, roi)
        a = cv2.GaussianBlur(inside, (0, 0), 0.5 * max(self.upscale, 1.5))[..., None]
        roi[:] = np.clip(roi * (1 - a) + interior * a + 0.5, 0, 255).astype(np.uint8)


    def _own_interior(self, qx: np.ndarray, qy: np.ndarray, up: np.ndarray,
                      lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The portrait's own interior at mouth-frame points (qx, qy) of target lips `up`/`lo`, sampled straight from
        the portrait (one resampling, so an unmoved mouth keeps its pixels), and where it exists (alpha)."""
        import cv2

        from .bank import lip_curves, source_rows

        up_s, lo_s = (c.reshape(qx.shape) for c in lip_curves(self.lm_src, self.m_src, qx.ravel()))
        rows, _ = source_rows(qy, up_s, lo_s, up, lo, split=0.5)
        sx = self.inv_src[0, 0] * qx + self.inv_src[0, 1] * rows + self.inv_src[0, 2]
        sy = self.inv_src[1, 0] * qx + self.inv_src[1, 1] * rows + self.inv_src[1, 2]
        own = cv2.remap(self.image, sx.astype(np.float32), sy.astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        # it exists between the portrait's own lips (soft over two pixels outside each edge); each lip carries its
        # own half of it, so an opening mouth never shows one half twice
        mid_s = (up_s + lo_s) / 2
        half = np.where(qy < (up + lo) / 2, mid_s - rows, rows - mid_s)
        a = np.clip(np.minimum(np.minimum(rows - up_s, lo_s - rows) / 2 + 1.0, half / 2 + 0.5), 0.0, 1.0)
        return own, a[..., None]


class LearnedMouth(RealMouth):
    """The v3 mouth: the opening between the output's lips filled by the learned network (`generator.render.inpaint`)
    from the frame around it and the portrait's own mouth as its reference, in the colours of the portrait's lips and
    teeth (`inpaint.tissue_colour`); the portrait's own interior is kept where it showed one, as in v2."""

    def __init__(self, image: np.ndarray, lm: np.ndarray, upscale: float = 1.0, net=None, colour: bool = True):
        from .bank import cut_patch, lighting
        from .inpaint import MouthNet, opening_mask

        self.net = net or MouthNet.load()
        self._set_portrait(image, lm, upscale)
        self.light = lighting(image, lm) if colour else None  # None: the network's own colours (until 2026-12-07)
        self.ref, self.up_src, self.lo_src = cut_patch(image, lm)
        self.ref_mask = opening_mask(self.up_src, self.lo_src)

    def paint(self, frame: np.ndarray, lm: np.ndarray) -> None:
        """In place: fill the opening of output landmarks `lm` (478, 2|3) and redraw the lips' inner edge."""
        import cv2

        from .bank import PATCH_H, PATCH_W, cut_patch, lip_curves, mouth_frame
        from .inpaint import MASK_PAD, SEAM, opening_mask, tissue_colour

        if lip_gap(lm) < 0.3 and not self.own:
            return
        m = mouth_frame(lm)
        patch, up_p, lo_p = cut_patch(frame, lm)
        mask = opening_mask(up_p, lo_p, seam=SEAM if self.own else 0.0)
        if not mask.any():
            return
        pad = (MASK_PAD + SEAM) / float(np.hypot(*m[0, :2])) + 2  # image px
        poly = lm[_LOOP, :2]
        x0, y0 = np.floor(poly.min(0) - pad).astype(int)
        x1, y1 = np.ceil(poly.max(0) + pad).astype(int) + 1
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        if self.own:  # the portrait's own interior is context the network fills around, not under
            rows, cols = np.mgrid[0:PATCH_H, 0:PATCH_W].astype(np.float64)
            own_p, a_p = self._own_interior(cols, rows, np.broadcast_to(up_p, rows.shape),
                                            np.broadcast_to(lo_p, rows.shape))
            a_p = a_p[..., 0] * mask
            patch = patch * (1 - a_p[..., None]) + own_p * a_p[..., None]
            hole = mask * (1 - a_p)
        else:
            hole = mask
        filled = self.net.fill(patch, hole, self.ref, self.ref_mask)
        if self.light is not None:  # between the lips, not on them: the seam and the lips' inner edge keep the fill's
            apart = opening_mask(up_p, lo_p, pad=0.0)[..., None]
            rows = np.flatnonzero(apart.any((1, 2)))
            if rows.size:
                r = slice(rows[0], rows[-1] + 1)
                filled[r] += (tissue_colour(filled[r], self.light) - filled[r]) * apart[r]
        filled = filled * hole[..., None] + patch * (1 - hole[..., None])  # what the network was asked for, only
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        qx = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2]).astype(np.float32)
        qy = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2]).astype(np.float32)
        interior = cv2.remap(filled.astype(np.float32), qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # what has not moved is not redrawn: the mouth fades in as its lips leave the portrait's by up to a pixel
        moved = float(np.max(np.abs(np.r_[up_p - self.up_src, lo_p - self.lo_src])))
        a = cv2.remap(mask, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0) * min(moved, 1.0)
        if self.upscale > 1.0:  # no edge crisper than the portrait's own detail (a soft source upscaled)
            a = np.asarray(cv2.GaussianBlur(a, (0, 0), 0.5 * self.upscale), np.float32)
        if self.own:  # the portrait's own pixels where they exist: one resampling, an unmoved mouth keeps them
            up, lo = (c.reshape(qx.shape) for c in lip_curves(lm, m, qx.ravel().astype(np.float64)))
            own, a_own = self._own_interior(qx.astype(np.float64), qy.astype(np.float64), up, lo)
            interior = own * a_own + interior * (1 - a_own)
        roi = frame[y0:y1, x0:x1]
        roi[:] = np.clip(roi * (1 - a[..., None]) + interior * a[..., None] + 0.5, 0, 255).astype(np.uint8)


def _invert(m: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.invertAffineTransform(np.asarray(m, np.float64))
