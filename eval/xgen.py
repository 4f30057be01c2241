"""The cross-generator suite (`likeness eval run --suite xgen`): any detector on labelled folders a user gives.

Real videos in one folder (or more), fakes in others; a fake's family is its subfolder or its file-name prefix
(`detector.sources`). Each detector scores every video; the report gives, per family, the video AUC against all
the real videos and the TPR at 5% FPR, and per real source (file-name prefix) the share called fake at the
detector's own threshold where it has one: the protocol of `benchmarks/bench_detector.py` on a researcher's data.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.files import atomic_path

FPR = 0.05


def xgen_videos(real: list[Path], fakes: list[Path]):
    """detector.sources.Video for every video under the real and fake folders (files are taken as they are)."""
    from detector.sources import Video, fake_videos, fold_of, prefix, real_videos

    out = []
    for group, label in ((real, 0), (fakes, 1)):
        for p in map(Path, group):
            if p.is_dir():
                out += real_videos(p) if label == 0 else fake_videos(p)
            elif p.is_file():
                out.append(Video(p, label, p.stem, prefix(p), "real" if label == 0 else fold_of(prefix(p))))
            else:
                raise UserError(f"not found: {p}")
    if not any(v.label == 0 for v in out) or not any(v.label == 1 for v in out):
        raise UserError("the xgen suite needs real videos (--real) and fakes (--fakes)")
    return out


def run_xgen(real: list[Path], fakes: list[Path], out: Path, detectors: list, tracking_uri: str | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Score every video with every detector; write metrics.json and table.md into `out`, log to MLflow."""
    from likeness.metrics import tpr_at_fpr
    from likeness.tracking import start_mlflow

    from .roc import roc_metrics

    videos = xgen_videos(real, fakes)
    mlflow = start_mlflow(tracking_uri, "likeness-eval")
    t0 = time.perf_counter()
    scores: dict[str, list[float]] = {d.name: [] for d in detectors}
    errors = []
    for i, v in enumerate(videos):
        if progress:
            progress("scoring", i, len(videos))
        for d in detectors:
            try:
                scores[d.name].append(float(d.score(v.path).video))
            except UserError as e:
                scores[d.name].append(float("nan"))
                errors.append({"video": v.path.name, "detector": d.name, "error": str(e)})
    y = np.array([v.label for v in videos])
    source = np.array([v.source for v in videos])
    metrics: dict = {"videos": {"real": int((y == 0).sum()), "fake": int(y.sum())}, "detectors": {}, "errors": errors}
    lines = ["| detector | family | fakes | video AUC | TPR @ 5% FPR |", "|---|---|---|---|---|"]
    for d in detectors:
        s = np.array(scores[d.name])
        ok = np.isfinite(s)
        rows = {}
        for fam in sorted(set(source[y == 1].tolist())) + ["all"]:
            m = ok & ((y == 0) | ((source == fam) if fam != "all" else (y == 1)))
            r = roc_metrics(y[m], s[m])
            tpr = tpr_at_fpr(y[m], s[m], FPR)
            rows[fam] = {"fakes": int((m & (y == 1)).sum()), "auc": r["auc"], "tpr_at_5fpr": tpr}
            lines.append(f"| {d.name} | {fam} | {rows[fam]['fakes']} | {r['auc']:.3f} | {tpr:.2f} |")
        threshold = getattr(d, "threshold", None)
        fp = {src: float((s[ok & (y == 0) & (source == src)] >= threshold).mean())
              for src in sorted(set(source[y == 0].tolist()))} if threshold is not None else {}
        metrics["detectors"][d.name] = {"families": rows, "threshold": threshold, "false_positive_rate_by_source": fp,
                                        "scores": {v.path.name: x for v, x in zip(videos, s.tolist())}}
    metrics["minutes"] = (time.perf_counter() - t0) / 60
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, allow_nan=True))
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    with mlflow.start_run(run_name="xgen") as run:
        mlflow.log_params({"suite": "xgen", "real_videos": metrics["videos"]["real"], "fake_videos": metrics["videos"]["fake"]})
        for name, d in metrics["detectors"].items():
            for fam, r in d["families"].items():
                if np.isfinite(r["auc"]):
                    mlflow.log_metric(f"{name}.{fam}.video_auc", r["auc"])
        mlflow.log_artifact(str(out / "metrics.json"))
        metrics["mlflow_run"] = run.info.run_id
    return metrics
