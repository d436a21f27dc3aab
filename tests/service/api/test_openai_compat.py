"""The official OpenAI SDK against a real citeqa server."""

import httpx
import openai
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)


def test_models(client):
    assert [m.id for m in client.models.list()] == ["citeqa"]


def test_completion_with_citations(client):
    r = client.chat.completions.create(model="citeqa", messages=[{"role": "user", "content": "微软Azure走的是哪种路线？"}])
    content = r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.role == "assistant"
    assert "垂直整合" in content and "[1]" in content and "Sources:\n[1] 生成式AI战略拼图对比中美云厂商" in content
    citations = r.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["text"]
    assert r.usage.total_tokens > 0


def test_streaming_matches_the_plain_completion(client):
    messages = [{"role": "user", "content": "How many Trainium 2 chips can AWS train on in parallel?"}]
    plain = client.chat.completions.create(model="citeqa", messages=messages).choices[0].message.content
    chunks = list(client.chat.completions.create(model="citeqa", messages=messages, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == plain
    assert chunks[0].model_extra["citations"]


def test_two_turn_conversation(client):
    first = client.chat.completions.create(model="citeqa", messages=[{"role": "user", "content": "阿里云走的是哪种路线？"}])
    second = client.chat.completions.create(model="citeqa", messages=[
        {"role": "system", "content": "Answer from the documents."},
        {"role": "user", "content": "阿里云走的是哪种路线？"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "那百度呢？"}]},
    ])
    assert "生态开放" in first.choices[0].message.content
    assert "垂直整合" in second.choices[0].message.content and "百度" in second.choices[0].message.content


def test_invalid_requests_get_openai_shaped_errors(client):
    with pytest.raises(openai.UnprocessableEntityError) as empty:
        client.chat.completions.create(model="citeqa", messages=[])
    error = empty.value.body
    assert error["type"] == "invalid_request_error" and error["param"] == "messages" and error["message"]
    with pytest.raises(openai.UnprocessableEntityError) as last:
        client.chat.completions.create(model="citeqa", messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    assert "last" in last.value.body["message"]


def test_stream_ends_with_done_sentinel(server):
    body = {"model": "citeqa", "stream": True, "messages": [{"role": "user", "content": "谷歌云的策略是什么？"}]}
    with httpx.stream("POST", server.url + "/v1/chat/completions", json=body, timeout=60) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data:")]
    assert lines[-1] == "data: [DONE]"
    assert all('"object":"chat.completion.chunk"' in line.replace(" ", "") for line in lines[:-1])


def test_cors_allows_the_configured_origin_only(server, host_pages):
    allowed = httpx.options(server.url + "/v1/ask", headers={
        "Origin": host_pages.origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == host_pages.origin
    refused = httpx.options(server.url + "/v1/ask", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    simple = httpx.post(server.url + "/v1/search", json={"query": "x"}, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in simple.headers
