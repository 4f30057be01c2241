"""`likeness eval reenact`: self-reenactment of a real clip, measured against its own frames."""
import json
import subprocess
import sys

import numpy as np
import pytest

from eval.reenact import ReenactConfig, compare, run_reenact


def test_compare_known_answers():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    box = (8, 8, 56, 56)
    same = compare(img, img, box, box)
    assert same["face_ssim"] == pytest.approx(1.0) and same["mouth_l1"] == 0.0 and same["face_psnr"] > 100
    shifted = np.clip(img.astype(int) + 10, 0, 255).astype(np.uint8)
    d = compare(img, shifted, box, box)
    assert d["mouth_l1"] == pytest.approx(np.abs(shifted[8:56, 8:56].astype(int) - img[8:56, 8:56]).mean() / 255)
    assert 25 < d["face_psnr"] < 30   # about 10 levels everywhere: 20 log10(255 / 10) = 28 dB, less where clipped


def test_lip_opening_correlation_known_answers():
    from likeness.metrics import lagged_correlation

    def _correlation(a, b):  # what `lip opening r` computes
        return lagged_correlation(a, b, 0)

    a = np.sin(np.linspace(0, 6, 50))
    assert _correlation(2 * a + 1, a) == pytest.approx(1.0) and _correlation(-a, a) == pytest.approx(-1.0)
    b = a.copy()
    b[[3, 7]] = np.nan  # frames where dlib found no face are left out, not counted as closed
    assert _correlation(b, a) == pytest.approx(1.0)
    assert np.isnan(_correlation(np.full(50, 0.2), a))  # a reading that does not move: no correlation


@pytest.mark.slow
def test_reenacting_a_real_clip(shared, tmp_path):
    cfg = ReenactConfig([shared / "real_videos" / "vrt_5.mp4"], size=256, max_seconds=1.5)
    rep = run_reenact(cfg, tmp_path, tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    clip = rep["clips"]["vrt_5"]
    assert clip["frames"] >= 30
    # the first frame held still is the portrait itself: the same person to dlib
    assert clip["still"]["identity"] < 0.1 and clip["real"]["face_found"] == 1.0
    # a talking clip: following its motion beats holding the first frame, with every renderer
    for r in ("warp-v1", "v2", "v3"):
        assert clip[r]["mouth_l1"] < clip["still"]["mouth_l1"]
        assert clip[r]["face_ssim"] > clip["still"]["face_ssim"]
        assert clip[r]["lip_opening_r"] > 0.6  # dlib reads the rendered mouth opening and closing with the real one
    assert clip["still"]["lip_opening_r"] == 0.0  # the still frame: the same image reads the same in every frame
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert set(saved["mean"]) == {"real", "still", "warp-v1", "v2", "v3"}
    assert (tmp_path / "contact_sheet.png").stat().st_size > 1000
    assert "| v3 |" in (tmp_path / "table.md").read_text()


def test_reenact_cli_rejects_a_folder_without_videos(tmp_path):
    (tmp_path / "notes.txt").write_text("not a video")
    r = subprocess.run([sys.executable, "-m", "likeness", "eval", "reenact", "--videos", str(tmp_path),
                        "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == f"error: no videos in {tmp_path}"
