"""Self-reenactment: how close the renderer comes to real frames, the standard test of one-shot face animators.

A real clip's first frame becomes the portrait; every frame is tracked by the generator's own face analysis
and encoded into the motion latent relative to that portrait; the latents are rendered from the first frame
and each rendered frame is compared with the real one, aligned the same way. Baselines in the same run:
the first frame held still, and every renderer in `generator.render.renderer.RENDERERS`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from generator.options import RENDERER_NAMES

if TYPE_CHECKING:
    from generator.face.analysis import Portrait

STILL = "still"           # the first frame held still: the no-animation baseline
MOUTH_PAD = 0.25          # mouth box: lip landmarks' box grown by this share of the mouth width on each side
ID_EVERY = 5              # identity judged on every 5th frame (dlib's ResNet is the slow part)
SHEET_FRAMES = 2          # contact sheet: the widest real openings per clip
SHEET_PX = 112            # contact sheet: side of one mouth crop

Progress = Callable[[str, int, int], None]


@dataclass
class ReenactConfig:
    videos: list[Path]
    renderers: tuple[str, ...] = RENDERER_NAMES[::-1]  # oldest first: warp-v1, v2, v3
    size: int = 512
    max_seconds: float = 4.0


@dataclass
class Tracked:
    """One clip, tracked and aligned onto the portrait canvas of its first frame."""
    name: str
    frames: list[np.ndarray]     # real frames warped onto the canvas (the references)
    landmarks: np.ndarray        # (T, 478, 3) in canvas pixels
    portrait: Portrait           # of frame 0
    pose: np.ndarray             # (T, 6) motion latents relative to the portrait
    expr: np.ndarray             # (T, 11)
    canon: np.ndarray            # (T, 478, 3) the tracked shapes in canonical space (what `expr` is fitted to)


@dataclass
class ClipResult:
    name: str
    frames: int
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> metric -> value
    sheet: np.ndarray | None = None


def reenact_videos(videos: Path | None, data: Path) -> list[Path]:
    """The clips given (a file or every video in a folder), or the shared data's held-out identities."""
    from generator.motion.data import find_videos
    from likeness.errors import UserError
    from likeness.shared_data import REENACT_HELD_OUT

    if videos is not None:
        found = find_videos(videos)
        if not found:
            raise UserError(f"no videos in {videos}")
        return found
    folder = Path(data) / "real_videos"
    if not folder.is_dir():
        raise UserError(f"shared data not found at {data} (expected real_videos/); pass --videos or --data")
    by_stem = {p.stem: p for p in folder.iterdir()}
    return [by_stem[s] for s in REENACT_HELD_OUT if s in by_stem]


def track(path: Path, size: int, max_seconds: float) -> Tracked:
    """Track a real clip with FaceMesh and encode it relative to its first frame (frames without a face dropped)."""
    from generator.face.analysis import (FaceMesh, portrait_from_landmarks, portrait_transform, transform_landmarks,
                                         warp_aligned)
    from generator.face.geometry import estimate_pose
    from generator.motion.encode import fit_expression, relative_pose
    from generator.video import probe, read_frames
    from likeness.errors import UserError

    info = probe(path)
    if "fps" not in info:
        raise UserError(f"{path.name}: no video stream")
    mesh = FaceMesh(static=False, max_faces=1)
    frames, lms = [], []
    try:
        for f in read_frames(path, int(round(max_seconds * info["fps"]))):
            faces = mesh(f)
            if faces:
                frames.append(f)
                lms.append(faces[0])
    finally:
        mesh.close()
    if len(frames) < 10:
        raise UserError(f"{path.name}: a face was tracked in only {len(frames)} frames")
    m = portrait_transform(lms[0], size, frames[0].shape)
    portrait = portrait_from_landmarks(frames[0], lms[0], size)
    canvas = np.stack([transform_landmarks(lm, m) for lm in lms])
    poses = [estimate_pose(lm) for lm in canvas]
    canon = np.stack([p.to_canonical(lm) for p, lm in zip(poses, canvas)])
    expr = fit_expression(canon, portrait.pose.to_canonical(portrait.landmarks))
    refs = [warp_aligned(f, m, size) for f in frames]
    return Tracked(path.stem, refs, canvas, portrait, relative_pose(poses, portrait.pose), expr, canon)


