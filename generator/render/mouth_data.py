"""Training data for the learned mouth (`generator.render.mouth_net`): real mouths cut into the mouth frame.

    likeness train mouth-data --videos ../shared/data/real_videos --out data/mouth

Every clip is tracked with the generator's own FaceMesh; up to `MAX_FRAMES` frames, evenly spaced, are cut into
the mouth frame of `generator.render.bank` (inner-lip corners at fixed points) with their inner-lip curves, and
cached as one .npz per clip. The people the renderer is measured on (`likeness.shared_data.RENDER_HELD_OUT`) are
never cut: they are left out by person, not by clip.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError

from .bank import cut_patch

MAX_FRAMES = 160       # per clip, evenly spaced: long clips would otherwise be most of the data
MIN_FRAMES = 8         # a clip tracked in fewer frames is skipped
FORMAT = 1


def clip_samples(path: Path, mesh, max_frames: int = MAX_FRAMES) -> dict[str, np.ndarray] | None:
    """Mouth-frame patches (N, PATCH_H, PATCH_W, 3) uint8, their inner-lip curves (N, PATCH_W) and scale (source
    pixels per mouth-frame pixel) for up to `max_frames` evenly spaced frames of `path`; None if too few faces."""
    from ..video import probe, read_frames

    info = probe(path)
    total = int(info.get("frames") or 0) or int(round((info.get("video_duration") or info.get("duration") or 0)
                                                     * (info.get("fps") or 25)))
    step = max(1, int(np.ceil(total / max_frames))) if total else 1
    patches: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    scale: list[float] = []
    index: list[int] = []
    for i, frame in enumerate(read_frames(path)):
        faces = mesh(frame)  # every frame goes through the tracker, so it keeps its lock between the kept ones
        if i % step or not faces or len(patches) >= max_frames:
            continue
        lm = faces[0]
        width = float(np.linalg.norm(lm[78, :2] - lm[308, :2]))
        if width < 8:
            continue
        p, up, lo = cut_patch(frame, lm)
        patches.append(p)
        upper.append(up)
        lower.append(lo)
        scale.append(width / 96.0)
        index.append(i)
    if len(patches) < MIN_FRAMES:
        return None
    return {"patches": np.stack(patches), "upper": np.stack(upper), "lower": np.stack(lower),
            "scale": np.array(scale, np.float32), "frame": np.array(index, np.int32)}


def training_clips(videos: Path) -> list[Path]:
    """The clips under `videos` whose people the renderer is not measured on."""
    from likeness.shared_data import RENDER_HELD_OUT, people, person

    from ..motion.data import find_videos

    found = find_videos(videos)
    if not found:
        raise UserError(f"no videos in {videos}")
    who = people(Path(videos).parent)
    held = {who.get(s) or person(s) for s in RENDER_HELD_OUT}
    return [p for p in found if (who.get(p.stem) or person(p.stem)) not in held]


def prepare(videos: Path, out: Path, progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Cut every training clip into `out` (one .npz per clip, reused when present) and write `out/index.json`."""
    from likeness.files import atomic_path
    from likeness.shared_data import people, person

    from ..face.analysis import FaceMesh

    clips = training_clips(videos)
    out.mkdir(parents=True, exist_ok=True)
    who = people(Path(videos).parent)
    entries = []
    for k, clip in enumerate(clips):
        if progress:
            progress(clip.name, k, len(clips))
        dest = out / f"{clip.stem}.npz"
        if not dest.is_file():
            mesh = FaceMesh(static=False, max_faces=1)  # a fresh tracker per clip
            try:
                s = clip_samples(clip, mesh)
            except UserError:
                s = None
            finally:
                mesh.close()
            if s is None:
                continue
            with atomic_path(dest) as tmp, open(tmp, "wb") as f:
                np.savez(f, patches=s["patches"], upper=s["upper"], lower=s["lower"], scale=s["scale"],
                         frame=s["frame"])
        with np.load(dest) as z:
            n = len(z["scale"])
        entries.append({"clip": clip.stem, "person": who.get(clip.stem) or person(clip.stem), "frames": n})
    if not entries:
        raise UserError(f"no clip under {videos} had a face tracked in {MIN_FRAMES} frames")
    digest = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()[:16]
    index = {"format": FORMAT, "clips": entries, "hash": digest}
    with atomic_path(out / "index.json") as tmp:
        tmp.write_text(json.dumps(index, indent=1) + "\n")
    return index
