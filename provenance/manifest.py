"""C2PA manifests: build what users need to know, sign PNG/JPEG/MP4 files, and read them back with trust."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from likeness import __version__
from likeness.errors import UserError
from likeness.files import publish
from likeness.sniff import sniff_file

from .keys import SigningIdentity

AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
WATERMARK_LABEL = "org.likeness.watermark"
MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png",
        ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
SNIFFED = {"mp4": "video/mp4", "mov": "video/quicktime", "png": "image/png", "jpeg": "image/jpeg"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class UnsupportedFormat(UserError):
    """A file C2PA manifests cannot be embedded in or read from (its watermark may still be checked)."""


def mime_of(path: Path) -> str:
    """MIME type by content (`likeness.sniff`), falling back to the extension for a file not written yet."""
    found = sniff_file(path) if Path(path).is_file() else None
    if found and found[1] in SNIFFED:
        return SNIFFED[found[1]]
    if found is None and Path(path).suffix.lower() in MIME:
        return MIME[Path(path).suffix.lower()]
    raise UnsupportedFormat(f"unsupported format for provenance (MP4, PNG or JPEG expected): {path}")


def build_manifest(title: str, parameters: dict, inputs: dict[str, Path], watermark: dict) -> dict:
    """Manifest definition: created by a trained algorithm, with inputs as hashed ingredients and the watermark."""
    ingredients = []
    for role, p in inputs.items():
        digest = sha256(p)
        ingredients.append({"title": Path(p).name, "format": _format_guess(p), "relationship": "inputTo",
                            "instance_id": f"sha256:{digest}",
                            "metadata": {"dataSource": {"type": "localProvider", "details": f"{role}; sha256:{digest}"}}})
    agent = {"name": "likeness", "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "ingredients": ingredients,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": AI_SOURCE, "softwareAgent": agent,
                "parameters": parameters}]}},
            {"label": WATERMARK_LABEL, "data": watermark},
        ],
    }


def _format_guess(p: Path) -> str:
    try:
        return mime_of(p)
    except UserError:
        return "application/octet-stream"


def sign_file(src: Path, dst: Path, manifest: dict, identity: SigningIdentity) -> Path:
    """Write `src` plus a signed manifest to `dst`, atomically (nothing at `dst` on failure)."""
    import c2pa

    mime = mime_of(src)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        with os.fdopen(fd, "w+b") as out, open(src, "rb") as inp, c2pa.Builder(json.dumps(manifest)) as builder:
            builder.sign(identity.signer(), mime, inp, out)
        publish(tmp, dst)
        return dst
    except c2pa.C2paError as e:
        raise UserError(f"signing failed: {e}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


@dataclass
class ManifestReport:
    present: bool
    valid: bool = False
    trusted: bool = False
    state: str | None = None              # c2pa validation state: Invalid, Valid or Trusted
    issuer: str | None = None
    signer: str | None = None
    ai_generated: bool = False
    actions: list[dict] = field(default_factory=list)
    ingredients: list[dict] = field(default_factory=list)
    watermark: dict | None = None         # what the manifest says the watermark carries
    generator: str | None = None          # the claim generator: the software that wrote the manifest
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def read_manifest(path: Path, trust_pem: str = "") -> ManifestReport:
    """Read and validate the manifest store of a file against the given trust anchors."""
    import c2pa

    mime = mime_of(path)
    settings: dict = {"verify": {"verify_trust": True}}
    if trust_pem:
        settings["trust"] = {"trust_anchors": trust_pem}
    try:
        ctx = c2pa.Context.from_dict(settings)
        with open(path, "rb") as f:
            reader = c2pa.Reader.try_create(mime, f, context=ctx)
            if reader is None:
                return ManifestReport(present=False)
            with reader:
                active = reader.get_active_manifest() or {}
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
    except c2pa.C2paError as e:
        return ManifestReport(present=True, state="Invalid", error=f"corrupt or unreadable manifest: {e}")
    failures = [f["code"] for f in (results.get("activeManifest") or {}).get("failure", [])]
    failures += [f["code"] for f in results.get("validation_status", []) if f.get("code")] if isinstance(results.get("validation_status"), list) else []
    actions = [a for x in active.get("assertions", []) if x.get("label", "").startswith("c2pa.actions")
               for a in x.get("data", {}).get("actions", [])]
    watermark = next((x.get("data") for x in active.get("assertions", []) if x.get("label") == WATERMARK_LABEL), None)
    trailing = _trailing_padding(path) if mime in ("video/mp4", "video/quicktime") else 0
    if trailing:  # C2PA's BMFF hash leaves free/skip boxes out: data appended as one would pass unnoticed
        failures.append(f"trailing data: {trailing} bytes after the signed boxes, not covered by the signature")
        state = "Invalid"
    sig = active.get("signature_info") or {}
    tools = active.get("claim_generator_info") or []
    generator = (tools[0].get("name") if tools and isinstance(tools[0], dict) else None) or active.get("claim_generator")
    return ManifestReport(
        generator=generator,
        present=True, valid=state in ("Valid", "Trusted"), trusted=state == "Trusted", state=state,
        issuer=sig.get("issuer"), signer=sig.get("common_name"),
        ai_generated=any(a.get("digitalSourceType", "").endswith("trainedAlgorithmicMedia") for a in actions),
        actions=actions, ingredients=[{k: i.get(k) for k in ("title", "format", "relationship", "instance_id")}
                                      for i in active.get("ingredients", [])],
        watermark=watermark, failures=sorted(set(failures)))


def _trailing_padding(path: Path) -> int:
    """Bytes of free/skip boxes after the last other top-level box of an MP4/MOV (0 for a file that ends where
    its content does; a file whose boxes do not parse is left to the C2PA reader, which rejects it)."""
    import struct

    size_total, end, offset = Path(path).stat().st_size, 0, 0
    with open(path, "rb") as f:
        while offset < size_total:
            f.seek(offset)
            head = f.read(16)
            if len(head) < 8:
                return 0
            size, kind = struct.unpack(">I4s", head[:8])
            if size == 1 and len(head) == 16:
                size = struct.unpack(">Q", head[8:16])[0]
            elif size == 0:
                size = size_total - offset
            if size < 8:
                return 0
            offset += size
            if kind not in (b"free", b"skip"):
                end = offset
    return max(0, size_total - end) if offset == size_total else 0
