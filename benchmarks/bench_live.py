"""Live streaming on this CPU: a minute of speech played in real time into the engine, as a microphone would.

    python benchmarks/bench_live.py [--data ../shared/data] [--seconds 60]

Per size (and once at 512 px with the session recorded to a signed MP4): sustained output fps, frames dropped,
audio-to-frame latency p50/p95 (from the moment at a frame's centre being spoken to the frame, watermarked, being
ready; 40 ms chunks), CPU cores used. Also how far the live motion is from the offline procedural model on the
same audio, and that the streamed features equal the offline ones.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import bench_parser, machine, write_section  # noqa: E402

SPEECH = ("st_RD_Radio31_000.wav", "st_RD_Radio34_002.wav", "st_RD_Radio36_000.wav", "st_RD_Radio40_000.wav",
          "st_imagine.wav", "vrt_1.wav", "vrt_2.wav")


def speech(data: Path, seconds: float) -> np.ndarray:
    """`seconds` of real speech at 16 kHz: the shared clips one after another (repeated if need be)."""
    from generator.audio import load_audio
    from generator.stream import RATE

    clips = [load_audio(data / "speech" / n, RATE).samples for n in SPEECH if (data / "speech" / n).is_file()]
    if not clips:
        sys.exit(f"no speech under {data / 'speech'}")
    x = np.concatenate(clips)
    return np.tile(x, int(np.ceil(seconds * RATE / len(x))))[: int(seconds * RATE)]


def fidelity(x: np.ndarray) -> tuple[float, float, float]:
    """(largest |streamed - offline| feature difference, jaw correlation live vs offline after 1 s, mean |diff|)."""
    from generator.audio import Audio, features
    from generator.motion.live import LiveMotion
    from generator.motion.procedural import procedural_motion
    from generator.stream import RATE, FeatureStream

    offline = features(Audio(x, RATE), 25.0, phones=False)
    fs, parts = FeatureStream(25.0), []
    for i in range(0, len(x), 640):
        parts.append(fs.push(x[i: i + 640]))
    parts.append(fs.flush())
    mel = np.concatenate([p.mel for p in parts])
    live_jaw = LiveMotion(25.0).step(offline).expr[25:, 0]
    off_jaw = procedural_motion(offline).expr[25:, 0]
    return (float(np.abs(mel - offline.mel).max()), float(np.corrcoef(live_jaw, off_jaw)[0, 1]),
            float(np.abs(live_jaw - off_jaw).mean()))


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args()
    image = a.data / "portraits" / "lp_s9.jpg"
    if not image.is_file():
        sys.exit(f"benchmark inputs not found under {a.data}")
    from generator.stream import LiveConfig, LiveSession, play

    x = speech(a.data, a.seconds)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size, record in ((512, False), (256, False), (512, True)):
            session = LiveSession(image, LiveConfig(size=size), record=Path(tmp) / "rec.mp4" if record else None)
            stats = play(session, x)
            session.close()
            rows.append((size, record, stats))
            print(f"{size} px{' recorded' if record else ''}: {stats.summary()}", flush=True)
    diff, corr, mad = fidelity(x)
    lines = [
        "## Live streaming (`likeness live`, the web app's Live page; issue #19)",
        "",
        f"Command: `python benchmarks/bench_live.py` (via `make bench`). Machine: {machine()}.",
        f"Input: Mona Lisa (`lp_s9.jpg`) and {a.seconds:.0f} s of the shared speech clips, played into the engine in real "
        "time in 40 ms chunks (a microphone's pace); every frame rendered (renderer v2) and watermarked.",
        "",
        "| size | recording | sustained fps | frames | dropped | latency p50 | latency p95 | CPU cores |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, record, s in rows:
        lines.append(f"| {size}x{size} | {'signed MP4' if record else '-'} | **{s.fps:.1f}** | {s.frames} | {s.dropped} | "
                     f"**{s.latency(50):.0f} ms** | {s.latency(95):.0f} ms | {s.cpu_cores:.2f} |")
    lines += [
        "",
        "Latency: from the moment at a frame's centre being spoken to that frame being ready, watermarked. It is at "
        "least 60 ms by design: the rest of the frame (20 ms) and one frame of look-ahead (40 ms) that the frame's "
        "analysis windows reach into; a 40 ms chunk adds up to 40 ms of waiting, the rest is computing. Goals: "
        ">= 25 fps without drops, p50 <= 250 ms (VASA-1 reports 170 ms on a GPU).",
        f"Streamed features equal the offline ones (largest log-mel difference {diff:.1e}). The live mouth follows "
        f"the offline procedural model's level-driven mouth (phones off) with correlation {corr:.3f} after the first "
        f"second, mean |jaw difference| {mad:.3f} (jaw_open units): the live model uses running level statistics "
        "where the offline one uses the whole clip's, and no phones (a phone block needs 1.3 s of audio).",
    ]
    write_section("live", "\n".join(lines))


if __name__ == "__main__":
    main()
