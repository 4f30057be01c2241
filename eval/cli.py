"""`likeness eval run`: the evaluation harness's front door."""
from __future__ import annotations

from pathlib import Path

import typer

from likeness.console import friendly_errors, progress_bar

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(no_args_is_help=True, help="Measure realism and detectability (logged to MLflow).")
    eval_app.command("run")(run)
    app.add_typer(eval_app, name="eval")


@friendly_errors
def run(
    suite: str = typer.Option("quick", help="quick (a few minutes, the CI smoke test) or full (the published numbers)."),
    out: Path = typer.Option(None, help="Output folder (default: reports/eval-SUITE)."),
    data: Path = typer.Option(DEFAULT_SHARED, help="Shared data folder with portraits/, speech/, real_videos/."),
    portraits: list[Path] = typer.Option(None, "--portrait", help="Use these portraits instead of the suite's."),
    speech: list[Path] = typer.Option(None, "--speech", help="Use these speech clips instead of the suite's."),
    real: list[Path] = typer.Option(None, "--real", help="Use these real videos instead of the suite's."),
    detector: list[str] = typer.Option(None, "--detector", help="Extra detector NAME=module:function (frames -> score, "
                                       "or a class with .name and .score(path))."),
    seed: int = typer.Option(0),
    tracking_uri: str = typer.Option(None, help="MLflow server; default: an embedded store in ./mlruns."),
) -> None:
    """Render an evaluation set and measure realism (identity, lip sync, stability, motion, sharpness) and
    detectability (detector AUC/EER/TPR, watermark and C2PA survival) across a perturbation matrix."""
    from eval.run import run_eval
    from eval.suite import suite as make_suite

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
