"""Embedding configurations side by side: query latency, ingest rate, memory and quality.

    python -m evals.bench embedding                       # the standard comparison (about 25 minutes here)
    python -m evals.bench embedding --config int8=CITEQA_EMBEDDING_BACKEND=torch,CITEQA_EMBEDDING_QUANTIZE=int8
    python -m evals.bench embedding --no-quality          # speed and memory only

Each configuration runs in its own process (NAME=ENV=VALUE,...; the environment is the
citeqa settings it changes), one after another in one invocation, so the ratios are
comparable. In that process:

- load: seconds from nothing to the first query vector (model load included);
- query: each distinct question of the sets embedded alone, query cache off: the model's
  share of one ask (p50/p95 ms);
- ingest: a fixed, evenly spaced sample of the bundled corpus' passages, then of its
  sentences, embedded with the embedding cache off, batched as ingest batches them
  (passages/s, sentences/s);
- RSS: the process's peak after the above (what a serving process holds);
- quality (unless --no-quality): the bundled corpus indexed with that configuration (an
  embedding cache per model id is shared across runs and invocations, so only vectors
  never made before cost anything) and every set asked in-process: Recall@5, MRR@10,
  answer correctness, refusal accuracy and false refusals.

Configurations that give the same vectors as another (ONNX fp32 and torch fp32; thread
counts) are marked, and their quality is that of the configuration they share vectors with.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench.machine import machine_info, machine_line
from evals.bench.serve import parse_config
from evals.metrics import percentile

REPO = Path(__file__).resolve().parents[2]
SETS = ("dev", "heldout", "related")
STANDARD = [
    "torch-fp32=CITEQA_EMBEDDING_BACKEND=torch,CITEQA_EMBEDDING_QUANTIZE=none",
    "torch-int8=CITEQA_EMBEDDING_BACKEND=torch,CITEQA_EMBEDDING_QUANTIZE=int8",
    "onnx-fp32=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=none",
    "onnx-int8=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8",
    "onnx-int8-1thread=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8,CITEQA_TORCH_THREADS=1",
    "onnx-int8-512=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8,CITEQA_EMBEDDING_DIMS=512",
    "onnx-int8-256=CITEQA_EMBEDDING_BACKEND=onnx,CITEQA_EMBEDDING_QUANTIZE=int8,CITEQA_EMBEDDING_DIMS=256",
    "torch-fp32-batch4=CITEQA_EMBEDDING_BACKEND=torch,CITEQA_EMBEDDING_QUANTIZE=none,CITEQA_EMBED_BATCH_SIZE=4",
]


def child(args: argparse.Namespace) -> dict:
    """One configuration, measured in this process (its environment already set)."""
    from evals.questions import load_set
    from service.config import Settings

    settings = Settings(query_cache_size=0, embedding_cache="off")
    embedder = settings.embedder()
    questions = list(dict.fromkeys(q.question for name in args.sets for q in load_set(REPO / "evals" / "sets" / f"{name}.jsonl")))
    started = time.perf_counter()
    embedder.embed_queries([questions[0]])
    load_s = time.perf_counter() - started

    timings = []
    for q in questions[1 : 1 + args.queries]:
        t = time.perf_counter()
        embedder.embed_queries([q])
        timings.append((time.perf_counter() - t) * 1000)

    passages, sentences = _sample_texts(settings, args.sample)
    t = time.perf_counter()
    embedder.embed_documents(passages, None)
    passage_rate = len(passages) / (time.perf_counter() - t)
    t = time.perf_counter()
    embedder.embed_documents(sentences, None)
    sentence_rate = len(sentences) / (time.perf_counter() - t)
    row = {"model_id": embedder.model_id, "load_s": round(load_s, 1), "queries": len(timings),
           "query_p50_ms": round(percentile(timings, 50), 1), "query_p95_ms": round(percentile(timings, 95), 1),
           "passages_per_s": round(passage_rate, 2), "sentences_per_s": round(sentence_rate, 2),
           "sample": [len(passages), len(sentences)],
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if args.quality and embedder.model_id not in args.known:
        row["quality"] = _quality(args)
    return row


def _sample_texts(settings, n: int) -> tuple[list[str], list[str]]:
    """Every k-th passage and sentence of the bundled corpus, chunked as ingest chunks it."""
    from ingest.chunking import chunk_document
    from ingest.corpus import load_corpus
    from ingest.sentences import split_sentences

    passages, sentences = [], []
    for doc in load_corpus(REPO / "corpus"):
        spans = split_sentences(doc.text, max_chars=settings.chunk_size)
        passages += [c.text for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap, sentences=spans)]
        sentences += [doc.text[s.start:s.end] for s in spans]
    return _every(passages, n), _every(sentences, n)


def _every(items: list[str], n: int) -> list[str]:
    step = max(1, len(items) // n)
    return list(dict.fromkeys(items[::step]))[:n]


def _quality(args: argparse.Namespace) -> dict:
    from evals.questions import load_set
    from evals.runner import run_questions, summarize
    from evals.targets import LocalTarget
    from service.cli import _load
    from service.config import Settings
    from service.indexing import ingest_corpus

    with tempfile.TemporaryDirectory(prefix="citeqa-bench-embedding-") as tmp:
        # The query cache stays off: answers must not depend on which questions ran first.
        settings = Settings(index_dir=Path(tmp) / "index", corpus_dir=REPO / "corpus", query_cache_size=0,
                            embedding_cache=str(args.cache))
        ingest_corpus(settings, settings.embedder())
        pipeline, index = _load(settings)
        target = LocalTarget(pipeline, index)
        out = {}
        for name in args.sets:
            s = summarize(run_questions(load_set(REPO / "evals" / "sets" / f"{name}.jsonl"), target, progress=False))
            out[name] = {k: round(s[k], 3) for k in ("recall@5", "mrr@10", "answer_correct", "refusal_accuracy",
                                                     "false_refusal_rate")}
        return out


def run_config(name: str, env: dict[str, str], args: argparse.Namespace, known: list[str]) -> dict:
    """``known``: model ids whose quality is measured already (the same vectors need no second run)."""
    cmd = [sys.executable, "-m", "evals.bench.embedding", "--child", "--sample", str(args.sample),
           "--queries", str(args.queries), "--cache", str(args.cache), "--sets", ",".join(args.sets)]
    if not args.quality:
        cmd.append("--no-quality")
    if known:
        cmd += ["--known", ",".join(known)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=os.environ | {"HF_HUB_OFFLINE": "1"} | env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"config": name, "env": env, "wall_s": round(time.perf_counter() - started, 1)} | row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench embedding", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", action="append", default=[], metavar="NAME=ENV=VALUE,...",
                        help="a configuration (repeatable); default: the standard comparison")
    parser.add_argument("--sample", type=int, default=96, help="passages and sentences embedded for the ingest rate")
    parser.add_argument("--queries", type=int, default=80, help="distinct questions embedded for query latency")
    parser.add_argument("--sets", type=lambda s: s.split(","), default=list(SETS))
    parser.add_argument("--no-quality", dest="quality", action="store_false")
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "bench-embedding-cache.sqlite",
                        help="embedding cache for the quality indexes (per model id)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--known", type=lambda s: s.split(","), default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0

    args.cache.parent.mkdir(parents=True, exist_ok=True)
    print(machine_line(machine_info()), flush=True)
    rows: list[dict] = []
    for name, env in (parse_config(c) for c in (args.config or STANDARD)):
        row = run_config(name, env, args, [r["model_id"] for r in rows if "quality" in r])
        same = next((r["config"] for r in rows if r["model_id"] == row["model_id"] and "quality" in r), None)
        if same:
            row["same_vectors_as"] = same
        rows.append(row)
        print(_line(row), flush=True)
    if args.quality:
        print(quality_table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_info(), "runs": rows}, indent=2, ensure_ascii=False))
    return 0


def _line(row: dict) -> str:
    return (f"{row['config']:<20} load {row['load_s']:>5.1f} s  query p50 {row['query_p50_ms']:>6.1f} / p95 "
            f"{row['query_p95_ms']:>6.1f} ms  {row['passages_per_s']:>6.2f} passages/s  {row['sentences_per_s']:>6.2f} "
            f"sentences/s  peak RSS {row['peak_rss_mb']} MB  [{row['model_id'].split('/')[-1]}]")


def quality_table(rows: list[dict]) -> str:
    lines = ["| config | set | R@5 | MRR@10 | correct | refusal acc. | false refusals |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        for name, q in row.get("quality", {}).items():
            note = f" (= {row['same_vectors_as']})" if "same_vectors_as" in row else ""
            lines.append(f"| {row['config']}{note} | {name} | {q['recall@5']:.3f} | {q['mrr@10']:.3f} | "
                         f"{q['answer_correct']:.3f} | {q['refusal_accuracy']:.3f} | {q['false_refusal_rate']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
