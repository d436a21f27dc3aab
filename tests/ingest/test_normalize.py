from ingest.normalize import normalize_text


def test_fullwidth_alnum_becomes_ascii_but_cjk_punctuation_stays():
    assert normalize_text("ＡＩ芯片１２３，好。") == "AI芯片123，好。"


def test_whitespace_is_collapsed_and_lines_trimmed():
    raw = "  第一行\u3000\u3000有空格  \r\n\r\n\r\n\r\n第二行\t\tend \u200b"
    assert normalize_text(raw) == "第一行 有空格\n\n第二行 end"


def test_idempotent():
    raw = "Ｈello\u00a0world\n\n\n\n生成式AI ，云厂商。"
    once = normalize_text(raw)
    assert normalize_text(once) == once
