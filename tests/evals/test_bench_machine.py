"""evals.bench.machine: what a benchmark ran on (fast: no model, no index)."""

from evals.bench.machine import machine_info, peak_rss_mb_of_children


def test_machine_info_has_the_keys_and_positive_cores():
    info = machine_info()
    for key in ("cpu_model", "logical_cores", "affinity_cores", "ram_total_mb", "os", "python", "torch", "faiss", "env"):
        assert key in info, key
    assert info["logical_cores"] > 0
    assert 0 < info["affinity_cores"] <= info["logical_cores"]
    assert info["ram_total_mb"] > 0
    assert isinstance(info["cpu_model"], str) and info["cpu_model"]
    assert set(info["torch"]) == {"version", "num_threads"}
    assert set(info["env"]) >= {"OMP_NUM_THREADS", "CITEQA_TORCH_THREADS"}
    assert "node" not in info and "hostname" not in info


def test_peak_rss_of_children_is_a_number():
    assert peak_rss_mb_of_children() >= 0
