"""The `citeqa` command as a user runs it: a real process."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def citeqa(*args, env_extra=None, timeout=300):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_missing_index_is_a_clear_error_without_loading_the_model(tmp_path):
    result = citeqa("ask", "x", env_extra={"CITEQA_INDEX_DIR": str(tmp_path / "none")}, timeout=60)
    assert result.returncode == 2
    assert "no index" in result.stderr and "citeqa ingest" in result.stderr


def test_missing_model_names_the_fetch_command(tmp_path):
    result = citeqa("ingest", env_extra={"CITEQA_MODEL_DIR": str(tmp_path), "CITEQA_INDEX_DIR": str(tmp_path / "i")}, timeout=60)
    assert result.returncode == 2 and "citeqa models fetch" in result.stderr


def test_serving_the_local_llm_before_fetching_it_names_the_fetch_command(tmp_path):
    for args in (("serve", "--llm", "local", "--port", "0"), ("llm", "serve")):
        result = citeqa(*args, env_extra={"CITEQA_MODEL_DIR": str(tmp_path)}, timeout=60)
        assert result.returncode == 2 and "citeqa models fetch --llm" in result.stderr, result.stderr


def test_the_command_module_imports_none_of_the_project_or_its_libraries():
    # It is the server's __main__, which every child multiprocessing starts from the server (each
    # upload's sandboxed parser, each uvicorn worker) imports again: its imports are paid per upload.
    code = ("import sys, service.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'service', 'index', 'ingest', 'llama_index', 'torch', 'numpy', 'fastapi', 'pydantic', 'onnxruntime'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['service', 'service.cli']"


def test_usage_errors():
    assert citeqa("ask").returncode == 2
    assert citeqa("ask", "x", "--top-k", "0").returncode == 2


@pytest.mark.slow
def test_fetch_is_idempotent(embedder):
    result = citeqa("models", "fetch", env_extra={"CITEQA_MODEL_DIR": str(embedder.path.parent)})
    assert result.returncode == 0 and "nothing to do" in result.stdout


@pytest.mark.slow
@pytest.mark.llm
def test_fetching_the_llm_twice_does_nothing(embedder):
    result = citeqa("models", "fetch", "--llm", env_extra={"CITEQA_MODEL_DIR": str(embedder.path.parent)})
    assert result.returncode == 0 and result.stdout.count("nothing to do") == 2, result.stdout


@pytest.mark.slow
def test_ask_prints_answer_and_sources_and_json(corpus_settings):
    env = {"CITEQA_INDEX_DIR": str(corpus_settings.index_dir)}
    result = citeqa("ask", "微软Azure走的是哪种路线？", env_extra=env)
    assert result.returncode == 0, result.stderr
    answer, _, sources = result.stdout.partition("Sources:")
    assert "垂直整合" in answer and "[1]" in answer
    assert "[1] 生成式AI战略拼图对比中美云厂商" in sources and "characters" in sources

    result = citeqa("search", "华为 升腾", "--top-k", "2", "--json", env_extra=env)
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    assert len(results) == 2 and "升腾" in results[0]["text"]


@pytest.mark.slow
# The index is built with the defaults (ONNX Runtime, int8, 768 dimensions); each of these gives other vectors.
@pytest.mark.parametrize("setting", [{"CITEQA_EMBEDDING_QUANTIZE": "none"}, {"CITEQA_EMBEDDING_DIMS": "256"},
                                     {"CITEQA_EMBEDDING_BACKEND": "torch"}])
def test_an_index_built_with_other_embedding_settings_is_refused(corpus_settings, setting):
    result = citeqa("search", "阿里云", env_extra={"CITEQA_INDEX_DIR": str(corpus_settings.index_dir), **setting}, timeout=120)
    assert result.returncode == 2
    assert "ingest --rebuild" in result.stderr and "the index was built with" in result.stderr


@pytest.mark.slow
def test_adding_a_document_with_other_embedding_settings_leaves_the_index_whole(corpus_settings, tmp_path):
    # It used to publish an index of the one new document: the other eleven were gone.
    import shutil

    from index.store import load_index

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    note = tmp_path / "note.txt"
    note.write_text("腾讯云在2024年推出了混元大模型的新版本。", encoding="utf-8")
    result = citeqa("documents", "add", str(note),
                    env_extra={"CITEQA_INDEX_DIR": str(index_dir), "CITEQA_EMBEDDING_QUANTIZE": "none"}, timeout=120)
    assert result.returncode == 2 and "citeqa ingest --rebuild" in result.stderr, result.stderr
    index = load_index(index_dir)
    assert len(index.documents) == 11 and index.manifest.version == load_index(corpus_settings.index_dir).manifest.version


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_local_llm_goes_when_serve_goes(corpus_settings, how):
    # uvicorn re-raises the SIGTERM it stopped on and SIGKILL skips every clean-up: the child
    # LLM (2 GB, a port) must not outlive the server either way.
    from tests.conftest import serve_process

    server, _ = serve_process(corpus_settings.index_dir, args=("--llm", "local"))
    children: list[int] = []
    try:
        children = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        assert children, "serve --llm local runs the LLM as a child process"
        server.send_signal(how)
        server.wait(30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_running(c) for c in children):
            time.sleep(0.2)
        survivors = {c: command for c in children if (command := _running(c))}
        assert not survivors, f"still running 15 s after the server: {survivors}"
    finally:
        server.kill()
        for child in filter(_running, children):  # a failure here must not leave 2 GB running
            os.kill(child, signal.SIGKILL)


def _running(pid: int) -> str | None:
    """The command line of ``pid`` while it runs (a zombie has finished), else None."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return None
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
