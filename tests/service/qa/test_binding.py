"""Binding a sentence to what a question asks: entity, period, region, metric, year."""

from dataclasses import dataclass

import pytest

from service.qa.answerability import Synonyms
from service.qa.binding import QuestionBinding, Vocabulary, counted_nouns, load_scopes
from service.qa.figures import amounts

SYNONYMS = Synonyms.from_text("""
中国移动, 移动云, China Mobile
中国联通, 联通云, China Unicom
谷歌, Google
亚马逊, Amazon, AWS
微软, Microsoft, Azure
阿里云, 阿里, Alibaba
中国, China
全球, worldwide, global
""")


@dataclass
class Doc:
    title: str
    text: str


DOCS = {
    "telecom": Doc("电信运营商云", "# 电信运营商云\n\n## 基础设施\n\n- 中国移动：2023年资本开支为1803亿元；公司计划2024年资本开支约1730亿元。\n"
                               "- 中国联通：2023年6月提出构建智算体系。\n"),
    "article": Doc("Article", "As a shareholder of Anthropic, its investment is second only to Amazon's "
                              "(Amazon invested US$4 billion, Google US$2.3 billion).\n\n"
                              "In the first half of 2023 China's public cloud market was US$19.01 billion.\n\n"
                              "In 2022 worldwide IaaS revenue grew 30%, and Alibaba held a 7.7% share.\n"),
    "azure": Doc("Microsoft Azure", "# Microsoft Azure\n\n## Chips\n\nCobalt 100, a 128-core Arm-based CPU.\n"),
}


@pytest.fixture(scope="module")
def vocabulary():
    return Vocabulary(SYNONYMS, load_scopes())


def sentence(doc_id, fragment):
    text = DOCS[doc_id].text
    start = text.index(fragment)
    return doc_id, start, start + len(fragment), text[max(0, start - 40) : start + len(fragment)]


def binding(vocabulary, question, answer_type):
    return QuestionBinding(vocabulary, DOCS, question, answer_type)


def test_a_clause_without_an_entity_inherits_the_list_items_lead(vocabulary):
    plan = sentence("telecom", "公司计划2024年资本开支约1730亿元。")
    assert binding(vocabulary, "中国移动2024年计划资本开支是多少？", "money")(*plan)
    assert not binding(vocabulary, "中国联通2024年计划资本开支是多少？", "money")(*plan)


def test_each_figure_belongs_to_the_entity_of_its_own_clause(vocabulary):
    both = sentence("article", "As a shareholder of Anthropic, its investment is second only to Amazon's "
                               "(Amazon invested US$4 billion, Google US$2.3 billion).")
    google = binding(vocabulary, "How much did Google invest?", "money")
    assert google(*both)
    assert [a.value for a in google.bound_amounts(*both[:3])] == [2.3e9]
    assert [a.value for a in binding(vocabulary, "How much did Amazon invest?", "money").bound_amounts(*both[:3])] == [4e9]


def test_period_and_region_must_not_contradict_the_question(vocabulary):
    half = sentence("article", "In the first half of 2023 China's public cloud market was US$19.01 billion.")
    assert binding(vocabulary, "How big was China's public cloud market in the first half of 2023?", "money")(*half)
    assert not binding(vocabulary, "How big was China's public cloud market for the full year 2023?", "money")(*half)
    worldwide = sentence("article", "In 2022 worldwide IaaS revenue grew 30%, and Alibaba held a 7.7% share.")
    assert not binding(vocabulary, "What is Alibaba's share of China's cloud market?", "number")(*worldwide)


def test_the_metric_asked_for_must_be_named(vocabulary):
    plan = sentence("telecom", "公司计划2024年资本开支约1730亿元。")
    assert not binding(vocabulary, "中国移动2024年的营业收入是多少？", "money")(*plan)


