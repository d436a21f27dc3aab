"""Every question set is well-formed and its evidence is really in the corpus."""

import json

import pytest

from ingest.corpus import load_corpus

from tests.conftest import REPO_ROOT

SETS = sorted((REPO_ROOT / "evals" / "sets").glob("*.jsonl"))


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def corpus_text() -> list[str]:
    return [squash(d.text) for d in load_corpus(REPO_ROOT / "corpus")]


def test_there_are_sets():
    assert {p.name for p in SETS} >= {"dev.jsonl", "heldout.jsonl"}


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_set_is_well_formed_and_evidence_is_in_the_corpus(path, corpus_text):
    ids = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        where = f"{path.name}:{number} ({q.get('id')})"
        assert q["id"] not in ids, f"duplicate id at {where}"
        ids.add(q["id"])
        assert q["lang"] in ("zh", "en"), where
        assert isinstance(q["question"], str) and q["question"].strip(), where
        assert isinstance(q["answerable"], bool), where
        if q["answerable"]:
            assert q["evidence"] and q["answer_keywords"], where
        else:
            assert not q["evidence"], where
        for evidence in q["evidence"]:
            assert any(squash(evidence) in doc for doc in corpus_text), f"{where}: evidence not in the corpus: {evidence}"
        for group in q["answer_keywords"]:
            assert group and all(isinstance(k, str) and k for k in group), where
        for turn in q.get("history", []):
            assert turn["role"] in ("user", "assistant") and turn["content"], where
