"""End to end: a real portrait and real speech in, an MP4 out, checked by an independent FaceMesh pass."""
import subprocess
import sys

import numpy as np
import pytest

from generator.audio import load_audio
from generator.face.analysis import FaceMesh
from generator.face.expression import mouth_opening
from generator.pipeline import GenerateConfig, generate
from generator.video import probe, read_frames

pytestmark = pytest.mark.slow
FPS = 25


@pytest.fixture(scope="module")
def clip(mona_lisa, speech_3s, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "talk.mp4"
    result = generate(GenerateConfig(mona_lisa, speech_3s, out, fps=FPS, size=256, seed=7))
    return result, list(read_frames(out))


def test_duration_and_size(clip, speech_3s):
    result, frames = clip
    info = probe(result.out)
    audio_s = load_audio(speech_3s).duration
    assert (info["width"], info["height"]) == (256, 256)
    assert len(frames) == result.frames == round(audio_s * FPS)
    assert abs(info["video_duration"] - audio_s) <= 1 / FPS
    assert abs(info["audio_duration"] - audio_s) <= 1 / FPS
    assert set(result.timings) == {"audio", "analysis", "motion", "render", "watermark", "encode", "sign"}


def test_lips_open_with_speech_and_follow_the_planned_motion(clip, mona_lisa, speech_3s):
    """Judged on the decoded output frames: the mouth opens more while the voice is loud than in its pauses,
    and the rendered opening follows the motion the pipeline planned (phones shape it: `test_phones.py`)."""
    from generator.audio import features
    from generator.face.analysis import analyze_file
    from generator.pipeline import make_motion

    _, frames = clip
    mesh = FaceMesh(static=False, max_faces=1)
    opening = np.array([mouth_opening(mesh(f)[0]) for f in frames])
    a = load_audio(speech_3s, 16_000)
    hop = 16_000 // FPS
    n = min(len(opening), len(a.samples) // hop)
    rms = np.sqrt((a.samples[: n * hop].reshape(n, hop) ** 2).mean(1))
    loud, quiet = rms > np.percentile(rms, 67), rms < np.percentile(rms, 33)
    assert opening[:n][loud].mean() > 1.5 * opening[:n][quiet].mean()
    cfg = GenerateConfig(mona_lisa, speech_3s, clip[0].out, fps=FPS, size=256, seed=7)  # the default motion
    m = make_motion(cfg, a, features(a, FPS), analyze_file(mona_lisa, 256).mouth_open)
    planned = 0.45 * m.channel("jaw_open") + 0.08 * (m.channel("lower_lip") + m.channel("upper_lip"))
    assert np.corrcoef(opening, planned[: len(opening)])[0, 1] >= 0.7


def test_far_background_is_still(clip):
    _, frames = clip
    stack = np.stack(frames).astype(np.int16)
    corners = np.abs(np.diff(np.concatenate([stack[:, :20, :20], stack[:, :20, -20:]], 1), axis=0)).mean()
    assert corners < 1.5                                       # only codec noise in the corners
    face = np.abs(np.diff(stack[:, 128:200, 90:166], axis=0)).mean()
    assert face > 0.8 and face > 3 * corners, (face, corners)  # while the mouth moves


def test_same_seed_same_video(clip, mona_lisa, speech_3s, tmp_path):
    again = generate(GenerateConfig(mona_lisa, speech_3s, tmp_path / "again.mp4", fps=FPS, size=256, seed=7))
    assert all(np.array_equal(a, b) for a, b in zip(clip[1], read_frames(again.out)))
    other = generate(GenerateConfig(mona_lisa, speech_3s, tmp_path / "other.mp4", fps=FPS, size=256, seed=8))
    assert not all(np.array_equal(a, b) for a, b in zip(clip[1], read_frames(other.out)))


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "likeness", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("motion", ["dit", "articulated"])
def test_cli_generates(motion, mona_lisa, speech_3s, tmp_path):
    out = tmp_path / "cli.mp4"
    r = _cli("generate", "--image", mona_lisa, "--audio", speech_3s, "--out", out, "--size", 128,
             "--emotion", "happy", "--gaze", "0.2,-0.1", "--pose-scale", 0.5, "--motion", motion, "--audio-scale", 2)
    assert r.returncode == 0, r.stderr
    assert "fps end to end" in r.stdout and out.is_file()
    assert r.stderr.strip() == ""   # no library log spam


@pytest.mark.parametrize("case", ["no_face", "text_image", "missing_image", "silent_audio", "empty_audio",
                                  "text_audio", "huge_image", "bad_emotion", "bad_out"])
def test_cli_bad_inputs_fail_cleanly(case, shared, mona_lisa, speech_3s, tmp_path):
    from tests.conftest import write_wav
    from tests.conftest import png_header_only

    image, audio, out = mona_lisa, speech_3s, tmp_path / "out.mp4"
    extra = []
    if case == "no_face":
        image = shared / "portraits" / "lp_s23.jpg"
    elif case == "text_image":
        image = tmp_path / "face.jpg"
        image.write_text("hello")
    elif case == "missing_image":
        image = tmp_path / "nope.png"
    elif case == "silent_audio":
        audio = write_wav(tmp_path / "s.wav", np.zeros(16_000), 16_000)
    elif case == "empty_audio":
        audio = tmp_path / "e.wav"
        audio.write_bytes(b"")
    elif case == "text_audio":
        audio = tmp_path / "t.wav"
        audio.write_text("words, not sound")
    elif case == "huge_image":
        image = tmp_path / "huge.png"
        image.write_bytes(png_header_only(50_000, 50_000))
    elif case == "bad_emotion":
        extra = ["--emotion", "bored"]
    elif case == "bad_out":
        out = tmp_path / "out.gif"
    r = _cli("generate", "--image", image, "--audio", audio, "--out", out, "--size", 128, *extra)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr
    assert [p for p in tmp_path.iterdir() if p.suffix in (".mp4", ".gif", ".part")] == []
