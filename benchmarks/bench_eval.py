"""The full evaluation suite, its headline tables written into RESULTS.md (issue #6).

    python benchmarks/bench_eval.py [--suite full] [--data ../shared/data] [--detector NAME=module:function ...]

Runs `likeness eval run --suite full` (report.html, metrics.json and plots in reports/eval-full, and an
MLflow run) and copies its main tables here; `make eval` also sets our frame classifier alone beside the
default scanner (`--detector likeness-frames=eval.detectors:LikenessFramesOnly`).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import bench_parser, machine, write_section  # noqa: E402
from eval.run import run_eval  # noqa: E402
from eval.suite import suite  # noqa: E402

REALISM = ("identity_similarity", "identity_distance", "lip_sync_peak", "lip_sync_lag", "landmark_jitter", "flicker",
           "sharpness", "head_speed_deg_s", "head_range_deg", "motion_fd")


def table(rows: dict[str, dict], cols: tuple[str, ...] | list[str], first: str) -> list[str]:
    out = [f"| {first} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for k, r in rows.items():
        out.append(f"| {k} | " + " | ".join(f"{r[c]:.3f}" if isinstance(r.get(c), float) else str(r.get(c, "-")) for c in cols) + " |")
    return out


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--suite", default="full")
    ap.add_argument("--detector", action="append", default=[], help="NAME=module:function, as `likeness eval run` takes")
    a = ap.parse_args()
    cfg = suite(a.suite, a.data)
    out = Path("reports") / f"eval-{a.suite}"
    m = run_eval(cfg, out, a.detector, progress=lambda s, i, n: print(f"\r{s} {i}/{n}   ", end="", file=sys.stderr, flush=True))
    run = m["run"]
    lines = [
        f"## Evaluation harness, suite `{a.suite}` (issue #6)", "",
        f"Command: `python benchmarks/bench_eval.py --suite {a.suite}{''.join(f' --detector {d}' for d in a.detector)}` "
        f"(same as `likeness eval run --suite {a.suite}` with the same detectors; "
        f"full report in `reports/eval-{a.suite}/report.html`). Machine: {machine()}. {run['minutes']:.1f} min.",
        f"{m['counts']['fakes']} generated videos ({', '.join(v['name'] for v in run['variants'])}) from "
        f"{len(run['data']['portraits'])} portraits the detector never saw in training, and {m['counts']['reals']} real "
        f"{run['seconds_per_clip']:g}-s segments of {len(run['data']['real_videos'])} held-out real videos; {run['size']} px; "
        f"seed {run['seed']}; {m['counts']['errors']} problems recorded.", "",
        "Realism, judged by dlib's networks (not ours); `real` is the reference:", "",
        *table(m["realism"], REALISM, "videos"), "",
    ]
    for det, rows in m["detection"].items():
        cols = ["video_auc", "video_eer", "video_tpr_at_1fpr", "frame_auc", "mean_score_fake", "mean_score_real"]
        lines += [f"Detectability, detector `{det}` (generated: the base variants; real: the segments):", "",
                  *table(rows, cols, "perturbation"), ""]
    lines += ["Watermark (generated files; false positives on the real segments) and C2PA manifest of the generated files:", "",
              *table({p: {**m["watermark"].get(p, {}), **{f"c2pa_{k}": v for k, v in m["c2pa"].get(p, {}).items()}}
                      for p in cfg.perturbations},
                     ["detection_rate", "bit_accuracy", "false_positive_rate", "c2pa_valid", "c2pa_stripped", "c2pa_tampered"],
                     "perturbation"), "",
              "Trade-off, realism against detectability per generator setting (clean files):", "",
              *table(m["tradeoff"], ["lip_sync_peak", "identity_similarity", "motion_fd", "detector_auc"], "setting"), ""]
    if m.get("undefined"):
        lines.append(f"Not computable in this run: {', '.join(m['undefined'])}.")
    write_section(f"eval-{a.suite}", "\n".join(lines))
    print(f"\nwrote RESULTS.md section eval-{a.suite}; report {out / 'report.html'}")


if __name__ == "__main__":
    main()
