"""Uploads: streamed to a private folder under a size limit, typed by content, checked against limits.

Every failure is an `UploadError` carrying the HTTP status the API answers with and a one-line message:
413 too large, 415 not a supported type (judged by the bytes, never by the file name), 422 empty,
unreadable, too long or too many pixels.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from likeness.sniff import HEAD, sniff

@dataclass(frozen=True)
class Limits:
    max_bytes: int = 200 * 2**20      # per file
    max_seconds: float = 600.0        # video or audio duration
    max_pixels: int = 3840 * 2160     # per video frame or image


class UploadError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Upload:
    path: Path
    kind: str    # video, image or audio
    format: str
    name: str    # the client's file name, for display only


def save_upload(stream, folder: Path, name: str, allowed: tuple[str, ...], limits: Limits) -> Upload:
    """Copy a file-like upload into `folder` (a name we choose), then type-check and limit-check it."""
    own = folder / f"u{len(list(folder.iterdir()))}"  # one private sub-folder per upload
    own.mkdir()
    tmp = own / "upload.part"
    size = 0
    with open(tmp, "wb") as f:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limits.max_bytes:
                f.close()
                tmp.unlink(missing_ok=True)
                raise UploadError(413, f"{name}: larger than the {limits.max_bytes / 2**20:.0f} MiB upload limit")
            f.write(chunk)
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise UploadError(422, f"{name}: empty file")
    with open(tmp, "rb") as f:
        typed = sniff(f.read(HEAD))
    if typed is None or typed[0] not in allowed:
        tmp.unlink(missing_ok=True)
        raise UploadError(415, f"{name}: not a supported {' or '.join(allowed)} file (judged by its content)")
    kind, fmt, suffix = typed
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem)[:60] or "upload"  # display only; the folder is ours
    path = own / f"{stem}{suffix}"
    tmp.replace(path)
    _check_media(path, kind, name, limits)
    return Upload(path, kind, fmt, name)


def _check_media(path: Path, kind: str, name: str, limits: Limits) -> None:
    """Open the file the way the library will and enforce duration and pixel limits (422)."""
    import av
    from PIL import Image, UnidentifiedImageError

    if kind == "image":
        try:
            with Image.open(path) as im:  # reads the header only: the pixel count is checked before decoding
                w, h = im.size
                if w * h > limits.max_pixels:
                    raise UploadError(422, f"{name}: {w}x{h} is over the {limits.max_pixels:,}-pixel limit")
                im.verify()
        except Image.DecompressionBombError:
            raise UploadError(422, f"{name}: over the {limits.max_pixels:,}-pixel limit") from None
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            raise UploadError(422, f"{name}: unreadable image ({type(e).__name__})") from None
        return
    try:
        with av.open(str(path)) as c:
            duration = c.duration / 1e6 if c.duration else None
            if kind == "video":
                if not c.streams.video:
                    raise UploadError(422, f"{name}: no video stream")
                v = c.streams.video[0]
                if v.width * v.height > limits.max_pixels:
                    raise UploadError(422, f"{name}: {v.width}x{v.height} frames are over the {limits.max_pixels:,}-pixel limit")
                next(c.decode(video=0))  # a truncated or corrupt file fails here
            elif not c.streams.audio:
                raise UploadError(422, f"{name}: no audio stream")
    except UploadError:
        raise
    except (av.error.FFmpegError, StopIteration, UnicodeDecodeError, ValueError) as e:
        raise UploadError(422, f"{name}: unreadable {kind} ({type(e).__name__})") from None
    if duration is not None and duration > limits.max_seconds:
        raise UploadError(422, f"{name}: {duration:.0f} s is over the {limits.max_seconds:.0f}-second limit")


class Storage:
    """Private per-request folders under one temp root (mode 0700), removed after `ttl_s` seconds."""

    PREFIX = "likeness-web-"

    def __init__(self, ttl_s: float = 3600.0, root: Path | None = None):
        if root is None:
            orphans()
        self.root = Path(root or tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-"))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()

    def new(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.root))

    def sweep(self) -> int:
        """Delete folders older than the TTL; returns how many."""
        now, n = time.time(), 0
        with self._lock:
            for d in self.root.iterdir():
                if d.is_dir() and now - d.stat().st_mtime > self.ttl_s:
                    shutil.rmtree(d, ignore_errors=True)
                    n += 1
        return n

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def orphans(tmp: Path | None = None) -> int:
    """Delete the storage folders of servers that died without cleaning up (killed hard); returns how many."""
    n = 0
    for d in Path(tmp or tempfile.gettempdir()).glob(f"{Storage.PREFIX}*-*"):
        pid = d.name[len(Storage.PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or d.stat().st_uid != os.getuid() or _alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)
        n += 1
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
