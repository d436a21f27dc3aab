from service.qa.answerability import Synonyms, key_terms
from service.qa.comparison import comparison_entities, side_question

SYN = Synonyms.from_text("亚马逊云科技, AWS, Amazon\n微软, Microsoft, Azure\n阿里, 阿里云, Alibaba\n百度, Baidu\n开源, open-source\n")


def entities(question):
    return comparison_entities(question, key_terms(question, SYN), SYN)


def test_comparisons_name_their_sides():
    assert set(entities("阿里和百度对开源的态度有什么不同？")) == {"阿里", "百度"}
    assert set(entities("How do AWS's and Microsoft's strategies differ?")) == {"AWS", "Microsoft"}


def test_other_questions_are_not_comparisons():
    assert entities("阿里云走的是哪种路线？") == []
    assert entities("AWS和微软的收入是多少？") == []  # no comparison cue
    assert entities("阿里对开源有什么不同看法？") == []  # one side only


def test_side_question_drops_the_other_side():
    assert side_question("How do AWS's and Microsoft's strategies differ?", "AWS", ["Microsoft"], SYN) == "How do AWS's and strategies differ?"
    assert side_question("阿里和百度对开源的态度有什么不同？", "百度", ["阿里"], SYN) == "和百度对开源的态度有什么不同？"