def test_a_figure_is_bound_to_the_year_stated_before_it(vocabulary):
    before = sentence("telecom", "中国移动：2023年资本开支为1803亿元；")
    assert binding(vocabulary, "中国移动2023年资本开支是多少？", "money")(*before)
    assert not binding(vocabulary, "中国移动2021年资本开支是多少？", "money")(*before)


def test_names_of_things_an_entity_has_do_not_become_its_subject(vocabulary):
    # "Cobalt 100" is Microsoft's chip: the sentence inherits Microsoft from its heading.
    cobalt = sentence("azure", "Cobalt 100, a 128-core Arm-based CPU.")
    assert binding(vocabulary, "How many cores does Microsoft's server CPU have?", "number")(*cobalt)
    assert not binding(vocabulary, "How many cores does Google's server CPU have?", "number")(*cobalt)


def test_a_versioned_sibling_the_corpus_never_names_is_unknown(vocabulary):
    corpus = "Phi-3-mini (3.8 billion parameters). Trainium2 instances. Gemini Pro. In the City of Hangzhou."
    assert vocabulary.sibling_unknown("Phi-3-medium", corpus)
    assert vocabulary.sibling_unknown("Trainium3", corpus)
    assert vocabulary.sibling_unknown("Gemini Ultra", corpus)
    assert not vocabulary.sibling_unknown("Phi-3-mini", corpus)
    assert not vocabulary.sibling_unknown("Hanguang 800", corpus)  # no family in the corpus: an unknown spelling
    # A different kind of word after the family is not another version of it.
    assert not vocabulary.sibling_unknown("City Brain", corpus)
    assert not vocabulary.sibling_unknown("Trainium2 UltraClusters", corpus)


def test_coordinated_entities(vocabulary):
    assert vocabulary.coordinated("阿里和微软的自研Arm服务器CPU分别叫什么？") == ["阿里", "微软"]
    assert vocabulary.coordinated("What are the assistants from AWS and from Alibaba called?") == ["AWS", "Alibaba"]
    assert vocabulary.coordinated("How much did Google invest in Anthropic?") == []


def test_counted_nouns():
    assert counted_nouns("百度千帆AppBuilder上已经开发了多少个应用？") == ["应用"]
    assert counted_nouns("How many domestic and foreign models was it using?") == ["model"]
    assert counted_nouns("中国移动2024年计划资本开支是多少？") == []


def test_amounts_across_languages():
    assert [(a.value, a.currency) for a in amounts("谷歌投资23亿美元")] == [(2.3e9, "USD")]
    assert [(a.value, a.currency) for a in amounts("Google invested US$2.3 billion")] == [(2.3e9, "USD")]
    assert amounts("23亿美元")[0].equals(amounts("US$2.3 billion")[0])
    assert not amounts("US$23 billion")[0].equals(amounts("23亿美元")[0])
    assert [(a.value, a.currency) for a in amounts("CNY 55.3 billion, 1730亿元")] == [(5.53e10, "CNY"), (1.73e11, "CNY")]
    assert amounts("增长21.9%，2023年") == []


def test_entity_names_are_not_pluralised(vocabulary):
    # Only scope terms take plurals ("shares"); a name followed by "s" is another word.
    keys = {k for found in vocabulary.entity_keys("Alibabas and Googles") for k in found}
    assert not keys & {"阿里云", "谷歌"}
    assert "阿里云" in vocabulary.entity_keys("Alibaba's chips")[0]


def test_reference_entries_are_not_quotable():
    from ingest.schema import Span
    from service.qa.quoting import quotable

    text = ("# Profile\n\nGoogle Cloud reported revenue of US$33.1 billion.\n\n## Sources\n\n"
            "- Gartner, \"Worldwide IaaS Public Cloud Services Revenue Grew 30% in 2022\", 2023-07-18: https:\n")
    fact = text.index("Google Cloud reported")
    entry = text.index("- Gartner")
    assert quotable(text, Span(start=fact, end=text.index("\n", fact)), 8)
    assert not quotable(text, Span(start=entry, end=len(text) - 1), 8)
