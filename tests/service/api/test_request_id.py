"""X-Request-ID on every response of a real server: the client's own when it is a plain token, else a new one."""

import re

import httpx
import pytest

pytestmark = pytest.mark.slow
NEW_ID = re.compile(r"[0-9a-f]{32}")


def call(server, method, path, rid=None, **kwargs):
    headers = kwargs.pop("headers", {}) | ({"X-Request-ID": rid} if rid else {})
    return httpx.request(method, server.url + path, headers=headers, timeout=60, **kwargs)


@pytest.mark.parametrize("method,path,kwargs,status", [
    ("POST", "/v1/ask", {"json": {"question": "微软Azure走的是哪种路线？"}}, 200),
    ("POST", "/v1/ask", {"json": {"question": "微软Azure走的是哪种路线？", "stream": True}}, 200),
    ("POST", "/v1/search", {"json": {"query": "阿里云"}}, 200),
    ("POST", "/v1/ask", {"json": {"question": ""}}, 422),
    ("POST", "/v1/ask", {"content": b"{", "headers": {"Content-Type": "application/json"}}, 400),
    ("POST", "/v1/ask", {"content": b"x" * 1_100_000, "headers": {"Content-Type": "application/json"}}, 413),
    ("POST", "/v1/documents", {"json": {"title": "t", "text": "x"}}, 403),  # refused by the key guard
    ("GET", "/no/such/page", {}, 404),
    ("GET", "/healthz", {}, 200),
    ("GET", "/metrics", {}, 200),
    ("GET", "/widget.js", {}, 200),
])
def test_the_clients_id_comes_back_on_every_kind_of_response(server, method, path, kwargs, status):
    r = call(server, method, path, "trace-42.a:b_c", **kwargs)
    assert r.status_code == status
    assert r.headers["x-request-id"] == "trace-42.a:b_c"


def test_a_cors_preflight_and_a_cross_origin_reply_carry_it_and_let_scripts_read_it(server, host_pages):
    origin = host_pages.origin
    pre = call(server, "OPTIONS", "/v1/ask", "preflight-1", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-request-id"})
    assert pre.status_code == 200 and pre.headers["x-request-id"] == "preflight-1"
    assert "x-request-id" in pre.headers["access-control-allow-headers"].lower()
    r = call(server, "POST", "/v1/search", "cors-1", json={"query": "腾讯云"}, headers={"Origin": origin})
    assert r.headers["x-request-id"] == "cors-1"
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "-leading-dash", "semi;colon", "quote\"d"])
def test_an_id_that_is_not_a_plain_token_is_replaced(server, bad):
    r = call(server, "GET", "/healthz", bad)
    assert NEW_ID.fullmatch(r.headers["x-request-id"])


def test_without_an_id_each_response_gets_its_own(server):
    ids = {call(server, "GET", "/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(NEW_ID.fullmatch(i) for i in ids)
