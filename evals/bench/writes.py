"""Ask latency while documents are written, through one real server.

    python -m evals.bench writes                                  # var/index, 32 askers, 3 write cycles
    python -m evals.bench writes --index-dir var/index --clients 32 --cycles 3 --json writes.json
    python -m evals.bench writes --clients 8 --idle-requests 80 --cycles 1   # a quick look

The prebuilt index (--index-dir) is copied to a temporary folder, so the benchmark never
changes it, and one `citeqa serve` process starts on the copy. Phase 1 (idle): C askers
(threads, each with its own keep-alive connection, cycling through the questions of
--set that have no history) send POST /v1/ask back to back for --idle-requests requests
or, by default, --idle-seconds seconds. Phase 2 (writes): the same askers while a writer
thread uploads a document of --passages passages (varied Chinese text, new every cycle,
so no vector comes from a cache) and deletes it again, --cycles times; only asks that
started while the writer was working count for phase 2. An error is an ask that is not
200, a write that is not 2xx, or an exception. The headline number is
p95(ask during writes) / p95(ask idle). Afterwards the documents the server lists, the
files in <index>/uploads/ and the corpus folder must agree (see `check_agreement`).

The server runs with CITEQA_RATE_LIMIT_READS/WRITES=0 (the per-address limits would turn a
load test into 429s), CITEQA_QUERY_CACHE_SIZE=0 (the askers cycle through a short question
set: cached query vectors would measure the cache, not the model) and
CITEQA_EMBEDDING_CACHE=off (every write must embed its passages, and the benchmark must not
fill the user's shared embedding cache with generated text).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from evals.bench.machine import machine_info, machine_line
from evals.bench.serve import DEFAULT_SET, REPO, OtherCpu, ServerNotReady, auth_headers, running_server
from evals.metrics import percentile
from evals.questions import load_set

DEFAULT_INDEX = Path("var/index")
DEFAULT_CORPUS = Path("corpus")
# Where the point is to make the model work: no rate limits (429s are not latency), no
# query-vector cache (a short question set would be answered from it) and no embedding
# cache (each write embeds its text; generated text must not land in the shared cache).
BENCH_SERVER_ENV = {
    "CITEQA_RATE_LIMIT_READS": "0",
    "CITEQA_RATE_LIMIT_WRITES": "0",
    "CITEQA_QUERY_CACHE_SIZE": "0",
    "CITEQA_EMBEDDING_CACHE": "off",
    "CITEQA_LOG_LEVEL": "warning",
}


# --- shared with evals/bench/crash.py ----------------------------------------------------

def server_env(index_dir: Path, corpus_dir: Path, admin_key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a benchmark server gets on top of os.environ."""
    return BENCH_SERVER_ENV | {"CITEQA_INDEX_DIR": str(index_dir), "CITEQA_CORPUS_DIR": str(corpus_dir),
                               "CITEQA_ADMIN_KEY": admin_key} | (extra or {})


def copy_index(source: Path, target: Path) -> Path:
    """A private copy of a prebuilt index (the benchmark writes to it)."""
    if not (source / "CURRENT").is_file():
        raise FileNotFoundError(f"no index at {source}: build one with CITEQA_INDEX_DIR={source} python -m service.cli ingest")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
    return target


def corpus_doc_ids(corpus_dir: Path) -> set[str]:
    """The ids the service gives the files of the corpus folder (its own loader decides)."""
    from ingest.corpus import load_corpus

    return {d.doc_id for d in load_corpus(corpus_dir)}


def stored_uploads(index_dir: Path) -> tuple[dict[str, dict], list[str]]:
    """``<index>/uploads/*.json`` by their "doc_id" field (dot-files and other names ignored),
    and what could not be read."""
    folder = index_dir / "uploads"
    found: dict[str, dict] = {}
    problems: list[str] = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            doc_id = data["doc_id"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"uploads/{path.name} is unreadable: {type(exc).__name__}: {exc}")
            continue
        if doc_id in found:
            problems.append(f"uploads/{path.name}: doc_id {doc_id!r} is stored twice")
        found[doc_id] = data
    return found, problems


def temp_leftovers(index_dir: Path) -> dict[str, list[str]]:
    """Names in versions/ that are not a published version (v000003), and dot-files in uploads/."""
    versions = index_dir / "versions"
    bad_versions = sorted(p.name for p in versions.iterdir() if not (p.name.startswith("v") and p.name[1:].isdigit())) \
        if versions.is_dir() else []
    uploads = index_dir / "uploads"
    bad_uploads = sorted(p.name for p in uploads.iterdir() if p.name.startswith(".")) if uploads.is_dir() else []
    return {"versions": bad_versions, "uploads": bad_uploads}


