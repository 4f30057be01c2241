"""What a hostile user tried against `likeness serve` (issue #20), each kept from coming back. Real uvicorn."""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import requests

from likeness.web.app import ServeConfig, scan_csv
from likeness.web.uploads import Limits, Storage, orphans

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


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_a_422_naming_the_pixel_limit(guarded):
    url, _ = guarded
    r = requests.post(f"{url}/api/v1/verify", headers=AUTH, files={"file": ("bomb.png", _png_header_only(20000, 20000))})
    assert r.status_code == 422 and "pixel limit" in r.json()["detail"] and "bomb.png" in r.json()["detail"]


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
    lines = scan_csv(rows).splitlines()[1:]
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
