"""The evaluation runner end to end: in-process, against a real server, and the comparison."""

import json

import pytest

from evals.questions import Question, Turn
from evals.runner import run_questions, summarize
from evals.targets import HttpTarget, LocalTarget

pytestmark = pytest.mark.slow

QUESTIONS = [
    Question(id="t1", lang="zh", type="route", question="微软Azure走的是哪种路线？",
             evidence=["微软Azure是一个典型的垂直整合路线案例"], answer_keywords=[["垂直整合"]]),
    Question(id="t2", lang="en", type="factual", question="How many model companies does Amazon Bedrock bring together?",
             evidence=["整合了全球7家头部模型公司的20多种优选大型模型", "整合了全球7家头部模型公司的20多种优选模型",
                       "more than 20 selected large models from 7 leading model companies",
                       "more than 20 selected models from 7 leading model companies"],
             answer_keywords=[["7"]]),
    Question(id="t3", lang="zh", type="followup", question="那百度呢？",
             evidence=["百度智能云类似于微软Azure的垂直整合路线", "百度智能云采用类似微软Azure的垂直整合路线"],
             answer_keywords=[["垂直整合"]],
             history=[Turn(role="user", content="阿里云走的是哪种路线？"), Turn(role="assistant", content="生态开放路线 [1]。")]),
    Question(id="t4", lang="en", type="unanswerable", question="What's the weather forecast for Beijing tomorrow?", answerable=False),
]


def check(results):
    assert [r.id for r in results] == ["t1", "t2", "t3", "t4"]
    by_id = {r.id: r for r in results}
    assert by_id["t1"].answered and by_id["t1"].correct and by_id["t1"].relevance[0]
    assert by_id["t3"].resolved_question == "百度走的是哪种路线？" and by_id["t3"].correct
    assert not by_id["t4"].answered and by_id["t4"].correct and by_id["t4"].failure is None
    summary = summarize(results)
    assert summary["questions"] == 4 and summary["answerable"] == 3 and summary["unanswerable"] == 1
    assert summary["refusal_accuracy"] == 1.0 and summary["false_refusal_rate"] == 0.0
    assert summary["recall@5"] == 1.0 and 0 < summary["ndcg@10"] <= 1
    assert summary["latency_p50_ms"] > 0
    return summary


def test_in_process_and_over_http_agree(pipeline, corpus_index, server):
    local = run_questions(QUESTIONS, LocalTarget(pipeline, corpus_index), progress=False)
    remote = run_questions(QUESTIONS, HttpTarget(server.url), progress=False)
    check(local)
    check(remote)
    assert [r.answer for r in local] == [r.answer for r in remote]
    assert [r.relevance for r in local] == [r.relevance for r in remote]


def test_reports_and_comparison(pipeline, corpus_index, tmp_path, corpus_settings):
    from evals.compare import configurations, run_comparison, write_comparison
    from evals.report import write_report

    results = run_questions(QUESTIONS, LocalTarget(pipeline, corpus_index), progress=False)
    write_report(tmp_path / "single", results, "t", {"k": 1}, 0.4)
    payload = json.loads((tmp_path / "single" / "report.json").read_text())
    assert payload["summary"]["questions"] == 4 and len(payload["questions"]) == 4
    assert "by_lang" in payload and payload["config"] == {"k": 1}
    report = (tmp_path / "single" / "report.md").read_text()
    assert "| all | 4 |" in report and "| lang=en | 2 |" in report and "## Failures (0)" in report
    for name in ("metrics.png", "confidence.png", "latency.png"):
        assert (tmp_path / "single" / name).read_bytes()[:4] == b"\x89PNG", name

    runs = run_comparison(QUESTIONS[:2], configurations(pipeline, corpus_index), top_k=5, progress=False)
    assert list(runs) == ["llama-index default", "BM25 (jieba)", "dense only", "BM25+dense 0.5/0.5", "citeqa"]
    assert len(runs["llama-index default"][0].relevance) == 2  # its default top-k
    write_comparison(tmp_path / "cmp", runs, "cmp", {}, 0.4)
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert set(data["configurations"]) == set(runs)
    assert "| citeqa |" in (tmp_path / "cmp" / "compare.md").read_text()
    assert (tmp_path / "cmp" / "metrics.png").stat().st_size > 1000
