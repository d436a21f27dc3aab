"""What a quoted sentence is about: its entity, and the period, region and metric of its figures.

Similarity cannot refuse a near miss. "中国联通2024年资本开支是多少？" and China Mobile's
sentence share every word but the company, and the company is often not in the sentence at
all ("公司计划2024年资本开支约1730亿元" in a list item that begins "中国移动："). So a
sentence is bound to entities the way a reader binds it:

- a figure belongs to the entities named in its own clause (the text since the previous
  figure), so "Amazon invested US$4 billion, Google US$2.3 billion" gives each its own;
- a clause that names none inherits the nearest entity before it in the same paragraph,
  then the entities of the nearest heading above, then those of the document's title;
- a sentence without figures is about the entities it names, or else inherits the same way.

A quote can answer only if it is bound to an entity the question asks about, and only if its
period and region do not contradict the question's (first half vs. full year, worldwide vs.
China) and it names the metric the question asks for (parameters vs. tokens). The period,
region and metric vocabulary is data (``scopes.csv``), shared by every question.

An entity is a synonym group with a capitalised Latin name (companies, products) or a
capitalised Latin name in the text (Anthropic, Trainium2, Phi-3-mini). A versioned name that
the documents never use while they use its family (Phi-3-medium next to Phi-3-mini) is a
different product, not an unknown spelling.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from functools import lru_cache
from pathlib import Path

import jieba

from service.qa.answerability import DATE_OR_ORDINAL, GENERIC_WORDS, MONTH_NAMES, Synonyms
from service.qa.figures import Figure, amounts
from service.qa.language import mostly_cjk

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_RUN = re.compile(r"[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*(?:\s+(?:[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*|\d+(?:\.\d+)?)(?![\d.]*\s*(?:%|percent|billion|million)))*")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
# Capitalised words that start sentences or stand in titles, not names.
_COMMON = {
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "they", "their", "in", "on", "at", "by", "for",
    "from", "of", "to", "with", "and", "or", "but", "as", "after", "before", "since", "when", "while", "what", "which",
    "who", "how", "why", "where", "is", "are", "was", "were", "does", "do", "did", "can", "could", "will", "would",
    "should", "according", "unlike", "like", "both", "each", "all", "some", "many", "most", "more", "his", "her",
    "our", "we", "i", "you", "he", "she", "also", "however", "there", "here", "then", "so", "if", "not", "no", "yes",
    "first", "second", "third", "one", "two", "three", "en", "zh", "note", "notes", "sources", "source", "type",
    "facts", "relation", "results", "investment", "models", "model", "platform", "applications", "infrastructure",
    "chips", "per", "up", "over", "about", "between", "during", "under", "into", "through", "across",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "q1", "q2", "q3", "q4", "h1", "h2", "us", "usd", "cny", "rmb", "ai", "genai", "saas", "paas",
    "iaas", "maas", "gpu", "gpus", "cpu", "cpus", "api", "apis",
    # Words that many products share: "Alibaba Cloud" and "Google Cloud" are not both "Cloud"
    # (GENERIC_WORDS, shared with the mention checks, and these).
    "plus", "max", "ultra", "mini", "lite", "express", "studio", "text", "image", "chip", "lab", "labs",
    "research", "center", "centre", "team", "edition", "assistant", "suite", "foundation", "app", "apps", "store",
    # Units and number formats are not what a sentence is about.
    "ghz", "mhz", "nm", "tb", "gb", "mb", "kb", "fp16", "fp8", "fp32", "bf16", "int8", "eflops", "pflops", "tflops",
    "tops", "token", "tokens", "k", "m", "b", "bn", "gw", "mw", "kw",
} | GENERIC_WORDS
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_COUNTED_ZH = re.compile(r"多少(?:个|家|款|种|位|项|名|台|次|座|条)?(?P<noun>[\u4e00-\u9fff]{2,4}|[A-Za-z]{2,})")
_COUNTED_EN = re.compile(r"\bhow many\s+(?P<noun>(?:[A-Za-z-]+\s*){1,4})", re.IGNORECASE)
_NOT_COUNTED = {"钱", "人民币", "美元", "亿元", "万元", "时间", "年", "倍", "比例"}
_COUNTED_STOP = {"个", "的", "是", "了", "呢", "亿", "万"}


_QUANTITY = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千万亿几多]+)"


def _counts(sentence: str, noun: str) -> bool:
    """A quantity stands next to the noun: "20多种模型", "参数规模超过千亿", "3.8 billion parameters"."""
    for found in _alternation([noun], plurals=True).finditer(sentence):
        start, end = found.span()
        near = sentence[max(0, start - 12) : end + 12]
        if re.search(_QUANTITY, sentence[max(0, start - 12) : start]) or re.search(_QUANTITY, sentence[end : end + 12]) \
                or (not _CJK.search(noun) and re.search(r"\d", near)):
            return True
    return False


def counted_nouns(question: str) -> list[str]:
    """What "how many …" / "多少个…" counts ("models", "应用"): an answer counts the same thing."""
    out = []
    m = _COUNTED_ZH.search(question)
    if m:
        noun = m.group("noun")
        if _CJK.match(noun):
            noun = noun[: next((i for i, ch in enumerate(noun) if ch in _COUNTED_STOP), len(noun))]
            noun = next((w for w in (jieba.lcut(noun) if len(noun) >= 2 else []) if len(w) >= 2), "")
        if len(noun) >= 2 and noun not in _NOT_COUNTED and not noun.startswith(("是", "的")):
            out.append(noun)
    m = _COUNTED_EN.search(question)
    if m:
        words = m.group("noun").split()[:4]
        noun = next((w for w in words if w.lower().endswith("s") and len(w) > 3), words[0])
        noun = re.sub(r"ies$", "y", noun) if noun.lower().endswith("ies") else re.sub(r"s$", "", noun)
        out.append(noun)
    return out


_COORDINATION = re.compile(r"(?:'s|’s|的)?\s*(?:和|与|及|以及|、|跟|同|and|&|,|，|or|vs\.?|versus)\s*(?:from\s+|of\s+|the\s+)?",
                           re.IGNORECASE)
# "Phi-3-medium" -> "Phi-3", "Qwen 2.5" -> "Qwen", "Trainium3" -> "Trainium".
_VERSION = re.compile(r"^(?P<family>.+?)(?:[-\s](?:[A-Za-z]+|\d+(?:\.\d+)*[A-Za-z]*)|(?<=[A-Za-z])\d+(?:\.\d+)*[A-Za-z]*)$")


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    keys: frozenset[str]  # the groups named inside it, and the mention itself


@dataclass(frozen=True)
class Scope:
    """A figure's scope: group keys of each kind found near it."""

    period: frozenset[str] = frozenset()
    region: frozenset[str] = frozenset()
    metric: frozenset[str] = frozenset()


