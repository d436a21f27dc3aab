"""A large ingest interrupted by SIGKILL resumes without embedding finished documents again."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
SUMMARY = re.compile(r"(\d+) passages and (\d+) sentences \((\d+) texts embedded, (\d+) from the embedding cache\)")


def write_corpus(folder, n_docs=8):
    folder.mkdir()
    for d in range(n_docs):
        paragraphs = [f"文档{d}的第{i}段：某地的第{d}号数据中心在第{i}期工程中新增了{d * 100 + i}台服务器，"
                      f"用于训练第{i}版模型，并计划在{2025 + i}年投入商用。" for i in range(12)]
        (folder / f"doc-{d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def cached_rows(path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_ingest_then_rerun_reuses_the_finished_work(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    cache = tmp_path / "cache.sqlite"
    env = {**os.environ, "CITEQA_INDEX_DIR": str(tmp_path / "index"), "CITEQA_EMBEDDING_CACHE": str(cache),
           "CITEQA_SENTENCE_VECTORS": "false", "CITEQA_EMBEDDING_QUANTIZE": "int8"}
    cmd = [sys.executable, "-m", "service.cli", "ingest", "--corpus", str(corpus)]

    first = subprocess.Popen(cmd + ["--progress"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while cached_rows(cache) == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    _, err = first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL, "the ingest finished before it could be interrupted"
    assert b"embedding:" in err  # the progress bar was drawn
    done_before = cached_rows(cache)
    assert done_before > 0
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing half-published

    # Not a terminal: progress comes as plain lines, a start and an end with the rate.
    second = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert re.search(r"^embedding: [\d,]+ texts to go \[8 documents: \d+ passages, 0 sentences\]$", second.stderr, re.MULTILINE), second.stderr
    assert re.search(r"^embedding: [\d,]+ texts in \d+ s \([\d,.]+ texts/s\)", second.stderr, re.MULTILINE)
    assert "\r" not in second.stderr
    passages, sentences, embedded, cached = map(int, SUMMARY.search(second.stdout).groups())
    assert sentences == 0
    assert cached >= done_before and embedded + cached == passages
    assert embedded < passages
    assert "8 documents" in second.stdout
