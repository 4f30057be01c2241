
import numpy as np
import pytest

from generator.face import topology as topo
from generator.face.analysis import analyze_file, load_image
from likeness.errors import UserError
from tests.conftest import png_header_only


def test_mona_lisa_is_aligned_on_the_canvas(mona_portrait):
    p = mona_portrait
    assert p.image.shape == (256, 256, 3) and p.image.dtype == np.uint8
    assert p.landmarks.shape == (478, 3)
    eye_r = p.landmarks[topo.RIGHT_EYE_UPPER + topo.RIGHT_EYE_LOWER, :2].mean(0)
    eye_l = p.landmarks[topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER, :2].mean(0)
    assert abs(eye_l[1] - eye_r[1]) < 2.0                # eyes level
    assert 0.2 < (eye_l[0] - eye_r[0]) / 256 < 0.35      # face about half the canvas
    centre = p.landmarks[:, :2].mean(0)
    assert np.all(np.abs(centre - 128) < 30)


def test_portrait_canvas_moves_inside_the_image_and_makes_up_the_rest_without_streaks(shared):
    """Hair at the top edge: replicated borders draw vertical streaks that every rendered frame would show. The canvas
    moves down instead (the face kept whole on it), and what still lies outside is a blurred mirror."""
    import cv2

    from generator.face.analysis import align_transform, largest_face, portrait_canvas, portrait_transform, warp_aligned

    rgb = load_image(shared / "portraits" / "st_art_3.png")
    lm = largest_face(rgb, None, "st_art_3")
    h, w = rgb.shape[:2]

    def outside(m: np.ndarray) -> np.ndarray:
        inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
        q = np.stack(np.meshgrid(np.arange(256), np.arange(256)), -1).reshape(-1, 2) @ inv[:, :2].T + inv[:, 2]
        return ((q < 0) | (q > [w - 1, h - 1])).any(1).reshape(256, 256)

    m0, m = align_transform(lm, 256), portrait_transform(lm, 256, rgb.shape)
    assert outside(m0).mean() > 0.1 and outside(m).mean() < 0.5 * outside(m0).mean()
    assert np.allclose(m[:, :2], m0[:, :2])  # moved, never zoomed
    face = lm[:, :2] @ m[:, :2].T + m[:, 2]
    assert face.min() > 0 and face.max() < 256

    def streaks(img: np.ndarray, where: np.ndarray) -> float:
        """Horizontal over vertical gradient energy where the canvas lies outside the image (streaks: >> 1)."""
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
        gx, gy = np.abs(np.diff(g, axis=1))[:-1, :], np.abs(np.diff(g, axis=0))[:, :-1]
        sel = where[:-1, :-1]
        return float((gx[sel] ** 2).sum() / max((gy[sel] ** 2).sum(), 1e-9))

    away = outside(m0) & ~cv2.dilate(outside(m0).astype(np.uint8) ^ 1, np.ones((9, 9), np.uint8)).astype(bool)
    before, after = streaks(warp_aligned(rgb, m0, 256), away), streaks(portrait_canvas(rgb, m0, 256), away)
    assert before > 20 and after < 3, (before, after)  # replicated: streaks; made up: a blurred mirror, no direction


def test_largest_face_and_paintings(shared):
    for name in ["st_art_1.png", "lp_s12.jpg", "st_people_0.png"]:
        assert analyze_file(shared / "portraits" / name, 128).landmarks.shape == (478, 3)


@pytest.mark.parametrize("name", ["lp_s23.jpg", "lp_s40.jpg"])  # a llama, an animal
def test_no_face_is_a_clear_error(shared, name):
    with pytest.raises(UserError, match="no face found"):
        analyze_file(shared / "portraits" / name)


