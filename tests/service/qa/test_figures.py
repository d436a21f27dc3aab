"""Figures read on one scale across languages and units: the verifier's figure check rests on it."""

from service.qa.figures import figures


def one(text: str):
    found = figures(text)
    assert len(found) == 1, found
    return found[0]


def test_chinese_and_english_scales_meet():
    assert one("谷歌投资23亿美元").equals(one("Google invested US$2.3 billion"))
    assert one("40亿").equals(one("4 billion"))
    assert one("1803亿元").equals(one("RMB 180.3 billion"))


def test_a_tenfold_slip_is_another_figure():
    assert not one("谷歌投资23亿美元").equals(one("Google invested $23 billion"))
    assert not one("40亿").equals(one("400 million"))


def test_kinds_and_currencies_do_not_mix():
    assert not one("增长23%").equals(one("23亿"))
    assert not one("23亿美元").equals(one("23亿元"))
    assert one("23亿美元").equals(one("2.3 billion"))  # a bare figure may stand for a sum


def test_years_percentages_and_counts():
    year, = [f for f in figures("2023年收入增长12.5%") if f.kind == "year"]
    assert year.value == 2023
    assert one("增长12.5%").equals(one("grew 12.5 percent"))
    assert one("七大模型").equals(one("7 models"))
    assert not one("两款产品").equals(one("3 products"))
