import faiss
import numpy as np
import pytest

from index.dense import DenseBackend, load_dense, new_dense


def unit(rng: np.random.Generator, n: int, dims: int = 32) -> np.ndarray:
    v = rng.normal(size=(n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def clustered(rng: np.random.Generator, n: int, dims: int = 32) -> np.ndarray:
    # Real embeddings cluster by topic; IVF relies on that.
    centres = unit(rng, 20, dims)
    v = centres[rng.integers(0, 20, n)] + 0.1 * rng.normal(size=(n, dims)).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_auto_switches_from_flat_to_ivf_at_the_threshold_and_keeps_every_vector(tmp_path):
    rng = np.random.default_rng(0)
    dense = new_dense(DenseBackend(faiss_index="auto", ivf_threshold=3000, ivf_nprobe=16), 32)
    first, second = clustered(rng, 2000), clustered(rng, 2000)
    dense.add(first, np.arange(2000))
    assert dense.kind == "flat"
    exact = new_dense(DenseBackend(faiss_index="flat"), 32)
    exact.add(np.concatenate([first, second]), np.arange(4000))

    dense.add(second, np.arange(2000, 4000))
    assert dense.kind == "ivf" and dense.ntotal == 4000
    np.testing.assert_allclose(dense.vectors(np.array([5, 3999])), np.stack([first[5], second[1999]]), atol=1e-6)

    queries = clustered(rng, 50)
    recall = np.mean([len(set(dense.search(q, 10)[1]) & set(exact.search(q, 10)[1])) / 10 for q in queries])
    assert recall >= 0.9

    dense.remove(np.array([5]))
    assert dense.ntotal == 3999 and 5 not in dense.search(first[5], 5)[1]

    files = dense.save(tmp_path)
    loaded = load_dense(tmp_path, 3999)
    assert loaded.kind == "ivf" and loaded.ntotal == 3999 and set(files) == {"dense.faiss", "dense.json"}
    np.testing.assert_array_equal(loaded.search(queries[0], 10)[1], dense.search(queries[0], 10)[1])


def test_fork_leaves_the_original_unchanged():
    rng = np.random.default_rng(1)
    dense = new_dense(DenseBackend(faiss_index="flat"), 32)
    dense.add(unit(rng, 10), np.arange(10))
    child = dense.fork()
    child.remove(np.array([0, 1]))
    child.add(unit(rng, 1), np.array([10]))
    assert dense.ntotal == 10 and child.ntotal == 9
    assert 10 not in dense.search(child.vectors(np.array([10]))[0], 10)[1]


def test_bad_backend_names_are_refused():
    with pytest.raises(ValueError, match="faiss"):
        DenseBackend(kind="pinecone")
    with pytest.raises(ValueError, match="flat"):
        DenseBackend(faiss_index="hnsw2")


def test_milvus_lite_adds_searches_and_defers_deletes_until_published(tmp_path):
    pytest.importorskip("milvus_lite")
    rng = np.random.default_rng(2)
    spec = DenseBackend(kind="milvus", milvus_uri=str(tmp_path / "m.db"), milvus_collection="t")
    v = unit(rng, 50)
    dense = new_dense(spec, 32)
    dense.add(v, np.arange(50))
    scores, ids = dense.search(v[7], 3)
    assert ids[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(dense.vectors(np.array([7, 8])), v[7:9], atol=1e-6)

    child = dense.fork()
    child.remove(np.array([7]))
    assert child.ntotal == 49
    # The live version still finds the vector until the child is published.
    assert 7 in dense.search(v[7], 3)[1]
    child.save(tmp_path)
    child.published()
    assert 7 not in dense.search(v[7], 3)[1]
    loaded = load_dense(tmp_path, 49)
    assert loaded.ntotal == 49 and loaded.search(v[8], 1)[1][0] == 8


def test_ivf_is_retrained_when_the_corpus_outgrows_its_lists():
    rng = np.random.default_rng(3)
    dense = new_dense(DenseBackend(faiss_index="ivf", ivf_nprobe=64), 32)
    first = clustered(rng, 1000)
    dense.add(first, np.arange(1000))
    small_lists = faiss.extract_index_ivf(dense._index).nlist
    more = clustered(rng, 9000)
    dense.add(more, np.arange(1000, 10000))
    ivf = faiss.extract_index_ivf(dense._index)
    assert ivf.nlist > 2 * small_lists and dense.ntotal == 10000
    np.testing.assert_allclose(dense.vectors(np.array([3, 9999])), np.stack([first[3], more[-1]]), atol=1e-6)
