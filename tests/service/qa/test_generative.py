"""Cutting a streamed answer into sentences: each is verified as soon as it is whole."""

from service.qa.generative import SentenceCutter
from service.qa.verify import split_markers


def cut(pieces: list[str]) -> tuple[list[list[str]], list[str]]:
    cutter = SentenceCutter()
    fed = [cutter.feed(p) for p in pieces]
    return fed, cutter.flush()


def test_markers_after_a_stop_belong_to_the_sentence_before():
    fed, rest = cut(["Google invested US$2.", "3 billion.", " [1]", " Amazon invested", " US$4 billion [2]."])
    assert fed[:3] == [[], [], []]  # "2." is no end, and a marker may still follow "billion."
    assert fed[3] == ["Google invested US$2.3 billion. [1]"]
    assert rest == ["Amazon invested US$4 billion [2]."]


def test_chinese_sentences_and_half_written_markers():
    fed, rest = cut(["谷歌投资23亿美元。[", "1]阿里", "云走生态开放路线[2]。"])
    assert fed == [[], ["谷歌投资23亿美元。[1]"], []]
    assert rest == ["阿里云走生态开放路线[2]。"]


def test_marker_forms():
    assert split_markers("谷歌投资23亿美元【1】。") == ("谷歌投资23亿美元。", [1])
    assert split_markers("It grew [1, 3][3] fast [^2].") == ("It grew fast.", [1, 3, 2])
    assert split_markers("No marker.") == ("No marker.", [])
