"""A self-contained HTML scan report: one row per file with its verdict, provenance and a timeline plot."""
from __future__ import annotations

import html
from pathlib import Path

from likeness.files import atomic_path

from .model import threshold_meaning
from .scan import ScanResult
from .temporal import is_still


def _timeline_svg(r: ScanResult, w: int = 240, h: int = 48) -> str:
    if not r.timeline:
        return ""
    last = max(p["second"] for p in r.timeline) or 1
    pts = " ".join(f"{4 + (w - 8) * p['second'] / last:.1f},{h - 4 - (h - 8) * p['probability_fake']:.1f}" for p in r.timeline)
    thr = h - 4 - (h - 8) * (r.threshold or 0.5)
    return (f'<svg width="{w}" height="{h}" role="img" aria-label="probability fake per second">'
            f'<rect width="{w}" height="{h}" fill="#f6f6f6"/><line x1="0" x2="{w}" y1="{thr:.1f}" y2="{thr:.1f}" '
            f'stroke="#c33" stroke-dasharray="3,3"/><polyline points="{pts}" fill="none" stroke="#225" stroke-width="2"/></svg>')


def _suspicious_img(r: ScanResult) -> str:
    m = r.most_suspicious
    if not m:
        return "-"
    return (f'<figure style="margin:0"><img src="data:image/jpeg;base64,{m["jpeg"]}" width="96" height="96" '
            f'alt="most suspicious face"><figcaption>{m["t"]:.1f} s, P {m["probability_fake"]:.2f}</figcaption></figure>')


def write_report(results: list[ScanResult], path: Path, checkpoint: Path | None = None) -> Path:
    """Write the report atomically (`checkpoint`: the detector that scored `results`, default the shipped one)."""
    rows = []
    for r in results:
        prob = "-" if r.probability_fake is None else f"{r.probability_fake:.2f}"
        warp = "-" if r.temporal_consistency is None else f"{r.temporal_consistency:.2f}"
        if r.temporal_consistency is None and r.face_motion is not None and is_still(r.face_motion):
            warp = "- (the face does not move)"
        prov = (r.provenance or {}).get("summary") or (r.provenance or {}).get("error") or "-"
        colour = {"fake": "#fdd", "real": "#dfd"}.get(r.verdict, "#eee")
        rows.append(f"<tr style='background:{colour}'><td>{html.escape(Path(r.file).name)}</td><td><b>{r.verdict}</b>"
                    f"{'<br>' + html.escape(r.error) if r.error else ''}</td><td>{prob}</td><td>{warp}</td><td>{r.face_tracks}</td>"
                    f"<td>{r.frames_with_face}/{r.frames_sampled}</td><td>{_suspicious_img(r)}</td><td>{_timeline_svg(r)}</td><td>{html.escape(prov)}</td></tr>")
    threshold = next((r.threshold for r in results if r.threshold is not None), 0.5)
    meaning = html.escape(threshold_meaning(checkpoint))
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>Likeness scan report</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:4px 8px;border-bottom:1px solid #ccc;text-align:left}}</style>
</head><body><h1>Likeness scan report</h1>
<p>{len(results)} files. Verdict "fake" when the calibrated probability is at least {threshold:.2f}
(the dashed line in each timeline): {meaning}
The most suspicious face is the sampled face crop that scored highest (its time and P(fake) alone). P(fake) weighs
what a network trained on mouths alone sees around the lips (every talking-face generator makes the mouth) with the
warp consistency. Warp consistency (0-1) is how exactly the face's fine texture one second
later is a warp of the texture now: near 1 for a face animated from one photo, lower for a filmed face; it
is part of P(fake), except for a face that does not move (a still picture), which any warp explains. Provenance is the `likeness verify` result for the same file.</p>
<table><tr><th>file</th><th>verdict</th><th>P(fake)</th><th>warp consistency</th><th>face tracks</th><th>frames with a face</th>
<th>most suspicious face</th><th>P(fake) per second</th><th>provenance</th></tr>
{''.join(rows)}</table></body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(doc)
    return Path(path)
