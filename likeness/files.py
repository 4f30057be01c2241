"""File helpers shared by every package."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def publish(tmp: str | Path, final: str | Path) -> None:
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
    try:
        os.close(fd)
        yield Path(tmp)
        publish(tmp, str(final))
    finally:
        Path(tmp).unlink(missing_ok=True)


def check_destination(path: str | Path, what: str = "output") -> Path:
    """Fail before any work if `path` cannot be written: a folder, a missing or read-only folder (UserError)."""
    from likeness.errors import UserError

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{what} folder does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{what} folder is not writable: {parent}")
    return path
