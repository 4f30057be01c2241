"""Training data for motion models: talking-face videos -> aligned (motion latent, audio feature) sequences.

`likeness train prepare --videos DIR` tracks the face in every frame, encodes each frame into the same
`Motion` latent the renderer consumes, resamples to a common frame rate, aligns per-frame audio features,
and caches one .npz per video plus an index with a data hash. One file is one identity (split by identity).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError

from ..audio import Audio, AudioFeatures, features, load_audio, mix_under
from ..latent import FPS
from ..phones import VISEMES
from .encode import encode_landmarks, resample_motion

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg")


def audio_matrix(f: AudioFeatures) -> np.ndarray:
    """(T, 94) per-frame model input: log-mel, level (dB/10), log-pitch (0 when unvoiced) and the viseme
    classes of the decoded phones (all `rest` when the features carry none)."""
    pitch = np.where(f.pitch > 0, np.log(np.maximum(f.pitch, 1.0)) - 5.0, 0.0)
    vis = f.visemes if f.visemes is not None else np.eye(len(VISEMES), dtype=np.float32)[np.zeros(len(f), int)]
    return np.concatenate([f.mel, f.energy_db[:, None] / 10.0, pitch[:, None], vis], 1).astype(np.float32)


ACOUSTIC_DIM = 82     # log-mel (80), level, pitch: all a checkpoint from before the phones reads
AUDIO_DIM = ACOUSTIC_DIM + len(VISEMES)
VISEME_COLS = slice(ACOUSTIC_DIM, AUDIO_DIM)
LEVEL = 80            # column of the level (dB/10); columns before it are log-mel (natural-log power)
LEVEL_FLOOR = -7.0    # -70 dB: audio quieter than this is not amplified further


def loudness_reference(a: np.ndarray) -> float:
    """Loudness of the audio heard so far (rows of `audio_matrix`): its 98th-percentile level, floored.

    Causal by construction (a window only looks at rows up to its own end), so streaming equals offline."""
    return max(float(np.percentile(a[:, LEVEL], 98)), LEVEL_FLOOR) if len(a) else LEVEL_FLOOR


def normalise_loudness(a: np.ndarray, ref: float) -> np.ndarray:
    """Automatic gain: shift log-mel and level so that `ref` reads 0 dB. Recordings differ by 40 dB in level
    (a quiet clip otherwise barely moves the mouth); the procedural motion normalises its level the same way."""
    out = np.array(a, np.float32, copy=True)
    out[:, :LEVEL] -= ref * np.log(10)
    out[:, LEVEL] -= ref
    return out


@dataclass
class Clip:
    name: str
    latent: np.ndarray  # (T, 17)
    audio: np.ndarray   # (T, AUDIO_DIM)

    def __len__(self) -> int:
        return len(self.latent)


def prepare_video(path: Path, mesh=None, max_missing: float = 0.2) -> Clip:
    """Track, encode and align one video; raises UserError when it has no audio or too few faces."""
    from ..face.analysis import FaceMesh
    from ..video import probe, read_frames

    info = probe(path)
    if "audio_codec" not in info:
        raise UserError(f"{path.name}: no audio track")
    mesh = mesh or FaceMesh(static=False, max_faces=1)
    lms, found = [], []
    for frame in read_frames(path):
        faces = mesh(frame)
        found.append(bool(faces))
        lms.append(faces[0] if faces else None)
    seen = np.array(found)
    if len(seen) == 0 or 1 - seen.mean() > max_missing:
        raise UserError(f"{path.name}: a face was found in only {seen.mean():.0%} of frames")
    idx = np.flatnonzero(seen)
    filled = np.stack([lms[idx[np.abs(idx - i).argmin()]] for i in range(len(lms))])  # nearest tracked frame
    motion = resample_motion(encode_landmarks(filled, info["fps"]), FPS)
    audio = audio_matrix(features(load_audio(path), FPS))
    n = min(len(motion), len(audio))
    return Clip(path.stem, motion.latent[:n], audio[:n])


def babble_copies(clips: list[Clip], sources: dict[str, Path], rng: np.random.Generator, voices: int = 3,
                  snr_db: tuple[float, float] = (0.0, 20.0), share: float = 1.0) -> list[Clip]:
    """A share `share` of the clips (drawn by `rng`) again with the voices of `voices` other clips (their audio from
    `sources`) mixed under its own at a random signal-to-noise ratio in `snr_db`, its features made afresh (phones
    included); the motion stays the speaker's. Trained on clean speech alone, the DiT's jaw followed any voice it
    heard (benchmarks/bench_noise.py)."""
    if share < 1:  # the voices under them come from the same share
        clips = [clips[i] for i in sorted(rng.choice(len(clips), round(share * len(clips)), replace=False))]
    loaded = {c.name: load_audio(sources[c.name]) for c in clips}  # as `prepare_video` reads them
    audio, rate = {k: v.samples for k, v in loaded.items()}, next(iter(loaded.values())).rate
    if len(audio) <= voices:
        raise UserError(f"babble needs more than {voices} clips, got {len(audio)}")
    names, out = sorted(audio), []
    for c in clips:
        x = audio[c.name]
        others = rng.choice([n for n in names if n != c.name], voices, replace=False)
        noise = np.sum([np.resize(audio[o], len(x)) for o in others], 0)
        a = audio_matrix(features(Audio(mix_under(x, noise, float(rng.uniform(*snr_db))), rate), FPS))
        n = min(len(a), len(c))
        out.append(Clip(f"{c.name}+babble", c.latent[:n], a[:n]))
    return out


def find_videos(root: Path) -> list[Path]:
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UserError(f"video folder not found: {root}")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)


def prepare(videos: Path, out: Path, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Cache every usable video under `out` and write out/index.json (with skipped files and a data hash)."""
    from ..face.analysis import FaceMesh

    mesh = FaceMesh(static=False, max_faces=1)
    paths = find_videos(videos)
    if not paths:
        raise UserError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) under {videos}")
    out.mkdir(parents=True, exist_ok=True)
    h, clips, skipped = hashlib.sha256(), list[dict]() , {}
    for i, p in enumerate(paths):
        try:
            clip = prepare_video(p, mesh)
        except UserError as e:
            skipped[p.name] = str(e)
        else:
            np.savez_compressed(out / f"{clip.name}.npz", latent=clip.latent, audio=clip.audio)
            h.update(p.read_bytes())
            clips.append({"name": clip.name, "frames": len(clip), "source": str(p)})
        if progress:
            progress(i + 1, len(paths), p.name)
    index = {"fps": FPS, "clips": clips, "skipped": skipped, "data_sha256": h.hexdigest(),
             "seconds": sum(c["frames"] for c in clips) / FPS}
    (out / "index.json").write_text(json.dumps(index, indent=2))
    return index


