"""Detector training data: face crops from real footage and from fakes our generator renders.

`likeness train detector-data` renders two kinds of fakes through the generator's library API (so they
carry its watermark and manifest, like every Likeness output):
- self-reenactment: a real clip's first frame driven by the same clip's audio, so real and fake share
  identity and speech and the classifier has to learn rendering artefacts, not who is speaking;
- portraits: each still portrait with a speech clip.
Each with the DiT and the procedural motion, at 256 and 512 px canvases in turn. With `stills`, the photo
itself joins the real class too (`write_still`: a slow pan over its aligned canvas, encoded like a fake), so
that a painting's or a photo's own look cannot be the cue either. Real crops are stored twice, as they are and with the same
invisible watermark the fakes carry, so training can give both classes the mark (the detector must not
learn the watermark). Splits are by identity: a real person and their reenactments land on the same side,
and so do a portrait, its still and its fakes; stills of held-out portraits stay out of the crops (the
held-out real class is footage).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from generator.audio import load_audio, save_wav
from likeness.errors import UserError

from .faces import FaceCropper, sample_frames

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MOTIONS = ("dit", "procedural")
Progress = Callable[[int, int], None]


@dataclass
class DataConfig:
    real_videos: Path
    out: Path = Path("data/detector")
    portraits: Path | None = None
    speech: Path | None = None
    fake_seconds: float = 6.0    # length of each rendered fake
    real_rate: float = 6.0       # crops per second of real footage
    fake_rate: float = 4.0       # crops per second of a fake
    sizes: tuple[int, ...] = (256, 512)  # generator canvases, taken in turn (512 is the generator's default)
    stills: bool = False         # each portrait also joins the real class, as a slow pan over the photo (a control:
                                 # without it, a painting's look alone says "generated"; see benchmarks/RESULTS.md)
    still_rate: float = 1.0      # crops per second of a still's pan
    test_fraction: float = 0.25  # of identities
    seed: int = 0


def _trim(path: Path, seconds: float) -> tuple[np.ndarray, int]:
    a = load_audio(path, 16_000)
    return a.samples[: int(seconds * a.rate)], a.rate


def _speech_for(video: Path, speech: list[Path], i: int, seconds: float, tmp: Path) -> Path:
    """The clip's own audio (first `seconds`), or a speech clip when it has none."""
    for src in (video, speech[i % len(speech)] if speech else None):
        if src is None:
            continue
        try:
            return save_wav(tmp / f"{video.stem}_{i}.wav", *_trim(src, seconds))
        except UserError:
            continue
    raise UserError(f"{video.name}: no usable audio and no speech clips to pair it with")


