"""Leave-family-out: how the detector meets a generator family it never trained on.

For each fold of related generator families (`detector.sources.FOLDS`), a detector is trained without that
fold's fakes and scored on them against the real videos of people held out of training (the data's test
identities), exactly as the scanner pools a video: the mean frame logit, with the face's warp consistency where
it is measured, through the calibration fitted on validation videos. The shipped model trains on every fold; the
mean over folds is what to expect from a family nobody has seen.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.metrics import auc, tpr_at_fpr

from .train import WITH_EXCESS, Crops, TrainConfig, crops_of, recalibrate, scanner_p, train, video_cues, video_scores


def all_crops(data: Path) -> tuple[Crops, np.ndarray]:
    """Every crop of the data as the scanner would see it (real crops without the watermark), and which belong to
    the held-out (test) identities."""
    return crops_of(np.load(Path(data) / "crops.npz"))


def score_videos(detector, c: Crops) -> dict[str, np.ndarray]:
    """Per video of `c`: label, source, fold, P(fake) by the default scanner (the mouth network and the warp
    consistency), with the consistency's excess over real footage instead (an ablation), by each of the two alone,
    and by the face network's frames alone."""
    logits = detector.logits(c.x)
    vids, y, s = video_scores(c, logits)
    cues = video_cues(detector, c)
    first = np.array([np.flatnonzero(c.video == v)[0] for v in vids])
    return {"video": vids, "label": y, "source": c.source[first], "fold": c.fold[first],
            "p": scanner_p(detector, s, cues), "p_excess": scanner_p(detector, s, cues, WITH_EXCESS),
            "p_temporal": scanner_p(detector, s, cues, ("temporal",)), "p_mouth": scanner_p(detector, s, cues, ("mouth",)),
            "p_frames": scanner_p(detector, s)}


def fold_rows(scores: dict[str, np.ndarray], fold: str, threshold: float, fpr: float = 0.05) -> list[dict]:
    """One row per family of `fold` and one for the whole fold: video AUC against the held-out real videos (default,
    the consistency's excess, the mouth network or the warp consistency alone, the face network alone), TPR at `fpr`, fakes caught and real videos called fake at the detector's threshold."""
    real = scores["label"] == 0
    rows = []
    fake = scores["label"] == 1
    families = sorted(set(scores["source"][scores["fold"] == fold].tolist()))
    # a family and a real source can share a prefix (DreamTalk's fakes and the MEAD clips from its repository)
    for name, m in [(f, fake & (scores["source"] == f)) for f in families] + [(f"fold {fold}", scores["fold"] == fold)]:
        sel = real | m
        y, p = scores["label"][sel], scores["p"][sel]
        rows.append({"fold": fold, "family": name, "fakes": int(m.sum()), "real": int(real.sum()),
                     "auc": auc(y, p), "auc_excess": auc(y, scores["p_excess"][sel]), "auc_frames": auc(y, scores["p_frames"][sel]),
                     "auc_mouth": auc(y, scores["p_mouth"][sel]), "auc_temporal": auc(y, scores["p_temporal"][sel]),
                     "tpr_at_fpr": tpr_at_fpr(y, p, fpr),
                     "caught": int((p[y == 1] >= threshold).sum()), "real_called_fake": int((p[y == 0] >= threshold).sum())})
    return rows


def leave_family_out(base: TrainConfig, folds: list[str], out_dir: Path,
                     progress: Callable[[str, dict], None] | None = None, reuse: bool = False) -> list[dict]:
    """Train one detector per fold without it (`base`'s recipe, no `--reference` calibration) and score the fold.
    With `reuse`, a fold's checkpoint already in `out_dir` from the same crops, steps and seed keeps its face network
    (and its mouth network if trained for as many steps) and is only calibrated again (`detector.train.recalibrate`)."""
    import json

    from .model import Detector

    c, test = all_crops(base.data)
    sha = json.loads((Path(base.data) / "index.json").read_text()).get("crops_sha256")
    rows = []
    for fold in folds:
        cfg = replace(base, hold_out=(fold,), out=Path(out_dir) / f"hold_out_{fold}.pt", reference=False)
        meta = cfg.out.with_suffix(".json")
        old = json.loads(meta.read_text()) if reuse and meta.is_file() and cfg.out.is_file() else {}
        same = sha is not None and old.get("crops_sha256") == sha and old.get("steps") == cfg.steps and old.get("hold_out") == [fold] \
            and old.get("config", {}).get("seed") == str(cfg.seed)
        info = recalibrate(cfg, cfg.out, mouth=old.get("mouth_steps") != cfg.mouth_steps) if same else train(cfg)
        detector = Detector.load(cfg.out)
        sel = (test & (c.label == 0)) | (c.fold == fold)
        fold_scores = score_videos(detector, c.take(sel))
        new = fold_rows(fold_scores, fold, detector.threshold, base.fpr)
        for r in new:
            r["train_minutes"] = info["train_minutes"]
        rows += new
        if progress:
            progress(fold, new[-1])
    return rows
