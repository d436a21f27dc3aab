"""The embedding model as an ONNX graph, run by ONNX Runtime instead of torch.

No ONNX export of EmbeddingGemma is packaged, so ``export`` makes one from the fetched
weights (torch's dynamo exporter; optimum's exporter requires transformers < 4.58) and
checks it against torch before keeping it. The graph is the whole sentence-transformers
stack (transformer, mean pooling, both Dense layers, normalisation), so one run gives the
final vector.

Why it is faster on a CPU (measured, evals/REPORT.md "Speed"): the graph runs in ONNX
Runtime's kernels with no per-operation Python dispatch (fp32: 42 vs 118 ms per query),
and its int8 matrix kernels halve that again. Texts are run one at a time: without
padding, a batch of one costs only its own tokens, which beat padded batches here; and
int8's activation scales are computed per input, so a text's int8 vector would otherwise
depend on its batch-mates.

fp32 gives torch's vectors (max difference ~1e-7, checked at export and in the tests),
so it shares torch fp32's model id and its indexes. int8 (``model_qint8.onnx``, onnxruntime's
dynamic quantisation of the MatMul weights) changes the vectors and has its own id.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
FOLDER = "onnx"  # inside the model folder, as sentence-transformers' own ONNX backend keeps it
FP32_FILE = "model.onnx"
INT8_FILE = "model_qint8.onnx"
_RAW_FILE = "exported.onnx"  # the exporter's graph, before ONNX Runtime folds its constants
MARKER = "citeqa-export.json"
_PROBES = ["task: search result | query: 阿里云走的是哪种路线？",
           "title: none | text: Amazon Bedrock offers models from several providers through one API.",
           "title: 云厂商 | text: 微软Azure与OpenAI深度绑定，走的是垂直整合路线。"]
_MAX_DIFF = 1e-4


class OnnxExportError(RuntimeError):
    pass


def onnx_file(model_path: Path, int8: bool) -> Path:
    return model_path / FOLDER / (INT8_FILE if int8 else FP32_FILE)


def is_exported(model_path: Path, weights_sha256: str | None) -> bool:
    marker = model_path / FOLDER / MARKER
    if not marker.is_file() or not onnx_file(model_path, False).is_file() or not onnx_file(model_path, True).is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("weights_sha256") == weights_sha256
    except (OSError, ValueError):
        return False


def export(model_path: Path, weights_sha256: str | None) -> Path:
    """Write ``<model>/onnx/`` (fp32 graph with external weights, and int8); returns the folder.

    Built in a temporary folder and renamed into place, so an interrupted export leaves
    no half-written graph that a server could load.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    target = model_path / FOLDER
    tmp = model_path / f".onnx-tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True).eval()
        tokens = model.tokenizer(_PROBES, padding=True, return_tensors="pt")
        inputs = (tokens["input_ids"], tokens["attention_mask"])
        graph = _Graph(model).eval()
        with torch.no_grad():
            expected = graph(*inputs).numpy()
        # The exporter's deprecation and shape notes, its step-by-step lines and its "torchvision
        # is not installed" notes are not errors, but a first `make run` would show them to a
        # newcomer as if something were wrong.
        with warnings.catch_warnings(), _quiet("torch.onnx"):
            warnings.simplefilter("ignore")
            batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
            # optimize=False: the exporter's own optimiser took 65 of the export's 100 s here;
            # ONNX Runtime's constant folding below does what int8 needs in 5 s.
            torch.onnx.export(graph, inputs, str(tmp / _RAW_FILE), input_names=["input_ids", "attention_mask"],
                              output_names=["sentence_vector"], dynamo=True, external_data=True, verbose=False,
                              optimize=False,
                              dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}})
        _fold_constants(tmp / _RAW_FILE, tmp / FP32_FILE)
        for raw in tmp.glob(_RAW_FILE + "*"):
            raw.unlink()
        got = _run(tmp / FP32_FILE, tokens["input_ids"].numpy(), tokens["attention_mask"].numpy())
        diff = float(np.abs(got - expected).max())
        if diff > _MAX_DIFF:
            raise OnnxExportError(f"the ONNX export differs from torch by {diff:.2e} (more than {_MAX_DIFF:g})")
        with _quiet(None):  # onnxruntime advises "pre-processing" on the root logger: not needed for these weights
            quantize_dynamic(str(tmp / FP32_FILE), str(tmp / INT8_FILE), weight_type=QuantType.QInt8)
        (tmp / MARKER).write_text(json.dumps({"weights_sha256": weights_sha256, "max_diff_fp32": diff,
                                              "torch": torch.__version__}))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fold_constants(source: Path, dest: Path) -> None:
    """Writes ONNX Runtime's provider-independent ("basic") rewrite of ``source`` to ``dest``.

    The unoptimised export reaches each weight through a Transpose; dynamic quantisation
    only quantises a MatMul whose weight is a constant, so without folding the int8 copy
    stays fp32 in all but name (measured: 73 vs 31 ms per query).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(dest)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", dest.name + ".data")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


@contextmanager
def _quiet(name: str | None) -> Iterator[None]:
    """Raises a logger (None: the root logger) to ERROR for the duration of a library call that warns on it."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _run(path: Path, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)})[0]


def _Graph(model):  # noqa: N802 - builds a torch Module class lazily (torch is imported only to export)
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    return Graph()


class OnnxEncoder:
    """Encodes texts with an exported graph; the same prompts and length limit as sentence-transformers."""

    def __init__(self, model_path: Path, *, int8: bool, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = onnx_file(model_path, int8)
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX export at {path}; run `citeqa models fetch` (it exports one)")
        # The tokenizers library itself, not transformers' AutoTokenizer around it: the same ids
        # (checked on every line of the corpus, truncation included, and in the tests) for 1.1 s
        # of a server's start instead of 4.1 s (transformers' import and its tokenizer wrapper).
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.max_length = int(_json(model_path / "sentence_bert_config.json").get("max_seq_length")
                              or _json(model_path / "tokenizer_config.json").get("model_max_length") or 2048)
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()
        self.prompts: dict[str, str] = _json(model_path / "config_sentence_transformers.json").get("prompts") or {}
        # int8: one core per run, and as many runs at once as there are cores. ONNX Runtime
        # does not spread one text's int8 graph over two cores (measured: one thread as fast as
        # two), so parallelism comes from running texts side by side: 14 -> 24 passages/s here.
        # fp32's matrix products do use both cores (one thread: query 72 ms vs 45), so fp32
        # runs texts one after another on all of them. run() releases the GIL and a session
        # may be run from several threads at once.
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if int8 else (threads or 0)  # 0: ONNX Runtime's default, all cores
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dims = int(self.session.get_outputs()[0].shape[-1])
        self.workers = (threads or _usable_cores()) if int8 else 1
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx") if self.workers > 1 else None

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        # Tokenised here, in one call; the tokenizer's settings are fixed at load, so threads may share it.
        encoded = [e.ids for e in self.tokenizer.encode_batch([prompt + t for t in texts])]
        runs = self._pool.map(self._run_one, encoded) if self._pool and len(texts) > 1 else map(self._run_one, encoded)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, vector in enumerate(runs):
            out[row] = vector
        return out

    def _run_one(self, ids: list[int]) -> np.ndarray:
        input_ids = np.asarray([ids], dtype=np.int64)
        return self.session.run(None, {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)})[0][0]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
