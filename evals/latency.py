"""Query latency of a warm server: median and p95 of /v1/ask and /v1/search.

    python -m evals.latency                 # starts `citeqa serve` on a free port with the current index
    python -m evals.latency --url http://127.0.0.1:8000

Timings are client-side wall time over loopback, one request at a time. The server this
starts has the query-vector cache off (--query-cache keeps it on), and the timed requests
start after the warm-up questions, so every timed ask embeds a question it has not seen
while n + warmup stays within the set. Where an ask's time goes is read from the server's
own ``timings_ms``: embed (the model), the rest of retrieve (FAISS, BM25, fusion), answer
(sentence scoring and quoting), and what the client waited beyond the server's total
(HTTP and JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import httpx

from evals.bench.serve import ServerNotReady, free_port, wait_ready
from evals.metrics import percentile
from evals.questions import load_set

DEFAULT_SET = Path(__file__).parent / "sets" / "dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("-n", type=int, default=20, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="questions to cycle through")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--query-cache", action="store_true", help="keep the server's query-vector cache on")
    args = parser.parse_args(argv)

    questions = [q.question for q in load_set(args.set) if not q.history]
    server = None
    url = args.url
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = os.environ | ({} if args.query_cache else {"CITEQA_QUERY_CACHE_SIZE": "0"}) | {"CITEQA_RATE_LIMIT_READS": "0"}
        server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        started = time.perf_counter()
        _wait_ready(url, server)
        ready_s = time.perf_counter() - started
        stages: dict[str, list[float]] = {}
        with httpx.Client(base_url=url, timeout=60) as client:
            rows = {
                "/v1/ask": _measure(client, "/v1/ask", lambda q: {"question": q}, questions, args.n, args.warmup, stages),
                "/v1/search": _measure(client, "/v1/search", lambda q: {"query": q, "top_k": 10}, questions, args.n, args.warmup),
            }
            rows["/v1/ask stream, first event"], rows["/v1/ask stream, done"] = _stream(client, questions, args.n)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
               "python": platform.python_version(), "threads": os.environ.get("OMP_NUM_THREADS", "default")}
    print(f"machine: {machine}")
    if server is not None:
        print(f"server start to ready: {ready_s:.1f} s")
    print("| endpoint | n | median ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {len(values)} | {percentile(values, 50):.0f} | {percentile(values, 95):.0f} | {max(values):.0f} |")
    print("\nwhere an ask's time goes (server's timings_ms; HTTP+JSON is the client's wait beyond the server's total)")
    print("| part | median ms | p95 ms |\n|---|---|---|")
    for name, values in stages.items():
        print(f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "url": url, "ready_s": ready_s if server else None,
                                         "latency_ms": rows, "ask_parts_ms": stages}, indent=2))
    return 0


def _measure(client: httpx.Client, path: str, body, questions: list[str], n: int, warmup: int,
             stages: dict[str, list[float]] | None = None) -> list[float]:
    for i in range(warmup):
        client.post(path, json=body(questions[i % len(questions)])).raise_for_status()
    timings = []
    for i in range(warmup, warmup + n):
        started = time.perf_counter()
        response = client.post(path, json=body(questions[i % len(questions)]))
        response.raise_for_status()
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        if stages is not None:
            for name, value in _parts(response.json().get("timings_ms") or {}, elapsed).items():
                stages.setdefault(name, []).append(value)
    return timings


def _parts(t: dict[str, float], client_ms: float) -> dict[str, float]:
    """Disjoint parts of one ask: ``retrieve`` includes ``embed``; ``total`` is the server's."""
    embed, retrieve, total = t.get("embed", 0.0), t.get("retrieve", 0.0), t.get("total", 0.0)
    return {"embed (model)": embed, "retrieve without embed": retrieve - embed, "answer": t.get("answer", 0.0),
            "server total": total, "HTTP + JSON": client_ms - total}


def _stream(client: httpx.Client, questions: list[str], n: int) -> tuple[list[float], list[float]]:
    """Per streamed question: time to the first Server-Sent Event (the citations), and to the end."""
    first, done = [], []
    for i in range(n):
        started = time.perf_counter()
        with client.stream("POST", "/v1/ask", json={"question": questions[i % len(questions)], "stream": True}) as r:
            r.raise_for_status()
            seen = None
            for line in r.iter_lines():  # read to the end so the connection is reused
                if seen is None and line.startswith("data:"):
                    seen = (time.perf_counter() - started) * 1000
        first.append(seen)
        done.append((time.perf_counter() - started) * 1000)
    return first, done


def _wait_ready(url: str, server: subprocess.Popen | None, timeout: float = 300) -> None:
    try:
        wait_ready(url, server, timeout)
    except ServerNotReady as exc:
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
