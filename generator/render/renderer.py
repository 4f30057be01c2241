"""Renderer: the portrait plus one frame of motion latent in, one RGB frame out."""
from __future__ import annotations

import numpy as np

from ..face import topology as topo
from ..face.analysis import Portrait
from ..face.expression import build_basis
from ..face.geometry import rotation
from .mouth import MouthStyle, lip_gap, paint_mouth
from .warp import MeshWarp

HEAD_RING = 1.25    # face-oval scale of anchors that move rigidly with the head (hair, ears)
STATIC_RING = 1.8   # face-oval scale of anchors that stay put (background)
NECK_RING = (1.08, 1.4)  # the same two rings below the mouth: the neck and shoulders barely follow the head
BORDER_STEP = 64    # px between static anchors on the canvas border


class Renderer:
    """Backward-warps the portrait canvas with a mesh moved by pose and expression.

    Vertices: the 478 face landmarks, a ring of head anchors (rigid with the head, no expression) and
    static anchors on a wider ring and on the canvas border, so the background does not move.
    """

    def __init__(self, portrait: Portrait):
        self.portrait = portrait
        size, lm, pose = portrait.size, portrait.landmarks, portrait.pose
        self.neutral = pose.to_canonical(lm)                  # identity mesh, canonical units
        self.basis = build_basis(self.neutral)               # (11, 478, 3)
        oval = self.neutral[topo.FACE_OVAL]
        centre = oval.mean(0)
        lower = oval[:, 1] > self.neutral[topo.MOUTH_CORNERS, 1].mean()
        k = np.where(lower, NECK_RING[0], HEAD_RING)[:, None]
        self.head_ring = centre + (oval - centre) * np.c_[k, k, np.zeros_like(k)]
        ring = self.head_ring
        src_oval = lm[topo.FACE_OVAL, :2]
        c2 = src_oval.mean(0)
        static = c2 + (src_oval - c2) * np.where(lower, NECK_RING[1], STATIC_RING)[:, None]
        e = np.arange(-1, size + BORDER_STEP, BORDER_STEP, dtype=np.float64)
        e[-1] = size
        border = np.array([(x, y) for x in e for y in e if x in (-1, size) or y in (-1, size)])
        self.static = np.r_[static, border]
        self.src = np.r_[lm[:, :2], pose.to_image(ring)[:, :2], self.static]
        lo = np.clip(np.floor(self.static[: len(static)].min(0)), 0, size).astype(int)
        hi = np.clip(np.ceil(self.static[: len(static)].max(0)) + 1, 0, size).astype(int)
        self.warp = MeshWarp(self.src, size, roi=(lo[0], lo[1], hi[0], hi[1]), n_static=len(self.static))
        self.style = MouthStyle.from_portrait(portrait.image, lm)
        self.src_gap = lip_gap(lm)

    def _posed(self, pose6: np.ndarray, pts: np.ndarray) -> np.ndarray:
        yaw, pitch, roll, tx, ty, log_s = (float(v) for v in pose6)
        p = self.portrait.pose
        return p.scale * np.exp(log_s) * pts @ (p.rot @ rotation(yaw, pitch, roll)).T + p.t + np.array([tx, ty, 0.0]) * p.scale

    def landmarks(self, pose6: np.ndarray, expr: np.ndarray) -> np.ndarray:
        """Output-image positions (478, 3) of the face landmarks for one frame of motion."""
        return self._posed(pose6, self.neutral + np.tensordot(np.asarray(expr, np.float64), self.basis, 1))

    def render(self, pose6: np.ndarray, expr: np.ndarray) -> np.ndarray:
        import cv2

        rigid = np.r_[self._posed(pose6, self.neutral), self._posed(pose6, self.head_ring)][:, :2]
        face = self.landmarks(pose6, expr)
        n_moving = len(rigid)
        pose_disp = np.r_[rigid - self.src[:n_moving], np.zeros((len(self.static), 2))]
        expr_disp = np.zeros_like(pose_disp)
        expr_disp[: len(face)] = face[:, :2] - rigid[: len(face)]
        x0, y0, x1, y1 = self.warp.roi
        frame = self.portrait.image.copy()
        frame[y0:y1, x0:x1] = cv2.remap(self.portrait.image, self.warp.backward_map(expr_disp, pose_disp), None,
                                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        paint_mouth(frame, face, self.src_gap, self.style)
        return frame
