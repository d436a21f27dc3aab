"""Questions generated from the corpus: each stated fact, and near misses of it.

    python -m evals.generate --out var/generated.jsonl

A *fact* is a sentence with a figure and an entity named in the sentence itself, before
the figure (so the label does not depend on the binding rules the answers will be judged
by). Two templates turn facts into questions:

- **metric**: when the sentence names one metric of ``service/qa/scopes.csv``, in Chinese and
  in English ("阿里云2023年的收入是多少？", "What was the revenue of Alibaba Cloud in 2023?");
- **cloze**: the sentence itself with its figure asked for ("中国移动预计2024年算力资本开支
  增长28.0%至多少？"), in the sentence's language.

Each answerable question gets near misses that change one thing: another entity, another
year, or (metric template) another metric. A near miss is labelled unanswerable only when
no paragraph of the corpus, read with its document's title and its section heading, states
the changed combination: the entity with the metric (or, for a cloze, with the sentence's
two rarest words) and the year. The check is plain co-occurrence, stricter than any reader:
a doubtful twin is dropped, never labelled. Question ids carry the fact's document ("<doc_id>#<n>-<kind>-<lang>")
so that learners can hold out whole documents.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from evals.questions import Question, dump_set
from index.store import IndexData, load_index
from index.tokenize import tokenize
from service.config import Settings
from service.qa.answerability import MONTH_NAMES, Synonyms
from service.qa.binding import YEAR, Vocabulary, load_scopes

_CJK = re.compile(r"[\u4e00-\u9fff]")
# A figure that is not a year, with its unit: the quantity a question would ask for.
# Not a year, a date ("3月27日", "27 March"), nor part of a name ("GPT-4", "A100").
_QUANTITY = re.compile(rf"(?<![\d.A-Za-z-])(?!(?:19|20)\d{{2}}(?!\d))\d+(?:[.,]\d+)*"
                       rf"(?![\d.]*\s*(?:[月日号]|(?:{MONTH_NAMES})))", re.IGNORECASE)
_MONTH_BEFORE = re.compile(rf"(?:{MONTH_NAMES})\s*$", re.IGNORECASE)
_UNIT_ZH = re.compile(r"\s*(?:%|％|万亿|亿|万|千)?\s*(?:美元|元|人民币|欧元)?(?:个|家|款|种|倍|纳米|位|项|名|台|次|座|条|颗|块|核)?")
_UNIT_EN = re.compile(r"(?:\s*(?:%|percent\b|(?:trillion|billion|million|thousand|bn)\b))?(?:\s*(?:yuan|dollars|euros)\b)?")
_CURRENCY_BEFORE = re.compile(r"(?:US\$|\$|¥|￥|€|RMB\s*|USD\s*)$")
_HEADING = re.compile(r"(?m)^#{1,6} .*$")
MAX_CLOZE_CHARS = {"zh": 80, "en": 200}
ASK = {"zh": "多少", "en": "how much"}


def squash(text: str) -> str:
    return "".join(text.split()).lower()


@dataclass(frozen=True)
class Fact:
    doc_id: str
    sentence: str
    lang: str
    entity: str  # group key
    surface: str  # the entity as the sentence names it
    metrics: frozenset[str]
    year: str | None
    figure: str
    asked: tuple[int, int]  # the figure and its unit, in the sentence


class Names:
    """Names of entities and metrics, by language, for writing questions."""

    def __init__(self, vocabulary: Vocabulary, scopes: dict[str, list[tuple[str, ...]]]) -> None:
        self.entities = {squash(g[0]): list(g) for g in vocabulary.synonyms.groups if squash(g[0]) in vocabulary._group_keys}
        self.metrics = {squash(g[0]): list(g) for g in scopes.get("metric", [])}
        self.amounts = {squash(t) for g in scopes.get("amounts", []) for t in g}

    @staticmethod
    def pick(names: list[str], lang: str) -> str | None:
        zh = [n for n in names if _CJK.search(n)]
        en = [n for n in names if not _CJK.search(n)]
        chosen = (zh or en) if lang == "zh" else en
        return chosen[0] if chosen else None

    def of_entity(self, fact_or_key: Fact | str) -> list[str]:
        if isinstance(fact_or_key, Fact):
            return self.entities.get(fact_or_key.entity, [fact_or_key.surface])
        return self.entities[fact_or_key]


class Paragraphs:
    """Every paragraph with its title and heading: the co-occurrence oracle."""

    def __init__(self, data: IndexData) -> None:
        self.contexts: list[str] = []
        for doc in data.documents.values():
            headings = [(m.start(), m.group(0)) for m in _HEADING.finditer(doc.text)]
            position = 0
            for paragraph in doc.text.split("\n"):
                heading = next((h for p, h in reversed(headings) if p <= position), "")
                self.contexts.append(squash(f"{doc.title} {heading} {paragraph}"))
                position += len(paragraph) + 1
        self.frequency = Counter(t for c in self.contexts for t in set(tokenize(c)))

    def states(self, groups: list[list[str]], year: str | None) -> bool:
        """Whether some paragraph names a term of every group, the year, and a figure."""
        squashed = [[squash(t) for t in group] for group in groups]
        return any(all(any(t in c for t in group) for group in squashed) and (year is None or year in c)
                   and re.search(r"\d", c) for c in self.contexts)

    def rarest(self, sentence: str, skip: set[str], n: int = 2) -> list[str]:
        words = {t for t in tokenize(sentence) if len(t) >= 2 and not re.search(r"\d", t) and t not in skip}
        return sorted(words, key=lambda t: (self.frequency.get(t, 0), t))[:n]


def facts(data: IndexData, vocabulary: Vocabulary) -> list[Fact]:
    out = []
    for doc_id, doc in data.documents.items():
        for span in doc.sentences:
            # A list item's bullet and label ("- 中文：") are not part of what it says.
            sentence = re.sub(r"^(?:[-*•]\s*)?(?:(?:中文|English)[:：]\s*)?", "", doc.text[span.start : span.end].strip())
            if len(sentence) > 300 or "http" in sentence or sentence.startswith(("#", "|")):
                continue
            names = vocabulary.mentions(sentence)
            figure = next((f for f in _QUANTITY.finditer(sentence) if not _MONTH_BEFORE.search(sentence[: f.start()])
                           and not any(m.start <= f.start() < m.end for m in names)), None)  # "Llama 2" is a name
            if figure is None:
                continue
            offset = span.start + doc.text[span.start : span.end].index(sentence)
            (subject,) = vocabulary.sentence_subjects(doc_id, doc.title, doc.text, offset, offset + len(sentence),
                                                      [(offset + figure.start(), offset + figure.end())])
            mentions = [m for m in names if m.keys & subject and m.end <= figure.start()]
            if not mentions:
                continue  # the entity is inherited, not named: leave it to the reader
            mention = mentions[-1]
            lang = "zh" if _CJK.search(sentence) else "en"
            unit = (_UNIT_ZH if lang == "zh" else _UNIT_EN).match(sentence, figure.end())
            start = figure.start()
            before = _CURRENCY_BEFORE.search(sentence[:start])
            if before:
                start = before.start()
            years = YEAR.findall(sentence[: figure.start()])
            out.append(Fact(doc_id, sentence, lang, sorted(mention.keys & vocabulary._group_keys or mention.keys)[0],
                            sentence[mention.start : mention.end], vocabulary.scope(sentence).metric,
                            years[-1] if years else None, figure.group(0), (start, unit.end() if unit else figure.end())))
    return out


def metric_question(lang: str, entity: str, metric: str, year: str | None) -> str:
    if lang == "zh":
        return f"{entity}{year + '年' if year else ''}的{metric}是多少？"
    return f"What was the {metric} of {entity}{' in ' + year if year else ''}?"


def cloze_question(fact: Fact) -> str | None:
    start, end = fact.asked
    text = fact.sentence[:start] + ASK[fact.lang] + fact.sentence[end:]
    text = re.sub(r"[。.!！；;，,\s]+$", "", text)
    if len(text) > MAX_CLOZE_CHARS[fact.lang]:
        return None
    return text + ("？" if fact.lang == "zh" else "?")


def _swap(text: str, old: str, new: str, before: str) -> str:
    """``old`` replaced where it last occurs before ``before`` (the asked figure), else first."""
    end = text.find(before)
    at = text.rfind(old, 0, end) if end > 0 else -1
    at = at if at >= 0 else text.find(old)
    return text[:at] + new + text[at + len(old):]


def generate(data: IndexData, vocabulary: Vocabulary, seed: int = 0) -> list[Question]:
    names = Names(vocabulary, load_scopes())
    oracle = Paragraphs(data)
    rng = random.Random(seed)
    entity_keys, metric_keys = sorted(names.entities), sorted(names.metrics)
    questions: list[Question] = []
    seen: set[str] = set()

    def add(fact: Fact, n: int, kind: str, lang: str, text: str | None, answerable: bool) -> None:
        if text is None or text in seen:
            return
        seen.add(text)
        questions.append(Question(
            id=f"{fact.doc_id}#{n}-{kind}-{lang}", lang=lang, question=text, type=f"generated-{kind}",
            evidence=[fact.sentence] if answerable else [], answerable=answerable,
            # Checked only in the figure's own language: a translation may write it otherwise.
            answer_keywords=[[fact.figure]] if answerable and lang == fact.lang else [],
        ))

    for n, fact in enumerate(facts(data, vocabulary)):
        swap_entity = rng.choice([k for k in entity_keys if k != fact.entity]) if entity_keys else None
        swap_year = str(int(fact.year) + rng.choice([-2, -1, 1])) if fact.year else None
        entity_names = names.of_entity(fact)

        # Cloze: the sentence asks for its own figure.
        cloze = cloze_question(fact)
        if cloze:
            rare = oracle.rarest(fact.sentence, {squash(t) for t in entity_names})
            add(fact, n, "fact", fact.lang, cloze, True)
            new_name = names.pick(names.of_entity(swap_entity), fact.lang) if swap_entity else None
            if new_name and fact.surface in cloze and not oracle.states([names.of_entity(swap_entity), *[[w] for w in rare]], fact.year):
                add(fact, n, "entity", fact.lang, _swap(cloze, fact.surface, new_name, ASK[fact.lang]), False)
            if swap_year and not oracle.states([entity_names, *[[w] for w in rare]], swap_year):
                add(fact, n, "year", fact.lang, _swap(cloze, fact.year, swap_year, ASK[fact.lang]), False)

        # Metric template, in both languages.
        if len(fact.metrics) != 1:
            continue
        (metric,) = fact.metrics
        percent = fact.sentence[fact.asked[0] : fact.asked[1]].rstrip().endswith(("%", "％", "percent"))
        if percent and metric in names.amounts:
            continue  # "revenue grew 11%" does not say what the revenue was
        variants: list[tuple[str, str | None, str, str | None, bool]] = [("fact", None, metric, fact.year, True)]
        if swap_entity and not oracle.states([names.of_entity(swap_entity), names.metrics[metric]], fact.year):
            variants.append(("entity", swap_entity, metric, fact.year, False))
        swap_metric = rng.choice([m for m in metric_keys if m != metric])
        if not oracle.states([entity_names, names.metrics[swap_metric]], fact.year):
            variants.append(("metric", None, swap_metric, fact.year, False))
        if swap_year and not oracle.states([entity_names, names.metrics[metric]], swap_year):
            variants.append(("year", None, metric, swap_year, False))
        for kind, entity, metric_key, year, answerable in variants:
            for lang in ("zh", "en"):
                entity_name = names.pick(names.of_entity(entity) if entity else entity_names, lang)
                metric_name = names.pick(names.metrics[metric_key], lang)
                if entity_name and metric_name:
                    add(fact, n, f"{kind}", lang, metric_question(lang, entity_name, metric_name, year), answerable)
    return questions


def document_of(question_id: str) -> str:
    return question_id.rsplit("#", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = load_index(Settings().index_dir)
    vocabulary = Vocabulary(Synonyms.from_text(data.synonyms_text), load_scopes())
    questions = generate(data, vocabulary, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dump_set(args.out, questions)
    kinds = Counter(q.type for q in questions)
    answerable = sum(q.answerable for q in questions)
    print(f"{len(questions)} questions ({answerable} answerable) from {len({document_of(q.id) for q in questions})} "
          f"documents: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
