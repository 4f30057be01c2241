"""How the settings of the warp-consistency cue (`detector.temporal`) separate real from generated faces.

    python benchmarks/bench_temporal.py [--data ../shared/data] [--detector-data data/detector]

Needs the fakes from `make train-detector` (data/detector). Videos of the detector's training identities
(where the shipped settings are chosen) and of its held-out ones are measured apart: real footage (the first
two 3-s segments of each training video; every 5-s segment of a held-out one), and the generated fakes. Each video, as it is and after a 0.5x
resize and H.264 CRF 28, is sampled at 4 frames per second and its largest face cropped by the scanner (`Scanner.sample`).
Each crop pair DT apart is aligned by optical flow once, and its texture correlation is measured at each
high-pass SIGMA. The cue alone (the median over pairs; left out for a face that does not move, by its
motion over 1 s) is scored by video AUC, real against generated, over the videos where it is measured.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import bench_parser, detector_videos, machine, write_section  # noqa: E402
from detector import temporal  # noqa: E402
from detector.scan import SampledFaces, ScanConfig, Scanner  # noqa: E402
from eval.perturb import perturb_file  # noqa: E402
from eval.roc import roc_metrics  # noqa: E402

DTS = (0.5, 1.0, 2.0)
SIGMAS = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 20.0)


def measure(faces: SampledFaces) -> dict:
    """Per (DT, SIGMA): the cue of a video's sampled faces (NaN: not measured), from one alignment per crop pair."""
    crops, times = faces.largest_faces()
    corr: dict = {}
    motion: dict = {}
    for dt in DTS:
        for _, grey, warped, m in temporal.aligned_pairs(crops, times, dt):
            motion.setdefault(dt, []).append(m)
            for s in SIGMAS:
                corr.setdefault((dt, s), []).append(temporal.texture_correlation(grey, warped, s))
    still = temporal.is_still(temporal.face_motion(np.array(motion.get(temporal.DT, []))))
    return {k: float("nan") if still or k not in corr else float(np.median(corr[k])) for k in
            [(dt, s) for dt in DTS for s in SIGMAS]}


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--detector-data", type=Path, default=Path("data/detector"))
    ap.add_argument("--rate", type=float, default=4.0)
    a = ap.parse_args()
    index_path = a.detector_data / "index.json"
    if not index_path.is_file():
        sys.exit(f"{index_path} not found: run `make train-detector` first (it renders the fakes)")
    index = json.loads(index_path.read_text())
    scanner = Scanner(ScanConfig(rate=a.rate, provenance=False))  # only its sampling is used
    rows = []  # (split, condition, label, {(dt, sigma): cue})
    with tempfile.TemporaryDirectory() as tmp:
        videos = detector_videos(a.data, index, Path(tmp), ("training", "held-out"))
        for i, v in enumerate(videos):
            for cond in ("clean", "degraded"):
                src = v.path if cond == "clean" else perturb_file(v.path, "resize0.5-crf28", Path(tmp) / f"degraded_{i}.mp4")
                rows.append((v.split, cond, v.label, measure(scanner.sample(src))))
            print(f"{i + 1}/{len(videos)} {v.path.name}", flush=True)

    columns = [(split, cond) for split in ("training", "held-out") for cond in ("clean", "degraded")]

    def auc(dt: float, s: float, split: str, cond: str) -> float:
        sel = [(r[2], r[3][dt, s]) for r in rows if r[:2] == (split, cond) and np.isfinite(r[3][dt, s])]
        return roc_metrics(np.array([y for y, _ in sel]), np.array([c for _, c in sel]))["auc"]

    table = {(dt, s): [auc(dt, s, *c) for c in columns] for dt in DTS for s in SIGMAS}
    best = max(table, key=lambda k: sum(table[k][:2]))
    count = {c: (sum(r[:3] == (*c, 0) for r in rows), sum(r[:3] == (*c, 1) for r in rows)) for c in columns}
    lines = [
        "## Warp consistency: its settings (issue #5)",
        "",
        f"Command: `python benchmarks/bench_temporal.py` (via `make bench`, after `make train-detector`). Machine: {machine()}.",
        "The cue alone (no frame classifier), video AUC real against generated, as DT (seconds between the two "
        "crops of a pair) and SIGMA (the high-pass's Gaussian, px in the 128 px crop) vary. Settings are chosen "
        "on the training identities; the held-out columns are the check. Degraded = 0.5x resize, then H.264 CRF 28. "
        f"Shipped: DT {temporal.DT:g}, SIGMA {temporal.SIGMA:g} (in bold). Videos (real/generated): "
        + ", ".join(f"{split} {cond} {n[0]}/{n[1]}" for (split, cond), n in count.items() if cond == "clean") + ".",
        "",
        "| DT s | SIGMA px | training, clean | training, degraded | held-out, clean | held-out, degraded |",
        "|---|---|---|---|---|---|",
    ]
    for (dt, s), v in table.items():
        mark = "**" if (dt, s) == (temporal.DT, temporal.SIGMA) else ""
        lines.append(f"| {mark}{dt:g}{mark} | {mark}{s:g}{mark} | " + " | ".join(f"{x:.3f}" for x in v) + " |")
    lines += ["", f"Best on the training identities (clean + degraded): DT {best[0]:g}, SIGMA {best[1]:g} "
              f"({table[best][0]:.3f} / {table[best][1]:.3f}; held out {table[best][2]:.3f} / {table[best][3]:.3f}). "
              "Two runs of the same code have differed by up to 0.005 in a cell: read smaller differences as noise."]
    write_section("temporal", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