def portrait_images(folder: Path) -> dict[str, Path]:
    """Identity ("portrait:<name>") -> image file, for the images in `folder`, in name order."""
    return {f"portrait:{p.stem}": p for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def render_fakes(cfg: DataConfig, tmp: Path, progress: Progress | None = None) -> list[dict]:
    """Render every fake into cfg.out/fakes; returns one record per video (skips inputs without a face)."""
    from PIL import Image

    from generator.pipeline import GenerateConfig, generate

    from .scan import find_videos

    reals = find_videos([cfg.real_videos])
    speech = sorted(p for p in Path(cfg.speech).iterdir() if p.suffix.lower() in (".wav", ".mp3", ".flac", ".m4a")) \
        if cfg.speech else []
    jobs = []
    for i, v in enumerate(reals):
        _, first = next(sample_frames(v, 1.0))
        portrait = tmp / f"{v.stem}.png"
        Image.fromarray(first).save(portrait)
        audio = _speech_for(v, speech, i, cfg.fake_seconds, tmp)
        jobs += [(f"reenact-{m}", v.stem, portrait, audio, m, cfg.sizes[i % len(cfg.sizes)]) for m in MOTIONS]
    if cfg.portraits:
        if not speech:
            raise UserError("portrait fakes need speech clips (--speech)")
        for i, (identity, p) in enumerate(portrait_images(cfg.portraits).items()):
            audio = save_wav(tmp / f"{p.stem}.wav", *_trim(speech[i % len(speech)], cfg.fake_seconds))
            jobs.append((f"portrait-{MOTIONS[i % 2]}", identity, p, audio, MOTIONS[i % 2],
                         cfg.sizes[(i // 2) % len(cfg.sizes)]))
    out_dir = cfg.out / "fakes"
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for i, (kind, identity, image, audio, motion, size) in enumerate(jobs):
        out = out_dir / f"{kind}_{identity.replace(':', '_')}.mp4"
        if progress:
            progress(i, len(jobs))
        try:
            generate(GenerateConfig(image, audio, out, size=size, seed=cfg.seed, motion=motion))
        except UserError as e:  # e.g. a llama: no face
            records.append({"video": out.name, "identity": identity, "kind": kind, "size": size, "skipped": str(e)})
            continue
        records.append({"video": out.name, "identity": identity, "kind": kind, "size": size, "path": str(out)})
    return records


def write_still(image: Path, size: int, out: Path, seconds: float, fps: float = 25.0) -> Path:
    """A real-class video of a still portrait: its aligned canvas as the generator starts from (same size,
    H.264 settings), slowly zoomed and panned (5%, 2% of the width) so no two frames are alike."""
    import cv2

    from generator.face.analysis import analyze_file
    from generator.pipeline import GenerateConfig
    from generator.video import VideoWriter

    canvas = analyze_file(image, size).image
    n = int(seconds * fps)
    with VideoWriter(out, fps, (size, size), crf=GenerateConfig.__dataclass_fields__["crf"].default) as w:
        for k in range(n):
            m = cv2.getRotationMatrix2D((size / 2, size / 2), 0.0, 1.0 + 0.05 * k / n)
            m[0, 2] += 0.02 * size * k / n
            w.write(cv2.warpAffine(canvas, m, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE))
    return out


def write_stills(cfg: DataConfig, fakes: list[dict]) -> list[dict]:
    """`write_still` for each portrait that was rendered as a fake, at that fake's canvas size, in cfg.out/stills."""
    images = portrait_images(cfg.portraits) if cfg.portraits else {}
    out_dir = cfg.out / "stills"
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for f in fakes:
        if "path" in f and f["identity"] in images:
            out = write_still(images[f["identity"]], f["size"], out_dir / f"still_{images[f['identity']].stem}.mp4", cfg.fake_seconds)
            records.append({"video": out.name, "identity": f["identity"], "kind": "still", "size": f["size"], "path": str(out)})
    return records


def split_identities(identities: list[str], test_fraction: float, seed: int) -> set[str]:
    """Test identities: a seeded share of the real people and, separately, of the portraits."""
    rng = np.random.default_rng(seed)
    test: set[str] = set()
    for group in ([i for i in identities if not i.startswith("portrait:")], [i for i in identities if i.startswith("portrait:")]):
        group = sorted(set(group))
        k = int(round(len(group) * test_fraction))
        test |= set(rng.permutation(group)[:k].tolist()) if k else set()
    return test


def build(cfg: DataConfig, render_progress: Progress | None = None, crop_progress: Progress | None = None) -> dict:
    """Render fakes, crop faces from real and fake videos, split by identity, write out/crops.npz + index.json."""
    from provenance.payload import Payload
    from provenance.spread import SpreadMark

    from .scan import find_videos

    cfg.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fakes = render_fakes(cfg, Path(tmp), render_progress)
    stills = write_stills(cfg, fakes) if cfg.stills else []
    mark, rng = SpreadMark(), np.random.default_rng(cfg.seed)
    crops, marked, meta = [], [], []
    h = hashlib.sha256()
    videos = [(v, v.stem, "real", 0) for v in find_videos([cfg.real_videos])] + \
             [(Path(f["path"]), f["identity"], f["kind"], 1) for f in fakes if "path" in f] + \
             [(Path(f["path"]), f["identity"], "still", 0) for f in stills]
    for i, (path, identity, kind, label) in enumerate(videos):
        if crop_progress:
            crop_progress(i, len(videos))
        h.update(path.read_bytes() if kind == "real" else b"")
        cropper = FaceCropper(max_faces=1)  # a fresh tracker per video, as the scanner uses
        bits = Payload.new(int(rng.integers(0, 1 << 16))).bits()
        for t, rgb in sample_frames(path, {"real": cfg.real_rate, "still": cfg.still_rate}.get(kind, cfg.fake_rate)):
            faces = cropper.landmarks(rgb)
            if not faces:
                continue
            crops.append(cropper.crop(rgb, faces[0]))
            # real frames also get the generator's watermark, embedded at full frame size as the generator does
            marked.append(cropper.crop(mark.embed(rgb, bits), faces[0]) if label == 0 else crops[-1])
            meta.append((identity, path.stem, kind, label, t))
    if not crops:
        raise UserError("no face crops: check the input folders")
    test = split_identities([m[0] for m in meta], cfg.test_fraction, cfg.seed)
    keep = [i for i, m in enumerate(meta) if not (m[2] == "still" and m[0] in test)]  # held-out real class: footage only
    crops, marked, meta = [crops[i] for i in keep], [marked[i] for i in keep], [meta[i] for i in keep]
    identities = [m[0] for m in meta]
    np.savez(cfg.out / "crops.npz", crops=np.stack(crops), crops_marked=np.stack(marked),
             label=np.array([m[3] for m in meta], np.int64), t=np.array([m[4] for m in meta], np.float32),
             identity=np.array(identities), video=np.array([m[1] for m in meta]), kind=np.array([m[2] for m in meta]),
             test=np.array([i in test for i in identities]))
    index = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "fakes": fakes, "stills": stills, "crops": len(crops),
             "real_crops": int(sum(m[3] == 0 for m in meta)), "fake_crops": int(sum(m[3] == 1 for m in meta)),
             "test_identities": sorted(test), "data_sha256": h.hexdigest()}
    (cfg.out / "index.json").write_text(json.dumps(index, indent=2))
    return index
