"""`likeness generate`: the generator's front door."""
from __future__ import annotations

from pathlib import Path

import typer

from likeness.console import friendly_errors, progress_bar


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


@friendly_errors
def generate(
    image: Path = typer.Option(..., "--image", "-i", help="Portrait photo or painting with one visible face."),
    audio: Path = typer.Option(..., "--audio", "-a", help="Speech or song: wav, mp3, m4a, flac, or a video's soundtrack."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .mp4 (H.264 + AAC)."),
    fps: float = typer.Option(25.0, help="Output frame rate."),
    size: int = typer.Option(512, help="Output width and height in pixels (multiple of 16)."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same video."),
    motion: str = typer.Option("procedural", help="Motion model: procedural."),
    pose_scale: float = typer.Option(1.0, help="Head-motion amplitude (0 keeps the head still)."),
    gaze: str = typer.Option("0,0", help="Main gaze direction 'x,y' in [-1, 1], right/down positive."),
    head_distance: float = typer.Option(0.0, help="Log scale of the head; positive is closer."),
    emotion: str = typer.Option("neutral", help="neutral, happy, sad, angry or surprised."),
    frames_dir: Path = typer.Option(None, "--frames-dir", help="Also write every frame as a watermarked, signed PNG."),
    cert: Path = typer.Option(None, help="Your signing certificate chain (PEM, leaf first); default: local keys."),
    key: Path = typer.Option(None, help="The private key (PEM) for --cert."),
) -> None:
    """Render a talking-face video of IMAGE speaking AUDIO, watermarked and signed (C2PA)."""
    from generator.motion.controls import Controls, parse_gaze
    from generator.pipeline import GenerateConfig, generate as run
    from provenance.keys import load_identity

    cfg = GenerateConfig(image, audio, out, fps=fps, size=size, seed=seed, motion=motion,
                         controls=Controls(gaze=parse_gaze(gaze), head_distance=head_distance,
                                           emotion=emotion, pose_scale=pose_scale),
                         frames_dir=frames_dir, identity=load_identity(cert, key))
    with progress_bar("rendering") as update:
        result = run(cfg, progress=update)
    typer.echo(result.summary())
