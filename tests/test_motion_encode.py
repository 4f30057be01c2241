import numpy as np

from generator import latent
from generator.motion.encode import encode_landmarks, resample_motion
from generator.render.renderer import Renderer


def test_encoder_inverts_the_renderers_geometry(mona_portrait):
    """Landmarks produced by the renderer for known motion encode back to that motion."""
    r = Renderer(mona_portrait)
    rng = np.random.default_rng(0)
    t = np.arange(100) / 25
    pose = np.stack([0.08 * np.sin(2 * np.pi * f * t + p) for f, p in zip((0.3, 0.5, 0.2, 0.4, 0.6, 0.1), rng.uniform(0, 6, 6))], 1)
    pose[:, 3:] *= 0.2
    expr = np.zeros((100, len(latent.EXPRESSION)))
    jaw, blink, gx = (latent.EXPRESSION.index(k) for k in ("jaw_open", "blink_l", "gaze_x"))
    expr[:, jaw] = 0.3 * (1 + np.sin(2 * np.pi * 3 * t))
    expr[::20, blink] = 1.0
    expr[:, gx] = 0.5 * np.sign(np.sin(2 * np.pi * 0.5 * t))
    lms = np.stack([r.landmarks(p, e) for p, e in zip(pose, expr)])
    m = encode_landmarks(lms, 25)
    for i in range(5):  # relative to the clip's mean pose
        assert np.corrcoef(m.pose[:, i], pose[:, i])[0, 1] > 0.98
    for k in (jaw, blink, gx):
        assert np.corrcoef(m.expr[:, k], expr[:, k])[0, 1] > 0.9, latent.EXPRESSION[k]
    closed = expr[:, jaw] < 0.03  # the mouth's zero is the clip's closed lips, as in a portrait, not its median
    assert closed.mean() > 0.05 and abs(np.median(m.expr[closed, jaw])) < 0.05
    assert np.median(m.expr[expr[:, jaw] > 0.5, jaw]) > 0.3


def test_resample_motion_keeps_duration():
    m = latent.Motion(np.random.default_rng(0).normal(size=(90, 6)), np.zeros((90, 11)), 30)
    r = resample_motion(m, 25)
    assert len(r) == 75 and r.fps == 25
    assert np.allclose(r.pose[0], m.pose[0])
