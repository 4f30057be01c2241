"""`likeness eval run`: the evaluation harness's front door."""
from __future__ import annotations

from pathlib import Path

import typer

from likeness.console import friendly_errors, progress_bar

from likeness.shared_data import DEFAULT_SHARED


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(no_args_is_help=True, help="Measure realism and detectability (logged to MLflow).")
    eval_app.command("run")(run)
    eval_app.command("reenact")(reenact)
    app.add_typer(eval_app, name="eval")


@friendly_errors
def run(
    suite: str = typer.Option("quick", help="quick (a few minutes, the CI smoke test), full (the published numbers) or "
                              "xgen (detectors on your labelled folders: --real and --fakes)."),
    out: Path = typer.Option(None, help="Output folder (default: reports/eval-SUITE)."),
    data: Path = typer.Option(DEFAULT_SHARED, help="Shared data folder with portraits/, speech/, real_videos/."),
    portraits: list[Path] = typer.Option(None, "--portrait", help="Use these portraits instead of the suite's."),
    speech: list[Path] = typer.Option(None, "--speech", help="Use these speech clips instead of the suite's."),
    real: list[Path] = typer.Option(None, "--real", help="Use these real videos (files or folders) instead of the suite's."),
    fakes: list[Path] = typer.Option(None, "--fakes", help="xgen: folders of fakes (family: the subfolder or the "
                                     "file-name prefix)."),
    detector: list[str] = typer.Option(None, "--detector", help="Extra detector NAME=module:function (frames -> score, "
                                       "or a class with .name and .score(path))."),
    seed: int = typer.Option(0),
    tracking_uri: str = typer.Option(None, help="MLflow server; default: an embedded store in ./mlruns."),
) -> None:
    """Render an evaluation set and measure realism (identity, lip sync, stability, motion, sharpness) and
    detectability (detector AUC/EER/TPR, watermark and C2PA survival) across a perturbation matrix."""
    from eval.run import run_eval
    from eval.suite import suite as make_suite

    if suite == "xgen":
        return _xgen(real or [], fakes or [], out or Path("reports/eval-xgen"), detector or [], tracking_uri)
    cfg = make_suite(suite, data)
    cfg.seed = seed
    cfg.portraits, cfg.speech, cfg.real_videos = portraits or cfg.portraits, speech or cfg.speech, real or cfg.real_videos
    out = out or Path("reports") / f"eval-{suite}"
    with progress_bar("evaluating") as update:
        m = run_eval(cfg, out, detector or [], tracking_uri, lambda stage, i, n: update(i, n, stage))
    typer.echo(f"evaluated {m['counts']['fakes']} generated and {m['counts']['reals']} real videos in "
               f"{m['run']['minutes']:.1f} min -> {out / 'report.html'}, {out / 'metrics.json'} "
               f"(MLflow run {m['run']['mlflow_run']})")
    for det, rows in m["detection"].items():
        clean = rows.get("none", {})
        typer.echo(f"  {det}: video AUC {clean.get('video_auc', float('nan')):.3f} clean"
                   + "".join(f", {p} {r['video_auc']:.3f}" for p, r in rows.items() if p != "none" and "video_auc" in r))
    if m["counts"]["errors"]:
        typer.echo(f"  {m['counts']['errors']} problems recorded (see the report)")


def _xgen(real: list[Path], fakes: list[Path], out: Path, detector: list[str], tracking_uri: str | None) -> None:
    from eval.detectors import build_detectors
    from eval.xgen import run_xgen

    with progress_bar("scoring") as update:
        m = run_xgen(real, fakes, out, build_detectors(detector), tracking_uri, lambda stage, i, n: update(i, n, stage))
    typer.echo((out / "table.md").read_text())
    typer.echo(f"{m['videos']['real']} real and {m['videos']['fake']} fake videos -> {out / 'metrics.json'} "
               f"(MLflow run {m['mlflow_run']})")
    for e in m["errors"]:
        typer.echo(f"  {e['detector']} could not score {e['video']}: {e['error']}")


@friendly_errors
def reenact(
    videos: Path = typer.Option(None, help="A folder (or one file) of real talking-face clips; default: the held-out "
                                "identities of the shared data (likeness.shared_data.REENACT_HELD_OUT)."),
    data: Path = typer.Option(DEFAULT_SHARED, help="Shared data folder (for the default clips)."),
    out: Path = typer.Option(Path("reports/reenact"), help="Output folder: metrics.json, table.md, contact_sheet.png."),
    renderer: list[str] = typer.Option(None, "--renderer", help="Renderers to compare (default: all of them); "
                                       "the still first frame is always the baseline."),
    size: int = typer.Option(512, help="Canvas size in pixels."),
    seconds: float = typer.Option(4.0, help="Seconds of each clip to reenact."),
    tracking_uri: str = typer.Option(None, help="MLflow server; default: an embedded store in ./mlruns."),
) -> None:
    """Self-reenactment: each clip's first frame re-animated by its own tracked motion, compared frame by frame
    with the real frames (PSNR, SSIM, L1 on face and mouth; mouth sharpness; dlib identity)."""
    from eval.reenact import ReenactConfig, run_reenact, reenact_videos

    cfg = ReenactConfig(reenact_videos(videos, data), size=size, max_seconds=seconds)
    if renderer:
        cfg.renderers = tuple(renderer)
    with progress_bar("reenacting") as update:
        rep = run_reenact(cfg, out, lambda name, i, n: update(i, n, name), tracking_uri)
    typer.echo((out / "table.md").read_text())
    typer.echo(f"{len(rep['clips'])} clips -> {out / 'table.md'}, {out / 'contact_sheet.png'} "
               f"(MLflow run {rep['mlflow_run']})")
    for e in rep["errors"]:
        typer.echo(f"  skipped {e['video']}: {e['error']}")
