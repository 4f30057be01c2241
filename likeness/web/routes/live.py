"""Live: a talking face that follows the browser's microphone, over a WebSocket (`/api/v1/live`).

Protocol (subprotocol `likeness.v1`; with a token, also offer `bearer.TOKEN`):
1. client -> JSON text `{"portrait": base64 image, "size": 256|512, "emotion", "gaze": [x, y], "pose_scale"}`;
2. server -> `{"type": "ready", "rate": 16000, "fps": 25, "size": N}` (or `{"type": "error", "detail"}` and close);
3. client -> binary chunks of 16-bit little-endian mono PCM at 16 kHz, and JSON `{"type": "controls", ...}` at any
   time; server -> binary frames: a 12-byte header (uint32 frame index, uint32 audio sample at the frame's centre,
   float32 ms the server spent on it) then the watermarked frame as JPEG.
One session per configured slot (`ServeConfig.live_slots`); more are told so and closed (code 1013).
"""
import asyncio
import base64
import io
import json
import shutil
import struct
import time

import numpy as np
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from likeness.errors import UserError

from ..state import API, Shared, shared
from ..uploads import UploadError, save_upload

router = APIRouter(prefix=API)
PROTOCOL = "likeness.v1"
HEADER = struct.Struct("<IIf")
SIZES = (256, 512)
QUEUED_FRAMES = 4   # frames waiting for a slow client before the oldest are dropped
JPEG_QUALITY = 85


@router.websocket("/live")
async def live(ws: WebSocket, s: Shared = Depends(shared)) -> None:
    await ws.accept(subprotocol=PROTOCOL if PROTOCOL in ws.scope.get("subprotocols", []) else None)
    if not s.live.acquire(blocking=False):
        n = s.cfg.live_slots
        await _close(ws, f"busy: all {n} live slot{'s' * (n != 1)} of this server are in use; try again later", 1013)
        return
    folder = s.storage.new()
    session = None
    try:
        try:
            setup = json.loads(await ws.receive_text())
            session = await asyncio.to_thread(_open, s, folder, setup)
        except (UserError, UploadError, ValueError, KeyError, TypeError) as e:
            await _close(ws, _detail(e), 1008)
            return
        await ws.send_json({"type": "ready", "rate": 16_000, "fps": session.cfg.fps, "size": session.cfg.size})
        await _stream(ws, session)
    except WebSocketDisconnect:
        pass
    finally:
        if session is not None:
            session.abort()
        shutil.rmtree(folder, ignore_errors=True)
        s.live.release()


def _open(s: Shared, folder, setup: dict):
    """A live session for the client's settings (validated here: one-line errors)."""
    from generator.motion.controls import Controls
    from generator.stream import LiveConfig, LiveSession

    size = int(setup.get("size", 256))
    if size not in SIZES:
        raise UserError(f"size must be one of {', '.join(map(str, SIZES))}, got {size}")
    try:
        raw = base64.b64decode(setup["portrait"], validate=True)
    except (KeyError, ValueError):
        raise UserError("the first message must carry the portrait as base64 ('portrait')") from None
    up = save_upload(io.BytesIO(raw), folder, "portrait", ("image",), s.cfg.limits)
    return LiveSession(up.path, LiveConfig(size=size, controls=_controls(setup, Controls())))


async def _stream(ws: WebSocket, session) -> None:
    """Audio in, frames out: a reader takes the client's messages, the engine runs on a worker thread, and a
    writer sends frames from a small queue that drops the oldest when the client reads slowly."""
    from generator.stream import LatestFrames

    audio: asyncio.Queue = asyncio.Queue()
    frames, ready = LatestFrames(QUEUED_FRAMES), asyncio.Event()

    async def reader() -> None:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(msg.get("code", 1000))
            if msg.get("bytes") is not None:
                audio.put_nowait(msg["bytes"])
            elif msg.get("text"):
                try:
                    session.set_controls(_controls(json.loads(msg["text"]), session.controls))
                except (UserError, ValueError, TypeError) as e:
                    await ws.send_json({"type": "error", "detail": _detail(e)})

    async def engine() -> None:
        while True:
            chunks = [await audio.get()]
            while not audio.empty():  # everything that arrived while the last frames were drawn, in one push
                chunks.append(audio.get_nowait())
            pcm = b"".join(chunks)
            t0 = time.perf_counter()
            out = await asyncio.to_thread(_push, session, np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2"))
            ms = 1000 * (time.perf_counter() - t0) / max(len(out), 1)
            for f, jpeg in out:
                frames.put(HEADER.pack(f.index, session.frame_centre(f.index), ms) + jpeg)
            ready.set()

    async def writer() -> None:
        while True:
            await ready.wait()
            ready.clear()
            while (item := frames.get()) is not None:
                await ws.send_bytes(item)

    tasks = [asyncio.create_task(t()) for t in (reader, engine, writer)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for t in done:
            t.result()  # a disconnect or an engine error ends the session
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _push(session, pcm: np.ndarray) -> list:
    """Run the engine on 16-bit samples; each new frame with its JPEG (encoded here, off the event loop)."""
    return [(f, _jpeg(f.rgb)) for f in session.push(pcm.astype(np.float32) / 32768.0)]


def _controls(msg: dict, base):
    """Controls from a client message, unchanged where it says nothing."""
    from generator.motion.controls import Controls

    gaze = msg.get("gaze", base.gaze)
    return Controls(gaze=(float(gaze[0]), float(gaze[1])), head_distance=float(msg.get("head_distance", base.head_distance)),
                    emotion=str(msg.get("emotion", base.emotion)), pose_scale=float(msg.get("pose_scale", base.pose_scale)))


def _jpeg(rgb: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return buf.tobytes()


def _detail(e: Exception) -> str:
    if isinstance(e, UploadError):
        return e.message
    if isinstance(e, UserError):
        return str(e)
    return f"bad message: {type(e).__name__}: {e}"[:200]


async def _close(ws: WebSocket, detail: str, code: int) -> None:
    await ws.send_json({"type": "error", "detail": detail})
    await ws.close(code, detail[:120])

