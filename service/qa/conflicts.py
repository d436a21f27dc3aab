"""Sources that disagree on a figure are both shown.

The article says Google invested US$2.3 billion in Anthropic; a profile says up to US$2
billion. Quoting one of them reads as if it were the only figure. A conflict is a second
sentence, from another document, that answers the same question (bound to the same entity,
close enough, of the asked kind) with a sum of money near the first one's but not equal to
it, and not stated for another year. Sums far apart (4 billion vs. 500 million) are more
often different things (a total and an instalment) than a disagreement, so they are not
flagged.
"""

from __future__ import annotations

from collections.abc import Callable

from service.qa.binding import YEAR
from service.qa.figures import Figure
from service.qa.quoting import Quote

NOTES = {"zh": "不同来源的数字不一致：", "en": "The sources differ: "}


def conflicting(chosen: list[Quote], pool: list[Quote], bound_amounts: Callable[[Quote], list[Figure]],
                answers: Callable[[Quote], bool], max_ratio: float = 2.0) -> list[tuple[Quote, Quote]]:
    """(chosen quote, quote that disagrees with it), at most one per chosen quote; the second
    may be another chosen quote or one from the pool."""
    pairs: list[tuple[Quote, Quote]] = []
    for i, quote in enumerate(chosen):
        mine = bound_amounts(quote)
        if not mine:
            continue
        # Later chosen quotes first (both are shown already), then the rest of the pool.
        for other in chosen[i + 1 :] + [q for q in pool if q not in chosen]:
            if other.doc_id == quote.doc_id or not answers(other) or any(other is o for _, o in pairs):
                continue
            theirs = bound_amounts(other)
            if not theirs or any(a.equals(b) for a in mine for b in theirs):
                continue  # no figure, or the sources agree on one
            years_mine, years_theirs = set(YEAR.findall(quote.context)), set(YEAR.findall(other.context))
            if years_mine and years_theirs and not years_mine & years_theirs:
                continue  # figures for different years
            if any(a.currency == b.currency and max(a.value, b.value) <= max_ratio * min(a.value, b.value)
                   for a in mine for b in theirs):
                pairs.append((quote, other))
                break
    return pairs
