"""`likeness generate`: the generator's front door."""
from __future__ import annotations

from pathlib import Path

import typer

from generator.options import CONTROLS, EMOTIONS, MOTION_MODELS, RENDERER_HELP, RENDERER_NAMES
from likeness.console import friendly_errors, progress_bar
from likeness.errors import UserError
from likeness.shared_data import DEFAULT_SHARED, MOTION_HELD_OUT


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("live")(live)
    train_app.command("prepare")(prepare)
    train_app.command("motion")(train_motion)
    train_app.command("articulation")(train_articulation)
    train_app.command("mouth-data")(mouth_data)
    train_app.command("mouth")(train_mouth)


@friendly_errors
def generate(
    image: Path = typer.Option(..., "--image", "-i", help="Portrait photo or painting with one visible face."),
    audio: Path = typer.Option(..., "--audio", "-a", help="Speech or song: wav, mp3, m4a, flac, or a video's soundtrack."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .mp4 (H.264 + AAC)."),
    fps: float = typer.Option(25.0, help="Output frame rate."),
    size: int = typer.Option(512, help="Output width and height in pixels (multiple of 16)."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same video."),
    motion: str = typer.Option(MOTION_MODELS[0], help=f"Motion model: {', '.join(MOTION_MODELS)}. dit: the trained "
                               "diffusion transformer, the best lip sync and the most natural head motion; "
                               "procedural: visemes of the decoded phones, the surest lip closures; articulated: the "
                               "same with the mouth real speakers make for these sounds (learned)."),
    renderer: str = typer.Option(RENDERER_NAMES[0], help=RENDERER_HELP),
    audio_scale: float = typer.Option(1.5, help="DiT classifier-free guidance scale for audio (lip sync)."),
    control_scale: float = typer.Option(1.0, help="DiT classifier-free guidance scale for gaze/distance/emotion."),
    pose_scale: float = typer.Option(CONTROLS["pose_scale"].default, help=CONTROLS["pose_scale"].help),
    gaze: str = typer.Option("0,0", help="Main gaze direction 'x,y' in [-1, 1], right/down positive."),
    head_distance: float = typer.Option(CONTROLS["head_distance"].default, help=CONTROLS["head_distance"].help),
    emotion: str = typer.Option("neutral", help=f"Emotion preset: {', '.join(EMOTIONS)}."),
    frames_dir: Path = typer.Option(None, "--frames-dir", help="Also write every frame as a watermarked, signed PNG."),
    cert: Path = typer.Option(None, help="Your signing certificate chain (PEM, leaf first); default: local keys."),
    key: Path = typer.Option(None, help="The private key (PEM) for --cert."),
) -> None:
    """Render a talking-face video of IMAGE speaking AUDIO, watermarked and signed (C2PA)."""
    from generator.motion.controls import Controls, parse_gaze
    from generator.pipeline import GenerateConfig, generate as run
    from provenance.keys import load_identity

    cfg = GenerateConfig(image, audio, out, fps=fps, size=size, seed=seed, motion=motion, renderer=renderer,
                         audio_scale=audio_scale, control_scale=control_scale,
                         controls=Controls(gaze=parse_gaze(gaze), head_distance=head_distance,
                                           emotion=emotion, pose_scale=pose_scale),
                         frames_dir=frames_dir, identity=load_identity(cert, key))
    with progress_bar("rendering") as update:
        result = run(cfg, progress=update)
    typer.echo(result.summary())


@friendly_errors
def live(
    image: Path = typer.Option(..., "--image", "-i", help="Portrait photo or painting with one visible face."),
    audio: Path = typer.Option(..., "--audio", "-a", help="Speech played into the engine as a microphone would (a live "
                               "microphone is the web app's Live page: `likeness serve`)."),
    out: Path = typer.Option(None, "--out", "-o", help="Record the session here (.mp4), signed (C2PA) when it ends."),
    size: int = typer.Option(512, help="Output width and height in pixels (multiple of 16)."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same motion."),
    chunk_ms: float = typer.Option(40.0, help="Audio chunk size in milliseconds (what a microphone hands over)."),
    fast: bool = typer.Option(False, "--fast", help="Feed the audio as fast as frames are made, not in real time."),
    phones: bool = typer.Option(True, help="Shape the lips by the phones heard (about 80 ms more latency); "
                                "--no-phones: by loudness and spectrum alone."),
    pose_scale: float = typer.Option(CONTROLS["pose_scale"].default, help=CONTROLS["pose_scale"].help),
    gaze: str = typer.Option("0,0", help="Main gaze direction 'x,y' in [-1, 1], right/down positive."),
    emotion: str = typer.Option("neutral", help=f"Emotion preset: {', '.join(EMOTIONS)}."),
) -> None:
    """Stream IMAGE speaking AUDIO in real time: every frame watermarked as it is made; prints fps and latency."""
    from generator.audio import load_audio, resample
    from generator.motion.controls import Controls, parse_gaze
    from generator.stream import RATE, LiveConfig, LiveSession, play
    from likeness.files import check_destination

    if out is not None:
        check_destination(out, "--out")
        if out.suffix.lower() != ".mp4":
            raise UserError(f"--out must be an .mp4 file, got {out.name}")
    if not 5 <= chunk_ms <= 1000:
        raise UserError(f"--chunk-ms must be between 5 and 1000, got {chunk_ms:g}")
    controls = Controls(gaze=parse_gaze(gaze), emotion=emotion, pose_scale=pose_scale)
    samples = resample(load_audio(audio), RATE).samples
    session = LiveSession(image, LiveConfig(size=size, seed=seed, controls=controls, phones=phones), record=out)
    try:
        stats = play(session, samples, chunk_ms / 1000, realtime=not fast, on_second=lambda s: typer.echo(
            f"  {s.seconds:5.1f} s  {s.fps:5.1f} fps  latency p50 {s.latency(50):4.0f} ms  dropped {s.dropped}", err=True))
        recorded = session.close()
    except BaseException:
        session.abort()
        raise
    typer.echo(stats.summary())
    if recorded:
        typer.echo(f"recorded {recorded} (watermarked, signed)")


@friendly_errors
def prepare(
    videos: Path = typer.Option(..., "--videos", help="A video file or a folder of talking-face videos (searched recursively)."),
    out: Path = typer.Option(Path("data/motion"), "--out", help="Cache folder for the prepared clips."),
) -> None:
    """Track faces and encode every frame into motion latents aligned with audio features."""
    from generator.motion.data import prepare as run

    with progress_bar("preparing") as update:
        index = run(videos, out, lambda i, n, name: update(i, n))
    typer.echo(f"prepared {len(index['clips'])} clips, {index['seconds']:.0f} s at {index['fps']:g} fps -> {out}")
    for name, why in index["skipped"].items():
        typer.echo(f"  skipped {name}: {why}")


# Options both motion trainers take.
_DATA = typer.Option(Path("data/motion"), help="Prepared clips (from `likeness train prepare`).")
_VAL = typer.Option(",".join(MOTION_HELD_OUT), help="Held-out identities (clip names), comma separated.")
_SHARED = typer.Option(DEFAULT_SHARED, help="Shared data whose videos_added.tsv names each clip's person and says "
                       "which clips carry the speaker's own voice (only those are trained on); without it: all clips.")
_TRACKING = typer.Option(None, help="MLflow server; default: an embedded store in ./mlruns.")


def _names(val: str) -> tuple[str, ...]:
    return tuple(v for v in val.split(",") if v)


@friendly_errors
def train_motion(
    data: Path = _DATA,
    out: Path = typer.Option(None, help="Checkpoint path (default: the shipped generator/motion/assets/dit.pt; its ONNX export, what generation runs, is written beside it)."),
    steps: int = typer.Option(3000, help="Optimisation steps (the final weights are kept; validation is logged, not selected on)."),
    batch: int = typer.Option(32, help="Windows per step."),
    seed: int = typer.Option(0),
    val: str = _VAL,
    shared: Path = _SHARED,
    babble: bool = typer.Option(False, help="Also train on half the clips with other clips' voices mixed under them "
                                "(5-25 dB), so the lips follow the speaker, not every voice (benchmarks/bench_noise.py; "
                                "`make train-motion` sets it)."),
    tracking_uri: str = _TRACKING,
) -> None:
    """Train the motion diffusion transformer; logs params, losses, plots and the checkpoint to MLflow."""
    from generator.motion.dit_motion import DEFAULT_CHECKPOINT
    from generator.motion.train import TrainConfig, train

    cfg = TrainConfig(data=data, out=out or DEFAULT_CHECKPOINT, steps=steps, batch=batch, seed=seed,
                      val_names=_names(val), shared=shared, babble=babble, tracking_uri=tracking_uri)
    with progress_bar("training") as update:
        info = train(cfg, lambda s, n, m: update(s, n))
    typer.echo(f"trained {steps} steps in {info['train_minutes']:.1f} min: train loss {info['final_train_loss']:.3f}, "
               f"validation loss {info['final_val_loss']:.3f} -> {cfg.out} (MLflow run {info['mlflow_run']})")


@friendly_errors
def train_articulation(
    data: Path = _DATA,
    out: Path = typer.Option(None, help="Model path (default: the shipped generator/motion/assets/articulation.npz)."),
    context: int = typer.Option(2, help="Frames of audio either side of each frame."),
    ridge: float = typer.Option(1e4, help="Ridge penalty on standardised features."),
    val: str = _VAL,
    shared: Path = _SHARED,
    tracking_uri: str = _TRACKING,
) -> None:
    """Fit the learned articulation (audio around a frame -> its mouth); logs cross-validation to MLflow."""
    from generator.motion.articulation import DEFAULT_PATH
    from generator.motion.train_articulation import ArticulationTrainConfig, train_articulation as run

    if context < 0 or ridge <= 0:
        raise UserError("--context must be >= 0 and --ridge > 0")
    cfg = ArticulationTrainConfig(data=data, out=out or DEFAULT_PATH, context=context, ridge=ridge,
                                  val_names=_names(val), shared=shared,
                                  tracking_uri=tracking_uri)
    info = run(cfg, lambda msg: typer.echo(msg, err=True))
    typer.echo(f"fitted on {len(info['train_clips'])} clips in {info['seconds']:.0f} s: lip sync {info['cv_sync']:.3f} "
               f"cross-validated over the training people, {info['held_out_sync']:.3f} on the held-out ones "
               f"-> {cfg.out} (MLflow run {info['mlflow_run']})")


@friendly_errors
def mouth_data(
    videos: Path = typer.Option(DEFAULT_SHARED / "real_videos", help="A folder of real talking-face videos; the "
                                "people the renderer is benchmarked on are left out by person."),
    out: Path = typer.Option(Path("data/mouth"), help="Cache folder: one .npz of mouth patches per clip."),
) -> None:
    """Cut real mouths into the mouth frame: the learned mouth's training data."""
    from generator.render.mouth_data import prepare as run

    with progress_bar("cutting mouths") as update:
        index = run(videos, out, lambda name, i, n: update(i, n))
    typer.echo(f"cut {sum(e['frames'] for e in index['clips'])} mouths from {len(index['clips'])} clips -> {out}")


@friendly_errors
def train_mouth(
    data: Path = typer.Option(Path("data/mouth"), help="Mouth patches (from `likeness train mouth-data`)."),
    out: Path = typer.Option(None, help="Model path (default: the shipped generator/render/assets/mouth_net.onnx)."),
    steps: int = typer.Option(6000, help="Optimisation steps (the final weights are kept)."),
    seed: int = typer.Option(0),
    tracking_uri: str = _TRACKING,
) -> None:
    """Train the learned mouth interior (renderer v3); exports ONNX and logs the run to MLflow."""
    from generator.render.inpaint import MODEL_PATH
    from generator.render.train_mouth import MouthTrainConfig, train

    if steps < 1:
        raise UserError("--steps must be at least 1")
    cfg = MouthTrainConfig(data=data, out=out or MODEL_PATH, steps=steps, seed=seed, tracking_uri=tracking_uri)
    with progress_bar("training") as update:
        info = train(cfg, lambda s, row: update(s, steps))
    typer.echo(f"trained {steps} steps in {info['train_minutes']:.1f} min: validation L1 {info['val_l1']:.3f} "
               f"(mean-colour fill {info['val_l1_mean_colour_fill']:.3f}) -> {cfg.out} (MLflow run {info['mlflow_run']})")
