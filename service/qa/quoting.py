"""Extractive answers: quote the retrieved sentences that best answer the question.

Each quoted sentence carries the ``[n]`` of the passage it comes from, so every claim
in an answer is a passage that was retrieved. Sentence vectors come from the index,
so answering costs no model call beyond the query embedding done for retrieval.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from index.store import IndexData
from index.tokenize import sentence_tokens, tokenize
from ingest.schema import Span
from service.qa.language import mostly_cjk
from service.qa.retrieval import Candidate

_BULLET = re.compile(r"^(?:[-*•·]\s+|\d{1,2}[.)]\s+)")
_URL = re.compile(r"https?:(?://)?|www\.\w", re.IGNORECASE)
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SOURCES = re.compile(r"^#+\s*(?:sources?|references?|further reading|bibliography|资料来源|参考资料|参考文献|来源|出处)\b",
                      re.IGNORECASE)
_TERMINAL = re.compile(r"[。！？；!?;.…]+[”’\"'」』）)\]】]*$")


@dataclass(frozen=True)
class AnswerParams:
    max_sentences: int = 4
    sentence_margin: float = 0.08  # keep sentences scoring within this of the best
    min_sentence_chars: int = 8
    lexical_weight: float = 0.1  # share of query words a sentence contains
    # A sentence naming an entity the best quotes miss (the other side of a comparison)
    # is added when it scores within this of the best.
    coverage_margin: float = 0.2
    # How much text before a quoted sentence may name what it is about ("其…" refers back).
    context_chars: int = 40


@dataclass
class Quote:
    candidate_rank: int  # index into the cited candidates
    doc_id: str
    span: Span
    text: str
    score: float
    cosine: float
    context: str  # the sentence with the text just before it in its passage
    disputed: bool = False  # gives another figure than a quote from another document


@dataclass
class Draft:
    quotes: list[Quote] = field(default_factory=list)
    pool: list[Quote] = field(default_factory=list)  # every admissible sentence, best first
    # The best cosine of a sentence that scored above every admissible one but is bound to
    # something else: a passage about another entity, year or metric ranked first.
    rejected_cosine: float = 0.0

    @property
    def best(self) -> Quote | None:
        return max(self.quotes, key=lambda q: q.cosine) if self.quotes else None


def select_quotes(data: IndexData, question: str, hits: list[Candidate], params: AnswerParams,
                  covers: Callable[[list[str]], list[str]] | None = None,
                  can_cover: Callable[[Quote], bool] = lambda quote: True,
                  seeds: list[tuple[str, int]] | None = None,
                  admissible: Callable[[Quote], bool] = lambda quote: True,
                  answers: Callable[[Quote], bool] | None = None) -> Draft:
    """The best sentences of the passages in ``hits``.

    ``seeds`` (doc_id, sentence start) are quoted first, e.g. one per side of a comparison.
    ``covers`` returns the question's terms that a list of contexts does not mention;
    sentences that ``can_cover`` accepts are added, while they score close enough,
    until nothing is missing (the other side of a comparison). Only sentences that
    ``admissible`` accepts (bound to what the question asks about) are quoted at all.
    When no chosen sentence ``answers`` (holds a value of the asked kind), the best one
    that does, while it scores close enough, leads instead.
    """
    q_tokens = set(tokenize(question))
    seen: set[tuple[str, int]] = set()
    pool: list[Quote] = []
    for rank, hit in enumerate(hits):
        chunk = data.chunks[hit.index].chunk
        text = data.documents[chunk.doc_id].text
        for span, cosine in zip(chunk.sentences, hit.sentence_scores):
            key = (chunk.doc_id, span.start)
            sentence = text[span.start : span.end]
            if key in seen or not quotable(text, span, params.min_sentence_chars):
                continue
            seen.add(key)
            overlap = len(q_tokens & sentence_tokens(sentence)) / len(q_tokens) if q_tokens else 0.0
            context = text[max(chunk.start, span.start - params.context_chars) : span.end]
            pool.append(Quote(rank, chunk.doc_id, span, sentence, float(cosine) + params.lexical_weight * overlap, float(cosine),
                              context))
    pool.sort(key=lambda q: -q.score)
    # Only sentences that could be quoted are checked for admissibility: those scoring within the
    # widest margin of the best admissible one, and the seeds. Binding is the costly check.
    window, wanted_seeds, kept, top = max(params.coverage_margin, params.sentence_margin), set(seeds or []), [], None
    rejected = 0.0
    for quote in pool:
        if top is not None and quote.score < top - window and (quote.doc_id, quote.span.start) not in wanted_seeds:
            continue
        if admissible(quote):
            kept.append(quote)
            top = quote.score if top is None else top
        elif top is None:
            rejected = max(rejected, quote.cosine)
    pool = kept
    if not pool:
        return Draft(rejected_cosine=rejected)
    best = pool[0].score
    keys = {id(q): (data.chunks[hits[q.candidate_rank].index].chunk.doc_id, q.span.start) for q in pool}
    seeded = [q for key in dict.fromkeys(seeds or []) for q in pool if keys[id(q)] == key]
    chosen = seeded or [pool[0]]
    if answers is not None and not any(answers(q) for q in chosen):
        lead = next((q for q in pool if answers(q) and q.score >= best - params.coverage_margin), None)
        if lead is not None:
            chosen = [lead] + [q for q in chosen if q is not lead]
    if covers is not None:
        missing = covers([q.context for q in chosen])
        for quote in pool[1:]:
            if not missing or len(chosen) >= params.max_sentences or quote.score < best - params.coverage_margin:
                break
            if not can_cover(quote):
                continue
            if quote in chosen:
                continue
            still = covers([q.context for q in chosen] + [quote.context])
            if len(still) < len(missing):
                chosen.append(quote)
                missing = still
    for quote in pool[1:]:
        if len(chosen) >= params.max_sentences or quote.score < best - params.sentence_margin:
            break
        if quote not in chosen and not any(_near_duplicate(quote.text, q.text) for q in chosen):
            chosen.append(quote)
    return Draft(chosen, pool, rejected)


def _bigrams(text: str) -> set[str]:
    flat = "".join(text.split())
    return {flat[i : i + 2] for i in range(len(flat) - 1)}


def _near_duplicate(a: str, b: str, threshold: float = 0.6) -> bool:
    """Articles restate facts; quoting the same statement twice adds nothing."""
    x, y = _bigrams(a), _bigrams(b)
    return bool(x and y) and len(x & y) / len(x | y) >= threshold


def answer_pieces(quotes: list[Quote], numbers: dict[int, int]) -> list[str]:
    """Quotes in reading order, each followed by its ``[n]`` before the final stop.

    One piece per quoted sentence: joined they are the answer, streamed they are the deltas.
    A list item's bullet is dropped, and a clause that ended in a semicolon or colon ends
    with a full stop, since it now stands alone.
    """
    pieces = []
    for quote in quotes:
        sentence = _BULLET.sub("", quote.text.strip())
        m = _TERMINAL.search(sentence)
        body, stop = (sentence[: m.start()], m.group(0)) if m else (sentence, "")
        if not stop or stop[0] in "；;：:":
            stop = "。" if mostly_cjk(body) else "."
        marker = f" [{numbers[quote.candidate_rank]}]"
        # A Latin full stop needs a space before the next sentence; a Chinese one does not.
        pieces.append(f"{body}{marker}{stop}" + (" " if stop[-1] in ".!?…\"'”)" else ""))
    if pieces:
        pieces[-1] = pieces[-1].rstrip()
    return pieces


def quotable(text: str, span: Span, min_chars: int) -> bool:
    sentence = text[span.start : span.end]
    if len(sentence) < min_chars or sentence.rstrip("”’\"'」』）)").endswith(("?", "？")):
        return False
    # A reference entry is where a fact came from, not the fact: a link, or anything in a
    # "Sources" / "资料来源" section.
    if _URL.search(sentence) or _SOURCES.search(_heading_above(text, span.start)):
        return False
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.end)
    whole_line = span.start == line_start and (line_end == -1 or span.end == line_end)
    # A whole line without a sentence stop is a heading or a dateline, not a statement.
    return not (whole_line and not _TERMINAL.search(sentence) and len(sentence) < 40)


def quotable_text(text: str) -> str:
    """A document without what is never quoted from it: its reference lists and links."""
    out, in_sources = [], False
    for line in text.splitlines():
        if line.startswith("#"):
            in_sources = bool(_SOURCES.search(line))
        if not in_sources:
            out.append(_LINK.sub(" ", line))
    return "\n".join(out)


def _heading_above(text: str, position: int) -> str:
    """The markdown heading line nearest above ``position`` ("" when there is none)."""
    start = text.rfind("\n#", 0, position)
    if start < 0:
        return text[: text.find("\n")] if text.startswith("#") else ""
    end = text.find("\n", start + 1)
    return text[start + 1 : end if end >= 0 else len(text)]


def order_for_reading(quotes: list[Quote], hits: list[Candidate], data: IndexData) -> list[Quote]:
    doc_rank: dict[str, int] = {}
    for hit in hits:
        doc_rank.setdefault(data.chunks[hit.index].chunk.doc_id, len(doc_rank))
    return sorted(quotes, key=lambda q: (doc_rank[data.chunks[hits[q.candidate_rank].index].chunk.doc_id], q.span.start))


_LIST_ZH = re.compile(r"哪些|哪几|哪[两二三四五六七八九十]|几[个家种款项类大]|分别是|都有什么|有什么.{0,4}(?:模型|产品|芯片|服务|挑战)")
_LIST_EN = re.compile(r"\b(?:two|three|four|five|six|several|which|what)\s+(?:\w+\s+){0,3}?(?:models|products|chips|companies|"
                      r"services|tools|challenges|vendors|sizes|versions|series|features|layers|apps|applications|brands)\b|"
                      r"\b(?:list|name)\s+(?:the|all)\b|\bwhat\s+are\s+the\s+(?:two|three|four|five)\b", re.IGNORECASE)
_OPENS = re.compile(r"[；;：:]\s*[”’\"'」』）)]*\s*$")
_FIRST = re.compile(r"[一1]是|其一|首先|第一|\bfirst(?:ly)?\b|[:：]\s*$", re.IGNORECASE)
_ENUMERATOR = re.compile(r"^\s*(?:[-*•]\s*)?(?:[二三四五六七八九十]是|其[二三次]|其次|第[二三四五]|再次|最后|second(?:ly)?|third(?:ly)?|"
                         r"fourth|finally|and\s+(?:second|third)|\(?[2-9][.)、])", re.IGNORECASE)


def asks_for_list(question: str) -> bool:
    """"哪两个挑战", "which models", "name the three …": the answer is several items."""
    return bool(_LIST_ZH.search(question) or _LIST_EN.search(question))


def continue_lists(data: IndexData, hits: list[Candidate], quotes: list[Quote],
                   max_extra: int = 4) -> tuple[list[Candidate], list[Quote]]:
    """Each quote followed by the rest of the enumeration it starts or belongs to.

    A sentence ending in a semicolon or colon continues in the next one; "二是…"/"second, …"
    continues the list; and a list often opens a sentence or two after the one that
    announces it ("…更新了Bedrock平台。…其中有三个重要发布:一是…"). A continuation in a
    passage that was not retrieved joins the cited passages, so every quote stays cited.
    """
    hits, out = list(hits), []
    keys = {(q.doc_id, q.span.start) for q in quotes}
    for quote in quotes:
        out.append(quote)
        doc = data.documents[quote.doc_id]
        starts = [sp.start for sp in doc.sentences]
        following = [sp for sp in doc.sentences[bisect_right(starts, quote.span.start):] if sp.start >= quote.span.end]
        pending: list[Span] = []
        previous, last_end, started, added = quote.text, quote.span.end, False, 0
        for i, span in enumerate(following[: max_extra + 2]):
            if "\n\n" in doc.text[last_end : span.start]:
                break  # the paragraph ended
            sentence = doc.text[span.start : span.end]
            pending.append(span)
            if _OPENS.search(previous) or _ENUMERATOR.match(sentence) or (not started and i < 2 and _FIRST.search(sentence)):
                for held in pending:
                    if (quote.doc_id, held.start) in keys or added >= max_extra:
                        continue
                    keys.add((quote.doc_id, held.start))
                    text = doc.text[held.start : held.end]
                    out.append(Quote(_cited_rank(data, hits, quote.doc_id, held), quote.doc_id, held, text, quote.score,
                                     quote.cosine, text))
                    added += 1
                pending, started = [], True
            elif started or len(pending) > 1:
                break
            previous, last_end = sentence, span.end
    return hits, out


def _cited_rank(data: IndexData, hits: list[Candidate], doc_id: str, span: Span) -> int:
    """The rank of a retrieved passage holding ``span``, adding the passage that holds it if none does."""
    for rank, hit in enumerate(hits):
        chunk = data.chunks[hit.index].chunk
        if chunk.doc_id == doc_id and chunk.start <= span.start and span.end <= chunk.end:
            return rank
    position = next(i for i, r in enumerate(data.chunks)
                    if r.chunk.doc_id == doc_id and r.chunk.start <= span.start and span.end <= r.chunk.end)
    hits.append(Candidate(position, 0.0, 0.0, 0.0, None, 0.0))
    return len(hits) - 1
