import numpy as np
import pytest

from generator.audio import Audio
from generator.video import VideoWriter, probe, read_frames
from likeness.errors import UserError


def _frames(n, size=64):
    rng = np.random.default_rng(0)
    return [np.full((size, size, 3), rng.integers(0, 255, 3), np.uint8) for _ in range(n)]


def test_round_trip_with_audio(tmp_path):
    audio = Audio(0.2 * np.sin(np.linspace(0, 800, 48_000)).astype(np.float32), 48_000)
    out = tmp_path / "a.mp4"
    with VideoWriter(out, 25, (64, 64), audio) as w:
        for f in _frames(25):
            w.write(f)
    info = probe(out)
    assert info["video_codec"] == "h264" and info["audio_codec"] == "aac"
    assert (info["width"], info["height"], info["frames"]) == (64, 64, 25)
    assert abs(info["video_duration"] - info["audio_duration"]) <= 1 / 25 + 0.03
    back = list(read_frames(out))
    assert len(back) == 25 and np.abs(back[3].astype(int) - _frames(25)[3]).mean() < 4
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


def test_error_leaves_nothing_behind(tmp_path):
    out = tmp_path / "b.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 25, (64, 64)) as w:
            w.write(_frames(1)[0])
            raise RuntimeError("render failed")
    assert list(tmp_path.iterdir()) == []


def test_error_while_opening_leaves_nothing_behind(tmp_path):
    """A failure (or a SIGTERM raised as an exception) after the temp file exists but before `with` is entered."""
    with pytest.raises(ZeroDivisionError):
        VideoWriter(tmp_path / "d.mp4", 0, (64, 64))  # the stream setup fails on a zero rate
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept_until_success(tmp_path):
    out = tmp_path / "c.mp4"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 25, (64, 64)):
            raise RuntimeError
    assert out.read_bytes() == b"old"


def test_bad_output_paths(tmp_path):
    with pytest.raises(UserError, match="mp4"):
        VideoWriter(tmp_path / "x.avi", 25, (64, 64))
    with pytest.raises(UserError, match="folder does not exist"):
        VideoWriter(tmp_path / "nope" / "x.mp4", 25, (64, 64))
