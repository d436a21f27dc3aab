"""Request guards that run before routing: credentials first, then body size, type and pace.

Order matters for what an anonymous client can cost: ``AccessGuard`` answers a missing or
wrong key from the headers alone, before a byte of the body is read (a 20 MB upload
without a key used to be read in full, and its memory kept, before its 401), and counts
such failures per client so keys cannot be guessed at speed. Only then does ``BodyGuard``
read the body, bounded in size and in how long it may pause.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import Settings
from service.api.errors import ApiError
from service.api.security import RateLimiter, check_read, check_write, is_write

_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Content types each write endpoint accepts; the default for /v1/* is JSON only.
_ACCEPTS: dict[str, tuple[bytes, ...]] = {"/v1/documents": (b"application/json", b"multipart/form-data")}


class AccessGuard:
    """Bearer keys for /v1/* and /metrics (writes: the admin key; reads: an API key when configured)."""

    def __init__(self, app: ASGIApp, settings: Settings, limiter: RateLimiter) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or not _keyed(scope["path"]):
            await self.app(scope, receive, send)
            return
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        try:
            if is_write(scope["method"], scope["path"]):
                check_write(authorization, self.settings)
            else:
                check_read(authorization, self.settings)
        except ApiError as exc:
            client = scope["client"][0] if scope.get("client") else "unknown"
            try:
                if exc.code != "writes_disabled":  # a missing or wrong key: a guess, counted
                    self.limiter.check(client, "auth_failures")
            except ApiError as limited:
                exc = limited
            # Close the connection when a body was announced: the client stops sending what
            # nobody will read, instead of the server draining it.
            await reject(send, exc.status, exc.code, exc.message, exc.headers, close=scope["method"] in _BODY_METHODS)
            return
        await self.app(scope, receive, send)


class BodyGuard:
    """Reject oversized bodies (413), non-JSON bodies (415) and stalled uploads (408).

    The body is read here, bounded, and replayed to the app, so a client that sends
    more than it announced (or no Content-Length at all) still cannot exceed the limit.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, limits: dict[str, int] | None = None,
                 idle_timeout: float = 15.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limits = limits or {}  # per-path limits, e.g. larger for document uploads
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limits.get(scope["path"], self.max_body_bytes)
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await reject(send, 413, "payload_too_large", f"the request body exceeds the limit of {limit} bytes")
            return
        path = scope["path"]
        if path.startswith("/v1/"):
            ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            accepted = _ACCEPTS.get(path, (b"application/json",))
            if ctype not in accepted:
                names = " or ".join(a.decode() for a in accepted)
                got = ctype.decode("latin-1") or "none"
                await reject(send, 415, "unsupported_media_type", f"Content-Type must be {names} (got {got})")
                return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            try:
                # A client that stops sending mid-body would otherwise hold the request forever.
                message = await asyncio.wait_for(receive(), self.idle_timeout)
            except asyncio.TimeoutError:
                await reject(send, 408, "request_timeout",
                             f"the request body stalled for more than {self.idle_timeout:g} s", close=True)
                return
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await reject(send, 413, "payload_too_large", f"the request body exceeds the limit of {limit} bytes")
                return
            chunks.append(body)
            more = message.get("more_body", False)
        # For the upload metrics: what was actually received, whatever the headers claimed.
        scope.setdefault("state", {})["body_bytes"] = size
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _keyed(path: str) -> bool:
    # /metrics tells request volumes and document counts: as private as the documents themselves.
    return path.startswith("/v1/") or path == "/metrics"


async def reject(send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 close: bool = False) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "type": "invalid_request_error", "param": None}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
