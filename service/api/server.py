"""uvicorn, configured for clients that misbehave: bounded headers, timeouts, connection cap.

uvicorn has a keep-alive timeout but none for a request's headers (a client can open a
connection and send one byte a minute), no limit on header count or size with httptools,
and no cap on open connections unless asked. ``GuardedHttpToolsProtocol`` adds the first
three; ``limit_concurrency`` the last. Body pace is ``service.api.middleware.BodyGuard``'s job.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.api.logs import logging_config
from service.config import Settings


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        # Carried on the config (which uvicorn pickles for --workers), set by uvicorn_config.
        self.header_timeout, self.max_headers, self.max_header_bytes = getattr(config, "citeqa_header_limits",
                                                                               (10.0, 100, 32_768))
        self._header_timer = None
        self._header_count = 0
        self._header_bytes = 0
        self._rejected = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        self._header_bytes = 0
        if self._header_timer is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._header_bytes += len(url)
        self._check()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        self._check()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if not self._rejected:  # our own rejection already answered
            super().send_400_response(msg)

    def _check(self) -> None:
        if self._header_count > self.max_headers or self._header_bytes > self.max_header_bytes:
            self._reject(431, "headers_too_large", f"request headers exceed {self.max_headers} fields or "
                                                   f"{self.max_header_bytes} bytes")
            raise ValueError("headers too large")  # stops the parser; data_received ignores the rest

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        # Armed when a connection opens or a request begins, disarmed when its headers are complete
        # (a kept-alive idle connection is closed by uvicorn's own keep-alive timeout instead).
        self._header_timer = None
        self._reject(408, "request_timeout", f"the request headers did not arrive within {self.header_timeout:g} s")

    def _reject(self, status: int, code: str, message: str) -> None:
        if self._rejected or self.transport.is_closing():
            return
        self._rejected = True
        body = json.dumps({"error": {"code": code, "message": message, "type": "invalid_request_error",
                                     "param": None}}).encode()
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                             b"connection: close\r\n\r\n%s" % (status, reason, len(body), body))
        self.transport.close()


def uvicorn_config(app: Any, settings: Settings, *, host: str, port: int, **extra: Any) -> uvicorn.Config:
    # citeqa's access log (service.api.access) replaces uvicorn's: it has the request ID and the route.
    config = uvicorn.Config(app, host=host, port=port, http=GuardedHttpToolsProtocol,
                            limit_concurrency=settings.max_connections, timeout_keep_alive=settings.keep_alive_seconds,
                            log_level=settings.log_level, access_log=False,
                            log_config=logging_config(settings.log_format, settings.log_level), **extra)
    config.citeqa_header_limits = (settings.header_timeout_seconds, settings.max_headers, settings.max_header_bytes)
    return config


def serve(config: uvicorn.Config) -> None:
    """What ``uvicorn.run`` does with a ready config: one process, or ``config.workers`` sharing a socket."""
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        with _shared_metrics():
            Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


@contextmanager
def _shared_metrics() -> Iterator[None]:
    """Workers are separate processes: their metrics meet in files in one folder (prometheus-client's
    multiprocess mode), fresh for each run. An operator's own PROMETHEUS_MULTIPROC_DIR is kept."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    folder = tempfile.mkdtemp(prefix="citeqa-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # the workers are spawned after this, with it
    try:
        yield
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)
