"""The renderer against real frames (self-reenactment on held-out people) and identity on every shared portrait.

    python benchmarks/bench_reenact.py [--data ../shared/data] [--seconds 4] [--identity-seconds 4]

1. `likeness eval reenact` on the held-out identities (`likeness.shared_data.REENACT_HELD_OUT`): each clip's first
   frame re-animated by its own tracked motion with every renderer and the still first frame, compared with the
   real frames. Writes the table and `benchmarks/reenact_contact_sheet.png`.
2. Identity: every shared portrait in which dlib finds a face speaks 4 s of speech (procedural motion, seed 0)
   through each renderer; dlib's face-recognition distance between the portrait and every 10th frame, median per
   portrait. Writes `benchmarks/renderer_before_after.png` (the same frames, warp-v1 above v2).
3. Tearing: the share of the warp that folds, every shared portrait at the expression extremes and with the head at
   its limits (`--sections folds` reruns this part alone).
4. The learned mouth's training record (`mouth`), and the colours of its interior (`colour`): how much of the
   opening is greener than neutral on every shared portrait, with and without the portrait's own colours. Writes
   `benchmarks/mouth_colour.png`.
5. Hair and background when the head moves (`hair`): the warp's stretch of the hair on every shared portrait, and
   hair and background against real frames on every held-out clip, v3 against v3 before. Writes
   `benchmarks/hair_before_after.png`.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import RESULTS, bench_parser, machine, write_section  # noqa: E402

HERE = Path(__file__).parent
SPEECH = "st_RD_Radio31_000.wav"
OLDEST_FIRST = ("warp-v1", "v2", "v3")
BEFORE_AFTER = ("lp_s9.jpg", "st_art_3.png", "st_art_7.png", "lp_s42.jpg", "st_art_8.png")  # paintings, drawings, photo


def reenact(data: Path, seconds: float) -> list[str]:
    from eval.reenact import ReenactConfig, reenact_videos, run_reenact

    cfg = ReenactConfig(reenact_videos(None, data), max_seconds=seconds)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        rep = run_reenact(cfg, Path(tmp), lambda name, i, n: print(f"[{i + 1}/{n}] {name}", flush=True))
        minutes = (time.perf_counter() - t) / 60
        shutil.copyfile(Path(tmp) / "contact_sheet.png", HERE / "reenact_contact_sheet.png")
        table = (Path(tmp) / "table.md").read_text()
    lines = ["## Renderer: self-reenactment on held-out people (`likeness eval reenact`, issue #18)", "",
             f"`python benchmarks/bench_reenact.py` ({machine()}; {len(rep['clips'])} clips, the first {seconds:g} s of "
             f"each, {cfg.size} px canvas, {minutes:.1f} min; MLflow run {rep['mlflow_run']}).", "",
             "Each clip's first frame is the portrait; every frame is tracked by the generator's own FaceMesh, encoded "
             "into the motion latent relative to that frame, rendered, and compared with the real frame aligned the "
             "same way. Mouth: the lips' box grown by a quarter of the mouth width; face: the face outline's box. "
             "Sharpness: Laplacian variance in the mouth box, rendered / real (median over frames; 1 is right). "
             "Lip opening r: correlation over frames of dlib's 68-point inner-lip opening on the rendered and on the "
             "real frame (how legibly the render shows the real mouth's movement to an independent judge). "
             "Identity: dlib's face-recognition distance to the first frame, every 5th frame (real: the real frames "
             "themselves). `still` is the first frame held still; `warp-v1` the first renderer, `v2` the exemplar mouth, "
             "`v3` (the default) the learned mouth.", "",
             table.strip()]
    clips = rep["clips"].values()
    sharp = {m: [c[m]["mouth_sharpness_ratio"] for c in clips] for m in ("still", *cfg.renderers)}
    lines += ["", "Mouth sharpness per clip (" + ", ".join(f"`{m}`" for m in sharp) + "): "
              + "; ".join(f"{name} " + " / ".join(f"{c[m]['mouth_sharpness_ratio']:.2f}" for m in sharp)
                          for name, c in rep["clips"].items())
              + ". Median over clips: " + ", ".join(f"{m} {np.median(v):.2f}" for m, v in sharp.items())
              + ". The mean is led by two 224 px clips (a VoxCeleb2 and an LRS3 crop, the portrait enlarged 2.5x) whose "
              "real frames are soft. In the LRS3 clip the head pitches by up to 0.46 rad: spikes of skin stood out of "
              "the mouth corner until 2026-12-06 (v3 18.9 before the fix), a sharp jaw line against the background "
              "remains. In the VoxCeleb2 clip the speaker presses the lips together (lower_lip about -2, beyond the "
              "expression's range): the crossed lips drew a jagged dark seam until the seam was smoothed "
              "(2026-12-06; v3 13.2 before, the LRS3 clip 13.7). The median was added "
              "after seeing these figures. The still frame's lip opening r is 0: dlib finds the face afresh in every "
              "frame (`eval.judges.Landmarks68`), so an unchanging image reads the same; until 2026-12-07 a box that "
              "followed the last frame's landmarks gave it jitter (0.104) and read the others' lips less well."]
    if rep["errors"]:
        lines += ["", "Skipped: " + "; ".join(f"{e['video']} ({e['error']})" for e in rep["errors"])]
    lines += ["", f"![real | still | {' | '.join(cfg.renderers)} mouths at the widest openings](reenact_contact_sheet.png)"]
    return lines


def identity(data: Path, seconds: float) -> list[str]:
    from eval.judges import face_embedding
    from generator.audio import features, load_audio
    from generator.face.analysis import analyze, load_image
    from generator.motion.controls import Controls
    from generator.motion.procedural import procedural_motion
    from generator.render.renderer import RENDERERS, make_renderer
    from likeness.errors import UserError

    audio = load_audio(data / "speech" / SPEECH, 16_000)
    motion = procedural_motion(features(audio, 25.0), Controls(), 0)[: int(seconds * 25)]
    rows, sheet = [], []
    for path in sorted((data / "portraits").iterdir()):
        rgb = load_image(path)
        anchor = face_embedding(rgb)
        if anchor is None:
            continue
        try:
            portrait = analyze(rgb, 512, what=path.name)
        except UserError:
            continue
        still = face_embedding(portrait.image)  # the canvas unanimated: what alignment alone costs
        row = {"portrait": path.stem, "still": np.nan if still is None else float(np.linalg.norm(still - anchor))}
        widest = int(np.argmax(motion.expr[:, 0]))
        for name in RENDERERS:
            r = make_renderer(portrait, name)
            d = []
            for i in range(0, len(motion), 10):
                emb = face_embedding(r.render(motion.pose[i], motion.expr[i]))
                d.append(np.nan if emb is None else float(np.linalg.norm(emb - anchor)))
            row[name] = float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")
            if path.name in BEFORE_AFTER:
                sheet.append((path.name, name, r.render(motion.pose[widest], motion.expr[widest])))
        rows.append(row)
        print(path.stem, " ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "portrait"), flush=True)
    _before_after(sheet)
    names = ["still", *RENDERERS]
    lines = ["## Renderer: identity on every shared portrait (issue #18)", "",
             f"`python benchmarks/bench_reenact.py` ({machine()}). {len(rows)} portraits in which dlib finds a face, "
             f"{seconds:g} s of `{SPEECH}` with the procedural motion (seed 0); dlib face-recognition distance between "
             "the portrait file and every 10th rendered frame, median per portrait (dlib's same-person threshold is 0.6; "
             "the issue's target is < 0.25). `still`: the aligned canvas itself, unanimated, so what alignment and "
             "resampling alone cost.", "",
             "| renderer | median over portraits | worst portrait | portraits < 0.25 |", "|---|---|---|---|"]
    for n in names:
        v = np.array([r[n] for r in rows])
        worst = rows[int(np.nanargmax(v))]["portrait"]
        lines.append(f"| {n} | {np.nanmedian(v):.3f} | {np.nanmax(v):.3f} ({worst}) | {int(np.sum(v < 0.25))} of {len(v)} |")
    lines += ["", "| portrait | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {r['portrait']} | " + " | ".join(f"{r[n]:.3f}" for n in names) + " |" for r in rows]
    lines += ["", f"![{', '.join(OLDEST_FIRST)} from top to bottom at the widest opening of the clip]"
                  "(renderer_before_after.png)"]
    return lines


def mouth_training(mouth_data: Path = Path("data/mouth")) -> list[str]:
    """The shipped learned mouth's training record (`generator/render/assets/mouth_net.json`), and its validation L1
    with closed references where the training data (`likeness train mouth-data`) is at hand."""
    import json

    from generator.render.inpaint import MODEL_PATH

    info = json.loads(MODEL_PATH.with_suffix(".json").read_text())
    c = info["config"]
    closed = closed_reference_l1(mouth_data, info)
    cells = ("| {:.3f} |".format(closed[0]), "| - |", "| {:.3f} |".format(closed[1])) if closed else ("| - |",) * 3
    return ["## Renderer: the learned mouth interior, training (issue #18)", "",
            f"`make train-renderer` (`likeness train mouth`, {c['steps']} steps of {c['batch']} pairs, seed {c['seed']}; "
            f"{info['train_minutes']} min on 2 CPU cores; MLflow run {info['mlflow_run']}; data hash "
            f"{info['data_hash']}). {len(info['train_people'])} people train, {len(info['val_people'])} others validate "
            "(split by person; the renderer's benchmark people are never cut). L1 inside the opening, images in -1..1, "
            "on 192 fixed validation pairs (a frame's mouth with its opening masked, another frame of the clip as the "
            "reference), and on 192 pairs whose reference shows closed lips, as most portraits do (the network must "
            "then draw an interior its reference never showed" + ("" if closed else f"; not measured: no training data "
                                                                   f"with this hash at {mouth_data}") + "):", "",
            "| model | validation L1 | closed references |", "|---|---|---|",
            f"| the opening filled with the mean colour of the reference's opening (trivial baseline) | "
            f"{info['val_l1_mean_colour_fill']:.3f} " + cells[0],
            f"| the network, float32 (training) | {info['val_l1']:.3f} " + cells[1],
            f"| the network, 8-bit as shipped and run by the renderer | {info['val_l1_exported']:.3f} " + cells[2], "",
            "Validation L1 over training: " + ", ".join(f"{h['step']}: {h['val_l1']:.3f}" for h in info["history"][3::4])
            + ". " + info.get("note", "")]


def closed_reference_l1(mouth_data: Path, info: dict) -> tuple[float, float] | None:
    """(mean-colour fill, shipped network) validation L1 on pairs with closed references, on the shipped model's own
    validation people; None unless `mouth_data` holds the data it was trained on."""
    import json

    import torch

    from generator.render.inpaint import MODEL_PATH
    from generator.render.train_mouth import (load_mouth_clips, onnx_l1, reference_fill_l1, split_people,
                                              validation_set)

    index = mouth_data / "index.json"
    if not index.is_file() or json.loads(index.read_text())["hash"] != info["data_hash"]:
        return None
    c = info["config"]
    clips, _ = load_mouth_clips(mouth_data)
    val = split_people(clips, float(c["val_share"]), int(c["seed"]))[1]
    x, y, m = validation_set(val, 192, int(c["seed"]), closed_ref=1.0)
    return reference_fill_l1(*(torch.from_numpy(a) for a in (x, y, m))), onnx_l1(MODEL_PATH, x, y, m)


def _portraits(data: Path, size: int = 256):
    """(path, portrait) for every shared portrait in which the face analysis finds a face, in file order."""
    from generator.face.analysis import analyze_file
    from likeness.errors import UserError

    for path in sorted((data / "portraits").iterdir()):
        try:
            yield path, analyze_file(path, size)
        except UserError:
            continue


def folds(data: Path) -> list[str]:
    """Tearing: where the forward warp's Jacobian is <= 0 (outside the slits of the lips and eyes), per renderer."""
    from generator import latent
    from generator.render.renderer import RENDERERS, make_renderer

    pose0, extremes = np.zeros(len(latent.POSE)), latent.EXPRESSION_EXTREMES
    stats: dict[str, dict[str, list]] = {n: {"expr": [], "pose": []} for n in RENDERERS}
    count = 0
    for _, portrait in _portraits(data):
        count += 1
        for name in RENDERERS:
            r = make_renderer(portrait, name)
            for k, v in extremes.items():
                share = r.fold(pose0, _expr(**{k: v}))[1]
                stats[name]["expr"].append((int(round(share * r.warp.shape[0] * r.warp.shape[1])), share))
            stats[name]["pose"] += [r.fold(np.array(p), _expr(jaw_open=j))[1] for p in latent.POSE_LIMITS for j in (0.5, 1)]
    lines = ["## Renderer: tearing (issue #18)", "",
             f"`python benchmarks/bench_reenact.py` ({machine()}). Every one of the {count} shared portraits with a "
             "face, at 256 px: share of the warped region where the forward warp's Jacobian determinant is <= 0 (a "
             "fold: tearing), outside the slits of the lips and eyes. Expression extremes: "
             + ", ".join(f"{k} {v:g}" for k, v in extremes.items()) + ", one at a time, head still. Head at "
             "its limits (yaw 0.2, pitch 0.16, roll 0.12 rad, shifts of 0.3 inter-ocular distances) with the jaw half "
             "and fully open. `tests/test_mouth.py` asserts the v2 columns.", "",
             "| renderer | expression extremes: cases with a fold | most pixels folded in one case | mean folded "
             "share | head at limits: mean folded share | worst case |", "|---|---|---|---|---|---|"]
    for name, st in stats.items():
        ex, po = np.array([f[1] for f in st["expr"]]), np.array(st["pose"])
        px = max(f[0] for f in st["expr"])
        lines.append(f"| {name} | {int((ex > 0).sum())} of {len(ex)} | {px} | {ex.mean():.5f} | {po.mean():.4f} "
                     f"| {po.max():.4f} |")
    return lines


