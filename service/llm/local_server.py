"""Run the bundled GGUF model under llama.cpp's OpenAI-compatible HTTP server (xllamacpp).

The local model is reached over HTTP like any remote one, so the answering code has one path.
It runs in its own process (`citeqa llm serve`, started by `citeqa serve --llm local`): llama.cpp
logs verbosely to stderr, holds ~2 GB, and can be restarted or killed without the API.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class LocalLLMParams:
    model_path: Path
    host: str = "127.0.0.1"
    port: int = 8081
    threads: int | None = None  # None: llama.cpp's default (all cores)
    context: int = 4096
    alias: str = "local"


def run_local_server(params: LocalLLMParams) -> None:
    """Serve until SIGTERM or SIGINT."""
    import xllamacpp

    common = xllamacpp.CommonParams()
    common.model.path = str(params.model_path)
    common.hostnames = [params.host]
    common.port = params.port
    common.n_ctx = params.context
    common.n_parallel = 1  # one answer at a time: two would halve the speed of each on a small CPU
    common.cache_prompt = True  # the fixed system prompt is computed once and reused
    common.model_alias = {params.alias}
    common.endpoint_metrics = True
    if params.threads:
        common.cpuparams.n_threads = params.threads
        common.cpuparams_batch.n_threads = params.threads
    server = xllamacpp.Server(common)
    # After the server starts: llama.cpp installs handlers of its own for these signals.
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"local LLM listening on {server.listening_address}", flush=True)
    # Python runs a signal's handler in the main thread, and a signal the kernel hands to one of
    # llama.cpp's threads does not wake a main thread blocked without a timeout: it would sleep on.
    while not stop.wait(0.5):
        pass
    # llama.cpp's HTTP threads are native and do not stop with the interpreter: leave at once
    # (the model holds no state worth saving), or the process would outlive its signal.
    print("local LLM stopping", flush=True)
    os._exit(0)


@dataclass
class LocalProcess:
    process: subprocess.Popen
    base_url: str  # ".../v1", for the OpenAI-compatible client
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_local_process(params: LocalLLMParams, ready_timeout: float = 120.0) -> LocalProcess:
    """`citeqa llm serve` as a child process, returned once it answers /health."""
    port = params.port or _free_port(params.host)
    log_file = Path(tempfile.gettempdir()) / f"citeqa-llm-{port}.log"
    command = [sys.executable, "-m", "service.cli", "llm", "serve", "--host", params.host, "--port", str(port)]
    env = dict(os.environ, CITEQA_LLM_MODEL=params.alias, CITEQA_MODEL_DIR=str(params.model_path.parent.parent))
    if params.threads:
        env["CITEQA_LOCAL_LLM_THREADS"] = str(params.threads)
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   preexec_fn=functools.partial(_die_with_parent, os.getpid()))
    url = f"http://{params.host}:{port}"
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local LLM exited with {process.returncode}; see {log_file}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return LocalProcess(process, url + "/v1", log_file)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the local LLM did not start within {ready_timeout:.0f} s; see {log_file}")


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: ask Linux to kill it when the parent dies. uvicorn re-raises the
    SIGTERM it shut down on, so the parent's own clean-up never runs, and a kill -9 skips it anyway;
    an orphaned LLM would hold 2 GB and the port.

    SIGKILL, not SIGTERM: the kernel ends the child without its cooperation (a SIGTERM waits for a
    Python handler in a process busy in llama.cpp), and the LLM has nothing to save."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The request covers only a death after it: a parent gone since the fork is not seen.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
