"""Document writes through a real server: auth, limits, incremental publish, persistence."""

import io
import shutil

import httpx
import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.slow
ADMIN = "s3cret-admin-key"


def own_server(base, embedder, corpus_settings, **overrides):
    """A server (not started) on its own copy of the corpus index under ``base``, with an admin key."""
    from service.api.app import create_app
    from service.config import Settings

    index_dir = base / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    settings = Settings(index_dir=index_dir, corpus_dir=corpus_settings.corpus_dir, admin_key=ADMIN,
                        rate_limit_writes=0, **overrides)
    return settings, RunningServer(create_app(settings, embedder=embedder))


@pytest.fixture(scope="module")
def writable(tmp_path_factory, embedder, corpus_settings):
    """A server with its own copy of the corpus index, an admin key and small limits."""
    settings, running = own_server(tmp_path_factory.mktemp("writable"), embedder, corpus_settings,
                                   max_upload_bytes=200_000, max_chunks_per_document=40)
    with running as server:
        server.settings = settings
        yield server


def auth(key=ADMIN):
    return {"Authorization": f"Bearer {key}"}


def post_doc(server, headers=None, **kwargs):
    return httpx.post(server.url + "/v1/documents", headers=headers, timeout=120, **kwargs)


def error_code(response):
    return response.json()["error"]["code"]


def test_writes_need_the_admin_key(writable):
    body = {"title": "t", "text": "正文。"}
    assert post_doc(writable, json=body).status_code == 401
    r = post_doc(writable, json=body, headers=auth("wrong"))
    assert r.status_code == 403 and error_code(r) == "forbidden"
    assert httpx.delete(writable.url + "/v1/documents/x", headers=auth("wrong")).status_code == 403


def test_writes_refused_without_a_configured_key(server):
    r = post_doc(server, json={"title": "t", "text": "正文。"})
    assert r.status_code == 403 and error_code(r) == "writes_disabled" and "CITEQA_ADMIN_KEY" in r.json()["error"]["message"]


def test_add_ask_replace_and_delete(writable):
    text = "字节跳动的火山引擎在2024年5月发布了豆包大模型家族。豆包大模型的推理价格低于行业水平。"
    r = post_doc(writable, json={"title": "火山引擎笔记", "text": text, "doc_id": "volcano-notes"}, headers=auth())
    assert r.status_code == 201 and r.json()["status"] == "added"
    version = r.json()["index_version"]
    # Serves at once: the write returned after the new version was published.
    answer = httpx.post(writable.url + "/v1/ask", json={"question": "火山引擎发布了什么大模型？"}, timeout=60).json()
    assert answer["answerable"] and "豆包" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "volcano-notes"
    docs = {d["doc_id"]: d for d in httpx.get(writable.url + "/v1/documents").json()["documents"]}
    assert docs["volcano-notes"]["metadata"]["origin"] == "api" and "caijing-2024-cloud-genai" in docs

    same = post_doc(writable, json={"title": "火山引擎笔记", "text": text, "doc_id": "volcano-notes"}, headers=auth())
    assert same.status_code == 200 and same.json()["status"] == "unchanged" and same.json()["index_version"] == version
    changed = post_doc(writable, json={"title": "火山引擎笔记", "text": text + "火山引擎是字节跳动的云服务。", "doc_id": "volcano-notes"}, headers=auth())
    assert changed.json()["status"] == "updated" and changed.json()["index_version"] != version

    gone = httpx.delete(writable.url + "/v1/documents/volcano-notes", headers=auth())
    assert gone.status_code == 200
    answer = httpx.post(writable.url + "/v1/ask", json={"question": "火山引擎发布了什么大模型？"}, timeout=60).json()
    assert all(c["doc_id"] != "volcano-notes" for c in answer["citations"])
    assert httpx.delete(writable.url + "/v1/documents/volcano-notes", headers=auth()).status_code == 404
    assert not (writable.settings.index_dir / "uploads" / "volcano-notes.json").exists()


def test_uploads_of_each_format(writable, tmp_path):
    import docx

    path = tmp_path / "tencent.docx"
    document = docx.Document()
    document.add_paragraph("腾讯云的混元大模型支持腾讯会议的AI小助手。")
    document.save(str(path))
    r = post_doc(writable, headers=auth(), files={"file": ("tencent.docx", path.read_bytes())}, data={"title": "腾讯笔记"})
    assert r.status_code == 201, r.text
    assert r.json()["document"]["doc_id"] == "tencent" and r.json()["document"]["title"] == "腾讯笔记"
    html = "<html><head><title>Cloud page</title></head><body><p>Huawei Cloud sells Ascend capacity.</p></body></html>"
    r = post_doc(writable, headers=auth(), files={"file": ("page.html", html.encode())})
    assert r.status_code == 201 and r.json()["document"]["title"] == "Cloud page"
    for doc_id in ("tencent", "page"):
        assert httpx.delete(writable.url + f"/v1/documents/{doc_id}", headers=auth()).status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("../../etc/passwd", b"root:x:0:0", 400, "invalid_filename"),
        ("..\\evil.txt", b"x", 400, "invalid_filename"),
        ("image.png", b"\x89PNG....", 415, "unsupported_media_type"),
        ("fake.pdf", b"just text pretending", 415, "unsupported_media_type"),
        ("fake.docx", b"just text", 415, "unsupported_media_type"),
        ("binary.txt", b"ab\x00\x01cd", 415, "unsupported_media_type"),
        ("empty.txt", b"", 422, "unreadable_document"),
        ("blank.md", b"   \n\n  ", 422, "unreadable_document"),
    ],
)
def test_bad_uploads(writable, name, content, status, code):
    r = post_doc(writable, headers=auth(), files={"file": (name, content)})
    assert r.status_code == status and error_code(r) == code, r.text


