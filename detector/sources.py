"""Which videos the detector learns from and is measured on: their label, person, source and generator family.

A fake's family is its file name's prefix (`sadtalkervls_our.mp4` -> `sadtalkervls`) or, in a folder of folders,
its folder; related families are grouped into `FOLDS` so that leaving one fold out of training leaves out every
method close to it (the leave-family-out protocol of `benchmarks/bench_detector.py`). A real clip's source is
its prefix too (the dataset it was cut from, e.g. `osalgrid` for GRID), and its person comes from
`videos_added.tsv` where the folder has one (clips of one person share a `person_or_generator`), else the file
name: split by person, never by clip.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Related generator families, left out of training together. Keys are fold names, values file-name prefixes.
FOLDS: dict[str, tuple[str, ...]] = {
    # Wav2Lip, video-retalking, SadTalker and its lip-sync variants: mouths pasted into real footage or a 3DMM-driven warp
    "lipsync": ("sadtalkervls", "linly"),
    # identity swaps and expression transfer on real footage (FaceForensics++, DFDC)
    "swap": ("ffpp", "dfdcswap"),
    # emotion- and style-controlled talking heads (MEAD-trained)
    "style": ("dreamtalk", "styletalk"),
    # early and keypoint animators: landmark GANs, speech-driven animation, PC-AVS, MakeItTalk, LivePortrait
    "keypoint": ("atvgnet", "sda", "pcavs", "makeittalk", "liveportrait"),
    # our own generator (rendered by `likeness train detector-data`)
    "likeness": ("likeness",),
}
OURS = "likeness"
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".gif")


@dataclass(frozen=True)
class Video:
    path: Path
    label: int        # 1 = generated
    identity: str     # the person filmed (real), or the fake's own name (other generators)
    source: str       # real: dataset prefix; fake: generator family
    fold: str         # "real" or the FOLDS key its family belongs to


def prefix(path: Path) -> str:
    return Path(path).stem.split("_")[0].lower()


def fold_of(family: str) -> str:
    return next((k for k, v in FOLDS.items() if family in v), family)


def list_videos(folder: Path) -> list[Path]:
    """Video files under `folder` (by suffix), in name order."""
    return sorted(f for f in Path(folder).rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)


def real_videos(folder: Path) -> list[Video]:
    """The real clips under `folder`, with their person from the folder's parent's videos_added.tsv if any."""
    from likeness.shared_data import people, person

    who = people(Path(folder).parent)
    return [Video(p, 0, who.get(p.stem) or person(p.stem), prefix(p), "real") for p in list_videos(folder)]


def fake_videos(folder: Path) -> list[Video]:
    """Fakes of other generators under `folder`: family from the subfolder (if nested) or the file-name prefix."""
    out = []
    for p in list_videos(folder):
        family = p.parent.name.lower() if p.parent != Path(folder) else prefix(p)
        out.append(Video(p, 1, f"fake:{p.stem}", family, fold_of(family)))
    return out


def is_montage(width: int, height: int) -> bool:
    """Side-by-side demo videos (source | driving | result) put real and fake faces in one frame: no label fits."""
    return max(width, height) >= 2 * min(width, height)