def load_clips(cache: Path) -> list[Clip]:
    cache = Path(cache)
    if not (cache / "index.json").is_file():
        raise UserError(f"no prepared data in {cache}; run `likeness train prepare --videos DIR --out {cache}`")
    index = json.loads((cache / "index.json").read_text())
    return [Clip(c["name"], *(lambda z: (z["latent"], z["audio"]))(np.load(cache / f"{c['name']}.npz")))
            for c in index["clips"]]


def split_by_identity(clips: list[Clip], val_names: tuple[str, ...]) -> tuple[list[Clip], list[Clip]]:
    return [c for c in clips if c.name not in val_names], [c for c in clips if c.name in val_names]


def speech_split(clips: list[Clip], val_names: tuple[str, ...], shared: Path | None) -> tuple[list[Clip], list[Clip]]:
    """Training and held-out clips; with a shared folder that has videos_added.tsv, only the clips whose audio is
    the speaker's own voice (music or another voice over a face teaches the mouth nothing)."""
    from likeness.shared_data import own_speech

    tr, va = split_by_identity(clips, val_names)
    if shared is not None and (Path(shared) / "videos_added.tsv").is_file():
        speech = own_speech(Path(shared))
        tr, va = [c for c in tr if c.name in speech], [c for c in va if c.name in speech]
    if not tr:
        raise UserError("no training clips left after holding out the validation identities")
    return tr, va
