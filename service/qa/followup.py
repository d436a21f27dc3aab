"""Turn a follow-up such as "那百度呢？" into a standalone question using the history.

Without a generator model this is done by pattern: an elliptical follow-up names a new
topic, which replaces the subject of the previous question; a follow-up that points
back ("that", "效果") is retrieved together with the previous question.
"""

from __future__ import annotations

import re

import jieba.posseg as posseg

from index.tokenize import _ready, tokenize

_ZH_ELLIPTICAL = re.compile(r"^(?:那么?|还有|而|那如果是)?\s*(?P<topic>[^？?。!！]{1,20}?)\s*(?:呢|怎么样|如何|又如何|的情况呢?)\s*[？?。!！]*$")
_ZH_LEADING_NA = re.compile(r"^(?:那么?|还有)\s*(?P<topic>[^？?。!！，,]{1,12})\s*[？?。]*$")
_EN_ELLIPTICAL = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(?P<topic>.+?)\s*[?.!]*$|^and\s+(?P<topic2>.+?)\s*[?.!]*$|^(?P<topic3>.+?)\s+too\s*[?.!]*$", re.IGNORECASE)
_ANAPHORA_ZH = ("它", "其", "这", "该", "他们", "它们", "效果", "那个", "此", "上述")
_ANAPHORA_EN = re.compile(r"\b(that|this|it|its|they|their|them|those|these|he|she|his|her)\b", re.IGNORECASE)
_QUESTION_WORDS = {"what", "which", "who", "whom", "how", "why", "when", "where", "does", "do", "did", "is", "are", "can", "could", "should", "would", "will", "according"}
# POS flags that end a Chinese subject noun phrase: verbs, particles, prepositions,
# pronouns, numerals, adverbs, conjunctions, punctuation.
_STOP_FLAGS = ("v", "u", "p", "r", "m", "d", "c", "x", "q", "f")


def resolve_question(question: str, history: list[tuple[str, str]]) -> str:
    """``history`` is (role, content) pairs, oldest first."""
    previous = next((content for role, content in reversed(history) if role == "user" and content.strip()), None)
    q = question.strip()
    if previous is None:
        return q
    previous = previous.strip()
    topic = _elliptical_topic(q)
    if topic and _asks_itself(topic):
        # "And how much did Google invest?": a question of its own that leaves out what the
        # previous one said; when it asks the same thing, only the subject changes.
        swapped = _swap_subject(previous, topic)
        if swapped:
            return swapped
        q = re.sub(r"^and\s+", "", q, flags=re.IGNORECASE)
        q, topic = q[:1].upper() + q[1:], None
    if topic and not _has_anaphora(topic):
        topic = _POSSESSIVE.sub("", topic)  # "What about China Mobile's?"
        subject = _subject(previous)
        if subject and not re.fullmatch(r"[\d年月日号.%\s]+", topic):
            return previous.replace(subject, topic, 1)
        return f"{previous} {topic}"
    named = _replace_pronoun(q, _referent(previous))
    if named:
        return named
    if _points_back(q):
        return f"{previous} {q}"
    return q


_POSSESSIVE = re.compile(r"(?:'s|’s|')$")
_ENTITY_PRONOUN_EN = re.compile(r"\b(its|it|their|they|them)\b", re.IGNORECASE)
_ENTITY_PRONOUN_ZH = re.compile(r"它们的|它的|其|它们|它")
_FUNCTION_WORDS = _QUESTION_WORDS | {"much", "many", "the", "a", "an", "of", "in", "on", "to", "for", "and", "its", "it",
                                     "their", "they", "them", "s", "about", "by", "with", "from", "at", "as", "that", "this"}


def _asks_itself(topic: str) -> bool:
    first = topic.split()[0].lower() if topic.split() else ""
    return first in _QUESTION_WORDS


_WH = {"what", "which", "who", "whom", "how", "why", "when", "where"}


def _content_words(text: str) -> set[str]:
    # The wh-word is content: "why did Google invest?" asks something "how much did …" did not.
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _FUNCTION_WORDS or w in _WH}


def _swap_subject(previous: str, question: str) -> str | None:
    """The previous question with its subject replaced by the one this question names,
    when this question asks nothing the previous one did not."""
    subject, new = _subject(previous), _subject(question)
    if not subject or not new or new == subject:
        return None
    if not _content_words(question.replace(new, " ")) <= _content_words(previous):
        return None
    return previous.replace(subject, new, 1)


def _referent(previous: str) -> str | None:
    """What a pronoun in the next question refers to: the previous subject, or the thing
    it owns when the previous question asked about that ("Google's Gemini")."""
    subject = _subject(previous)
    if subject and not re.search(r"[\u4e00-\u9fff]", previous):
        owned = re.search(re.escape(subject) + r"(?:'s|’s)\s+([A-Z][\w-]*(?:\s+(?:[A-Z0-9][\w.-]*))*)", previous)
        if owned:
            return f"{subject}'s {owned.group(1)}"
    return subject


def _replace_pronoun(question: str, subject: str | None) -> str | None:
    """"When did it launch?" after a question about Gemini: "When did Gemini launch?"."""
    if not subject:
        return None
    if re.search(r"[\u4e00-\u9fff]", question):
        if _ENTITY_PRONOUN_ZH.search(question):
            return _ENTITY_PRONOUN_ZH.sub(lambda m: subject + ("的" if m.group(0).endswith("的") else ""), question, count=1)
        return None
    if not _ENTITY_PRONOUN_EN.search(question):
        return None

    def name(m: re.Match) -> str:
        return subject + "'s" if m.group(1).lower() in ("its", "their") else subject

    return _ENTITY_PRONOUN_EN.sub(name, question, count=1)


def _elliptical_topic(q: str) -> str | None:
    for pattern in (_ZH_ELLIPTICAL, _ZH_LEADING_NA, _EN_ELLIPTICAL):
        m = pattern.match(q)
        if m:
            topic = next(g for g in m.groups() if g)
            return topic.strip()
    return None


def _subject(question: str) -> str | None:
    latin = re.findall(r"(?:[A-Z][\w-]*|[A-Z]{2,})(?:\s+(?:[A-Z][\w-]*|[A-Z]{2,}|\d+))*", question)
    latin = [span for span in latin if span.split()[0].lower() not in _QUESTION_WORDS or len(span.split()) > 1]
    latin = [" ".join(w for w in span.split() if w.lower() not in _QUESTION_WORDS) for span in latin]
    if re.search(r"[\u4e00-\u9fff]", question):
        _ready()
        words = []
        for pair in posseg.cut(question):
            if pair.flag.startswith(_STOP_FLAGS) and not (pair.flag == "eng" or pair.flag.startswith("n")):
                break
            words.append(pair.word)
        subject = "".join(words).strip()
        if subject:
            return subject
    latin = [s for s in latin if s]
    return latin[0] if latin else None


def _has_anaphora(q: str) -> bool:
    return any(a in q for a in _ANAPHORA_ZH) or bool(_ANAPHORA_EN.search(q))


def _points_back(q: str) -> bool:
    # A question with at most one content word ("为什么？", "Why?") cannot stand alone, nor a
    # short English one that names nothing ("What changed in 2023?").
    if _has_anaphora(q) or len(tokenize(q)) <= 1:
        return True
    if not re.search(r"[\u4e00-\u9fff]", q):
        words = q.split()
        return len(words) <= 6 and not any(w[:1].isupper() for w in words[1:])
    return False
