"""Loading a committed model checkpoint the one way every package does: a missing file names how to make it, and
anything that goes wrong while reading it or building the model from it is one clear error, never a traceback."""
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
