import numpy as np
import pytest

from index.embedder import Embedder
from index.store import load_index
from service.config import Settings
from service.indexing import ingest_corpus

pytestmark = pytest.mark.slow

A = "阿里云类似于亚马逊云科技的生态开放路线。阿里云开源了三个通义模型。"
B = "百度智能云类似于微软Azure的垂直整合路线。百度反对开源模式。"


@pytest.fixture
def workspace(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alibaba.txt").write_text(A, encoding="utf-8")
    (corpus / "baidu.txt").write_text(B, encoding="utf-8")
    return Settings(index_dir=tmp_path / "index", corpus_dir=corpus)


def test_incremental_ingest(workspace, embedder):
    data, report = ingest_corpus(workspace, embedder)
    assert sorted(report.added) == ["alibaba", "baidu"]
    assert data.manifest.version == "v000001"
    assert data.dense.ntotal == len(data.chunks) == 2
    assert data.sentence_vectors.shape == (4, data.manifest.dims)
    baidu_vector = data.dense.vectors(np.array([next(c.vid for c in data.chunks if c.chunk.doc_id == "baidu")]))[0]

    # Unchanged: no new version, and the model is not even loaded.
    idle = Embedder(embedder.path, backend=embedder.backend, quantize=embedder.quantize, dims=embedder.truncate_dim)
    _, report = ingest_corpus(workspace, idle)
    assert report.unchanged == ["alibaba", "baidu"] and not report.changed
    assert not idle.loaded
    assert load_index(workspace.index_dir).manifest.version == "v000001"

    # Changed: only that document is embedded again, and its old chunks are gone.
    (workspace.corpus_dir / "alibaba.txt").write_text(A + "阿里还投资了五家独角兽。", encoding="utf-8")
    data, report = ingest_corpus(workspace, embedder)
    assert report.updated == ["alibaba"] and report.unchanged == ["baidu"]
    assert report.embedded_sentences == 3
    assert data.manifest.version == "v000002"
    alibaba = [c for c in data.chunks if c.chunk.doc_id == "alibaba"]
    assert len(alibaba) == 1 and "独角兽" in alibaba[0].chunk.text
    assert data.dense.ntotal == len(data.chunks) == 2
    np.testing.assert_array_equal(
        data.dense.vectors(np.array([next(c.vid for c in data.chunks if c.chunk.doc_id == "baidu")]))[0], baidu_vector
    )
    text = data.documents["alibaba"].text
    rows = data.sentence_vector_rows(alibaba[0].chunk)
    fresh = embedder.embed_documents([text[s.start : s.end] for s in alibaba[0].chunk.sentences], title=data.documents["alibaba"].title)
    np.testing.assert_allclose(data.sentence_vectors[rows], fresh, atol=1e-4)

    # Removed: gone from every index.
    (workspace.corpus_dir / "baidu.txt").unlink()
    data, report = ingest_corpus(workspace, embedder)
    assert report.removed == ["baidu"]
    loaded = load_index(workspace.index_dir)
    assert list(loaded.documents) == ["alibaba"]
    assert loaded.dense.ntotal == 1 and all(c.chunk.doc_id == "alibaba" for c in loaded.chunks)
    assert loaded.sentence_vectors.shape[0] == 3
    assert loaded.lexical.scores(["百度"]).max() == 0


def test_rebuild_after_corruption(workspace, embedder):
    ingest_corpus(workspace, embedder)
    version = load_index(workspace.index_dir).manifest.version
    (workspace.index_dir / "versions" / version / "dense.faiss").write_bytes(b"garbage")
    data, _ = ingest_corpus(workspace, embedder, rebuild=True)
    assert load_index(workspace.index_dir).dense.ntotal == data.dense.ntotal == 2


def test_new_passage_settings_rebuild_every_document_but_a_partial_write_is_refused(workspace, embedder):
    from index.builder import IndexSettingsChangedError
    from ingest.loaders import document_from_text
    from service.indexing import add_document, remove_document

    ingest_corpus(workspace, embedder)
    other = workspace.model_copy(update={"chunk_size": 300})
    # An upload or a delete names one document; rebuilding from it would publish an index of that one alone.
    with pytest.raises(IndexSettingsChangedError, match="other 2 documents"):
        add_document(other, embedder, document_from_text("腾讯云推出了混元大模型。", title="t", source="s", doc_id="note"))
    with pytest.raises(IndexSettingsChangedError, match="citeqa ingest --rebuild"):
        remove_document(other, embedder, "note")
    assert load_index(workspace.index_dir).manifest.version == "v000001"
    # An ingest names every document, so it may rebuild them all with the new settings.
    data, report = ingest_corpus(other, embedder)
    assert sorted(report.added) == ["alibaba", "baidu"] and data.manifest.chunk_size == 300
    assert sorted(load_index(workspace.index_dir).documents) == ["alibaba", "baidu"]
