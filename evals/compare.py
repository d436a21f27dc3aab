"""`citeqa eval --compare`: the same questions through citeqa and the reference pipelines."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from evals.baselines import ChunkBaseline, LlamaIndexDefault
from evals.questions import Question
from evals.report import table
from evals.runner import QuestionResult, as_dict, run_questions, summarize, summarize_by
from evals.targets import LocalTarget, Target
from index.store import IndexData
from service.qa.pipeline import QAPipeline


def configurations(pipeline: QAPipeline, index: IndexData) -> list[Target]:
    embedder = pipeline.embedder
    return [
        LlamaIndexDefault(index, embedder),
        ChunkBaseline(index, embedder, "bm25"),
        ChunkBaseline(index, embedder, "dense"),
        ChunkBaseline(index, embedder, "ensemble"),
        LocalTarget(pipeline, index, name="citeqa"),
    ]


def run_comparison(questions: list[Question], targets: list[Target], top_k: int, progress: bool) -> dict[str, list[QuestionResult]]:
    return {t.name: run_questions(questions, t, top_k=top_k, progress=progress) for t in targets}


def comparison_markdown(runs: dict[str, list[QuestionResult]], title: str, config: dict) -> str:
    overall = {name: summarize(results) for name, results in runs.items()}
    parts = [f"# {title}", "", "## All questions", "", table(overall), ""]
    for lang in ("zh", "en"):
        rows = {name: summarize_by(results, "lang")[lang] for name, results in runs.items()
                if lang in summarize_by(results, "lang")}
        parts += [f"## lang={lang}", "", table(rows), ""]
    parts += [
        "Baselines have no answerer: each answers with its top passage and never refuses, so their",
        "'correct' and 'refusal acc.' columns show what a reader of the top passage would get.",
        "The llama-index default retrieves 2 passages (its default top-k), so its R@5 and R@10 equal R@2.",
        "", "## Configuration", "```json", json.dumps(config, ensure_ascii=False, indent=2), "```", "",
    ]
    return "\n".join(parts)


def write_comparison(directory: Path, runs: dict[str, list[QuestionResult]], title: str, config: dict, threshold: float) -> None:
    from evals.plots import confidence_histogram, latency_histogram, metric_bars
    from evals.report import markdown

    directory.mkdir(parents=True, exist_ok=True)
    payload = {
        "title": title,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "configurations": {
            name: {"summary": summarize(results), "by_lang": summarize_by(results, "lang"),
                   "by_type": summarize_by(results, "type"), "questions": [as_dict(r) for r in results]}
            for name, results in runs.items()
        },
    }
    (directory / "compare.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    (directory / "compare.md").write_text(comparison_markdown(runs, title, config), encoding="utf-8")
    if "citeqa" in runs:
        (directory / "citeqa.md").write_text(markdown(runs["citeqa"], f"{title}: citeqa details", config), encoding="utf-8")
        confidence_histogram(runs["citeqa"], threshold, directory / "confidence.png", "citeqa: answerable vs unanswerable")
    metric_bars(runs, directory / "metrics.png", title)
    latency_histogram(runs, directory / "latency.png", "latency per question, in-process")