def test_scanned_pdf_says_it_has_no_text(writable):
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    c.rect(100, 100, 200, 200, fill=1)
    c.save()
    r = post_doc(writable, headers=auth(), files={"file": ("scan.pdf", buffer.getvalue())})
    assert r.status_code == 422 and "no text layer" in r.json()["error"]["message"]


def test_size_and_chunk_limits(writable):
    r = post_doc(writable, headers=auth(), files={"file": ("big.txt", b"a" * 300_000)})
    assert r.status_code == 413 and error_code(r) == "payload_too_large"
    many = "".join(f"第{i}句话讲云计算的一个事实。" for i in range(1500))  # ~24k chars, > 40 passages
    r = post_doc(writable, headers=auth(), json={"title": "long", "text": many})
    assert r.status_code == 413 and error_code(r) == "document_too_large"
    r = post_doc(writable, headers=auth(), json={"title": "", "text": "x"})
    assert r.status_code == 422 and r.json()["error"]["param"] == "title"
    r = post_doc(writable, headers=auth(), json={"title": "t", "text": "x", "doc_id": "../x"})
    assert r.status_code == 422 and r.json()["error"]["param"] == "doc_id"
    r = post_doc(writable, headers={**auth(), "content-type": "text/plain"}, content=b"x")
    assert r.status_code == 415


def test_read_keys_and_rate_limits(tmp_path, embedder, corpus_settings):
    from service.api.app import create_app
    from service.config import Settings

    settings = Settings(index_dir=corpus_settings.index_dir, corpus_dir=corpus_settings.corpus_dir,
                        api_keys=["reader-key"], rate_limit_reads=3)
    with RunningServer(create_app(settings, embedder=embedder)) as server:
        body = {"query": "华为"}
        assert httpx.post(server.url + "/v1/search", json=body).status_code == 401
        assert httpx.post(server.url + "/v1/search", json=body, headers=auth("nope")).status_code == 403
        codes = [httpx.post(server.url + "/v1/search", json=body, headers=auth("reader-key")).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        limited = httpx.post(server.url + "/v1/search", json=body, headers=auth("reader-key"))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert httpx.get(server.url + "/healthz").status_code == 200  # operations stay open


def test_a_write_keeps_what_another_writer_published_after_the_server_loaded(tmp_path, embedder, corpus_settings):
    # The server writes on top of the version it holds only while that version is the live one.
    from ingest.loaders import document_from_text
    from service.indexing import add_document

    # index_poll_seconds=0: the server never looks for other writers' versions by itself.
    settings, running = own_server(tmp_path, embedder, corpus_settings, index_poll_seconds=0)
    with running as server:
        other = document_from_text("腾讯云在2024年推出了混元大模型的新版本。", title="腾讯笔记", source="cli", doc_id="cli-note")
        add_document(settings, embedder, other)  # `citeqa documents add` meanwhile; this server has not seen it
        r = post_doc(server, json={"title": "火山引擎笔记", "text": "火山引擎发布了豆包大模型。", "doc_id": "api-note"},
                     headers=auth())
        assert r.status_code == 201, r.text
        listed = {d["doc_id"] for d in httpx.get(server.url + "/v1/documents").json()["documents"]}
        assert {"cli-note", "api-note", "caijing-2024-cloud-genai"} <= listed


def test_a_write_on_an_index_built_with_other_passage_settings_is_refused(tmp_path, embedder, corpus_settings):
    # Rebuilding from the one uploaded document would publish an index without the other eleven.
    settings, running = own_server(tmp_path, embedder, corpus_settings, index_poll_seconds=0, chunk_size=300)
    with running as server:
        before = httpx.get(server.url + "/v1/documents").json()["documents"]
        r = post_doc(server, json={"title": "t", "text": "火山引擎发布了豆包大模型。"}, headers=auth())
        assert r.status_code == 409 and error_code(r) == "index_settings_changed"
        assert "citeqa ingest --rebuild" in r.json()["error"]["message"]
        assert httpx.get(server.url + "/v1/documents").json()["documents"] == before
    from index.store import load_index

    assert len(load_index(settings.index_dir).documents) == len(before) == 11
