"""The robust video watermark on real frames: fidelity, robustness, and no false alarms on real videos."""
import cv2
import numpy as np
import pytest

from generator.video import VideoWriter, read_frames
from provenance.detect import detect_file, detect_frames
from provenance.dwtdct import psnr
from provenance.payload import Payload
from provenance.spread import SpreadMark

PAYLOAD = Payload.new(0xBEEF)


@pytest.fixture(scope="module")
def mark():
    return SpreadMark()


def test_embed_is_invisible_and_exact(frame512, mark):
    marked = mark.embed(frame512, PAYLOAD.bits())
    assert psnr(frame512, marked) >= 38
    assert np.array_equal(mark.correlations(marked) > 0, PAYLOAD.bits().astype(bool))
    report = detect_frames([marked])
    assert report.found and report.payload == PAYLOAD.hex and report.confidence > 0.8


@pytest.fixture(scope="module")
def marked_clip(shared, mark, tmp_path_factory):
    """20 frames of a real talking-face video, marked, encoded at CRF 28."""
    frames = [f[:512, :512] for f in read_frames(shared / "real_videos" / "vrt_2.mp4", 20)]
    path = tmp_path_factory.mktemp("wm") / "marked.mp4"
    h, w = frames[0].shape[:2]
    with VideoWriter(path, 25, (w - w % 2, h - h % 2), crf=28) as writer:
        for f in frames:
            writer.write(mark.embed(np.ascontiguousarray(f[: h - h % 2, : w - w % 2]), PAYLOAD.bits()))
    return path


@pytest.mark.parametrize("attack", ["none", "resize_0.5", "brightness+20%", "brightness-20%", "jpeg75"])
def test_survives_h264_crf28_and_attacks(marked_clip, attack):
    def apply(f):
        if attack == "resize_0.5":
            return cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        if attack.startswith("brightness"):
            return np.clip(f * (1.2 if "+" in attack else 0.8), 0, 255).astype(np.uint8)
        if attack == "jpeg75":
            return cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], cv2.IMREAD_UNCHANGED)
        return f
    report = detect_frames(apply(f) for f in read_frames(marked_clip))
    assert report.found and report.payload == PAYLOAD.hex


@pytest.mark.slow
def test_no_false_alarm_on_any_real_video(shared):
    for video in sorted((shared / "real_videos").glob("*.mp4")):
        assert not detect_file(video, max_frames=40).found, video.name
