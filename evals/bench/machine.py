"""What a benchmark ran on, recorded next to its numbers (no hostname, no user names).

    python -c "from evals.bench.machine import machine_info; print(machine_info())"
"""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CITEQA_TORCH_THREADS")


def machine_info() -> dict:
    """CPU, cores, memory and library versions; torch and faiss are imported here, lazily."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        affinity = os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "affinity_cores": affinity,
        "cgroup_cpu_quota": _cgroup_cpu_quota(),
        "ram_total_mb": _ram_total_mb(),
        "os": platform.platform(terse=True),  # platform.node() (the hostname) is deliberately left out
        "machine": platform.machine(),
        "python": platform.python_version(),
        "torch": _torch_info(),
        "faiss": _faiss_version(),
        "env": {name: os.environ.get(name) for name in THREAD_ENV},
    }


def machine_line(m: dict) -> str:
    """One line for the head of every benchmark's table."""
    return (f"machine: {m['cpu_model']}, {m['logical_cores']} logical cores ({m['affinity_cores']} usable"
            f"{', quota ' + str(m['cgroup_cpu_quota']) if m.get('cgroup_cpu_quota') else ''}), "
            f"{m['ram_total_mb']} MB RAM, {m['os']}, python {m['python']}, torch {m['torch']['version']} "
            f"({m['torch']['num_threads']} threads), faiss {m['faiss']}, env {m['env']}")


def peak_rss_mb_of_children() -> float:
    """The largest peak RSS (MB) of any child process waited for so far (not a sum; Linux reports KB)."""
    kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(kb / 1024, 1)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_total_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_cpu_quota() -> float | None:
    """CPUs a cgroup v2 quota allows (``cpu.max``); None when unlimited or unknown."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else round(int(quota) / int(period), 2)
    except (OSError, ValueError):
        return None


def _torch_info() -> dict:
    try:
        import torch
    except ImportError:
        return {"version": None, "num_threads": None}
    return {"version": torch.__version__, "num_threads": torch.get_num_threads()}


def _faiss_version() -> str | None:
    try:
        import faiss
    except ImportError:
        return None
    return getattr(faiss, "__version__", "unknown")
