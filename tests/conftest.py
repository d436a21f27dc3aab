"""Shared fixtures. The model loads once per test session; slow tests use it."""

from __future__ import annotations

import socket
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
    from index.embedder import Embedder
    from service.config import Settings

    settings = Settings()
    if not (settings.model_path / "modules.json").is_file():
        pytest.fail(f"the embedding model is missing at {settings.model_path}: run `citeqa models fetch` (make test does)")
    return Embedder(settings.model_path)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder):
    """Settings with a fresh index of the bundled corpus, built once per session."""
    from service.config import Settings
    from service.indexing import ingest_corpus

    settings = Settings(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=REPO_ROOT / "corpus")
    ingest_corpus(settings, embedder)
    return settings


@pytest.fixture(scope="session")
def corpus_index(corpus_settings):
    from index.store import load_index

    return load_index(corpus_settings.index_dir)


@pytest.fixture(scope="session")
def pipeline(embedder, corpus_settings):
    from service.pipeline import QAPipeline

    return QAPipeline(embedder, corpus_settings.pipeline_params())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    """A real uvicorn server on a free loopback port, in a thread of the test process."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
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
    from service.app import create_app

    with RunningServer(create_app(corpus_settings, embedder=embedder)) as running:
        yield running
