"""Check each sentence an LLM wrote against the passages it cites, before anyone reads it.

A weak model's errors are of a few kinds, and each has its own check, applied in order:

- figures: every figure must equal one in the cited sentences once both are on one scale
  (``figures.py``: 23亿美元 = US$2.3 billion, not US$23 billion), so a 10x slip or an
  invented count fails;
- entities: every name the sentence uses must be named in the cited passages (any of its
  synonyms, so "Google" is checked against 谷歌);
- binding: the cited sentence that carries a figure, or that the sentence paraphrases, must be
  about the sentence's own entity, period and metric. This is the extractive path's
  ``QuestionBinding`` with the written sentence as the "question", so one company's capex
  given as another's fails although the figure itself is in the passage;
- meaning: the written sentence must be close in meaning (cosine of sentence vectors) to a
  cited sentence it is bound to, so a characterisation no cited sentence makes fails.

Citations are the model's first guess only: a sentence without ``[n]``, or whose ``[n]``
does not support it, is checked against every offered passage and cited where the support
is (the way RAGFlow inserts citations after generation). A sentence that fails every check
is never shown; it is reported under ``unsupported`` with the first failed check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ingest.schema import Span
from service.qa.answerability import source_names
from service.qa.binding import QuestionBinding, Vocabulary
from service.qa.comparison import side_question
from service.qa.figures import figures
from service.qa.language import detect_language, mostly_cjk

# [1], [1, 2], [1][2], 【1】, ［1］ and the "[^1]" of some chat models.
MARKER = re.compile(r"\s*[\[【［]\^?\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】］]")
_STOP = re.compile(r"[。！？!?.…]+[”’\"'」』）)]*$")
_WORD = re.compile(r"[A-Za-z0-9\u3400-\u9fff]")
# Where one sentence joins two claims ("A走X路线，而B走Y路线", "A does X, while B does Y").
_CLAUSE = re.compile(r"[；;]|[，,]\s*(?:而|但|同时|此外|while\b|whereas\b|but\b|and\b)", re.IGNORECASE)


@dataclass(frozen=True)
class SourceSentence:
    doc_id: str
    span: Span
    text: str
    context: str  # the sentence with the text just before it, as the binding reads it


@dataclass(frozen=True)
class OfferedSource:
    """A numbered passage shown to the writer: its best sentences and their neighbours."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    passage_text: str  # the whole cited passage, where its names are looked up
    sentences: tuple[SourceSentence, ...]

    @property
    def text(self) -> str:
        joiner = "" if mostly_cjk(" ".join(s.text for s in self.sentences)) else " "
        return joiner.join(s.text.strip() for s in self.sentences)


@dataclass
class Verdict:
    text: str  # the sentence without its markers
    ok: bool
    check: str | None = None  # the failed check: language, entity, figure, binding or meaning
    reason: str | None = None
    cited: list[int] = field(default_factory=list)  # where its support is (after any re-citing)
    support: list[SourceSentence] = field(default_factory=list)
    cosine: float = 0.0
    recited: bool = False  # the model gave no [n], or one that does not support it

    def rendered(self, language: str) -> str:
        """The sentence with its markers before its final stop, as extractive answers write them."""
        m = _STOP.search(self.text)
        body, stop = (self.text[: m.start()], m.group(0)) if m else (self.text, "")
        stop = stop or ("。" if language == "zh" else ".")
        markers = "".join(f"[{n}]" for n in self.cited)
        return f"{body.rstrip()} {markers}{stop}"


def split_markers(sentence: str) -> tuple[str, list[int]]:
    numbers = [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"[,，、\s]+", m.group(1)) if n]
    text = MARKER.sub("", sentence).strip()
    return text, list(dict.fromkeys(numbers))


@dataclass(frozen=True)
class VerifyParams:
    # Cosine between a written sentence and the cited sentence it restates (document vectors on
    # both sides). Decided on the tuning set (evals/REPORT.md, "Verified LLM answers").
    min_cosine: float = 0.72


