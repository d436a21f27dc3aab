import pytest

from service.answerability import Synonyms, expected_answer_type, key_terms, missing_terms, type_satisfied

SYN = Synonyms.from_text("# comment\n腾讯, 腾讯云, Tencent, Tencent Cloud\n升腾, 昇腾, Ascend\n")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much does Microsoft charge per user for Copilot?", "money"),
        ("谷歌在Anthropic上投了多少钱？", "money"),
        ("When did AWS update Bedrock?", "date"),
        ("腾讯混元是哪个月发布的？", "date"),
        ("Bedrock上有多少个模型？", "number"),
        ("What was Google Cloud's operating profit in 2023?", "number"),
        ("微软Azure走的是哪种路线？", None),
    ],
)
def test_expected_answer_type(question, kind):
    assert expected_answer_type(question) == kind


def test_type_needs_a_value_beyond_the_question():
    q = "What was Google Cloud's operating profit in 2023?"
    assert not type_satisfied("number", ["2023年,谷歌云扭亏为盈。"], q)
    assert type_satisfied("number", ["2023年,谷歌云营业利润为17亿美元。"], q)
    assert type_satisfied("money", ["亚马逊投资40亿美元"], "投了多少钱")
    assert not type_satisfied("money", ["整合了7家公司的20多种模型"], "多少钱")


def test_key_terms_in_both_languages():
    assert key_terms("What is Tencent Cloud's market share per Gartner?", SYN) == ["Tencent Cloud", "Gartner"]
    assert set(key_terms("2023年昇腾芯片的产能", SYN)) == {"2023", "昇腾"}


def test_missing_terms_use_synonyms_and_skip_unknown_english():
    passages = ["2023年,华为升腾AI芯片产能达到30-40万。"]
    corpus = "".join(passages).lower()
    assert missing_terms(["昇腾", "2023"], passages, SYN, corpus) == []
    assert missing_terms(["Tencent Cloud"], passages, SYN, corpus) == ["Tencent Cloud"]
    assert missing_terms(["Beijing"], passages, SYN, corpus) == []  # cannot be checked over Chinese text
    assert missing_terms(["2024"], passages, SYN, corpus) == ["2024"]
