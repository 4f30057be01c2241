"""Fit the articulation model (`articulation.py`) on prepared clips; choose nothing on the held-out people.

Settings are scored by cross-validation over the training people only (folds of whole identities; each person's
clips averaged first, so one anchor with 137 clips counts once), and the held-out identities' figure is logged
beside it for the record. The score is the lip sync the benchmark judges: the inner-lip gap of the predicted
mouth against the tracked real one, best lag within ±3 frames.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.files import atomic_path
from likeness.metrics import best_lag_correlation
from likeness.shared_data import DEFAULT_SHARED, MOTION_HELD_OUT, people

from .articulation import DEFAULT_PATH, Articulation, fit, mouth_of
from .visemes import lip_gap
from .data import Clip, load_clips, speech_split


@dataclass
class ArticulationTrainConfig:
    data: Path = Path("data/motion")
    out: Path = DEFAULT_PATH
    context: int = 2           # frames of audio either side (±80 ms at 25 fps; the phones carry more)
    ridge: float = 1e4         # chosen by the cross-validation below over 1e3-1e5 and contexts 2-8
    max_gain: float = 2.0
    folds: int = 5
    seed: int = 0
    val_names: tuple[str, ...] = MOTION_HELD_OUT  # never fitted on; logged, not selected on
    shared: Path | None = DEFAULT_SHARED
    tracking_uri: str | None = None
    experiment: str = "likeness-articulation"


def sync(model: Articulation, clips: list[Clip], who: dict[str, str] | None = None) -> float:
    """Mean over people (clips of one person averaged first) of the predicted vs real lip-gap correlation."""
    per: dict[str, list[float]] = {}
    for c in clips:
        if len(c) >= 20:
            r = best_lag_correlation(lip_gap(model.predict(c.audio)), lip_gap(mouth_of(c)))
            per.setdefault((who or {}).get(c.name, c.name), []).append(r)
    return float(np.nanmean([np.nanmean(v) for v in per.values()])) if per else float("nan")


def cross_validate(clips: list[Clip], who: dict[str, str], cfg: ArticulationTrainConfig) -> float:
    """`sync` of models fitted without each fold of people, over the training people."""
    ids = sorted({who.get(c.name, c.name) for c in clips})
    np.random.default_rng(cfg.seed).shuffle(ids)
    scores = []
    for k in range(min(cfg.folds, len(ids))):
        held = set(ids[k:: cfg.folds])
        train = [c for c in clips if who.get(c.name, c.name) not in held]
        model = fit(train, cfg.context, cfg.ridge, cfg.max_gain)
        scores.append(sync(model, [c for c in clips if who.get(c.name, c.name) in held], who))
    return float(np.nanmean(scores))


def train_articulation(cfg: ArticulationTrainConfig, progress: Callable[[str], None] | None = None) -> dict:
    from likeness.tracking import start_mlflow

    t0 = time.perf_counter()
    clips = load_clips(cfg.data)
    index = json.loads((Path(cfg.data) / "index.json").read_text())
    tr, va = speech_split(clips, cfg.val_names, cfg.shared)
    who = people(cfg.shared) if cfg.shared is not None else {}
    mlflow = start_mlflow(cfg.tracking_uri, cfg.experiment)
    with mlflow.start_run() as run:
        mlflow.log_params({k: str(v) for k, v in asdict(cfg).items()} | {
            "data_sha256": index["data_sha256"], "train_clips": len(tr), "val_clips": len(va),
            "train_people": len({who.get(c.name, c.name) for c in tr})})
        if progress:
            progress("cross-validating over the training people")
        cv = cross_validate(tr, who, cfg)
        if progress:
            progress("fitting on every training clip")
        model = fit(tr, cfg.context, cfg.ridge, cfg.max_gain)
        held = sync(model, va, who) if va else float("nan")
        model.save(cfg.out)
        info = {"cv_sync": cv, "held_out_sync": held, "context": cfg.context, "ridge": cfg.ridge,
                "gain": model.gain.round(3).tolist(), "data_sha256": index["data_sha256"],
                "train_clips": [c.name for c in tr], "val_clips": [c.name for c in va],
                "seconds": time.perf_counter() - t0, "mlflow_run": run.info.run_id}
        with atomic_path(Path(cfg.out).with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps(info, indent=1) + "\n")
        mlflow.log_metrics({"cv_sync": cv, "held_out_sync": held})
        mlflow.log_artifact(str(cfg.out))
    return info
