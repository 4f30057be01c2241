"""The web app and HTTP API: a thin front door over `provenance.verify`, `detector.scan` and `generator.pipeline`.

JSON for verify and scan is exactly what the CLI prints with `--json` (`VerifyReport.to_dict`,
`ScanResult.to_dict`). Routes live in `routes` (one router per resource), shared state in `state`; long work
runs as background jobs (see `jobs`); uploads are handled by `uploads`.
"""
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from likeness import __version__

from .guard import Guard
from .routes import generate, jobs, live, scan, service, verify
from .state import API, ServeConfig, Shared
from .uploads import UploadError

__all__ = ["API", "ServeConfig", "create_app"]
STATIC = Path(__file__).parent / "static"
SWEEP_EVERY_S = 30.0  # expired uploads and jobs are swept at most this often, not on every request


def create_app(cfg: ServeConfig | None = None) -> FastAPI:
    cfg = cfg or ServeConfig()
    app = FastAPI(title="Likeness", version=__version__,
                  description="Verify provenance, scan for generated faces, and generate marked talking-face video.")
    s = app.state.likeness = Shared(cfg)
    app.state.storage, app.state.jobs = s.storage, s.jobs
    app.add_middleware(Guard, allowed_hosts=cfg.allowed_hosts, token=cfg.token, max_body=cfg.max_body)

    @app.exception_handler(UploadError)
    async def _upload_error(request: Request, e: UploadError):
        return JSONResponse({"detail": e.message}, status_code=e.status)

    @app.middleware("http")
    async def _sweep(request: Request, call_next):
        """Sweep expired uploads and jobs (size, host, origin and token are `Guard`'s)."""
        if time.monotonic() - s.last_sweep > SWEEP_EVERY_S:
            s.last_sweep = time.monotonic()
            s.storage.sweep()
            s.jobs.expire()
        return await call_next(request)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (service, verify, scan, generate, jobs, live):
        app.include_router(module.router)
    return app
