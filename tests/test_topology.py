import pytest

from generator.face import topology as topo


def _nodes(edges):
    return {i for e in edges for i in e}


def _edges(contour):
    return {tuple(sorted(p)) for p in zip(contour, contour[1:])}


def test_groups_match_mediapipe():
    fc = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")
    as_set = lambda s: {tuple(sorted(e)) for e in s}  # noqa: E731
    lips = (_edges(topo.LIPS_OUTER_UPPER) | _edges(topo.LIPS_OUTER_LOWER)
            | _edges(topo.LIPS_INNER_UPPER) | _edges(topo.LIPS_INNER_LOWER))
    assert lips == as_set(fc.FACEMESH_LIPS)
    assert _edges(topo.LEFT_EYE_UPPER) | _edges(topo.LEFT_EYE_LOWER) == as_set(fc.FACEMESH_LEFT_EYE)
    assert _edges(topo.RIGHT_EYE_UPPER) | _edges(topo.RIGHT_EYE_LOWER) == as_set(fc.FACEMESH_RIGHT_EYE)
    assert _edges(topo.FACE_OVAL + topo.FACE_OVAL[:1]) == as_set(fc.FACEMESH_FACE_OVAL)
    assert set(topo.LEFT_IRIS[1:]) == _nodes(fc.FACEMESH_LEFT_IRIS)
    assert set(topo.RIGHT_IRIS[1:]) == _nodes(fc.FACEMESH_RIGHT_IRIS)
    assert set(topo.LEFT_BROW) == _nodes(fc.FACEMESH_LEFT_EYEBROW)
    assert set(topo.RIGHT_BROW) == _nodes(fc.FACEMESH_RIGHT_EYEBROW)
    assert set(topo.NOSE) == _nodes(fc.FACEMESH_NOSE)


def test_inner_lip_loop_is_closed_polygon():
    loop = topo.inner_lip_loop()
    assert len(loop) == len(set(loop)) == 20
