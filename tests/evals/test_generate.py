"""The generated questions are labelled by the corpus, not by the rules they are used to judge."""

import re

import pytest

from evals.generate import ASK, Paragraphs, cloze_question, document_of, facts, generate, metric_question
from service.qa.answerability import Synonyms
from service.qa.binding import Vocabulary, load_scopes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(corpus_index):
    vocabulary = Vocabulary(Synonyms.from_text(corpus_index.synonyms_text), load_scopes())
    return vocabulary, generate(corpus_index, vocabulary)


def test_each_answerable_question_quotes_a_corpus_sentence_with_its_figure(corpus_index, generated):
    _, questions = generated
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 50
    texts = {doc_id: doc.text for doc_id, doc in corpus_index.documents.items()}
    for q in answerable:
        (sentence,) = q.evidence
        assert sentence in texts[document_of(q.id)]
        for group in q.answer_keywords:  # the figure asked for stands in the sentence
            assert any(k in sentence for k in group)


def test_near_misses_are_unanswerable_by_the_corpus_oracle(corpus_index, generated):
    vocabulary, questions = generated
    kinds = {q.type for q in questions if not q.answerable}
    assert {"generated-entity", "generated-year", "generated-metric"} <= kinds
    # Every near miss differs from an answerable question of the same fact by one change.
    by_fact = {}
    for q in questions:
        by_fact.setdefault(q.id.rsplit("-", 2)[0], []).append(q)
    for group in by_fact.values():
        if any(not q.answerable for q in group):
            assert any(q.answerable for q in group)
    # Questions are in both languages, and English ones over Chinese documents exist.
    assert {"zh", "en"} == {q.lang for q in questions}
    assert any(q.lang == "en" and re.search(r"[\u4e00-\u9fff]", q.evidence[0]) for q in questions if q.answerable)


def test_oracle_finds_stated_combinations_and_only_those(corpus_index):
    oracle = Paragraphs(corpus_index)
    assert oracle.states([["中国移动", "China Mobile"], ["资本开支", "capex", "capital expenditure"]], "2024")
    assert not oracle.states([["中国移动", "China Mobile"], ["估值", "valuation"]], "2031")


def test_templates(corpus_index):
    vocabulary = Vocabulary(Synonyms.from_text(corpus_index.synonyms_text), load_scopes())
    assert metric_question("zh", "阿里云", "收入", "2023") == "阿里云2023年的收入是多少？"
    assert metric_question("en", "Alibaba Cloud", "revenue", None) == "What was the revenue of Alibaba Cloud?"
    found = facts(corpus_index, vocabulary)
    cloze = [cloze_question(f) for f in found]
    assert any(c and "多少" in c for c in cloze) and any(c and "how much" in c for c in cloze)
    for fact, question in zip(found, cloze):
        if question:  # the figure and its unit are asked for; the rest of the sentence stays
            start, end = fact.asked
            assert question.startswith(fact.sentence[:start] + ASK[fact.lang])
            assert fact.figure in fact.sentence[start:end]
