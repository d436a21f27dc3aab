from ingest.sentences import split_sentences


def texts(text, **kw):
    return [text[s.start : s.end] for s in split_sentences(text, **kw)]


def test_chinese_terminators_including_halfwidth():
    text = "亚马逊云科技是生态开放路线的典型案例。微软呢?谷歌双头下注!百度;华为……腾讯"
    assert texts(text) == ["亚马逊云科技是生态开放路线的典型案例。", "微软呢?", "谷歌双头下注!", "百度;", "华为……", "腾讯"]


def test_english_sentences_and_decimals():
    text = "AWS holds 40.0% of the market. Azure is second! Is Google third? Yes."
    assert texts(text) == ["AWS holds 40.0% of the market.", "Azure is second!", "Is Google third?", "Yes."]


def test_closing_quotes_stay_with_their_sentence():
    text = "他说：“模型越强，应用越多。”随后离开。"
    assert texts(text) == ["他说：“模型越强，应用越多。”", "随后离开。"]


def test_line_break_ends_a_sentence_and_blank_lines_vanish():
    text = "标题\n\n正文第一句。正文第二句\n  \n结尾"
    assert texts(text) == ["标题", "正文第一句。", "正文第二句", "结尾"]


def test_overlong_sentence_is_cut_at_a_comma():
    text = "，".join(["很长的从句"] * 60) + "。"
    pieces = texts(text, max_chars=100)
    assert all(len(p) <= 100 for p in pieces)
    assert "".join(pieces) == text  # nothing lost, nothing added