@dataclass
class _Doc:
    headings: list[tuple[int, frozenset[str]]]  # (position, entity keys) of heading lines
    title_keys: frozenset[str]
    heading_starts: list[int]  # every heading line, for the section a position is in
    heading_lines: list[str]


@dataclass
class Vocabulary:
    """Entity names (from the synonyms) and scope terms (from ``scopes.csv``)."""

    synonyms: Synonyms
    scopes: dict[str, list[tuple[str, ...]]]
    _entity_names: list[tuple[str, str]] = field(default_factory=list)  # (name, group key)
    _docs: dict[tuple[str, int], _Doc] = field(default_factory=dict)
    _group_keys: set[str] = field(default_factory=set)
    _entity_key: dict[str, str] = field(default_factory=dict)
    _entity_pattern: re.Pattern | None = None
    _scope_key: dict[str, dict[str, str]] = field(default_factory=dict)
    _scope_pattern: dict[str, re.Pattern | None] = field(default_factory=dict)
    _mention_cache: dict[str, list[Mention]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Names that are not entities: scope terms and synonym groups of common words ("China", "Chinese").
        self._not_entities = {_squash(t) for groups in self.scopes.values() for group in groups for t in group}
        for group in self.synonyms.groups:
            has_name = any(re.fullmatch(r"[A-Z][A-Za-z0-9-]{1,}(?:\s+[A-Z0-9][A-Za-z0-9-]*)*", t) for t in group)
            if has_name and not any(_squash(t) in self._not_entities for t in group):
                key = _squash(group[0])
                self._entity_names += [(name, key) for name in group]
                self._group_keys.add(key)
            else:
                self._not_entities |= {_squash(t) for t in group}
        self._entity_names.sort(key=lambda nk: -len(nk[0]))
        # One pattern per vocabulary, longest names first, so a scan is one regex pass.
        self._entity_key = {_squash(name): key for name, key in self._entity_names}
        self._entity_pattern = _alternation([name for name, _ in self._entity_names])
        self._scope_key = {kind: {_squash(t): _squash(group[0]) for group in groups for t in group}
                           for kind, groups in self.scopes.items()}
        self._scope_pattern = {kind: _alternation([t for group in groups for t in group], plurals=True)
                               for kind, groups in self.scopes.items()}
        self._mention_cache: dict[str, list[Mention]] = {}

    # -- entities ---------------------------------------------------------------------------
    def mentions(self, text: str) -> list[Mention]:
        """Entity mentions in ``text``, leftmost-longest, not overlapping."""
        cached = self._mention_cache.get(text)
        if cached is None:
            if len(self._mention_cache) > 50_000:  # sentences repeat across questions; bound the memory
                self._mention_cache.clear()
            cached = self._mention_cache[text] = self._mentions(text)
        return cached

    def _mentions(self, text: str) -> list[Mention]:
        found: list[tuple[int, int, str]] = []
        if self._entity_pattern is not None:
            for m in self._entity_pattern.finditer(text):
                key = self._entity_key.get(_squash(m.group(0)))
                if key is not None:
                    found.append((m.start(), m.end(), key))
        for m in _LATIN_RUN.finditer(text):
            words = m.group(0).split()
            while words and (words[0].lower() in _COMMON or not re.search(r"[A-Za-z]", words[0])):
                words = words[1:]
            if not words or (len(words) == 1 and len(words[0]) < 2) or _squash(" ".join(words)) in self._not_entities:
                continue
            name = " ".join(words)
            start = m.start() + m.group(0).index(words[0])
            found.append((start, start + len(name), _squash(name)))
            # "GitHub Copilot Enterprise" is also about Copilot.
            found += [(start, start + len(name), _squash(w)) for w in words
                      if len(words) > 1 and w[:1].isupper() and w.lower() not in _COMMON and _squash(w) not in self._not_entities]
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        out: list[Mention] = []
        for start, end, key in found:
            if out and start < out[-1].end:
                if end <= out[-1].end:  # inside a longer mention: it names a group within it
                    out[-1] = Mention(out[-1].start, out[-1].end, out[-1].keys | {key})
                continue
            out.append(Mention(start, end, frozenset({key})))
        return out

    def coordinated(self, text: str) -> list[str]:
        """Entities the text coordinates ("阿里和微软", "AWS's and Microsoft's", "from AWS and from
        Alibaba"): a question about each of them, answered side by side."""
        ments = self.mentions(text)
        names: list[str] = []
        for left, right in zip(ments, ments[1:]):
            between = text[left.end : right.start]
            if _COORDINATION.fullmatch(between) and not left.keys & right.keys:
                for m in (left, right):
                    name = text[m.start : m.end]
                    if name not in names:
                        names.append(name)
        return names if len(names) >= 2 else []

    def entity_keys(self, text: str) -> list[frozenset[str]]:
        return [m.keys for m in self.mentions(text)]

    def sibling_unknown(self, name: str, corpus: str, corpus_squashed: str | None = None) -> bool:
        """A versioned name the corpus never uses, although it names another version of the
        same family: "Phi-3-medium" next to "Phi-3-mini", "Trainium3" next to "Trainium2".
        A version is of the same kind as the asked one (a number, a lowercase word, a
        capitalised word), so "City Brain" is not a version of a "City …" the corpus mentions."""
        if not re.search(r"[A-Za-z]", name):
            return False
        if _squash(name) in (corpus_squashed if corpus_squashed is not None else _squash(corpus)):
            return False
        m = _VERSION.match(name)
        if not m or len(m.group("family")) < 3:
            return False
        family = m.group("family")
        version = name[len(family):].lstrip("- ")
        for found in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(family)}[-\s]?([A-Za-z0-9][A-Za-z0-9.]*)", corpus, re.IGNORECASE):
            other = found.group(1).rstrip(".")
            if _version_kind(other) == _version_kind(version) and other.lower() != version.lower():
                return True
        return False

    # -- scope ------------------------------------------------------------------------------
    def implied_answer_type(self, question: str) -> str | None:
        """"What is Zhipu AI's valuation?" asks for a sum of money although it never says "how much"."""
        if re.search(r"^\s*(?:why|how(?!\s+much))\b|为什么|为何|如何|怎么|怎样", question, re.IGNORECASE):
            return None
        amounts = {_squash(t) for group in self.scopes.get("amounts", []) for t in group}
        return "money" if self.scope(question).metric & amounts else None

    def scope(self, text: str) -> Scope:
        # "中国移动" names a company, not a region.
        for m in reversed(self.mentions(text)):
            text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
        return Scope(**{kind: frozenset(self._scope_keys(kind, text)) for kind in ("period", "region", "metric")})

    def _scope_keys(self, kind: str, text: str) -> set[str]:
        pattern = self._scope_pattern.get(kind)
        if pattern is None:
            return set()
        # The alternation is longest first, so 营业利润率 is not also 营业利润, and "share price" is not "share".
        keys = set()
        for m in pattern.finditer(text):
            word = _squash(m.group(0))
            table = self._scope_key[kind]
            key = table.get(word) or table.get(word[:-2] if word.endswith("es") else "") or table.get(word[:-1])
            if key:
                keys.add(key)
        return keys

    # -- documents --------------------------------------------------------------------------
    def _doc(self, doc_id: str, title: str, text: str) -> _Doc:
        cache_key = (doc_id, hash(text))
        doc = self._docs.get(cache_key)
        if doc is None:
            lines = list(re.finditer(r"(?m)^#{1,6} .*$", text))
            headings = [(m.start(), frozenset(k for keys in self.entity_keys(m.group(0)) for k in keys)) for m in lines]
            title_keys = frozenset(k for keys in self.entity_keys(title) for k in keys)
            doc = self._docs[cache_key] = _Doc([h for h in headings if h[1]], title_keys,
                                               [m.start() for m in lines], [m.group(0) for m in lines])
        return doc

    def heading_text(self, doc_id: str, title: str, text: str, position: int) -> str:
        """The title and the nearest heading above ``position``: what the section is about."""
        doc = self._doc(doc_id, title, text)
        index = bisect_right(doc.heading_starts, position) - 1
        return f"{title} {doc.heading_lines[index]}" if index >= 0 else f"{title} "

    def _subject_like(self, mention: Mention, relevant: frozenset[str]) -> bool:
        """A known entity (a synonym group), or a name the question uses. Other capitalised
        names ("Armv9", "Cobalt 100") are things an entity has, not who has them."""
        return bool(mention.keys & self._group_keys or mention.keys & relevant)

    def inherited(self, doc_id: str, title: str, text: str, position: int,
                  relevant: frozenset[str] = frozenset()) -> frozenset[str]:
        """The entity a clause without one speaks of: nearest before it in its paragraph,
        else the nearest heading's, else the title's. Empty when nothing names one."""
        doc = self._doc(doc_id, title, text)
        para_start = max(text.rfind("\n", 0, position) + 1, 0)
        before = [m for m in self.mentions(text[para_start:position]) if self._subject_like(m, relevant)]
        if before:
            return before[-1].keys
        for pos, keys in reversed(doc.headings):
            if pos < position:
                return keys
        return doc.title_keys

    def sentence_subjects(self, doc_id: str, title: str, text: str, start: int, end: int,
                          values: list[tuple[int, int]] | None,
                          relevant: frozenset[str] = frozenset()) -> list[frozenset[str]]:
        """For each value span (offsets in ``text``), the entities it belongs to; with
        ``values`` None, the entities the whole sentence is about."""
        sentence = text[start:end]
        ments = self.mentions(sentence)
        if values is None:
            # A sentence is about what it names and what its paragraph or section is about
            # ("倚天710：…基于Armv9架构" in Alibaba's list of chips is Alibaba's).
            return [frozenset(k for m in ments for k in m.keys) | self.inherited(doc_id, title, text, start, relevant)]
        out = []
        for value_start, value_end in values:
            # The clause of a value: from the previous figure (outside names) to the value.
            figures = [start + f.end() for f in _FIGURE.finditer(sentence)
                       if start + f.end() <= value_start and not any(m.start <= f.start() < m.end for m in ments)]
            clause_start = max(figures) if figures else start
            own = [m for m in ments if start + m.start >= clause_start and start + m.end <= value_start
                   and self._subject_like(m, relevant)]
            out.append(own[-1].keys if own else self.inherited(doc_id, title, text, value_start, relevant))
        return out


