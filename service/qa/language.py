"""Which language a question is in, for refusals, labels and introducing quotes in another language."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]+")


def mostly_cjk(text: str) -> bool:
    """At least as many Chinese characters as Latin words (text with neither counts as Chinese):
    which stop ends a quote, which language a sentence's words can be checked in."""
    return len(_CJK.findall(text)) >= len(_LATIN.findall(text))


def detect_language(text: str) -> str:
    """'zh' when Chinese characters carry the question, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin_words = len(_LATIN.findall(text))
    return "zh" if cjk and cjk >= latin_words else "en"


REFUSALS = {
    "zh": "抱歉，现有文档中没有能回答这个问题的内容。",
    "en": "Sorry, the documents do not answer this question.",
}

SIDE_REFUSALS = {
    "zh": "抱歉，文档中没有关于{sides}的相关内容，无法回答这个问题。",
    "en": "Sorry, the documents do not say this about {sides}, so they do not answer this question.",
}


def refusal(language: str, missing_sides: list[str] | None = None) -> str:
    """The refusal, naming the side of a comparison the documents leave out when one is."""
    if missing_sides:
        joiner = "、" if language == "zh" else " and "
        return SIDE_REFUSALS[language].format(sides=joiner.join(missing_sides))
    return REFUSALS[language]


# Said before the first quote that is not in the asker's language, so the answer never
# reads as mixed: (question language, quote language) -> introduction.
INTRODUCTIONS = {
    ("zh", "en"): "文档（英文）原文如下：",
    ("en", "zh"): "The documents (in Chinese) say: ",
}


def introduce(pieces: list[str], languages: list[str], asked: str) -> list[str]:
    """``pieces`` with an introduction before the first one whose language is not ``asked``."""
    for i, language in enumerate(languages):
        if language != asked:
            intro = INTRODUCTIONS.get((asked, language), "")
            if i > 0 and asked == "en":
                intro = " " + intro if not pieces[i - 1].endswith(" ") else intro
            return pieces[:i] + [intro] + pieces[i:] if intro else pieces
    return pieces
