"""Prometheus metrics for GET /metrics: requests, pipeline stages, outcomes, uploads, the index.

Each app owns its registry (tests run several apps in one process; a shared default
registry would mix their counts). With several uvicorn workers, each worker is its own
process: prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by
``citeqa serve --workers N``) keeps every worker's values in shared files, and a scrape
answered by any worker adds them up. Index gauges are per process (``liveall``), because a
replica that has not yet picked up the newest version is exactly what an operator looks for.

Stages are disjoint so they add up to the ask's time: ``embed`` (query vectors), ``retrieve``
(dense + lexical search and fusion, without embed), ``answer`` (sentence selection, binding,
refusal, without the LLM) and ``llm`` (the writer's generation, with each sentence's
verification: they interleave as the stream arrives, so they are timed together).
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from index.store import IndexData
from service.schemas import AskResponse, SearchResponse

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BYTE_BUCKETS = (1e3, 1e4, 1e5, 1e6, 5e6, 2e7, 5e7)
_PASSAGE_BUCKETS = (1, 5, 10, 50, 100, 500, 1000, 5000)
_EMBED_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("citeqa_http_requests", "HTTP requests answered, by route template and status",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("citeqa_http_request_duration_seconds",
                                 "Time from the request's arrival to its last byte (streams included)",
                                 ["method", "route", "status"], buckets=_LATENCY_BUCKETS, registry=r)
        self.stages = Histogram("citeqa_stage_duration_seconds",
                                "Time per pipeline stage: embed, retrieve, answer, llm (disjoint)",
                                ["stage", "endpoint"], buckets=_STAGE_BUCKETS, registry=r)
        self.answers = Counter("citeqa_answers", "Answers given, by the mode that answered", ["mode"], registry=r)
        self.refusals = Counter("citeqa_refusals", "Questions refused because the documents do not answer them",
                                registry=r)
        self.fallbacks = Counter("citeqa_fallbacks", "Generative answers that fell back to quotes, by reason",
                                 ["reason"], registry=r)
        self.unsupported = Counter("citeqa_unsupported_sentences",
                                   "Written sentences the verifier withheld, by the check that failed", ["check"],
                                   registry=r)
        self.upload_bytes = Histogram("citeqa_upload_bytes", "Size of documents added through the API (bytes)",
                                      buckets=_BYTE_BUCKETS, registry=r)
        self.upload_passages = Histogram("citeqa_upload_passages", "Passages embedded per document write",
                                         buckets=_PASSAGE_BUCKETS, registry=r)
        self.upload_embed = Histogram("citeqa_upload_embedding_seconds", "Embedding time per document write",
                                      buckets=_EMBED_BUCKETS, registry=r)
        self.index_version = Gauge("citeqa_index_version", "Number of the index version this process serves",
                                   registry=r, multiprocess_mode="liveall")
        self.index_documents = Gauge("citeqa_index_documents", "Documents in the served index", registry=r,
                                     multiprocess_mode="liveall")
        self.index_passages = Gauge("citeqa_index_passages", "Passages in the served index", registry=r,
                                    multiprocess_mode="liveall")
        self.index_age = Gauge("citeqa_index_version_age_seconds",
                               "Seconds since the served index version was written", registry=r,
                               multiprocess_mode="liveall")
        self.index_current = Gauge("citeqa_index_is_current",
                                   "1 when this process serves the version CURRENT names, 0 while it lags",
                                   registry=r, multiprocess_mode="liveall")
        self.ready = Gauge("citeqa_ready", "1 once the model and the index serve", registry=r,
                           multiprocess_mode="liveall")

    # -- what the routes report -------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def observe_ask(self, reply: AskResponse, endpoint: str) -> None:
        t = reply.timings_ms
        stages = {"embed": t.get("embed"),
                  "retrieve": _minus(t.get("retrieve"), t.get("embed")),
                  "answer": _minus(t.get("answer"), t.get("generate")),
                  "llm": t.get("generate")}
        self._observe_stages(stages, endpoint)
        self.answers.labels(reply.mode).inc()
        if not reply.answerable:
            self.refusals.inc()
        if reply.fallback is not None and reply.fallback != "not_answerable":
            # A refusal in generative mode is counted as a refusal, not as an LLM failure.
            self.fallbacks.labels(reply.fallback).inc()
        for sentence in reply.unsupported:
            self.unsupported.labels(sentence.check or "unknown").inc()

    def observe_search(self, reply: SearchResponse) -> None:
        t = reply.timings_ms
        self._observe_stages({"embed": t.get("embed"), "retrieve": _minus(t.get("total"), t.get("embed"))}, "/v1/search")

    def observe_upload(self, size_bytes: int, passages: int, embed_seconds: float) -> None:
        self.upload_bytes.observe(size_bytes)
        self.upload_passages.observe(passages)
        self.upload_embed.observe(embed_seconds)

    def observe_index(self, index: IndexData | None, current_version: str | None, ready: bool) -> None:
        self.ready.set(1 if ready else 0)
        if index is None:
            return
        manifest = index.manifest
        self.index_version.set(_version_number(manifest.version))
        self.index_documents.set(len(index.documents))
        self.index_passages.set(len(index.chunks))
        self.index_age.set(max(0.0, time.time() - _timestamp(manifest.created_at)))
        self.index_current.set(1 if current_version in (None, manifest.version) else 0)

    def _observe_stages(self, stages: dict[str, float | None], endpoint: str) -> None:
        for stage, ms in stages.items():
            if ms is not None:
                self.stages.labels(stage, endpoint).observe(ms / 1000)

    # -- exposition -----------------------------------------------------------------------------

    def exposition(self) -> bytes:
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        # Every worker's values, summed (counters, histograms) or listed per process (gauges).
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return generate_latest(merged)


def _minus(a: float | None, b: float | None) -> float | None:
    if a is None:
        return None
    return max(0.0, a - (b or 0.0))


def _version_number(version: str) -> int:
    digits = "".join(c for c in version if c.isdigit())
    return int(digits) if digits else 0


def _timestamp(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()

