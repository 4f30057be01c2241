"""The background kept still: only what the person covers, in the portrait or in the frame, is drawn by the warp.

A mesh warp cannot let hair slide over a background; it stretches whatever lies between what moves and what stays.
With the head ring past the hair's outline (`renderer.hair_rings`) that is the background, and most of it is put
back as it was: a pixel that the person covers neither in the portrait nor in this frame keeps the portrait's own
pixel. Where the head has moved away from the background it once hid, the warp's stretch of the background beside
it shows, so the revealed strip keeps the background's texture.
"""
from __future__ import annotations

import numpy as np

PERSON = 0.25      # mask value from which a pixel counts as the person's (a soft hair fringe included)
GROW = 0.012       # share of the canvas the person mask is grown by: the fringe segmentation misses moves with it
FEATHER_PX = 2.0   # soft edge outside the grown mask (the cut between the warp and the still background)
REVEAL_RAMP = 0.02  # share of the canvas over which a revealed strip fades from the still background into the warp's


class Backdrop:
    """Where the person is in the portrait (a soft mask over the whole canvas) and the ROI of the warp it serves."""

    def __init__(self, person: np.ndarray, roi: tuple[int, int, int, int]):
        """`person`: (H, W) 0..1 (`generator.face.segment.person_mask`); `roi`: the warp's (x0, y0, x1, y1)."""
        import cv2

        r = max(1, round(GROW * person.shape[0]))
        grown = cv2.dilate((person > PERSON).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
        outside = cv2.distanceTransform(1 - grown, cv2.DIST_L2, 3)
        self.alpha = np.clip(1.0 - outside / FEATHER_PX, 0.0, 1.0).astype(np.float32)
        # the strip the head reveals fades in from the portrait's own background beside it: no seam where they meet
        inside = cv2.distanceTransform(grown, cv2.DIST_L2, 3)
        x0, y0, x1, y1 = roi
        ramp = max(REVEAL_RAMP * person.shape[0], 1.0)
        self._rest = np.ascontiguousarray(np.clip(inside / ramp, 0.0, 1.0).astype(np.float32)[y0:y1, x0:x1])

    def composite(self, warped: np.ndarray, still: np.ndarray, m: np.ndarray) -> np.ndarray:
        """The warp's ROI as shown: `warped` (uint8, drawn by backward map `m` in canvas coordinates) where the person
        is now or was in the portrait, `still` (the portrait's own ROI) where neither."""
        import cv2

        now = cv2.remap(self.alpha, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        w = 1.0 - (1.0 - now) * (1.0 - self._rest)
        return cv2.blendLinear(warped, np.ascontiguousarray(still), w, 1.0 - w)
