"""Server-Sent Events from /v1/ask through a real server."""

import json

import httpx
import pytest

pytestmark = pytest.mark.slow


def read_events(response: httpx.Response, on_event=None) -> list[tuple[str, object]]:
    """The SSE events of a response; ``on_event(kind)`` is called as each arrives."""
    events, kind, data = [], None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            events.append((kind, json.loads("".join(data))))
            if on_event:
                on_event(kind)
            kind, data = None, []
    return events


def stream(server, body, headers=None):
    with httpx.stream("POST", server.url + "/v1/ask", json=body, headers=headers, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        return read_events(r)


def without_timings(reply: dict) -> dict:
    return {k: v for k, v in reply.items() if k != "timings_ms"}


@pytest.mark.parametrize("question", ["微软Azure走的是哪种路线？", "How many Trainium 2 chips can AWS train on in parallel?", "红烧肉怎么做？"])
def test_event_order_and_done_equals_the_plain_reply(server, question):
    events = stream(server, {"question": question, "stream": True})
    kinds = [k for k, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"delta"} and len(kinds) >= 3
    done = events[-1][1]
    assert "".join(d["text"] for k, d in events if k == "delta") == done["answer"]
    assert events[0][1] == done["citations"]
    plain = httpx.post(server.url + "/v1/ask", json={"question": question}, timeout=60).json()
    assert without_timings(done) == without_timings(plain)


def test_accept_header_asks_for_a_stream(server):
    events = stream(server, {"question": "那百度呢？", "history": [{"role": "user", "content": "阿里云走的是哪种路线？"}]},
                    headers={"Accept": "text/event-stream"})
    assert events[-1][0] == "done" and "垂直整合" in events[-1][1]["answer"]


def test_bad_input_is_a_json_error_even_when_streaming(server):
    r = httpx.post(server.url + "/v1/ask", json={"question": "", "stream": True}, headers={"Accept": "text/event-stream"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
