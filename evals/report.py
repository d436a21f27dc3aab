"""Evaluation reports: a Markdown summary and a machine-readable JSON file."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

from evals.runner import QuestionResult, as_dict, summarize, summarize_by

COLUMNS = [
    ("recall@1", "R@1"), ("recall@5", "R@5"), ("recall@10", "R@10"), ("mrr@10", "MRR@10"), ("ndcg@10", "nDCG@10"),
    ("cited_relevant", "cited rel."), ("citation_precision", "cite prec."), ("answer_correct", "correct"),
    ("refusal_accuracy", "refusal acc."), ("false_refusal_rate", "false ref."), ("in_language", "in lang."),
    ("wrong_shown", "wrong shown"), ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
]


def _cell(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.0f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def table(rows: dict[str, dict]) -> str:
    head = "| | n | " + " | ".join(label for _, label in COLUMNS) + " |"
    sep = "|---" * (len(COLUMNS) + 2) + "|"
    lines = [head, sep]
    for name, summary in rows.items():
        lines.append(f"| {name} | {summary['questions']} | " + " | ".join(_cell(summary[key]) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def markdown(results: list[QuestionResult], title: str, config: dict) -> str:
    rows = {"all": summarize(results)}
    rows |= {f"lang={k}": v for k, v in summarize_by(results, "lang").items()}
    rows |= {f"type={k}": v for k, v in summarize_by(results, "type").items()}
    parts = [f"# {title}", "", table(rows), ""]
    failures = [r for r in results if r.failure]
    parts.append(f"## Failures ({len(failures)})")
    for r in failures:
        parts.append(f"- **{r.id}** ({r.lang}, {r.type}) {r.failure}: {r.question}")
        if r.resolved_question:
            parts.append(f"  - resolved as: {r.resolved_question}")
        parts.append(f"  - answer: {r.answer[:300]}")
        if r.expected_keywords and r.failure == "answer lacks the expected keywords":
            parts.append(f"  - expected one of each: {r.expected_keywords}")
        if r.expected_answerable and not any(r.relevance[:1]):
            parts.append(f"  - top passage: {r.top_passage[:200].replace(chr(10), ' ')}")
    parts += ["", "## Configuration", "```json", json.dumps(config, ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(parts)


def write_report(directory: Path, results: list[QuestionResult], title: str, config: dict, threshold: float) -> None:
    from evals.plots import confidence_histogram, latency_histogram, metric_bars

    directory.mkdir(parents=True, exist_ok=True)
    payload = {
        "title": title,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "summary": summarize(results),
        "by_lang": summarize_by(results, "lang"),
        "by_type": summarize_by(results, "type"),
        "questions": [as_dict(r) for r in results],
    }
    (directory / "report.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    (directory / "report.md").write_text(markdown(results, title, config), encoding="utf-8")
    metric_bars({"citeqa": results}, directory / "metrics.png", title)
    if any(r.confidence is not None for r in results):
        confidence_histogram(results, threshold, directory / "confidence.png", "answerable vs unanswerable")
    latency_histogram({"citeqa": results}, directory / "latency.png", "latency per question")