HAIR_SHEET = ("lp_s9.jpg", "st_art_7.png", "lp_s42.jpg")
INSIDE = "v3, ring inside the canvas"


def _v3_with(portrait, **change):
    """v3 with some of its `RenderConfig` fields as they were."""
    import dataclasses

    from generator.render.renderer import RENDERERS, Renderer

    return Renderer(portrait, dataclasses.replace(RENDERERS["v3"], **change))


def _v3_before(portrait):
    """v3 as it was until 2026-12-07: the head ring at 1.25 face outlines, the background warped with the rest."""
    return _v3_with(portrait, hair=False, off_canvas=False)


def _v3_inside(portrait):
    """v3 before its ring went past the canvas edge (2026-12-07): HAIR_BAND inside it even where hair runs off it."""
    return _v3_with(portrait, off_canvas=False)


def hair(data: Path, seconds: float) -> list[str]:
    """Hair and background when the head moves: how much the warp stretches the hair (every shared portrait, head at
    its limits) and how close hair and background come to real frames (self-reenactment on every held-out clip),
    v3 against v3 before the hair moved with the head. Writes `benchmarks/hair_before_after.png`."""
    import cv2
    from PIL import Image
    from skimage.metrics import structural_similarity

    from eval.reenact import _boxes, compare, person_regions, track
    from generator import latent
    from generator.face.analysis import analyze_file
    from generator.render.renderer import RENDERERS, make_renderer
    from likeness.shared_data import RENDER_HELD_OUT

    names = [*OLDEST_FIRST[:-1], "v3 before", INSIDE, "v3"]
    build = {n: (lambda p, n=n: make_renderer(p, n)) for n in RENDERERS} | {"v3 before": _v3_before, INSIDE: _v3_inside}
    stretch: dict[str, list[float]] = {n: [] for n in names}
    moved: dict[str, list[float]] = {n: [] for n in names}
    sheet: list[np.ndarray] = []
    count = 0
    for path, portrait in _portraits(data):
        count += 1
        hair_px, far = person_regions(portrait)
        for n in names:
            r = build[n](portrait)
            for pose in map(np.array, latent.POSE_LIMITS):
                det = np.ones(hair_px.shape)
                x0, y0, x1, y1 = r.warp.roi
                det[y0:y1, x0:x1] = r.warp.jacobian(*r.displacements(pose, _expr())[:2])
                if hair_px.sum() > 50:  # stretched or squeezed past 1.5x in area, folds included
                    stretch[n].append(float(np.mean(np.abs(np.log(np.clip(det[hair_px], 1e-3, None))) > np.log(1.5))))
                out = r.render(pose, _expr())
                moved[n].append(float((out[far] != portrait.image[far]).any(1).mean()) if far.any() else 0.0)
        if path.name in HAIR_SHEET:  # the head and hair (the upper 70% of the canvas), before | now at each limit
            big = analyze_file(path, 512)
            rs = [build[n](big) for n in ("v3 before", "v3")]
            sheet.append(np.concatenate([r.render(np.array(p), _expr())[:360] for p in latent.POSE_LIMITS[:2]
                                         for r in rs], 1))
    if sheet:
        Image.fromarray(cv2.resize(np.concatenate(sheet, 0), None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)).save(
            HERE / "hair_before_after.png", optimize=True)

    clips = {p.stem: p for p in (data / "real_videos").iterdir()}
    methods = ["still", "v3 before", INSIDE, "v3"]
    ssim: dict[str, dict[str, list[float]]] = {m: {k: [] for k in ("hair", "background", "face", "mouth")}
                                               for m in methods}
    used = [c for c in RENDER_HELD_OUT if c in clips]
    for c in used:
        t = track(clips[c], 512, seconds)
        hair_px, far = person_regions(t.portrait)
        rend = {n: build[n](t.portrait) for n in methods[1:]}
        per: dict[str, dict[str, list[float]]] = {m: {k: [] for k in ssim[m]} for m in methods}
        for i, real in enumerate(t.frames):
            face, mouth = _boxes(t.landmarks[i], 512)
            grey = cv2.cvtColor(real, cv2.COLOR_RGB2GRAY)
            outs = {"still": t.portrait.image} | {n: r.render(t.pose[i], t.expr[i], sequence=True) for n, r in rend.items()}
            for m, img in outs.items():
                smap = structural_similarity(grey, cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), data_range=255, full=True)[1]
                for k, region in (("hair", hair_px), ("background", far)):
                    if region.sum() > 200:
                        per[m][k].append(float(smap[region].mean()))
                cmp = compare(real, img, face, mouth)
                per[m]["face"].append(cmp["face_ssim"])
                per[m]["mouth"].append(cmp["mouth_ssim"])
        for m in methods:
            for k, v in per[m].items():
                if v:
                    ssim[m][k].append(float(np.mean(v)))
    lines = ["## Renderer: hair and background when the head moves (issue #18)", "",
             f"`python benchmarks/bench_reenact.py --sections hair` ({machine()}). `v3 before`: v3 until 2026-12-07, "
             "its head ring at 1.25 face outlines above the mouth, so a turning head stretched the hair beyond it and "
             "moved the background with the rest of the warp. `v3`: the ring past the person's outline "
             "(`renderer.hair_rings`, mediapipe's selfie segmentation, `generator.face.segment`), and every pixel "
             "that the person covers neither in the portrait nor in the frame kept as it was "
             "(`generator.render.backdrop`). `" + INSIDE + "`: v3 until its ring went past the canvas edge (the "
             "second change of 2026-12-07): the ring kept HAIR_BAND inside the canvas even where hair runs off it, so "
             "the hair between stretched (`v3` takes the ring past the edge there, `renderer._runs_off`).", "",
             f"Every one of the {count} shared portraits with a face, 256 px, the head at each of its "
             f"{len(latent.POSE_LIMITS)} limits (`latent.POSE_LIMITS`), no expression. Hair stretched: the share of the "
             "hair (the person outside the face outline, above the mouth) whose area the warp changes by more than "
             "1.5x either way (its Jacobian's determinant above 1.5 or below 1/1.5, folds included); background "
             "moved: the share of the background far from the person (8% of the canvas) that changed.", "",
             "| renderer | hair stretched, mean over portraits and poses | worst case | background moved |",
             "|---|---|---|---|"]
    for n in names:
        st = np.array(stretch[n])
        lines.append(f"| {n} | {st.mean():.3f} | {st.max():.3f} | {np.mean(moved[n]):.3f} |")
    lines += ["", f"Self-reenactment (as in the table above, the first {seconds:g} s, 512 px) on all {len(used)} "
              "held-out clips of the renderer (`likeness.shared_data.RENDER_HELD_OUT`): SSIM (grey) over the "
              "portrait's hair and over its background far from the person, against the real frames; face and "
              "mouth SSIM as above. Mean over clips.", "",
              "| method | hair SSIM | background SSIM | face SSIM | mouth SSIM |", "|---|---|---|---|---|"]
    for m in methods:
        lines.append(f"| {m} | " + " | ".join(f"{np.mean(ssim[m][k]):.4f}" for k in ("hair", "background", "face",
                                                                                       "mouth")) + " |")
    lines += ["", "![v3 before | v3 with the head at one limit, then at the other, " + ", ".join(
        sorted(Path(n).stem for n in HAIR_SHEET)) + " from top to bottom](hair_before_after.png)"]
    return lines


