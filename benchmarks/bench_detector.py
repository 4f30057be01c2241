"""The detector against generators it never saw, real people it must not accuse, our own fakes, and its speed.

    python benchmarks/bench_detector.py [--data ../shared/data] [--detector-data data/detector] [--fold-steps 600]

Needs the data and checkpoint from `make train-detector` (data/detector: its test identities are the held-out
people). Four parts:
1. Leave-family-out (`detector.protocol`): per fold of related generator families, a detector trained without it
   (the shipped recipe, a shorter schedule) scores that fold's fakes against the held-out real videos; on the
   folds named by --ablation-folds the same without self-blends and their mask loss (ablation); and the previous
   checkpoint (trained on our fakes alone) as baseline.
2. False positives: the shipped scanner on every held-out real video as a file (whole clips, first 10 s), per
   source dataset, at its verdict threshold; the previous checkpoint on the same files.
3. Our own fakes of held-out people and portraits against the same real videos, as they are and after 0.5x +
   H.264 CRF 28.
4. Throughput: a 60 s 720p video scanned with default settings.
5. Source looks (`--sections looks`, its own section): the same held-out real videos and our fakes re-made as
   footage from elsewhere looks (`eval.perturb.LOOKS`: MPEG-1 at 360x288, a sharpened 1080p master, 256 and 160 px
   face crops, a GIF), first 5 s, scanned: real people called fake, and our fakes caught, per look.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import bench_parser, machine, write_section  # noqa: E402
from detector.model import DEFAULT_CHECKPOINT, Detector  # noqa: E402
from detector.protocol import all_crops, fold_rows, leave_family_out, score_videos  # noqa: E402
from detector.scan import ScanConfig, Scanner  # noqa: E402
from detector.sources import FOLDS, real_videos  # noqa: E402
from detector.train import TrainConfig  # noqa: E402
from likeness.metrics import auc, tpr_at_fpr  # noqa: E402
from eval.perturb import LOOKS, PERTURBATIONS, perturb_file  # noqa: E402
from generator.video import VideoWriter, read_frames  # noqa: E402

SHEET = Path(__file__).parent / "detector_self_blends.png"
MOUTHS = Path(__file__).parent / "detector_mouths.png"
LOOK_SECONDS = 5.0  # scanned of each video in part 5 (a 1080p master is slow to encode)


def previous_checkpoint(tmp: Path) -> Path | None:
    """The checkpoint before issue #23 (trained on our fakes and 17 real clips), from git history."""
    out = tmp / "previous.pt"
    r = subprocess.run(["git", "show", "d1492b7:detector/assets/detector.pt"], capture_output=True,
                       cwd=Path(__file__).resolve().parents[1])
    if r.returncode:
        return None
    out.write_bytes(r.stdout)
    return out


def self_blend_sheet(data: Path, path: Path, n: int = 6) -> None:
    """Real training crops above their self-blends and the blend masks: what the detector learns blending from."""
    from detector.blend import self_blend

    c, test = all_crops(data)
    rng = np.random.default_rng(0)
    idx = rng.choice(np.flatnonzero((c.label == 0) & ~test), n, replace=False)
    rows = [[], [], []]
    for i in idx:
        out, mask = self_blend(c.x[i], c.landmarks[i].astype(np.float32), rng)
        rows[0].append(c.x[i])
        rows[1].append(out)
        rows[2].append((np.repeat(mask[..., None], 3, -1) * 255).astype(np.uint8))
    cv2.imwrite(str(path), np.concatenate([np.concatenate(r, 1) for r in rows], 0)[..., ::-1])


