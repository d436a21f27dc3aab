from index.tokenize import tokenize


def test_chinese_search_mode_and_english_together():
    tokens = tokenize("华为云使用国产升腾AI芯片，Amazon Bedrock也上架了。")
    assert {"华为", "升腾", "芯片", "ai", "amazon", "bedrock"} <= set(tokens)
    assert "，" not in tokens and "了" not in tokens


def test_search_mode_emits_sub_words():
    tokens = tokenize("亚马逊云科技")
    assert "亚马逊" in tokens and "科技" in tokens


def test_stopwords_and_punctuation_dropped():
    assert tokenize("What is the 的 ，。?") == []