#: Lips drawn back with the jaw a little open: a frame of `make demo` (the DiT on the Mona Lisa) that shows teeth.
TEETH = {"jaw_open": 0.18, "mouth_stretch": -0.26, "lip_pucker": -0.66, "upper_lip": 0.51, "lower_lip": 1.18}
COLOUR_SHEET = ("lp_s5.jpg", "lp_s9.jpg", "st_art_0.png", "st_art_3.png", "st_happy.png")  # in file order


def colour(data: Path) -> list[str]:
    """The learned interior's colours: how much of the opening is greener than neutral (CIELAB a* < 0), with the
    network's own colours (before) and the portrait's lips and teeth (`inpaint.tissue_colour`, now), on every shared
    portrait with a face; real open mouths of the held-out clips beside them. Writes `mouth_colour.png`."""
    from PIL import Image

    from eval.reenact import green_share
    from generator.face.analysis import analyze, load_image
    from generator.render.mouth import LearnedMouth
    from generator.render.renderer import make_renderer
    from likeness.errors import UserError

    poses = {"lips drawn back (a demo frame)": _expr(**TEETH), "jaw 0.3": _expr(jaw_open=0.3)}
    shares: dict[str, dict[str, list[float]]] = {k: {"before": [], "now": []} for k in poses}
    worst: dict[str, tuple[float, str]] = {}
    cells: dict[str, list[np.ndarray]] = {"before": [], "now": []}
    count = 0
    for path in sorted((data / "portraits").iterdir()):
        try:
            portrait = analyze(load_image(path), 512, what=path.name)
        except UserError:
            continue
        count += 1
        for when, on in (("before", False), ("now", True)):
            r = make_renderer(portrait, "v3")
            r.mouth = LearnedMouth(portrait.image, portrait.landmarks, portrait.upscale, colour=on)
            for k, ex in poses.items():
                out, lm = r.render(np.zeros(6), ex), r.landmarks(np.zeros(6), ex)
                g = green_share(out, lm)
                if g is not None:
                    shares[k][when].append(g[0])
                    if g[0] > worst.get(when, (-1.0, ""))[0]:
                        worst[when] = (g[0], f"{path.stem}, {k}")
                if path.name in COLOUR_SHEET:
                    cells[when].append(_mouth_crop(out, lm))
    real = real_green_share(data)
    if cells["now"]:
        Image.fromarray(np.concatenate([np.concatenate(cells[w], 1) for w in ("before", "now")], 0)).save(
            HERE / "mouth_colour.png", optimize=True)
    lines = ["## Renderer: the colours of the learned interior (issue #18)", "",
             f"`python benchmarks/bench_reenact.py --sections colour` ({machine()}). Every one of the {count} shared "
             "portraits with a face, 512 px, v3, head still: share of the opening (inside the inner lips, one pixel in) "
             "greener than neutral (CIELAB a* < 0). `before`: the network's own colours; `now`: each pixel's "
             "brightness drawn by the network in the colour of the portrait's lips (dark) or eye whites (as bright as "
             "they are), `generator.render.inpaint.tissue_colour`. Real: the open mouths (inner-lip gap above 0.05 "
             f"inter-ocular) of the held-out reenactment clips' first 4 s, tracked by FaceMesh: {real[0]:.3f} of "
             f"{real[1]} pixels in {real[2]} frames.", "",
             "| mouth | portraits | mean green share, before | now | portraits above 5%, before | now |",
             "|---|---|---|---|---|---|"]
    for k, v in shares.items():
        b, n = np.array(v["before"]), np.array(v["now"])
        lines.append(f"| {k} | {len(n)} | {b.mean():.3f} | {n.mean():.3f} | {int((b > 0.05).sum())} | "
                     f"{int((n > 0.05).sum())} |")
    lines += ["", "Greenest case: before " + f"{worst['before'][0]:.2f} ({worst['before'][1]}), now "
              f"{worst['now'][0]:.2f} ({worst['now'][1]}).", "",
              "![v3 before (top) and now (bottom): " + ", ".join(Path(n).stem for n in COLOUR_SHEET)
              + ", lips drawn back and jaw 0.3](mouth_colour.png)"]
    return lines


