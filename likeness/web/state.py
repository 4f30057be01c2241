"""What every route of the web app shares: its configuration, upload storage, the job queue and the detector,
kept on `app.state.likeness` and handed to routes as a FastAPI dependency (`shared`)."""
from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from fastapi import Depends, HTTPException, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from .guard import LOOPBACK
from .jobs import Job, JobQueue, QueueFull
from .uploads import Limits, Storage, Upload, UploadError, save_upload

API = "/api/v1"
_ERRORS = {401: "missing or wrong bearer token", 403: "Host not this server's, or a cross-origin request",
           404: "no such job", 409: "this server has no signing keys", 413: "upload over the size limit",
           415: "not a supported file type (judged by content)", 422: "invalid input: the detail says which",
           503: "busy: the job queue is full (see Retry-After)"}


def errors(*codes: int) -> dict:
    """OpenAPI entries for the error codes a route really returns (401 and 403 on every route)."""
    return {c: {"description": _ERRORS[c]} for c in (401, 403, *codes)}


@dataclass
class ServeConfig:
    token: str | None = None
    limits: Limits = field(default_factory=Limits)
    workers: int = 1             # background jobs at a time: generation and scans use both cores
    max_pending: int = 4         # queued jobs beyond those; more gets 503 + Retry-After
    verify_concurrency: int = 2  # verify requests processed at once (the rest wait their turn)
    ttl_s: float = 3600.0        # uploads and results are deleted this long after they were made
    max_files: int = 20          # per scan request
    live_slots: int = 1          # live sessions at once (each keeps a core busy); more are refused
    allowed_hosts: tuple[str, ...] | None = LOOPBACK  # names this server answers to (None: any)

    @property
    def max_body(self) -> int:
        """Largest request body: two files at the per-file limit (generate's portrait and audio) and form fields."""
        return self.limits.max_bytes * 2 + 2**20


class Shared:
    """The server's state and the helpers routes use to save uploads, queue work and scrub server paths."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.storage = Storage(cfg.ttl_s)
        self.jobs = JobQueue(cfg.workers, cfg.max_pending, cfg.ttl_s)
        self.verify_slots = threading.BoundedSemaphore(cfg.verify_concurrency)
        self.last_sweep = 0.0
        self.live = threading.BoundedSemaphore(cfg.live_slots)
        self._scanner: Any = None
        self._scanner_lock = threading.Lock()

    def scanner(self, report: Callable[[float, str], None]) -> Any:
        """The detector, loaded on first use and shared by every scan job."""
        from detector.scan import Scanner

        with self._scanner_lock:
            if self._scanner is None:
                report(0.0, "loading the detector")
                self._scanner = Scanner()
        return self._scanner

    def save(self, upload: UploadFile, folder: Path, allowed: tuple[str, ...]) -> Upload:
        return save_upload(upload.file, folder, Path(upload.filename or "upload").name, allowed, self.cfg.limits)

    def save_all(self, uploads: list[tuple[UploadFile, tuple[str, ...]]]) -> tuple[Path, list[Upload]]:
        """A new folder holding every upload, or nothing left behind if one is refused."""
        folder = self.storage.new()
        try:
            return folder, [self.save(u, folder, allowed) for u, allowed in uploads]
        except UploadError:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def scrub(self, value: Any, ups: list[Upload]) -> Any:
        """`value` (a message, or a result's strings) with server paths replaced by the client's file names."""
        if isinstance(value, dict):
            return {k: self.scrub(v, ups) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v, ups) for v in value]
        if not isinstance(value, str):
            return value
        for up in ups:
            value = value.replace(str(up.path), up.name)
        return re.sub(re.escape(str(self.storage.root)) + r"[^\s'\"]*", "(upload)", value)

    def submit(self, kind: str, folder: Path, work: Callable[[Job, Callable], Any], ups: list[Upload]) -> dict:
        try:
            return self.jobs.submit(kind, folder, work, lambda v: self.scrub(v, ups)).to_dict()
        except QueueFull:
            raise HTTPException(503, "busy: the job queue is full, try again shortly", headers={"Retry-After": "10"}) from None

    def job(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)


def shared(conn: HTTPConnection) -> Shared:
    return conn.app.state.likeness


_bearer = HTTPBearer(auto_error=False)


def authorised(creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Declares the bearer scheme in the OpenAPI schema; `Guard` checks the token, before the body is read."""
