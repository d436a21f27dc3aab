import pytest

from service.qa.answerability import Synonyms, expected_answer_type, key_terms, missing_terms, type_satisfied

SYN = Synonyms.from_text("# comment\n腾讯, 腾讯云, Tencent, Tencent Cloud\n升腾, 昇腾, Ascend\n")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much does Microsoft charge per user for Copilot?", "money"),
        ("谷歌在Anthropic上投了多少钱？", "money"),
        ("When did AWS update Bedrock?", "date"),
        ("腾讯混元是哪个月发布的？", "date"),
        ("Bedrock上有多少个模型？", "number"),
        ("What was Google Cloud's operating profit in 2023?", "money"),
        ("阿里云2023年的营收是多少？", "money"),
        ("How much did Microsoft's revenue growth rebound?", "number"),
        ("百度智能云收入增速反弹了多少？", "number"),
        ("阿里云收入同比增长多少？", "number"),
        ("百度智能云的营收有多少？", "money"),
        ("What approach does Google take when investing in startups?", None),
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
    assert key_terms("What is Tencent Cloud's market share in Gartner's ranking?", SYN) == ["Tencent Cloud", "Gartner"]
    # A named source is not required in the quote: figures often follow the sentence naming it.
    assert key_terms("What is Tencent Cloud's market share per Gartner?", SYN) == ["Tencent Cloud"]
    assert key_terms("按Gartner的数据，腾讯云的份额是多少？", SYN) == ["腾讯云"]
    assert set(key_terms("2023年昇腾芯片的产能", SYN)) == {"2023", "昇腾"}


def test_multiword_synonyms_are_found_as_whole_words():
    syn = Synonyms.from_text("上半年, first half\n下半年, second half\n")
    assert syn.mentioned_in("How big was it in the second half of 2023?") == ["second half"]
    assert syn.mentioned_in("the secondhalf") == []
    assert syn.variants("Second Half") == {"secondhalf", "下半年"}


def test_a_figure_must_sit_with_the_entity_it_is_about():
    from service.qa.answerability import unbound_terms

    syn = Synonyms.from_text("百度, 百度智能云, Baidu\n")
    quotes = [("中国公共云市场规模190.1亿美元。", "中国公共云市场规模190.1亿美元。"),
              ("百度智能云的市场份额和第一梯队之间存在差距。", "百度智能云的市场份额和第一梯队之间存在差距。")]
    assert unbound_terms(["百度智能云"], quotes, "number", "百度智能云的份额是多少？", syn, "") == ["百度智能云"]
    quotes.append(("百度智能云收入增速反弹11%。", "百度智能云收入增速反弹11%。"))
    assert unbound_terms(["百度智能云"], quotes, "number", "百度智能云的增速是多少？", syn, "") == []
    assert unbound_terms(["百度智能云"], quotes[:2], None, "百度智能云走什么路线？", syn, "") == []


def test_missing_terms_use_synonyms_and_skip_unknown_english():
    passages = ["2023年,华为升腾AI芯片产能达到30-40万。"]
    corpus = "".join(passages).lower()
    assert missing_terms(["昇腾", "2023"], passages, SYN, corpus) == []
    assert missing_terms(["Tencent Cloud"], passages, SYN, corpus) == ["Tencent Cloud"]
    assert missing_terms(["Beijing"], passages, SYN, corpus) == []  # cannot be checked over Chinese text
    assert missing_terms(["2024"], passages, SYN, corpus) == ["2024"]


def test_an_english_name_the_corpus_never_writes_is_checked_by_its_figures():
    passages = ["阿里称，原先需要40块GPU处理的视频流，用4颗含光800即可完成。"]
    corpus = "".join(passages).lower()
    # The documents write 含光800, never "Hanguang 800": the letters cannot be checked, the figure can.
    assert missing_terms(["Hanguang 800", "GPUs"], passages, SYN, corpus) == []
    assert missing_terms(["Hanguang 900"], passages, SYN, corpus) == ["Hanguang 900"]
    # A name the corpus does write must be in the quoted passages.
    assert missing_terms(["Hanguang 800"], passages, SYN, corpus + "hanguang800") == ["Hanguang 800"]


def test_plurals_name_their_singular_and_acronyms_are_not_plurals():
    assert "gpu" in SYN.variants("GPUs")
    assert SYN.variants("AWS") == {"aws"}
    assert SYN.variants("class") == {"class"}


def test_reference_lists_and_links_are_not_what_a_document_states():
    from service.qa.quoting import quotable_text

    text = "# 阿里云\n倚天710主频3.2GHz，见 https://example.com/yitian-710 。\n## 资料来源\n- Announcing Hanguang 800\n# 其他\n正文。"
    kept = quotable_text(text)
    assert "倚天710" in kept and "正文" in kept
    assert "Hanguang" not in kept and "example.com" not in kept
