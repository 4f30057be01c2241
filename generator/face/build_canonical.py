"""Rebuild the canonical mean face (assets/canonical_face.npy) from real faces by generalized Procrustes.

    python -m generator.face.build_canonical [--data ../shared/data]

Uses every portrait with a detectable face and 8 frames from each real video; takes about 20 s.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from likeness.shared_data import DEFAULT_SHARED

from . import topology as topo
from .geometry import CANONICAL_PATH, umeyama


def normalize(shape: np.ndarray) -> np.ndarray:
    """Centre on the skull points, scale to inter-ocular distance 1, rotate into the canonical frame."""
    eye_r = shape[topo.RIGHT_EYE_UPPER + topo.RIGHT_EYE_LOWER].mean(0)
    eye_l = shape[topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER].mean(0)
    x = eye_l - eye_r
    iod = np.linalg.norm(x)
    x /= iod
    y = shape[topo.CHIN] - shape[topo.FOREHEAD]
    y -= x * (x @ y)
    y /= np.linalg.norm(y)
    r = np.stack([x, y, np.cross(x, y)])
    return (shape - shape[topo.RIGID].mean(0)) @ r.T / iod


def procrustes_mean(shapes: list[np.ndarray], iters: int = 10) -> np.ndarray:
    mean = normalize(shapes[0])
    for _ in range(iters):
        aligned = []
        for s in shapes:
            sc, r, t = umeyama(s[topo.RIGID], mean[topo.RIGID])
            aligned.append(sc * s @ r.T + t)
        mean = normalize(np.mean(aligned, 0))
    return mean


def collect(data: Path) -> list[np.ndarray]:
    import av

    from .analysis import FaceMesh, load_image

    mesh, shapes = FaceMesh(), []
    for p in sorted((data / "portraits").iterdir()):
        faces = mesh(load_image(p))
        shapes += faces[:1]
    for v in sorted((data / "real_videos").glob("*.mp4")):
        with av.open(str(v)) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        for f in frames[:: max(1, len(frames) // 8)][:8]:
            shapes += mesh(f)[:1]
    return shapes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=CANONICAL_PATH)
    a = ap.parse_args()
    shapes = collect(a.data)
    mean = procrustes_mean(shapes)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(a.out, mean.astype(np.float32))
    print(f"canonical face from {len(shapes)} faces -> {a.out}")


if __name__ == "__main__":
    main()
