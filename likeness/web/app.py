"""The web app and HTTP API: a thin front door over `provenance.verify`, `detector.scan` and `generator.pipeline`.

JSON for verify and scan is exactly what the CLI prints with `--json` (`VerifyReport.to_dict`,
`ScanResult.to_dict`). Long work runs as background jobs (see `jobs`); uploads are handled by `uploads`.
"""
import csv
import io
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from generator.options import EMOTIONS, MOTION_MODELS, choice_pattern
from likeness import __version__
from likeness.errors import UserError

from .guard import LOOPBACK, Guard
from .jobs import Job, JobQueue, QueueFull
from .uploads import Limits, Storage, UploadError, save_upload

STATIC = Path(__file__).parent / "static"
API = "/api/v1"
_ERRORS = {401: "missing or wrong bearer token", 403: "Host not this server's, or a cross-origin request",
           404: "no such job", 409: "this server has no signing keys", 413: "upload over the size limit",
           415: "not a supported file type (judged by content)", 422: "invalid input: the detail says which",
           503: "busy: the job queue is full (see Retry-After)"}


def _errors(*codes: int) -> dict:
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
    allowed_hosts: tuple[str, ...] | None = LOOPBACK  # names this server answers to (None: any)

    @property
    def max_body(self) -> int:
        """Largest request body: two files at the per-file limit (generate's portrait and audio) and form fields."""
        return self.limits.max_bytes * 2 + 2**20


