"""Binary-relevance retrieval metrics, answer correctness and latency summaries."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence


def squash(text: str) -> str:
    return "".join(text.split())


def is_relevant(passage: str, evidence: Sequence[str]) -> bool:
    """Relevant when, whitespace removed from both, the passage contains any evidence string."""
    flat = squash(passage)
    return any(squash(e) in flat for e in evidence if squash(e))


def recall_at_k(relevance: Sequence[bool], k: int) -> float:
    """1.0 when a relevant passage is among the first k."""
    return 1.0 if any(relevance[:k]) else 0.0


def mrr_at_k(relevance: Sequence[bool], k: int = 10) -> float:
    for rank, rel in enumerate(relevance[:k], 1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevance: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    """nDCG with the ideal DCG from the relevant passages that exist (capped at k)."""
    ideal_hits = min(n_relevant, k)
    if ideal_hits == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, rel in enumerate(relevance[:k], 1) if rel)
    idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_hits + 1))
    return dcg / idcg


def answer_correct(answer: str, keyword_groups: Sequence[Sequence[str]]) -> bool:
    """Every group has at least one member in the answer (case-insensitive)."""
    low = answer.lower()
    return all(any(k.lower() in low for k in group) for group in keyword_groups)


def in_question_language(answer: str, lang: str) -> bool:
    """The answer reads in the question's language, or introduces its quotes in it
    ("The documents (in Chinese) say: …")."""
    from service.qa.language import INTRODUCTIONS, detect_language

    text = re.sub(r"\[\d+\]", "", answer)
    return detect_language(text) == lang or any(intro.strip() in answer for (asked, _), intro in INTRODUCTIONS.items()
                                                if asked == lang)


def citation_precision(cited: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of cited passages that are relevant; None when nothing is cited."""
    if not cited:
        return None
    return sum(is_relevant(c, evidence) for c in cited) / len(cited)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