def mouth_sheet(data: Path, path: Path, n: int = 10) -> None:
    """Mouth patches (`detector.mouth`) the mouth network learns from: one row of real footage, then one per fold of
    generators, each patch from a different video."""
    from detector.mouth import mouth_patches

    c, _ = all_crops(data)
    rng = np.random.default_rng(0)
    rows = []
    for fold in ["real", *FOLDS]:
        vids = np.unique(c.video[c.fold == fold])
        if not len(vids):
            continue
        pick = [int(rng.choice(np.flatnonzero(c.video == v))) for v in rng.permutation(vids)[:n]]
        patches = mouth_patches(c.x[pick], c.landmarks[pick].astype(np.float32))
        row = np.zeros((patches.shape[1], patches.shape[2] * n, 3), np.uint8)
        row[:, : patches.shape[2] * len(pick)] = np.concatenate(list(patches), 1)
        label = np.full((patches.shape[1], 96, 3), 255, np.uint8)
        cv2.putText(label, fold, (4, patches.shape[1] // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.concatenate([label, row], 1))
    cv2.imwrite(str(path), np.concatenate(rows, 0)[..., ::-1])


def protocol_lines(rows: dict[str, list[dict]], fold_steps: int) -> list[str]:
    """The per-family table (every recipe's AUC side by side where it was run) and a summary per recipe; the first
    recipe is the shipped one."""
    recipes = list(rows)
    by = {k: {(r["fold"], r["family"]): r for r in v} for k, v in rows.items()}
    head = "| fold | family | fakes | " + " | ".join(f"AUC, {r}" for r in recipes) + " | AUC, mouth alone | AUC, warp consistency alone | " \
           "AUC, face network alone | TPR @ 5% FPR | caught at threshold | real called fake |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows[recipes[0]]:
        aucs = [by[k].get((r["fold"], r["family"]), {}).get("auc", float("nan")) for k in recipes]
        name = f"**{r['family']}**" if r["family"].startswith("fold ") else r["family"]
        lines.append(f"| {r['fold']} | {name} | {r['fakes']} | " + " | ".join("-" if np.isnan(v) else f"{v:.3f}" for v in aucs)
                     + f" | {r['auc_mouth']:.3f} | {r['auc_temporal']:.3f} | {r['auc_frames']:.3f} | {r['tpr_at_fpr']:.2f} | {r['caught']}/{r['fakes']} | {r['real_called_fake']}/{r['real']} |")
    summary = []
    for k in recipes:
        folds = [r for r in rows[k] if r["family"].startswith("fold ")]
        fams = [r for r in rows[k] if not r["family"].startswith("fold ")]
        worst = min(fams, key=lambda r: r["auc"])
        summary.append(f"| {k} | {', '.join(r['fold'] for r in folds)} | {np.nanmean([r['auc'] for r in folds]):.3f} | "
                       f"{worst['auc']:.3f} ({worst['family']}) | {np.nanmean([r['tpr_at_fpr'] for r in folds]):.2f} |")
    return lines + ["", "| recipe | folds | mean fold video AUC | worst family | mean TPR @ 5% FPR |", "|---|---|---|---|---|"] + summary + [
        "", f"Each fold's detector: {fold_steps} steps for each network (the shipped model: {TrainConfig.steps} and "
        f"{TrainConfig.mouth_steps}), seed 0, the same held-out real videos for every fold; TPR and the caught / called-fake "
        "counts are the shipped recipe's, at its fold model's own threshold. Families with one or two videos make single "
        "rows noisy; read the fold rows.",
        "The shipped recipe's verdict is the mouth network's mean logit (`detector.mouth`) and the warp consistency, each "
        "counted in real footage's standard deviations and summed (`VideoCalibration.standardised`). "
        "`mouth alone`, `warp consistency alone`: the same fold models with one of the two. `face network alone`: the "
        "whole-face network's mean logit (it still scores each frame and picks the most suspicious face). "
        "`excess over real footage`: the warp consistency's excess over what real training videos with as much face "
        "motion show (`detector.temporal.RealNorm`) instead of the raw cue, with the mouth."]


def scan_rows(scanners: dict[str, Scanner], videos: list[tuple[Path, str, int, str]], tmp: Path, degrade: bool) -> list[dict]:
    """Each video scanned (sampled once, scored by every scanner), as it is or after 0.5x + CRF 28."""
    out = []
    for i, (path, source, label, identity) in enumerate(videos):
        src = perturb_file(path, "resize0.5-crf28", tmp / f"deg_{i}.mp4", max_seconds=10.0) if degrade else path
        first = next(iter(scanners.values()))
        faces = first.sample(src)
        row = {"file": path.name, "source": source, "label": label, "identity": identity}
        for name, s in scanners.items():
            r = s.score(src, faces)
            row[name] = r.probability_fake
            row[f"{name}_threshold"] = r.threshold
        if row[next(iter(scanners))] is not None:
            out.append(row)
        if degrade and src.exists():
            src.unlink()
    return out


def look_rows(scanner: Scanner, videos: list[tuple[Path, str, int, str]], tmp: Path) -> list[dict]:
    """Each video as it is and re-made in every source look (the scanner's first seconds), scanned."""
    out = []
    for i, (path, source, label, _) in enumerate(videos):
        for look in ("none", *LOOKS):
            src = path if look == "none" else perturb_file(path, look, tmp / f"look_{i}.mp4", scanner.cfg.max_seconds)
            r = scanner.scan_file(src)
            if src != path:
                src.unlink()
            out.append({"file": path.name, "source": source, "label": label, "look": look, "p": r.probability_fake,
                        "threshold": r.threshold})
        print(f"looks {i + 1}/{len(videos)} {path.name}", flush=True)
    return out


def looks_lines(rows: list[dict], seconds: float) -> list[str]:
    real = {r["file"] for r in rows if r["label"] == 0}
    lines = ["## Detector: real people whose footage looks unlike ours (issue #23)", "",
             f"Command: `python benchmarks/bench_detector.py --sections looks`. Machine: {machine()}.",
             f"The held-out real videos ({len(real)}) and our fakes of held-out people and portraits "
             f"({len({r['file'] for r in rows if r['label'] == 1})}), each as it is and re-made as footage from "
             f"elsewhere looks (`eval.perturb.LOOKS`), the first {seconds:.0f} s scanned by the shipped scanner "
             "(no provenance check) at its verdict threshold.", "",
             "| look | real videos called fake | sources of those | real videos without a face found | our fakes: video AUC | "
             "TPR @ 5% FPR | caught at threshold |", "|---|---|---|---|---|---|---|"]
    for look in ("none", *LOOKS):
        rs = [r for r in rows if r["look"] == look]
        ok = [r for r in rs if r["p"] is not None]
        fp = [r for r in ok if r["label"] == 0 and r["p"] >= r["threshold"]]
        y, p = np.array([r["label"] for r in ok]), np.array([r["p"] for r in ok], float)
        name = "as it is" if look == "none" else PERTURBATIONS[look].description
        lines.append(f"| {name} | {len(fp)}/{int((y == 0).sum())} | {', '.join(sorted({r['source'] for r in fp})) or '-'} | "
                     f"{sum(r['p'] is None and r['label'] == 0 for r in rs)} | {auc(y, p):.3f} | {tpr_at_fpr(y, p, 0.05):.2f} | "
                     f"{int(((p >= np.array([r['threshold'] for r in ok])) & (y == 1)).sum())}/{int(y.sum())} |")
    return lines


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--detector-data", type=Path, default=Path("data/detector"))
    ap.add_argument("--fold-steps", type=int, default=300)
    # none by default: self-blends train the face network only, which the shipped verdict leaves out (RESULTS.md)
    ap.add_argument("--ablation-folds", default="", help="folds also trained without self-blends (comma-separated)")
    ap.add_argument("--no-folds", action="store_true", help="skip the leave-family-out training (part 1)")
    ap.add_argument("--sections", default="main,looks", help="main (parts 1-4), looks (part 5), comma-separated")
    ap.add_argument("--reuse-folds", action="store_true",
                    help="keep the networks of fold checkpoints already trained on this data with these steps; calibrate them again")
    a = ap.parse_args()
    index_path = a.detector_data / "index.json"
    if not index_path.is_file():
        sys.exit(f"{index_path} not found: run `make train-detector` first")
    index = json.loads(index_path.read_text())
    info = json.loads(DEFAULT_CHECKPOINT.with_suffix(".json").read_text())
    test = set(index["test_identities"])
    reals = [(v.path, v.source, 0, v.identity) for v in real_videos(a.data / "real_videos") if v.identity in test]
    ours = [(Path(f["path"]), f["kind"], 1, f["identity"]) for f in index["fakes"] if "path" in f and f["identity"] in test]
    sections = a.sections.split(",")
    if "looks" in sections:
        with tempfile.TemporaryDirectory() as tmp_name:
            rows = look_rows(Scanner(ScanConfig(provenance=False, max_seconds=LOOK_SECONDS)), reals + ours, Path(tmp_name))
        write_section("detector-looks", "\n".join(looks_lines(rows, LOOK_SECONDS)))
    if "main" not in sections:
        return
    self_blend_sheet(a.detector_data, SHEET)
    mouth_sheet(a.detector_data, MOUTHS)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        prev_path = previous_checkpoint(tmp)
        lines = ["## Detector: unseen generators, real people, our fakes (issue #23)", "",
                 f"Command: `python benchmarks/bench_detector.py` (via `make bench`, after `make train-detector`). "
                 f"Machine: {machine()}.",
                 f"Shipped model: timm `{info['model']['arch']}` at {info['model']['size']} px from scratch, {info['steps']} steps, "
                 f"{info['train_minutes']:.1f} min, and a mouth network (`{info['mouth_model']['arch']}` at {info['mouth_model']['size']} px, "
                 f"{info.get('mouth_steps', 0)} steps), checkpoint {DEFAULT_CHECKPOINT.stat().st_size / 1e6:.1f} MB; trained on "
                 f"{index['real_crops']} real and {index['fake_crops']} generated crops of {index['videos']} videos plus "
                 "self-blends of the real ones; verdict threshold "
                 f"P(fake) >= {info['threshold']:.2f}, set for <= {info['threshold_fpr']:.0%} false positives on "
                 f"{info['threshold_real_videos']} validation videos of {info['threshold_real_people']} people never trained on. "
                 f"Held-out identities: {len(test)} (people, portraits and other generators' videos). "
                 "Previous checkpoint: the one before this issue (our fakes and 17 real clips only).", ""]

        # 1. leave-family-out
        c, test_mask = all_crops(a.detector_data)
        folds = [f for f in FOLDS if (c.fold == f).any()]
        if not a.no_folds:
            base = TrainConfig(data=a.detector_data, steps=a.fold_steps, mouth_steps=a.fold_steps,
                               eval_every=max(1, a.fold_steps // 3))
            ablation = [f for f in a.ablation_folds.split(",") if f in folds]
            rows = {"shipped recipe": leave_family_out(base, folds, a.detector_data / "folds",
                                                       lambda f, r: print(f"fold {f}: AUC {r['auc']:.3f}", flush=True),
                                                       reuse=a.reuse_folds)}
            # the same fold models, their verdict on the warp consistency's excess over real footage instead
            rows["excess over real footage"] = [{**r, "auc": r["auc_excess"]} for r in rows["shipped recipe"]]
            if prev_path:  # trained on our fakes only: every other fold is unseen by it
                prev = Detector.load(prev_path)
                rows["previous checkpoint"] = []
                for f in folds:
                    sel = (test_mask & (c.label == 0)) | (c.fold == f)
                    rows["previous checkpoint"] += fold_rows(score_videos(prev, c.take(sel)), f, prev.threshold)
            if ablation:
                rows["no self-blends"] = leave_family_out(replace(base, sbi=0.0, mask_loss=0.0), ablation,
                                                          a.detector_data / "folds_no_sbi",
                                                          lambda f, r: print(f"no-SBI fold {f}: AUC {r['auc']:.3f}", flush=True),
                                                          reuse=a.reuse_folds)
            lines += ["### Leave-family-out (crops of the data; video = the mouth network and the warp consistency)", ""] + \
                protocol_lines(rows, a.fold_steps) + [""]

        # 2 and 3. the shipped scanner on files
        scanners = {"shipped": Scanner(ScanConfig(provenance=False, max_seconds=10.0))}
        if prev_path:
            scanners["previous"] = Scanner(ScanConfig(provenance=False, max_seconds=10.0, checkpoint=prev_path))
        clean = scan_rows(scanners, reals + ours, tmp, False)
        degraded = scan_rows(scanners, reals + ours, tmp, True)
        lines += ["### False positives on held-out real people (scanner, whole files, first 10 s)", "",
                  "| source | videos | people | called fake, shipped | called fake, previous |", "|---|---|---|---|---|"]
        real_rows = [r for r in clean if r["label"] == 0]
        for src in sorted({r["source"] for r in real_rows}) + ["all"]:
            rs = [r for r in real_rows if src in ("all", r["source"])]
            cells = [f"{sum(r[k] >= r[f'{k}_threshold'] for r in rs)}/{len(rs)}" if k in scanners else "-"
                     for k in ("shipped", "previous")]
            name = f"**{src}**" if src == "all" else src
            lines.append(f"| {name} | {len(rs)} | {len({r['identity'] for r in rs})} | {cells[0]} | {cells[1]} |")
        lines += ["", "### Our own fakes of held-out people and portraits against those real videos", "",
                  "| condition | fakes | video AUC, shipped | TPR @ 5% FPR | video AUC, previous |", "|---|---|---|---|---|"]
        for cond, rs in (("clean", clean), ("0.5x + H.264 CRF 28", degraded)):
            y = np.array([r["label"] for r in rs])
            s = {k: np.array([r[k] for r in rs], float) for k in scanners}
            prev_auc = f"{auc(y, s['previous']):.3f}" if "previous" in s else "-"
            lines.append(f"| {cond} | {int(y.sum())} | {auc(y, s['shipped']):.3f} | {tpr_at_fpr(y, s['shipped'], 0.05):.2f} | {prev_auc} |")

        # 4. throughput: a 60 s 720p video (a real clip, upscaled and looped)
        clip = [cv2.resize(f, (1280, 720)) for f in read_frames(a.data / "real_videos" / "vrt_1.mp4")]
        long = tmp / "long720p.mp4"
        with VideoWriter(long, 25, (1280, 720), crf=23) as wr:
            for k in range(60 * 25):
                wr.write(clip[k % len(clip)])
        t = time.perf_counter()
        r = Scanner(ScanConfig()).scan_file(long)
        scan_s = time.perf_counter() - t
    lines += ["", f"What the mouth network sees (`detector.mouth`), real footage and each fold of generators: [{MOUTHS.name}]({MOUTHS.name})",
              "", f"![mouth patches]({MOUTHS.name})",
              "", f"Self-blends (`detector.blend`), real training crops above, blends and masks below: [{SHEET.name}]({SHEET.name})",
              "", f"![self-blended pseudo-fakes]({SHEET.name})", "",
              f"Throughput: a 60 s 1280x720 H.264 video scanned in {scan_s:.1f} s at the default 2 sampled frames per second, "
              f"provenance check included ({r.frames_sampled} frames sampled, {r.frames_with_face} with a face). Target <= 15 s."]
    write_section("detector", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