@dataclass
class Agreement:
    """The server's listing, its /readyz counts, the upload store and the corpus folder agree.

    ok: set(listed ids) == corpus ids | ids in uploads/*.json, readyz documents == listed,
    readyz chunks == sum of listed chunks, and no upload file is unreadable. ``content_problems``
    (an indexed API document whose fingerprint is not that of its stored upload, an origin
    that is not "corpus"/"api" as expected) are reported beside it.
    """

    ok: bool
    listed: int = 0
    expected: int = 0
    readyz_documents: int | None = None
    readyz_chunks: int | None = None
    listed_chunks: int = 0
    index_version: str | None = None
    in_index_not_in_store: list[str] = field(default_factory=list)  # listed, but neither corpus nor upload
    in_store_not_in_index: list[str] = field(default_factory=list)  # corpus or upload, but not listed
    problems: list[str] = field(default_factory=list)
    content_problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok and not self.content_problems:
            return f"ok ({self.listed} documents, {self.listed_chunks} passages, {self.index_version})"
        parts = self.problems + self.content_problems
        return "DISAGREE: " + "; ".join(parts)


def check_agreement(url: str, index_dir: Path, corpus_ids: set[str], headers: dict[str, str] | None = None,
                    timeout: float = 30) -> Agreement:
    ready = httpx.get(url + "/readyz", headers=headers, timeout=timeout)
    listing = httpx.get(url + "/v1/documents", headers=headers, timeout=timeout)
    if ready.status_code != 200 or listing.status_code != 200:
        return Agreement(False, problems=[f"/readyz {ready.status_code}, /v1/documents {listing.status_code}"])
    readyz, docs = ready.json(), listing.json()["documents"]
    uploads, problems = stored_uploads(index_dir)
    listed = {d["doc_id"]: d for d in docs}
    expected = corpus_ids | set(uploads)
    result = Agreement(False, listed=len(docs), expected=len(expected), readyz_documents=readyz.get("documents"),
                       readyz_chunks=readyz.get("chunks"), listed_chunks=sum(d["chunks"] for d in docs),
                       index_version=readyz.get("index_version"),
                       in_index_not_in_store=sorted(set(listed) - expected),
                       in_store_not_in_index=sorted(expected - set(listed)), problems=problems)
    if len(listed) != len(docs):
        result.problems.append("the listing has duplicate doc ids")
    if result.in_index_not_in_store:
        result.problems.append(f"listed but not in the corpus or uploads/: {result.in_index_not_in_store}")
    if result.in_store_not_in_index:
        result.problems.append(f"in the corpus or uploads/ but not listed: {result.in_store_not_in_index}")
    if result.readyz_documents != result.listed:
        result.problems.append(f"/readyz documents {result.readyz_documents} != {result.listed} listed")
    if result.readyz_chunks != result.listed_chunks:
        result.problems.append(f"/readyz chunks {result.readyz_chunks} != {result.listed_chunks} listed")
    result.ok = not result.problems
    result.content_problems = _content_problems(index_dir, listed, uploads, corpus_ids)
    return result


def _content_problems(index_dir: Path, listed: dict[str, dict], uploads: dict[str, dict], corpus_ids: set[str]) -> list[str]:
    problems = []
    for doc_id, doc in listed.items():
        origin = (doc.get("metadata") or {}).get("origin")
        want = "api" if doc_id in uploads else "corpus" if doc_id in corpus_ids else None
        if want and origin != want:
            problems.append(f"{doc_id}: origin {origin!r}, expected {want!r}")
    chunking = _chunking(index_dir)
    if chunking is None:
        return problems
    from index.builder import fingerprint
    from ingest.schema import Document

    for doc_id in sorted(set(listed) & set(uploads)):
        try:
            stored = Document.model_validate(uploads[doc_id])
        except ValueError as exc:
            problems.append(f"uploads file of {doc_id} is not a document: {exc}")
            continue
        if listed[doc_id].get("sha256") != fingerprint(stored, *chunking):
            problems.append(f"{doc_id}: the indexed text is not the text in uploads/")
    return problems


