"""Evaluation suites: which portraits, speech and real videos, which generator settings, which perturbations.

By default the suites use the identities the shipped detector never saw in training (recorded in its
checkpoint), so detectability is measured on held-out people. Users can pass their own lists instead.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from likeness.errors import UserError


@dataclass(frozen=True)
class Variant:
    """One generator setting: a motion model and its knobs."""
    name: str
    motion: str = "dit"
    audio_scale: float = 1.5
    pose_scale: float = 1.0


@dataclass
class SuiteConfig:
    name: str
    portraits: list[Path]
    speech: list[Path]
    real_videos: list[Path]
    seconds: float = 3.0            # length of every generated clip and real segment
    max_segments: int = 1           # real segments cut from each real video
    size: int = 512                 # the generator's default output size
    seed: int = 0
    variants: list[Variant] = field(default_factory=lambda: [Variant("procedural", "procedural"), Variant("dit")])
    sweep: list[Variant] = field(default_factory=list)  # extra trade-off points, rendered on `sweep_pairs`
    sweep_pairs: int = 2
    perturbations: list[str] = field(default_factory=lambda: ["none", "crf28", "resize0.5-crf28", "crop0.9", "tamper"])

    def pairs(self) -> list[tuple[Path, Path]]:
        """Every portrait with one speech clip, taken in turn."""
        if not self.portraits or not self.speech:
            raise UserError("an evaluation needs at least one portrait and one speech clip")
        return [(p, self.speech[i % len(self.speech)]) for i, p in enumerate(self.portraits)]


def _held_out(data: Path) -> tuple[list[str], list[str]]:
    """(real video stems, portrait stems) of the identities the shipped detector held out for testing."""
    from detector.model import DEFAULT_CHECKPOINT
    from detector.sources import real_videos

    info = DEFAULT_CHECKPOINT.with_suffix(".json")
    ids = set(json.loads(info.read_text()).get("test_identities", []) if info.is_file() else [])
    from detector.faces import video_seconds
    from likeness.shared_data import own_speech

    held = [v for v in real_videos(data / "real_videos") if v.identity in ids] if (data / "real_videos").is_dir() else []
    speaking = own_speech(data) if (data / "videos_added.tsv").is_file() else set()
    held.sort(key=lambda v: (v.path.stem not in speaking, -video_seconds(v.path)))  # own voice first, longest first
    firsts: list[str] = []  # then one clip per person before a second of anyone's
    for v in held:
        if v.identity not in {w.identity for w in held if w.path.stem in firsts}:
            firsts.append(v.path.stem)
    return firsts + [v.path.stem for v in held if v.path.stem not in firsts], sorted(i.split(":", 1)[1] for i in ids if i.startswith("portrait:"))


def _pick(folder: Path, stems: list[str], n: int) -> list[Path]:
    files = {p.stem: p for p in sorted(folder.glob("*")) if p.is_file()}
    return [files[s] for s in stems if s in files][:n]


def suite(name: str, shared: Path) -> SuiteConfig:
    """The `quick` (CI smoke test, a few minutes) or `full` (the numbers in benchmarks/RESULTS.md) suite."""
    data = Path(shared)
    if not (data / "portraits").is_dir():
        raise UserError(f"shared data not found at {data} (expected portraits/, speech/, real_videos/); pass --data")
    reals, portraits = _held_out(data)
    reals = reals or ["lp_driving_d6", "lp_driving_d11", "lp_driving_d12", "lp_driving_d9"]
    portraits = portraits or ["lp_s1", "st_people_0", "lp_s4", "lp_s8"]
    if name == "quick":
        return SuiteConfig("quick", _pick(data / "portraits", ["lp_s1", "st_people_0"], 2),
                           [data / "speech" / "vrt_1.wav"], _pick(data / "real_videos", reals, 3))
    if name == "full":
        return SuiteConfig(
            "full", _pick(data / "portraits", portraits, 8),
            [data / "speech" / "vrt_2.wav", data / "speech" / "st_RD_Radio31_000.wav"],
            _pick(data / "real_videos", reals, 8), seconds=5.0, max_segments=6,
            sweep=[Variant("dit-cfg1", audio_scale=1.0), Variant("dit-cfg3", audio_scale=3.0),
                   Variant("dit-pose0.5", pose_scale=0.5), Variant("dit-pose1.5", pose_scale=1.5),
                   Variant("procedural-pose0.5", "procedural", pose_scale=0.5)],
            sweep_pairs=4,
            perturbations=["none", "crf18", "crf23", "crf28", "crf35", "resize0.5", "resize0.25", "resize0.5-crf28",
                           "crop0.9", "blur", "noise", "brightness", "fps30", "tamper"])
    raise UserError(f"unknown suite {name!r}; choose quick, full or xgen")
