"""Shared helpers for benchmark scripts: machine description and section-wise updates of RESULTS.md."""
from __future__ import annotations

import argparse
import os
import platform
import re
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HEADER = "# Benchmark results\n\nEach section is rewritten by the script named in it; rerun with `make bench`.\n"


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's argument parser, with `--data` (the shared dev data beside the checkout by default)."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--data", type=Path, default=SHARED_DATA)
    return ap


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} ({date.today()})"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section delimited by <!-- name --> markers."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    block = f"<!-- {name}:start -->\n{body.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
