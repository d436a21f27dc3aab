"""A written answer must say what the quoted answer says it must: the value, both sides, every item."""

import pytest

from ingest.schema import Span
from service.qa.answerability import Synonyms
from service.qa.binding import Vocabulary, load_scopes
from service.qa.completeness import missing_parts
from service.qa.quoting import Quote
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def vocabulary():
    return Vocabulary(Synonyms.from_text((REPO_ROOT / "corpus" / "synonyms.csv").read_text(encoding="utf-8")), load_scopes())


def quote(text: str, disputed: bool = False) -> Quote:
    return Quote(0, "doc", Span(start=0, end=len(text)), text, 1.0, 0.8, text, disputed)


def test_both_sides_of_a_comparison(vocabulary):
    question = "阿里云和微软分别采用什么路线？"
    quotes = [quote("阿里云类似于亚马逊云科技的生态开放路线。"), quote("微软Azure是一个典型的垂直整合路线案例。")]
    assert missing_parts(question, "阿里云走生态开放路线。", quotes, ["阿里云", "微软"], None, vocabulary)
    assert missing_parts(question, "阿里云走生态开放路线，Microsoft走垂直整合路线。", quotes, ["阿里云", "微软"], None,
                         vocabulary) == []


def test_the_value_asked_for(vocabulary):
    quotes = [quote("亚马逊投资40亿美元,谷歌投资23亿美元。")]
    question = "How much did Google invest in Anthropic?"
    assert missing_parts(question, "Google invested heavily in Anthropic.", quotes, [], "money", vocabulary)
    assert missing_parts(question, "Google invested US$2.3 billion in Anthropic.", quotes, [], "money", vocabulary) == []


def test_both_figures_of_a_conflict(vocabulary):
    quotes = [quote("Google had agreed to invest up to US$2 billion in Anthropic."),
              quote("谷歌投资23亿美元。", disputed=True)]
    question = "How much did Google invest in Anthropic?"
    assert missing_parts(question, "Google agreed to invest up to US$2 billion.", quotes, [], "money", vocabulary)
    assert missing_parts(question, "Google agreed to invest up to US$2 billion; another source says US$2.3 billion.",
                         quotes, [], "money", vocabulary) == []


def test_every_named_item_of_a_list(vocabulary):
    quotes = [quote("阿里云向外界发布了三个开源模型：Qwen-VL、Qwen-Audio和Qwen-72B。")]
    question = "Which three open models did Alibaba Cloud release?"
    assert missing_parts(question, "Alibaba Cloud released Qwen-VL.", quotes, [], None, vocabulary)
    assert missing_parts(question, "Alibaba Cloud released Qwen-VL, Qwen-Audio and Qwen-72B.", quotes, [], None,
                         vocabulary) == []
