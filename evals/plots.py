"""PNG charts for evaluation reports."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from evals.runner import QuestionResult, summarize  # noqa: E402

BAR_METRICS = [("recall@5", "Recall@5"), ("mrr@10", "MRR@10"), ("ndcg@10", "nDCG@10"), ("cited_relevant", "relevant cited"),
               ("answer_correct", "answer correct"), ("refusal_accuracy", "refusal accuracy")]


def metric_bars(runs: dict[str, list[QuestionResult]], path: Path, title: str) -> None:
    names = list(runs)
    summaries = [summarize(runs[n]) for n in names]
    x = np.arange(len(BAR_METRICS))
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(11, 4.8))
    for i, (name, summary) in enumerate(zip(names, summaries)):
        values = [np.nan_to_num(summary[key]) for key, _ in BAR_METRICS]
        bars = ax.bar(x + (i - (len(names) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    ax.set_xticks(x, [label for _, label in BAR_METRICS])
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8, ncol=min(len(names), 5), loc="upper center", bbox_to_anchor=(0.5, -0.08))
    _save(fig, ax, path, title, legend=False)


def confidence_histogram(results: list[QuestionResult], threshold: float, path: Path, title: str) -> None:
    """Best-sentence cosine of answerable vs unanswerable questions, with the refusal threshold."""
    answerable = [r.confidence for r in results if r.expected_answerable and r.confidence is not None]
    unanswerable = [r.confidence for r in results if not r.expected_answerable and r.confidence is not None]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bins = np.linspace(0, 1, 41)
    ax.hist(answerable, bins=bins, alpha=0.6, label=f"answerable (n={len(answerable)})", color="tab:green")
    ax.hist(unanswerable, bins=bins, alpha=0.6, label=f"unanswerable (n={len(unanswerable)})", color="tab:red")
    ax.axvline(threshold, color="black", linestyle="--", label=f"refusal threshold {threshold:.2f}")
    ax.set_xlabel("cosine(question, best quotable sentence)")
    ax.set_ylabel("questions")
    _save(fig, ax, path, title)


def latency_histogram(runs: dict[str, list[QuestionResult]], path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    top = max((r.latency_ms for results in runs.values() for r in results), default=1)
    bins = np.linspace(0, top * 1.05, 40)
    for name, results in runs.items():
        ax.hist([r.latency_ms for r in results], bins=bins, alpha=0.5, label=name)
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    _save(fig, ax, path, title)


def _save(fig, ax, path: Path, title: str, legend: bool = True) -> None:
    ax.set_title(title)
    if legend:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
