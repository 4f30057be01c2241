"""The motion DiT: training, checkpoints, streaming and controls."""
import numpy as np
import pytest

from generator.audio import Audio, features, load_audio
from generator.motion.controls import Controls
from generator.latent import FPS
from generator.motion.data import prepare
from generator.motion.dit_config import DiTConfig
from generator.motion.dit_motion import DiTMotion
from generator.motion.dit_motion import DEFAULT_CHECKPOINT, DEFAULT_MODEL
from generator.motion.train import TrainConfig, train
from likeness.errors import UserError

pytestmark = pytest.mark.slow
TINY = DiTConfig(d_model=32, n_layers=1, n_heads=2, window=20, prefix=5, sample_steps=4)


@pytest.fixture(scope="module")
def tiny_run(shared, tmp_path_factory):
    d = tmp_path_factory.mktemp("dit")
    index = prepare(shared / "real_videos" / "vrt_1.mp4", d / "data")
    assert index["clips"][0]["frames"] > 100
    cfg = TrainConfig(data=d / "data", out=d / "tiny.pt", steps=60, batch=8, lr=3e-3, eval_every=20,
                      val_names=(), tracking_uri=f"sqlite:///{d}/mlflow.db", model=TINY)
    return cfg, train(cfg)


def test_tiny_training_decreases_loss_and_logs_to_mlflow(tiny_run):
    cfg, info = tiny_run
    assert info["final_val_loss"] < info["first_val_loss"]
    import mlflow

    run = mlflow.MlflowClient(cfg.tracking_uri).get_run(info["mlflow_run"])
    assert run.data.params["model.d_model"] == "32" and "val_loss" in run.data.metrics
    for suffix in (".json", ".loss.png", ".onnx"):
        assert cfg.out.with_suffix(suffix).is_file()


def test_the_exported_network_samples_what_the_checkpoint_does(tiny_run, speech_3s):
    cfg, _ = tiny_run
    feats = features(load_audio(speech_3s), FPS)
    onnx, pt = DiTMotion.load(cfg.out.with_suffix(".onnx")), DiTMotion.load(cfg.out)
    assert onnx.cfg == pt.cfg and all(np.array_equal(onnx.norm[k], pt.norm[k]) for k in pt.norm)
    a, b = onnx.generate(feats, seed=2, mouth_open=0.1).latent, pt.generate(feats, seed=2, mouth_open=0.1).latent
    assert np.abs(a - b).max() < 1e-4 and np.abs(a).max() > 0.05


def test_checkpoint_round_trip_and_determinism(tiny_run, speech_3s):
    cfg, _ = tiny_run
    feats = features(load_audio(speech_3s), FPS)
    a, b = DiTMotion.load(cfg.out).generate(feats, seed=3), DiTMotion.load(cfg.out).generate(feats, seed=3)
    assert np.array_equal(a.latent, b.latent) and len(a) == len(feats)
    assert not np.allclose(a.latent, DiTMotion.load(cfg.out).generate(feats, seed=4).latent)


