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
from .sources import OURS, Video, fake_videos, is_montage, real_videos

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MOTIONS = ("dit", "procedural")
Progress = Callable[[int, int], None]


@dataclass
class DataConfig:
    real_videos: Path
    out: Path = Path("data/detector")
    portraits: Path | None = None
    speech: Path | None = None
    other_fakes: Path | None = None  # other generators' videos (detector.sources: family from the file-name prefix)
    fake_seconds: float = 6.0    # length of each rendered fake
    real_rate: float = 4.0       # crops per second of real footage
    fake_rate: float = 4.0       # crops per second of a fake
    max_crops: int = 24          # per video, spread over its length (a minute-long clip must not outweigh 50 short ones)
    reenact_people: int = 64     # real people re-enacted by our generator, one clip each (seeded choice)
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


def reenactment_clips(reals: list[Video], people: int, seed: int) -> list[Video]:
    """One clip per person (their longest, so the 6 s fake has 6 s of their speech), for a seeded choice of
    `people` of them: self-reenactments of many faces rather than many of a few."""
    from .faces import video_seconds

    by_person: dict[str, list[Video]] = {}
    for v in reals:
        by_person.setdefault(v.identity, []).append(v)
    chosen = sorted(by_person)
    if len(chosen) > people:
        chosen = sorted(np.random.default_rng(seed).choice(chosen, people, replace=False).tolist())
    return [max(by_person[p], key=lambda v: (video_seconds(v.path), v.path.name)) for p in chosen]


