"""Two real server processes share nothing but the index folder: a write through one is served by the other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.slow
ADMIN = "replicas-admin"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
DOC_ID = "zephyrine-lighthouse"
DOC = {
    "doc_id": DOC_ID,
    "title": "The Zephyrine Lighthouse",
    "source": "made up for test_replicas",
    "text": "The Zephyrine Lighthouse stands on Corvel Island. The Zephyrine Lighthouse was painted teal in 1987. "
            "Its keeper, Ondine Marsh, logged 4,212 passing ships in her first year.",
}
QUESTION = "What colour was the Zephyrine Lighthouse painted?"
SYNC_TIMEOUT = 30  # seconds for a replica to pick up a version published by the other (it polls every 0.5 s)


class Replica:
    """`python -m service.cli serve` as its own process; its output goes to a log file for failure messages."""

    def __init__(self, name: str, index_dir: Path, settings, log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("CITEQA_API_KEYS", "CITEQA_DEV_ALLOW_WRITES")}
        env.update({
            "CITEQA_INDEX_DIR": str(index_dir),
            "CITEQA_CORPUS_DIR": str(REPO_ROOT / "corpus"),
            "CITEQA_INDEX_POLL_SECONDS": "0.5",
            "CITEQA_ADMIN_KEY": ADMIN,
            "CITEQA_LOG_LEVEL": "warning",
            # The model and the embedding cache the session fixtures use.
            "CITEQA_MODEL_DIR": str(settings.model_dir),
            "CITEQA_EMBEDDING_CACHE": settings.embedding_cache,
        })
        if settings.embedding_model is not None:
            env["CITEQA_EMBEDDING_MODEL"] = str(settings.embedding_model)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
                                         cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"\n--- {self.name} (exit {self.proc.poll()}) log tail ---\n{text[-3000:]}"

    def readyz(self) -> dict:
        r = httpx.get(self.url + "/readyz", timeout=5)
        assert r.status_code == 200, r.text + self.log_tail()
        return r.json()

    def doc_ids(self) -> list[str]:
        r = httpx.get(self.url + "/v1/documents", timeout=10)
        assert r.status_code == 200, r.text + self.log_tail()
        return [d["doc_id"] for d in r.json()["documents"]]

    def ask(self) -> dict:
        r = httpx.post(self.url + "/v1/ask", json={"question": QUESTION}, timeout=60)
        assert r.status_code == 200, r.text + self.log_tail()
        return r.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(what: str, check, timeout: float, replicas: list[Replica]):
    """Poll ``check()`` until it returns something truthy; returns it and the seconds it took."""
    started = time.monotonic()
    last: object = None
    while time.monotonic() - started < timeout:
        for replica in replicas:
            assert replica.proc.poll() is None, f"{replica.name} exited while waiting for {what}" + replica.log_tail()
        try:
            result = check()
            if result:
                return result, time.monotonic() - started
            last = result
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})"
                         + "".join(r.log_tail() for r in replicas))


def cited(answer: dict) -> list[str]:
    return [c["doc_id"] for c in answer["citations"]]


def test_a_write_through_one_replica_is_served_by_the_other(corpus_settings, tmp_path):
    index_dir = tmp_path / "index"  # a copy: the session's index stays as the other tests expect it
    shutil.copytree(corpus_settings.index_dir, index_dir)
    replicas: list[Replica] = []
    try:
        # Both load the model at the same time; neither knows the other exists.
        replicas.append(Replica("A", index_dir, corpus_settings, tmp_path))
        replicas.append(Replica("B", index_dir, corpus_settings, tmp_path))
        a, b = replicas
        for replica in replicas:
            wait_for(f"{replica.name} to be ready",
                     lambda r=replica: httpx.get(r.url + "/readyz", timeout=2).status_code == 200, 180, replicas)
        start = a.readyz()
        assert b.readyz()["index_version"] == start["index_version"]
        assert DOC_ID not in a.doc_ids() and DOC_ID not in b.doc_ids()
        before = b.ask()
        assert not before["answerable"] and DOC_ID not in cited(before), before  # only the new document answers it

        # A write through A: A serves the new version as soon as the write returns.
        r = httpx.post(a.url + "/v1/documents", json=DOC, headers=AUTH, timeout=120)
        assert r.status_code == 201, r.text + a.log_tail()
        added = r.json()
        assert added["status"] == "added" and added["document"]["doc_id"] == DOC_ID
        version = added["index_version"]
        assert version > start["index_version"]  # "v000002" after "v000001"
        assert a.readyz()["index_version"] == version and DOC_ID in a.doc_ids()

        # B picks the version up from the folder within its poll interval, and answers from the new document.
        ready_b, took_add = wait_for(
            f"B to serve {version}",
            lambda: (lambda ready: ready if ready["index_version"] == version else None)(b.readyz()),
            SYNC_TIMEOUT, replicas)
        assert ready_b["documents"] == start["documents"] + 1
        assert DOC_ID in b.doc_ids()
        answer = b.ask()
        assert answer["answerable"] and DOC_ID in cited(answer), answer
        assert "teal" in answer["answer"], answer

        # A delete through B: B stops citing at once, A once it has seen the new version.
        r = httpx.delete(b.url + f"/v1/documents/{DOC_ID}", headers=AUTH, timeout=120)
        assert r.status_code == 200, r.text + b.log_tail()
        assert r.json()["deleted"] == DOC_ID
        removed = r.json()["index_version"]
        assert removed > version
        assert b.readyz()["index_version"] == removed and DOC_ID not in b.doc_ids()
        _, took_delete = wait_for(f"A to drop {DOC_ID}", lambda: DOC_ID not in a.doc_ids(), SYNC_TIMEOUT, replicas)
        assert a.readyz()["index_version"] == removed
        after = a.ask()
        assert DOC_ID not in cited(after) and not after["answerable"], after
        assert not (index_dir / "uploads" / f"{DOC_ID}.json").exists()  # the stored upload went with it
        assert a.proc.poll() is None and b.proc.poll() is None
        print(f"\nreplicas: B served the add after {took_add:.2f} s, A dropped the document after {took_delete:.2f} s")
    finally:
        for replica in replicas:
            replica.stop()
