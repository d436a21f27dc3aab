"""Lexical tokens for mixed Chinese/English text: jieba search-mode words, lowercased."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
# Function words in both languages; they match everywhere and only add noise to BM25.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 而 就 被 把 对 于 以 之 其 这 那 这个 那个 一个 什么 哪 哪些 哪个 哪种
    如何 怎么 怎样 为什么 吗 呢 吧 啊 有 有没有 多少 几 谁 请问 是否 还 又 等 中 上 下 个 种 们 我 你 他 她 它
    a an the of to in on at for by with from and or but is are was were be been being do does did
    what which who whom whose when where why how much many that this these those it its as into about
    than then there their they them we you your i me my our us has have had can could should would will
    not no yes if so any some all each both""".split()
)


@lru_cache(maxsize=1)
def _ready() -> bool:
    jieba.initialize()
    return True


def tokenize(text: str) -> list[str]:
    _ready()
    tokens = []
    for token in jieba.cut_for_search(text.lower()):
        token = token.strip()
        if token and _WORDLIKE.search(token) and token not in STOPWORDS:
            tokens.append(token)
    return tokens


@lru_cache(maxsize=20_000)
def sentence_tokens(sentence: str) -> frozenset[str]:
    """``tokenize`` as a set, remembered: an ask scores every sentence of its top passages
    against the question, and the same indexed sentences come back query after query (jieba
    was a fifth of an ask's non-model time). Bounded: about 25 MB when full."""
    return frozenset(tokenize(sentence))
