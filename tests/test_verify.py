"""Generate -> verify, and what tampering, stripping, untrusted signers and bad files look like."""
import json
import subprocess
import sys

import av
import numpy as np
import pytest

from generator.options import MOTION_MODELS
from generator.pipeline import GenerateConfig, generate
from likeness.errors import UserError
from provenance.keys import init_keys, load_identity, trust_anchors
from provenance.verify import EXIT_CODES, verify

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def talk(mona_lisa, speech_3s, tmp_path_factory):
    d = tmp_path_factory.mktemp("verify")
    generate(GenerateConfig(mona_lisa, speech_3s, d / "talk.mp4", size=256, seed=1, frames_dir=d / "frames"))
    return d


def test_round_trip_verified_and_payload_matches(talk):
    r = verify(talk / "talk.mp4", trust_anchors())
    assert r.verdict == "verified" and r.exit_code == 0
    assert r.manifest.trusted and r.manifest.ai_generated and r.watermark.found and r.agree
    assert r.watermark.payload == r.manifest.watermark["payload"]
    assert {i["title"] for i in r.manifest.ingredients} == {"lp_s9.jpg", "speech_3s.wav"}
    params = r.manifest.actions[0]["parameters"]
    assert params["seed"] == 1 and params["motion"] == MOTION_MODELS[0]


def test_every_frame_png_is_marked_and_signed(talk):
    pngs = sorted((talk / "frames").glob("*.png"))
    assert len(pngs) == 75 and not list((talk / "frames").glob(".*"))
    for png in pngs[::37]:
        r = verify(png, trust_anchors())
        assert r.verdict == "verified" and r.agree, png.name


def test_tampered_video_is_invalid_but_still_watermarked(talk, tmp_path):
    data = bytearray((talk / "talk.mp4").read_bytes())
    mdat = data.find(b"mdat")
    size = int.from_bytes(data[mdat - 4: mdat], "big")
    at = mdat + int(size * 0.8)          # a few bytes inside a late frame's data
    data[at: at + 4] = bytes(b ^ 0xFF for b in data[at: at + 4])
    (tmp_path / "tampered.mp4").write_bytes(bytes(data))
    r = verify(tmp_path / "tampered.mp4", trust_anchors())
    assert r.verdict == "invalid" and r.manifest.present and not r.manifest.valid
    assert r.watermark.found


def test_a_stream_damaged_part_way_is_checked_on_the_frames_before_the_damage(talk, tmp_path):
    data = bytearray((talk / "talk.mp4").read_bytes())
    mdat = data.find(b"mdat")
    size = int.from_bytes(data[mdat - 4: mdat], "big")
    at = mdat + int(size * 0.6)
    data[at: at + 4096] = bytes(b ^ 0xFF for b in data[at: at + 4096])  # the decoder gives up part way
    (tmp_path / "damaged.mp4").write_bytes(bytes(data))
    r = verify(tmp_path / "damaged.mp4", trust_anchors())
    assert r.verdict == "invalid" and not r.manifest.valid
    assert r.watermark.found and 0 < r.watermark.frames < 75


def _reencode(src, dst, crf=23):
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        s = o.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt, s.options = 256, 256, "yuv420p", {"crf": str(crf)}
        for f in i.decode(video=0):
            frame = av.VideoFrame.from_ndarray(f.to_ndarray(format="rgb24"), format="rgb24")
            o.mux(s.encode(frame))
        o.mux(s.encode(None))


def test_stripped_by_reencoding_keeps_the_watermark(talk, tmp_path):
    _reencode(talk / "talk.mp4", tmp_path / "stripped.mp4", crf=28)
    r = verify(tmp_path / "stripped.mp4", trust_anchors())
    assert r.verdict == "watermark_only" and not r.manifest.present and r.watermark.found


def test_untrusted_signer_is_reported(mona_lisa, speech_3s, tmp_path):
    stranger = load_identity(directory=init_keys(tmp_path / "stranger"))
    out = tmp_path / "stranger.mp4"
    generate(GenerateConfig(mona_lisa, speech_3s, out, size=128, identity=stranger))
    r = verify(out, trust_anchors())
    assert r.verdict == "invalid" and "untrusted" in r.summary and r.manifest.valid and not r.manifest.trusted


def test_real_video_has_no_provenance(shared):
    r = verify(shared / "real_videos" / "vrt_1.mp4", trust_anchors())
    assert r.verdict == "no_provenance" and not r.manifest.present and not r.watermark.found


def test_bad_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not media")
    with pytest.raises(UserError):
        verify(tmp_path / "notes.txt")
    with pytest.raises(UserError, match="not found"):
        verify(tmp_path / "missing.mp4")


def test_generation_fails_closed_without_keys(mona_lisa, speech_3s, tmp_path, monkeypatch):
    monkeypatch.setenv("LIKENESS_HOME", str(tmp_path / "empty_home"))
    out = tmp_path / "never.mp4"
    with pytest.raises(UserError, match="likeness keys init"):
        generate(GenerateConfig(mona_lisa, speech_3s, out, size=128))
    assert list(tmp_path.glob("*.mp4")) == [] and list(tmp_path.glob(".*")) == []


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "likeness", *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cli_verify_exit_codes_and_json(talk, shared, tmp_path):
    ok = _cli("verify", talk / "talk.mp4", "--json")
    assert ok.returncode == EXIT_CODES["verified"], ok.stderr
    report = json.loads(ok.stdout)
    assert report["verdict"] == "verified" and report["watermark"]["found"] and report["agree"] is True
    real = _cli("verify", shared / "real_videos" / "vrt_2.mp4")
    assert real.returncode == EXIT_CODES["no_provenance"] and "No provenance" in real.stdout
    (tmp_path / "junk.mp4").write_bytes(np.random.default_rng(0).bytes(2000))
    junk = _cli("verify", tmp_path / "junk.mp4")
    assert junk.returncode in (EXIT_CODES["error"], EXIT_CODES["invalid"]) and "Traceback" not in junk.stderr
