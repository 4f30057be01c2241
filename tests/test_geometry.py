import numpy as np
import pytest

from generator.face import topology as topo
from generator.face.geometry import canonical_face, estimate_pose, euler, rotation, umeyama


def test_euler_round_trip():
    for ypr in [(0.1, -0.2, 0.05), (-0.3, 0.1, -0.4), (0.0, 0.0, 0.0)]:
        assert np.allclose(euler(rotation(*ypr)), ypr, atol=1e-9)


def test_umeyama_recovers_similarity():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(50, 3))
    r = rotation(0.3, -0.1, 0.2)
    s, r_hat, t = umeyama(src, 2.5 * src @ r.T + [1, 2, 3])
    assert s == pytest.approx(2.5)
    assert np.allclose(r_hat, r) and np.allclose(t, [1, 2, 3])


def test_canonical_face_is_normalised():
    c = canonical_face()
    assert c.shape == (478, 3)
    eye_r = c[topo.RIGHT_EYE_UPPER + topo.RIGHT_EYE_LOWER].mean(0)
    eye_l = c[topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER].mean(0)
    assert np.linalg.norm(eye_l - eye_r) == pytest.approx(1.0, abs=1e-3)
    assert np.allclose(c[topo.RIGID].mean(0), 0, atol=1e-3)
    assert c[topo.CHIN, 1] > c[topo.FOREHEAD, 1]          # y points down
    assert c[1, 2] < c[topo.RIGHT_EYE_UPPER[0], 2]        # the nose tip is nearer the camera


def test_pose_estimate_separates_pose_from_expression():
    c = canonical_face()
    moved = c.copy()
    moved[topo.LIPS_INNER_LOWER + [topo.CHIN]] += [0, 0.3, 0]  # a big jaw drop must not look like a nod
    lm = 80 * moved @ rotation(0.2, -0.1, 0.05).T + [256, 256, 0]
    pose = estimate_pose(lm)
    assert np.allclose(pose.angles, (0.2, -0.1, 0.05), atol=1e-6)
    assert pose.scale == pytest.approx(80)
    assert np.allclose(pose.to_canonical(lm), moved, atol=1e-6)
