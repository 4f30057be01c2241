import numpy as np
import pytest

from generator import latent
from generator.face import topology as topo
from generator.face.expression import build_basis, mouth_opening
from generator.face.geometry import canonical_face


@pytest.fixture(scope="module")
def face():
    n = canonical_face().copy()
    n[topo.LIPS_INNER_LOWER[1:-1], 1] = n[topo.LIPS_INNER_UPPER[1:-1], 1]  # a closed mouth
    return n, build_basis(n)


def coef(**kw):
    e = np.zeros(len(latent.EXPRESSION))
    for k, v in kw.items():
        e[latent.EXPRESSION.index(k)] = v
    return e


def apply(face, **kw):
    n, b = face
    return n + np.tensordot(coef(**kw), b, 1)


def test_basis_shape_and_zero(face):
    n, b = face
    assert b.shape == (11, 478, 3)
    assert np.array_equal(apply(face), n)


def test_jaw_open_parts_the_lips(face):
    assert mouth_opening(apply(face)) < 0.01
    assert mouth_opening(apply(face, jaw_open=0.5)) == pytest.approx(0.5 * 0.45, rel=0.25)
    assert mouth_opening(apply(face, jaw_open=1.0)) > mouth_opening(apply(face, jaw_open=0.5))


def test_blink_closes_only_its_eye(face):
    shut = apply(face, blink_l=1.0)
    gap = lambda m, up, lo: np.abs(m[up[1:-1], 1] - m[lo[1:-1], 1]).mean()  # noqa: E731
    assert gap(shut, topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER) < 0.05 * gap(face[0], topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER)
    assert np.allclose(shut[topo.RIGHT_EYE_UPPER], face[0][topo.RIGHT_EYE_UPPER])


def test_gaze_moves_irises_not_lids(face):
    looked = apply(face, gaze_x=1.0, gaze_y=-0.5)
    d = looked - face[0]
    assert (d[topo.LEFT_IRIS + topo.RIGHT_IRIS, 0] > 0).all() and (d[topo.LEFT_IRIS + topo.RIGHT_IRIS, 1] < 0).all()
    assert np.allclose(d[topo.LEFT_EYE_UPPER + topo.RIGHT_EYE_UPPER], 0)


def test_smile_lifts_and_widens_corners(face):
    d = apply(face, smile=1.0) - face[0]
    right, left = topo.MOUTH_CORNERS
    assert d[right, 0] < 0 < d[left, 0] and d[right, 1] < 0 and d[left, 1] < 0


def test_brow_raise_moves_brows_up_not_the_mouth(face):
    d = apply(face, brow_raise=1.0) - face[0]
    assert (d[topo.LEFT_BROW + topo.RIGHT_BROW, 1] < -0.1).all()
    assert np.allclose(d[topo.LIPS_OUTER_LOWER], 0)