def render_fakes(cfg: DataConfig, reals: list[Video], tmp: Path, progress: Progress | None = None) -> list[dict]:
    """Render our fakes into cfg.out/fakes (one record per video; inputs without a face are skipped). A fake whose
    file is already there is kept, so an interrupted build resumes."""
    from PIL import Image

    from generator.pipeline import GenerateConfig, generate
    from provenance.keys import load_identity

    load_identity()  # every fake is signed: without a key each render would fail and be skipped as if it had no face
    speech = sorted(p for p in Path(cfg.speech).iterdir() if p.suffix.lower() in (".wav", ".mp3", ".flac", ".m4a")) \
        if cfg.speech else []
    jobs = []
    for i, v in enumerate(reenactment_clips(reals, cfg.reenact_people, cfg.seed)):
        _, first = next(sample_frames(v.path, 1.0))
        portrait = tmp / f"{v.path.stem}.png"
        Image.fromarray(first).save(portrait)
        audio = _speech_for(v.path, speech, i, cfg.fake_seconds, tmp)
        m = MOTIONS[i % 2]
        jobs.append((f"reenact-{m}", v.identity, v.path.stem, portrait, audio, m, cfg.sizes[(i // 2) % len(cfg.sizes)]))
    if cfg.portraits:
        if not speech:
            raise UserError("portrait fakes need speech clips (--speech)")
        for i, (identity, p) in enumerate(portrait_images(cfg.portraits).items()):
            audio = save_wav(tmp / f"{p.stem}.wav", *_trim(speech[i % len(speech)], cfg.fake_seconds))
            jobs.append((f"portrait-{MOTIONS[i % 2]}", identity, identity.replace(":", "_"), p, audio, MOTIONS[i % 2],
                         cfg.sizes[(i // 2) % len(cfg.sizes)]))
    out_dir = cfg.out / "fakes"
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for i, (kind, identity, name, image, audio, motion, size) in enumerate(jobs):
        out = out_dir / f"{OURS}_{kind}_{name}.mp4"
        if progress:
            progress(i, len(jobs))
        record = {"video": out.name, "identity": identity, "kind": kind, "size": size}
        if not out.is_file():
            try:
                generate(GenerateConfig(image, audio, out, size=size, seed=cfg.seed, motion=motion))
            except UserError as e:  # e.g. a llama: no face
                records.append({**record, "skipped": str(e)})
                continue
        records.append({**record, "path": str(out)})
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
    with VideoWriter(out, fps, (size, size), crf=GenerateConfig.crf) as w:
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
    """Test identities: a seeded share of the real people and, separately, of the portraits and of other
    generators' fakes."""
    rng = np.random.default_rng(seed)
    test: set[str] = set()
    groups: dict[str, list[str]] = {}
    for i in identities:
        groups.setdefault(i.split(":")[0] if i.startswith(("portrait:", "fake:")) else "", []).append(i)
    for _, group in sorted(groups.items()):
        group = sorted(set(group))
        k = int(round(len(group) * test_fraction))
        test |= set(rng.permutation(group)[:k].tolist()) if k else set()
    return test


def pair_sampling(seconds: float, rate: float, max_crops: int) -> tuple[float, int]:
    """(crops per second, stride) for a video of `seconds`, so that its crops come in pairs DT apart as the scanner's
    do (the warp consistency, detector.temporal, is measured on them): `rate`, else 2 or 1 per second, the most that
    fits `max_crops`; a video too long even at 1 per second keeps two consecutive crops of every `stride` (seconds)."""
    import math

    for r in sorted({rate, 2.0, 1.0}, reverse=True):
        if r <= rate and seconds * r <= max_crops:
            return r, 1
    return min(rate, 1.0), max(2, math.ceil(seconds / max(1, max_crops // 2)))


def crop_video(v: Video, rate: float, max_crops: int, mark, bits) -> list[tuple]:
    """(crop, watermarked crop, landmarks in crop pixels, t) for up to `max_crops` frames spread over the video
    (`pair_sampling`); real frames also get the generator's watermark, embedded at full frame size as the generator does."""
    from generator.face.analysis import align_transform, warp_aligned

    from .faces import CROP, video_seconds

    rate, stride = pair_sampling(video_seconds(v.path), rate, max_crops)
    cropper, out = FaceCropper(max_faces=1), list[tuple]()  # a fresh tracker per video, as the scanner uses
    for k, (t, rgb) in enumerate(sample_frames(v.path, rate)):
        if len(out) >= max_crops:
            break
        if not out and is_montage(rgb.shape[1], rgb.shape[0]):
            return []
        faces = cropper.landmarks(rgb)  # every sampled frame goes through the tracker, kept or not
        if not faces or k % stride > 1:
            continue
        m = align_transform(faces[0], CROP)
        crop = warp_aligned(rgb, m, CROP)
        marked = warp_aligned(mark.embed(rgb, bits), m, CROP) if v.label == 0 else crop
        lm = faces[0][:, :2] @ m[:, :2].T + m[:, 2]
        out.append((crop, marked, lm.astype(np.float16), t))
    return out


def build(cfg: DataConfig, render_progress: Progress | None = None, crop_progress: Progress | None = None) -> dict:
    """Render our fakes, crop faces from real footage, our fakes and other generators' fakes, split by identity,
    write out/crops.npz + index.json."""
    from provenance.payload import Payload
    from provenance.spread import SpreadMark

    cfg.out.mkdir(parents=True, exist_ok=True)
    reals = real_videos(cfg.real_videos)
    if not reals:
        raise UserError(f"no videos in {cfg.real_videos}")
    with tempfile.TemporaryDirectory() as tmp:
        fakes = render_fakes(cfg, reals, Path(tmp), render_progress)
    stills = write_stills(cfg, fakes) if cfg.stills else []
    mark, rng = SpreadMark(), np.random.default_rng(cfg.seed)
    rows, meta = [], []
    h = hashlib.sha256()
    videos = [(v, "real") for v in reals] + \
             [(Video(Path(f["path"]), 1, f["identity"], OURS, OURS), f["kind"]) for f in fakes if "path" in f] + \
             [(Video(Path(f["path"]), 0, f["identity"], "still", "real"), "still") for f in stills] + \
             [(v, "other") for v in (fake_videos(cfg.other_fakes) if cfg.other_fakes else [])]
    for i, (v, kind) in enumerate(videos):
        if crop_progress:
            crop_progress(i, len(videos))
        h.update(v.path.read_bytes() if kind in ("real", "other") else b"")
        rate = cfg.real_rate if v.label == 0 else cfg.fake_rate
        bits = Payload.new(int(rng.integers(0, 1 << 16))).bits()
        for crop, marked, lm, t in crop_video(v, cfg.still_rate if kind == "still" else rate, cfg.max_crops, mark, bits):
            rows.append((crop, marked, lm))
            meta.append((v.identity, v.path.stem, kind, v.label, t, v.source, v.fold))
    if not rows:
        raise UserError("no face crops: check the input folders")
    test = split_identities([m[0] for m in meta], cfg.test_fraction, cfg.seed)
    keep = [i for i, m in enumerate(meta) if not (m[2] == "still" and m[0] in test)]  # held-out real class: footage only
    rows, meta = [rows[i] for i in keep], [meta[i] for i in keep]
    identities = [m[0] for m in meta]
    np.savez(cfg.out / "crops.npz", crops=np.stack([r[0] for r in rows]), crops_marked=np.stack([r[1] for r in rows]),
             landmarks=np.stack([r[2] for r in rows]),
             label=np.array([m[3] for m in meta], np.int64), t=np.array([m[4] for m in meta], np.float32),
             identity=np.array(identities), video=np.array([m[1] for m in meta]), kind=np.array([m[2] for m in meta]),
             source=np.array([m[5] for m in meta]), fold=np.array([m[6] for m in meta]),
             test=np.array([i in test for i in identities]))
    crops_sha = hashlib.sha256((cfg.out / "crops.npz").read_bytes()).hexdigest()  # what a fold checkpoint was trained on
    index = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "fakes": fakes, "stills": stills, "crops": len(rows),
             "crops_sha256": crops_sha,
             "real_crops": int(sum(m[3] == 0 for m in meta)), "fake_crops": int(sum(m[3] == 1 for m in meta)),
             "videos": len(set(m[1] for m in meta)), "test_identities": sorted(test), "data_sha256": h.hexdigest()}
    (cfg.out / "index.json").write_text(json.dumps(index, indent=2))
    return index
