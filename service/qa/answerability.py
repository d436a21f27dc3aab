"""Checks that quoted passages can answer the question, beyond vector similarity.

Similarity alone cannot tell "how much did Microsoft invest in OpenAI?" from a
passage about Microsoft and OpenAI that gives no figure. Two cheap checks catch most
of these: the question's named entities and figures must occur in the passages the
answer would cite, and a question asking for an amount, a number or a date must be
answered by a sentence that contains one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import jieba.posseg as posseg

from index.tokenize import _ready

_CJK = re.compile(r"[\u4e00-\u9fff]")

_MONEY_Q = re.compile(
    r"多少钱|价格|售价|收费|定价|费用|花了多少|投了?多少|投资了?多少|融资了?多少|资本支出|"
    # "收入是多少" asks for a sum; "收入同比增长多少" for a rate.
    r"(?:营收|收入|利润|营业额|销售额)(?:(?![增率幅])[^？?，,]){0,6}(?:是多少|多少|有多少|多大)|"

    r"\bhow much (?:money|does|did|do|is|was|will)\b.*\b(?:cost|charge|pay|invest|spend|spent|price|worth)|"
    r"\bhow much money\b|\b(?:price|pricing|cost) (?:of|per|for)\b|\bcharge[sd]? per\b|\binvest(?:ed|ment)? how much\b",
    re.IGNORECASE,
)
_NUMBER_Q = re.compile(
    r"多少|几[个家种位项款倍成次台万亿]?|百分之|比例|占比|份额|规模|增速|多大|多高|多快|"
    r"\bhow (?:many|much|big|large|fast)\b|\bwhat (?:percentage|share|proportion|fraction|portion)\b|"
    r"\bgrowth rate\b|\bmarket share\b|\bwhat (?:was|is|were|are) .{0,40}\b(?:profit|revenue|income|margin|spending|size|capex|growth)\b",
    re.IGNORECASE,
)
_DATE_Q = re.compile(
    r"什么时候|何时|哪一?年|哪个月|几月|哪天|哪一天|日期|^\s*when\b|\bwhen (?:did|was|were|is|are|will|does|do|has|have)\b|"
    r"\bwhat (?:year|month|date|day)\b|\bwhich (?:year|month)\b",
    re.IGNORECASE,
)

MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"
_CURRENCY = re.compile(r"元|美元|美金|欧元|人民币|\$|¥|￥|€|\b(?:USD|RMB|CNY|EUR)\b|dollars?|yuan|euros?", re.IGNORECASE)
_NUMERAL = re.compile(r"\d|[零一二两三四五六七八九十百千万亿]+[个家种位项款倍成年月亿万%]|半")
_DATE = re.compile(r"\d{4}|\d+\s*[年月日]|[一二三四五六七八九十]+月|上半年|下半年|季度|今年|去年|明年|"
                   + MONTH_NAMES, re.IGNORECASE)
_WORD = r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*"
_NAME = r"[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*"
# A run of capitalised words is one name ("Google Cloud", "Amazon Q"); a trailing number belongs to it ("Trainium 2").
_LATIN_TERM = re.compile(rf"{_NAME}(?:\s+{_NAME})*(?:\s+\d+(?:\.\d+)?)?|{_WORD}")
_EN_QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "how", "why", "when", "where", "does", "do", "did", "is",
                      "are", "was", "were", "can", "could", "should", "would", "will", "according", "in", "on", "the", "and",
                      "a", "an", "compare", "list", "name", "tell", "explain", "describe", "i", "and", "or", "if", "between"}


# Words many names share; alone they name nothing ("AI Cloud", "Cloud Intelligence Group").
GENERIC_WORDS = {"cloud", "clouds", "group", "intelligence", "services", "service", "business", "enterprise", "model",
                  "models", "chip", "chips", "platform", "the", "and", "web", "developer", "studio", "pro", "ai"}
_MONTHS_ONLY = re.compile(rf"(?:(?:{MONTH_NAMES})\.?\s*|\d+\s*)+", re.IGNORECASE)


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


@dataclass(frozen=True)
class Synonyms:
    """Groups of equivalent names; matching ignores case and whitespace."""

    groups: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_text(cls, text: str) -> "Synonyms":
        groups = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            terms = tuple(dict.fromkeys(t.strip() for t in re.split(r"[,，]", line) if t.strip()))
            if len(terms) > 1:
                groups.append(terms)
        return cls(tuple(groups))

    @classmethod
    def from_file(cls, path: Path | None) -> "Synonyms":
        return cls.from_text(path.read_text(encoding="utf-8")) if path and path.is_file() else cls()

    def names(self, term: str) -> set[str]:
        """``term`` itself (and its singular: "GPUs" is named by "GPU"; "AWS" and "class" are
        not plurals) and the names of its group, squashed."""
        key = _squash(term)
        out = {key} | self._groups_of.get(key, set())
        if re.fullmatch(r"[A-Za-z0-9-]*[A-Za-z0-9][A-Za-rt-z]s", term):
            out.add(key[:-1])
        return out

    def grouped(self, term: str) -> bool:
        """Whether ``term`` is in a synonym group: the group says how documents write it."""
        return _squash(term) in self._groups_of

    @cached_property
    def _groups_of(self) -> dict[str, set[str]]:
        """Squashed name -> the squashed names of every group it is in (built once)."""
        out: dict[str, set[str]] = {}
        for group in self.groups:
            squashed = {_squash(t) for t in group}
            for name in squashed:
                out.setdefault(name, set()).update(squashed)
        return out

    def variants(self, term: str) -> set[str]:
        """Every name of ``term``. A several-word Latin name without a group of its own is also
        named by any of its distinctive words ("Amazon Bedrock" by "Bedrock", "Tongyi Qianwen"
        by 通义): documents, above all in the other language, rarely repeat the full name."""
        out = self.names(term)
        words = term.split()
        if not self.grouped(term) and len(words) > 1 and not _CJK.search(term):
            for word in words:
                if len(word) >= 3 and word.lower() not in GENERIC_WORDS and not word.replace(".", "").isdigit():
                    out |= self.variants(word)
        return out

    def mentioned_in(self, text: str) -> list[str]:
        """The longest group terms that occur in ``text`` (whole words for Latin terms)."""
        found = sorted({t for g in self.groups for t in g if mentions(text, t)}, key=lambda t: len(_squash(t)), reverse=True)
        kept: list[str] = []
        for term in found:
            if not any(_squash(term) in _squash(longer) for longer in kept):
                kept.append(term)
        return kept


def mentions(text: str, term: str) -> bool:
    if _CJK.search(term):
        return _squash(term) in _squash(text)
    words = [re.escape(w) for w in term.split()]
    return bool(re.search(r"(?<![A-Za-z0-9])" + r"\s+".join(words) + r"(?![A-Za-z0-9])", text, re.IGNORECASE))


# "What was X's revenue?" asks for an amount; "revenue growth" asks for a rate.
_AMOUNT_EN = re.compile(r"^\s*(?:what|how much)\b.*\b(?:revenue|profit|income|sales|earnings)\b(?!\s+(?:growth|margin|rate|share))", re.IGNORECASE)


def expected_answer_type(question: str) -> str | None:
    if _MONEY_Q.search(question) or _AMOUNT_EN.search(question):
        return "money"
    if _DATE_Q.search(question):
        return "date"
    if _NUMBER_Q.search(question):
        return "number"
    return None


def type_satisfied(answer_type: str | None, sentences: list[str], question: str = "") -> bool:
    """Whether a sentence holds the kind of value asked for, beyond what the question says.

    "What was X's profit in 2023?" is not answered by a sentence whose only figure is 2023.
    """
    if answer_type is None:
        return True
    pattern = {"money": _CURRENCY, "date": _DATE, "number": _NUMERAL}[answer_type]
    given = set(re.findall(r"\d+(?:\.\d+)?", question))
    for sentence in sentences:
        stripped = sentence
        for figure in sorted(given, key=len, reverse=True):
            stripped = re.sub(rf"(?<![\d.]){re.escape(figure)}(?![\d.])\s*年?", " ", stripped)
        if answer_type != "date":
            # A date or an ordinal ("2024年5月", "第七届") is not the quantity asked for.
            stripped = DATE_OR_ORDINAL.sub(" ", stripped)
        if pattern.search(stripped):
            return True
    return False


DATE_OR_ORDINAL = re.compile(
    r"(?:19|20)\d{2}\s*年?(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|"
    r"第\s*[\d一二三四五六七八九十]+\s*[届次期代个季]?|"
    rf"\b\d{{1,2}}\s+(?:{MONTH_NAMES})\b|"
    rf"\b(?:{MONTH_NAMES})(?:\s+\d{{1,2}},?)?(?:\s+(?:19|20)\d{{2}})?\b|"
    r"\b(?:19|20)\d{2}\b|\bQ[1-4]\b|\bH[12]\b",
    re.IGNORECASE,
)


_SOURCE = re.compile(r"(?:按照?|根据|据|依据|according to|per|citing)\s*([A-Za-z][A-Za-z0-9-]*|[\u4e00-\u9fff]{2,6}?)(?=的|数据|报告|统计|,|，|\s|\?|？|$)", re.IGNORECASE)


def source_names(question: str) -> list[str]:
    """Sources a question names ("按Gartner的数据", "according to IDC"): not what it asks about."""
    return [m.group(1) for m in _SOURCE.finditer(question)]


def key_terms(question: str, synonyms: Synonyms) -> list[str]:
    """Named things and figures in the question that an answer must be about."""
    terms: list[str] = re.findall(r"\d+(?:\.\d+)?", question)
    terms += synonyms.mentioned_in(question)
    for m in _LATIN_TERM.finditer(question):
        word = m.group(0)
        first, _, rest = word.partition(" ")
        if first.lower() in _EN_QUESTION_WORDS:
            word = rest
        if not word or word.lower() in _EN_QUESTION_WORDS or len(word) < 2:
            continue
        if _MONTHS_ONLY.fullmatch(word):
            continue  # "May 2024": a date, checked by its figures in whatever language states it
        cjk_question = bool(_CJK.search(question))
        # In English questions only capitalised names count; common words are not entities.
        if cjk_question or word[0].isupper() and (m.start() > 0 or word.isupper()):
            terms.append(word)
    if _CJK.search(question):
        _ready()
        # Organisations, and longer proper nouns; two-character "nz" words are too often common words (对华).
        terms += [p.word for p in posseg.cut(question) if (p.flag == "nt" and len(p.word) >= 2) or (p.flag == "nz" and len(p.word) >= 3)]
    # "按Gartner的数据" / "according to IDC" names a source; the figures often stand in the
    # sentence after the one that names it, so a source is not required in the quote.
    sources = {name.lower() for name in source_names(question)}
    terms = [t for t in terms if t.lower() not in sources]
    unique: list[str] = []
    for term in terms:
        if not any(_squash(term) in _squash(other) for other in unique):
            unique = [u for u in unique if _squash(u) not in _squash(term)] + [term]
    return unique


def checkable(term: str, synonyms: Synonyms, corpus_text: str) -> bool:
    """A Latin name that the corpus never writes (under its own name or its group's) cannot
    be checked by its letters: over a Chinese corpus it is usually an English name the
    documents spell in Chinese ("Hanguang 800" for 含光800, "Trn2 UltraClusters" for
    "Trn2 … EC2 UltraClusters"). ``corpus_text`` is what the documents can be quoted for,
    squashed: a name only in a reference list is not something they state."""
    latin_only = not _CJK.search(term) and not term.replace(".", "").isdigit()
    if latin_only and all(w.lower() in GENERIC_WORDS for w in term.split()):
        return False  # "AI Cloud" after "Baidu's": the name is Baidu's, already a term
    return not (latin_only and not synonyms.grouped(term) and not any(name in corpus_text for name in synonyms.names(term)))


def missing_terms(terms: list[str], passages: list[str], synonyms: Synonyms, corpus_text: str) -> list[str]:
    """Terms no passage mentions under any of their names. A name that cannot be checked by
    its letters is still checked by its figures: "Yitian 920" is not 倚天710."""
    haystack = _squash(" ".join(passages))
    missing = []
    for term in terms:
        if checkable(term, synonyms, corpus_text):
            if not any(n in haystack for n in synonyms.variants(term)):
                missing.append(term)
        elif any(figure not in haystack for figure in re.findall(r"\d+(?:\.\d+)?", term)):
            missing.append(term)
    return missing


def unbound_terms(terms: list[str], quotes: list[tuple[str, str]], answer_type: str | None, question: str,
                  synonyms: Synonyms, corpus_text: str) -> list[str]:
    """Terms no quote both names and answers with a value of the asked type.

    ``quotes`` are (context, sentence) pairs. For "百度智能云的市场份额是多少？" a quote
    with a share of the whole market and another that names Baidu without a figure
    do not add up to an answer.
    """
    if answer_type is None:
        return []
    unbound = []
    for term in terms:
        if term.replace(".", "").isdigit() or not checkable(term, synonyms, corpus_text):
            continue
        names = synonyms.variants(term)
        if not any(any(n in _squash(ctx) for n in names) and type_satisfied(answer_type, [text], question) for ctx, text in quotes):
            unbound.append(term)
    return unbound
