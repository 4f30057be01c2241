"""Scan videos: sample frames, find faces, score them, pool into a video verdict with a per-second timeline.

The provenance check (`provenance.verify`) runs alongside, so a reviewer sees both what the classifier
thinks and whether the file carries a Likeness watermark or a signed manifest.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from likeness.errors import UserError

SCHEMA_VERSION = 7  # 2: reference_logit; 3: temporal_consistency; 4: face_motion, temporal cue on by default;
                    # 5: most_suspicious (the face that scored highest), threshold set for a false-positive rate;
                    # 6: mouth_logit (the mouth network's mean logit, detector.mouth), part of the verdict;
                    # 7: mouth_logit pooled over the least suspicious quarter of frames (detector.mouth.pool)


@dataclass
class ScanConfig:
    rate: float = 2.0                 # frames sampled per second of video
    max_seconds: float | None = None  # scan only the start of long videos
    provenance: bool = True           # also run `likeness verify`'s checks
    temporal: bool = True             # also weigh the face's warp consistency over time (detector.temporal;
                                      # off: the mouth network alone; see benchmarks/RESULTS.md)
    reference: bool = False           # score relative to a rendering of the same face (detector.reference;
                                      # experimental: see benchmarks/RESULTS.md)
    checkpoint: Path | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and 0 < self.rate <= 30):
            raise UserError(f"rate must be between 0 and 30 frames per second, got {self.rate}")
        if self.max_seconds is not None and not (math.isfinite(self.max_seconds) and self.max_seconds > 0):
            raise UserError(f"max-seconds must be a positive number of seconds, got {self.max_seconds}")


@dataclass
class ScanResult:
    file: str
    status: str                        # "ok", "no_face", "skipped" (not a video) or "error"
    verdict: str                       # "fake", "real", "no_face", "skipped" or "error"
    probability_fake: float | None = None
    threshold: float | None = None
    frames_sampled: int = 0
    frames_with_face: int = 0
    face_tracks: int = 0
    timeline: list[dict] = field(default_factory=list)  # [{"second": s, "probability_fake": p}]
    frames: list[dict] = field(default_factory=list)    # [{"t": seconds, "faces": n, "probability_fake": p}]
    provenance: dict | None = None
    temporal_consistency: float | None = None  # warp consistency of the face over 1 s (detector.temporal; None: not
                                               # measured: switched off, too short, or a face that does not move)
    face_motion: float | None = None  # the face's own (non-rigid) motion over 1 s, px in its 128 px crop (None: not measured)
    mouth_logit: float | None = None      # the mouth network's logit pooled over the sampled faces (detector.mouth.pool;
                                          # None: the checkpoint has none)
    reference_logit: float | None = None  # the detector's logit on a rendering of this face (None: not used)
    most_suspicious: dict | None = None   # the frame that scored highest ({"t", "faces", "probability_fake"}) and its
                                          # most suspicious face crop ("jpeg": base64): what a reviewer checks the verdict on
    error: str | None = None
    seconds_scanned: float = 0.0
    scan_time_s: float = 0.0

    def to_dict(self) -> dict:
        return {"schema": SCHEMA_VERSION, **asdict(self)}


#: Columns of a scan as CSV (`results_csv`): one row per file, the nested parts left to the JSON.
CSV_COLUMNS = ("file", "status", "verdict", "probability_fake", "threshold", "mouth_logit", "temporal_consistency", "face_motion",
               "face_tracks", "frames_with_face", "frames_sampled", "seconds_scanned", "provenance", "watermark_found",
               "manifest_valid", "error")


def _cell(v):
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or tab, CR) is prefixed with ' (OWASP)."""
    return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def results_csv(results: Iterable[dict]) -> str:
    """Scan results (`ScanResult.to_dict()`) as CSV text, one row per file."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in results:
        prov = r.get("provenance") or {}
        row = {**r, "provenance": prov.get("verdict"), "watermark_found": prov.get("watermark_found"),
               "manifest_valid": prov.get("manifest_valid")}
        w.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()


@dataclass
class SampledFaces:
    """What `Scanner.sample` found in a video: the sampled frames' face crops and the first frame with a face."""
    frames: list                        # detector.faces.SampledFrame per sampled frame
    first_face: np.ndarray | None       # RGB

    def largest_faces(self) -> tuple[np.ndarray, np.ndarray]:
        """The largest face's crop in each frame with a face (RGB uint8), and those frames' times: what the warp
        consistency (detector.temporal) is measured on."""
        with_face = [f for f in self.frames if f.crops]
        if not with_face:
            return np.zeros((0, 0, 0, 3), np.uint8), np.zeros(0)
        return np.stack([f.crops[0] for f in with_face]), np.array([f.t for f in with_face])


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given and every file under the folders given (what each one is, `scan_file` judges by its
    content), each once; a name that does not exist, or is not a regular file (a FIFO, a device), is an error."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif not p.exists():
            raise UserError(f"not found: {p}")
        elif not p.is_file():
            raise UserError(f"not a regular file (a pipe or device cannot be scanned): {p}")
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def not_a_video(path: Path) -> str | None:
    """Why `path` is not scanned (a still image, audio, not media at all), judged by its first bytes; None for a
    video or a file whose type is unknown (the decoder then decides)."""
    from likeness.sniff import looks_like_text, sniff_file

    try:
        typed = sniff_file(path)
    except OSError as e:
        return f"unreadable: {e.strerror or e}"
    if typed and typed[0] == "image":
        return f"not a video: a still {typed[1].upper()} image (the detector is calibrated on videos only)"
    if typed and typed[0] == "audio":
        return f"not a video: {typed[1].upper()} audio"
    if typed is None and looks_like_text(path):
        return "not a video: a text file"
    return None