def _chunking(index_dir: Path) -> tuple[int, int] | None:
    """The chunk size and overlap of the live version (they are part of the fingerprint)."""
    try:
        name = (index_dir / "CURRENT").read_text().strip()
        manifest = json.loads((index_dir / "versions" / name / "manifest.json").read_text())
        return int(manifest["chunk_size"]), int(manifest["chunk_overlap"])
    except (OSError, ValueError, KeyError):
        return None


_PLACES = ["杭州", "成都", "贵阳", "乌兰察布", "深圳", "南京", "西安", "呼和浩特", "重庆", "武汉", "合肥", "苏州",
           "天津", "青岛", "长沙", "庆阳", "中卫", "宁波", "昆明", "兰州"]
_ACTORS = ["某云厂商", "一家芯片公司", "一家券商", "市政府", "一所大学", "某运营商", "一家物流企业", "某银行", "一家车企",
           "一家医院", "某电网公司", "一家游戏公司", "某电商平台", "一家制药企业", "某航空公司", "一家保险公司"]
_ACTIONS = ["扩建了", "关停了", "租用了", "采购了", "升级了", "测试了", "迁移了", "整合了", "出售了", "改造了"]
_THINGS = ["智算中心", "液冷机柜", "推理集群", "训练集群", "对象存储", "边缘节点", "数据湖", "向量数据库", "光纤骨干网",
           "备份机房", "调度平台", "标注平台"]
_AFTER = ["成本下降了百分之{n}", "能耗上升了百分之{n}", "故障率降低到千分之{n}", "交付周期缩短了{n}天",
          "新增了{n}个岗位", "吞吐量提高了{n}倍", "排队时间减少了{n}分钟", "账单增加了{n}万元"]
_TOPICS = ["这一段只用于压测文档写入", "相关数据来自内部周报", "该项目仍在评估之中", "负责人表示还会追加预算",
           "外部审计尚未完成", "下一阶段将开放给更多客户", "此事引起了监管部门的关注", "项目组计划明年复盘"]


def varied_text(rng: random.Random, chars: int, marker: str) -> str:
    """Generated Chinese paragraphs of about ``chars`` characters; ``marker`` is in the first sentence."""
    sentences = [f"本文编号{marker}，记录的是一组虚构的基础设施事件。"]
    size = len(sentences[0])
    paragraph: list[str] = []
    while size < chars:
        s = (f"{rng.randint(2015, 2031)}年第{rng.randint(1, 4)}季度，{rng.choice(_PLACES)}的{rng.choice(_ACTORS)}"
             f"{rng.choice(_ACTIONS)}{rng.randint(2, 900)}套{rng.choice(_THINGS)}，"
             f"{rng.choice(_AFTER).format(n=rng.randint(1, 99))}，{rng.choice(_TOPICS)}（{marker}-{rng.randint(0, 10**6)}）。")
        paragraph.append(s)
        size += len(s)
        if len(paragraph) >= rng.randint(3, 6):
            sentences.append("".join(paragraph))
            paragraph = []
    if paragraph:
        sentences.append("".join(paragraph))
    return "\n\n".join(sentences)


def passage_chars(index_dir: Path, passages: int) -> int:
    """Characters that make about ``passages`` passages with the index's chunking."""
    size, overlap = _chunking(index_dir) or (256, 64)
    return int(passages * max(32, size - overlap) * 1.1)  # sentences end short of a full passage


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _round(value: float) -> float | None:
    return None if value != value else round(value, 2)


# --- the load ---------------------------------------------------------------------------

@dataclass
class PhaseStats:
    phase: str
    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    wall_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    rps: float | None


