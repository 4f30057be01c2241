"""Rigid geometry: rotations, similarity alignment (Umeyama) and head-pose estimation."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import topology as topo

CANONICAL_PATH = Path(__file__).parent / "assets" / "canonical_face.npy"


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(roll) @ Ry(yaw) @ Rx(pitch), radians, image axes (x right, y down, z away)."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ ry @ rx


def euler(r: np.ndarray) -> tuple[float, float, float]:
    """Inverse of `rotation`: (yaw, pitch, roll) in radians."""
    yaw = float(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
    pitch = float(np.arctan2(r[2, 1], r[2, 2]))
    roll = float(np.arctan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (s, R, t) with dst ≈ s * R @ src + t, for (N, 3) point sets."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[2, 2] = -1
    r = u @ d @ vt
    s = float(np.trace(np.diag(sig) @ d) / a.var(0).sum())
    return s, r, mu_d - s * r @ mu_s


@lru_cache(maxsize=1)
def canonical_face() -> np.ndarray:
    """Mean face shape (478, 3) in canonical units: inter-ocular distance 1, centred, frontal.

    Built from the shared portraits and videos by `python -m generator.face.build_canonical`.
    """
    return np.load(CANONICAL_PATH).astype(np.float64)


@dataclass(frozen=True)
class Pose:
    """Similarity that maps canonical face coordinates to image pixels: x_img = scale * R @ x + t."""

    scale: float
    rot: np.ndarray
    t: np.ndarray

    @property
    def angles(self) -> tuple[float, float, float]:
        return euler(self.rot)

    def to_canonical(self, pts: np.ndarray) -> np.ndarray:
        return (pts - self.t) @ self.rot / self.scale

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        return self.scale * pts @ self.rot.T + self.t


def estimate_pose(landmarks: np.ndarray) -> Pose:
    """Head pose of (478, 3) pixel-space landmarks by rigid alignment of the skull points to the mean face."""
    s, r, t = umeyama(canonical_face()[topo.RIGID], landmarks[topo.RIGID])
    return Pose(s, r, t)
