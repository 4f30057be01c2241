"""Shared front-door helpers for every package's CLI: one-line errors and progress bars."""
from __future__ import annotations

import functools
import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

import typer

from .errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 3


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the program is, so that cleanup runs as it does for Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame) -> None:
    raise Terminated(signum)


def friendly_errors(fn: Callable) -> Callable:
    """Turn exceptions into one clear line on stderr and a non-zero exit code (LIKENESS_DEBUG=1 re-raises).
    SIGTERM and SIGHUP clean up like Ctrl-C; a closed pipe (`... | head`) ends the command quietly."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import signal

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _terminate)
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            typer.secho(f"error: {e}", err=True, fg="red")
            raise typer.Exit(EXIT_USER_ERROR) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            typer.secho("interrupted", err=True, fg="red")
            raise typer.Exit(130) from None
        except Terminated as e:
            typer.secho("terminated", err=True, fg="red")
            raise typer.Exit(128 + e.signum) from None
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
            raise typer.Exit(141) from None
        except Exception as e:
            if os.environ.get("LIKENESS_DEBUG"):
                raise
            typer.secho(f"error: internal error ({type(e).__name__}: {e}); rerun with LIKENESS_DEBUG=1 for details",
                        err=True, fg="red")
            raise typer.Exit(EXIT_INTERNAL) from None
    return wrapper


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr, yielded as an `update(done, total, description=None)` callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(description, total=None)
        def update(done: int, total: int, description: str | None = None) -> None:
            if description:
                bar.update(task, completed=done, total=total, description=description)
            else:
                bar.update(task, completed=done, total=total)

        yield update


_NATIVE_NOISE = (b"W0000 ", b"I0000 ", b"INFO: Created TensorFlow Lite", b"WARNING: All log messages before absl")
_filter_installed = False


def filter_native_logs() -> None:
    """Drop mediapipe/TFLite's C++ log lines (written to fd 2 from graph threads, at any time), keep the rest.

    It changes the whole process (fd 2 becomes a pipe read by a daemon thread that forwards every other line;
    Python's sys.stderr is re-opened on the real stream, so progress bars still see a terminal), so only the
    console script calls it; the libraries never do."""
    global _filter_installed
    if _filter_installed:
        return
    import threading

    sys.stderr.flush()
    real = os.dup(2)
    sys.stderr = os.fdopen(os.dup(real), "w", buffering=1, encoding="utf-8", errors="replace")
    r, w = os.pipe()
    os.dup2(w, 2)
    os.close(w)

    def pump() -> None:
        with os.fdopen(r, "rb") as src:
            for line in src:
                if not line.startswith(_NATIVE_NOISE):
                    os.write(real, line)

    threading.Thread(target=pump, daemon=True, name="native-log-filter").start()
    _filter_installed = True