class Scanner:
    def __init__(self, cfg: ScanConfig = ScanConfig()):
        from .faces import FaceCropper
        from .model import Detector

        self.cfg = cfg
        self.detector = Detector.load(cfg.checkpoint)
        self._cropper = FaceCropper  # a fresh tracker per video

    def scan_file(self, path: Path) -> ScanResult:
        t0 = time.perf_counter()
        reason = not_a_video(Path(path))
        if reason:
            return ScanResult(str(path), "skipped", "skipped", error=reason)
        try:
            faces = self.sample(path)
        except UserError as e:
            return ScanResult(str(path), "error", "error", error=str(e), scan_time_s=time.perf_counter() - t0)
        return self.score(path, faces, t0)

    def sample(self, path: Path) -> SampledFaces:
        """Decode the sampled frames of `path` and find its faces (a fresh face tracker per video)."""
        from .faces import sample_frames

        cropper, out = self._cropper(max_faces=4), SampledFaces([], None)
        for t, rgb in sample_frames(Path(path), self.cfg.rate, self.cfg.max_seconds):
            out.frames.append(cropper(rgb, t))
            if out.first_face is None and out.frames[-1].crops:
                out.first_face = rgb
        return out

    def score(self, path: Path, faces: SampledFaces, t0: float | None = None) -> ScanResult:
        """The verdict on `faces` (from `sample`; one sampling can be scored by scanners with different settings)."""
        from . import temporal
        from .faces import count_tracks
        from .mouth import pool

        t0 = time.perf_counter() if t0 is None else t0
        path, frames, first_face = Path(path), faces.frames, faces.first_face
        res = ScanResult(str(path), "ok", "real", threshold=self.detector.threshold, frames_sampled=len(frames),
                         seconds_scanned=frames[-1].t if frames else 0.0)
        with_face = [f for f in frames if f.crops]
        res.frames_with_face, res.face_tracks = len(with_face), count_tracks(frames)
        if self.cfg.provenance:
            res.provenance = provenance_summary(path)
        if not with_face:
            res.status, res.verdict = "no_face", "no_face"
        else:
            crops = np.stack([c for f in with_face for c in f.crops])
            logits = self.detector.logits(crops)
            mouth = self.detector.mouth_logits(crops, np.stack([lm for f in with_face for lm in f.landmarks]))
            owner = np.repeat(np.arange(len(with_face)), [len(f.crops) for f in with_face])
            per_frame = np.array([logits[owner == i].max() for i in range(len(with_face))])  # most suspicious face
            per_frame_mouth = np.array([mouth[owner == i].max() for i in range(len(with_face))])
            local, motion = self._temporal(faces)  # per frame with a face: the pair it starts (NaN: none)
            video_cue, res.face_motion = temporal.summary(local, motion), _finite(temporal.face_motion(motion))
            res.temporal_consistency = _finite(video_cue)
            res.mouth_logit = _finite(pool(per_frame_mouth))
            res.reference_logit = self._reference(first_face)
            cues = {"mouth": res.mouth_logit, "temporal": res.temporal_consistency, "reference": res.reference_logit}
            res.probability_fake = float(self.detector.calibrated(per_frame.mean(), cues))
            res.verdict = "fake" if res.probability_fake >= self.detector.threshold else "real"

            def score(m: np.ndarray) -> float:  # frames `m`, with their own stretch's cues where measured
                near = temporal.summary(local[m], motion[m])
                here = {**cues, "mouth": _finite(pool(per_frame_mouth[m]))}
                return float(self.detector.calibrated(per_frame[m].mean(), here if np.isnan(near) else {**here, "temporal": near}))

            res.frames = [{"t": round(f.t, 3), "faces": len(f.crops), "probability_fake": score(np.arange(len(with_face)) == i)}
                          for i, f in enumerate(with_face)]
            top = int(np.argmax([f["probability_fake"] for f in res.frames]))  # the frame, then its most suspicious face
            face = int(np.argmax(logits[owner == top]))
            res.most_suspicious = {**res.frames[top], "jpeg": jpeg_base64(with_face[top].crops[face])}
            seconds = np.array([int(f.t) for f in with_face])
            res.timeline = [{"second": int(s), "probability_fake": score(seconds == s)} for s in np.unique(seconds)]
        res.scan_time_s = time.perf_counter() - t0
        return res

    def _temporal(self, faces: SampledFaces) -> tuple[np.ndarray, np.ndarray]:
        """Per frame with a face, the warp consistency of the largest face between it and the frame 1 s later, and
        the face's motion between them; all NaN when switched off or unused by the checkpoint, NaN where there is
        no frame 1 s later."""
        from .temporal import consistencies

        crops, times = faces.largest_faces()
        if not self.cfg.temporal or not self.detector.has_cue("temporal"):
            return np.full(len(crops), np.nan), np.full(len(crops), np.nan)
        return consistencies(crops, times)

    def _reference(self, rgb: np.ndarray) -> float | None:
        """The detector's logit on a rendering of the (largest) face in the video's first frame with one;
        None when the checkpoint has no reference calibration, it is switched off or no face can be rendered."""
        from .reference import reference_crops

        if not self.cfg.reference or not self.detector.has_cue("reference"):
            return None
        try:
            return float(self.detector.logits(reference_crops(rgb, self._cropper(max_faces=1))).mean())
        except UserError:
            return None


