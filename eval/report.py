"""The evaluation report: one self-contained HTML page (plots embedded) stating data, versions and seed."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from likeness.files import atomic_path


def _table(rows: dict[str, dict], title: str) -> str:
    if not rows:
        return ""
    cols = sorted({c for r in rows.values() for c in r})
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))  # noqa: E731
    body = "".join(f"<tr><th>{html.escape(k)}</th>" + "".join(f"<td>{fmt(r.get(c, '-'))}</td>" for c in cols) + "</tr>"
                   for k, r in rows.items())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th>{head}</tr>{body}</table>"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def write_report(metrics: dict, errors: list[dict], plots: dict[str, Path], path: Path) -> Path:
    run = metrics["run"]
    sections = [
        _table(metrics["realism"], "Realism (independent dlib judges; 'real' is the reference)"),
        _img(plots["realism"], "realism bars") if "realism" in plots else "",
        *[_table(v, f"Detection: {det} (video and frame level, per perturbation)") for det, v in metrics["detection"].items()],
        _img(plots["roc"], "ROC curves"), _img(plots["robustness"], "robustness curves"),
        _table(metrics["watermark"], "Invisible watermark per perturbation"),
        _table(metrics["c2pa"], "C2PA manifest of the generated files per perturbation (share valid / stripped / tampered)"),
        _table(metrics["tradeoff"], "Trade-off: realism against detectability per generator setting"),
        _img(plots["tradeoff"], "trade-off scatter") if "tradeoff" in plots else "",
    ]
    errs = "".join(f"<li><b>{html.escape(e['stage'])}</b> {html.escape(e['item'])}: {html.escape(e['error'])}</li>" for e in errors)
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>Likeness evaluation ({html.escape(run['suite'])})</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}td,th{{padding:3px 7px;border-bottom:1px solid #ddd;
text-align:right;font-size:13px}}th:first-child{{text-align:left}}img{{max-width:100%;margin:1em 0}}</style></head><body>
<h1>Likeness evaluation: suite {html.escape(run['suite'])}</h1>
<p>Seed {run['seed']}; {metrics['counts']['fakes']} generated and {metrics['counts']['reals']} real videos of
{run['seconds_per_clip']:g} s; generated at {run['size']} px; {run['minutes']:.1f} min. MLflow run {html.escape(str(run.get('mlflow_run')))}.</p>
<details><summary>Data, settings and versions</summary><pre>{html.escape(json.dumps({k: run[k] for k in ('data', 'variants', 'versions')}, indent=1))}</pre></details>
{''.join(sections)}
<h2>Problems ({len(errors)})</h2><ul>{errs or '<li>none</li>'}</ul>
<p>Not computable in this run: {html.escape(', '.join(metrics.get('undefined', [])) or 'nothing')}.</p>
</body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(doc)
    return Path(path)