class Askers:
    """C threads, each with its own keep-alive client, POST /v1/ask back to back.

    Stops after ``total`` requests were claimed, or when ``stop()`` is called; each request
    is recorded as (start, end, status) on the perf_counter clock.
    """

    def __init__(self, url: str, questions: list[str], clients: int, total: int | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 120) -> None:
        self.url, self.questions, self.clients, self.total = url, questions, clients, total
        self.headers, self.timeout = headers, timeout
        self.records: list[tuple[float, float, int | str]] = []
        self._lock = threading.Lock()
        self._claimed = 0
        self._stop = threading.Event()
        self._barrier = threading.Barrier(clients + 1)
        self._threads = [threading.Thread(target=self._worker, args=(n,), name=f"asker-{n}", daemon=True)
                         for n in range(clients)]

    def _worker(self, n: int) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout, headers=self.headers) as client:
            try:
                self._barrier.wait()
            except threading.BrokenBarrierError:
                return
            while not self._stop.is_set():
                with self._lock:
                    i = self._claimed
                    self._claimed += 1
                if self.total is not None and i >= self.total:
                    return
                question = self.questions[i % len(self.questions)]
                t0 = time.perf_counter()
                try:
                    status: int | str = client.post("/v1/ask", json={"question": question}).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                t1 = time.perf_counter()
                with self._lock:
                    self.records.append((t0, t1, status))

    def start(self) -> float:
        for t in self._threads:
            t.start()
        self._barrier.wait()
        self.started = time.perf_counter()
        return self.started

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        for t in self._threads:
            t.join(timeout)

    def stats(self, phase: str, window: tuple[float, float] | None = None) -> PhaseStats:
        """Requests that started inside ``window`` (all of them without one)."""
        with self._lock:
            records = list(self.records)
        if window is not None:
            records = [r for r in records if window[0] <= r[0] < window[1]]
        ok = [(t1 - t0) * 1000 for t0, t1, status in records if status == 200]
        kinds = Counter(str(status) for _, _, status in records if status != 200)
        if window is not None:
            wall = window[1] - window[0]
        else:
            wall = (max(r[1] for r in records) - self.started) if records else 0.0
        return PhaseStats(phase, len(records), len(ok), sum(kinds.values()), dict(kinds), round(wall, 3),
                          _round(percentile(ok, 50)), _round(percentile(ok, 95)), _round(percentile(ok, 99)),
                          _round(max(ok)) if ok else None, round(len(ok) / wall, 2) if wall > 0 else None)


@dataclass
class WriteOp:
    cycle: int
    op: str  # "upload" or "delete"
    doc_id: str
    status: int | str  # HTTP status, or the exception's name
    ms: float
    passages: int | None = None  # as the server counted them (uploads)
    chars: int | None = None

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300


def writer(url: str, admin_key: str, index_dir: Path, cycles: int, passages: tuple[int, int], rng: random.Random,
           timeout: float = 600) -> list[WriteOp]:
    """Upload a new document and delete it again, ``cycles`` times, back to back."""
    ops: list[WriteOp] = []
    auth = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=url, timeout=timeout, headers=auth) as client:
        for cycle in range(cycles):
            doc_id = f"bench-writes-{cycle}-{rng.randrange(16**6):06x}"
            want = rng.randint(*passages)
            text = varied_text(rng, passage_chars(index_dir, want), doc_id)
            body = {"title": f"写入压测文档 {cycle}", "text": text, "doc_id": doc_id, "source": "evals.bench.writes"}
            t0 = time.perf_counter()
            try:
                r = client.post("/v1/documents", json=body)
                status: int | str = r.status_code
                chunks = r.json().get("document", {}).get("chunks") if r.status_code < 300 else None
            except (httpx.HTTPError, ValueError) as exc:
                status, chunks = type(exc).__name__, None
            ops.append(WriteOp(cycle, "upload", doc_id, status, round((time.perf_counter() - t0) * 1000, 1), chunks, len(text)))
            t0 = time.perf_counter()
            try:
                status = client.delete(f"/v1/documents/{doc_id}").status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            ops.append(WriteOp(cycle, "delete", doc_id, status, round((time.perf_counter() - t0) * 1000, 1)))
    return ops


# --- the benchmark ------------------------------------------------------------------------

@dataclass
class WritesResult:
    started_at: str
    finished_at: str | None
    machine: dict
    index_dir: str
    clients: int
    cycles: int
    passages: tuple[int, int]
    questions: int
    idle: PhaseStats | None = None
    writes: PhaseStats | None = None
    write_ops: list[WriteOp] = field(default_factory=list)
    write_errors: int = 0
    p95_ratio: float | None = None  # p95(asks during writes) / p95(asks idle)
    agreement: Agreement | None = None
    server_ready_s: float | None = None
    server_peak_rss_mb: int | None = None
    server_cpu_s: float | None = None
    other_cpu_share: float | None = None  # the machine's CPU used by other processes meanwhile (skews the numbers)
    error: str | None = None  # the server failed to start or died

    @property
    def errors(self) -> int:
        """Every failed ask and write (and 1 for a failed run)."""
        return ((self.idle.errors if self.idle else 0) + (self.writes.errors if self.writes else 0)
                + self.write_errors + (1 if self.error else 0))

    def to_dict(self) -> dict:
        return asdict(self) | {"errors": self.errors}


