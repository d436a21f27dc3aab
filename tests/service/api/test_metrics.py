"""GET /metrics and the JSON log through a real `citeqa serve` with two workers, after real traffic.

Two workers make the test mean something: each request lands on either process, so the
counts only add up when the workers' metrics are merged (prometheus-client's multiprocess
mode), and the index gauges show each replica's version separately.
"""

import json
import shutil
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import serve_process

pytestmark = pytest.mark.slow
READ_KEY = "metrics-read-key-7f3a"
ADMIN_KEY = "metrics-admin-key-91c2"
READ = {"Authorization": f"Bearer {READ_KEY}"}
ANSWERED = ["微软Azure走的是哪种路线？", "Which route does Alibaba Cloud follow for generative AI?", "阿里云走的是哪种路线？"]
REFUSED = "红烧肉怎么做才好吃？"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, corpus_settings):
    index_dir = tmp_path_factory.mktemp("replicas") / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    log_path = tmp_path_factory.mktemp("replica-logs") / "serve.log"
    env = {"CITEQA_WORKERS": "2", "CITEQA_LOG_FORMAT": "json", "CITEQA_LOG_LEVEL": "info",
           "CITEQA_API_KEYS": READ_KEY, "CITEQA_ADMIN_KEY": ADMIN_KEY, "CITEQA_INDEX_POLL_SECONDS": "0.5",
           "CITEQA_RATE_LIMIT_READS": "0"}
    with log_path.open("wb") as log:
        proc, url = serve_process(index_dir, env, log=log)
        try:
            # /readyz answered by one worker; wait until both say they serve.
            wait_for(lambda: _values(scrape(url), "citeqa_ready") == [1.0, 1.0], "both workers ready")
            yield url, log_path
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def scrape(url: str) -> dict[str, list]:
    r = httpx.get(url + "/metrics", headers=READ, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    return sum(s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items()))


def _values(samples: dict[str, list], name: str) -> list[float]:
    return sorted(s.value for s in samples.get(name, []))


