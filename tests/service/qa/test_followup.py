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