def _boxes(lm: np.ndarray, size: int) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    from generator.face import topology as topo

    def box(pts: np.ndarray, pad: float) -> tuple[int, int, int, int]:
        x0, y0 = np.floor(pts.min(0) - pad).astype(int)
        x1, y1 = np.ceil(pts.max(0) + pad).astype(int)
        return max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)

    lips = lm[topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER, :2]
    return box(lm[topo.FACE_OVAL, :2], 0.0), box(lips, MOUTH_PAD * np.ptp(lips[:, 0]))


def _square(lm: np.ndarray, size: int) -> tuple[int, int, int, int]:
    """A square around the lips, 1.6 mouth widths wide (the contact sheet's crop)."""
    from generator.face import topology as topo

    lips = lm[topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER, :2]
    c, half = lips.mean(0), 0.8 * np.ptp(lips[:, 0])
    x0, y0 = np.clip(np.round(c - half).astype(int), 0, size - 1)
    x1, y1 = np.clip(np.round(c + half).astype(int), x0 + 1, size)
    return x0, y0, x1, y1


def _crop(img: np.ndarray, b: tuple[int, int, int, int]) -> np.ndarray:
    return img[b[1]:b[3], b[0]:b[2]]


def _sharpness(img: np.ndarray) -> float:
    import cv2

    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def compare(real: np.ndarray, fake: np.ndarray, face: tuple, mouth: tuple) -> dict[str, float]:
    """PSNR, SSIM and L1 on the face and mouth boxes, and the mouth's Laplacian variance (for the ratio)."""
    from skimage.metrics import structural_similarity

    out = {}
    for region, b in (("face", face), ("mouth", mouth)):
        r, f = _crop(real, b), _crop(fake, b)
        diff = r.astype(np.float64) - f
        out[f"{region}_psnr"] = float(10 * np.log10(255**2 / max(np.mean(diff**2), 1e-6)))  # 108 dB: identical
        out[f"{region}_ssim"] = float(structural_similarity(r, f, channel_axis=2, data_range=255))
        out[f"{region}_l1"] = float(np.abs(diff).mean() / 255)
    out["mouth_sharp"] = _sharpness(_crop(fake, mouth))
    return out


def person_regions(portrait: "Portrait", far_px: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(hair, background) boolean masks of the portrait canvas, by the segmentation the renderer uses: the person
    outside the face outline and above the mouth (hair, ears), and what lies more than `far_px` (default 8% of the
    canvas) from the person (the background no head motion should move)."""
    import cv2

    from generator.face import topology as topo
    from generator.face.segment import person_mask
    from generator.render.backdrop import PERSON

    size, lm = portrait.size, portrait.landmarks
    person = person_mask(portrait.image) > PERSON
    outline = np.zeros(person.shape, np.uint8)
    cv2.fillPoly(outline, [np.round(lm[topo.FACE_OVAL, :2]).astype(np.int32)], 1)
    face = cv2.dilate(outline, np.ones((5, 5), np.uint8)) > 0
    above = np.arange(size)[:, None] < lm[list(topo.MOUTH_CORNERS), 1].mean()
    r = far_px if far_px is not None else max(1, round(0.08 * size))
    far = cv2.dilate(person.astype(np.uint8), np.ones((2 * r + 1,) * 2, np.uint8)) == 0
    return person & ~face & above, far


def green_share(frame: np.ndarray, lm: np.ndarray) -> tuple[float, int] | None:
    """(share, pixels): how much of the opening between the inner lips of face `lm` (one pixel in) is greener than
    neutral (CIELAB a* < 0), which a real mouth's almost never is; None where fewer than 20 pixels lie inside."""
    import cv2

    from generator.face import topology as topo

    inside = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(lm[topo.inner_lip_loop(), :2]).astype(np.int32)], 1)
    a = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)[..., 1][cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0]
    return (float((a.astype(int) < 128).mean()), int(a.size)) if a.size >= 20 else None


