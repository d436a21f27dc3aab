import pytest

from service.qa.followup import resolve_question


def turns(previous: str) -> list[tuple[str, str]]:
    return [("user", previous), ("assistant", "……[1]。")]


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        ("阿里云走的是哪种路线？", "那百度呢？", "百度走的是哪种路线？"),
        ("谷歌在Anthropic上投了多少钱？", "那亚马逊呢？", "亚马逊在Anthropic上投了多少钱？"),
        ("Which route does Alibaba Cloud follow for generative AI?", "What about Baidu?", "Which route does Baidu follow for generative AI?"),
        ("What route does Microsoft Azure take on large models?", "And Google Cloud?", "What route does Google Cloud take on large models?"),
    ],
)
def test_elliptical_follow_up_swaps_the_subject(previous, follow_up, expected):
    assert resolve_question(follow_up, turns(previous)) == expected


@pytest.mark.parametrize(
    ("previous", "follow_up"),
    [("百度为什么在生成式AI上投入这么激进？", "效果怎么样？"), ("What is AWS's key capability?", "Why is that hard?"), ("阿里云走的是哪种路线？", "为什么？")],
)
def test_follow_up_that_points_back_keeps_the_previous_question(previous, follow_up):
    assert resolve_question(follow_up, turns(previous)) == f"{previous} {follow_up}"


def test_standalone_questions_are_left_alone():
    assert resolve_question("华为云用什么芯片？", turns("阿里云走的是哪种路线？")) == "华为云用什么芯片？"
    assert resolve_question("那Amazon Q有多少个连接器？", turns("Bedrock上有多少模型？")) == "那Amazon Q有多少个连接器？"
    assert resolve_question("那百度呢？", []) == "那百度呢？"


def test_only_user_turns_count_as_the_previous_question():
    history = [("user", "阿里云走的是哪种路线？"), ("assistant", "腾讯云走的是……")]
    assert resolve_question("那百度呢？", history) == "百度走的是哪种路线？"


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        # "And <question>?" that asks the same thing of another subject.
        ("How much did Amazon invest in Anthropic?", "And how much did Google invest?", "How much did Google invest in Anthropic?"),
        # A possessive topic keeps one possessive.
        ("What is China Telecom's in-house large model called?", "What about China Mobile's?",
         "What is China Mobile's in-house large model called?"),
        # Pronouns name the previous subject, or the thing it owns.
        ("What is Google's Gemini?", "When did it launch?", "When did Google's Gemini launch?"),
        ("腾讯混元大模型是什么时候发布的？", "它的参数量是多少？", "腾讯混元大模型的参数量是多少？"),
    ],
)
def test_follow_ups_in_both_languages(previous, follow_up, expected):
    assert resolve_question(follow_up, turns(previous)) == expected


def test_and_question_asking_something_new_is_not_spliced():
    # "And why did Google invest?" asks something the previous question did not: no subject swap.
    assert resolve_question("And why did Google invest?", turns("How much did Amazon invest in Anthropic?")) == "Why did Google invest?"