def test_bad_images(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(UserError, match="not an image"):
        load_image(tmp_path / "notes.jpg")
    (tmp_path / "huge.png").write_bytes(png_header_only(40_000, 30_000))
    with pytest.raises(UserError, match="too large"):
        load_image(tmp_path / "huge.png")
    (tmp_path / "trunc.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    with pytest.raises(UserError):
        load_image(tmp_path / "trunc.jpg")


def test_content_not_extension_decides(shared):
    img = load_image(shared / "portraits" / "lp_s25.jpg")  # a PNG named .jpg
    assert img.shape == (512, 512, 3)


def test_aligned_warp_filters_before_it_shrinks():
    """Known answer: shrinking fine random texture 4x must average it (as an area resize does), not pick every
    4th pixel (OpenCV's warpAffine aliases, even when asked for INTER_AREA); enlarging is a plain warp."""
    import cv2

    from generator.face.analysis import warp_aligned

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (600, 800, 3)).astype(np.uint8)
    shrink = np.array([[0.25, 0.0, 3.3], [0.0, 0.25, 7.7]])
    area = cv2.resize(img[: 512, : 512], (128, 128), interpolation=cv2.INTER_AREA)
    aliased = cv2.warpAffine(img, shrink, (128, 128), flags=cv2.INTER_AREA)
    assert warp_aligned(img, shrink, 128).std() < 1.3 * area.std() < 0.6 * aliased.std()
    grow = np.array([[2.0, 0.0, -50.0], [0.0, 2.0, -30.0]])
    assert np.array_equal(warp_aligned(img, grow, 128),
                          cv2.warpAffine(img, grow, (128, 128), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))


def test_face_mesh_leaves_the_process_stderr_alone():
    """Filtering native log lines rewires fd 2: only the console script may choose that, never the library."""
    import os

    from generator.face.analysis import FaceMesh

    before = os.fstat(2)
    FaceMesh().close()
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


_MESH_SCRIPT = """
import sys, numpy as np
from PIL import Image
if sys.argv[1] == "whole":
    import mediapipe
    fm = mediapipe.solutions.face_mesh
else:
    from generator.face.analysis import mediapipe_solution
    fm = mediapipe_solution("face_mesh")
rgb = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
out = []
for static in (True, False):
    m = fm.FaceMesh(static_image_mode=static, max_num_faces=4, refine_landmarks=True, min_detection_confidence=0.5)
    for _ in range(1 if static else 3):
        faces = m.process(np.ascontiguousarray(rgb)).multi_face_landmarks or []
        out.append([[p.x, p.y, p.z] for f in faces for p in f.landmark])
np.save(sys.argv[3], np.array(out, dtype=object), allow_pickle=True)
"""


@pytest.mark.slow
def test_the_face_mesh_imported_alone_equals_mediapipe_imported_whole(shared, tmp_path):
    """`mediapipe_solution` skips mediapipe's package imports; the graph must run exactly as with them (lp_s38 is
    lost when a calculator's options proto is not registered)."""
    import subprocess
    import sys

    got = {}
    for how in ("whole", "alone"):
        out = tmp_path / f"{how}.npy"
        subprocess.run([sys.executable, "-c", _MESH_SCRIPT, how, str(shared / "portraits" / "lp_s38.jpg"), str(out)],
                       check=True, capture_output=True, timeout=120)
        got[how] = np.load(out, allow_pickle=True)
    assert len(got["whole"]) == 4 and len(got["whole"][0]) == 478  # the still image, then three tracked frames
    for a, b in zip(got["whole"], got["alone"]):
        np.testing.assert_array_equal(np.array(a), np.array(b))


def test_the_person_is_segmented_from_the_background_in_a_painting(mona_portrait):
    """mediapipe's selfie segmentation (in its wheel) finds the Mona Lisa's face and hair and leaves the landscape."""
    from generator.face.segment import person_mask

    p = mona_portrait
    mask = person_mask(p.image)
    assert mask.shape == p.image.shape[:2] and mask.dtype == np.float32
    nose = np.round(p.landmarks[topo.NOSE[0], :2]).astype(int)
    assert mask[nose[1], nose[0]] > 0.9
    assert mask[:20, :20].max() < 0.1                                # the sky at the top left
    hair = np.round(p.landmarks[topo.FACE_OVAL[0], :2] - [0, 0.1 * p.size]).astype(int)  # above the forehead
    assert mask[max(hair[1], 0), hair[0]] > 0.5
