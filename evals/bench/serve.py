"""Query latency and throughput under concurrent clients, and cold start, through real servers.

    python -m evals.bench serve                                   # the current index, 1/4/16 clients
    python -m evals.bench serve --index-dir var/index --clients 1,4,16 --json serve.json
    python -m evals.bench serve --config default= --config t1=CITEQA_TORCH_THREADS=1,OMP_NUM_THREADS=1

For each configuration (NAME=ENV=VALUE,ENV=VALUE; default one called "default" with no
extra environment) a real `citeqa serve` process starts on a free port with that
environment, and after a short warmup each endpoint (POST /v1/ask, POST /v1/search)
is driven by a closed loop per client count C: C threads, each with its own keep-alive
connection, send requests back to back (cycling through the question set) until N
requests are done (default N = max(40, 10*C)). Latency is client-side wall time per
request; rps is successful requests / wall time; an error is a non-200 status or an
exception. The configurations run one after another in the same invocation, so their
ratios are comparable; the clients share the machine's CPUs with the server.

Cold start per configuration: (a) spawn -> /readyz 200 with the prebuilt index (the
server the load test uses), (b) with no prebuilt index: `serve` does not build one (it
stays not ready until an index appears), so this times `citeqa ingest` into an empty
folder followed by spawn -> ready. Whether the embedding cache made (b) cheap is shown;
--cold-cache turns the cache off for (b), so every text goes through the model.

Unless the environment or a configuration sets them, servers run with
CITEQA_RATE_LIMIT_READS=0 (the default 600/min per address would turn a load test into
429s) and CITEQA_QUERY_CACHE_SIZE=0 (otherwise every pass after the first over the
question set measures cached query vectors; --query-cache keeps the server's default).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from evals.bench.machine import machine_info, machine_line, peak_rss_mb_of_children
from evals.metrics import percentile
from evals.questions import load_set

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SET = REPO / "evals" / "sets" / "dev.jsonl"
SERVER_DEFAULTS = {"CITEQA_RATE_LIMIT_READS": "0", "CITEQA_QUERY_CACHE_SIZE": "0"}
ENDPOINTS: dict[str, Callable[[str], dict]] = {
    "/v1/ask": lambda q: {"question": q},
    "/v1/search": lambda q: {"query": q, "top_k": 10},
}
INGEST_SUMMARY = re.compile(r"\((\d+) texts embedded, (\d+) from the embedding cache\)")
CACHE_OFF = ("off", "none", "0", "false")


# --- shared with evals/latency.py -------------------------------------------------------

class ServerNotReady(RuntimeError):
    """The server exited or did not answer /readyz 200 in time; the message has its stderr tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, server: subprocess.Popen | None = None, timeout: float = 300,
               log: Path | None = None) -> float:
    """Poll ``url``/readyz until 200; seconds waited. ``log`` is the file the server's stderr goes to."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise ServerNotReady(f"the server exited with code {server.returncode}:\n{_server_stderr(server, log)}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    tail = f"\n{_server_stderr(server, log)}" if server is not None else ""
    raise ServerNotReady(f"{url} did not become ready in {timeout:.0f} s{tail}")


def _server_stderr(server: subprocess.Popen, log: Path | None, chars: int = 3000) -> str:
    if log is not None:
        try:
            return log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
    if server.stderr is not None and server.poll() is not None:  # a pipe: only read once it has closed
        return server.stderr.read()[-chars:]
    return ""


# --- configurations and child processes -------------------------------------------------

def parse_config(text: str) -> tuple[str, dict[str, str]]:
    """``NAME=ENV1=V1,ENV2=V2`` -> (NAME, {ENV1: V1, ENV2: V2}); ``default=`` is a config with no extra env."""
    name, _, rest = text.partition("=")
    env = {}
    for pair in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--config {text!r}: {pair!r} is not ENV=VALUE")
        env[key] = value
    return name or "default", env


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    url: str
    log: Path
    ready_s: float = float("nan")
    readyz: dict = field(default_factory=dict)
    usage: object | None = None  # resource.struct_rusage once stopped (None if it had exited by itself)


@contextmanager
def running_server(name: str, env: dict[str, str], workdir: Path, timeout: float) -> Iterator[Server]:
    """A `citeqa serve` process with ``env`` added, ready; always stopped (and reaped) on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"serve-{name}-{port}.stderr"
    with log.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
                                cwd=REPO, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=err)
    server = Server(name, proc, url, log)
    try:
        wait_ready(url, proc, timeout, log)
        server.ready_s = time.perf_counter() - started
        server.readyz = httpx.get(url + "/readyz", timeout=5).json()
        yield server
    finally:
        server.usage = stop(proc)