def _version_kind(version: str) -> str:
    return "number" if version[:1].isdigit() else "lower" if version[:1].islower() else "capital"


def _alternation(terms: list[str], plurals: bool = False) -> re.Pattern | None:
    """One pattern matching any of ``terms``, longest first; Latin terms as whole words (with
    ``plurals``, lowercase ones in the plural too), case-insensitive."""
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        if _CJK.search(term):
            parts.append(re.escape(term))
        else:
            plural = r"(?:s|es)?" if plurals and term[-1:].islower() else ""
            parts.append(r"(?<![A-Za-z0-9])" + r"\s+".join(map(re.escape, term.split())) + plural + r"(?![A-Za-z0-9])")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def load_scopes(path: Path | None = None) -> dict[str, list[tuple[str, ...]]]:
    return _load_scopes(str(path or Path(__file__).with_name("scopes.csv")))


@lru_cache(maxsize=4)
def _load_scopes(path: str) -> dict[str, list[tuple[str, ...]]]:
    scopes: dict[str, list[tuple[str, ...]]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        kind, _, terms = line.partition(":")
        group = tuple(t.strip() for t in terms.split(",") if t.strip())
        if group:
            scopes.setdefault(kind.strip(), []).append(group)
    return scopes


def contradicts(asked: frozenset[str], stated: frozenset[str]) -> bool:
    """A stated period or region that is not the one asked about."""
    return bool(asked and stated and not asked & stated)


def names_metric(asked: frozenset[str], stated: frozenset[str]) -> bool:
    """Whether the stated metrics include the one asked for, or a more specific one
    (营业利润 answers a question about 利润)."""
    return any(a in s for a in asked for s in stated)


def bound(question_entities: list[frozenset[str]], subjects: list[frozenset[str]]) -> bool:
    """Whether any subject set names an entity of the question (any of its names)."""
    wanted = {k for keys in question_entities for k in keys}
    return any(wanted & s for s in subjects)



_MONTHS = re.compile(MONTH_NAMES, re.IGNORECASE)


def value_spans(answer_type: str | None, sentence: str, offset: int, question: str) -> list[tuple[int, int]]:
    """Figures in ``sentence`` that can answer a question of ``answer_type``, as offsets
    (``offset`` is the sentence's start); figures the question itself gives are not answers."""
    if answer_type is None:
        return []
    given = set(re.findall(r"\d+(?:\.\d+)?", question))
    dates = [] if answer_type == "date" else [(d.start(), d.end()) for d in DATE_OR_ORDINAL.finditer(sentence)]
    out = []
    for m in _FIGURE.finditer(sentence):
        figure = m.group(0)
        if figure in given or any(s <= m.start() < e for s, e in dates):
            continue
        before, after = sentence[max(0, m.start() - 4) : m.start()], sentence[m.end() : m.end() + 8]
        if answer_type == "money":
            ok = bool(re.search(r"(?:US\$|\$|USD|RMB|CNY|¥|￥)\s*$", before, re.IGNORECASE)) or bool(
                re.match(r"\s*(?:亿|万|千|百)?\s*(?:元|美元|美金|欧元|人民币)|\s*(?:billion|million|trillion)?\s*(?:dollars?|yuan|USD|RMB|CNY)", after, re.IGNORECASE))
        elif answer_type == "date":
            ok = (len(figure) == 4 and figure[:2] in ("19", "20")) or bool(re.match(r"\s*[年月日]", after)) or bool(
                _MONTHS.search(sentence[max(0, m.start() - 12) : m.end() + 12]))
        else:
            ok = True
        if ok:
            out.append((offset + m.start(), offset + m.end()))
    return out


class _Document(Protocol):
    title: str
    text: str


class QuestionBinding:
    """One question's binding: called with a sentence (doc_id, start, end, context), it says
    whether the sentence is about what the question asks: its entity, period, region, year
    and metric."""

    def __init__(self, vocabulary: Vocabulary, documents: Mapping[str, _Document], question: str,
                 answer_type: str | None, sources: Sequence[str] = (), *, claim: bool = False) -> None:
        """``claim``: ``question`` is a statement to check (an LLM's sentence), so its figures are
        the values to bind, not figures the asker already gave."""
        self.vocabulary, self.documents, self.question, self.answer_type = vocabulary, documents, question, answer_type
        self._given = "" if claim else question
        lowered = {s.lower() for s in sources}
        # "按Gartner的数据" names where a figure comes from, not whose figure it is.
        self.wanted = [keys for keys in vocabulary.entity_keys(question) if not any(k in lowered for k in keys)]
        self.asked = vocabulary.scope(question)
        self.years = set(YEAR.findall(question))
        self.counted = counted_nouns(question) if answer_type == "number" else []

    @property
    def _relevant(self) -> frozenset[str]:
        return frozenset(k for keys in self.wanted for k in keys)

    def for_side(self, name: str) -> "QuestionBinding":
        """The same binding, for one side of a comparison: bound to that side's entity only."""
        return self._bound_to(self.vocabulary.entity_keys(name) or self.wanted)

    def owned_by(self, keys: frozenset[str]) -> "QuestionBinding":
        """The same binding, for a figure a claim gives to one entity: bound to that entity only."""
        return self._bound_to([keys])

    def _bound_to(self, wanted: list[frozenset[str]]) -> "QuestionBinding":
        side = QuestionBinding(self.vocabulary, self.documents, self.question, self.answer_type, claim=not self._given)
        side.wanted = wanted
        return side

    def section(self, doc_id: str, start: int) -> str:
        doc = self.documents[doc_id]
        return self.vocabulary.heading_text(doc_id, doc.title, doc.text, start)

    def __call__(self, doc_id: str, start: int, end: int, context: str) -> bool:
        doc = self.documents[doc_id]
        sentence = doc.text[start:end]
        stated = self.vocabulary.scope(sentence)
        if contradicts(self.asked.period, stated.period) or contradicts(self.asked.region, stated.region):
            return False
        if self.asked.metric and not names_metric(self.asked.metric, self.vocabulary.scope(context).metric):
            return False
        values = value_spans(self.answer_type, sentence, start, self._given) or None
        if self.years and self.answer_type and not self._stated_for_year(doc_id, start, sentence, context, values):
            return False
        # Checked in the noun's own language only: "times" cannot be found in "日均调用量超过2亿次".
        counted = [n for n in self.counted if bool(_CJK.search(n)) == mostly_cjk(sentence)]
        if counted and not any(_counts(sentence, noun) for noun in counted):
            return False  # "多少个应用": a count of something else ("三款开发工具") is not the answer
        if not self.wanted:
            return True
        subjects = self.vocabulary.sentence_subjects(doc_id, doc.title, doc.text, start, end, values, self._relevant)
        if not any(subjects):  # nothing names what the sentence is about: the mention checks decide
            return True
        return bound(self.wanted, subjects)

    def names(self, doc_id: str, start: int, end: int) -> bool:
        """Whether the sentence is known to be about an asked entity, from its own words or the
        paragraph, heading or title it inherits them from."""
        doc = self.documents[doc_id]
        values = value_spans(self.answer_type, doc.text[start:end], start, self._given) or None
        return bound(self.wanted, self.vocabulary.sentence_subjects(doc_id, doc.title, doc.text, start, end, values,
                                                                    self._relevant))

    def _stated_for_year(self, doc_id: str, start: int, sentence: str, context: str,
                         values: list[tuple[int, int]] | None) -> bool:
        """A figure asked for a year must be stated for that year: the last year named before
        it in its sentence, or, when the sentence names none before it, the text just before
        the sentence or its section ("2022年全球…451EFlops" is not 2023's, even in a sentence
        that cites 2023 data)."""
        fallback = any(y in context or y in self.section(doc_id, start) for y in self.years)
        if not values:
            return fallback
        for value_start, _ in values:
            before = YEAR.findall(sentence[: value_start - start])
            if (before[-1] in self.years) if before else fallback:
                return True
        return False

    def bound_amounts(self, doc_id: str, start: int, end: int) -> list[Figure]:
        """The sums of money in a sentence that belong to an entity the question asks about."""
        doc = self.documents[doc_id]
        found = amounts(doc.text[start:end])
        if not found or not self.wanted:
            return found
        spans = [(start + a.start, start + a.end) for a in found]
        subjects = self.vocabulary.sentence_subjects(doc_id, doc.title, doc.text, start, end, spans, self._relevant)
        return [a for a, subject in zip(found, subjects) if bound(self.wanted, [subject])]
