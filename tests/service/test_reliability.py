"""Faults with real processes and real files: kills, concurrency, a full disk, corruption."""

import shutil
import signal
import subprocess
import threading
import time

import httpx
import pytest

from tests.conftest import RunningServer, free_port, serve_process

pytestmark = pytest.mark.slow
ADMIN = "reliability-admin"


def big_document(n: int = 70) -> str:
    return "\n\n".join(f"第{i}段：某云厂商在第{i}个季度扩建了智算中心，新增了{i * 10}台服务器，并发布了第{i}版行业模型。"
                       f"这一段只用于测试长文档写入时的故障恢复。" for i in range(n))


def writer_is_busy(index_dir) -> bool:
    from service.indexing import writer_lock

    try:
        with writer_lock(index_dir, wait=False):
            return False
    except BlockingIOError:
        return True


def copy_index(corpus_settings, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(corpus_settings.index_dir, target)
    return target


def start_server(index_dir, port, extra_env=None):
    return serve_process(index_dir, {"CITEQA_ADMIN_KEY": ADMIN, **(extra_env or {})}, port=port, timeout=120)


def test_sigkill_during_an_ingest_keeps_the_last_complete_index(corpus_settings, tmp_path):
    index_dir = copy_index(corpus_settings, tmp_path)
    port = free_port()
    # No embedding cache: a cached document would be indexed before the kill (an earlier run stored it).
    no_cache = {"CITEQA_EMBEDDING_CACHE": "off"}
    proc, url = start_server(index_dir, port, no_cache)
    before = httpx.get(url + "/v1/documents").json()["documents"]
    body = {"title": "长文档", "text": big_document(), "doc_id": "long-doc"}
    errors: list[Exception] = []

    def upload():
        try:
            httpx.post(url + "/v1/documents", json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=300)
        except httpx.HTTPError as exc:
            errors.append(exc)

    writer = threading.Thread(target=upload)
    writer.start()
    # Killed once the server holds the writer lock (it embeds ~160 texts under it, seconds), not
    # after a fixed sleep: a faster machine or model would finish the write before the kill.
    deadline = time.monotonic() + 120
    while not writer_is_busy(index_dir) and writer.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    writer.join()
    assert errors, "the write should have been cut off by the kill"

    proc, url = start_server(index_dir, port, no_cache)
    try:
        ready = httpx.get(url + "/readyz").json()
        after = httpx.get(url + "/v1/documents").json()["documents"]
        assert [d["doc_id"] for d in after] == [d["doc_id"] for d in before]  # the last complete version
        assert ready["documents"] == len(after) and ready["chunks"] == sum(d["chunks"] for d in after)
        assert not list((index_dir / "versions").glob(".tmp-*"))
        r = httpx.post(url + "/v1/documents", json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=300)
        assert r.status_code == 201
        ids = [d["doc_id"] for d in httpx.get(url + "/v1/documents").json()["documents"]]
        assert "long-doc" in ids and len(ids) == len(before) + 1
    finally:
        proc.kill()
        proc.wait()


def test_concurrent_readers_and_a_writer(corpus_settings, embedder, tmp_path):
    from service.api.app import create_app
    from service.config import Settings

    settings = Settings(index_dir=copy_index(corpus_settings, tmp_path), corpus_dir=corpus_settings.corpus_dir,
                        admin_key=ADMIN, rate_limit_reads=0, rate_limit_writes=0)
    questions = ["微软Azure走的是哪种路线？", "星河云推出了什么模型？", "How many Trainium 2 chips can AWS train on?", "星河云的芯片叫什么？"]
    doc = {"title": "星河云", "doc_id": "xinghe", "text": "星河云推出了银河大模型。星河云的芯片叫做星核一号。"}
    results: list[tuple[float, int, list[str]]] = []
    deleted_at: list[float] = []
    added_at: list[float] = []
    stop = threading.Event()

    with RunningServer(create_app(settings, embedder=embedder)) as server:
        def reader(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                n = i
                while not stop.is_set():
                    started = time.monotonic()
                    r = client.post("/v1/ask", json={"question": questions[n % len(questions)]})
                    cited = [c["doc_id"] for c in r.json().get("citations", [])] if r.status_code == 200 else []
                    results.append((started, r.status_code, cited))
                    n += 1

        readers = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
        for t in readers:
            t.start()
        auth = {"Authorization": f"Bearer {ADMIN}"}
        writes = 0
        for _ in range(3):
            added_at.append(time.monotonic())  # from here on the document may be cited
            assert httpx.post(server.url + "/v1/documents", json=doc, headers=auth, timeout=120).status_code == 201
            time.sleep(1)
            assert httpx.delete(server.url + "/v1/documents/xinghe", headers=auth, timeout=120).status_code == 200
            deleted_at.append(time.monotonic())
            writes += 2
            time.sleep(1)
        stop.set()
        for t in readers:
            t.join()

    failures = [code for _, code, _ in results if code != 200]
    # Between a delete returning and the next add starting, no request may cite the document.
    gone = list(zip(deleted_at, added_at[1:] + [float("inf")]))
    stale = [started for started, _, cited in results if "xinghe" in cited and any(lo < started < hi for lo, hi in gone)]
    print(f"\nconcurrency: {len(results)} requests by 8 readers, {writes} writes, {len(failures)} failed, {len(stale)} stale")
    assert len(results) >= 40 and writes == 6
    assert failures == [] and stale == []
    assert any("xinghe" in c for _, _, c in results), "readers should have seen the document while it existed"


@pytest.fixture
def tiny_disk(tmp_path, corpus_settings):
    """A tmpfs that holds one copy of the corpus index and not much more."""
    mount = tmp_path / "disk"
    mount.mkdir()
    used = sum(p.stat().st_size for p in corpus_settings.index_dir.rglob("*") if p.is_file())
    size_kb = int(used * 1.4) // 1024 + 64
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_fails_the_write_and_keeps_serving(corpus_settings, embedder, tiny_disk):
    from service.api.app import create_app
    from service.config import Settings

    index_dir = tiny_disk / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    settings = Settings(index_dir=index_dir, corpus_dir=corpus_settings.corpus_dir, admin_key=ADMIN, rate_limit_writes=0)
    with RunningServer(create_app(settings, embedder=embedder)) as server:
        version = httpx.get(server.url + "/readyz").json()["index_version"]
        body = {"title": "大文档", "doc_id": "huge", "text": big_document(160)}
        r = httpx.post(server.url + "/v1/documents", json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=300)
        assert r.status_code == 507 and r.json()["error"]["code"] == "insufficient_storage", r.text
        assert httpx.get(server.url + "/readyz").json()["index_version"] == version
        answer = httpx.post(server.url + "/v1/ask", json={"question": "微软Azure走的是哪种路线？"}, timeout=60)
        assert answer.status_code == 200 and answer.json()["answerable"]
        assert not list((index_dir / "versions").glob(".tmp-*"))
        assert not (index_dir / "uploads" / "huge.json").exists()
        assert "huge" not in [d["doc_id"] for d in httpx.get(server.url + "/v1/documents").json()["documents"]]


def test_corrupt_index_refuses_to_serve_until_rebuilt(corpus_settings, embedder, tmp_path):
    from index.store import current_version_dir
    from service.api.app import create_app
    from service.config import Settings
    from service.indexing import ingest_corpus

    settings = Settings(index_dir=copy_index(corpus_settings, tmp_path), corpus_dir=corpus_settings.corpus_dir,
                        index_poll_seconds=0.5)
    damaged = current_version_dir(settings.index_dir) / "chunks.jsonl"
    damaged.write_text(damaged.read_text(encoding="utf-8").replace("垂直整合", "水平整合", 1), encoding="utf-8")

    server = RunningServer(create_app(settings, embedder=embedder))
    server.thread.start()
    try:
        r = server.wait_until(lambda r: "chunks.jsonl" in r.text, timeout=60)
        assert r.status_code == 503 and "ingest --rebuild" in r.json()["error"]["message"]
        ask = httpx.post(server.url + "/v1/ask", json={"question": "微软Azure走的是哪种路线？"})
        assert ask.status_code == 503 and "chunks.jsonl" in ask.json()["error"]["message"]

        ingest_corpus(settings, embedder, rebuild=True)  # what `citeqa ingest --rebuild` runs
        server.wait_until(lambda r: r.status_code == 200, timeout=30)
        answer = httpx.post(server.url + "/v1/ask", json={"question": "微软Azure走的是哪种路线？"}, timeout=60).json()
        assert "垂直整合" in answer["answer"]
    finally:
        server.__exit__()