def stop(proc: subprocess.Popen, grace: float = 20) -> object | None:
    """SIGTERM, then SIGKILL after ``grace`` s; the child's rusage (None if it was already reaped)."""
    try:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while proc.returncode is None:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                return usage
            if time.monotonic() > deadline:
                proc.kill()
                if proc.returncode is None:
                    _, status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    return usage
            time.sleep(0.05)
    except ChildProcessError:  # reaped elsewhere
        pass
    except BaseException:  # interrupted while waiting: never leave the server behind
        if proc.returncode is None:
            proc.kill()
            proc.wait()
        raise
    return None


def run_child(args: list[str], env: dict[str, str], workdir: Path, name: str) -> dict:
    """Run `python -m service.cli ARGS` to completion; wall time, exit code, output and rusage."""
    out_path, err_path = workdir / f"{name}.stdout", workdir / f"{name}.stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", *args], cwd=REPO, env=os.environ | env,
                                stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
    return {"wall_s": time.perf_counter() - started, "rc": proc.returncode, "usage": usage,
            "stdout": out_path.read_text(errors="replace"), "stderr": err_path.read_text(errors="replace")}


def server_env(config_env: dict[str, str], index_dir: Path | None, query_cache: bool) -> dict[str, str]:
    """What a server of this configuration gets on top of os.environ (configuration wins)."""
    env = {k: v for k, v in SERVER_DEFAULTS.items() if k not in os.environ}
    if query_cache:
        env.pop("CITEQA_QUERY_CACHE_SIZE", None)
    if index_dir is not None:
        env["CITEQA_INDEX_DIR"] = str(index_dir)
    return env | config_env


def embedding_cache_state(env: dict[str, str]) -> dict:
    """Where the embedding cache of a process with ``env`` added is, and how big it is now."""
    full = os.environ | env
    value = full.get("CITEQA_EMBEDDING_CACHE", "")
    if value.strip().lower() in CACHE_OFF:
        return {"setting": value, "path": None, "exists": False, "size_mb": 0.0}
    if value:
        path = Path(value)
    else:
        from platformdirs import user_cache_dir  # the default of service.config.Settings.model_dir

        model_dir = Path(full["CITEQA_MODEL_DIR"]) if full.get("CITEQA_MODEL_DIR") else Path(user_cache_dir("citeqa")) / "models"
        path = model_dir / "embedding-cache.sqlite"
    path = path if path.is_absolute() else REPO / path
    exists = path.is_file()
    return {"setting": value or "(default)", "path": str(path), "exists": exists,
            "size_mb": round(path.stat().st_size / 2**20, 1) if exists else 0.0}


def model_mismatch(env: dict[str, str], index_model: str | None) -> str | None:
    """The server does not compare its embedder with the index's model_id: say when they differ."""
    if not index_model:
        return None
    full = os.environ | env
    want_int8 = full.get("CITEQA_EMBEDDING_QUANTIZE", "none").strip().lower() == "int8"
    dims = full.get("CITEQA_EMBEDDING_DIMS", "").strip()
    has_dims = re.search(r"@(\d+)", index_model)
    if want_int8 != ("+int8" in index_model) or (dims or None) != (has_dims.group(1) if has_dims else None):
        return (f"the index was built for {index_model!r} but this configuration embeds queries with "
                f"quantize={'int8' if want_int8 else 'none'}, dims={dims or 'full'}: build a matching index "
                f"(citeqa ingest with the same env) and set CITEQA_INDEX_DIR in the configuration")
    return None


# --- the load -------------------------------------------------------------------------

