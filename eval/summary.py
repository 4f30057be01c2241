"""Per-item measurements -> the metrics of an evaluation run (every value a finite number).

A metric that cannot be computed (e.g. an AUC when every video of one class failed) is left out and its
name listed under `undefined`, so a reader never mistakes a missing number for a measured one.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .motion import frechet_distance, standardise
from .roc import roc_metrics

REALISM_KEYS = ("identity_similarity", "identity_distance", "lip_sync_peak", "lip_sync_lag", "landmark_jitter",
                "flicker", "sharpness", "head_speed_deg_s", "head_range_deg", "face_fraction")


def _realism(state) -> dict:
    groups: dict[str, list] = defaultdict(list)
    for it in state.items:
        if it.realism is not None:
            groups[it.group].append(it)
    out = {g: {k: float(np.mean([it.realism[k] for it in items])) for k in REALISM_KEYS} | {"videos": len(items)}
           for g, items in groups.items()}
    real = [it.windows for it in groups.get("real", []) if it.windows is not None and len(it.windows)]
    if real:
        ref = np.concatenate(real)
        for g, items in groups.items():
            gen = [it.windows for it in items if it.windows is not None and len(it.windows)]
            if g != "real" and gen and len(ref) > 2:
                r, x = standardise(ref, np.concatenate(gen))
                out[g]["motion_fd"] = frechet_distance(r, x)
    return out


def _detection(state, detectors: list[str], base: set[str]) -> tuple[dict, dict]:
    """Per detector and perturbation (base variants vs real), and per variant on clean files (vs real)."""
    by_pert: dict[str, dict] = {}
    by_variant: dict[str, dict] = {}
    for det in detectors:
        rows = [r for r in state.scores if r["detector"] == det]
        by_pert[det] = {}
        for p in state.cfg.perturbations:
            sel = [r for r in rows if r["perturbation"] == p and (r["label"] == 0 or r["group"] in base)]
            if not sel:
                continue
            y, s = np.array([r["label"] for r in sel]), np.array([r["score"] for r in sel])
            m = {f"video_{k}": v for k, v in roc_metrics(y, s).items()}
            fy = [r["label"] for r in sel for _ in r["frames"]]
            if fy:
                m["frame_auc"] = roc_metrics(np.array(fy), np.array([f for r in sel for f in r["frames"]]))["auc"]
            m["mean_score_fake"] = float(s[y == 1].mean()) if (y == 1).any() else math.nan
            m["mean_score_real"] = float(s[y == 0].mean()) if (y == 0).any() else math.nan
            by_pert[det][p] = m
        clean = [r for r in rows if r["perturbation"] == "none"]
        reals = [r["score"] for r in clean if r["label"] == 0]
        for g in sorted({r["group"] for r in clean if r["label"] == 1}):
            fakes = [r["score"] for r in clean if r["group"] == g]
            y = np.r_[np.ones(len(fakes)), np.zeros(len(reals))]
            by_variant.setdefault(det, {})[g] = {"video_auc": roc_metrics(y, np.r_[fakes, reals])["auc"],
                                                 "mean_score": float(np.mean(fakes))}
    return {d: v for d, v in by_pert.items() if v}, by_variant  # a detector that failed everywhere: errors only


def _provenance(state) -> tuple[dict, dict]:
    wm, c2 = {}, {}
    for p in state.cfg.perturbations:
        rows = [r for r in state.marks if r["perturbation"] == p]
        fakes, reals = [r for r in rows if r["label"] == 1], [r for r in rows if r["label"] == 0]
        if fakes:
            c2[p] = {k: float(np.mean([r["manifest"] == k for r in fakes])) for k in ("valid", "stripped", "tampered")}
        fakes, reals = [r for r in fakes if "watermark_found" in r], [r for r in reals if "watermark_found" in r]
        if not fakes and not reals:
            continue
        acc = [r["bit_accuracy"] for r in fakes if r["bit_accuracy"] is not None]
        wm[p] = {"detection_rate": float(np.mean([r["watermark_found"] for r in fakes])) if fakes else math.nan,
                 "false_positive_rate": float(np.mean([r["watermark_found"] for r in reals])) if reals else math.nan,
                 "bit_accuracy": float(np.mean(acc)) if acc else math.nan}
    return wm, c2


def _finite(d: dict, prefix: str, undefined: list[str]) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = _finite(v, f"{prefix}{k}.", undefined)
        elif isinstance(v, (int, float)) and not math.isfinite(v):
            undefined.append(f"{prefix}{k}")
        else:
            out[k] = v
    return out


def summarise(state, detectors: list[str]) -> dict:
    base = {v.name for v in state.cfg.variants}
    realism = _realism(state)
    detection, by_variant = _detection(state, detectors, base)
    watermark, c2pa = _provenance(state)
    ours = by_variant.get(detectors[0], {}) if detectors else {}
    tradeoff = {g: {"lip_sync_peak": realism.get(g, {}).get("lip_sync_peak", math.nan),
                    "identity_similarity": realism.get(g, {}).get("identity_similarity", math.nan),
                    "motion_fd": realism.get(g, {}).get("motion_fd", math.nan),
                    "detector_auc": ours[g]["video_auc"]} for g in ours}
    undefined: list[str] = []
    metrics = _finite({"realism": realism, "detection": detection, "detection_by_variant": by_variant,
                       "watermark": watermark, "c2pa": c2pa, "tradeoff": tradeoff,
                       "counts": {"fakes": sum(it.label for it in state.items),
                                  "reals": sum(1 - it.label for it in state.items), "errors": len(state.errors)}},
                      "", undefined)
    metrics["undefined"] = undefined
    return metrics
