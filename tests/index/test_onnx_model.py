"""The ONNX Runtime backend against torch: the same fp32 vectors, int8 deterministic and close."""

import shutil

import numpy as np
import pytest

from index.embedder import Embedder
from index.model_fetch import WEIGHTS_SHA256
from index.onnx_model import FOLDER, is_exported

pytestmark = pytest.mark.slow
QUERIES = ["阿里云走的是哪种路线？", "Which vendor bets on both open-source and closed models?", "AWS Trainium 2"]
PASSAGES = ["微软Azure与OpenAI深度绑定，走的是垂直整合路线。", "Amazon Bedrock offers models from several providers.",
            "百度智能云发布了文心大模型4.0，" * 12]


@pytest.fixture(scope="module")
def model_path(embedder):
    if not is_exported(embedder.path, WEIGHTS_SHA256):
        pytest.fail(f"no ONNX export under {embedder.path}: run `citeqa models fetch` (make test does)")
    return embedder.path


@pytest.fixture(scope="module")
def torch_fp32(model_path):
    return make(model_path, backend="torch")


def make(model_path, **kwargs) -> Embedder:
    return Embedder(model_path, query_cache_size=0, **kwargs)


def test_onnx_fp32_gives_torchs_vectors_and_shares_its_indexes(torch_fp32, model_path):
    onnx = make(model_path, backend="onnx")
    assert onnx.model_id == torch_fp32.model_id  # same vectors, so the same index serves both
    assert np.abs(onnx.embed_queries(QUERIES) - torch_fp32.embed_queries(QUERIES)).max() < 1e-5
    got, want = onnx.embed_documents(PASSAGES, "云厂商"), torch_fp32.embed_documents(PASSAGES, "云厂商")
    assert np.abs(got - want).max() < 1e-5


def test_matryoshka_dims_match_torch(model_path):
    onnx, torch = make(model_path, backend="onnx", dims=256), make(model_path, backend="torch", dims=256)
    got, want = onnx.embed_queries(QUERIES), torch.embed_queries(QUERIES)
    assert got.shape == (3, 256) and np.abs(got - want).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


def test_onnx_int8_has_its_own_id_stays_close_and_ignores_batch_mates(torch_fp32, model_path):
    int8 = make(model_path, backend="onnx", quantize="int8")
    assert int8.model_id not in (torch_fp32.model_id, make(model_path, backend="torch", quantize="int8").model_id)
    fp32 = torch_fp32.embed_documents(PASSAGES, None)
    together = int8.embed_documents(PASSAGES, None)
    assert (together * fp32).sum(axis=1).min() > 0.95
    # Activation scales are per input: a passage's vector does not depend on what it is embedded with.
    for i, text in enumerate(PASSAGES):
        assert np.array_equal(int8.embed_documents([text], None)[0], together[i])


def test_a_missing_export_says_how_to_make_one(tmp_path, model_path):
    copy = tmp_path / "model"
    shutil.copytree(model_path, copy, ignore=shutil.ignore_patterns(FOLDER, "*.safetensors"))
    with pytest.raises(FileNotFoundError, match="citeqa models fetch"):
        make(copy, backend="onnx").embed_queries(["x"])
    assert not is_exported(copy, WEIGHTS_SHA256)
    assert not is_exported(model_path, "another-weights-sha256")


def test_the_onnx_tokenizer_gives_sentence_transformers_ids(model_path, repo_root):
    # The ONNX backend reads tokenizer.json with the tokenizers library; sentence-transformers goes
    # through transformers. Every line of the bundled corpus, odd text, and truncation must agree.
    from transformers import AutoTokenizer

    from index.onnx_model import OnnxEncoder

    ours = OnnxEncoder(model_path, int8=True, threads=1)
    theirs = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    lines = [line for path in sorted((repo_root / "corpus").rglob("*.md")) + sorted((repo_root / "corpus").rglob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [*lines, "", " ", "x", "tab\there", "😀 emoji ＡＢＣ", "中" * 3000, "token " * 3000]
    assert len(lines) > 100
    for prompt in ("task: search result | query: ", "title: none | text: "):
        prompted = [prompt + t for t in texts]
        want = theirs(prompted, truncation=True, max_length=ours.max_length)["input_ids"]
        got = [e.ids for e in ours.tokenizer.encode_batch(prompted)]
        assert got == want
    assert max(len(ids) for ids in got) == ours.max_length == 2048  # the long texts were cut, the same way