def wait_for(condition, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except httpx.HTTPError:
            result = False
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_metrics_need_the_read_key(replicas):
    url, _ = replicas
    assert httpx.get(url + "/metrics").status_code == 401
    r = httpx.get(url + "/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert httpx.get(url + "/metrics", headers=READ).status_code == 200


def test_counts_latencies_stages_and_refusals_add_up_across_workers(replicas):
    url, _ = replicas
    before = scrape(url)
    with httpx.Client(headers=READ, timeout=60) as client:
        for question in ANSWERED[:2]:
            assert client.post(url + "/v1/ask", json={"question": question}).json()["answerable"] is True
        streamed = client.post(url + "/v1/ask", json={"question": ANSWERED[2], "stream": True})
        assert "event: done" in streamed.text
        assert client.post(url + "/v1/ask", json={"question": REFUSED}).json()["answerable"] is False
        assert client.post(url + "/v1/search", json={"query": "阿里云"}).status_code == 200
        assert client.post(url + "/v1/ask", json={"question": ""}).status_code == 422
        assert client.get(url + "/no/such/page").status_code == 404
    assert httpx.post(url + "/v1/ask", json={"question": "x"}).status_code == 401  # refused by the key guard

    # Whichever worker answers the scrape, it reports what both served.
    for _ in range(4):
        after = scrape(url)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert delta("citeqa_http_requests_total", route="/v1/ask", status="200") == 4
        assert delta("citeqa_http_requests_total", route="/v1/ask", status="422") == 1
        assert delta("citeqa_http_requests_total", route="/v1/ask", status="401") == 1
        assert delta("citeqa_http_requests_total", route="/v1/search", status="200") == 1
        assert delta("citeqa_http_requests_total", route="unmatched", status="404") == 1
        assert delta("citeqa_http_request_duration_seconds_count", route="/v1/ask", status="200") == 4
        # The streamed answer is timed to its last byte: the sum grows by more than nothing.
        assert delta("citeqa_http_request_duration_seconds_sum", route="/v1/ask", status="200") > 0
        for stage in ("embed", "retrieve", "answer"):
            assert delta("citeqa_stage_duration_seconds_count", stage=stage, endpoint="/v1/ask") == 4
        assert delta("citeqa_stage_duration_seconds_count", stage="embed", endpoint="/v1/search") == 1
        assert delta("citeqa_stage_duration_seconds_count", stage="llm") == 0  # no LLM configured
        assert delta("citeqa_answers_total", mode="extractive") == 4
        assert delta("citeqa_refusals_total") == 1
        # Buckets are cumulative and end in the count.
        buckets = [s for s in after["citeqa_http_request_duration_seconds_bucket"]
                   if s.labels["route"] == "/v1/ask" and s.labels["status"] == "200"]
        assert buckets[-1].labels["le"] == "+Inf"
        assert buckets[-1].value == value(after, "citeqa_http_request_duration_seconds_count", route="/v1/ask",
                                          status="200")
        assert [b.value for b in buckets] == sorted(b.value for b in buckets)


def test_uploads_and_each_replicas_index_version(replicas):
    url, _ = replicas
    before = scrape(url)
    pids = {s.labels["pid"] for s in before["citeqa_index_version"]}
    assert len(pids) == 2  # one gauge per worker
    old_version = max(_values(before, "citeqa_index_version"))
    documents = max(_values(before, "citeqa_index_documents"))
    text = "火山引擎在2024年5月发布了豆包大模型家族。豆包大模型的推理价格低于行业水平。" * 3
    body = json.dumps({"title": "火山引擎笔记", "text": text, "doc_id": "volcano-metrics"}, ensure_ascii=False).encode()
    r = httpx.post(url + "/v1/documents", content=body, timeout=120,
                   headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"})
    assert r.status_code == 201

    # The other worker picks the new version up on its next poll; until then it lags, visibly.
    after = wait_for(lambda: (s := scrape(url)) and _values(s, "citeqa_index_version") == [old_version + 1] * 2 and s,
                     "both replicas on the new version")
    assert _values(after, "citeqa_index_is_current") == [1.0, 1.0]
    assert _values(after, "citeqa_index_documents") == [documents + 1] * 2
    assert all(0 <= age < 120 for age in _values(after, "citeqa_index_version_age_seconds"))
    assert value(after, "citeqa_upload_bytes_count") - value(before, "citeqa_upload_bytes_count") == 1
    assert value(after, "citeqa_upload_bytes_sum") - value(before, "citeqa_upload_bytes_sum") == len(body)
    assert value(after, "citeqa_upload_passages_sum") - value(before, "citeqa_upload_passages_sum") >= 1
    assert value(after, "citeqa_upload_embedding_seconds_sum") - value(before, "citeqa_upload_embedding_seconds_sum") > 0


def test_json_log_lines_carry_the_request_id_and_outcome_never_text_or_keys(replicas):
    url, log_path = replicas
    ids = {}
    with httpx.Client(headers=READ, timeout=60) as client:
        for question, rid in ((ANSWERED[0], "answered-1"), (REFUSED, "refused-1")):
            r = client.post(url + "/v1/ask", json={"question": question}, headers={"X-Request-ID": rid})
            assert r.headers["x-request-id"] == rid
            ids[rid] = r.json()["answerable"]
        generated = client.post(url + "/v1/search", json={"query": "腾讯云"}).headers["x-request-id"]

    def access_lines() -> dict[str, dict]:
        lines = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return {e["request_id"]: e for e in lines if e["logger"] == "citeqa.access"}

    entries = wait_for(lambda: (e := access_lines()) and all(k in e for k in [*ids, generated]) and e, "log lines")
    for rid, answerable in ids.items():
        entry = entries[rid]
        assert entry["route"] == "/v1/ask" and entry["status"] == 200 and entry["method"] == "POST"
        assert entry["answerable"] is answerable and entry["mode"] == "extractive" and entry["ms"] > 0
        assert set(entry) >= {"time", "level", "request_id", "message"}
    assert entries[generated]["route"] == "/v1/search" and "answerable" not in entries[generated]
    # Every line is JSON (the parse above would have failed), and nothing private is in any of them.
    log = log_path.read_text(encoding="utf-8")
    # Each worker says where to go once it serves (what `make run` ends with).
    ready = [json.loads(line)["message"] for line in log.splitlines() if '"ready: ' in line]
    assert len(ready) == 2 and all(f"demo page {url}/ · API {url}/v1/ask" in m for m in ready)
    for secret in (READ_KEY, ADMIN_KEY, ANSWERED[0], REFUSED, "腾讯云", "豆包大模型"):
        assert secret not in log
