"""File helpers shared by every package."""
from __future__ import annotations

import os


def publish(tmp: str, final: str) -> None:
    """Atomically move a finished temp file into place with the permissions a normal new file would get."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)
