"""Do the decoded phones say when real lips are shut? And what laying the viseme table's closures over a learned
mouth does to its lip sync (issue #22).

    python benchmarks/bench_closures.py [--data ../shared/data] [--motion-data data/motion]

On the prepared own-speech clips the motion models train on (`likeness train prepare`, as `make train-motion`
runs it): the real lips' gap (from the tracked motion latent, inter-ocular units) against the decoded phones' blended
/p b m/ and rest shares (`visemes.blend_weights`), and the lip sync of the DiT's and the articulation's mouths
(latent space, best lag within +-3 frames) with each overlay. The models saw these clips, so their sync is
in-sample; the overlays are compared on the same samples. The held-out figures are in `bench_motion.py`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_motion import closures_overlay  # noqa: E402
from benchmarks.results import bench_parser, machine, write_section  # noqa: E402
from eval.lipsync import CLOSED_GAP, lip_sync  # noqa: E402
from generator.latent import FPS  # noqa: E402
from generator.motion.articulation import mouth_of, shipped  # noqa: E402
from generator.motion.controls import Controls  # noqa: E402
from generator.motion.data import VISEME_COLS, load_clips  # noqa: E402
from generator.motion.dit_motion import DEFAULT_CHECKPOINT, DiTMotion  # noqa: E402
from generator.motion.visemes import REST_FROM, blend_weights, latent_columns, lip_gap, with_rest  # noqa: E402
from generator.phones import VISEMES  # noqa: E402

BINS = ((0.0, 0.3), (0.3, 0.7), (0.7, 0.9), (0.9, 1.01))


def source(name: str) -> str:
    return "GRID" if name.startswith(("osalgrid", "lipnet_GRID", "glimmering_GRID")) else "other"


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--motion-data", type=Path, default=Path("data/motion"))
    a = ap.parse_args()
    if not (a.motion_data / "index.json").exists():
        raise SystemExit(f"no prepared clips in {a.motion_data}: run `likeness train prepare --videos "
                         f"{a.data / 'real_videos'} --out {a.motion_data}` first")
    train = set(json.loads(DEFAULT_CHECKPOINT.with_suffix(".json").read_text())["train_clips"])
    clips = [c for c in load_clips(a.motion_data) if c.name in train]
    dit, articulation = DiTMotion.load(), shipped()
    gap, closed, rest, src = [], [], [], []
    models = {"DiT": lambda c: dit.generate(c.audio, Controls(), 0).latent[: len(c), latent_columns()],
              "articulated": lambda c: articulation.predict(c.audio)[: len(c)]}
    overlays = {"none": lambda m, v: m, "/p b m/ closures and rest^4 (until 2026-12-06)": closures_overlay,
                f"rest from {REST_FROM:g} (shipped)": lambda m, v: with_rest(m, v, FPS)}
    sync = {(k, o): [] for k in models for o in overlays}
    for c in clips:
        vis = c.audio[:, VISEME_COLS]
        w = blend_weights(vis, FPS)
        truth = lip_gap(mouth_of(c))
        gap.append(truth)
        closed.append(w[:, VISEMES.index("closed")])
        rest.append(w[:, VISEMES.index("rest")])
        src.append(np.full(len(c), source(c.name)))
        for k, make in models.items():
            mouth = make(c)
            for o, lay in overlays.items():
                sync[k, o].append(lip_sync(lip_gap(lay(mouth, vis)), truth, 3).peak)
    gap, closed, rest, src = map(np.concatenate, (gap, closed, rest, src))

    def cell(share: np.ndarray, lo: float, hi: float, where: np.ndarray) -> str:
        s = where & (share >= lo) & (share < hi)
        return f"{np.mean(gap[s] < CLOSED_GAP):.0%} ({s.sum()})" if s.any() else "-"

    groups = {"GRID": src == "GRID", "other": src != "GRID"}
    lines = [
        "## Do the decoded phones say when real lips are shut? (issue #22)",
        "",
        f"Command: `python benchmarks/bench_closures.py` (via `make bench`). Machine: {machine()}. {len(clips)} "
        f"own-speech clips the DiT and the articulation train on ({len(gap) / FPS:.0f} s). Cells: share of frames "
        f"whose real lips are shut (tracked gap below {CLOSED_GAP} inter-ocular), (frames), by the decoded phones' "
        "blended /p b m/ or rest share at that frame (`visemes.blend_weights`, as the table's mouth sees them).",
        "",
        "| blended share | /p b m/, GRID | /p b m/, other | rest, GRID | rest, other |",
        "|---|---|---|---|---|",
        *(f"| {lo:.1f}-{min(hi, 1):.1f} | " + " | ".join(cell(share, lo, hi, g) for share in (closed, rest)
                                                       for g in groups.values()) + " |" for lo, hi in BINS),
        "",
        "Lip sync (latent space: the mouth's lip gap against the tracked one, best lag within ±3 frames; in-sample, "
        "the models trained on these clips) with each overlay:",
        "",
        "| mouth | " + " | ".join(overlays) + " |",
        "|---|" + "---|" * len(overlays),
        *(f"| {k} | " + " | ".join(f"{np.nanmean(sync[k, o]):.3f}" for o in overlays) + " |" for k in models),
    ]
    write_section("closures", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
