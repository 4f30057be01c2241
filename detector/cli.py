"""`likeness scan` and `likeness train detector-data|detector`: the detector's front door."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from detector.sources import FOLDS
from likeness.console import friendly_errors, progress_bar


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    app.command("scan")(scan)
    train_app.command("detector-data")(detector_data)
    train_app.command("detector")(train_detector)


@friendly_errors
def scan(
    paths: list[Path] = typer.Argument(..., help="Video files or folders (searched recursively)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per file (schema 6)."),
    report: Path = typer.Option(None, "--report", help="Also write an HTML report here."),
    csv_out: Path = typer.Option(None, "--csv", help="Also write the results here as CSV (one row per file)."),
    rate: float = typer.Option(2.0, help="Frames sampled per second of video."),
    max_seconds: float = typer.Option(None, help="Scan only the first N seconds of each video."),
    no_provenance: bool = typer.Option(False, "--no-provenance", help="Skip the watermark/manifest check."),
    temporal: bool = typer.Option(True, "--temporal/--frames-only",
                                  help="Also weigh how exactly the face's texture one second later is a warp of it now (left "
                                       "out for a face that does not move); --frames-only: the mouth network alone."),
    reference: bool = typer.Option(False, "--reference",
                                   help="Experimental: score relative to a rendering of the same face (about 1 s more per video)."),
    checkpoint: Path = typer.Option(None, help="Detector checkpoint (default: the shipped one)."),
    ray_address: str = typer.Option(None, help="Scan on Ray: 'auto' (a running cluster), 'local', or an address."),
) -> None:
    """Score videos as real or generated: probability, verdict, per-second timeline, faces, provenance.

    Exit code 0 when every file was scanned (whatever the verdicts), 2 on bad arguments."""
    from detector.scan import ScanConfig, scan as run
    from likeness.files import check_destination

    if report:
        check_destination(report, "--report")
    if csv_out:
        check_destination(csv_out, "--csv")
    cfg = ScanConfig(rate=rate, max_seconds=max_seconds, provenance=not no_provenance,
                     temporal=temporal, reference=reference, checkpoint=checkpoint)
    with progress_bar("scanning") as update:
        results = run(paths, cfg, update, ray_address)
    for r in results:
        if as_json:
            typer.echo(json.dumps(r.to_dict()))
        else:
            p = "" if r.probability_fake is None else f" P(fake)={r.probability_fake:.2f}"
            extra = r.error or f"{r.face_tracks} face track(s), {r.frames_with_face}/{r.frames_sampled} frames with a face"
            prov = f"; provenance: {r.provenance['verdict']}" if r.provenance else ""
            typer.echo(f"{r.verdict.upper():8s}{p}  {r.file}  ({extra}{prov})")
    if not as_json and any(r.threshold is not None for r in results):
        from detector.model import threshold_meaning

        threshold = next(r.threshold for r in results if r.threshold is not None)
        typer.echo(f"verdict FAKE at P(fake) >= {threshold:.2f}: {threshold_meaning(checkpoint)}")
    if report:
        from detector.report import write_report

        write_report(results, report, checkpoint)
        if not as_json:
            typer.echo(f"report: {report}")
    if csv_out:
        from detector.scan import results_csv
        from likeness.files import atomic_path

        with atomic_path(csv_out) as tmp:
            Path(tmp).write_text(results_csv(r.to_dict() for r in results))
        if not as_json:
            typer.echo(f"csv: {csv_out}")


@friendly_errors
def detector_data(
    real: Path = typer.Option(..., "--real", help="Folder of real talking-face videos."),
    portraits: Path = typer.Option(None, help="Folder of portraits to animate as extra fakes."),
    speech: Path = typer.Option(None, help="Folder of speech clips for portrait fakes and silent videos."),
    other_fakes: Path = typer.Option(None, "--other-fakes", help="Folder of other generators' videos (family: the file-name "
                                     "prefix, or the subfolder)."),
    people: int = typer.Option(64, help="Real people re-enacted by our generator (one clip each)."),
    out: Path = typer.Option(Path("data/detector"), help="Output folder."),
    seconds: float = typer.Option(6.0, help="Length of each rendered fake."),
    stills: bool = typer.Option(False, "--stills", help="Also give the real class each portrait itself, as a slow pan "
                                "(so a portrait's look is not a cue; lowers held-out AUC, see benchmarks/RESULTS.md)."),
    seed: int = typer.Option(0),
) -> None:
    """Render fakes with the generator and crop faces from real and fake videos, split by identity."""
    from detector.data import DataConfig, build

    cfg = DataConfig(real, out, portraits, speech, other_fakes, fake_seconds=seconds, reenact_people=people,
                     stills=stills, seed=seed)
    with progress_bar("rendering fakes") as render, progress_bar("cropping faces") as crop:
        index = build(cfg, render, crop)
    skipped = [f for f in index["fakes"] if "skipped" in f]
    typer.echo(f"{index['crops']} crops ({index['real_crops']} real, {index['fake_crops']} generated) -> {out}; "
               f"{len(index['test_identities'])} test identities; {len(skipped)} inputs skipped")


@friendly_errors
def train_detector(
    data: Path = typer.Option(Path("data/detector"), help="Crops from `likeness train detector-data`."),
    out: Path = typer.Option(None, help="Checkpoint path (default: the shipped detector/assets/detector.pt)."),
    arch: str = typer.Option("resnet18", help="timm architecture, trained from scratch."),
    steps: int = typer.Option(None, help="Optimiser steps (default: the shipped recipe's)."),
    mouth_steps: int = typer.Option(None, "--mouth-steps", help="Optimiser steps of the mouth network; 0: none "
                                    "(default: the shipped recipe's)."),
    sbi: float = typer.Option(None, help="Share of each batch's generated half made of self-blended real crops "
                              "(default: the shipped recipe's)."),
    hold_out: list[str] = typer.Option([], "--hold-out", help="Generator fold to leave out of training (repeatable): "
                                       + ", ".join(FOLDS) + "."),
    no_mark_real: bool = typer.Option(False, "--no-mark-real", help="Do not give real crops the watermark (ablation)."),
    seed: int = typer.Option(0),
    tracking_uri: str = typer.Option(None, help="MLflow server; default: an embedded store in ./mlruns."),
) -> None:
    """Train the detector; logs params, curves, the ROC plot and the checkpoint to MLflow."""
    from detector.model import DEFAULT_CHECKPOINT, DetectorConfig
    from detector.train import TrainConfig, train
    from likeness.errors import UserError

    unknown = [f for f in hold_out if f not in FOLDS]
    if unknown:
        raise UserError(f"unknown fold {unknown[0]!r} for --hold-out; choose from {', '.join(FOLDS)}")
    cfg = TrainConfig(data=data, out=out or DEFAULT_CHECKPOINT, mark_real=not no_mark_real, seed=seed, hold_out=tuple(hold_out),
                      tracking_uri=tracking_uri, model=DetectorConfig(arch=arch))
    from dataclasses import replace

    if steps is not None:
        cfg = replace(cfg, steps=steps)
    if mouth_steps is not None:
        cfg = replace(cfg, mouth_steps=mouth_steps)
    if sbi is not None:
        cfg = replace(cfg, sbi=sbi)
    with progress_bar("training") as update:
        info = train(cfg, lambda s, n, m: update(s, n))
    extra = "".join(f", {k.replace('_', '-')} {info[f'test_video_auc_{k}']:.3f}" for k in ("frames_only", "reference")
                    if f"test_video_auc_{k}" in info)
    typer.echo(f"trained in {info['train_minutes']:.1f} min: test AUC frame {info['test_frame_auc']:.3f}, "
               f"video {info['test_video_auc']:.3f}{extra} -> {cfg.out} (MLflow run {info['mlflow_run']})")
