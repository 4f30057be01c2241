"""What a file is, judged by its first bytes, never by its name: one table for web uploads and the scanner."""
from __future__ import annotations

from pathlib import Path

HEAD = 192  # bytes `sniff` needs (an MPEG transport stream is recognised by its second packet at 188)

# (offset, magic, kind, format, suffix)
_MAGIC: list[tuple[int, bytes, str, str, str]] = [
    (4, b"ftypqt", "video", "mov", ".mov"),
    (4, b"ftyp", "video", "mp4", ".mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video", "webm/mkv", ".mkv"),
    (0, b"\x00\x00\x01\xba", "video", "mpeg", ".mpg"),
    (0, b"\x00\x00\x01\xb3", "video", "mpeg", ".mpg"),
    (0, b"FLV\x01", "video", "flv", ".flv"),
    (0, b"GIF8", "video", "gif", ".gif"),
    (0, b"\x89PNG", "image", "png", ".png"),
    (0, b"\xff\xd8\xff", "image", "jpeg", ".jpg"),
    (0, b"BM", "image", "bmp", ".bmp"),
    (0, b"ID3", "audio", "mp3", ".mp3"),
    (0, b"fLaC", "audio", "flac", ".flac"),
    (0, b"OggS", "audio", "ogg", ".ogg"),
]


def sniff(head: bytes) -> tuple[str, str, str] | None:
    """(kind, format, suffix) from a file's first bytes (up to HEAD of them), or None; kind is video, image or audio."""
    for off, magic, kind, fmt, suffix in _MAGIC:
        if head[off: off + len(magic)] == magic:
            if fmt == "mp4" and head[8:11] == b"M4A":
                return "audio", "m4a", ".m4a"
            return kind, fmt, suffix
    if head[:4] == b"RIFF":
        return {b"WAVE": ("audio", "wav", ".wav"), b"AVI ": ("video", "avi", ".avi"),
                b"WEBP": ("image", "webp", ".webp")}.get(head[8:12])
    if len(head) > 188 and head[0] == head[188] == 0x47:
        return "video", "mpeg-ts", ".ts"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio", "mp3", ".mp3"
    return None


def sniff_file(path: str | Path) -> tuple[str, str, str] | None:
    with open(path, "rb") as f:
        return sniff(f.read(HEAD))


def looks_like_text(path: str | Path) -> bool:
    """The file's first 4 KiB decode as UTF-8 without control characters other than whitespace (no media file does)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:  # a multi-byte character cut at the 4 KiB mark is still text
        text = head[: e.start].decode("utf-8") if e.start > len(head) - 4 else ""
    return bool(text) and all(c.isprintable() or c in "\n\r\t" for c in text)
