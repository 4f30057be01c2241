"""How well the phone loop hears the phones that shape the mouth: decoded phones against GRID's known sentences
(issue #22).

    python benchmarks/bench_phones.py [--data ../shared/data]

GRID clips speak sentences known from their file names; pocketsphinx's forced alignment of that sentence
(`phones.align_text`) is the truth. On the GRID clips outside the lip-sync test set, each way of decoding is
scored per video frame (25 fps) by the viseme class it gives most of the frame (`phones.viseme_matrix`): the share of
speech frames whose class is right, and for /p b m/, the closures the lips must make, how many aligned ones a
decoded one meets within +-1 frame (recall) and how many decoded ones meet an aligned one (precision). The
shipped decoding (1 s blocks with 0.3 s of context, for streaming) stands beside the whole clip decoded at once
and other language weights of the phone loop.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.results import bench_parser, machine, write_section  # noqa: E402
from eval.lipsync import grid_sentence  # noqa: E402
from generator import phones  # noqa: E402
from generator.audio import load_audio  # noqa: E402
from generator.motion.data import find_videos  # noqa: E402
from likeness.shared_data import GRID_HELD_OUT  # noqa: E402

FPS = 25
TOL = 1  # frames
CLOSED = phones.VISEMES.index("closed")
GRID = ("osalgrid_", "lipnet_GRID_")


def closed_frames(ph: list[phones.Phone], n: int) -> np.ndarray:
    """Frames within TOL of a /p b m/ phone of `ph`."""
    out = np.zeros(n, bool)
    for p in ph:
        if p.viseme == "closed":
            out[max(0, int(np.floor(p.start * FPS)) - TOL): int(np.ceil(p.end * FPS)) + TOL] = True
    return out


def score(clips: list[tuple[np.ndarray, list[phones.Phone]]], decoded: list[list[phones.Phone]]) -> dict:
    right = speech = hit = aligned = met = found = 0
    for (samples, truth), dec in zip(clips, decoded):
        n = int(len(samples) / phones.RATE * FPS)
        vt, vd = (phones.viseme_matrix(p, n, FPS).argmax(1) for p in (truth, dec))
        right, speech = right + int((vt == vd)[vt != 0].sum()), speech + int((vt != 0).sum())
        near_dec, near_truth = closed_frames(dec, n), closed_frames(truth, n)
        for p in truth:
            if p.viseme == "closed":
                aligned += 1
                hit += bool(near_dec[max(0, int(np.floor(p.start * FPS))): int(np.ceil(p.end * FPS))].any())
        for p in dec:
            if p.viseme == "closed":
                found += 1
                met += bool(near_truth[int(p.start * FPS): max(int(np.ceil(p.end * FPS)), int(p.start * FPS) + 1)].any())
    return {"accuracy": right / speech, "recall": hit / aligned, "precision": met / max(found, 1), "aligned": aligned,
            "found": found}


def main() -> None:
    a = bench_parser(__doc__).parse_args()
    clips, failed = [], []
    for path in find_videos(a.data / "real_videos"):
        if not path.stem.startswith(GRID) or path.stem in GRID_HELD_OUT:
            continue
        samples = load_audio(path, phones.RATE).samples
        try:
            clips.append((samples, phones.align_text(samples, grid_sentence(path.stem))))
        except (RuntimeError, ValueError):
            failed.append(path.stem)
    seconds = sum(len(s) for s, _ in clips) / phones.RATE
    whole = phones.phone_decoder(cmn="batch")
    ways = {"1 s blocks, 0.3 s context, language weight 2 (shipped)": lambda s: phones.decode_phones(s),
            "the whole clip at once, language weight 2": lambda s: phones.decode_utterance(s, whole)}
    for lw in (1.0, 4.0):
        ways[f"1 s blocks, 0.3 s context, language weight {lw:g}"] = \
            lambda s, d=phones.phone_decoder(cmn="batch", lw=lw): phones.decode_phones(s, d)
    rows, aligned = [], 0
    for label, decode in ways.items():
        phones.clear_cache()
        t0 = time.perf_counter()
        decoded = [decode(s) for s, _ in clips]
        ms = (time.perf_counter() - t0) / seconds / FPS * 1000
        r = score(clips, decoded)
        aligned = r["aligned"]
        rows.append(f"| {label} | {r['accuracy']:.3f} | {r['recall']:.3f} | {r['precision']:.3f} ({r['found']}) | {ms:.2f} |")
        print(rows[-1], flush=True)
    body = ["## Phones against GRID's known sentences (issue #22)", "", f"Command: `python benchmarks/bench_phones.py` (via `make bench`). Machine: {machine()}.",
            f"{len(clips)} GRID clips ({seconds:.0f} s; {len(failed)} more whose sentence did not align), none of the "
            f"lip-sync test set; {aligned} aligned /p b m/. Truth: the known "
            "sentence force-aligned (`phones.align_text`). Per 25 fps frame, the viseme class covering most of it; "
            "recall: aligned /p b m/ met by a decoded one within +-1 frame; precision: decoded /p b m/ (how many) "
            "that meet an aligned one.", "",
            "| decoding | viseme right, speech frames | /p b m/ recall | /p b m/ precision (decoded) | ms per video frame |",
            "|---|---|---|---|---|", *rows]
    write_section("phones", "\n".join(body))


if __name__ == "__main__":
    main()
