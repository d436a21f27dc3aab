"""Scoring the generative verifier against hand labels, with the real pipeline and index."""

import json

import pytest

from evals.questions import Question, load_set
from evals.verifier_labels import DEFAULT_LABELS, Label, judge, load_labels, tally

pytestmark = pytest.mark.slow


def test_labels_are_scored_by_the_verifier_of_their_own_question(pipeline, corpus_index):
    question = Question(id="v1", lang="zh", question="微软Azure走的是哪种路线？")
    sources, _ = pipeline.verifier(corpus_index, question.question)
    shown = {str(s.n): s.text for s in sources}
    quoted = next(s.text for s in sources[0].sentences if "垂直整合" in s.text)
    labels = [
        Label("v1", quoted, True, shown),  # a sentence of the passage itself: supported
        Label("v1", "微软Azure的数据中心全部建在南极洲的冰层下面。", False, shown),  # nothing says so
        Label("v1", quoted, True, {"1": "另一段文字"}),  # labelled on passages that are not offered now
    ]
    judged = judge(pipeline, corpus_index, labels, {"v1": question}, [0.72, 1.5])
    assert [j.same_sources for j in judged] == [True, True, False]
    configured, impossible = tally(judged, 0.72), tally(judged, 1.5)

    assert configured.labelled == 3 and configured.same_sources == 2
    assert (configured.shown, configured.shown_supported, configured.supported) == (2, 2, 2)
    assert configured.precision == configured.recall == configured.caught == 1.0
    # Closer than any two vectors can be: nothing passes the meaning check, so nothing is shown.
    assert impossible.shown == 0 and impossible.precision is None and impossible.recall == 0.0 and impossible.caught == 1.0


def test_every_bundled_label_is_of_a_question_in_the_report_sets():
    # The report split (heldout + related) is where the labelled sentences were written; the
    # scorer needs each question (and its history) to rebuild what the model was shown.
    sets = DEFAULT_LABELS.parents[1] / "sets"
    questions = {q.id for name in ("heldout", "related") for q in load_set(sets / f"{name}.jsonl")}
    labels = load_labels(DEFAULT_LABELS)
    raw = [json.loads(line) for line in DEFAULT_LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(labels) == len(raw) == 100 and {label.id for label in labels} <= questions
    assert sum(label.supported for label in labels) == sum(r["label"] == "supported" for r in raw) == 71
