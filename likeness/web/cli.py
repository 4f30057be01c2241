"""`likeness serve`: start the web app and HTTP API."""
from __future__ import annotations

import typer

from likeness.console import friendly_errors
from likeness.errors import UserError


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@friendly_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind; anything but loopback requires --token."),
    port: int = typer.Option(8000, help="TCP port."),
    token: str = typer.Option(None, envvar="LIKENESS_TOKEN", help="Bearer token required on every API call."),
    max_upload_mb: int = typer.Option(200, help="Largest accepted upload per file, in MiB."),
    max_seconds: float = typer.Option(600.0, help="Longest accepted video or audio."),
    ttl_minutes: float = typer.Option(60.0, help="Uploads and results are deleted after this long."),
    live_slots: int = typer.Option(1, help="Live sessions at once (each keeps about a core busy at 512 px)."),
    allowed_host: list[str] = typer.Option([], help="Another name this server may be reached by (Host header), "
                                           "beyond loopback and the bound address; repeatable."),
) -> None:
    """Serve the Verify, Scan, Generate and Live pages and the /api/v1 JSON API (docs at /docs)."""
    import uvicorn

    from likeness.web.app import ServeConfig, create_app
    from likeness.web.guard import LOOPBACK
    from likeness.web.uploads import Limits

    if live_slots < 0:
        raise UserError(f"--live-slots must be 0 or more, got {live_slots}")
    if host not in LOOPBACK and not token:
        raise UserError(f"binding {host} exposes the service beyond this machine: pass --token (or set LIKENESS_TOKEN)")
    bound = () if host in ("0.0.0.0", "::") else (host,)
    cfg = ServeConfig(token=token, limits=Limits(max_upload_mb * 2**20, max_seconds), ttl_s=ttl_minutes * 60,
                      live_slots=live_slots, allowed_hosts=(*LOOPBACK, *bound, *allowed_host))
    app = create_app(cfg)
    typer.echo(f"Likeness web app on http://{host}:{port}/ (API docs: /docs){' - bearer token required' if token else ''}", err=True)
    # uvicorn stops gracefully on SIGTERM/SIGHUP, then re-raises the signal to the handler it found, which
    # `friendly_errors` installed: it raises, so the `finally` below still deletes every upload and result.
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        app.state.storage.close()