class Verifier:
    def __init__(self, vocabulary: Vocabulary, documents: Mapping, sources: list[OfferedSource], language: str,
                 embed: Callable[[list[str]], np.ndarray], vectors: np.ndarray, params: VerifyParams | None = None) -> None:
        """``vectors`` holds one unit vector per offered sentence, in source order."""
        self.vocabulary, self.documents, self.language = vocabulary, documents, language
        self.sources = {s.n: s for s in sources}
        self.embed = embed
        self.params = params or VerifyParams()
        self._rows: dict[int, list[int]] = {}
        row = 0
        for source in sources:
            self._rows[source.n] = list(range(row, row + len(source.sentences)))
            row += len(source.sentences)
        self.vectors = vectors
        self._names = {s.n: set().union(*self.vocabulary.entity_keys(f"{s.title}\n{s.passage_text}") or [set()])
                       for s in sources}

    def check(self, written: str) -> Verdict | None:
        """None for a piece that states nothing (a stray marker or punctuation)."""
        text, numbers = split_markers(written)
        if len(_WORD.findall(text)) < 2:
            return None
        if detect_language(text) != self.language:
            return Verdict(text, False, "language", f"not in the question's language ({self.language})")
        clauses = self._clauses(text)
        vectors = self.embed([text, *clauses])
        cited = [n for n in numbers if n in self.sources]
        first = self._check_all(text, clauses, vectors, cited) if cited else None
        if first is not None and first.ok:
            return first
        # No usable [n], or one that does not support the sentence: look where the support is.
        anywhere = self._check_all(text, clauses, vectors, list(self.sources))
        anywhere.recited = True
        return anywhere

    def _clauses(self, text: str) -> list[str]:
        """A sentence joining claims about different entities is checked claim by claim as well:
        its whole may be close to one true claim while the other is false. "A and B both do X"
        is two claims, one per entity, each with the other names taken out."""
        parts = [p.strip(" ，,；;") for p in _CLAUSE.split(text)]
        parts = [p for p in parts if len(_WORD.findall(p)) >= 2]
        if len(parts) < 2 or not all(self.vocabulary.mentions(p) for p in parts):
            parts = [text]
        out = []
        for part in parts:
            sides = self.vocabulary.coordinated(part)
            out += [side_question(part, side, [o for o in sides if o != side], self.vocabulary.synonyms) for side in sides] or [part]
        return [] if out == [text] else out

    def _check_all(self, text: str, clauses: list[str], vectors: np.ndarray, numbers: list[int]) -> Verdict:
        whole = self._check(text, vectors[0], numbers)
        if not whole.ok:
            return whole
        for clause, vector in zip(clauses, vectors[1:]):
            part = self._check(clause, vector, numbers)
            if not part.ok:
                return Verdict(text, False, part.check, f"{part.reason}, in {clause!r}", cosine=part.cosine)
            whole.cited = list(dict.fromkeys(sorted([*whole.cited, *part.cited])))
            whole.support += [s for s in part.support if s not in whole.support]
            whole.cosine = min(whole.cosine, part.cosine)
        return whole

    def _check(self, text: str, vector: np.ndarray, numbers: list[int]) -> Verdict:
        sentences = [(n, s) for n in numbers for s in self.sources[n].sentences]
        rows = [r for n in numbers for r in self._rows[n]]
        cosines = self.vectors[rows] @ vector if rows else np.zeros(0)
        names = set().union(*(self._names[n] for n in numbers)) if numbers else set()
        for mention in self.vocabulary.mentions(text):
            if not mention.keys & names:
                return Verdict(text, False, "entity", f"names {text[mention.start:mention.end]!r}, which the cited passages do not")
        stated = figures(text)
        answer_type = "money" if any(f.kind == "money" for f in stated) else ("number" if stated else None)
        binding = QuestionBinding(self.vocabulary, self.documents, text, answer_type, source_names(text), claim=True)
        bound = [binding(s.doc_id, s.span.start, s.span.end, s.context) for _, s in sentences]
        # Whose each figure is in the written sentence, read as a source sentence is read: the
        # entity before it in its clause ("阿里云…对ERNIE…免费" gives the date to 阿里云, not ERNIE).
        owners = self.vocabulary.sentence_subjects("", "", text, 0, len(text), [(f.start, f.end) for f in stated],
                                                   frozenset(k for keys in binding.wanted for k in keys)) if stated else []
        # Each cited sentence's figures, read once; a year may be stated just before the sentence
        # ("2023年，…"), as the binding reads it too.
        given = [figures(s.text) for _, s in sentences] if stated else []
        years = [figures(s.context) for _, s in sentences] if any(f.kind == "year" for f in stated) else []
        support: list[int] = []
        for figure, owner in zip(stated, owners):
            holding = [i for i in range(len(sentences))
                       if any(figure.equals(f) for f in (years[i] if figure.kind == "year" else given[i]))]
            if not holding:
                return Verdict(text, False, "figure", f"the figure {figure.text!r} is not in the cited passages")
            owned = binding.owned_by(owner) if owner & {k for keys in binding.wanted for k in keys} else binding
            held = [i for i in holding if bound[i] and (owned is binding or owned(sentences[i][1].doc_id,
                    sentences[i][1].span.start, sentences[i][1].span.end, sentences[i][1].context))]
            if not held:
                return Verdict(text, False, "binding", f"the figure {figure.text!r} is stated there for something else")
            support.append(max(held, key=lambda i: cosines[i]))
        candidates = [i for i in range(len(sentences)) if bound[i]]
        if not candidates:
            return Verdict(text, False, "binding", "no cited sentence is about what it names")
        best = max(candidates, key=lambda i: cosines[i])
        if cosines[best] < self.params.min_cosine:
            return Verdict(text, False, "meaning", f"no cited sentence says this (closest {cosines[best]:.2f})", cosine=float(cosines[best]))
        support = list(dict.fromkeys([best, *support]))
        cited = list(dict.fromkeys(sentences[i][0] for i in sorted(support, key=lambda i: sentences[i][0])))
        return Verdict(text, True, None, None, cited, [sentences[i][1] for i in support], float(cosines[best]))
