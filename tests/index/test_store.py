import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from index import dense as dense_module
from index import store
from index.dense import DenseBackend, new_dense
from index.store import (ChunkRecord, DocumentRecord, IndexCorruptError, IndexData, IndexManifest, IndexNotFoundError,
                         load_index, save_index)
from ingest.schema import Chunk, Span


def make_index(n_docs: int = 2, dims: int = 8, seed: int = 0) -> IndexData:
    rng = np.random.default_rng(seed)
    documents, chunks, sentence_blocks = {}, [], []
    dense = new_dense(DenseBackend(faiss_index="flat"), dims)
    row = vid = 0
    for d in range(n_docs):
        text = f"文档{d}第一句。文档{d}第二句。"
        spans = [Span(start=0, end=7), Span(start=7, end=14)]
        documents[f"doc{d}"] = DocumentRecord(doc_id=f"doc{d}", title=f"T{d}", source="s", metadata={}, text=text,
                                              sha256=f"h{d}", ingested_at="now", sentences=spans, sentence_row=row, chunks=1)
        chunk = Chunk(chunk_id=f"doc{d}#0", doc_id=f"doc{d}", ordinal=0, start=0, end=14, text=text, sentences=spans)
        chunks.append(ChunkRecord(chunk=chunk, vid=vid, tokens=["文档", str(d)]))
        vec = rng.normal(size=(1, dims)).astype(np.float32)
        dense.add(vec / np.linalg.norm(vec), np.array([vid], dtype=np.int64))
        sentence_blocks.append(rng.normal(size=(2, dims)).astype(np.float32))
        row += 2
        vid += 1
    manifest = IndexManifest(created_at="now", model_id="m", model_sha256=None, dims=dims, chunk_size=256,
                             chunk_overlap=64, documents={k: v.sha256 for k, v in documents.items()},
                             counts={"documents": n_docs, "chunks": n_docs, "sentences": row})
    return IndexData(manifest, documents, chunks, dense, np.concatenate(sentence_blocks), "a, b")


def test_round_trip(tmp_path):
    original = make_index()
    save_index(tmp_path, original)
    loaded = load_index(tmp_path)
    assert loaded.manifest.version == "v000001"
    assert loaded.documents == original.documents
    assert [c.model_dump() for c in loaded.chunks] == [c.model_dump() for c in original.chunks]
    assert loaded.dense.ntotal == 2 and loaded.dense.dims == 8
    np.testing.assert_array_equal(loaded.dense.vectors(np.array([1])), original.dense.vectors(np.array([1])))
    np.testing.assert_array_equal(loaded.sentence_vectors, original.sentence_vectors)
    assert loaded.synonyms_text == "a, b"
    assert set(loaded.manifest.files) == {*store._FILES, "dense.faiss", "dense.json"}


def test_versions_advance_and_old_ones_are_pruned(tmp_path):
    for i in range(4):
        save_index(tmp_path, make_index(n_docs=i + 1))
    assert load_index(tmp_path).manifest.version == "v000004"
    assert len(load_index(tmp_path).documents) == 4
    kept = sorted(p.name for p in (tmp_path / "versions").iterdir())
    assert kept == ["v000003", "v000004"]


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match="citeqa ingest"):
        load_index(tmp_path)


@pytest.mark.parametrize("victim", ["dense.faiss", "chunks.jsonl", "sentences.npy"])
def test_corruption_names_the_file(tmp_path, victim):
    version = save_index(tmp_path, make_index())
    path = version / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=victim):
        load_index(tmp_path)


def test_failure_mid_write_keeps_the_previous_version(tmp_path, monkeypatch):
    save_index(tmp_path, make_index(n_docs=1))

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing the new version

    monkeypatch.setattr(dense_module.faiss, "write_index", boom)
    with pytest.raises(KeyboardInterrupt):
        save_index(tmp_path, make_index(n_docs=3))
    loaded = load_index(tmp_path)
    assert loaded.manifest.version == "v000001" and len(loaded.documents) == 1
    assert not list((tmp_path / "versions").glob(".tmp-*"))


def test_sigkill_during_repeated_publishes_leaves_a_loadable_index(tmp_path, repo_root):
    """A real process killed at an arbitrary point of a write: the index still loads whole."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(repo_root)!r})
        sys.path.insert(0, {str(repo_root / "tests" / "index")!r})
        from pathlib import Path
        from test_store import make_index
        from index.store import save_index
        i = 0
        while True:
            i += 1
            data = make_index(n_docs=1 + i % 5, dims=256, seed=i)
            data.sentence_vectors = data.sentence_vectors.repeat(4000, axis=0)  # make writes take a while
            save_index(Path({str(tmp_path)!r}), data)
            print(i, flush=True)
    """)
    for delay in (0.6, 1.3, 2.1):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip()  # at least one version was published
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        loaded = load_index(tmp_path)  # verifies every checksum
        assert len(loaded.documents) == loaded.manifest.counts["documents"]
        assert loaded.dense.ntotal == len(loaded.chunks)
