"""`verify`: manifest and watermark checked together, with a plain-language verdict and an exit code."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from likeness.errors import UserError

from .detect import WatermarkReport, detect_file
from .manifest import ManifestReport, UnsupportedFormat, read_manifest

#: Documented exit codes of `likeness verify`.
EXIT_CODES = {
    "verified": 0,        # valid manifest from a trusted signer; the watermark agrees (or is absent)
    "no_provenance": 1,   # neither a manifest nor a watermark
    "invalid": 2,         # manifest tampered/invalid, untrusted signer, or manifest and watermark disagree
    "error": 3,           # the file could not be read
    "watermark_only": 4,  # a Likeness watermark but no manifest (stripped, e.g. by re-encoding)
}


@dataclass
class VerifyReport:
    file: str
    verdict: str
    summary: str
    manifest: ManifestReport
    watermark: WatermarkReport
    agree: bool | None  # manifest's watermark payload == detected payload (None if either is missing)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict:
        return {"file": self.file, "verdict": self.verdict, "summary": self.summary, "exit_code": self.exit_code,
                "manifest": self.manifest.to_dict(), "watermark": self.watermark.to_dict(), "agree": self.agree}


def _verdict(m: ManifestReport, w: WatermarkReport, agree: bool | None) -> tuple[str, str]:
    if m.present:
        if m.error or not m.valid:
            reason = m.error or ", ".join(m.failures) or "validation failed"
            tail = "; the Likeness watermark is still present" if w.found else ""
            return "invalid", f"Manifest tampered or invalid ({reason}){tail}"
        if not m.trusted:
            return "invalid", f"Signed by an untrusted certificate ({m.signer}, {m.issuer}); add its CA with --trust if you trust it"
        if agree is False:
            return "invalid", "Manifest and watermark disagree: the watermark carries a different payload"
        ours = (m.generator or "").lower().startswith("likeness")
        what = ("AI-generated" if m.ai_generated else "Signed content") + (" by Likeness" if ours else
                                                                          f" (written by {m.generator or 'an unnamed tool'})")
        mark = "watermark matches" if agree else "no watermark detected"
        return "verified", f"{what}, signed by {m.issuer} ({m.signer}); {mark}"
    if w.found:
        return "watermark_only", (f"Likeness watermark found (payload {w.payload}, confidence {w.confidence:.2f}) "
                                  "but no manifest: probably re-encoded or stripped")
    return "no_provenance", "No provenance found: no C2PA manifest and no Likeness watermark"


def verify(path: Path, trust_pem: str = "", max_frames: int = 250) -> VerifyReport:
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    try:
        manifest = read_manifest(path, trust_pem)
    except UnsupportedFormat:  # C2PA has no place for a manifest here; the watermark is still checked
        manifest = ManifestReport(present=False)
    watermark = detect_file(path, max_frames)
    claimed = (manifest.watermark or {}).get("payload")
    agree = None if not (claimed and watermark.found) else claimed == watermark.payload
    verdict, summary = _verdict(manifest, watermark, agree)
    return VerifyReport(str(path), verdict, summary, manifest, watermark, agree)
