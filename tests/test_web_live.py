"""The Live WebSocket (`/api/v1/live`) against a real uvicorn server: frames out, marks on them, slots, tokens,
dropped clients and slow ones."""
import base64
import json
import socket
import struct
import time

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from generator.audio import load_audio
from generator.stream import LatestFrames
from likeness.web.app import ServeConfig


@pytest.fixture(scope="module")
def pcm(speech_3s) -> bytes:
    return (np.clip(load_audio(speech_3s, 16_000).samples, -1, 1) * 32767).astype("<i2").tobytes()


def _open(url, portrait, token=None, size=256):
    protocols = ["likeness.v1"] + ([f"bearer.{token}"] if token else [])
    ws = connect(url.replace("http", "ws") + "/api/v1/live", subprotocols=protocols, open_timeout=30)
    try:
        ws.send(json.dumps({"portrait": base64.b64encode(portrait.read_bytes()).decode(), "size": size}))
    except ConnectionClosed:  # refused at once (no free slot): its one message is still there to read
        pass
    return ws, json.loads(ws.recv(timeout=60))


def _frames(ws, pcm: bytes, seconds: float) -> list[tuple[int, bytes]]:
    """Send `seconds` of audio in 40 ms chunks in real time and collect the frames that come back."""
    out, t0 = [], time.perf_counter()
    for k, i in enumerate(range(0, int(seconds * 32_000), 1280)):
        time.sleep(max(0.0, t0 + k * 0.04 - time.perf_counter()))
        ws.send(pcm[i: i + 1280])
        try:
            while True:
                m = ws.recv(timeout=0.01)
                out.append((struct.unpack("<IIf", m[:12])[0], m[12:]))
        except TimeoutError:
            pass
    deadline = time.time() + 5
    while time.time() < deadline and len(out) < seconds * 25 - 2:
        try:
            m = ws.recv(timeout=0.5)
            out.append((struct.unpack("<IIf", m[:12])[0], m[12:]))
        except TimeoutError:
            break
    return out


@pytest.mark.slow
def test_a_live_session_streams_watermarked_frames(serving, mona_lisa, pcm):
    from PIL import Image
    import io

    from provenance.detect import detect_frames

    with serving(ServeConfig()) as (url, app):
        ws, ready = _open(url, mona_lisa)
        assert ready == {"type": "ready", "rate": 16000, "fps": 25.0, "size": 256}
        frames = _frames(ws, pcm, 2.0)
        ws.close()
    index = [i for i, _ in frames]
    assert index == sorted(set(index)) and len(frames) >= 40 and index[-1] >= 47  # in order; few or none dropped
    rgb = [np.asarray(Image.open(io.BytesIO(j)).convert("RGB")) for _, j in frames]
    assert rgb[0].shape == (256, 256, 3)
    assert np.abs(rgb[10].astype(int) - rgb[30]).mean() > 0.5      # it moves
    assert detect_frames(rgb[::4]).found                            # the mark survives the JPEG


def test_slots_are_limited_and_a_dropped_client_frees_its_slot(serving, mona_lisa, pcm):
    with serving(ServeConfig(live_slots=1)) as (url, app):
        ws, _ = _open(url, mona_lisa)
        ws.send(pcm[:6400])
        second, msg = _open(url, mona_lisa)
        assert msg["type"] == "error" and msg["detail"].startswith("busy: all 1 live slot of this server are in use")
        with pytest.raises(ConnectionClosed) as closed:
            second.recv(timeout=5)
        assert closed.value.rcvd.code == 1013
        # The client vanishes without a close frame. shutdown() sends the FIN at once: a bare close() would wait
        # for the client's own reader thread, blocked in recv() on the same socket, to get a frame first.
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.socket.close()
        deadline, ready = time.time() + 20, None
        while time.time() < deadline:
            again, ready = _open(url, mona_lisa)
            again.close()
            if ready["type"] == "ready":
                break
            time.sleep(0.2)
        assert ready["type"] == "ready", ready
        deadline = time.time() + 5
        while any(app.state.storage.root.iterdir()) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(app.state.storage.root.iterdir())           # the sessions' uploads are gone too


def test_the_token_is_required_and_may_come_as_a_subprotocol(serving, mona_lisa):
    with serving(ServeConfig(token="s3cret")) as (url, _):
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            ws, _ = _open(url, mona_lisa)
            ws.recv(timeout=5)
        ws, ready = _open(url, mona_lisa, token="s3cret")
        assert ready["type"] == "ready"
        ws.close()


def test_bad_setups_get_one_line_errors(serving, mona_lisa, tmp_path):
    (tmp_path / "notes.txt").write_text("not a picture")
    with serving(ServeConfig()) as (url, _):
        _, msg = _open(url, tmp_path / "notes.txt")
        assert msg["type"] == "error" and "portrait" in msg["detail"] and "\n" not in msg["detail"]
        _, msg = _open(url, mona_lisa, size=300)
        assert msg == {"type": "error", "detail": "size must be one of 256, 512, got 300"}
        ws, ready = _open(url, mona_lisa)
        ws.send(json.dumps({"type": "controls", "emotion": "bored"}))
        msg = json.loads(ws.recv(timeout=10))
        assert msg["type"] == "error" and msg["detail"].startswith("unknown emotion 'bored'")
        ws.close()


def test_a_slow_consumer_gets_the_newest_frames_in_bounded_memory():
    q = LatestFrames(4)
    for i in range(1000):
        q.put(bytes(10_000) + bytes([i % 256]))
    assert len(q) == 4 and q.dropped == 996
    assert [q.get()[-1] for _ in range(4)] == [996 % 256, 997 % 256, 998 % 256, 999 % 256] and q.get() is None


def test_a_controls_message_changes_only_what_it_names(mona_lisa):
    """A gaze change keeps the emotion chosen at set-up (it used to fall back to neutral)."""
    from generator.motion.controls import Controls
    from generator.stream import LiveConfig, LiveSession
    from likeness.web.routes.live import _controls

    s = LiveSession(mona_lisa, LiveConfig(size=128, controls=Controls(emotion="happy")))
    s.set_controls(_controls({"type": "controls", "gaze": [0.5, 0.0]}, s.controls))
    assert s.controls == Controls(gaze=(0.5, 0.0), emotion="happy")