def _sheet_row(crops: list[np.ndarray]) -> np.ndarray:
    import cv2

    return np.concatenate([cv2.resize(c, (SHEET_PX, SHEET_PX), interpolation=cv2.INTER_AREA) for c in crops], 1)


def reenact_clip(t: Tracked, renderers: tuple[str, ...]) -> ClipResult:
    """Render `t` with each renderer (and the still baseline) and compare frame by frame with the real frames."""
    from eval.judges import Landmarks68, face_embedding, mouth_opening68
    from generator.face.expression import mouth_opening
    from generator.render.renderer import make_renderer
    from likeness.metrics import lagged_correlation

    size = t.portrait.size
    methods = [STILL, *renderers]
    rend = {name: make_renderer(t.portrait, name) for name in renderers}
    per: dict[str, list[dict]] = {m: [] for m in methods}
    real_sharp: list[float] = []
    anchor = face_embedding(t.frames[0])
    ident: dict[str, list[float]] = {m: [] for m in ["real", *methods]}
    found: dict[str, list[bool]] = {m: [] for m in ["real", *methods]}
    judge = Landmarks68()  # every frame: the mouth's opening as dlib reads it
    opened: dict[str, list[float]] = {m: [] for m in ["real", *methods]}
    opening = np.array([mouth_opening(lm) for lm in t.landmarks])
    sheet_at = set(np.argsort(-opening)[:SHEET_FRAMES].tolist())
    rows = []
    for i, real in enumerate(t.frames):
        face, mouth = _boxes(t.landmarks[i], size)
        real_sharp.append(_sharpness(_crop(real, mouth)))
        outs = {STILL: t.portrait.image} | {n: r.render(t.pose[i], t.expr[i], sequence=True) for n, r in rend.items()}
        for name, img in outs.items():
            per[name].append(compare(real, img, face, mouth))
        for name, img in [("real", real), *outs.items()]:
            lm = judge(img)
            opened[name].append(np.nan if lm is None else mouth_opening68(lm))
            if i % ID_EVERY == 0:
                found[name].append(lm is not None)
                emb = None if lm is None or anchor is None else face_embedding(img, lm)
                if emb is not None:
                    ident[name].append(float(np.linalg.norm(emb - anchor)))
        if i in sheet_at:
            sq = _square(t.landmarks[i], size)
            rows.append(_sheet_row([_crop(real, sq)] + [_crop(outs[m], sq) for m in methods]))
    res = ClipResult(t.name, len(t.frames), sheet=np.concatenate(rows, 0) if rows else None)
    sharp_real = np.array(real_sharp)
    for name in ["real", *methods]:
        row: dict[str, float] = {}
        if name != "real":
            for k in per[name][0]:
                if k != "mouth_sharp":
                    row[k] = float(np.mean([d[k] for d in per[name]]))
            sharp = np.array([d["mouth_sharp"] for d in per[name]])
            row["mouth_sharpness_ratio"] = float(np.median(sharp / np.maximum(sharp_real, 1e-6)))
            o = np.array(opened[name])  # a mouth that never moves (the still frame) follows nothing: r = 0
            row["lip_opening_r"] = 0.0 if np.nanmax(o) == np.nanmin(o) else lagged_correlation(o, np.array(opened["real"]), 0)
        row["identity"] = float(np.median(ident[name])) if ident[name] else float("nan")
        row["face_found"] = float(np.mean(found[name])) if found[name] else 0.0
        res.metrics[name] = row
    return res


