"""Motion and lip-sync metrics on inputs with known answers, and the independent dlib judge on real faces."""
import numpy as np
import pytest

from eval.lipsync import audio_envelope, lip_sync
from eval.motion import diversity, frechet_distance, head_stats, standardise, window_features


def test_audio_envelope_is_rms_per_frame():
    rate, fps = 16_000, 25
    x = np.r_[np.full(640, 0.5), np.zeros(640), np.full(640, -0.2)]
    assert np.allclose(audio_envelope(x, rate, fps, 4), [0.5, 0.0, 0.2, 0.0])


@pytest.mark.parametrize("shift", [5, 0, -3])
def test_lip_sync_finds_a_known_lag(shift):
    rng = np.random.default_rng(0)
    env = np.convolve(rng.random(300), np.ones(4) / 4, "same")
    mouth = np.roll(env, shift) + 0.05 * rng.normal(size=300)  # the mouth trails the audio by `shift` frames
    s = lip_sync(mouth, env)
    assert s.lag == shift and s.peak > 0.9
    assert lip_sync(rng.random(300), env).peak < 0.3


def test_frechet_distance_zero_for_same_and_grows_with_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 4))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(a, a + [2, 0, 0, 0]) == pytest.approx(4, rel=0.01)
    ref, same, far = standardise(a, a.copy(), a * 3)
    assert frechet_distance(ref, same) < 1e-6 < frechet_distance(ref, far)


def test_window_features_head_stats_and_diversity():
    t = np.arange(250) / 25
    z = np.zeros((250, 17))
    z[:, 0] = np.radians(10) * np.sin(2 * np.pi * 0.5 * t)  # yaw +/-10 deg at 0.5 Hz
    f = window_features(z, 25)
    assert f.shape == (41, 24) and f[:, 0].min() > 0 and np.allclose(f[:, 1:12], 0)
    h = head_stats(z, 25)
    assert h["head_range_deg"] == pytest.approx(20 * 0.95 / 3, rel=0.05)  # yaw ~19 deg 5-95%, pitch/roll 0
    assert h["head_speed_deg_s"] == pytest.approx(20, rel=0.05)           # mean |d/dt| of 10 sin(pi t) deg
    assert diversity([z, z]) == 0 and diversity([z, z + 1]) == pytest.approx(0.5)


def test_dlib_judge_sees_the_rendered_mouth_open(mona_portrait):
    """An independent network (dlib 68 points) agrees that jaw_open opens the rendered mouth."""
    from eval.judges import Landmarks68, mouth_opening68
    from generator import latent
    from generator.render.renderer import Renderer

    r = Renderer(mona_portrait)
    judge = Landmarks68()
    expr = np.zeros(len(latent.EXPRESSION))
    closed = judge(r.render(np.zeros(6), expr))
    expr[latent.EXPRESSION.index("jaw_open")] = 0.6
    opened = judge(r.render(np.zeros(6), expr))
    assert closed is not None and opened is not None
    assert mouth_opening68(opened) > mouth_opening68(closed) + 0.1
    assert judge(np.zeros((200, 200, 3), np.uint8)) is None
