"""How wide the rendered mouth opens for a tracked one: the motion encoder's expression ridge (issues #18, #22).

    python benchmarks/bench_encode.py [--data ../shared/data] [--seconds 3]

Each clip's first frame is the portrait; every frame is tracked by FaceMesh, encoded with the expression fit at
each ridge, rendered (the default renderer, 256 px) and tracked again. Per clip: the slope and correlation of the
rendered inner-lip opening against the real one (1 and 1 are right; a slope below 1 is a mouth that opens less
than the speaker's). The ridge is chosen on training clips; the renderer's held-out people are shown beside them.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.results import bench_parser, machine, write_section  # noqa: E402
from eval.reenact import track  # noqa: E402
from generator.face.analysis import FaceMesh  # noqa: E402
from generator.face.expression import mouth_opening  # noqa: E402
from generator.motion.data import find_videos  # noqa: E402
from generator.motion.encode import RIDGE, fit_expression  # noqa: E402
from generator.render.renderer import make_renderer  # noqa: E402
from likeness.shared_data import REENACT_HELD_OUT  # noqa: E402

RIDGES = (0.3, 0.1, 0.03)  # 0.3: before 2026-12-06
#: Own-speech clips the motion models train on, one per source (GRID, LRS2, a lip-tracking sample, an interview,
#: MEAD, HDTF): where the ridge is chosen.
TRAIN_CLIPS = ("osalgrid_s1_bgau1a", "deepavsr_LRS2_00004", "astorfiold_lip_tracking_sampl2", "vrt_3",
               "eamm_crop_M030_sad_3_001", "edtalk_pose_source2")
SIZE = 256


def measure(path: Path, seconds: float) -> dict[float, tuple[float, float]]:
    """{ridge: (slope, correlation)} of rendered against real inner-lip opening over one clip."""
    t = track(path, SIZE, seconds)
    neutral = t.portrait.pose.to_canonical(t.portrait.landmarks)
    real = np.array([mouth_opening(lm) for lm in t.landmarks])
    renderer = make_renderer(t.portrait)
    out = {}
    for ridge in RIDGES:
        expr = fit_expression(t.canon, neutral, ridge)
        mesh = FaceMesh(static=False, max_faces=1)
        try:
            faces = [mesh(renderer.render(p, e)) for p, e in zip(t.pose, expr)]
        finally:
            mesh.close()
        found = np.array([bool(f) for f in faces])
        rendered = np.array([mouth_opening(f[0]) for f in faces if f])
        out[ridge] = (float(np.polyfit(real[found], rendered, 1)[0]), float(np.corrcoef(real[found], rendered)[0, 1]))
    return out


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    videos = {p.stem: p for p in find_videos(a.data / "real_videos")}
    t0 = time.perf_counter()
    rows, means = [], {}
    for split, names in (("training", TRAIN_CLIPS), ("held out", REENACT_HELD_OUT)):
        res = {}
        for name in names:
            res[name] = measure(videos[name], a.seconds)
            print(name, res[name], flush=True)
            rows.append(f"| {name} | {split} | " + " | ".join(f"{res[name][r][0]:.2f} / {res[name][r][1]:.3f}"
                                                         for r in RIDGES) + " |")
        means[split] = {r: np.mean([v[r] for v in res.values()], 0) for r in RIDGES}
    head = " | ".join(f"ridge {r:g}{' (shipped)' if r == RIDGE else ''}" for r in RIDGES)
    lines = [
        "## Motion encoder: how wide the rendered mouth opens (issues #18, #22)",
        "",
        f"`python benchmarks/bench_encode.py` ({machine()}; {time.perf_counter() - t0:.0f} s). Each clip's first "
        f"{a.seconds:g} s, its first frame the portrait; every frame tracked by FaceMesh, encoded with the expression "
        f"fit at each ridge (`generator.motion.encode.RIDGE`), rendered ({SIZE} px, the default renderer) and tracked "
        "again. Cells: slope / correlation of the rendered inner-lip opening against the real one (1 / 1 is right; a "
        "slope below 1 is a mouth that opens less than the speaker's). The ridge is chosen on the training clips.",
        "",
        f"| clip | people | {head} |",
        "|---|---|" + "---|" * len(RIDGES),
        *[f"| **mean** | {s} | " + " | ".join(f"**{means[s][r][0]:.2f} / {means[s][r][1]:.3f}**" for r in RIDGES) + " |"
          for s in means],
        *rows,
    ]
    write_section("encode", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
