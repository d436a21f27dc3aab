"""An HTTP proxy in front of the real server that paces, stalls or fails its answers, for the widget tests.

Browsers give a page no way to slow a response down or to see a request body on the wire, so the tests put
this between the widget and the real citeqa server: it records each `/v1/ask` body, relays the SSE events of
the answer with chosen gaps, can hold the `done` event back (a server gone silent), can answer one request with
an error, and notices when the browser gives up on a request (AbortController) by its closing the connection.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade",
              "proxy-connection", "te", "trailer", "content-encoding"}


class WidgetProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.asks: list[dict] = []          # the JSON body of every POST /v1/ask, in order
        self.gaps: list[float] = []         # seconds to wait before each SSE event of the next answers
        self.stall = False                  # hold every event from `done` on, until the browser hangs up or release
        self.release = threading.Event()    # set to let stalled answers finish
        self.fail_next = False              # answer the next ask with a 503 error of the API's shape
        self.hangups = 0                    # asks the browser closed before their answer was complete
        self.stalled = threading.Event()    # set once a stalled answer has reached its stall
        self._closing = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: every response ends by closing the connection, so a stream needs no framing here.
            def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
                proxy._relay(self, None)

            def do_GET(self) -> None:  # noqa: N802
                proxy._relay(self, None)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy._relay(self, body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _relay(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        is_ask = handler.command == "POST" and handler.path.startswith("/v1/ask")
        if is_ask:
            self.asks.append(json.loads(body or b"{}"))
        with httpx.Client(timeout=120) as client:
            response = client.request(handler.command, self.upstream + handler.path, headers=headers, content=body)
        status, content = response.status_code, response.content
        if is_ask and self.fail_next:
            self.fail_next = False
            status, content = 503, json.dumps({"error": {"code": "test_failure", "message": "made to fail by the test"}}).encode()
        handler.send_response(status)
        for key, value in response.headers.items():
            if key.lower() not in HOP_BY_HOP:
                handler.send_header(key, value)
        if is_ask and status == 200:
            handler.end_headers()
            self._pace(handler, content.decode().split("\n\n"))
        else:
            handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            handler.wfile.write(content)

    def _pace(self, handler: BaseHTTPRequestHandler, events: list[str]) -> None:
        gaps = list(self.gaps)
        try:
            for i, event in enumerate(e for e in events if e.strip()):
                if self.stall and event.startswith("event: done"):
                    self.stalled.set()
                    if self._wait_for_hangup(handler.connection, until=self.release):
                        self.hangups += 1
                        return
                if i < len(gaps) and self._wait_for_hangup(handler.connection, gaps[i]):
                    self.hangups += 1
                    return
                handler.wfile.write((event + "\n\n").encode())
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.hangups += 1

    def _wait_for_hangup(self, conn: socket.socket, seconds: float = 120.0, until: threading.Event | None = None) -> bool:
        """Wait ``seconds`` or until ``until`` is set; True as soon as the browser closes the connection."""
        waited = 0.0
        while waited < seconds and not self._closing.is_set() and not (until and until.is_set()):
            step = min(0.1, seconds - waited)
            readable, _, _ = select.select([conn], [], [], step)
            if readable and conn.recv(1, socket.MSG_PEEK) == b"":
                return True
            waited += step
        return False