def test_streaming_equals_offline(tiny_run, speech_3s):
    cfg, _ = tiny_run
    dit = DiTMotion.load(cfg.out)
    x = load_audio(speech_3s, 16_000).samples
    offline = dit.generate(features(Audio(x, 16_000), FPS), seed=1, mouth_open=0.2)
    chunks = [x[i: i + 1600] for i in range(0, len(x), 1600)]  # 100 ms chunks
    parts = list(dit.generate_stream(chunks, seed=1, mouth_open=0.2))
    assert len(parts) == -(-len(offline) // TINY.window)
    streamed = np.concatenate([p.latent for p in parts])
    assert np.allclose(streamed, offline.latent, atol=1e-5)


def test_corrupt_or_missing_checkpoint(tmp_path):
    for suffix in (".pt", ".onnx"):
        (tmp_path / f"bad{suffix}").write_bytes(b"not a checkpoint")
        with pytest.raises(UserError, match=f"corrupt or incompatible motion checkpoint .*bad{suffix}"):
            DiTMotion.load(tmp_path / f"bad{suffix}")
        with pytest.raises(UserError, match=f"motion checkpoint not found: .*none{suffix}; run `make train-motion`"):
            DiTMotion.load(tmp_path / f"none{suffix}")


@pytest.fixture(scope="module")
def shipped(speech_3s):
    if not DEFAULT_CHECKPOINT.is_file():
        pytest.fail("the shipped motion checkpoint is missing; run `make train-motion`")
    return DiTMotion.load(), features(load_audio(speech_3s), FPS)


def test_controls_move_their_statistics(shipped):
    dit, feats = shipped
    base = dit.generate(feats, Controls(), seed=0)
    right = dit.generate(feats, Controls(gaze=(0.6, 0.0)), seed=0)
    assert right.channel("gaze_x").mean() > base.channel("gaze_x").mean() + 0.1
    near = dit.generate(feats, Controls(head_distance=0.15), seed=0)
    assert near.channel("log_scale").mean() > base.channel("log_scale").mean() + 0.05
    happy = dit.generate(feats, Controls(emotion="happy"), seed=0)
    assert happy.channel("smile").mean() > base.channel("smile").mean() + 0.1
    still = dit.generate(feats, Controls(pose_scale=0.0), seed=0)
    assert np.abs(still.channel("yaw")).max() < 1e-6


def test_shipped_model_is_small_and_finite(shipped):
    dit, feats = shipped
    assert DEFAULT_CHECKPOINT.stat().st_size < 20e6 and DEFAULT_MODEL.stat().st_size < 20e6
    assert np.isfinite(dit.generate(feats, seed=0).latent).all()


def test_the_shipped_export_is_the_shipped_checkpoint(shipped):
    """Generation runs dit.onnx; it must be dit.pt exported, not a stale network."""
    dit, feats = shipped
    a, b = dit.generate(feats, seed=1, rest=True).latent, DiTMotion.load(DEFAULT_CHECKPOINT).generate(feats, seed=1, rest=True).latent
    assert np.abs(a - b).max() < 1e-4


def test_generating_motion_imports_no_torch():
    """torch costs seconds and half a GiB at start-up; the runtime needs onnxruntime alone."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from generator.motion.dit_motion import DiTMotion; "
            "m = DiTMotion.load().generate(np.zeros((60, 94), np.float32)); "
            "assert len(m) == 60 and 'torch' not in sys.modules, sorted(k for k in sys.modules if 'torch' in k)[:3]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_shipped_checkpoint_never_trained_on_a_held_out_speaker(shared):
    """The lip-sync test set (MOTION_HELD_OUT) stays out of training, and only the speakers' own voices train."""
    import json

    from likeness.shared_data import MOTION_HELD_OUT, own_speech

    info = json.loads(DEFAULT_CHECKPOINT.with_suffix(".json").read_text())
    assert not set(info["train_clips"]) & set(MOTION_HELD_OUT)
    speech = own_speech(shared)
    assert set(info["train_clips"]) <= speech
    assert {"vrt_1", "lipnet_GRID_bbaf2n"} <= speech and "lp_driving_d0" not in speech


def test_rest_stills_the_mouth_in_silence_and_leaves_speech_alone(tiny_run, speech_3s):
    from generator.motion.visemes import REST_FROM, blend_weights, latent_columns
    from generator.phones import VISEMES

    cfg, _ = tiny_run
    speech = load_audio(speech_3s, 16_000)
    x = np.concatenate([speech.samples, np.zeros(24_000, np.float32)])  # then 1.5 s of silence
    feats = features(Audio(x, 16_000), FPS)
    dit = DiTMotion.load(cfg.out)
    plain, rested = dit.generate(feats, seed=3).latent, dit.generate(feats, seed=3, rest=True).latent
    mouth = latent_columns()
    assert np.array_equal(np.delete(plain, mouth, 1), np.delete(rested, mouth, 1))  # only the mouth changes
    talking = blend_weights(feats.visemes, FPS)[:, VISEMES.index("rest")] < REST_FROM
    assert talking[: len(feats) // 3].mean() > 0.5
    assert np.array_equal(plain[talking][:, mouth], rested[talking][:, mouth])
    tail = slice(-12, None)  # the last half second of silence
    assert np.abs(plain[tail][:, mouth]).max() > 0.01 and np.abs(rested[tail][:, mouth]).max() < 1e-6


@pytest.mark.parametrize("kind", ["silence", "chord", "noise", "short"])
def test_the_default_motion_rests_its_lips_without_speech(kind):
    """Silence, a chord or hiss: an idle mouth (the lips at rest); a 0.2 s clip still gives motion."""
    rate, rng = 16_000, np.random.default_rng(0)
    t = np.arange(2 * rate) / rate
    x = {"silence": np.zeros(len(t)), "chord": 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330)),
         "noise": 0.2 * rng.standard_normal(len(t)), "short": 0.2 * rng.standard_normal(rate // 5)}[kind]
    feats = features(Audio(x.astype(np.float32), rate), FPS)
    m = DiTMotion.load().generate(feats, seed=0, rest=True)
    assert len(m) == len(feats) and np.isfinite(m.latent).all()
    assert np.abs(m.channel("jaw_open")).max() < 0.05


def test_a_portrait_with_parted_lips_closes_them_in_silence(shared):
    """The model's mouth is relative to closed lips; a painting with parted lips (its gap taken off the jaw) must
    render shut lips in silence, judged by an independent FaceMesh pass on the rendered frame, where before it
    stayed as open as the portrait."""
    from generator.face.analysis import FaceMesh, analyze_file
    from generator.face.expression import mouth_opening
    from generator.render.renderer import make_renderer

    portrait = analyze_file(shared / "portraits" / "st_art_8.png", 256)
    assert portrait.mouth_open > 0.15
    feats = features(Audio(np.zeros(32_000, np.float32), 16_000), FPS)
    dit, render, mesh = DiTMotion.load(), make_renderer(portrait), FaceMesh(static=True, max_faces=1)

    def opening(mouth_open: float) -> float:
        m = dit.generate(feats, seed=0, rest=True, mouth_open=mouth_open)
        return mouth_opening(mesh(render.render(m.pose[-1], m.expr[-1]))[0])

    assert opening(0.0) > 0.08 and opening(portrait.mouth_open) < 0.02


def test_the_shipped_model_presses_lips_that_meet_and_nothing_else(shipped):
    from generator.motion.visemes import CONTACT, latent_columns, lip_gap

    dit, feats = shipped
    loose = DiTMotion.load(press=False).generate(feats, seed=0, rest=True).latent
    firm = dit.generate(feats, seed=0, rest=True).latent
    mouth = latent_columns()
    changed = np.abs(firm - loose).max(1) > 1e-6
    assert changed.any() and (~changed).any()
    assert (lip_gap(loose[:, mouth])[changed] < CONTACT).all()  # only where the lips came (nearly) together
    assert np.array_equal(np.delete(firm, mouth[-2:], 1), np.delete(loose, mouth[-2:], 1))  # only the lips' channels
    assert (lip_gap(firm[:, mouth]) <= lip_gap(loose[:, mouth]) + 1e-6).all()


def test_the_shipped_model_low_passes_its_mouth_but_keeps_its_closures(shipped):
    """The sampling's frame-to-frame jitter in the mouth is smoothed (dlib follows it better), but not where the lips
    come near meeting: a closure lasts a frame or two and the low-pass would lift it."""
    from generator.motion.dit_motion import KEEP_CLOSING
    from generator.motion.visemes import CONTACT, latent_columns, lip_gap

    _, feats = shipped
    raw = DiTMotion.load(press=False, mouth_smooth=0.0).generate(feats, seed=0).latent
    low = DiTMotion.load(press=False).generate(feats, seed=0).latent
    mouth = latent_columns()
    assert np.array_equal(np.delete(low, mouth, 1), np.delete(raw, mouth, 1))  # the mouth only

    def jitter(z):
        return np.abs(np.diff(z[:, mouth], 2, axis=0)).mean()

    assert jitter(low) < 0.8 * jitter(raw)
    closing = lip_gap(raw[:, mouth]) < KEEP_CLOSING * CONTACT
    assert closing.any() and np.allclose(low[closing][:, mouth], raw[closing][:, mouth])



def test_babble_copies_put_other_voices_under_each_clip(shared):
    """The DiT's noise augmentation: the motion stays, the clip's own speech stays on top, other voices go under it."""
    from generator.motion.data import Clip, audio_matrix, babble_copies

    sources = {p.stem: p for p in sorted((shared / "speech").glob("st_RD_Radio*.wav"))}
    assert len(sources) == 4
    clean = {k: audio_matrix(features(load_audio(p), FPS))[:50] for k, p in sources.items()}
    clips = [Clip(k, np.full((50, 17), i, np.float32), a) for i, (k, a) in enumerate(clean.items())]

    def copies(snr):
        return babble_copies(clips, sources, np.random.default_rng(0), voices=2, snr_db=(snr, snr))

    loud, quiet = copies(0.0), copies(30.0)
    assert [c.name for c in loud] == [f"{k}+babble" for k in sources]
    for c, lo, q in zip(clips, loud, quiet):
        assert np.array_equal(lo.latent, c.latent) and lo.audio.shape == c.audio.shape
        mel = slice(0, 80)
        d_quiet, d_loud = (float(np.median(np.abs(x.audio[:, mel] - c.audio[:, mel]))) for x in (q, lo))
        assert d_quiet < 0.1 and d_loud > 0.4  # natural-log power: under 0.5 dB against over 1.7 dB
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(copies(0.0), loud))
    half = babble_copies(clips, sources, np.random.default_rng(0), voices=1, share=0.5)  # as `make train-motion`
    assert len(half) == 2 and len({c.name for c in half}) == 2 and {c.name for c in half} < {c.name for c in loud}
