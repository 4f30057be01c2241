"""Loading a committed model checkpoint the one way every package does: a missing file names how to make it, and
anything that goes wrong while reading it or building the model from it is one clear error, never a traceback.
Networks that run at generation time are exported to ONNX and load with `onnx_session` (no torch)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from likeness.errors import UserError


@contextmanager
def checkpoint(path: Path, what: str, missing: str) -> Iterator[Any]:
    """`with checkpoint(path, "motion", "run `make ...`") as ck:` the torch.load-ed dict (weights only); an error
    inside the block (a truncated file, a foreign format, mismatched weights) becomes a UserError naming `path`."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} checkpoint not found: {path}; {missing}")
    try:
        yield torch.load(path, map_location="cpu", weights_only=True)
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"corrupt or incompatible {what} checkpoint {path}: {type(e).__name__}: {e}") from None


def onnx_session(path: str | Path):
    """An onnxruntime session on the CPU for a committed network, with at most 2 threads that do not spin between
    calls (spinning takes the cores the warp and the video encoder need)."""
    import os

    import onnxruntime as ort

    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = min(2, max(1, len(cpus)))
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
