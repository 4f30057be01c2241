"""`likeness eval run`: render an evaluation set, measure realism and detectability, log it all to MLflow.

Steps: render fakes for every generator setting (watermarked and signed, exactly as the CLI makes them);
cut real videos into segments of the same length; judge realism of both with independent networks; push
both through the perturbation matrix and score them with every detector, the watermark detector and the
C2PA reader; write metrics.json, plots and report.html into the output folder and the MLflow run.
A failing input or detector is recorded in `errors` and the evaluation goes on.
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.files import atomic_path

from .suite import SuiteConfig, Variant

Progress = Callable[[str, int, int], None]


@dataclass
class Item:
    """One evaluated video: a fake (variant, portrait) or a real segment."""
    path: Path
    label: int                      # 1 fake, 0 real
    group: str                      # variant name, or "real"
    reference: Path | None = None   # the portrait a fake should look like
    realism: dict | None = None
    windows: np.ndarray | None = None
    payload: str | None = None      # watermark payload of the clean fake


@dataclass
class EvalState:
    cfg: SuiteConfig
    out: Path
    items: list[Item] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)   # per (item, perturbation, detector)
    marks: list[dict] = field(default_factory=list)    # per (item, perturbation): watermark + manifest

    def error(self, stage: str, item: str, e: Exception) -> None:
        msg = str(e) if isinstance(e, UserError) else f"{type(e).__name__}: {e}"
        self.errors.append({"stage": stage, "item": item, "error": msg})


def _render(state: EvalState, variants: list[Variant], pairs: list[tuple[Path, Path]], progress: Progress | None) -> None:
    from generator.motion.controls import Controls
    from generator.pipeline import GenerateConfig, generate

    from .clips import trim_audio

    cfg, folder = state.cfg, state.out / "videos"
    jobs = [(v, p, s) for v in variants for p, s in pairs]
    for i, (v, portrait, speech) in enumerate(jobs):
        name = f"{v.name}__{portrait.stem}__{speech.stem}"
        try:
            audio = folder / f"{speech.stem}_{cfg.seconds:g}s.wav"
            if not audio.is_file():  # each speech clip is cut once, whatever the number of variants
                trim_audio(speech, audio, cfg.seconds)
            out = folder / f"{name}.mp4"
            generate(GenerateConfig(portrait, audio, out, size=cfg.size, seed=cfg.seed, motion=v.motion,
                                    audio_scale=v.audio_scale, controls=Controls(pose_scale=v.pose_scale)))
            state.items.append(Item(out, 1, v.name, reference=portrait))
        except Exception as e:  # noqa: BLE001 - recorded, the evaluation goes on
            state.error("render", name, e)
        if progress:
            progress("rendering", i + 1, len(jobs))


def _reals(state: EvalState, progress: Progress | None) -> None:
    from .clips import cut_segments

    cfg = state.cfg
    for i, src in enumerate(cfg.real_videos):
        try:
            for seg in cut_segments(src, state.out / "videos", cfg.seconds, cfg.max_segments):
                state.items.append(Item(seg, 0, "real"))
        except Exception as e:  # noqa: BLE001
            state.error("real video", Path(src).name, e)
        if progress:
            progress("cutting real videos", i + 1, len(cfg.real_videos))


def _realism(state: EvalState, progress: Progress | None) -> None:
    from PIL import Image

    from .realism import measure_video

    for i, it in enumerate(state.items):
        try:
            ref = None if it.reference is None else np.asarray(Image.open(it.reference).convert("RGB"))
            r, it.windows = measure_video(it.path, ref)
            it.realism = r.to_dict()
        except Exception as e:  # noqa: BLE001
            state.error("realism", it.path.name, e)
        if progress:
            progress("judging realism", i + 1, len(state.items))


def _detect(state: EvalState, detectors: list, items: list[Item], perturbations: list[str],
            progress: Progress | None) -> None:
    """Every item under every perturbation: detector scores, watermark, manifest."""
    from provenance.detect import decode_correlations, iter_media_frames
    from provenance.keys import trust_anchors
    from provenance.manifest import read_manifest
    from provenance.spread import SpreadMark

    from .perturb import PERTURBATIONS, perturb_file

    trust, mark = trust_anchors(), SpreadMark()
    tmp = state.out / "perturbed"
    tmp.mkdir(exist_ok=True)
    jobs = [(it, p) for p in perturbations for it in items]
    for i, (it, p) in enumerate(jobs):
        key = {"item": it.path.name, "group": it.group, "label": it.label, "perturbation": p}
        dst = tmp / f"{p}__{it.path.name}"
        try:
            dst = perturb_file(it.path, p, dst, state.cfg.seconds)
        except Exception as e:  # noqa: BLE001
            state.error(f"perturb {p}", it.path.name, e)
            continue
        visual = PERTURBATIONS[p].visual
        for det in detectors if visual else []:
            try:
                s = det.score(dst)
                state.scores.append({**key, "detector": det.name, "score": s.video, "frames": s.frames})
            except Exception as e:  # noqa: BLE001
                state.error(f"detector {det.name} ({p})", it.path.name, e)
        try:
            m = read_manifest(dst, trust)
            row = {**key, "manifest": "stripped" if not m.present else "valid" if m.valid else "tampered"}
            if visual:
                corr = np.array([mark.correlations(f) for f in iter_media_frames(dst, 250)])  # what `verify` reads
                w = decode_correlations(corr, mark)
                if it.label and p == "none" and w.found:
                    it.payload = w.payload
                row.update(watermark_found=w.found, payload=w.payload, bit_accuracy=_bit_accuracy(corr, it.payload))
            state.marks.append(row)
        except Exception as e:  # noqa: BLE001
            state.error(f"provenance ({p})", it.path.name, e)
        dst.unlink(missing_ok=True)
        if progress:
            progress("perturbing and detecting", i + 1, len(jobs))


def _bit_accuracy(corr: np.ndarray, payload: str | None) -> float | None:
    """Share of per-frame watermark bits that agree with the payload embedded at generation (fakes only)."""
    from provenance.payload import Payload

    p = Payload.from_hex(payload) if payload else None
    if p is None or not len(corr):
        return None
    return float(((corr > 0) == p.bits().astype(bool)).mean())


def run_eval(cfg: SuiteConfig, out: Path, detector_specs: list[str] | tuple[str, ...] = (), tracking_uri: str | None = None,
             progress: Progress | None = None) -> dict:
    """Run the suite into `out` (metrics.json, report.html, plots/) and an MLflow run; returns the metrics."""
    from .detectors import build_detectors
    from .summary import summarise

    t0 = time.perf_counter()
    out = Path(out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    state = EvalState(cfg, out)
    detectors = build_detectors(list(detector_specs))
    base = {v.name for v in cfg.variants}
    _render(state, cfg.variants, cfg.pairs(), progress)
    _render(state, cfg.sweep, cfg.pairs()[: cfg.sweep_pairs], progress)
    _reals(state, progress)
    if not any(it.label == 0 for it in state.items) or not any(it.label == 1 for it in state.items):
        raise UserError("evaluation needs both generated and real videos; see the errors above: "
                        + "; ".join(f"{e['item']}: {e['error']}" for e in state.errors[:5]))
    _realism(state, progress)
    matrix_items = [it for it in state.items if it.label == 0 or it.group in base]
    _detect(state, detectors, matrix_items, cfg.perturbations, progress)
    # the sweep's extra settings: clean files and our detector only, for the trade-off plot
    _detect(state, detectors[:1], [it for it in state.items if it.label and it.group not in base], ["none"], progress)
    metrics = summarise(state, [d.name for d in detectors])
    metrics["run"] = {"suite": cfg.name, "seed": cfg.seed, "seconds_per_clip": cfg.seconds, "size": cfg.size,
                      "minutes": (time.perf_counter() - t0) / 60, "versions": _versions(),
                      "data": {"portraits": [p.name for p in cfg.portraits], "speech": [s.name for s in cfg.speech],
                               "real_videos": [r.name for r in cfg.real_videos]},
                      "variants": [v.__dict__ for v in cfg.variants + cfg.sweep]}
    _write(state, metrics, out, tracking_uri)
    return metrics


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("likeness", "torch", "timm", "mediapipe", "dlib-bin", "c2pa-python", "mlflow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    from detector.model import DEFAULT_CHECKPOINT as det
    from generator.motion.dit_motion import DEFAULT_CHECKPOINT as dit

    for name, p in (("detector_checkpoint", det), ("motion_checkpoint", dit)):
        if p.with_suffix(".json").is_file():
            out[name] = json.loads(p.with_suffix(".json").read_text()).get("mlflow_run", p.name)
    return out


def _write(state: EvalState, metrics: dict, out: Path, tracking_uri: str | None) -> None:
    from likeness.tracking import start_mlflow

    from .plots import make_plots
    from .report import write_report

    plots = make_plots(state, metrics, out / "plots")
    mlflow = start_mlflow(tracking_uri, "likeness-eval")
    with mlflow.start_run(run_name=f"eval-{state.cfg.name}") as run:
        metrics["run"]["mlflow_run"] = run.info.run_id
        metrics["run"]["tracking_uri"] = mlflow.get_tracking_uri()
        with atomic_path(out / "metrics.json") as tmp:
            tmp.write_text(json.dumps({**metrics, "errors": state.errors}, indent=2))
        write_report(metrics, state.errors, plots, out / "report.html")
        mlflow.log_params({"suite": state.cfg.name, "seed": state.cfg.seed, "seconds": state.cfg.seconds,
                           "size": state.cfg.size, "perturbations": ",".join(state.cfg.perturbations),
                           "variants": ",".join(v.name for v in state.cfg.variants + state.cfg.sweep),
                           "errors": len(state.errors)})
        mlflow.log_metrics(flatten(metrics))
        for p in [out / "metrics.json", out / "report.html", *plots.values()]:
            mlflow.log_artifact(str(p))


def flatten(d: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of the metrics (not the run description) as MLflow metric names a.b.c."""
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and k != "run":
            out.update(flatten(v, name + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[name] = float(v)
    return out
