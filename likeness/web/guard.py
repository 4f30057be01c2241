"""The request guard: what is checked before a request's body is read.

- `Host` must name this server (DNS rebinding: a hostile page whose name resolves to 127.0.0.1 would
  otherwise reach a loopback server with the user's browser).
- A state-changing request (POST, PUT, PATCH, DELETE, a WebSocket) carrying an `Origin` must come from this
  server's own pages (cross-site request forgery). No CORS headers are ever sent.
- With a token, `/api/` requests without it get 401 before a byte of their upload is stored (a browser's WebSocket,
  which cannot set headers, offers it as the subprotocol `bearer.TOKEN`).
- The body is counted as it streams, chunked or not, and the request stops with 413 at the limit.
Every response carries `X-Content-Type-Options: nosniff`; API responses also `Cache-Control: no-store`.
"""
from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _TooLarge(HTTPException):
    """Raised from inside the body stream: an HTTPException, so the framework answers it as it is (413)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request larger than the {limit / 2**20:.0f} MiB limit")


def host_name(host: str) -> str:
    """The name in a Host header or URL netloc, without port or IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1: host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware enforcing the checks above; `allowed_hosts` None switches the Host check off."""

    def __init__(self, app, allowed_hosts: tuple[str, ...] | None, token: str | None, max_body: int):
        self.app, self.token, self.max_body = app, token, max_body
        self.allowed = None if allowed_hosts is None else {host_name(h) for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal:
            return await _refuse(scope, send, *refusal)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        api = scope["path"].startswith("/api/")
        seen, started = 0, False

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise _TooLarge(self.max_body)
            return message

        async def marked(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(b"x-content-type-options", b"nosniff")] + ([(b"cache-control", b"no-store")] if api else [])
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []), *(h for h in extra if h[0] not in names)]}
            await send(message)

        try:
            await self.app(scope, counted, marked)
        except _TooLarge as e:
            if not started:
                await _refuse(scope, send, 413, e.detail)

    def _refusal(self, scope, headers: dict[str, str]) -> tuple[int, str, dict] | None:
        host = headers.get("host", "")
        if self.allowed is not None and host_name(host) not in self.allowed:
            return 403, (f"host {host_name(host) or '(none)'!r} is not this server's name; start it with "
                         "--allowed-host NAME to serve under another name"), {}
        origin = headers.get("origin")
        if origin is not None and (scope["type"] == "websocket" or scope["method"] not in _SAFE_METHODS):
            if urlsplit(origin).netloc.lower() != host.lower():
                return 403, "cross-origin request refused: use this server's own pages or a non-browser client", {}
        if self.token and (scope["path"].startswith("/api/") or scope["type"] == "websocket"):
            auth = headers.get("authorization", "")
            given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if scope["type"] == "websocket" and not given:  # a browser cannot set headers on a WebSocket: it offers
                offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]  # the subprotocol
                given = next((p[7:] for p in offered if p.startswith("bearer.")), "")             # bearer.TOKEN
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 401, "missing or wrong bearer token", {"www-authenticate": "Bearer"}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            return 413, f"request larger than the {self.max_body / 2**20:.0f} MiB limit", {}
        return None


async def _refuse(scope, send, status: int, detail: str, headers: dict | None = None) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    body = json.dumps({"detail": detail}).encode()
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"), *extra]})
    await send({"type": "http.response.body", "body": body})
