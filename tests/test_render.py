import numpy as np
import pytest

from generator import latent
from generator.face import topology as topo
from generator.render.renderer import RENDERERS, make_renderer


@pytest.fixture(scope="module", params=list(RENDERERS))
def renderer(request, mona_portrait):
    return make_renderer(mona_portrait, request.param)


def expr(**kw):
    e = np.zeros(len(latent.EXPRESSION))
    for k, v in kw.items():
        e[latent.EXPRESSION.index(k)] = v
    return e


POSE0 = np.zeros(len(latent.POSE))


def region_change(a, b, pts, pad=4):
    x0, y0 = np.floor(pts.min(0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(0)).astype(int) + pad
    return np.abs(a[y0:y1, x0:x1].astype(int) - b[y0:y1, x0:x1]).mean()


def test_zero_motion_reproduces_the_portrait(renderer):
    assert np.array_equal(renderer.render(POSE0, expr()), renderer.portrait.image)


@pytest.mark.parametrize("name", [k for k, v in RENDERERS.items() if v.anchors == "v2"])
def test_lips_pressed_past_contact_draw_no_jagged_seam(mona_portrait, name):
    """A /p b m/ presses the lips until their inner contours cross; the folded lip triangles drew a jagged dark seam
    (the lips' Laplacian variance 4-5x the portrait's own). The seam is smoothed: no sharper than the still lips."""
    import cv2

    r = make_renderer(mona_portrait, name)
    pts = r.landmarks(POSE0, expr(lower_lip=-2.0))[topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER, :2]
    (x0, y0), (x1, y1) = np.floor(pts.min(0)).astype(int), np.ceil(pts.max(0)).astype(int)

    def detail(img):
        return cv2.Laplacian(cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()

    assert detail(r.render(POSE0, expr(lower_lip=-2.0))) < 1.5 * detail(mona_portrait.image)


def test_jaw_open_changes_the_mouth_and_the_eyes_stay(renderer):
    src = renderer.portrait.image
    out = renderer.render(POSE0, expr(jaw_open=0.5))
    lm = renderer.landmarks(POSE0, expr(jaw_open=0.5))
    inner = lm[topo.inner_lip_loop(), :2]
    assert region_change(out, src, inner) > 15
    assert region_change(out, src, renderer.portrait.landmarks[topo.LEFT_EYE_UPPER, :2], pad=1) < 2


def test_the_painted_mouth_is_a_dark_cavity(mona_portrait):
    r = make_renderer(mona_portrait, "warp-v1")
    out = r.render(POSE0, expr(jaw_open=0.5))
    cx, cy = np.round(r.landmarks(POSE0, expr(jaw_open=0.5))[[13, 14], :2].mean(0)).astype(int)
    assert out[cy - 1:cy + 2, cx - 1:cx + 2].mean() < r.portrait.image.mean() * 0.6


def test_blink_and_gaze_change_the_eyes(renderer):
    src = renderer.portrait.image
    eye = renderer.portrait.landmarks[topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER, :2]
    assert region_change(renderer.render(POSE0, expr(blink_l=1.0)), src, eye, pad=0) > 8
    assert region_change(renderer.render(POSE0, expr(gaze_x=1.0)), src, eye, pad=0) > 3


def test_background_stays_still_when_the_head_turns(renderer):
    """The background above the shoulders does not move; below the chin, v2 lets the neck give way a little where
    the head comes close to the canvas edge (`Renderer._give_way`), so a nod cannot tear the jaw line."""
    src = renderer.portrait.image
    out = renderer.render(np.array([0.1, 0.05, 0.03, 0.02, 0.0, 0.0]), expr())
    assert np.abs(out.astype(int) - src).mean() > 1.0          # something moved
    for corner in (np.s_[:24, :24], np.s_[:24, -24:]):
        assert np.array_equal(out[corner], src[corner])
    for corner in (np.s_[-24:, :24], np.s_[-24:, -24:]):
        assert np.abs(out[corner].astype(int) - src[corner]).mean() < 1.0


def test_rendering_is_deterministic(renderer):
    p = np.array([0.05, -0.02, 0.01, 0, 0, 0.01])
    e = expr(jaw_open=0.3, smile=0.4, blink_r=0.5)
    assert np.array_equal(renderer.render(p, e), renderer.render(p, e))
