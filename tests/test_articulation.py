import json

import numpy as np
import pytest

from generator import latent
from generator.motion.articulation import Articulation, fit, mouth_of, shipped
from generator.motion.data import AUDIO_DIM, Clip
from generator.motion.train_articulation import ArticulationTrainConfig, sync, train_articulation
from generator.motion.visemes import MOUTH, lip_gap
from likeness.errors import UserError

LOWER = len(latent.POSE) + latent.EXPRESSION.index("lower_lip")


def _clips(n: int, frames: int = 120, seed: int = 0) -> list[Clip]:
    """Smooth random audio features and a mouth that is a known function of them, one frame either side."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a = rng.standard_normal((frames, AUDIO_DIM)).astype(np.float32)
        a = (a + np.roll(a, 1, 0) + np.roll(a, -1, 0)) / 3
        z = np.zeros((frames, latent.DIM), np.float32)
        z[:, LOWER] = 0.3 * np.roll(a[:, 85], 1) - 0.2 * np.roll(a[:, 90], -1)
        out.append(Clip(f"c{i}", z, a))
    return out


def test_fit_learns_motion_within_clips_and_keeps_the_mean():
    """A lip rest that differs from clip to clip (a person, their tracking) is not fitted onto the audio."""
    clips = _clips(8)
    for k, c in enumerate(clips):
        c.latent[:, LOWER] += 0.5 * (k % 2)
    model = fit(clips, context=2, ridge=1.0)
    assert sync(model, _clips(3, seed=1)) > 0.95
    assert model.out_mean[MOUTH.index("lower_lip")] == pytest.approx(0.25, abs=0.02)


def test_fit_recovers_a_known_mouth():
    model = fit(_clips(8), context=2, ridge=1.0)
    held = _clips(3, seed=1)
    assert sync(model, held) > 0.95
    pred = model.predict(held[0].audio)
    assert pred.shape == (120, len(MOUTH))
    assert np.corrcoef(lip_gap(pred), lip_gap(mouth_of(held[0])))[0, 1] > 0.95


def test_shipped_model_is_deterministic_at_any_frame_rate(shared):
    from generator.audio import features, load_audio
    from generator.motion.data import audio_matrix

    audio = load_audio(shared / "speech" / "st_RD_Radio31_000.wav")
    a25 = audio_matrix(features(audio, 25.0))
    m = shipped()
    first, again = m.predict(a25), m.predict(a25)
    assert np.array_equal(first, again) and np.isfinite(first).all() and first.shape == (len(a25), 5)
    a30 = audio_matrix(features(audio, 30.0))
    m30 = m.predict_at(a30, 30.0)
    assert m30.shape == (len(a30), 5)
    back = np.interp(np.arange(len(a25)) / 25.0, np.arange(len(a30)) / 30.0, lip_gap(m30))
    assert np.corrcoef(back, lip_gap(first))[0, 1] > 0.8  # the same mouth, sampled at another rate


def test_missing_or_corrupt_model_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found.*make train-articulation"):
        Articulation.load(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(UserError, match="unreadable"):
        Articulation.load(bad)
    good = fit(_clips(2), context=1, ridge=1.0)
    good.weights = good.weights[:, :3]
    good.save(tmp_path / "shape.npz")
    with pytest.raises(UserError, match="shape"):
        Articulation.load(tmp_path / "shape.npz")


@pytest.mark.slow
def test_training_writes_the_model_and_logs_to_mlflow(tmp_path):
    data = tmp_path / "prepared"
    data.mkdir()
    clips = _clips(6)
    for c in clips:
        np.savez(data / f"{c.name}.npz", latent=c.latent, audio=c.audio)
    index = {"fps": 25.0, "clips": [{"name": c.name, "frames": len(c)} for c in clips], "data_sha256": "x"}
    (data / "index.json").write_text(json.dumps(index))
    cfg = ArticulationTrainConfig(data=data, out=tmp_path / "art.npz", ridge=1.0, folds=3, val_names=("c5",),
                                  shared=None, tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    info = train_articulation(cfg)
    assert info["cv_sync"] > 0.8 and info["held_out_sync"] > 0.9 and "c5" not in info["train_clips"]
    assert json.loads((tmp_path / "art.json").read_text())["val_clips"] == ["c5"]
    assert np.allclose(Articulation.load(tmp_path / "art.npz").predict(clips[5].audio),
                       fit(clips[:5], context=2, ridge=1.0).predict(clips[5].audio), atol=1e-4)
    assert not list(tmp_path.glob(".*"))  # no temp files left beside the outputs


def test_articulated_motion_forms_words_and_closes_on_p_b_m(shared):
    from generator.audio import features, load_audio
    from generator.motion.procedural import procedural_motion
    from generator.phones import VISEMES

    feats = features(load_audio(shared / "speech" / "st_RD_Radio31_000.wav"), 25)
    learned, table = procedural_motion(feats, mouth="learned"), procedural_motion(feats)
    assert np.array_equal(learned.pose, table.pose) and not np.allclose(learned.expr, table.expr)
    opening = lip_gap(learned.expr[:, [latent.EXPRESSION.index(k) for k in MOUTH]])
    main = feats.visemes.argmax(1)
    closed, wide = opening[main == VISEMES.index("closed")], opening[main == VISEMES.index("open")]
    assert np.median(closed) < np.median(wide) - 0.03  # lips meet on p/b/m, part on "ah"
    assert np.median(wide) > 0.05  # inter-ocular: zero is closed lips, not a talking mouth's median (0.02 then)
    with pytest.raises(ValueError, match="mouth"):
        procedural_motion(feats, mouth="painted")
