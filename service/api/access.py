"""Every request gets an ID, an access log line and its place in the request metrics.

Outermost of citeqa's middleware, so requests refused by the guards (401, 413, 429) and
CORS preflights are counted and logged like the rest. The time runs to the response's
last byte: a streamed answer is timed to its end, not to its first event. Routes say what
the log and metrics cannot see from outside (whether an ask was answered) through
``request.state``, which is this scope's ``state`` dict.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.logs import ACCESS_LOGGER, request_id
from service.api.metrics import Metrics

log = logging.getLogger(ACCESS_LOGGER)
HEADER = "X-Request-ID"
# A client's own ID is kept when it is a plain token; anything else (too long, spaces,
# control characters that could forge log lines) is replaced by a new one.
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
UNMATCHED = "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _client_id(scope) or uuid.uuid4().hex
        # Not reset afterwards: the 500 handler (outside this middleware) reads it, and each
        # request runs in its own task, so the value cannot leak into another request.
        request_id.set(rid)
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 0
        finished = False

        def finish(final_status: int) -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            seconds = time.perf_counter() - started
            route = self._route(scope)
            self.metrics.observe_request(scope["method"], route, final_status, seconds)
            extra = {"method": scope["method"], "route": route, "status": final_status, "ms": round(seconds * 1000, 1)}
            for key in ("answerable", "mode"):
                if key in state:
                    extra[key] = state[key]
            log.info("%s %s %d %.1f ms", scope["method"], route, final_status, seconds * 1000, extra=extra)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finish(status)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            finish(status or 500)
            raise
        # The app returned without a last byte: the client went away first (nginx's 499,
        # "client closed request"), e.g. a widget reset during a streamed answer.
        finish(499)

    def _route(self, scope: Scope) -> str:
        """The route template (``/v1/documents/{doc_id}``), never the raw path: bounded labels, no IDs in logs."""
        route = scope.get("route")
        if route is not None and hasattr(route, "path"):
            return route.path
        # Requests answered before routing (guards, CORS preflights) are matched here; a
        # preflight names the route of the method it asks about.
        method = scope["method"]
        if method == "OPTIONS":
            method = _header(scope, b"access-control-request-method") or method
        probe = {**scope, "method": method}
        for candidate in self.routes:
            match, _ = candidate.matches(probe)
            if match == Match.FULL and hasattr(candidate, "path"):
                return candidate.path
        return UNMATCHED


def _header(scope: Scope, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), None)


def _client_id(scope: Scope) -> str | None:
    text = _header(scope, b"x-request-id")
    return text if text is not None and _CLIENT_ID.fullmatch(text) else None
