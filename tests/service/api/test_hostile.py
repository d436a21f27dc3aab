"""Hostile clients against a real `citeqa serve` process: one bad request must not hurt anyone else.

Each test reproduces a defect found by probing the server as an attacker would (issue
"Hostile input and faults"), through real HTTP, real files and a real process whose memory
and responsiveness are measured from outside.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port, serve_process

pytestmark = pytest.mark.slow
ADMIN = "hostile-admin-key"
READER = "hostile-reader-key"
WRITE = {"Authorization": f"Bearer {ADMIN}"}
READ = {"Authorization": f"Bearer {READER}"}


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, index_dir: Path, port: int) -> None:
        self.proc, self.url, self.index_dir, self.port = proc, url, index_dir, port

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def docs(self) -> dict[str, dict]:
        listed = httpx.get(self.url + "/v1/documents", headers=READ, timeout=30).json()["documents"]
        return {d["doc_id"]: d for d in listed}


def start(index_dir: Path, extra: dict[str, str] | None = None) -> Served:
    port = free_port()
    proc, url = serve_process(index_dir, {
        "CITEQA_ADMIN_KEY": ADMIN, "CITEQA_API_KEYS": READER, "CITEQA_RATE_LIMIT_READS": "0",
        "CITEQA_RATE_LIMIT_WRITES": "0", "CITEQA_HEADER_TIMEOUT_SECONDS": "2", "CITEQA_BODY_TIMEOUT_SECONDS": "2",
        # Every upload goes through the model: the cancellation test needs real embedding work.
        "CITEQA_EMBEDDING_CACHE": "off", **(extra or {})}, port=port)
    return Served(proc, url, index_dir, port)


def stop(served: Served) -> None:
    served.proc.kill()
    served.proc.wait()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, corpus_settings):
    index_dir = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    served = start(index_dir)
    yield served
    stop(served)


def upload(served: Served, name: str, data: bytes, timeout: float = 120, **fields: str) -> httpx.Response:
    return httpx.post(served.url + "/v1/documents", headers=WRITE, files={"file": (name, data)}, data=fields,
                      timeout=timeout)


def error(response: httpx.Response) -> dict:
    return response.json()["error"]


def docx_bytes(paragraphs: list[str], title: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for p in paragraphs:
        document.add_paragraph(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rezip(data: bytes, replace: dict[str, bytes | Callable[[IO[bytes]], None] | None]) -> bytes:
    """The same zip with members replaced (None drops one; a function writes the member's content
    into its stream, for members too large to build in memory), compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = replace.get(info.filename, zin.read(info.filename))
            if callable(content):
                with zout.open(info.filename, "w", force_zip64=True) as member:
                    content(member)
            elif content is not None:
                zout.writestr(info.filename, content)
    return out.getvalue()


def docx_with_one_long_run(letter: bytes, count: int) -> bytes:
    """A .docx whose document.xml holds one text run of ``count`` copies of ``letter``.

    Streamed into the zip in 64 MB pieces: the gigabyte is never held (or copied) in memory, which
    took 9.6 s per file when built as one bytes object.
    """
    head, tail = document_xml_with(b"<w:p><w:r><w:t>\0</w:t></w:r></w:p>").split(b"\0")
    piece = letter * (64 << 20)

    def write(member: IO[bytes]) -> None:
        member.write(head)
        for _ in range(count // len(piece)):
            member.write(piece)
        member.write(piece[:count % len(piece)])
        member.write(tail)

    return rezip(docx_bytes(["x"]), {"word/document.xml": write})


def document_xml_with(text_xml: bytes) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.'
            b'openxmlformats.org/wordprocessingml/2006/main"><w:body>' + text_xml + b"</w:body></w:document>")


class Pinger:
    """Measures /healthz response times from another thread while something else runs."""

    def __init__(self, url: str) -> None:
        self.url, self.times, self._stop = url, [], threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                httpx.get(self.url + "/healthz", timeout=30)
            except httpx.HTTPError:
                pass
            self.times.append(time.perf_counter() - started)
            time.sleep(0.05)

    def __enter__(self) -> "Pinger":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()


# 1. One request breaks other people's requests ----------------------------------------------