def run_writes(index_dir: Path, *, corpus_dir: Path = DEFAULT_CORPUS, clients: int = 32,
               idle_requests: int | None = None, idle_seconds: float = 20.0, cycles: int = 3,
               passages: tuple[int, int] = (20, 40), questions: list[str] | None = None, set_path: Path = DEFAULT_SET,
               warmup: int = 3, seed: int = 0, ready_timeout: float = 300, extra_env: dict[str, str] | None = None,
               workdir: Path | None = None, log=None) -> WritesResult:
    """Phase 1: ``clients`` askers for ``idle_requests`` requests (or ``idle_seconds``); phase 2: the
    askers while ``cycles`` upload+delete cycles run. ``index_dir`` is copied, never written."""
    log = log or (lambda msg: None)
    index_dir, corpus_dir = Path(index_dir).resolve(), Path(corpus_dir).resolve()
    if questions is None:
        questions = [q.question for q in load_set(set_path) if not q.history]
    if not questions:
        raise ValueError("no questions to ask")
    result = WritesResult(now_iso(), None, machine_info(), str(index_dir), clients, cycles, tuple(passages), len(questions))
    with tempfile.TemporaryDirectory(prefix="citeqa-bench-writes-", dir=workdir) as tmp:
        work = Path(tmp)
        index = copy_index(index_dir, work / "index")
        corpus = corpus_doc_ids(corpus_dir)
        admin = secrets.token_hex(16)
        env = server_env(index, corpus_dir, admin, extra_env)
        headers = auth_headers(env)
        rng = random.Random(seed)
        try:
            others = OtherCpu()
            with running_server("writes", env, work, ready_timeout) as server:
                result.server_ready_s = round(server.ready_s, 2)
                log(f"ready in {server.ready_s:.1f} s ({server.readyz.get('documents')} documents, "
                    f"{server.readyz.get('chunks')} passages)")
                with httpx.Client(base_url=server.url, timeout=120, headers=headers) as client:
                    for i in range(warmup):
                        client.post("/v1/ask", json={"question": questions[i % len(questions)]})

                idle = Askers(server.url, questions, clients, total=idle_requests, headers=headers)
                began = idle.start()
                if idle_requests is None:
                    while time.perf_counter() - began < idle_seconds and any(t.is_alive() for t in idle._threads):
                        time.sleep(0.05)
                    idle.stop()
                idle.join()
                result.idle = idle.stats("idle")
                log(f"idle: {_phase_line(result.idle)}")

                busy = Askers(server.url, questions, clients, headers=headers)
                busy.start()
                w0 = time.perf_counter()
                try:
                    result.write_ops = writer(server.url, admin, index, cycles, passages, rng)
                finally:
                    w1 = time.perf_counter()
                    busy.stop()
                    busy.join()
                result.writes = busy.stats("writes", (w0, w1))
                result.write_errors = sum(not op.ok for op in result.write_ops)
                log(f"writes: {_phase_line(result.writes)}; {result.write_errors} failed writes")
                if result.idle.p95_ms and result.writes.p95_ms:
                    result.p95_ratio = round(result.writes.p95_ms / result.idle.p95_ms, 2)

                result.agreement = check_agreement(server.url, index, corpus, headers)
                log(f"agreement: {result.agreement.summary()}")
                if server.proc.poll() is not None:
                    raise ServerNotReady(f"the server exited during the run (code {server.proc.returncode})")
            if server.usage is not None:
                result.server_peak_rss_mb = round(server.usage.ru_maxrss / 1024)
                result.server_cpu_s = round(server.usage.ru_utime + server.usage.ru_stime, 1)
                result.other_cpu_share = others.share(result.server_cpu_s)
        except (ServerNotReady, httpx.HTTPError, OSError) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
            log(f"FAILED: {result.error}")
    result.finished_at = now_iso()
    return result


# --- output -------------------------------------------------------------------------------

def _phase_line(s: PhaseStats) -> str:
    return (f"{s.requests} asks in {s.wall_s:.1f} s, p50 {fmt(s.p50_ms)} ms, p95 {fmt(s.p95_ms)} ms, "
            f"p99 {fmt(s.p99_ms)} ms, {fmt(s.rps, 2)} rps, {s.errors} errors")


