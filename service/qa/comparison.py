"""Comparison questions ("阿里和百度对开源的态度有什么不同？") answered one side at a time.

A sentence close to the whole question often mentions both sides but is about one of
them ("与亚马逊云科技不同，微软采用垂直整合路线"). Asking once per entity, with the other
entities taken out of the question, finds the sentence about each side.
"""

from __future__ import annotations

import re

from service.qa.answerability import Synonyms, mentions

_CUE_ZH = re.compile(r"分别|各自|不同|区别|差异|对比|比较|相比|异同|谁的|哪个更|哪家更|哪一家更")
_CUE_EN = re.compile(r"\b(?:compare[sd]?|comparison|differ|differs|difference|different|versus|vs\.?|respectively|each)\b", re.IGNORECASE)


def _group(term: str, synonyms: Synonyms) -> tuple[str, ...]:
    key = "".join(term.split()).lower()
    for group in synonyms.groups:
        if key in {"".join(t.split()).lower() for t in group}:
            return group
    return (term,)


def _is_entity(term: str, synonyms: Synonyms) -> bool:
    """A listed named thing: some name of it is capitalised Latin ("Baidu", "AWS"), not a common word."""
    group = _group(term, synonyms)
    return len(group) > 1 and any(re.fullmatch(r"[A-Z][A-Za-z0-9-]{2,}(?:\s+[A-Z][A-Za-z0-9-]*)*", name) for name in group)


def comparison_entities(question: str, terms: list[str], synonyms: Synonyms) -> list[str]:
    """The entities a comparison question sets side by side; [] for other questions."""
    if not (_CUE_ZH.search(question) or _CUE_EN.search(question)):
        return []
    entities: list[str] = []
    seen_groups: set[tuple[str, ...]] = set()
    for term in terms:
        group = _group(term, synonyms)
        if _is_entity(term, synonyms) and group not in seen_groups:
            seen_groups.add(group)
            entities.append(term)
    return entities if len(entities) >= 2 else []


def names_of(term: str, synonyms: Synonyms) -> tuple[str, ...]:
    return _group(term, synonyms)


def side_question(question: str, entity: str, others: list[str], synonyms: Synonyms) -> str:
    """The question with the other entities' names removed."""
    out = question
    for other in others:
        for name in sorted(_group(other, synonyms), key=len, reverse=True):
            if re.search(r"[\u4e00-\u9fff]", name):
                out = out.replace(name, "")
            else:
                out = re.sub(r"(?<![A-Za-z0-9])" + r"\s+".join(map(re.escape, name.split())) + r"(?:'s)?(?![A-Za-z0-9])", "", out, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", out).strip()


def mentions_any(text: str, names: tuple[str, ...]) -> bool:
    return any(mentions(text, name) for name in names)