def create_app(cfg: ServeConfig | None = None) -> FastAPI:
    cfg = cfg or ServeConfig()
    storage = Storage(cfg.ttl_s)
    jobs = JobQueue(cfg.workers, cfg.max_pending, cfg.ttl_s)
    verify_slots = threading.BoundedSemaphore(cfg.verify_concurrency)
    scanner_lock, scanner = threading.Lock(), []
    bearer = HTTPBearer(auto_error=False)
    last_sweep = [0.0]

    app = FastAPI(title="Likeness", version=__version__,
                  description="Verify provenance, scan for generated faces, and generate marked talking-face video.")
    app.state.storage, app.state.jobs = storage, jobs
    app.add_middleware(Guard, allowed_hosts=cfg.allowed_hosts, token=cfg.token, max_body=cfg.max_body)

    def authorised(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        """Declares the bearer scheme in the OpenAPI schema; `Guard` checks the token, before the body is read."""

    @app.exception_handler(UploadError)
    async def _upload_error(request: Request, e: UploadError):
        return JSONResponse({"detail": e.message}, status_code=e.status)

    @app.middleware("http")
    async def _sweep(request: Request, call_next):
        """Sweep expired uploads and jobs (size, host, origin and token are `Guard`'s)."""
        if time.monotonic() - last_sweep[0] > 30:  # at most twice a minute, not on every request
            last_sweep[0] = time.monotonic()
            storage.sweep()
            jobs.expire()
        return await call_next(request)

    def _save(upload: UploadFile, folder: Path, allowed: tuple[str, ...]):
        return save_upload(upload.file, folder, Path(upload.filename or "upload").name, allowed, cfg.limits)

    def _scrub(value, ups: list):
        """`value` (a message, or a result's strings) with server paths replaced by the client's file names."""
        if isinstance(value, dict):
            return {k: _scrub(v, ups) for k, v in value.items()}
        if isinstance(value, list):
            return [_scrub(v, ups) for v in value]
        if not isinstance(value, str):
            return value
        for up in ups:
            value = value.replace(str(up.path), up.name)
        return re.sub(re.escape(str(storage.root)) + r"[^\s'\"]*", "(upload)", value)

    def _submit(kind: str, folder: Path, work, ups: list) -> dict:
        try:
            return jobs.submit(kind, folder, work, lambda v: _scrub(v, ups)).to_dict()
        except QueueFull:
            raise HTTPException(503, "busy: the job queue is full, try again shortly", headers={"Retry-After": "10"}) from None

    # --- pages ------------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # --- API --------------------------------------------------------------------------------------
    @app.get(f"{API}/health", dependencies=[Depends(authorised)], responses=_errors())
    def health() -> dict:
        """Service state: version, queued jobs, bytes held in temporary storage."""
        return {"status": "ok", "version": __version__, "queued_jobs": jobs.pending(), "storage_bytes": storage.size()}

    @app.get(f"{API}/keys", dependencies=[Depends(authorised)], responses=_errors())
    def keys() -> dict:
        """Whether this server can sign generated videos, and how to make it able to."""
        from provenance.keys import load_identity

        try:
            load_identity()
        except UserError as e:
            return {"ready": False, "message": f"{e} Run it on the server, then reload this page."}
        return {"ready": True, "message": "signing keys found: every generated video is watermarked and signed"}

    @app.post(f"{API}/verify", dependencies=[Depends(authorised)], responses=_errors(413, 415, 422))
    def verify(file: UploadFile = File(..., description="A video (MP4) or image (PNG, JPEG) to check.")) -> dict:
        """Manifest and watermark checked together: the same JSON as `likeness verify --json`."""
        from provenance.keys import trust_anchors
        from provenance.verify import verify as run

        folder, ups = storage.new(), []
        try:
            up = _save(file, folder, ("video", "image"))
            ups.append(up)
            with verify_slots:
                report = run(up.path, trust_anchors()).to_dict()
            report["file"] = up.name
            return report
        except UserError as e:
            raise HTTPException(422, _scrub(str(e), ups)) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @app.post(f"{API}/scan", status_code=202, dependencies=[Depends(authorised)], responses=_errors(413, 415, 422, 503))
    def scan(files: list[UploadFile] = File(..., description="One or more videos.")) -> dict:
        """Queue a scan; poll the job. Each result is the JSON `likeness scan --json` prints."""
        if len(files) > cfg.max_files:
            raise HTTPException(422, f"at most {cfg.max_files} files per scan")
        folder = storage.new()
        try:
            ups = [_save(f, folder, ("video",)) for f in files]
        except UploadError:
            shutil.rmtree(folder, ignore_errors=True)
            raise

        def work(job: Job, report) -> list[dict]:
            from detector.scan import Scanner

            with scanner_lock:
                if not scanner:
                    report(0.0, "loading the detector")
                    scanner.append(Scanner())
            out = []
            for i, up in enumerate(ups):
                report(i / len(ups), f"scanning {up.name}")
                r = scanner[0].scan_file(up.path).to_dict()
                r["file"] = up.name
                out.append(r)
            return out

        return _submit("scan", folder, work, ups)

    @app.post(f"{API}/generate", status_code=202, dependencies=[Depends(authorised)],
              responses=_errors(409, 413, 415, 422, 503))
    def generate(image: UploadFile = File(..., description="Portrait photo or painting (PNG or JPEG)."),
                 audio: UploadFile = File(..., description="Speech or song (WAV, MP3, M4A, FLAC, OGG)."),
                 motion: str = Form(MOTION_MODELS[0], pattern=choice_pattern(MOTION_MODELS)),
                 seed: int = Form(0, ge=0, le=2**31 - 1),
                 size: int = Form(512, ge=128, le=1024, multiple_of=16),
                 gaze_x: float = Form(0.0, ge=-1, le=1), gaze_y: float = Form(0.0, ge=-1, le=1),
                 emotion: str = Form("neutral", pattern=choice_pattern(EMOTIONS)),
                 pose_scale: float = Form(1.0, ge=0, le=3), head_distance: float = Form(0.0, ge=-0.5, le=0.5)) -> dict:
        """Queue a generation; poll the job, then fetch `/jobs/{id}/video`. Marked and signed like the CLI's output."""
        from provenance.keys import load_identity

        try:
            load_identity()
        except UserError as e:
            raise HTTPException(409, str(e)) from None
        folder = storage.new()
        try:
            img, snd = _save(image, folder, ("image",)), _save(audio, folder, ("audio", "video"))
        except UploadError:
            shutil.rmtree(folder, ignore_errors=True)
            raise

        def work(job: Job, report) -> dict:
            from generator.motion.controls import Controls
            from generator.pipeline import GenerateConfig, generate as run

            out = folder / "likeness.mp4"
            gen = GenerateConfig(img.path, snd.path, out, size=size, seed=seed, motion=motion,
                                 controls=Controls((gaze_x, gaze_y), head_distance, emotion, pose_scale))
            res = run(gen, lambda i, n: report(i / max(n, 1), f"rendering frame {i}/{n}"))
            job.files["video"] = out
            return {"frames": res.frames, "duration": res.duration, "fps": round(res.fps, 1), "summary": res.summary()
                    .replace(str(out), "likeness.mp4")}

        return _submit("generate", folder, work, [img, snd])

    @app.get(f"{API}/jobs/{{job_id}}", dependencies=[Depends(authorised)], responses=_errors(404))
    def job(job_id: str) -> dict:
        """State, progress (0-1), message, and the result when done."""
        j = jobs.get(job_id)
        if j is None:
            raise HTTPException(404, "no such job (finished jobs are forgotten after a while)")
        return j.to_dict()

    @app.get(f"{API}/jobs/{{job_id}}/video", dependencies=[Depends(authorised)],
             responses={200: {"content": {"video/mp4": {}}}, **_errors(404)})
    def job_video(job_id: str):
        """The generated MP4 of a finished generate job."""
        j = jobs.get(job_id)
        if j is None or "video" not in j.files:
            raise HTTPException(404, "no video for this job (yet)")
        return FileResponse(j.files["video"], media_type="video/mp4", filename="likeness.mp4")

    @app.get(f"{API}/jobs/{{job_id}}/results.csv", dependencies=[Depends(authorised)],
             responses={200: {"content": {"text/csv": {}}}, **_errors(404)})
    def job_csv(job_id: str):
        """A finished scan job's results as CSV (one row per file)."""
        j = jobs.get(job_id)
        if j is None or j.kind != "scan" or j.state != "done":
            raise HTTPException(404, "no finished scan with this id")
        return Response(scan_csv(j.result), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="scan.csv"'})

    return app


CSV_COLUMNS = ("file", "status", "verdict", "probability_fake", "threshold", "temporal_consistency", "face_motion", "face_tracks",
               "frames_with_face", "frames_sampled", "seconds_scanned", "provenance", "watermark_found", "manifest_valid",
               "error")


def _cell(v):
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or tab, CR) is prefixed with ' (OWASP)."""
    return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def scan_csv(results: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in results:
        prov = r.get("provenance") or {}
        row = {**r, "provenance": prov.get("verdict"), "watermark_found": prov.get("watermark_found"),
               "manifest_valid": prov.get("manifest_valid")}
        w.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()
