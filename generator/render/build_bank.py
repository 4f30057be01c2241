"""Build the mouth-exemplar bank (`generator/render/assets/mouth_bank.npz`) from real footage.

    python -m generator.render.build_bank [--data ../shared/data] [--size 400] [--out PATH]

Every frame of the source clips (`likeness.shared_data.MOUTH_BANK_SOURCES`) whose lips are parted is tracked
with the generator's own FaceMesh and cut into the mouth frame; the sharpest two thirds of each clip are kept,
and farthest-point sampling over the inner-lip shape picks `size` exemplars that cover every mouth shape seen.
The bank's sources, who is filmed and the licences are written beside it (`mouth_bank.json`) for attribution.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.files import atomic_path
from likeness.shared_data import DEFAULT_SHARED, MOUTH_BANK_SOURCES

from .bank import BANK_PATH, MouthBank, cut_patch, lighting, shape_key
from .mouth import lip_gap

MIN_GAP = 0.04    # inner-lip gap over inner mouth width: below this the lips touch and there is no interior
KEEP_SHARP = 2 / 3


def bank_clips(data: Path) -> list[Path]:
    folder = Path(data) / "real_videos"
    if not folder.is_dir():
        raise UserError(f"shared data not found at {data} (expected real_videos/); pass --data")
    clips = sorted(p for p in folder.iterdir() if p.stem.startswith(MOUTH_BANK_SOURCES))
    if not clips:
        raise UserError(f"none of the mouth-bank source clips ({', '.join(MOUTH_BANK_SOURCES)}) is in {folder}")
    return clips


def candidates(clip: Path, mesh) -> list[dict]:
    """Every parted-lips frame of `clip`: patch, lip curves, shape key, lip colour, interior sharpness."""
    import cv2

    from ..video import read_frames

    found = []
    for i, frame in enumerate(read_frames(clip)):
        faces = mesh(frame)
        if not faces:
            continue
        lm = faces[0]
        width = float(np.linalg.norm(lm[78, :2] - lm[308, :2]))
        if width < 1 or lip_gap(lm) / width < MIN_GAP:
            continue
        patch, up, lo = cut_patch(frame, lm)
        inner = patch[int(up.min()): int(np.ceil(lo.max())) + 1]
        sharp = float(cv2.Laplacian(cv2.cvtColor(inner, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()) if inner.size else 0.0
        found.append({"patch": patch, "upper": up, "lower": lo, "key": shape_key(lm), "light": lighting(frame, lm),
                      "source": f"{clip.name}:{i}", "sharp": sharp})
    if found:  # the blurriest third of a clip (motion blur, compression) never enters the bank
        cut = np.quantile([c["sharp"] for c in found], 1 - KEEP_SHARP)
        found = [c for c in found if c["sharp"] >= cut]
    return found


def farthest_points(keys: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices of `n` keys spread over the shape space (greedy farthest-point sampling)."""
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(keys)))]
    d = np.linalg.norm(keys - keys[chosen[0]], axis=1)
    for _ in range(min(n, len(keys)) - 1):
        chosen.append(int(d.argmax()))
        d = np.minimum(d, np.linalg.norm(keys - keys[chosen[-1]], axis=1))
    return np.array(sorted(chosen))


def licences(data: Path) -> dict[str, str]:
    tsv = Path(data) / "videos_added.tsv"
    if not tsv.is_file():
        return {}
    with open(tsv, newline="") as f:
        return {Path(r["file"]).name: f"{r['person_or_generator']}; {r['license']} ({r['repo']}: {r['path']})"
                for r in csv.DictReader(f, delimiter="\t")}


def build(data: Path, size: int, out: Path, progress: Callable[[str, int, int], None] | None = None) -> dict:
    from ..face.analysis import FaceMesh

    clips = bank_clips(data)
    pool: list[dict] = []
    for k, clip in enumerate(clips):
        if progress:
            progress(clip.name, k, len(clips))
        mesh = FaceMesh(static=False, max_faces=1)  # a fresh tracker per clip
        try:
            pool += candidates(clip, mesh)
        finally:
            mesh.close()
    if not pool:
        raise UserError("no frame with parted lips found in the mouth-bank sources")
    pick = farthest_points(np.stack([c["key"] for c in pool]), size)
    chosen = [pool[i] for i in pick]
    bank = MouthBank(np.stack([c["patch"] for c in chosen]), np.stack([c["upper"] for c in chosen]),
                     np.stack([c["lower"] for c in chosen]), np.stack([c["key"] for c in chosen]),
                     np.stack([c["light"] for c in chosen]), np.array([c["source"] for c in chosen]))
    bank.save(out)
    lic = licences(data)
    used = sorted({c["source"].split(":")[0] for c in chosen})
    info = {"exemplars": len(chosen), "candidates": len(pool),
            "clips": [{"file": u, "source": lic.get(u, "see the data README")} for u in used]}
    with atomic_path(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(info, indent=2) + "\n")
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--size", type=int, default=400, help="exemplars kept")
    ap.add_argument("--out", type=Path, default=BANK_PATH)
    a = ap.parse_args()
    info = build(a.data, a.size, a.out, lambda name, i, n: print(f"[{i + 1}/{n}] {name}", flush=True))
    print(f"wrote {a.out}: {info['exemplars']} exemplars from {info['candidates']} candidates "
          f"in {len(info['clips'])} clips")


if __name__ == "__main__":
    main()
