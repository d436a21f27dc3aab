"""The Milvus backend as a user runs it: `citeqa ingest` in one process, `citeqa serve` in another."""

import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port
from tests.service.test_reliability import start_server

pytestmark = pytest.mark.slow


def test_a_milvus_index_built_by_one_process_serves_from_another(tmp_path, pipeline, corpus_index):
    pytest.importorskip("milvus_lite")
    index_dir = tmp_path / "index"
    env = {**os.environ, "CITEQA_INDEX_DIR": str(index_dir), "CITEQA_VECTOR_BACKEND": "milvus"}
    built = subprocess.run([sys.executable, "-m", "service.cli", "ingest", "--no-progress"], env=env, cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    assert (index_dir / "milvus.db").exists() and not list(index_dir.glob("versions/*/dense.faiss"))

    os.environ["CITEQA_VECTOR_BACKEND"] = "milvus"
    try:
        proc, url = start_server(index_dir, free_port())
    finally:
        del os.environ["CITEQA_VECTOR_BACKEND"]
    try:
        query = "华为云的盘古大模型"
        served = httpx.post(url + "/v1/search", json={"query": query, "top_k": 5}, timeout=60)
        assert served.status_code == 200, served.text
        expected = pipeline.search(corpus_index, query, 5)
        assert [r["chunk_id"] for r in served.json()["results"]] == [r.chunk_id for r in expected.results]
        reply = httpx.post(url + "/v1/ask", json={"question": "微软Azure走的是哪种路线？"}, timeout=60).json()
        assert reply["answerable"] and "垂直整合" in reply["answer"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