def table(r: WritesResult) -> str:
    lines = [machine_line(r.machine),
             f"index: {r.index_dir} (copied); {r.clients} askers, {r.cycles} write cycles of {r.passages[0]}-{r.passages[1]} "
             f"passages; {r.questions} questions; started {r.started_at}, finished {r.finished_at}",
             f"server: ready in {fmt(r.server_ready_s)} s, peak RSS {r.server_peak_rss_mb or '-'} MB, CPU {fmt(r.server_cpu_s)} s",
             "", "| phase | asks | p50 ms | p95 ms | p99 ms | max ms | rps | errors |", "|---|---|---|---|---|---|---|---|"]
    for s in (r.idle, r.writes):
        if s is not None:
            errors = str(s.errors) + (f" {s.error_kinds}" if s.errors else "")
            lines.append(f"| {s.phase} | {s.requests} | {fmt(s.p50_ms)} | {fmt(s.p95_ms)} | {fmt(s.p99_ms)} | "
                         f"{fmt(s.max_ms)} | {fmt(s.rps, 2)} | {errors} |")
    lines.append(f"\np95 during writes / p95 idle: {fmt(r.p95_ratio, 2)}x")
    if r.write_ops:
        lines += ["", "| cycle | write | doc_id | status | ms | passages | chars |", "|---|---|---|---|---|---|---|"]
        for op in r.write_ops:
            lines.append(f"| {op.cycle} | {op.op} | {op.doc_id} | {op.status} | {fmt(op.ms)} | {op.passages or '-'} | "
                         f"{op.chars or '-'} |")
        uploads = [op.ms for op in r.write_ops if op.op == "upload" and op.ok]
        deletes = [op.ms for op in r.write_ops if op.op == "delete" and op.ok]
        lines.append(f"\nwrites: upload median {fmt(percentile(uploads, 50))} ms, delete median "
                     f"{fmt(percentile(deletes, 50))} ms, {r.write_errors} failed")
    if r.agreement is not None:
        lines.append(f"agreement after the run: {r.agreement.summary()}")
    if r.other_cpu_share is not None and r.other_cpu_share > 0.10:
        lines.append(f"warning: other processes used {r.other_cpu_share:.0%} of the machine's CPU during the run: "
                     f"the latencies are skewed and not comparable with a quiet run")
    lines.append(f"errors: {r.errors}")
    if r.error:
        lines.append(f"FAILED: {r.error}")
    return "\n".join(lines)


def _range(text: str) -> tuple[int, int]:
    try:
        lo, _, hi = text.partition("-")
        values = (int(lo), int(hi or lo))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not N or LO-HI") from None
    if values[0] < 1 or values[1] < values[0]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 1 <= LO <= HI")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench writes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=Path(os.environ.get("CITEQA_INDEX_DIR", DEFAULT_INDEX)),
                        help="the prebuilt index to copy (default CITEQA_INDEX_DIR or var/index)")
    parser.add_argument("--corpus-dir", type=Path, default=Path(os.environ.get("CITEQA_CORPUS_DIR", REPO / DEFAULT_CORPUS)),
                        help="the corpus folder the index was built from (default CITEQA_CORPUS_DIR or corpus)")
    parser.add_argument("--clients", type=int, default=32, metavar="C", help="concurrent askers")
    parser.add_argument("--idle-requests", type=int, metavar="N", help="phase 1 length in requests (default: --idle-seconds)")
    parser.add_argument("--idle-seconds", type=float, default=20.0, metavar="S", help="phase 1 length in seconds")
    parser.add_argument("--cycles", type=int, default=3, metavar="K", help="upload+delete cycles in phase 2")
    parser.add_argument("--passages", type=_range, default=(20, 40), metavar="LO-HI", help="passages per uploaded document")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="questions to cycle through (those without history)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ready-timeout", type=float, default=300, metavar="S")
    parser.add_argument("--json", type=Path, help="also write everything here")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.cycles < 1 or (args.idle_requests is not None and args.idle_requests < 1):
        parser.error("--clients, --cycles and --idle-requests must be >= 1")
    index_dir = args.index_dir if args.index_dir.is_absolute() else REPO / args.index_dir
    if not (index_dir / "CURRENT").is_file():
        parser.error(f"no index at {index_dir}: build one with CITEQA_INDEX_DIR={index_dir} python -m service.cli ingest")
    say = lambda msg: print(f"[writes] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    try:
        result = run_writes(index_dir, corpus_dir=args.corpus_dir, clients=args.clients, idle_requests=args.idle_requests,
                            idle_seconds=args.idle_seconds, cycles=args.cycles, passages=args.passages,
                            set_path=args.set, seed=args.seed, ready_timeout=args.ready_timeout, log=say)
    except KeyboardInterrupt:  # the server is already stopped
        print("interrupted", file=sys.stderr)
        return 130
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    ok = result.errors == 0 and result.agreement is not None and result.agreement.ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
