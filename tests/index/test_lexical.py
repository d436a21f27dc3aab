import numpy as np

from index.lexical import LexicalIndex
from index.tokenize import tokenize

PASSAGES = [
    "亚马逊云科技是生态开放路线的典型案例。",
    "微软Azure是一个典型的垂直整合路线案例。",
    "华为云使用国产升腾AI芯片。",
]


def build() -> LexicalIndex:
    return LexicalIndex([tokenize(p) for p in PASSAGES])


def test_chinese_query_ranks_the_matching_passage_first():
    scores = build().scores(tokenize("华为的芯片"))
    assert int(np.argmax(scores)) == 2
    assert 0 < scores.max() <= 1


def test_scores_are_bounded_and_zero_without_overlap():
    index = build()
    assert np.all(index.scores(tokenize("红烧肉怎么做")) == 0)
    assert np.all(index.scores([]) == 0)


def test_unknown_words_keep_a_weak_match_weak():
    index = build()
    strong = index.scores(tokenize("垂直整合 Azure"))[1]
    # English words the corpus lacks dilute the one shared word ("azure").
    weak = index.scores(tokenize("Which vendor follows vertical integration like Azure"))[1]
    assert strong > 2 * weak > 0


def test_empty_corpus():
    assert LexicalIndex([]).scores(["x"]).shape == (0,)
