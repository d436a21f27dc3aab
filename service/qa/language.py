"""Which language a question is in, for refusals and labels."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> str:
    """'zh' when Chinese characters carry the question, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin_words = len(_LATIN.findall(text))
    return "zh" if cjk and cjk >= latin_words else "en"


REFUSALS = {
    "zh": "抱歉，现有文档中没有能回答这个问题的内容。",
    "en": "Sorry, the documents do not answer this question.",
}
