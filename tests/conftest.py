"""Shared fixtures: real media from ../shared/data, and small generated inputs."""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from generator.audio import save_wav as write_wav  # noqa: F401  (tests import it from here)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` pixels but holds almost none (a decompression-bomb probe)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIKENESS_SHARED", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():  # a user's checkout without the dev data; CI always has it
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def mona_lisa(shared) -> Path:
    return shared / "portraits" / "lp_s9.jpg"


@pytest.fixture(scope="session")
def speech_3s(shared, tmp_path_factory) -> Path:
    """The first 3 s of a real English speech clip."""
    from generator.audio import load_audio

    a = load_audio(shared / "speech" / "st_RD_Radio31_000.wav", 16_000)
    return write_wav(tmp_path_factory.mktemp("audio") / "speech_3s.wav", a.samples[: 3 * 16_000], 16_000)


@pytest.fixture(scope="session")
def mona_portrait(mona_lisa):
    from generator.face.analysis import analyze_file

    return analyze_file(mona_lisa, 256)


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory) -> Path:
    """Real local signing keys in a private LIKENESS_HOME, inherited by CLI subprocesses."""
    from provenance.keys import init_keys

    home = tmp_path_factory.mktemp("likeness_home")
    os.environ["LIKENESS_HOME"] = str(home)
    return init_keys(home / "keys")


@pytest.fixture(scope="session")
def frame512(shared):
    """A real 512x512 RGB face frame (the Mona Lisa canvas)."""
    from generator.face.analysis import analyze_file

    return analyze_file(shared / "portraits" / "lp_s9.jpg", 512).image


@contextmanager
def _serving(cfg):
    """The web app under uvicorn in a thread on a free loopback port; yields (base URL, app)."""
    import uvicorn

    from likeness.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(cfg)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.storage.close()


@contextmanager
def _client(cfg):
    """The web app in-process through FastAPI's test client (no socket), for tests a real server adds nothing to."""
    from fastapi.testclient import TestClient

    from likeness.web.app import create_app

    app = create_app(cfg)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as c:  # a loopback Host, as the Guard requires
            yield c
    finally:
        app.state.storage.close()


@pytest.fixture(scope="session")
def client():
    """`with client(ServeConfig(...)) as c:` the web app behind FastAPI's test client."""
    return _client


@pytest.fixture(scope="session")
def serving():
    """`with serving(ServeConfig(...)) as (url, app):` a real HTTP server for one test or module."""
    return _serving
