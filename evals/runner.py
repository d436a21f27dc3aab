"""Run a question set against a target and compute the metrics of the design notes."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from tqdm import tqdm

from evals.metrics import (answer_correct, citation_precision, in_question_language, is_relevant, mean, mrr_at_k,
                           ndcg_at_k, percentile, recall_at_k)
from evals.questions import Question
from evals.targets import Target

RANK_DEPTH = 10
# Over HTTP the corpus is unknown; relevant passages are counted in this many results.
IDEAL_DEPTH = 50


@dataclass
class QuestionResult:
    id: str
    lang: str
    type: str
    question: str
    expected_answerable: bool
    answered: bool
    answer: str
    correct: bool
    latency_ms: float
    relevance: list[bool] = field(default_factory=list)  # of the top RANK_DEPTH search results
    n_relevant: int = 0
    cited: list[str] = field(default_factory=list)
    cited_relevant: list[bool] = field(default_factory=list)
    citation_precision: float | None = None
    resolved_question: str | None = None
    top_passage: str = ""
    confidence: float | None = None
    expected_keywords: list[list[str]] = field(default_factory=list)

    @property
    def failure(self) -> str | None:
        if not self.expected_answerable:
            return None if not self.answered else "answered an unanswerable question"
        if not self.answered:
            return "refused an answerable question"
        if not any(self.cited_relevant):
            return "no relevant passage cited"
        if not self.correct:
            return "answer lacks the expected keywords"
        return None


def run_questions(questions: list[Question], target: Target, *, top_k: int = 5, progress: bool = True) -> list[QuestionResult]:
    passages = target.all_passages()
    if questions:
        target.search(questions[0].question, 1)  # first-call costs are not what users see on a warm server
    results = []
    for q in tqdm(questions, desc=f"eval {target.name}", disable=not progress, unit="q"):
        started = time.perf_counter()
        reply = target.ask(q, top_k)
        latency = (time.perf_counter() - started) * 1000
        query = reply.resolved_question or q.question
        ranked = target.search(query, max(RANK_DEPTH, IDEAL_DEPTH if passages is None else RANK_DEPTH))
        relevance = [is_relevant(p.text, q.evidence) for p in ranked]
        pool = passages if passages is not None else [p.text for p in ranked]
        cited = [c.text for c in reply.citations] if reply.answerable else []
        results.append(QuestionResult(
            id=q.id, lang=q.lang, type=q.type, question=q.question, expected_answerable=q.answerable,
            answered=reply.answerable, answer=reply.answer,
            correct=(reply.answerable and answer_correct(reply.answer, q.answer_keywords)) if q.answerable else not reply.answerable,
            latency_ms=latency, relevance=relevance[:RANK_DEPTH],
            n_relevant=sum(is_relevant(p, q.evidence) for p in pool) if q.answerable else 0,
            cited=cited, cited_relevant=[is_relevant(c, q.evidence) for c in cited],
            citation_precision=citation_precision(cited, q.evidence) if q.answerable else None,
            resolved_question=reply.resolved_question, top_passage=ranked[0].text if ranked else "",
            confidence=reply.confidence, expected_keywords=q.answer_keywords,
        ))
    return results


def summarize(results: list[QuestionResult]) -> dict[str, float | int]:
    answerable = [r for r in results if r.expected_answerable]
    unanswerable = [r for r in results if not r.expected_answerable]
    precisions = [r.citation_precision for r in answerable if r.citation_precision is not None]
    latencies = [r.latency_ms for r in results]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": mean([recall_at_k(r.relevance, 1) for r in answerable]),
        "recall@5": mean([recall_at_k(r.relevance, 5) for r in answerable]),
        "recall@10": mean([recall_at_k(r.relevance, 10) for r in answerable]),
        "mrr@10": mean([mrr_at_k(r.relevance, 10) for r in answerable]),
        "ndcg@10": mean([ndcg_at_k(r.relevance, r.n_relevant, 10) for r in answerable]),
        "cited_relevant": mean([1.0 if any(r.cited_relevant) else 0.0 for r in answerable]),
        "citation_precision": mean(precisions),
        "answer_correct": mean([1.0 if r.correct else 0.0 for r in results]),
        "answer_correct_answerable": mean([1.0 if r.correct else 0.0 for r in answerable]),
        "refusal_accuracy": mean([0.0 if r.answered else 1.0 for r in unanswerable]),
        "false_refusal_rate": mean([0.0 if r.answered else 1.0 for r in answerable]),
        # Of the answers shown: in the asker's language (or introduced in it).
        "in_language": mean([1.0 if in_question_language(r.answer, r.lang) else 0.0 for r in results if r.answered]),
        # Answers a reader should not have been shown: wrong, or to a question the documents do not answer.
        "wrong_shown": mean([1.0 if r.answered and (not r.expected_answerable or not r.correct) else 0.0 for r in results]),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def summarize_by(results: list[QuestionResult], key: str) -> dict[str, dict[str, float | int]]:
    groups: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        groups[getattr(r, key)].append(r)
    return {name: summarize(group) for name, group in sorted(groups.items())}


def as_dict(result: QuestionResult) -> dict:
    return asdict(result) | {"failure": result.failure}