def closed_loop(url: str, path: str, body: Callable[[str], dict], questions: list[str], clients: int,
                total: int, headers: dict[str, str] | None = None, timeout: float = 120) -> dict:
    """``clients`` threads send requests back to back until ``total`` are done; latency stats."""
    lock = threading.Lock()
    claimed = 0
    results: list[tuple[float, int | str] | None] = [None] * total
    start = threading.Barrier(clients + 1)

    def worker() -> None:
        nonlocal claimed
        with httpx.Client(base_url=url, timeout=timeout, headers=headers) as client:
            try:
                start.wait()
            except threading.BrokenBarrierError:
                return
            while True:
                with lock:
                    i = claimed
                    claimed += 1
                if i >= total:
                    return
                t0 = time.perf_counter()
                try:
                    status: int | str = client.post(path, json=body(questions[i % len(questions)])).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                results[i] = ((time.perf_counter() - t0) * 1000, status)

    threads = [threading.Thread(target=worker, name=f"bench-client-{n}", daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    done = [r for r in results if r is not None]
    ok = [ms for ms, status in done if status == 200]
    errors = Counter(str(status) for _, status in done if status != 200)
    return {"endpoint": path, "clients": clients, "requests": len(done), "ok": len(ok),
            "errors": sum(errors.values()), "error_kinds": dict(errors), "wall_s": round(wall, 3),
            "p50_ms": _r(percentile(ok, 50)), "p95_ms": _r(percentile(ok, 95)), "p99_ms": _r(percentile(ok, 99)),
            "max_ms": _r(max(ok)) if ok else None, "rps": round(len(ok) / wall, 2) if wall > 0 else None}


def warmup(url: str, questions: list[str], n: int, headers: dict[str, str] | None) -> None:
    with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
        for path, body in ENDPOINTS.items():
            for i in range(n):
                client.post(path, json=body(questions[i % len(questions)]))


def auth_headers(env: dict[str, str]) -> dict[str, str] | None:
    """A bearer token when the server requires read keys (CITEQA_API_KEYS)."""
    keys = (os.environ | env).get("CITEQA_API_KEYS", "").strip()
    if not keys:
        return None
    first = json.loads(keys)[0] if keys.startswith("[") else keys.split(",")[0].strip()
    return {"Authorization": f"Bearer {first}"}


# --- one configuration ----------------------------------------------------------------

def bench_config(name: str, env: dict[str, str], args: argparse.Namespace, questions: list[str], workdir: Path) -> dict:
    row: dict = {"config": name, "env": env, "server_env": server_env(env, args.index_dir, args.query_cache),
                 "started_at": _now(), "load": [], "error": None}
    full_env = row["server_env"]
    headers = auth_headers(full_env)
    try:
        others = OtherCpu()
        with running_server(name, full_env, workdir, args.ready_timeout) as server:
            row["prebuilt_ready_s"] = round(server.ready_s, 2)
            row["readyz"] = server.readyz
            row["warning"] = model_mismatch(full_env, server.readyz.get("model"))
            if row["warning"]:
                print(f"[{name}] warning: {row['warning']}", file=sys.stderr)
            print(f"[{name}] ready in {server.ready_s:.1f} s at {server.url} "
                  f"(index {server.readyz.get('index_version')}, {server.readyz.get('chunks')} passages)",
                  file=sys.stderr, flush=True)
            warmup(server.url, questions, args.warmup, headers)
            for path, body in ENDPOINTS.items():
                for clients in args.clients:
                    total = args.requests or max(40, 10 * clients)
                    result = closed_loop(server.url, path, body, questions, clients, total, headers) | {"started_at": _now()}
                    row["load"].append(result)
                    print(f"[{name}] {_load_line(result)}", file=sys.stderr, flush=True)
            if server.proc.poll() is not None:
                raise ServerNotReady(f"the server exited during the run (code {server.proc.returncode}):\n"
                                     f"{_server_stderr(server.proc, server.log)}")
        if server.usage is not None:
            row["server_peak_rss_mb"] = round(server.usage.ru_maxrss / 1024)
            row["server_cpu_s"] = round(server.usage.ru_utime + server.usage.ru_stime, 1)
            row["other_cpu_share"] = others.share(row["server_cpu_s"])
            busy = _busy_warning(row["other_cpu_share"])
            if busy:
                print(f"[{name}] warning: {busy}", file=sys.stderr, flush=True)
        if not args.no_fresh_index:
            row["fresh_index"] = fresh_index_start(name, full_env, args, workdir)
    except (ServerNotReady, RuntimeError, httpx.HTTPError) as exc:
        row["error"] = str(exc)
        print(f"[{name}] FAILED: {exc}", file=sys.stderr, flush=True)
    row["finished_at"] = _now()
    return row


def fresh_index_start(name: str, env: dict[str, str], args: argparse.Namespace, workdir: Path) -> dict:
    """No prebuilt index: `citeqa ingest` into an empty folder, then spawn -> ready on it."""
    with tempfile.TemporaryDirectory(prefix=f"fresh-{name}-", dir=workdir) as tmp:
        fresh_env = env | {"CITEQA_INDEX_DIR": str(Path(tmp) / "index")}
        if args.cold_cache:
            fresh_env["CITEQA_EMBEDDING_CACHE"] = "off"
        cache = embedding_cache_state(fresh_env)
        print(f"[{name}] no prebuilt index: citeqa ingest into {tmp} (embedding cache "
              f"{cache['path'] or 'off'})", file=sys.stderr, flush=True)
        ingest = run_child(["ingest"], fresh_env, workdir, f"ingest-{name}")
        if ingest["rc"] != 0:
            raise RuntimeError(f"citeqa ingest failed (code {ingest['rc']}):\n{ingest['stderr'][-3000:]}")
        match = INGEST_SUMMARY.search(ingest["stdout"])
        embedded, cached = (int(match.group(1)), int(match.group(2))) if match else (None, None)
        with running_server(f"{name}-fresh", fresh_env, workdir, args.ready_timeout) as server:
            ready_s = server.ready_s
    return {"ingest_s": round(ingest["wall_s"], 2), "serve_ready_s": round(ready_s, 2),
            "total_s": round(ingest["wall_s"] + ready_s, 2),
            "ingest_peak_rss_mb": round(ingest["usage"].ru_maxrss / 1024),
            "embedding_cache": cache | {"texts_embedded": embedded, "texts_from_cache": cached,
                                        "state": _cache_verdict(cache, embedded, cached)},
            "ingest_summary": ingest["stdout"].strip().splitlines()[:2]}


def _cache_verdict(cache: dict, embedded: int | None, cached: int | None) -> str:
    if cache["path"] is None:
        return "off"
    if embedded is None:  # an ingest that does not report its cache use
        return f"{'present' if cache['exists'] else 'absent'} before the run ({cache['size_mb']} MB)"
    if cached and not embedded:
        return "warm"
    return "partly warm" if cached else "cold"


# --- output ---------------------------------------------------------------------------

def table(result: dict) -> str:
    lines = [machine_line(result["machine"]),
             f"set: {result['set']} ({result['questions']} questions without history); "
             f"started {result['started_at']}, finished {result['finished_at']}",
             "", "| config | endpoint | clients | n | p50 ms | p95 ms | p99 ms | rps | errors | rps vs first |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    first = {(r["endpoint"], r["clients"]): r["rps"] for r in (result["configs"][0]["load"] if result["configs"] else [])}
    for config in result["configs"]:
        for r in config["load"]:
            base = first.get((r["endpoint"], r["clients"]))
            ratio = f"{r['rps'] / base:.2f}x" if base and r["rps"] is not None else "-"
            errors = str(r["errors"]) + (f" {r['error_kinds']}" if r["errors"] else "")
            lines.append(f"| {config['config']} | {r['endpoint']} | {r['clients']} | {r['requests']} | {_f(r['p50_ms'])} | "
                         f"{_f(r['p95_ms'])} | {_f(r['p99_ms'])} | {_f(r['rps'], 2)} | {errors} | {ratio} |")
    lines += ["", "| config | prebuilt index: spawn to ready s | server peak RSS MB | server CPU s | other processes' CPU | "
                  "no prebuilt index: ingest s + spawn to ready s = total s | embedding cache |",
              "|---|---|---|---|---|---|---|"]
    for config in result["configs"]:
        fresh = config.get("fresh_index")
        if fresh:
            cache = fresh["embedding_cache"]
            cold = (f"{fresh['ingest_s']:.1f} + {fresh['serve_ready_s']:.1f} = {fresh['total_s']:.1f}",
                    f"{cache['state']} ({cache['texts_from_cache']} from cache, {cache['texts_embedded']} embedded; "
                    f"{cache['path'] or 'off'})")
        else:
            cold = ("-", "-")
        lines.append(f"| {config['config']} | {_f(config.get('prebuilt_ready_s'), 1)} | {config.get('server_peak_rss_mb', '-')} | "
                     f"{config.get('server_cpu_s', '-')} | {_pct(config.get('other_cpu_share'))} | {cold[0]} | {cold[1]} |")
    for config in result["configs"]:
        if config["error"]:
            lines.append(f"\n{config['config']} FAILED: {config['error']}")
        if config.get("warning"):
            lines.append(f"\n{config['config']} warning: {config['warning']}")
        busy = _busy_warning(config.get("other_cpu_share"))
        if busy:
            lines.append(f"\n{config['config']} warning: {busy}")
    return "\n".join(lines)


class OtherCpu:
    """How much of the machine's CPU went to processes other than this one and the server.

    Busy time from /proc/stat over the server's life, less the server's and this process's
    own CPU time: other work on the same CPUs skews every number (torch's threads wait for
    each other when one of them is descheduled).
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.busy = _machine_busy_s()
        self.own = _self_cpu_s()

    def share(self, server_cpu_s: float) -> float | None:
        busy = _machine_busy_s()
        if busy is None or self.busy is None:
            return None
        wall = time.perf_counter() - self.started
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        other = (busy - self.busy) - server_cpu_s - (_self_cpu_s() - self.own)
        return round(max(0.0, other) / (wall * cores), 3) if wall > 0 else None


def _machine_busy_s() -> float | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy_warning(share: float | None) -> str | None:
    if share is not None and share > 0.10:
        return (f"other processes used {share:.0%} of the machine's CPU during this configuration's run: "
                f"its numbers are skewed and not comparable with a quiet run")
    return None


def _load_line(r: dict) -> str:
    return (f"{r['endpoint']:<11} {r['clients']:>3} clients {r['requests']:>5} requests  p50 {_f(r['p50_ms'])} ms  "
            f"p95 {_f(r['p95_ms'])} ms  p99 {_f(r['p99_ms'])} ms  {_f(r['rps'], 2)} rps  {r['errors']} errors")


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _r(value: float) -> float | None:
    return None if value != value else round(value, 2)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: client counts must be >= 1")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", action="append", type=parse_config, default=[], metavar="NAME=ENV=VALUE,...",
                        help="a configuration to compare (repeatable); default: one called 'default' with no extra env")
    parser.add_argument("--clients", type=_int_list, default=[1, 4, 16], metavar="1,4,16", help="concurrent client counts")
    parser.add_argument("--requests", type=int, metavar="N", help="requests per endpoint and client count (default max(40, 10*clients))")
    parser.add_argument("--warmup", type=int, default=3, metavar="N", help="sequential requests per endpoint before timing")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="questions to cycle through (those without history)")
    parser.add_argument("--index-dir", type=Path, help="the prebuilt index (default CITEQA_INDEX_DIR or var/index)")
    parser.add_argument("--cold-cache", action="store_true", help="no embedding cache for the no-prebuilt-index run")
    parser.add_argument("--no-fresh-index", action="store_true", help="skip the no-prebuilt-index cold start")
    parser.add_argument("--query-cache", action="store_true", help="keep the server's query-vector cache (default: off)")
    parser.add_argument("--ready-timeout", type=float, default=300, metavar="S")
    parser.add_argument("--json", type=Path, help="also write everything here")
    args = parser.parse_args(argv)
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be >= 1")
    configs = args.config or [("default", {})]
    if len({name for name, _ in configs}) != len(configs):
        parser.error("configuration names must differ")
    if args.index_dir is not None:
        args.index_dir = args.index_dir.resolve()
        if not (args.index_dir / "CURRENT").is_file():
            parser.error(f"no index at {args.index_dir}: build one with "
                         f"CITEQA_INDEX_DIR={args.index_dir} python -m service.cli ingest")
    questions = [q.question for q in load_set(args.set) if not q.history]
    if not questions:
        parser.error(f"{args.set} has no questions without history")

    result: dict = {"started_at": _now(), "machine": machine_info(), "set": str(args.set), "questions": len(questions),
                    "index_dir": str(args.index_dir) if args.index_dir else os.environ.get("CITEQA_INDEX_DIR", "var/index"),
                    "options": {"clients": args.clients, "requests": args.requests, "warmup": args.warmup,
                                "cold_cache": args.cold_cache, "query_cache": args.query_cache},
                    "configs": []}
    try:
        with tempfile.TemporaryDirectory(prefix="citeqa-bench-serve-") as tmp:
            for name, env in configs:
                result["configs"].append(bench_config(name, env, args, questions, Path(tmp)))
    except KeyboardInterrupt:  # the servers are already stopped; report what finished
        result["interrupted"] = True
        print("interrupted: the table has the configurations that finished", file=sys.stderr)
    result["finished_at"] = _now()
    result["children_peak_rss_mb"] = peak_rss_mb_of_children()
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if result.get("interrupted"):
        return 130
    return 1 if any(c["error"] for c in result["configs"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
