"""What a hostile user tried against `likeness serve` (issue #20), each kept from coming back. Real uvicorn."""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from detector.scan import results_csv
from likeness.web.app import ServeConfig
from likeness.web.uploads import Limits, Storage, orphans
from tests.conftest import png_header_only

ROOT = Path(__file__).resolve().parents[1]
MiB = 2**20


def stored_files(app) -> list[Path]:
    return [p for p in app.state.storage.root.rglob("*") if p.is_file()]


def chunks(total: int, size: int = 64 * 1024):
    """A multipart body streamed in chunks without Content-Length (chunked transfer encoding)."""
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n\x00\x00\x00\x18ftypisom'
    for _ in range(total // size):
        yield bytes(size)
    yield b"\r\n--b--\r\n"


@pytest.fixture(scope="module")
def guarded(serving):
    with serving(ServeConfig(token="s3cret", limits=Limits(max_bytes=MiB))) as (url, app):
        yield url, app


AUTH = {"Authorization": "Bearer s3cret"}


def test_rebinding_host_and_cross_origin_posts_are_refused(guarded, tmp_path):
    url, app = guarded
    r = requests.get(f"{url}/api/v1/health", headers={**AUTH, "Host": "evil.example"})
    assert r.status_code == 403 and "evil.example" in r.json()["detail"]
    assert requests.get(url, headers={"Host": "evil.example:8000"}).status_code == 403  # the page too
    files = {"file": ("x.png", b"\x89PNG\r\n\x1a\n" + bytes(100))}
    r = requests.post(f"{url}/api/v1/verify", headers={**AUTH, "Origin": "http://evil.example"}, files=files)
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    r = requests.post(f"{url}/api/v1/verify", headers={**AUTH, "Origin": "null"}, files=files)
    assert r.status_code == 403
    same = requests.post(f"{url}/api/v1/verify", headers={**AUTH, "Origin": url}, files=files)
    assert same.status_code == 422  # judged on its content: it got through the guard
    assert "access-control-allow-origin" not in {k.lower() for k in same.headers}
    assert not stored_files(app)


def test_chunked_oversized_upload_gets_401_without_token_and_413_with_it(guarded):
    url, app = guarded
    r = requests.post(f"{url}/api/v1/verify", data=chunks(4 * MiB),
                      headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 401
    r = requests.post(f"{url}/api/v1/verify", data=chunks(4 * MiB),
                      headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "MiB" in r.json()["detail"]
    assert not stored_files(app)
    assert requests.get(f"{url}/api/v1/health", headers=AUTH).status_code == 200


def test_security_headers(guarded):
    url, _ = guarded
    page, api = requests.get(url), requests.get(f"{url}/api/v1/health", headers=AUTH)
    assert page.headers["X-Content-Type-Options"] == api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["Cache-Control"] == "no-store"
    denied = requests.get(f"{url}/api/v1/health")
    assert denied.headers["X-Content-Type-Options"] == "nosniff" and denied.headers["WWW-Authenticate"] == "Bearer"
    paths = requests.get(f"{url}/openapi.json").json()["paths"]
    assert {"401", "403", "413", "415", "422", "503"} <= set(paths["/api/v1/scan"]["post"]["responses"])
    assert {"409", "413"} <= set(paths["/api/v1/generate"]["post"]["responses"])


def test_decompression_bomb_is_a_422_naming_the_pixel_limit(guarded):
    url, _ = guarded
    r = requests.post(f"{url}/api/v1/verify", headers=AUTH, files={"file": ("bomb.png", png_header_only(20000, 20000))})
    assert r.status_code == 422 and "pixel limit" in r.json()["detail"] and "bomb.png" in r.json()["detail"]


@pytest.mark.slow
def test_job_errors_name_the_clients_file_never_a_server_path(guarded, speech_3s):
    from PIL import Image
    import io

    url, app = guarded
    buf = io.BytesIO()
    Image.fromarray(np.full((256, 256, 3), 128, np.uint8)).save(buf, "PNG")  # no face in it
    with open(speech_3s, "rb") as snd:
        r = requests.post(f"{url}/api/v1/generate", headers=AUTH,
                          files={"image": ("grey wall.png", buf.getvalue()), "audio": ("s.wav", snd)})
    assert r.status_code == 202, r.text
    t0 = time.time()
    while (j := requests.get(f"{url}/api/v1/jobs/{r.json()['id']}", headers=AUTH).json())["state"] not in ("done", "error"):
        assert time.time() - t0 < 60
        time.sleep(0.2)
    assert j["state"] == "error" and "no face" in j["error"] and "grey wall.png" in j["error"]
    assert str(app.state.storage.root) not in j["error"] and "/tmp" not in j["error"], j["error"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    rows = [{"file": "=SUM(1+1).mp4", "status": "ok"}, {"file": "+HYPERLINK(\"x\").mp4"}, {"file": "@cmd.mp4"},
            {"file": "-2+3.mp4"}, {"file": "plain.mp4", "probability_fake": -0.5}]
    lines = results_csv(rows).splitlines()[1:]
    assert [line.split(",")[0] for line in lines[:4]] == ["'=SUM(1+1).mp4", '"\'+HYPERLINK(""x"").mp4"', "'@cmd.mp4",
                                                         "'-2+3.mp4"]
    assert lines[4].startswith("plain.mp4,") and ",-0.5," in lines[4]  # numbers stay numbers


def test_orphaned_storage_of_a_dead_server_is_swept(tmp_path):
    dead = tmp_path / f"{Storage.PREFIX}999999-abc"   # no such process
    alive = tmp_path / f"{Storage.PREFIX}{os.getpid()}-def"
    for d in (dead, alive):
        d.mkdir()
        (d / "portrait.png").write_bytes(b"x")
    assert orphans(tmp_path) == 1
    assert not dead.exists() and alive.exists()


@pytest.mark.slow
def test_sigterm_deletes_the_servers_uploads(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    p = subprocess.Popen([sys.executable, "-m", "likeness", "serve", "--port", str(port)], cwd=ROOT, env=env,
                         stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.time() - t0 < 60 and p.poll() is None
                time.sleep(0.2)
        roots = list(tmp_path.glob(f"{Storage.PREFIX}{p.pid}-*"))
        assert len(roots) == 1
        (roots[0] / "user-media.mp4").write_bytes(b"private")
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 128 + signal.SIGTERM
        assert not roots[0].exists()
        assert "Traceback" not in p.stderr.read()
    finally:
        p.kill()


# --- generate -----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_output_that_is_an_input_is_refused_and_the_input_kept(mona_lisa, speech_3s, tmp_path):
    from generator.pipeline import GenerateConfig
    from likeness.errors import UserError

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"the user's only copy")
    with pytest.raises(UserError, match="audio input"):
        GenerateConfig(mona_lisa, clip, tmp_path / "." / "clip.mp4")
    assert clip.read_bytes() == b"the user's only copy"
    r = subprocess.run([sys.executable, "-m", "likeness", "generate", "-i", str(mona_lisa), "-a", str(clip), "-o",
                        str(clip)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "destroy the input" in r.stderr and clip.read_bytes() == b"the user's only copy"


@pytest.mark.parametrize("field,value", [("audio_scale", float("nan")), ("audio_scale", float("inf")),
                                         ("control_scale", -1.0), ("audio_scale", 1e9), ("seed", -1)])
def test_guidance_scales_and_seed_are_validated_up_front(mona_lisa, speech_3s, tmp_path, field, value):
    from generator.pipeline import GenerateConfig
    from likeness.errors import UserError

    with pytest.raises(UserError, match=field.replace("_", "-")):
        GenerateConfig(mona_lisa, speech_3s, tmp_path / "o.mp4", **{field: value})


def test_sixteen_bit_grey_png_keeps_its_picture(mona_lisa, tmp_path):
    from PIL import Image

    from generator.face.analysis import analyze_file, load_image

    grey8 = np.asarray(Image.open(mona_lisa).convert("L"))
    path = tmp_path / "mona16.png"
    Image.fromarray(grey8.astype(np.uint16) * 257).save(path)
    assert Image.open(path).mode.startswith("I")
    rgb = load_image(path)
    assert rgb.shape == (*grey8.shape, 3) and np.abs(rgb[..., 0].astype(int) - grey8).max() <= 1
    assert analyze_file(path, 256).mouth_open >= 0  # a face is found, not a white page


def test_audio_with_nan_samples_is_called_invalid_not_silent(tmp_path):
    from generator.audio import load_audio
    from likeness.errors import UserError

    import wave

    path = tmp_path / "nan.wav"
    x = np.full(16_000, 0.1, np.float32)
    x[100] = np.nan
    with wave.open(str(path), "wb") as w:  # 32-bit float WAV (format 3) via the raw header
        w.setnchannels(1)
        w.setsampwidth(4)
        w.setframerate(16_000)
        w.writeframes(x.tobytes())
    data = bytearray(path.read_bytes())
    data[20:22] = (3).to_bytes(2, "little")  # WAVE_FORMAT_IEEE_FLOAT
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="invalid samples"):
        load_audio(path)


# --- scan -----------------------------------------------------------------------------------------------

def test_folder_scan_finds_videos_by_content_and_says_why_others_are_skipped(shared, mona_lisa, tmp_path):
    from detector.scan import find_files, not_a_video

    folder = tmp_path / "uploads"
    folder.mkdir()
    grid = shared / "real_videos" / "lipnet_GRID_lrwp9a.mpg"
    (folder / "clip.mpg").write_bytes(grid.read_bytes())
    (folder / "no_extension").write_bytes(grid.read_bytes())
    (folder / "photo.jpg").write_bytes(mona_lisa.read_bytes())
    (folder / ".DS_Store").write_bytes(b"\x00")
    found = find_files([folder, folder / "clip.mpg"])
    assert [p.name for p in found] == ["clip.mpg", "no_extension", "photo.jpg"]  # each once, dotfiles left out
    assert not_a_video(folder / "clip.mpg") is None and not_a_video(folder / "no_extension") is None
    assert "still JPEG image" in not_a_video(folder / "photo.jpg")


def test_a_fifo_named_explicitly_is_refused_not_waited_on(tmp_path):
    from detector.scan import find_files
    from likeness.errors import UserError

    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        find_files([fifo])


@pytest.mark.parametrize("kw", [{"rate": 0}, {"rate": -1}, {"rate": float("nan")}, {"max_seconds": -5},
                                {"max_seconds": float("inf")}])
def test_scan_options_are_validated_up_front(kw):
    from detector.scan import ScanConfig
    from likeness.errors import UserError

    with pytest.raises(UserError, match=next(iter(kw)).replace("_", "-")):
        ScanConfig(**kw)


@pytest.mark.parametrize("where", ["folder", "missing"])
@pytest.mark.slow
def test_report_destination_is_checked_before_scanning(shared, tmp_path, where):
    report = tmp_path if where == "folder" else tmp_path / "nope" / "r.html"
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "likeness", "scan", str(shared / "real_videos" / "vrt_5.mp4"),
                        "--report", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--report" in r.stderr and "Traceback" not in r.stderr
    assert time.time() - t0 < 30 and not list(tmp_path.rglob("*.part"))


# --- verify ---------------------------------------------------------------------------------------------

def _likeness(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "likeness", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, **kw)


@pytest.mark.slow
def test_unreadable_inputs_are_errors_rc3_with_a_json_object(tmp_path):
    import json

    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("just text\n")
    for target in (tmp_path / "missing.mp4", tmp_path, tmp_path / "empty.mp4", tmp_path / "notes.txt"):
        r = _likeness("verify", target, "--json")
        assert r.returncode == 3, (target, r.stdout, r.stderr)
        out = json.loads(r.stdout)
        assert out["status"] == "error" and out["exit_code"] == 3 and out["error"] and "Errno" not in out["error"]


@pytest.mark.slow
def test_a_bad_trust_file_is_an_input_error_before_verification(tmp_path, mona_lisa):
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    (tmp_path / "binary.pem").write_bytes(bytes(range(256)))
    for trust in ("bad.pem", "binary.pem"):
        r = _likeness("verify", mona_lisa, "--trust", tmp_path / trust)
        assert r.returncode == 2 and "trust file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("n", ["0", "-1"])
@pytest.mark.slow
def test_max_frames_must_read_at_least_one_frame(mona_lisa, n):
    r = _likeness("verify", mona_lisa, "--max-frames", n)
    assert r.returncode == 2 and "max-frames" in r.stderr


@pytest.mark.slow
def test_a_bad_signing_key_fails_before_any_rendering(mona_lisa, speech_3s, tmp_path, signing_keys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from generator.pipeline import GenerateConfig, generate
    from likeness.errors import UserError
    from provenance.keys import SigningIdentity, load_identity

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    wrong = SigningIdentity(load_identity().chain_pem, other)  # our chain, someone else's key
    frames = []
    with pytest.raises(UserError, match="signing failed"):
        generate(GenerateConfig(mona_lisa, speech_3s, tmp_path / "o.mp4", size=128, identity=wrong),
                 progress=lambda i, n: frames.append(i))
    assert not frames and not list(tmp_path.iterdir())
    key = tmp_path / "k.pem"
    key.write_bytes(other)
    r = _likeness("generate", "-i", mona_lisa, "-a", speech_3s, "-o", tmp_path / "o.mp4", "--key", key)
    assert r.returncode == 2 and "--cert and --key" in r.stderr


@pytest.mark.slow
def test_sigterm_during_generate_leaves_no_partial_files(mona_lisa, shared, tmp_path):
    out = tmp_path / "talk.mp4"
    p = subprocess.Popen([sys.executable, "-m", "likeness", "generate", "-i", str(mona_lisa), "-a",
                          str(shared / "speech" / "st_RD_Radio31_000.wav"), "-o", str(out), "--size", "256",
                          "--frames-dir", str(tmp_path / "frames")], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not list(tmp_path.glob(".talk.unsigned.*")):  # rendering has begun
        assert p.poll() is None and time.time() - t0 < 120
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    assert p.wait(60) == 128 + signal.SIGTERM
    assert "terminated" in p.stderr.read()
    assert not out.exists() and [f.name for f in tmp_path.rglob("*") if f.is_file()] == []


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(shared):
    """`likeness scan ... | head`: the reader is gone before the first line is written."""
    p = subprocess.Popen([sys.executable, "-m", "likeness", "scan", str(shared / "portraits"), "--no-provenance"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()
    assert p.wait(300) == 141
    err = p.stderr.read()
    assert "BrokenPipe" not in err and "internal error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("case", ["long name", "frames-dir is a file", "folder as output"])
@pytest.mark.slow
def test_bad_output_paths_are_input_errors_not_internal_ones(mona_lisa, speech_3s, tmp_path, case):
    (tmp_path / "file.txt").write_text("x")
    out, extra = tmp_path / "o.mp4", []
    if case == "long name":
        out = tmp_path / ("n" * 296 + ".mp4")
    elif case == "frames-dir is a file":
        extra = ["--frames-dir", tmp_path / "file.txt"]
    else:
        (tmp_path / "dir.mp4").mkdir()
        out = tmp_path / "dir.mp4"
    r = _likeness("generate", "-i", mona_lisa, "-a", speech_3s, "-o", out, *extra)
    assert r.returncode == 2 and "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_is_an_input_error(mona_lisa, speech_3s, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    r = _likeness("generate", "-i", mona_lisa, "-a", speech_3s, "-o", ro / "o.mp4")
    assert r.returncode == 2 and "not writable" in r.stderr


@pytest.fixture(scope="module")
def marked_clip(mona_lisa, speech_3s, tmp_path_factory) -> Path:
    from generator.pipeline import GenerateConfig, generate

    out = tmp_path_factory.mktemp("marked") / "talk.mp4"
    generate(GenerateConfig(mona_lisa, speech_3s, out, size=256, seed=2))
    return out


@pytest.mark.parametrize("suffix,codec", [(".mkv", "libx264"), (".avi", "mpeg4")])
@pytest.mark.slow
def test_watermark_is_checked_in_containers_c2pa_does_not_cover(marked_clip, tmp_path, suffix, codec):
    import json

    import av

    out = tmp_path / f"reencoded{suffix}"
    with av.open(str(marked_clip)) as src, av.open(str(out), "w") as dst:
        s = dst.add_stream(codec, rate=25)
        s.width, s.height, s.pix_fmt = 256, 256, "yuv420p"
        if codec == "libx264":
            s.options = {"crf": "18"}
        else:
            s.bit_rate = 4_000_000
        for frame in src.decode(video=0):
            dst.mux(s.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")))
        dst.mux(s.encode(None))
    r = _likeness("verify", out, "--json")
    assert r.returncode == 4, (r.returncode, r.stdout[-400:], r.stderr)  # watermark only: the manifest was dropped
    assert json.loads(r.stdout)["watermark"]["found"]


def test_a_manifest_written_by_another_tool_is_not_called_likeness(mona_lisa, tmp_path):
    from PIL import Image

    from provenance.keys import load_identity, trust_anchors
    from provenance.manifest import build_manifest, sign_file
    from provenance.verify import verify

    src = tmp_path / "photo.png"
    Image.open(mona_lisa).convert("RGB").resize((64, 64)).save(src)
    manifest = build_manifest("photo.png", {}, {}, {})
    manifest["claim_generator_info"] = [{"name": "OtherTool", "version": "9"}]
    signed = sign_file(src, tmp_path / "signed.png", manifest, load_identity())
    report = verify(signed, trust_anchors())
    assert report.verdict == "verified" and report.manifest.generator == "OtherTool"
    assert not report.summary.startswith("AI-generated by Likeness") and "written by OtherTool" in report.summary


@pytest.mark.slow
def test_data_appended_after_the_signed_boxes_is_reported(marked_clip, tmp_path):
    padded = tmp_path / "padded.mp4"
    padded.write_bytes(marked_clip.read_bytes() + struct.pack(">I4s", 10_008, b"free") + bytes(10_000))
    r = _likeness("verify", padded)
    assert r.returncode == 2 and "trailing data: 10008 bytes" in r.stdout
    assert _likeness("verify", marked_clip).returncode == 0  # the untouched file still verifies
