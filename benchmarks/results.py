"""Shared helpers for benchmark scripts: machine description, section-wise updates of RESULTS.md, and the
videos the detector benchmarks score."""
from __future__ import annotations

import argparse
import os
import platform
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from likeness.shared_data import DEFAULT_SHARED

RESULTS = Path(__file__).parent / "RESULTS.md"
SHARED_DATA = DEFAULT_SHARED
HEADER = "# Benchmark results\n\nEach section is rewritten by the script named in it; rerun with `make bench`.\n"


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's argument parser, with `--data` (the shared dev data beside the checkout by default)."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--data", type=Path, default=SHARED_DATA)
    return ap


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} ({date.today()})"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section delimited by <!-- name --> markers."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    block = f"<!-- {name}:start -->\n{body.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


@dataclass
class DetectorVideo:
    """A video the detector benchmarks score: real footage (a segment of it) or a generated fake."""
    path: Path
    identity: str     # the person, or "portrait:<name>"
    split: str        # "training" or "held-out" (the data builder's split by identity)
    label: int        # 1 = generated
    kind: str         # "real", or the fake's "<source>-<motion>" (e.g. "reenact-dit")
    size: int         # generator canvas (0 for real footage)


def detector_videos(data: Path, index: dict, tmp: Path, splits: tuple[str, ...] = ("held-out",)) -> list[DetectorVideo]:
    """The videos of the identities in `splits`: real footage from `data`/real_videos cut into segments in `tmp`
    (every 5-s one of a held-out person; the first two 3-s ones of a training person) and the fakes that
    `make train-detector` rendered (`index`: data/detector/index.json)."""
    from eval.clips import cut_segments

    held_out = set(index["test_identities"])

    def split(identity: str) -> str:
        return "held-out" if identity in held_out else "training"

    from detector.sources import real_videos

    out = []
    for v in real_videos(data / "real_videos"):
        if split(v.identity) in splits:
            seconds, most = (5.0, 100) if split(v.identity) == "held-out" else (3.0, 2)
            out += [DetectorVideo(seg, v.identity, split(v.identity), 0, "real", 0) for seg in cut_segments(v.path, tmp, seconds, most)]
    return out + [DetectorVideo(Path(f["path"]), f["identity"], split(f["identity"]), 1, f["kind"], f.get("size", 256))
                  for f in index["fakes"] if "path" in f and split(f["identity"]) in splits]
