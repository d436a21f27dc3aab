"""Shared fixtures. The model loads once per test session; slow tests use it."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def embedder():
    from service.config import Settings

    settings = Settings()
    if not (settings.model_path / "modules.json").is_file():
        pytest.fail(f"the embedding model is missing at {settings.model_path}: run `citeqa models fetch` (make test does)")
    return settings.embedder()


class HostPages:
    """A second origin serving pages that embed the widget, like a customer's site.

    ``/host.html?api=URL&lang=en`` embeds the widget of the citeqa server at URL
    (``&src=URL`` loads widget.js from elsewhere than the API it talks to, ``&mode=generative``
    sets the widget's answer mode, ``&title=`` its title, ``&timeout=`` its silence timeout in seconds,
    ``&css=`` more hostile page CSS, added after the page's own).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        import html
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlparse

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                query = parse_qs(urlparse(self.path).query)
                api = html.escape(query.get("api", [""])[0], quote=True)
                src = html.escape(query.get("src", [query.get("api", [""])[0]])[0], quote=True)
                lang = html.escape(query.get("lang", ["en"])[0], quote=True)
                mode = html.escape(query.get("mode", [""])[0], quote=True)
                title = html.escape(query.get("title", ["citeqa test"])[0], quote=True)
                timeout = html.escape(query.get("timeout", [""])[0], quote=True)
                # Raw CSS inside <style>: only a closing tag could break out of it.
                css = query.get("css", [""])[0].replace("</", "<\\/")
                page = (
                    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                    "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Customer site</title>"
                    # Hostile page CSS: it must not reach the widget inside its shadow root.
                    "<style>*{color:red!important;font-size:40px!important} button{display:none!important}</style>"
                    f"<style id='hostile'>{css}</style></head>"
                    "<body><h1>A customer site</h1><p>Some page content.</p>"
                    f"<script src='{src}/widget.js' data-api='{api}' data-title='{title}' data-lang='{lang}' "
                    + (f"data-mode='{mode}' " if mode else "") + (f"data-timeout='{timeout}' " if timeout else "")
                    + "defer></script>"
                    "</body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.origin = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, api: str, lang: str = "en", src: str | None = None, mode: str | None = None, *,
            title: str | None = None, timeout: float | None = None, css: str | None = None) -> str:
        """``src`` is where widget.js comes from, when not from ``api``."""
        from urllib.parse import urlencode

        extra = {key: value for key, value in
                 (("src", src), ("mode", mode), ("title", title), ("timeout", timeout), ("css", css)) if value}
        return f"{self.origin}/host.html?api={api}&lang={lang}" + ("&" + urlencode(extra) if extra else "")

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture(scope="session")
def host_pages():
    pages = HostPages()
    yield pages
    pages.close()


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder, host_pages):
    """Settings with a fresh index of the bundled corpus, built once per session."""
    from service.config import Settings
    from service.indexing import ingest_corpus

    settings = Settings(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=REPO_ROOT / "corpus",
                        cors_origins=[host_pages.origin])
    ingest_corpus(settings, embedder)
    return settings


@pytest.fixture(scope="session")
def corpus_index(corpus_settings):
    from index.store import load_index

    return load_index(corpus_settings.index_dir)


@pytest.fixture(scope="session")
def index_variants(tmp_path_factory, embedder, corpus_settings):
    """The bundled corpus indexed other ways, built on first use: by name, its settings."""
    from service.indexing import ingest_corpus

    built = {}

    def get(name: str):
        if name not in built:
            folder = tmp_path_factory.mktemp(f"index-{name}")
            overrides = {
                "milvus": {"vector_backend": "milvus"},
                "no-sentence-vectors": {"sentence_vectors": False},
            }[name]
            settings = corpus_settings.model_copy(update={"index_dir": folder, **overrides})
            ingest_corpus(settings, embedder)
            built[name] = settings
        return built[name]

    return get


@pytest.fixture(scope="session")
def pipeline(embedder, corpus_settings):
    from service.qa.pipeline import QAPipeline

    return QAPipeline(embedder, corpus_settings.pipeline_params())


def serve_process(index_dir: Path, env: dict[str, str] | None = None, *, port: int | None = None, log=None,
                  timeout: float = 180, args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """A real `citeqa serve` process on ``index_dir`` (the bundled corpus folder), ready; ``env`` adds settings
    and ``args`` options of `citeqa serve`.

    Its output goes to ``log`` (an open binary file) or nowhere. On failure the process is killed.
    """
    import os
    import sys

    import httpx

    port = port or free_port()
    full_env = {**os.environ, "CITEQA_INDEX_DIR": str(index_dir), "CITEQA_CORPUS_DIR": str(REPO_ROOT / "corpus"),
                "CITEQA_LOG_LEVEL": "warning", "HF_HUB_OFFLINE": "1", **(env or {})}
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port), *args], env=full_env,
                            stdout=out, stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
                            cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    proc.wait()
    raise AssertionError(f"the server on {index_dir} did not become ready")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    """A real uvicorn server on a free loopback port, in a thread of the test process."""

    def __init__(self, app) -> None:
        import uvicorn

        from service.api.server import uvicorn_config

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The same protocol, limits and timeouts as `citeqa serve`.
        settings = app.state.citeqa.settings.model_copy(update={"log_level": "warning"})
        self.server = uvicorn.Server(uvicorn_config(app, settings, host="127.0.0.1", port=self.port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "RunningServer":
        self.thread.start()
        self.wait_until(lambda r: r.status_code == 200)
        return self

    def wait_until(self, done, timeout: float = 120):
        """Poll /readyz until ``done(response)``; returns that response."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                response = httpx.get(self.url + "/readyz", timeout=2)
                if done(response):
                    return response
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not reach the expected state")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(corpus_settings, embedder):
    from service.api.app import create_app

    with RunningServer(create_app(corpus_settings, embedder=embedder)) as running:
        yield running


@pytest.fixture(scope="session")
def local_llm():
    """The bundled LLM under llama.cpp's OpenAI-compatible server, in its own process: ``.../v1``."""
    from service.config import Settings
    from service.llm.fetch import is_verified, local_llm_path
    from service.llm.local_server import LocalLLMParams, start_local_process

    path = local_llm_path(Settings().model_dir)
    if not is_verified(path):
        pytest.fail(f"the local LLM is missing at {path}: run `citeqa models fetch --llm` (make test does)")
    process = start_local_process(LocalLLMParams(path, port=0))
    yield process.base_url
    process.stop()


@pytest.fixture(scope="session")
def generative_server(corpus_settings, embedder, local_llm):
    """The API answering generatively through the real local model."""
    from service.api.app import create_app

    settings = corpus_settings.model_copy(update={"llm_base_url": local_llm, "answer_mode": "generative"})
    with RunningServer(create_app(settings, embedder=embedder)) as running:
        yield running
