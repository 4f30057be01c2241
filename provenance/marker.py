"""What a generator needs from provenance: mark every frame, sign every file, fail closed."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .detect import SCHEME
from .keys import SigningIdentity, load_identity
from .manifest import build_manifest, sign_file
from .payload import Payload
from .spread import SpreadConfig, SpreadMark


def content_id(*parts: bytes | str) -> int:
    """A 16-bit id for the payload, derived from the inputs and settings (so the same job gives the same marks)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return int.from_bytes(h.digest()[:2], "big")


def check_identity(identity: SigningIdentity) -> None:
    """Sign a tiny probe image with `identity`: a mismatched, expired or unsuitable key fails here, before any
    rendering, with the same message the final signature would give."""
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="likeness-probe-") as d:
        probe = Path(d) / "probe.png"
        Image.new("RGB", (8, 8)).save(probe)
        sign_file(probe, Path(d) / "signed.png", build_manifest("probe.png", {}, {}, {}), identity)


class Marker:
    """Watermarks frames with one payload and signs files with a manifest that binds that payload."""

    def __init__(self, content: int, identity: SigningIdentity | None = None, cfg: SpreadConfig = SpreadConfig()):
        self.identity = identity or load_identity()  # raises a clear error before any work if keys are missing
        check_identity(self.identity)
        self.payload = Payload.new(content)
        self._bits = self.payload.bits()
        self._mark = SpreadMark(cfg)

    def mark(self, rgb: np.ndarray) -> np.ndarray:
        return self._mark.embed(rgb, self._bits)

    @property
    def watermark_info(self) -> dict:
        c = self._mark.cfg
        return {"scheme": SCHEME, "payload": self.payload.hex, "generator": self.payload.generator,
                "content": self.payload.content, "key": hex(c.key), "grid": c.grid, "strength": c.strength}

    def sign(self, src: Path, dst: Path, parameters: dict, inputs: dict[str, Path]) -> Path:
        manifest = build_manifest(Path(dst).name, parameters, inputs, self.watermark_info)
        return sign_file(Path(src), Path(dst), manifest, self.identity)
