"""Plots of an evaluation run (PNG): ROC curves, robustness curves, trade-off scatter, realism bars."""
from __future__ import annotations

from pathlib import Path

import numpy as np

BAR_KEYS = ("identity_similarity", "lip_sync_peak", "landmark_jitter", "flicker", "sharpness", "head_speed_deg_s")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _plt().close(fig)
    return path


def make_plots(state, metrics: dict, folder: Path) -> dict[str, Path]:
    from sklearn.metrics import roc_curve

    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    base = {v.name for v in state.cfg.variants}
    detectors = list(metrics["detection"])

    fig, ax = plt.subplots(figsize=(4.5, 4))
    for det in detectors:
        for p in ("none", "resize0.5-crf28", "crf28"):
            rows = [r for r in state.scores if r["detector"] == det and r["perturbation"] == p
                    and (r["label"] == 0 or r["group"] in base)]
            y = np.array([r["label"] for r in rows])
            if len(set(y.tolist())) == 2:
                fpr, tpr, _ = roc_curve(y, [r["score"] for r in rows])
                auc = metrics["detection"][det].get(p, {}).get("video_auc", float("nan"))
                ax.plot(fpr, tpr, label=f"{det}, {p} (AUC {auc:.2f})", ls="-" if p == "none" else "--")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="Video-level ROC")
    ax.legend(fontsize=7)
    out["roc"] = _save(fig, folder / "roc.png")

    perts = state.cfg.perturbations
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(perts)), 3.8))
    x = np.arange(len(perts))
    for det in detectors:
        ax.plot(x, [metrics["detection"][det].get(p, {}).get("video_auc", np.nan) for p in perts], "o-", label=f"{det}: video AUC")
    ax.plot(x, [metrics["watermark"].get(p, {}).get("detection_rate", np.nan) for p in perts], "s--", label="watermark detection rate")
    ax.plot(x, [metrics["c2pa"].get(p, {}).get("valid", np.nan) for p in perts], "^:", label="C2PA manifest valid")
    ax.set_xticks(x, perts, rotation=35, ha="right", fontsize=8)
    ax.set(ylim=(-0.05, 1.05), title="Robustness across the perturbation matrix")
    ax.legend(fontsize=7)
    out["robustness"] = _save(fig, folder / "robustness.png")

    trade = metrics["tradeoff"]
    if trade:
        fig, ax = plt.subplots(figsize=(4.5, 4))
        for g, m in trade.items():
            ax.scatter(m.get("detector_auc", np.nan), m.get("lip_sync_peak", np.nan), s=40)
            ax.annotate(g, (m.get("detector_auc", np.nan), m.get("lip_sync_peak", np.nan)), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        real = metrics["realism"].get("real", {}).get("lip_sync_peak")
        if real is not None:
            ax.axhline(real, color="grey", ls=":", label="real footage")
            ax.legend(fontsize=7)
        ax.set(xlabel=f"detectability ({detectors[0] if detectors else ''} video AUC, clean)",
               ylabel="realism (lip sync peak correlation)", title="Realism vs detectability")
        out["tradeoff"] = _save(fig, folder / "tradeoff.png")

    groups = list(metrics["realism"])
    fig, axes = plt.subplots(1, len(BAR_KEYS), figsize=(2.2 * len(BAR_KEYS), 3))
    for ax, k in zip(axes, BAR_KEYS):
        vals = [metrics["realism"][g].get(k, np.nan) for g in groups]
        ax.bar(range(len(groups)), vals, color=["#6a6" if g == "real" else "#68b" for g in groups])
        ax.set_xticks(range(len(groups)), groups, rotation=45, ha="right", fontsize=7)
        ax.set_title(k.replace("_", " "), fontsize=8)
    out["realism"] = _save(fig, folder / "realism.png")
    return out
