"""File helpers shared by every package."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def publish(tmp: str, final: str) -> None:
    """Atomically move a finished temp file into place with the permissions a normal new file would get."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)


@contextmanager
def atomic_path(final: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside `final` to write to; published at `final` when the block ends, removed on error."""
    final = Path(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix or final.suffix or ".part", dir=final.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        publish(tmp, str(final))
    finally:
        Path(tmp).unlink(missing_ok=True)
