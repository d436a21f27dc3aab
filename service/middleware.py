"""Request guards that run before routing: body size and content type."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Content types each write endpoint accepts; the default for /v1/* is JSON only.
_ACCEPTS: dict[str, tuple[bytes, ...]] = {"/v1/documents": (b"application/json", b"multipart/form-data")}


class BodyGuard:
    """Reject oversized bodies (413) and non-JSON bodies (415) with the API's error shape.

    The body is read here, bounded, and replayed to the app, so a client that sends
    more than it announced (or no Content-Length at all) still cannot exceed the limit.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limits = limits or {}  # per-path limits, e.g. larger for document uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limits.get(scope["path"], self.max_body_bytes)
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _reject(send, 413, "payload_too_large", f"the request body exceeds the limit of {limit} bytes")
            return
        path = scope["path"]
        if path.startswith("/v1/"):
            ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            accepted = _ACCEPTS.get(path, (b"application/json",))
            if ctype not in accepted:
                names = " or ".join(a.decode() for a in accepted)
                got = ctype.decode("latin-1") or "none"
                await _reject(send, 415, "unsupported_media_type", f"Content-Type must be {names} (got {got})")
                return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _reject(send, 413, "payload_too_large", f"the request body exceeds the limit of {limit} bytes")
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reject(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "type": "invalid_request_error", "param": None}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