def jpeg_base64(rgb: np.ndarray, quality: int = 85) -> str:
    """A small RGB image as base64 JPEG text (for JSON and HTML)."""
    import base64

    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return base64.b64encode(buf.tobytes()).decode("ascii")


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def provenance_summary(path: Path) -> dict:
    """The parts of `likeness verify` a scan report shows; never fails the scan."""
    from provenance.keys import trust_anchors
    from provenance.verify import verify

    try:
        r = verify(path, trust_anchors())
    except UserError as e:
        return {"verdict": "error", "error": str(e)}
    return {"verdict": r.verdict, "summary": r.summary, "watermark_found": r.watermark.found,
            "watermark_payload": r.watermark.payload, "manifest_present": r.manifest.present,
            "manifest_valid": bool(r.manifest.present and r.manifest.valid)}


def scan(paths: Iterable[Path], cfg: ScanConfig = ScanConfig(), progress: Callable[[int, int], None] | None = None,
         ray_address: str | None = None) -> list[ScanResult]:
    """Scan files and folders; bad files are reported in their result and the batch goes on.

    With `ray_address` ("auto", "local" or a cluster address) the files are spread over Ray workers
    (`ray.data`); the results are the same as the local scan's, in the same order."""
    files = find_files(paths)
    if not files:
        raise UserError("no files to scan")
    if ray_address:
        return _scan_on_ray(files, cfg, ray_address, progress)
    scanner = Scanner(cfg)
    out = []
    for i, f in enumerate(files):
        out.append(scanner.scan_file(f))
        if progress:
            progress(i + 1, len(files))
    return out


class _RayScanner:
    """A ray.data worker: one Scanner (model and face tracker loaded once), one file per call."""

    def __init__(self, cfg: dict):
        self.scanner = Scanner(ScanConfig(**{**cfg, "checkpoint": Path(cfg["checkpoint"]) if cfg["checkpoint"] else None}))

    def __call__(self, batch: dict) -> dict:
        import json

        return {"index": batch["index"],
                "result": [json.dumps(self.scanner.scan_file(Path(p)).to_dict()) for p in batch["path"]]}


def _scan_on_ray(files: list[Path], cfg: ScanConfig, address: str, progress) -> list[ScanResult]:
    import json
    import logging

    import ray

    from .model import Detector

    Detector.load(cfg.checkpoint)  # fail fast, before any worker starts, if the checkpoint is bad
    logging.getLogger("ray").setLevel(logging.ERROR)
    started = not ray.is_initialized()
    if started:
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ds = ray.data.from_items([{"index": i, "path": str(f)} for i, f in enumerate(files)])
        cfg_dict = {**asdict(cfg), "checkpoint": str(cfg.checkpoint) if cfg.checkpoint else None}
        workers = max(1, min(len(files), int(ray.cluster_resources().get("CPU", 1))))
        rows = ds.map_batches(_RayScanner, fn_constructor_args=(cfg_dict,), batch_size=1, concurrency=workers,
                              batch_format="numpy").take_all()
    finally:
        if started:
            ray.shutdown()
    rows.sort(key=lambda r: int(r["index"]))
    if progress:
        progress(len(files), len(files))
    return [ScanResult(**{k: v for k, v in json.loads(str(r["result"])).items() if k != "schema"}) for r in rows]
