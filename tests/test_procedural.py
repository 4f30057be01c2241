import numpy as np
import pytest

from generator.audio import features, load_audio
from generator.motion.controls import Controls, parse_gaze
from generator.motion.procedural import procedural_motion
from likeness.errors import UserError


@pytest.fixture(scope="module")
def feats(shared):
    return features(load_audio(shared / "speech" / "st_RD_Radio31_000.wav"), 25)


def test_same_seed_same_motion_other_seed_differs(feats):
    a, b, c = (procedural_motion(feats, seed=s) for s in (0, 0, 1))
    assert np.array_equal(a.latent, b.latent)
    assert not np.allclose(a.latent, c.latent)
    assert a.latent.shape == (len(feats), 17) and np.isfinite(a.latent).all()


def test_without_phones_the_mouth_follows_speech_energy(shared):
    f = features(load_audio(shared / "speech" / "st_RD_Radio31_000.wav"), 25, phones=False)
    assert f.visemes is None
    m = procedural_motion(f)
    assert np.corrcoef(m.channel("jaw_open"), f.band_db)[0, 1] > 0.6


def test_with_phones_the_mouth_forms_the_visemes(feats):
    from generator.phones import VISEMES

    m = procedural_motion(feats)
    opening = 0.45 * m.channel("jaw_open") + 0.08 * (m.channel("lower_lip") + m.channel("upper_lip"))
    assert np.corrcoef(m.channel("jaw_open"), feats.band_db)[0, 1] > 0.3  # loudness still scales the jaw
    main = feats.visemes.argmax(1)
    closed, wide = opening[main == VISEMES.index("closed")], opening[main == VISEMES.index("open")]
    assert len(closed) >= 5 and len(wide) >= 10
    assert np.median(closed) < 0.5 * np.median(wide)  # lips meet on p/b/m, part on "ah"
    rounded = m.channel("lip_pucker")[main == VISEMES.index("round")]
    spread = m.channel("lip_pucker")[main == VISEMES.index("spread")]
    assert np.median(rounded) > np.median(spread) + 0.2  # "oo" rounds, "ee" does not


def test_blinks_every_two_to_six_seconds(feats):
    blink = procedural_motion(feats, seed=3).channel("blink_l")
    onsets = np.flatnonzero((blink[1:] > 0.5) & (blink[:-1] <= 0.5)) / feats.fps
    assert len(onsets) >= 1
    assert np.all(np.diff(onsets) >= 1.9) and np.all(np.diff(onsets) <= 6.3)


def test_idle_motion_in_silence():
    from generator.audio import Audio

    rate = 16_000
    x = np.zeros(4 * rate, np.float32)
    x[rate: 2 * rate] = 0.3 * np.sin(2 * np.pi * 180 * np.arange(rate) / rate)  # 1 s of tone, then silence
    m = procedural_motion(features(Audio(x, rate), 25))
    silent = slice(60, 100)
    assert m.channel("jaw_open")[silent].max() < 0.05
    assert np.ptp(m.channel("yaw")[silent]) > 0          # the head is never frozen


def test_controls_move_their_statistics(feats):
    base = procedural_motion(feats)
    right = procedural_motion(feats, Controls(gaze=(0.6, 0.0)))
    assert right.channel("gaze_x").mean() > base.channel("gaze_x").mean() + 0.4
    happy = procedural_motion(feats, Controls(emotion="happy"))
    assert happy.channel("smile").mean() > base.channel("smile").mean() + 0.4
    still = procedural_motion(feats, Controls(pose_scale=0.0))
    assert np.abs(still.channel("yaw")).max() == 0
    near = procedural_motion(feats, Controls(head_distance=0.2))
    assert near.channel("log_scale").mean() == pytest.approx(0.2, abs=0.01)


def test_bad_controls():
    with pytest.raises(UserError, match="emotion"):
        Controls(emotion="bored")
    with pytest.raises(UserError, match="gaze"):
        parse_gaze("left")
    with pytest.raises(UserError, match="gaze"):
        Controls(gaze=(2.0, 0.0))


@pytest.mark.parametrize("kind", ["chord", "noise", "short"])
def test_music_noise_and_short_clips_give_an_idle_mouth(kind):
    """No voice, no phones: a chord or hiss leaves the mouth at rest; a 0.25 s clip still animates."""
    from generator.audio import Audio

    rate, rng = 16_000, np.random.default_rng(0)
    t = np.arange(3 * rate) / rate
    x = {"chord": 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330)),
         "noise": 0.2 * rng.standard_normal(len(t)),
         "short": 0.2 * rng.standard_normal(rate // 4)}[kind].astype(np.float32)
    m = procedural_motion(features(Audio(x, rate), 25))
    assert np.isfinite(m.latent).all() and len(m) == round(len(x) / rate * 25)
    if kind != "short":
        assert np.abs(m.channel("jaw_open")).max() < 0.1


def test_digital_silence_without_phones_leaves_the_lips_at_rest_offline_and_live():
    """Without phones the jaw follows the level between the clip's floor and peaks; a clip of digital silence has no
    range, and the offline model opened the mouth half way for all of it. Silence is silence, as live."""
    from generator.audio import Audio
    from generator.motion.live import LiveMotion

    silence = features(Audio(np.zeros(32_000, np.float32), 16_000), 25, phones=False)
    assert np.abs(procedural_motion(silence).channel("jaw_open")).max() < 1e-6
    assert np.abs(LiveMotion(25.0).step(silence).channel("jaw_open")).max() < 1e-6


def test_lips_that_meet_are_pressed_and_open_lips_are_left_alone():
    from generator.motion.visemes import CONTACT, MOUTH, TARGETS, lip_gap, pressed
    from generator.phones import VISEMES

    jaw = np.linspace(-0.05, 0.3, 36)
    mouth = np.zeros((len(jaw), len(MOUTH)), np.float32)
    mouth[:, 0] = jaw
    out = pressed(mouth)
    lips = [MOUTH.index("upper_lip"), MOUTH.index("lower_lip")]
    opened = lip_gap(mouth) >= CONTACT
    assert opened.any() and (~opened).any()
    assert np.array_equal(out[opened], mouth[opened])  # parted lips: untouched
    shut = lip_gap(mouth) <= 0
    assert np.allclose(out[shut][:, lips], TARGETS[VISEMES.index("closed"), lips])  # touching: the full closure press
    assert np.array_equal(out[:, :3], mouth[:, :3])  # only the lips move, never the jaw
    assert np.all(np.diff(lip_gap(out)) >= 0)  # a wider mouth stays wider: the order of openings is kept
