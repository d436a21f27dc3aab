"""evals.bench writes and crash, at small sizes, on a copy of the session's corpus index.

No timing is asserted: the benchmarks report latency; these tests hold them to their
correctness checks (no failed request, the store and the index agree, nothing acknowledged
is lost).
"""

import pytest

from evals.bench import crash, writes

pytestmark = pytest.mark.slow

QUESTIONS = ["微软Azure走的是哪种路线？", "How many Trainium 2 chips can AWS train on?", "百度智能云的芯片叫什么？",
             "What does Google Cloud offer for model training?"]


def test_asks_while_documents_are_written(corpus_settings, tmp_path):
    result = writes.run_writes(corpus_settings.index_dir, corpus_dir=corpus_settings.corpus_dir, clients=8,
                               idle_requests=16, cycles=1, passages=(6, 8), questions=QUESTIONS, warmup=1,
                               ready_timeout=120, workdir=tmp_path)
    print("\n" + writes.table(result))
    assert result.error is None, result.error
    assert result.idle.requests == 16 and result.writes.requests > 0
    assert [op.op for op in result.write_ops] == ["upload", "delete"]
    assert result.write_ops[0].passages >= 4, result.write_ops[0]
    assert result.errors == 0, (result.idle.error_kinds, result.writes.error_kinds, result.write_ops)
    assert result.agreement.ok, result.agreement.summary()
    assert not result.agreement.content_problems, result.agreement.content_problems


def test_sigkill_during_writes_loses_nothing_acknowledged(corpus_settings, tmp_path):
    # Every kind of write in three rounds: round 2 replaces, round 3 deletes.
    result = crash.run_crash(corpus_settings.index_dir, corpus_dir=corpus_settings.corpus_dir, rounds=3, seed=0,
                             passages=(2, 3), replace_every=2, delete_every=3, ready_timeout=120, workdir=tmp_path)
    print("\n" + crash.table(result))
    assert result.error is None, result.error
    assert len(result.rounds) == 3 and all(r.after is not None for r in result.rounds)
    assert [r.write.kind for r in result.rounds] == ["upload", "replace", "delete"]
    assert result.baseline.agreement.ok, result.baseline.agreement.summary()
    assert result.errors == 0, [(r.round, r.write.status, r.after.ask_status) for r in result.rounds]
    failures = {r.round: r.after.agreement.summary() for r in result.rounds if r.round in result.agreement_failures}
    assert not failures, failures
    assert result.lost == [], "acknowledged writes lost"
    assert result.resurrected == [], "acknowledged deletes undone"
    assert result.leftover_rounds == [], [r.after.leftovers for r in result.rounds]
