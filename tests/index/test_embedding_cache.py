import numpy as np

from index.embedding_cache import EmbeddingCache


def test_round_trip_and_misses(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite", "model-a")
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    cache.put_many("p: ", ["一", "二", "三"], vectors)
    got = cache.get_many("p: ", ["二", "四", "一"], 8)
    np.testing.assert_array_equal(got[0], vectors[1])
    assert got[1] is None
    np.testing.assert_array_equal(got[2], vectors[0])
    assert cache.get_many("other prompt: ", ["一"], 8) == [None]
    assert cache.get_many("p: ", ["一"], 16) == [None]  # another dimension is another model setting


def test_namespaces_do_not_mix_and_survive_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    EmbeddingCache(path, "model-a").put_many("", ["x"], np.ones((1, 4), np.float32))
    assert EmbeddingCache(path, "model-b").get_many("", ["x"], 4) == [None]
    np.testing.assert_array_equal(EmbeddingCache(path, "model-a").get_many("", ["x"], 4)[0], np.ones(4, np.float32))
