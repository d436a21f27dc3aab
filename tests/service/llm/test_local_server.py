"""The bundled LLM's own process: it must stop when told, whichever of its threads is told."""

import ctypes
import signal
import subprocess
from pathlib import Path

import pytest


@pytest.mark.llm
def test_a_sigterm_that_a_llama_cpp_thread_takes_still_stops_the_llm():
    # The kernel gives a process's SIGTERM to any thread that does not block it; llama.cpp runs
    # a dozen. Python handles signals in the main thread only, so a main thread that slept
    # without a timeout never learnt of one that another thread took, and the LLM stayed up.
    from service.config import Settings
    from service.llm.fetch import local_llm_path
    from service.llm.local_server import LocalLLMParams, start_local_process

    llm = start_local_process(LocalLLMParams(local_llm_path(Settings().model_dir), port=0))
    try:
        pid = llm.process.pid
        others = sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir() if int(t.name) != pid)
        assert others, "llama.cpp serves from threads of its own"
        libc = ctypes.CDLL(None, use_errno=True)
        # To one thread that is not the main one (the first still there: a short-lived one may have ended).
        assert any(libc.tgkill(pid, thread, signal.SIGTERM) == 0 for thread in reversed(others))
        try:
            assert llm.process.wait(10) == 0
        except subprocess.TimeoutExpired:
            pytest.fail(f"the LLM was still running 10 s after a SIGTERM; its log: {llm.log_path}")
    finally:
        llm.stop()
