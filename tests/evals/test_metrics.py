import math

import pytest

from evals.metrics import (answer_correct, citation_precision, is_relevant, mrr_at_k, ndcg_at_k, percentile,
                           recall_at_k)


def test_relevance_ignores_whitespace():
    assert is_relevant("微软Azure是一个\n典型的 垂直整合", ["Azure是一个典型的垂直整合"])
    assert not is_relevant("微软Azure", ["谷歌云"])
    assert not is_relevant("anything", [])


def test_recall_and_mrr():
    rel = [False, False, True, False, True]
    assert recall_at_k(rel, 1) == 0 and recall_at_k(rel, 3) == 1
    assert mrr_at_k(rel) == pytest.approx(1 / 3)
    assert mrr_at_k([False] * 12 + [True]) == 0  # beyond rank 10


def test_ndcg_no_relevant_passage_exists():
    assert ndcg_at_k([False, False], n_relevant=0) == 0


def test_ndcg_one_relevant_passage():
    assert ndcg_at_k([True, False, False], n_relevant=1) == 1
    # Found at rank 2: DCG = 1/log2(3), ideal = 1.
    assert ndcg_at_k([False, True, False], n_relevant=1) == pytest.approx(1 / math.log2(3))


def test_ndcg_several_relevant_passages():
    # Three exist, two found at ranks 1 and 3.
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k([True, False, True, False], n_relevant=3) == pytest.approx(dcg / idcg)
    # The ideal is capped at k.
    assert ndcg_at_k([True] * 10, n_relevant=25) == pytest.approx(1)


def test_answer_correctness_groups():
    groups = [["7", "七"], ["20"]]
    assert answer_correct("整合了7家公司的20多种模型", groups)
    assert not answer_correct("整合了7家公司", groups)
    assert answer_correct("Uses BEDROCK", [["bedrock"]])


def test_citation_precision_and_percentile():
    assert citation_precision(["a 垂直整合", "other"], ["垂直整合"]) == 0.5
    assert citation_precision([], ["x"]) is None
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10


def test_answer_language_counts_introduced_quotes():
    from evals.metrics import in_question_language

    assert in_question_language("阿里云走开放生态路线 [1]。", "zh")
    assert not in_question_language("Alibaba Cloud takes the open-ecosystem route [1].", "zh")
    assert in_question_language("The documents (in Chinese) say: 2023年资本开支为988亿元 [1]。", "en")
    assert not in_question_language("2023年资本开支为988亿元 [1]。", "en")