def contact_sheet(results: list[ClipResult], methods: list[str], out: Path) -> Path:
    """Real | still | renderers... mouth crops at the widest openings of each clip, labelled; a PNG."""
    import cv2
    from PIL import Image

    rows = [r.sheet for r in results if r.sheet is not None]
    grid = np.concatenate(rows, 0)
    head = np.full((24, grid.shape[1], 3), 255, np.uint8)
    for k, name in enumerate(["real", *methods]):
        cv2.putText(head, name, (k * SHEET_PX + 4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    from likeness.files import atomic_path

    with atomic_path(out) as tmp:
        Image.fromarray(np.concatenate([head, grid], 0)).save(tmp, format="PNG")
    return out


def summarise(results: list[ClipResult]) -> dict[str, dict[str, float]]:
    """Mean of each metric over clips, per method."""
    methods = results[0].metrics.keys()
    def mean(v: list[float]) -> float:
        ok = np.isfinite(v)
        return float(np.mean(np.asarray(v)[ok])) if ok.any() else float("nan")

    return {m: {k: mean([r.metrics[m][k] for r in results]) for k in results[0].metrics[m]} for m in methods}


def run_reenact(cfg: ReenactConfig, out: Path, progress: Progress | None = None,
                tracking_uri: str | None = None) -> dict:
    """Reenact every clip, write metrics.json, table.md and contact_sheet.png into `out`, log an MLflow run."""
    import json

    from likeness.errors import UserError
    from likeness.files import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    results, errors = [], []
    for k, path in enumerate(cfg.videos):
        if progress:
            progress(path.stem, k, len(cfg.videos))
        try:
            results.append(reenact_clip(track(path, cfg.size, cfg.max_seconds), cfg.renderers))
        except UserError as e:
            errors.append({"video": path.name, "error": str(e)})
    if not results:
        raise UserError("no clip could be reenacted: " + "; ".join(e["error"] for e in errors))
    methods = [STILL, *cfg.renderers]
    summary = summarise(results)
    report: dict = {"config": {"renderers": list(cfg.renderers), "size": cfg.size, "max_seconds": cfg.max_seconds},
              "mean": summary, "clips": {r.name: r.metrics | {"frames": r.frames} for r in results}, "errors": errors}
    with atomic_path(out / "metrics.json") as tmp:
        Path(tmp).write_text(json.dumps(report, indent=2))
    with atomic_path(out / "table.md") as tmp:
        Path(tmp).write_text(table(results, methods))
    sheet = contact_sheet(results, methods, out / "contact_sheet.png")
    from likeness.tracking import start_mlflow

    mlflow = start_mlflow(tracking_uri, "likeness-reenact")
    with mlflow.start_run() as run:
        mlflow.log_params({**report["config"], "clips": len(results)})
        mlflow.log_metrics({f"{m}.{k}": v for m, row in summary.items() for k, v in row.items() if np.isfinite(v)})
        mlflow.log_artifact(str(sheet))
        mlflow.log_artifact(str(out / "metrics.json"))
        report["mlflow_run"] = run.info.run_id
    if progress:
        progress("done", len(cfg.videos), len(cfg.videos))
    return report


COLUMNS = (("mouth_ssim", "mouth SSIM", "{:.3f}"), ("mouth_l1", "mouth L1", "{:.4f}"),
           ("mouth_psnr", "mouth PSNR", "{:.2f}"),
           ("mouth_sharpness_ratio", "mouth sharpness", "{:.2f}"), ("lip_opening_r", "lip opening r", "{:.3f}"),
           ("face_ssim", "face SSIM", "{:.3f}"),
           ("face_psnr", "face PSNR", "{:.2f}"), ("face_l1", "face L1", "{:.4f}"),
           ("identity", "dlib identity", "{:.3f}"),
           ("face_found", "dlib face found", "{:.2f}"))


def table(results: list[ClipResult], methods: list[str]) -> str:
    """Markdown: the mean over clips per method, then mouth SSIM / L1 per clip."""
    summary = summarise(results)
    lines = ["| method | " + " | ".join(c[1] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for m in ["real", *methods]:
        cells = (c[2].format(summary[m][c[0]]) if np.isfinite(summary[m].get(c[0], np.nan)) else "-" for c in COLUMNS)
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "Per clip, mouth SSIM / mouth L1:", "",
              "| clip | frames | " + " | ".join(methods) + " |", "|---|---" + "|---" * len(methods) + "|"]
    for r in results:
        lines.append(f"| {r.name} | {r.frames} | " + " | ".join(
            f"{r.metrics[m]['mouth_ssim']:.3f} / {r.metrics[m]['mouth_l1']:.4f}" for m in methods) + " |")
    return "\n".join(lines) + "\n"
