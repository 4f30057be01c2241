"""Self-blended pseudo-fakes and the verdict threshold: fast, no video needed."""
import numpy as np
import pytest

from detector.blend import face_mask, self_blend


@pytest.fixture(scope="module")
def face_crop(mona_lisa):
    """The Mona Lisa's aligned 128 px crop and its face-mesh landmarks in crop pixels (real mediapipe)."""
    from PIL import Image

    from detector.faces import FaceCropper

    rgb = np.asarray(Image.open(mona_lisa).convert("RGB"))
    cropper = FaceCropper(max_faces=1)
    return cropper.crop(rgb, cropper.landmarks(rgb)[0])


def test_blend_changes_pixels_only_inside_its_mask(face_crop):
    crop, lm = face_crop
    for seed in range(8):
        out, mask = self_blend(crop, lm, np.random.default_rng(seed))
        changed = np.abs(out.astype(int) - crop.astype(int)).max(-1) > 0
        assert out.shape == crop.shape and out.dtype == np.uint8
        assert not changed[mask == 0].any()                      # outside the mask: the real crop, untouched
        strong = mask > 0.5 * mask.max()
        assert changed[strong].mean() > 0.5                      # inside: the pasted copy shows
        assert strong.mean() > 0.1 and not strong[:4].any()      # a face-sized region, not the top edge


def test_mask_follows_the_landmarks(face_crop):
    crop, lm = face_crop
    masks = [face_mask(lm, crop.shape[:2], np.random.default_rng(s)) for s in range(20)]
    for m in masks:
        ys, xs = np.nonzero(m > 0.5)
        assert lm[:, 0].min() - 12 <= xs.mean() <= lm[:, 0].max() + 12
        assert lm[:, 1].min() - 12 <= ys.mean() <= lm[:, 1].max() + 12
    lower = [m for m in masks if np.nonzero(m > 0.5)[0].min() > lm[1, 1] - 20]  # some masks cover the lower face only
    assert 0 < len(lower) < len(masks)


def test_threshold_keeps_false_positives_at_the_target():
    """On a known distribution of real scores, the threshold chosen on 200 validation videos lets at most ~5% of
    20 000 new real videos through."""
    from detector.calibration import Calibration
    from detector.model import Detector, DetectorConfig
    from detector.train import Crops, verdict_threshold

    rng = np.random.default_rng(0)
    n = 200
    logits = np.r_[rng.normal(-1, 1, n), rng.normal(1.5, 1, n)]
    va = Crops(np.zeros((2 * n, 1, 1, 3), np.uint8), np.r_[np.zeros(n), np.ones(n)].astype(int),
               np.array([f"v{i:04d}" for i in range(2 * n)]), np.array(["x"] * 2 * n), np.array(["p"] * 2 * n),
               np.zeros(2 * n), np.zeros((2 * n, 1, 2)), np.array(["s"] * 2 * n), np.array(["real"] * 2 * n))
    det = Detector(_Net(), DetectorConfig(), Calibration(1.0, 0.0))
    t, real_p = verdict_threshold(det, va, logits, {}, 0.05)
    assert len(real_p) == n and 0.5 < t < 1
    new_real = det.calibrated(rng.normal(-1, 1, 20_000))
    assert 0.02 < (new_real >= t).mean() <= 0.065


class _Net:
    def eval(self):
        return self


def test_validation_looks_degrade_each_video_one_way_and_keep_its_landmarks():
    """The verdict threshold's extra looks: every copy of a video is one chain of degradations over all its frames
    (no re-framing, so the landmarks still fit), and the copies are videos of their own."""
    from detector.train import Crops, in_looks

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (32, 32, 3), np.uint8)
    n = 6  # two videos of three identical frames
    c = Crops(np.repeat(frame[None], n, 0), np.zeros(n, int), np.array(["a"] * 3 + ["b"] * 3), np.array(["real"] * n),
              np.array(["p"] * n), np.arange(n, dtype=float), rng.random((n, 478, 2)), np.array(["s"] * n),
              np.array(["real"] * n))
    looks = in_looks(c, 3, seed=0)
    assert len(looks.x) == 3 * n and set(looks.video) == {f"{v}#look{k}" for v in "ab" for k in (1, 2, 3)}
    np.testing.assert_array_equal(looks.landmarks, np.tile(c.landmarks, (3, 1, 1)))
    for v in np.unique(looks.video):
        frames = looks.x[looks.video == v]
        assert (frames == frames[0]).all()  # one look per video, the same on every frame
    assert any((looks.x[looks.video == v][0] != frame).any() for v in np.unique(looks.video))
    assert len(in_looks(c, 0).x) == 0