def real_green_share(data: Path, seconds: float = 4.0) -> tuple[float, int, int]:
    """(green share, pixels, frames) of the real open mouths in the reenactment's held-out clips."""
    from eval.reenact import green_share, reenact_videos
    from generator.face.analysis import FaceMesh
    from generator.face.expression import mouth_opening
    from generator.video import probe, read_frames

    green, total, frames = 0.0, 0, 0
    for path in reenact_videos(None, data):
        mesh = FaceMesh(static=False, max_faces=1)
        try:
            for f in read_frames(path, int(round(seconds * probe(path).get("fps", 25)))):
                faces = mesh(f)
                g = green_share(f, faces[0]) if faces and mouth_opening(faces[0]) > 0.05 else None
                if g is not None:
                    green, total, frames = green + g[0] * g[1], total + g[1], frames + 1
        finally:
            mesh.close()
    return (green / total if total else float("nan")), total, frames


def _mouth_crop(frame: np.ndarray, lm: np.ndarray, px: int = 160) -> np.ndarray:
    """The contact sheet's square around the lips (`eval.reenact`), `px` wide."""
    import cv2

    from eval.reenact import _crop, _square

    return cv2.resize(_crop(frame, _square(lm, frame.shape[0])), (px, px), interpolation=cv2.INTER_AREA)


