"""The HTTP API through a real uvicorn server on a free port."""

import json
import re

import httpx
import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


def post(server, path, body=None, **kwargs):
    return httpx.post(server.url + path, json=body, timeout=60, **kwargs)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]["message"]


def test_health_and_readiness(server, corpus_index):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz").json()
    assert ready["status"] == "ready"
    assert ready["documents"] == len(corpus_index.documents) and ready["chunks"] == len(corpus_index.chunks)


def test_ask_returns_a_cited_answer(server, corpus_index):
    r = post(server, "/v1/ask", {"question": "微软Azure走的是哪种路线？", "top_k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["answerable"] is True and "垂直整合" in body["answer"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    assert markers == {c["n"] for c in body["citations"]}
    for c in body["citations"]:
        assert corpus_index.documents[c["doc_id"]].text[c["start"] : c["end"]] == c["text"]
        assert {"doc_id", "title", "source", "chunk_id", "text", "start", "end", "score", "n"} <= set(c)
    assert set(body["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_english_question_and_history(server):
    r = post(server, "/v1/ask", {"question": "Which vendor bets on both open-source and closed models?"})
    assert r.status_code == 200 and r.json()["answerable"] and r.json()["citations"]
    history = [{"role": "user", "content": "Which route does Alibaba Cloud follow for generative AI?"},
               {"role": "assistant", "content": "阿里云类似于亚马逊云科技的生态开放路线 [1]。"}]
    r = post(server, "/v1/ask", {"question": "What about Baidu?", "history": history})
    assert r.status_code == 200 and re.search("垂直整合|vertical", r.json()["answer"])


def test_nonsense_is_refused(server):
    body = post(server, "/v1/ask", {"question": "红烧肉怎么做才好吃？"}).json()
    assert body["answerable"] is False
    assert "[" not in body["answer"]


def test_search_and_documents(server):
    results = post(server, "/v1/search", {"query": "华为 升腾 芯片", "top_k": 3}).json()["results"]
    assert len(results) == 3 and "升腾" in results[0]["text"]
    assert "n" not in results[0]
    docs = httpx.get(server.url + "/v1/documents").json()["documents"]
    article = next(d for d in docs if d["doc_id"] == "caijing-2024-cloud-genai")
    assert article["chunks"] > 10 and len(article["sha256"]) == 64 and article["ingested_at"]


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        ({"question": ""}, 422, "invalid_request", "question"),
        ({"question": "   "}, 422, "invalid_request", "empty"),
        ({"question": "问" * 10_000}, 422, "invalid_request", "2000"),
        ({"question": 5}, 422, "invalid_request", "question"),
        ({"question": ["a"]}, 422, "invalid_request", "question"),
        ({}, 422, "invalid_request", "question"),
        ({"question": "x", "top_k": 0}, 422, "invalid_request", "top_k"),
        ({"question": "x", "top_k": 500}, 422, "invalid_request", "top_k"),
        ({"question": "x", "top_k": "5"}, 422, "invalid_request", "top_k"),
        ({"question": "x", "history": "no"}, 422, "invalid_request", "history"),
        ({"question": "x", "history": [{"role": "robot", "content": "hi"}]}, 422, "invalid_request", "role"),
        ({"question": "x", "history": [{"role": "user", "content": "hi"}] * 21}, 422, "invalid_request", "history"),
        ([1, 2], 422, "invalid_request", None),
    ],
)
def test_bad_ask_input(server, body, status, code, fragment):
    message = assert_error(post(server, "/v1/ask", body), status, code)
    if fragment:
        assert fragment in message


def test_bad_search_input(server):
    assert_error(post(server, "/v1/search", {"query": ""}), 422, "invalid_request")
    assert_error(post(server, "/v1/search", {"query": "x", "top_k": 0}), 422, "invalid_request")


def test_invalid_json_wrong_content_type_and_oversized_body(server):
    assert_error(httpx.post(server.url + "/v1/ask", content=b"{bad json", headers={"content-type": "application/json"}), 400, "invalid_json")
    assert_error(httpx.post(server.url + "/v1/ask", content=b"question=x", headers={"content-type": "application/x-www-form-urlencoded"}), 415, "unsupported_media_type")
    assert_error(httpx.post(server.url + "/v1/ask", content=json.dumps({"question": "x"}).encode()), 415, "unsupported_media_type")
    big = json.dumps({"question": "x" * 1_100_000}).encode()
    assert_error(httpx.post(server.url + "/v1/ask", content=big, headers={"content-type": "application/json"}), 413, "payload_too_large")

    def chunked():  # no Content-Length: the limit still holds
        for _ in range(20):
            yield b"x" * 100_000

    assert_error(httpx.post(server.url + "/v1/ask", content=chunked(), headers={"content-type": "application/json"}), 413, "payload_too_large")


def test_unknown_route_and_method(server):
    assert_error(httpx.get(server.url + "/v1/nothing"), 404, "not_found")
    assert_error(httpx.get(server.url + "/v1/ask"), 405, "method_not_allowed")


def test_not_ready_without_an_index(tmp_path, embedder):
    from service.api.app import create_app
    from service.config import Settings

    server = RunningServer(create_app(Settings(index_dir=tmp_path / "none"), embedder=embedder))
    server.thread.start()
    try:
        r = server.wait_until(lambda r: "citeqa ingest" in r.text, timeout=30)
        assert_error(r, 503, "not_ready")
        assert httpx.get(server.url + "/healthz").status_code == 200
        assert "citeqa ingest" in assert_error(post(server, "/v1/ask", {"question": "x"}), 503, "not_ready")
    finally:
        server.__exit__()


def test_generative_mode_without_an_llm_says_so_and_quotes(server):
    plain = httpx.post(server.url + "/v1/ask", json={"question": "微软Azure走的是哪种路线？"}, timeout=60).json()
    assert plain["mode"] == "extractive" and plain["fallback"] is None and plain["unsupported"] == []
    asked = httpx.post(server.url + "/v1/ask", json={"question": "微软Azure走的是哪种路线？", "mode": "generative"},
                       timeout=60).json()
    assert asked["mode"] == "extractive" and asked["fallback"] == "llm_not_configured"
    assert asked["answer"] == plain["answer"]
    bad = httpx.post(server.url + "/v1/ask", json={"question": "x", "mode": "poetry"}, timeout=60)
    assert bad.status_code == 422 and "mode" in bad.json()["error"]["message"]
