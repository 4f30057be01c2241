"""Background jobs for long work (generation, scans): a bounded queue, a fixed number of workers, progress.

A full queue refuses new work at once (`QueueFull`: the API answers 503 with Retry-After) instead of
letting requests pile up on a 2-core machine.
"""
from __future__ import annotations

import queue
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from likeness.errors import UserError


class QueueFull(Exception):
    pass


@dataclass
class Job:
    id: str
    kind: str
    folder: Path
    state: str = "queued"           # queued, running, done, error
    progress: float = 0.0
    message: str = ""
    result: Any = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    files: dict[str, Path] = field(default_factory=dict)  # downloadable outputs by name

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "progress": round(self.progress, 3),
                "message": self.message, "result": self.result, "error": self.error, "files": sorted(self.files)}


Work = Callable[[Job, Callable[[float, str], None]], Any]


class JobQueue:
    def __init__(self, workers: int = 1, max_pending: int = 4, ttl_s: float = 3600.0):
        self._q: queue.Queue = queue.Queue(maxsize=max_pending)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.ttl_s = ttl_s
        self._threads = [threading.Thread(target=self._loop, daemon=True, name=f"likeness-job-{i}") for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, kind: str, folder: Path, work: Work, public: Callable[[Any], Any] = lambda v: v) -> Job:
        """Queue `work`; `public` turns its result and error messages into what a client may see."""
        job = Job(uuid.uuid4().hex, kind, folder)
        try:
            self._q.put_nowait((job, work, public))
        except queue.Full:
            shutil.rmtree(folder, ignore_errors=True)
            raise QueueFull from None
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def pending(self) -> int:
        return self._q.qsize()

    def expire(self) -> None:
        """Forget finished jobs older than the TTL and delete their folders."""
        now = time.time()
        with self._lock:
            old = [j for j in self._jobs.values() if j.state in ("done", "error") and now - j.created > self.ttl_s]
            for j in old:
                del self._jobs[j.id]
                shutil.rmtree(j.folder, ignore_errors=True)

    def _loop(self) -> None:
        while True:
            job, work, public = self._q.get()
            job.state = "running"

            def report(fraction: float, message: str = "", job=job) -> None:
                job.progress, job.message = max(0.0, min(1.0, fraction)), message or job.message

            try:
                job.result = public(work(job, report))
                job.state, job.progress = "done", 1.0
            except UserError as e:
                job.state, job.error = "error", public(str(e))
            except Exception as e:  # noqa: BLE001 - reported to the client, the worker lives on
                job.state, job.error = "error", public(f"internal error: {type(e).__name__}: {e}")
            finally:
                self._q.task_done()
