import pytest

from ingest.chunking import chunk_document
from ingest.normalize import normalize_text
from ingest.schema import Document
from ingest.sentences import split_sentences


def make_doc(text: str) -> Document:
    return Document(doc_id="d", title="t", source="s", text=normalize_text(text))


@pytest.fixture(scope="module")
def article(repo_root) -> Document:
    return make_doc((repo_root / "corpus" / "caijing-2024-cloud-genai.txt").read_text(encoding="utf-8"))


def test_offsets_map_back_exactly(article):
    chunks = chunk_document(article, 256, 64)
    assert chunks, "the article must produce chunks"
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]
        for s in chunk.sentences:
            assert chunk.start <= s.start < s.end <= chunk.end


def test_no_empty_or_giant_chunks(article):
    chunks = chunk_document(article, 256, 64)
    assert all(0 < len(c.text) <= 256 for c in chunks)
    assert all(c.text.strip() == c.text for c in chunks)


def test_chunks_hold_whole_sentences_and_cover_every_sentence(article):
    sentences = split_sentences(article.text, max_chars=256)
    chunks = chunk_document(article, 256, 64)
    covered = {(s.start, s.end) for c in chunks for s in c.sentences}
    assert covered == {(s.start, s.end) for s in sentences}


def test_consecutive_chunks_overlap_but_never_repeat(article):
    chunks = chunk_document(article, 256, 64)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.start and b.end > a.end
        assert b.start - a.end <= 2  # at most the line break between them
        overlap = max(0, a.end - b.start)
        assert overlap <= 64


def test_ids_are_stable_and_ordered(article):
    first = chunk_document(article, 256, 64)
    again = chunk_document(article, 256, 64)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again] == [f"d#{i}" for i in range(len(first))]


def test_english_text_chunks_at_sentence_boundaries():
    doc = make_doc(" ".join(f"Sentence number {i} talks about cloud vendors." for i in range(40)))
    chunks = chunk_document(doc, 200, 50)
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("Sentence") and c.text.endswith(".")


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError):
        chunk_document(make_doc("一句。"), 100, 100)
