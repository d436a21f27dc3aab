"""The speed benchmarks run and report what they say they report (their numbers go in evals/REPORT.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evals.latency import _parts


def test_an_asks_parts_are_disjoint_and_add_up_to_what_the_client_waited():
    parts = _parts({"embed": 25.0, "retrieve": 31.0, "answer": 12.0, "total": 44.5}, client_ms=50.0)
    assert parts["embed (model)"] == 25.0 and parts["retrieve without embed"] == 6.0
    assert parts["embed (model)"] + parts["retrieve without embed"] + parts["answer"] == pytest.approx(43.0)
    assert parts["server total"] + parts["HTTP + JSON"] == 50.0


@pytest.mark.slow
def test_the_embedding_bench_measures_each_configuration_in_its_own_process(tmp_path, repo_root):
    out = tmp_path / "embedding.json"
    configs = ["--config", "int8=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8",
               "--config", "int8-256=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8,CITEQA_EMBEDDING_DIMS=256",
               "--config", "int8-1t=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8,CITEQA_TORCH_THREADS=1"]
    result = subprocess.run([sys.executable, "-m", "evals.bench", "embedding", "--no-quality", "--queries", "3",
                             "--sample", "4", "--json", str(out), *configs],
                            cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    runs = {r["config"]: r for r in json.loads(out.read_text())["runs"]}
    assert set(runs) == {"int8", "int8-256", "int8-1t"}
    for run in runs.values():
        assert run["queries"] == 3 and run["sample"] == [4, 4]
        assert 0 < run["query_p50_ms"] <= run["query_p95_ms"] and run["passages_per_s"] > 0 and run["peak_rss_mb"] > 100
    # Truncation gives other vectors (its own id); a thread count does not.
    assert runs["int8-256"]["model_id"].endswith("@256+onnx-int8")
    assert runs["int8-1t"]["model_id"] == runs["int8"]["model_id"]
    assert "int8 " in result.stdout and "passages/s" in result.stdout