def _expr(**kw: float) -> np.ndarray:
    """An expression vector with the named coefficients set, the rest 0."""
    from generator import latent

    v = np.zeros(len(latent.EXPRESSION))
    for k, x in kw.items():
        v[latent.EXPRESSION.index(k)] = x
    return v


def _before_after(sheet: list[tuple[str, str, np.ndarray]]) -> None:
    """The renderers from the oldest (top) to the newest, one column per portrait: the lower face at the clip's widest
    opening."""
    from PIL import Image

    from generator.render.renderer import RENDERERS

    cols = []
    for portrait in BEFORE_AFTER:
        frames = {n: f for p, n, f in sheet if p == portrait}
        if len(frames) == len(RENDERERS):
            cols.append(np.concatenate([frames[n][200:456, 128:384] for n in OLDEST_FIRST], 0))
    if cols:
        Image.fromarray(np.concatenate(cols, 1)).save(HERE / "renderer_before_after.png", optimize=True)


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--identity-seconds", type=float, default=4.0)
    ap.add_argument("--sections", default="reenact,identity,folds,mouth,colour,hair", help="comma-separated subset to rerun")
    a = ap.parse_args()
    if not (a.data / "real_videos").is_dir():
        sys.exit(f"benchmark inputs not found under {a.data}")
    sections = a.sections.split(",")
    if "reenact" in sections:
        write_section("reenact", "\n".join(reenact(a.data, a.seconds)))
    if "identity" in sections:
        write_section("identity", "\n".join(identity(a.data, a.identity_seconds)))
    if "folds" in sections:
        write_section("folds", "\n".join(folds(a.data)))
    if "mouth" in sections:
        write_section("mouth", "\n".join(mouth_training()))
    if "colour" in sections:
        write_section("colour", "\n".join(colour(a.data)))
    if "hair" in sections:
        write_section("hair", "\n".join(hair(a.data, a.seconds)))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