@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/ask", {"question": "\ud800 x"}, "question"),
    ("/v1/search", {"query": "\ud800 x"}, "query"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "\ud800 x"}]}, "messages"),
    ("/v1/ask", {"question": "x", "history": [{"role": "user", "content": "a\udfff"}]}, "history"),
])
def test_lone_surrogates_get_422_naming_the_field(hostile, path, body, field):
    raw = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as a valid JSON escape
    r = httpx.post(hostile.url + path, content=raw, headers={**READ, "Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 422, r.text
    message = error(r)["message"]
    assert error(r)["param"].startswith(field) and ("surrogate" in message or "unicode" in message), message


def test_a_poisoned_question_among_concurrent_ones_changes_nobody_elses_answer(hostile):
    questions = [f"第{i}家云厂商的大模型战略是什么？" for i in range(12)]
    results: dict[int, int] = {}

    def ask(i: int, raw: bytes) -> None:
        r = httpx.post(hostile.url + "/v1/ask", content=raw, headers={**READ, "Content-Type": "application/json"},
                       timeout=120)
        results[i] = r.status_code

    bodies = [json.dumps({"question": q}).encode() for q in questions] + [json.dumps({"question": "\ud800 x"}).encode()]
    threads = [threading.Thread(target=ask, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(12)] == [200] * 12 and results[12] == 422


# 2. Upload parsing cannot exhaust memory or freeze the server ---------------------------------

def test_a_docx_that_expands_to_gigabytes_is_refused_before_it_is_inflated(hostile):
    bomb = docx_with_one_long_run(b"A", 1_100_000_000)
    assert len(bomb) < 5_000_000
    before = hostile.rss_mb()
    r = upload(hostile, "bomb.docx", bomb)
    assert r.status_code == 413 and error(r)["code"] == "document_too_large" and "expands to" in error(r)["message"]
    assert hostile.rss_mb() - before < 150


def test_reading_a_heavy_docx_does_not_freeze_other_requests(hostile):
    # ~45 MB of XML in a small zip: under the expansion cap, so it is really parsed (in the child).
    paragraph = b"<w:p><w:r><w:t>" + "云厂商的生成式AI战略。".encode() * 40 + b"</w:t></w:r></w:p>"
    heavy = rezip(docx_bytes(["x"]), {"word/document.xml": document_xml_with(paragraph * 35_000)})
    before = hostile.rss_mb()
    with Pinger(hostile.url) as pinger:
        r = upload(hostile, "heavy.docx", heavy)
    assert r.status_code == 413, r.text  # over the text or memory budget, whichever comes first
    assert max(pinger.times) < 1.0, f"/healthz took up to {max(pinger.times):.1f} s during the parse"
    assert len(pinger.times) >= 3
    assert hostile.rss_mb() - before < 150


def flate_bomb_pdf() -> bytes:
    import zlib

    stream = zlib.compress(b"0 0 m " * 30_000_000, 9)  # 180 MB of page content from ~200 KB
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.mark.parametrize(("name", "make", "status"), [
    ("broken.docx", lambda: rezip(docx_bytes(["x"]), {"word/document.xml": b"<w:document"}), 422),
    ("laughs.docx", lambda: rezip(docx_bytes(["x"]), {"word/document.xml": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(8))
        + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
        b"<w:t>&i;</w:t></w:r></w:p></w:body></w:document>")}), 422),
    ("huge-node.docx", lambda: docx_with_one_long_run(b"B", 1_000_000_000), 413),
    # pypdf stops inflating at its own output limit; what is left has no text.
    ("bomb.pdf", flate_bomb_pdf, 422),
    ("!!!.txt", lambda: "正文。".encode(), 422),
])
def test_hostile_files_get_4xx_with_no_server_paths(hostile, name, make, status):
    r = upload(hostile, name, make())
    assert r.status_code == status, r.text
    message = error(r)["message"]
    assert name in message or "document id" in message
    assert "/tmp" not in message and str(hostile.index_dir) not in message


# 3. The upload store and the index stay in agreement ------------------------------------------

def test_a_doc_id_with_a_trailing_newline_is_refused_everywhere(hostile):
    r = upload(hostile, "notes.txt", "笔记。".encode(), doc_id="foo\n")
    assert r.status_code == 422 and error(r)["param"] == "doc_id"
    r = httpx.post(hostile.url + "/v1/documents", headers=WRITE, json={"title": "t", "text": "x", "doc_id": "foo\n"})
    assert r.status_code == 422 and error(r)["param"] == "doc_id"


def test_corpus_ids_are_not_overwritten_or_deleted_through_the_api(hostile):
    before = hostile.docs()["glossary"]
    r = httpx.post(hostile.url + "/v1/documents", headers=WRITE, timeout=60,
                   json={"title": "fake glossary", "text": "假的术语表。", "doc_id": "glossary"})
    assert r.status_code == 409 and error(r)["code"] == "conflict"
    r = httpx.delete(hostile.url + "/v1/documents/glossary", headers=WRITE)
    assert r.status_code == 409
    assert hostile.docs()["glossary"]["sha256"] == before["sha256"]
    assert not (hostile.index_dir / "uploads" / "glossary.json").exists()


def test_replacing_a_file_says_so_with_the_old_sha256(hostile):
    first = upload(hostile, "vendor-notes.txt", "星海云发布了星海大模型。".encode())
    assert first.status_code == 201 and first.json()["status"] == "added"
    again = upload(hostile, "vendor-notes.txt", "星海云发布了星海大模型第二版。".encode())
    assert again.status_code == 200 and again.json()["status"] == "updated"
    assert again.json()["replaced"]["sha256"] == first.json()["document"]["sha256"]
    assert again.json()["document"]["sha256"] != first.json()["document"]["sha256"]
    stored = json.loads((hostile.index_dir / "uploads" / "vendor-notes.json").read_text(encoding="utf-8"))
    assert "第二版" in stored["text"]
    assert httpx.delete(hostile.url + "/v1/documents/vendor-notes", headers=WRITE).status_code == 200


def test_restart_repairs_a_store_left_behind_by_a_crash(corpus_settings, tmp_path):
    """The two crash windows of a write: published but not stored, and stored but never published."""
    from index.store import load_index
    from ingest.schema import Document
    from service.uploads import UploadStore

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    served = start(index_dir)
    try:
        assert upload(served, "kept.txt", "留存云发布了留存大模型。".encode()).status_code == 201
    finally:
        stop(served)
    store = UploadStore(index_dir)
    (index_dir / "uploads" / "kept.json").unlink()  # the index has it, the store lost it
    store.save(Document(doc_id="ghost", title="ghost", source="x", text="幽灵文档。", metadata={"origin": "api"}))
    (index_dir / "uploads" / ".ghost.json.0123.tmp").write_text("{")  # a save cut off mid-write
    served = start(index_dir)
    try:
        docs = served.docs()
        assert "kept" in docs and "ghost" not in docs
        assert store.get("kept") is not None and store.get("ghost") is None
        assert not list((index_dir / "uploads").glob(".*"))
        assert httpx.delete(served.url + "/v1/documents/ghost", headers=WRITE).status_code == 404
    finally:
        stop(served)
    # `citeqa ingest` (which re-reads the store) neither revives the ghost nor drops the kept document.
    env = {**os.environ, "CITEQA_INDEX_DIR": str(index_dir), "CITEQA_CORPUS_DIR": str(REPO_ROOT / "corpus")}
    done = subprocess.run([sys.executable, "-m", "service.cli", "ingest"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert set(load_index(index_dir).documents) >= {"kept"} and "ghost" not in load_index(index_dir).documents


# 4. Embedding work per upload is bounded, and a client that leaves stops it --------------------

def test_many_one_word_lines_are_refused_before_any_embedding(hostile):
    lines = "\n".join(f"词{i}" for i in range(10_000)).encode()
    started = time.perf_counter()
    r = upload(hostile, "lines.txt", lines)
    assert r.status_code == 413 and "embeddings" in error(r)["message"] or "sentences" in error(r)["message"], r.text
    assert time.perf_counter() - started < 30  # refused from counting, not after embedding


def test_an_upload_whose_client_disconnects_is_cancelled_and_frees_the_writer(hostile):
    big = "\n\n".join(f"第{i}段：取消云在第{i}个季度扩建了智算中心，新增了{i * 7}台服务器。这一段只用于测试取消。"
                      for i in range(150))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(hostile.url + "/v1/documents", headers=WRITE, timeout=3,
                   json={"title": "取消", "text": big, "doc_id": "cancelled-doc"})
    started = time.perf_counter()
    r = httpx.post(hostile.url + "/v1/documents", headers=WRITE, timeout=300,
                   json={"title": "小", "text": "小文档。", "doc_id": "small-after-cancel"})
    waited = time.perf_counter() - started
    assert r.status_code == 201
    # ~450 texts at a few per second would hold the writer for minutes; cancelled, it lets go at once.
    assert waited < 60, f"the next write waited {waited:.0f} s"
    assert "cancelled-doc" not in hostile.docs()
    assert not (hostile.index_dir / "uploads" / "cancelled-doc.json").exists()
    assert httpx.delete(hostile.url + "/v1/documents/small-after-cancel", headers=WRITE).status_code == 200


# 5. Nothing is spent before authentication; connections are bounded in time and size ----------

def raw_exchange(served: Served, request: bytes, *, wait: float = 10) -> bytes:
    """Send raw bytes; what comes back until the first complete response or the connection closes."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=wait) as sock:
        sock.sendall(request)
        reply = b""
        try:
            while data := sock.recv(65536):
                reply += data
                head, sep, body = reply.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if sep and length is not None and len(body) >= length:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return reply


def test_an_upload_without_a_key_is_answered_before_its_body_is_read(hostile):
    head = (b"POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 20000000\r\n\r\n")
    started = time.perf_counter()
    reply = raw_exchange(hostile, head, wait=5)  # not one byte of the 20 MB body is sent
    assert reply.startswith(b"HTTP/1.1 401"), reply[:200]
    assert time.perf_counter() - started < 4


def test_wrong_keys_are_rate_limited(hostile):
    codes = [httpx.post(hostile.url + "/v1/documents", json={"title": "t", "text": "x"},
                        headers={"Authorization": "Bearer wrong"}).status_code for _ in range(30)]
    assert codes[0] == 403 and codes.count(429) >= 5, codes
    assert httpx.get(hostile.url + "/v1/documents", headers=READ).status_code == 200  # good keys still work


def test_slow_headers_and_stalled_bodies_time_out(hostile):
    started = time.perf_counter()
    reply = raw_exchange(hostile, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
    assert reply.startswith(b"HTTP/1.1 408") and 1.5 < time.perf_counter() - started < 8
    body_head = (b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + READER.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"question\":")
    reply = raw_exchange(hostile, body_head)
    assert reply.startswith(b"HTTP/1.1 408") and b"request_timeout" in reply


def test_header_count_and_size_are_limited(hostile):
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(500))
    reply = raw_exchange(hostile, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 431"), reply[:100]
    big = b"X-Big: " + b"a" * 2_000_000 + b"\r\n"
    reply = raw_exchange(hostile, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 431"), reply[:100]
    assert httpx.get(hostile.url + "/healthz").status_code == 200


# 6. Follow-ups and chat messages cannot get around the question cap ----------------------------

def test_history_and_chat_messages_are_bounded(hostile):
    long_turn = "阿里云" * 7000
    r = httpx.post(hostile.url + "/v1/ask", headers=READ, timeout=60,
                   json={"question": "那百度呢？", "history": [{"role": "user", "content": long_turn}]})
    assert r.status_code == 422 and error(r)["param"].startswith("history")
    turn = "阿里云走的是哪种路线？" + "请详细说明。" * 600  # within the per-turn cap, longer than a question
    r = httpx.post(hostile.url + "/v1/ask", headers=READ, timeout=60,
                   json={"question": "那百度呢？", "history": [{"role": "user", "content": turn}]})
    assert r.status_code == 200 and len(r.json()["resolved_question"] or "") <= 2000
    r = httpx.post(hostile.url + "/v1/chat/completions", headers=READ, timeout=60,
                   json={"messages": [{"role": "user", "content": "云" * 294_000}, {"role": "user", "content": "百度呢？"}]})
    assert r.status_code == 422


# 7. Text arrives as written, or is refused with the reason --------------------------------------

def test_encodings_nul_bytes_and_file_names(hostile):
    r = upload(hostile, "dessert.txt", "Crème brûlée is a custard dessert.".encode("cp1252"))
    assert r.status_code == 201, r.text
    text = json.loads((hostile.index_dir / "uploads" / "dessert.json").read_text(encoding="utf-8"))["text"]
    assert text == "Crème brûlée is a custard dessert."
    r = upload(hostile, "utf16.txt", "UTF-16 的文档也能读。".encode("utf-16"))
    assert r.status_code == 201, r.text
    assert "UTF-16 的文档也能读" in json.loads((hostile.index_dir / "uploads" / "utf16.json").read_text(encoding="utf-8"))["text"]
    # A raw NUL in the multipart header (httpx would percent-encode it).
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="evil.txt\x00.html"\r\n'
            b"Content-Type: text/html\r\n\r\n<p>hi</p>\r\n--b--\r\n")
    r = httpx.post(hostile.url + "/v1/documents", content=body,
                   headers={**WRITE, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 400 and error(r)["code"] == "invalid_filename", r.text
    r = upload(hostile, "late-nul.txt", "正文。".encode() * 4000 + b"\x00\x00" + "尾巴。".encode())
    assert r.status_code == 415 and "NUL" in error(r)["message"]
    for doc_id in ("dessert", "utf16"):
        assert httpx.delete(hostile.url + f"/v1/documents/{doc_id}", headers=WRITE).status_code == 200


# 8. No leaks, no markup passed on ---------------------------------------------------------------

def test_readyz_before_an_index_exists_shows_no_server_paths(tmp_path):
    served_env = {**os.environ, "CITEQA_INDEX_DIR": str(tmp_path / "no-index"), "CITEQA_LOG_LEVEL": "warning"}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=served_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if r.status_code == 503 and "loading" not in r.text:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert r.status_code == 503
        assert str(tmp_path) not in r.text and "/tmp" not in r.text and "no-index" in r.text
    finally:
        proc.kill()
        proc.wait()


def test_demo_page_ignores_the_host_header(hostile):
    page = httpx.get(hostile.url + "/", headers={"Host": "evil.example"}).text
    assert "evil.example" not in page and 'src="/widget.js"' in page


def test_chat_completions_make_document_markup_inert(hostile):
    text = "天穹云的旗舰模型叫做天穹一号，详情见[click me](javascript:alert(1))。天穹云的标志是![logo](https://tracker.example/p.png)。"
    r = httpx.post(hostile.url + "/v1/documents", headers=WRITE, timeout=120,
                   json={"title": "天穹云", "text": text, "doc_id": "tianqiong"})
    assert r.status_code == 201
    try:
        reply = httpx.post(hostile.url + "/v1/chat/completions", headers=READ, timeout=60,
                           json={"messages": [{"role": "user", "content": "天穹云的旗舰模型叫什么？详情见哪里？"}]}).json()
        content = reply["choices"][0]["message"]["content"]
        assert "天穹一号" in content
        assert "](javascript" not in content and "](https" not in content and "![" not in content
        assert any("[click me](javascript:alert(1))" in c["text"] for c in reply["citations"])  # citations stay exact
    finally:
        httpx.delete(hostile.url + "/v1/documents/tianqiong", headers=WRITE)


# 9. Small inconsistencies ----------------------------------------------------------------------

def test_small_inconsistencies(hostile):
    r = upload(hostile, "release..notes.txt", "发布说明。".encode())
    assert r.status_code == 201 and r.json()["document"]["doc_id"] == "release-notes"
    no_core = rezip(docx_bytes(["没有核心属性的文档。"]), {"docProps/core.xml": None, "_rels/.rels": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')})
    r = upload(hostile, "Quarterly Plan.docx", no_core)
    assert r.status_code == 201, r.text
    assert r.json()["document"]["title"] == "Quarterly Plan"  # its file name, not "Word Document"
    r = httpx.post(hostile.url + "/v1/chat/completions", headers=READ,
                   json={"messages": [{"role": "user", "content": "hi"}], "stream": "yes"})
    assert r.status_code == 422 and error(r)["param"] == "stream"
    assert httpx.head(hostile.url + "/healthz").status_code == 200
    for doc_id in ("release-notes", "quarterly-plan"):
        assert httpx.delete(hostile.url + f"/v1/documents/{doc_id}", headers=WRITE).status_code == 200
