"""The verifier against the bundled local model's real errors (Qwen2.5-Coder-1.5B, greedy).

Each wrong sentence below is what the model wrote for the question, or a real output with
one figure changed, as noted; each is checked against the passages the writer was shown.
"""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.llm]  # with the generative suite: `make test-llm`


def verdict(pipeline, corpus_index, question: str, written: str):
    sources, verifier = pipeline.verifier(corpus_index, question)
    assert sources, "the question should be answerable, so the writer is shown passages"
    return verifier.check(written)


@pytest.mark.parametrize("question, written, check", [
    # Real: 988亿元 (98.8 billion yuan) became "$988 billion".
    ("What was China Telecom's capex in 2023?", "China Telecom's capex in 2023 was $988 billion, citing sources and.", "figure"),
    # Real: 23亿美元 written as 2亿美元.
    ("谷歌对Anthropic投资了多少？", "谷歌对Anthropic投资了2亿美元。", "figure"),
    # The real output: 23亿美元 read as US$23 billion.
    ("How much did Google invest in Anthropic?", "Google invested $23 billion in Anthropic [2].", "figure"),
])
def test_wrong_figures_are_dropped(pipeline, corpus_index, question, written, check):
    result = verdict(pipeline, corpus_index, question, written)
    assert not result.ok and result.check == check, result


def test_one_company_s_figure_given_as_another_s_is_dropped(pipeline, corpus_index):
    # Real output "中国电信2023年的资本开支是988亿元 [2]。" with China Mobile's figure put in:
    # 1803亿元 is in the cited passage, but stated for 中国移动.
    result = verdict(pipeline, corpus_index, "中国电信2023年的资本开支是多少？", "中国电信2023年的资本开支是1803亿元 [2]。")
    assert not result.ok and result.check == "binding", result


def test_an_invented_count_is_dropped(pipeline, corpus_index):
    # Real output "微软Azure走的是垂直整合路线 [1]。" with a count added that no passage gives.
    result = verdict(pipeline, corpus_index, "微软Azure走的是哪种路线？", "微软Azure走的是垂直整合路线，拥有3万名员工 [1]。")
    assert not result.ok and result.check == "figure", result


def test_a_characterisation_no_cited_sentence_makes_is_dropped(pipeline, corpus_index):
    # Real: the passages say Alibaba Cloud resembles AWS's open ecosystem, not Microsoft's vertical integration.
    result = verdict(pipeline, corpus_index, "Which routes do Alibaba Cloud and Microsoft take?",
                     "Alibaba Cloud and Microsoft both take the vertical-integration route [1].")
    assert not result.ok and result.check == "meaning", result


@pytest.mark.parametrize("question, written", [
    # Real outputs that are right.
    ("How much did Google invest in Anthropic?",
     "Google invested up to US$2 billion in Anthropic, US$500 million up front and US$1.5 billion over time [1]."),
    ("微软Azure走的是哪种路线？", "微软Azure走的是垂直整合路线 [1]。"),
    ("中国电信2023年的资本开支是多少？", "中国电信2023年的资本开支是988亿元 [2]。"),
    # Across languages and units: an English sentence over a Chinese passage (988亿元), no marker.
    ("What was China Telecom's capex in 2023?", "China Telecom's capex in 2023 was RMB 98.8 billion."),
    ("Which route does Microsoft Azure take?", "Microsoft Azure is a typical case of the vertical-integration route."),
])
def test_correct_sentences_survive(pipeline, corpus_index, question, written):
    sources, verifier = pipeline.verifier(corpus_index, question)
    result = verifier.check(written)
    assert result.ok, result
    assert result.cited and all(n in {s.n for s in sources} for n in result.cited)
    assert result.support and all(any(s in src.sentences for src in sources) for s in result.support)


def test_a_sentence_in_another_language_than_the_question_is_dropped(pipeline, corpus_index):
    result = verdict(pipeline, corpus_index, "谷歌对Anthropic投资了多少？", "Google invested US$2.3 billion in Anthropic.")
    assert not result.ok and result.check == "language"
