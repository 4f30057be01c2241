"""Watermark and C2PA costs, and the watermark robustness matrix on the real videos.

    python benchmarks/bench_provenance.py [--data ../shared/data] [--frames 250]

Every real video (first --frames frames, even-sized) is marked with a random payload, encoded, attacked,
and decoded: per-frame bit accuracy and video-level detection (payload found and correct) per attack, for
our robust spread-spectrum mark and for the library-compatible dwtDct mark. Then every real video, unmarked
and whole (up to 250 frames), is scanned for false positives.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import bench_parser, machine, write_section  # noqa: E402
from generator.video import VideoWriter, read_frames  # noqa: E402
from provenance import dwtdct  # noqa: E402
from provenance.detect import detect_file, detect_frames  # noqa: E402
from provenance.payload import Payload  # noqa: E402
from provenance.spread import SpreadMark  # noqa: E402


def ms(fn, n=20) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return 1000 * (time.perf_counter() - t) / n


def encode(frames, path: Path, crf: int, fps: float = 25) -> list[np.ndarray]:
    h, w = frames[0].shape[:2]
    with VideoWriter(path, fps, (w - w % 2, h - h % 2), crf=crf) as wr:
        for f in frames:
            wr.write(np.ascontiguousarray(f[: h - h % 2, : w - w % 2]))
    return list(read_frames(path))


def centre_crop(f, k=0.9):
    h, w = f.shape[:2]
    dh, dw = int(h * (1 - k) / 2), int(w * (1 - k) / 2)
    return f[dh: h - dh, dw: w - dw]


def jpeg(f, q=75):
    ok, buf = cv2.imencode(".jpg", f[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def attacks(tmp: Path):
    """name -> function(list of marked RGB frames) -> list of attacked RGB frames."""
    def per_frame(fn, crf=18):
        return lambda fr: [fn(f) for f in encode(fr, tmp / "a.mp4", crf)]
    return {
        "H.264 CRF 18": lambda fr: encode(fr, tmp / "a.mp4", 18),
        "H.264 CRF 23": lambda fr: encode(fr, tmp / "a.mp4", 23),
        "H.264 CRF 28": lambda fr: encode(fr, tmp / "a.mp4", 28),
        "H.264 CRF 35": lambda fr: encode(fr, tmp / "a.mp4", 35),
        "resize 0.5x (after CRF 18)": per_frame(lambda f: cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)),
        "CRF 28 + resize 0.5x": lambda fr: encode([cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
                                                    for f in encode(fr, tmp / "b.mp4", 18)], tmp / "a.mp4", 28),
        "centre crop 90%": per_frame(centre_crop),
        "brightness +20%": per_frame(lambda f: np.clip(f * 1.2, 0, 255).astype(np.uint8)),
        "brightness -20%": per_frame(lambda f: (f * 0.8).astype(np.uint8)),
        "JPEG 75 per frame": per_frame(jpeg),
        "drop every 2nd frame": lambda fr: encode(fr[::2], tmp / "a.mp4", 23, fps=12.5),
        "25 -> 30 fps (frame repeat)": lambda fr: encode([fr[int(i * 25 / 30)] for i in range(int(len(fr) * 30 / 25))],
                                                          tmp / "a.mp4", 23, fps=30),
    }


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--frames", type=int, default=250, help="frames per video (likeness verify reads 250)")
    a = ap.parse_args()
    videos = sorted((a.data / "real_videos").glob("*.mp4"))
    if not videos:
        sys.exit(f"no real videos under {a.data}")
    from imwatermark import WatermarkDecoder, WatermarkEncoder

    mark, rng = SpreadMark(), np.random.default_rng(0)
    frame = next(read_frames(videos[-1]))[:512, :512].copy()
    bits = Payload.new(1).bits()
    bgr = np.ascontiguousarray(frame[:, :, ::-1])
    enc = WatermarkEncoder()
    enc.set_watermark("bits", list(bits))
    costs = {
        "spread embed (ours, default)": ms(lambda: mark.embed(frame, bits)),
        "spread detect, per frame": ms(lambda: mark.correlations(frame)),
        "dwtDct embed (ours, vectorised)": ms(lambda: dwtdct.embed(bgr, bits)),
        "dwtDct embed (invisible-watermark 0.2.0)": ms(lambda: enc.encode(bgr, "dwtDct"), n=5),
        "dwtDct decode (ours)": ms(lambda: dwtdct.decode_bits(bgr)),
        "dwtDct decode (invisible-watermark 0.2.0)": ms(lambda: WatermarkDecoder("bits", 64).decode(bgr, "dwtDct"), n=5),
    }
    print(costs, flush=True)

    table: dict[str, dict[str, list]] = {}
    psnrs = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        atk = attacks(tmp)
        for v in videos:
            frames = [f[: f.shape[0] // 2 * 2, : f.shape[1] // 2 * 2] for f in read_frames(v, a.frames)]
            payload = Payload.new(int(rng.integers(0, 1 << 16)))
            b = payload.bits()
            marked = [mark.embed(f, b) for f in frames]
            psnrs += [dwtdct.psnr(f, m) for f, m in zip(frames, marked)]
            lib_marked = [dwtdct.embed(np.ascontiguousarray(f[:, :, ::-1]), b)[:, :, ::-1] for f in frames]
            for name, fn in atk.items():
                out = fn(marked)
                rep = detect_frames(out, mark)
                acc = np.mean([((mark.correlations(f) > 0) == b).mean() for f in out])
                lib_acc = np.mean([(dwtdct.decode_bits(np.ascontiguousarray(f[:, :, ::-1])) == b).mean() for f in fn(lib_marked)])
                row = table.setdefault(name, {"acc": [], "found": [], "lib": []})
                row["acc"].append(acc)
                row["found"].append(rep.found and rep.payload == payload.hex)
                row["lib"].append(lib_acc)
            print(v.name, "done", flush=True)

        t = time.perf_counter()
        false_pos = sum(detect_file(v).found for v in videos)
        scan_s = time.perf_counter() - t

    lines = [
        "## Provenance: watermark and C2PA (issue #3)",
        "",
        f"Command: `python benchmarks/bench_provenance.py` (via `make bench`). Machine: {machine()}.",
        "",
        "Per-frame cost at 512x512:",
        "",
        "| operation | ms/frame |",
        "|---|---|",
    ] + [f"| {k} | {v:.2f} |" for k, v in costs.items()] + [
        "",
        f"Vectorised dwtDct is {costs['dwtDct embed (invisible-watermark 0.2.0)'] / costs['dwtDct embed (ours, vectorised)']:.0f}x "
        "faster than the library's embedder; C2PA signing and verification costs are the `sign` stage in the "
        "generation table above.",
        "",
        f"Robustness on all {len(videos)} real videos (first {a.frames} frames each, native size, a random payload each). "
        f"Spread-spectrum mark at default strength: PSNR {np.mean(psnrs):.1f} dB mean, {np.min(psnrs):.1f} dB min.",
        "",
        "| attack | spread: per-frame bit accuracy | spread: video-level detection | dwtDct: per-frame bit accuracy |",
        "|---|---|---|---|",
    ] + [f"| {k} | {np.mean(r['acc']):.3f} | {sum(r['found'])}/{len(r['found'])} | {np.mean(r['lib']):.3f} |"
         for k, r in table.items()] + [
        "",
        f"False positives: {false_pos} of {len(videos)} unmarked real videos (up to 250 frames each, {scan_s:.1f} s in all). "
        "Analytical bound per video: 2 pooling attempts x 2^8 Chase candidates x 2^-32 CRC = 1.2e-7.",
        "",
        "dwtDct (the library's scheme, kept for interoperability on still frames) quantises raw chroma magnitudes;",
        "H.264's 4:2:0 chroma and range conversion shift them all one way, so its bits come back inverted or random.",
    ]
    write_section("provenance", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
