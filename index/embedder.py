"""Sentence-transformers embedding with the model's own query/document prompts."""

from __future__ import annotations

import json
import os
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Set before sentence-transformers imports huggingface_hub: nothing may reach a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Weight-loading progress bars would interleave with the CLI's and the server's output.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class ModelNotFoundError(RuntimeError):
    pass


QUANTIZE_CHOICES = ("none", "int8")
BACKEND_CHOICES = ("torch", "onnx")


class Embedder:
    """Wraps one loaded SentenceTransformer; vectors are L2-normalised float32.

    ``dims`` truncates vectors (EmbeddingGemma is Matryoshka-trained: 768/512/256/128),
    ``quantize="int8"`` runs int8 weights (torch's dynamic quantisation of the Linear layers,
    or ONNX Runtime's of the MatMuls).
    Both change the vectors, so both are part of ``model_id`` and an index built with
    other settings is rebuilt rather than mixed. ``backend="onnx"`` runs the exported
    graph with ONNX Runtime (``index.onnx_model``): fp32 gives torch's vectors and shares
    its id; its int8 differs from torch's int8 and has its own.
    """

    def __init__(self, model_path: Path, *, batch_size: int = 16, threads: int | None = None, dims: int | None = None,
                 cache_path: Path | None = None, quantize: str = "none", query_cache_size: int = 1024,
                 max_batch_chars: int | None = None, backend: str = "torch") -> None:
        if quantize not in QUANTIZE_CHOICES:
            raise ValueError(f"quantize must be one of {QUANTIZE_CHOICES}, not {quantize!r}")
        if backend not in BACKEND_CHOICES:
            raise ValueError(f"backend must be one of {BACKEND_CHOICES}, not {backend!r}")
        if not (model_path / "modules.json").is_file():
            raise ModelNotFoundError(
                f"no sentence-transformers model at {model_path}; run `citeqa models fetch` "
                "(or set CITEQA_EMBEDDING_MODEL to a local sentence-transformers folder)"
            )
        self.path = model_path
        self.batch_size = batch_size
        # A serving process caps document batches by characters: a query waits for at most
        # one such pass (see _ModelGate), so small passes keep reads fast during uploads.
        self.max_batch_chars = max_batch_chars
        self.threads = threads
        self.truncate_dim = dims
        self.quantize = quantize
        self.backend = backend
        self.model_id = _model_id(model_path) + (f"@{dims}" if dims else "") + self._variant
        self.cache_path = cache_path
        self._cache = None
        self._model = None
        self._load_lock = threading.Lock()
        # One forward pass at a time: torch already spreads one batch over every core, and
        # concurrent passes only fight over them (see evals/bench: tail latency at 16 clients).
        self._gate = _ModelGate()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self._query_cache_lock = threading.Lock()
        self._batcher = _MicroBatcher(lambda texts: self._encode(texts, self.query_prompt, query=True),
                                      max_texts=max(batch_size, 32))
        # Document texts embedded by the model vs found in the embedding cache (ingest reports).
        self.encoded_texts = 0
        self.cached_texts = 0

    @property
    def _variant(self) -> str:
        if self.quantize != "int8":
            return ""  # fp32: the same vectors from either backend
        return "+onnx-int8" if self.backend == "onnx" else "+int8"

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self):
        """The SentenceTransformer, loaded on first use (an unchanged re-ingest never needs it)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        if self.backend == "onnx":
            return self._load_onnx()
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        if self.threads:
            torch.set_num_threads(self.threads)
        model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True, truncate_dim=self.truncate_dim)
        if self.quantize == "int8":
            with warnings.catch_warnings():
                # torch.ao's dynamic quantisation is deprecated in favour of torchao, which
                # is not a dependency; it still works on torch 2.13.
                warnings.simplefilter("ignore")
                # In place: a copy would keep the fp32 weights alive too (measured 3.9 GB vs 1.5 GB RSS).
                torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        self._set_prompts(model.prompts or {})
        self._dims = int((getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)())
        return model

    def _load_onnx(self):
        from index.onnx_model import OnnxEncoder

        encoder = OnnxEncoder(self.path, int8=self.quantize == "int8", threads=self.threads)
        self._set_prompts(encoder.prompts)
        self._dims = self.truncate_dim or encoder.dims
        return encoder

    def _set_prompts(self, prompts: dict[str, str]) -> None:
        self.query_prompt = prompts.get("query", "")
        doc_prompt = prompts.get("document", "")
        # EmbeddingGemma's document prompt carries a title slot ("title: none | text: ").
        self._doc_prompt_template = doc_prompt.replace("title: none", "title: {title}") if "title: none" in doc_prompt else doc_prompt

    @property
    def dims(self) -> int:
        self.model  # noqa: B018 - loading sets the dimension
        return self._dims

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors; repeated queries (widget retries, follow-ups, popular questions) come from memory."""
        self.model  # noqa: B018
        with self._query_cache_lock:
            found = {t: self._query_cache[t] for t in texts if t in self._query_cache}
            for t in found:
                self._query_cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self._batcher.run(missing)
            found.update(zip(missing, fresh))
            if self._query_cache_size:
                with self._query_cache_lock:
                    for text, vector in zip(missing, fresh):
                        self._query_cache[text] = vector
                    while len(self._query_cache) > self._query_cache_size:
                        self._query_cache.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return np.ascontiguousarray(np.stack([found[t] for t in texts]), dtype=np.float32)

    def embed_documents(self, texts: list[str], title: str | None = None, *,
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Document vectors; ``progress(n)`` is called as each batch of ``n`` texts is done (cached ones included).

        With a cache, each document's vectors are stored as soon as they are computed, so
        an interrupted ingest resumes where it stopped.
        """
        self.model  # noqa: B018 - the prompt template comes with the model
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):
            # Repeated lines (boilerplate, a list of one word) cost one embedding each, not one per copy.
            counted = _count_copies(texts, progress)
            vectors = self.embed_documents(unique, title, progress=counted)
            row = {text: i for i, text in enumerate(unique)}
            return np.ascontiguousarray(vectors[[row[t] for t in texts]], dtype=np.float32)
        prompt = self._doc_prompt_template.replace("{title}", title or "none")
        cache = self._document_cache()
        if cache is None or not texts:
            self.encoded_texts += len(texts)
            return self._encode(texts, prompt, progress)
        cached = cache.get_many(prompt, texts, self.dims)
        missing = [i for i, v in enumerate(cached) if v is None]
        self.cached_texts += len(texts) - len(missing)
        if progress is not None and len(missing) < len(texts):
            progress(len(texts) - len(missing))
        if missing:
            self.encoded_texts += len(missing)
            fresh = self._encode([texts[i] for i in missing], prompt, progress)
            cache.put_many(prompt, [texts[i] for i in missing], fresh)
            for i, vector in zip(missing, fresh):
                cached[i] = vector
        return np.ascontiguousarray(np.stack(cached), dtype=np.float32)

    def embed_written(self, texts: list[str]) -> np.ndarray:
        """Document vectors of passing text (an LLM's sentences, compared with stored sentence
        vectors): never cached, and given a query's turn at the model, since someone waits."""
        self.model  # noqa: B018
        return self._encode(texts, self._doc_prompt_template.replace("{title}", "none"), query=True)

    def _document_cache(self):
        if self.cache_path is None:
            return None
        if self._cache is None:
            from index.embedding_cache import EmbeddingCache

            weights = self.path / "model.safetensors"
            stamp = f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}" if weights.is_file() else "?"
            self._cache = EmbeddingCache(self.cache_path, f"{_model_id(self.path)}|{self.path}|{stamp}|{self.truncate_dim}"
                                         + self._variant.replace("+", "|"))
        return self._cache

    def _encode(self, texts: list[str], prompt: str, progress: Callable[[int], None] | None = None, *,
                query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        # Sorted by length so each batch pads little; the gate is taken per batch so a long
        # ingest in the server lets queries through between batches.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for rows in self._batches(order, texts, query):
            with self._gate.hold(query):
                vectors = self._forward([texts[i] for i in rows], prompt)
            out[rows] = vectors
            if progress is not None:
                progress(len(rows))
        return np.ascontiguousarray(out, dtype=np.float32)

    def _forward(self, texts: list[str], prompt: str) -> np.ndarray:
        if self.backend == "onnx":
            vectors = self.model.encode(texts, prompt)
            if self.truncate_dim:
                # Matryoshka: the leading dimensions, normalised again (what sentence-transformers does).
                vectors = vectors[:, : self.truncate_dim]
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            return vectors
        return self.model.encode(texts, prompt=prompt, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def _batches(self, order: list[int], texts: list[str], query: bool) -> Iterator[list[int]]:
        cap = None if query else self.max_batch_chars
        rows: list[int] = []
        chars = 0
        for i in order:
            if rows and (len(rows) == self.batch_size or (cap is not None and chars + len(texts[i]) > cap)):
                yield rows
                rows, chars = [], 0
            rows.append(i)
            chars += len(texts[i])
        if rows:
            yield rows


class _ModelGate:
    """One forward pass at a time, queries and document batches taking turns.

    A query waiting behind a long ingest would otherwise queue behind every document
    batch (79 s for one ask during an upload). When both kinds wait, they alternate: a
    query never waits for more than one document batch, and an upload still progresses
    under a constant stream of queries.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting = {True: 0, False: 0}  # by "is a query"
        self._last: bool | None = None

    @contextmanager
    def hold(self, query: bool) -> Iterator[None]:
        with self._cond:
            self._waiting[query] += 1
            try:
                while self._busy or (self._waiting[not query] and self._last == query):
                    self._cond.wait()
            finally:
                self._waiting[query] -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._last = query
                self._cond.notify_all()


class _MicroBatcher:
    """Concurrent callers' texts go through the model together.

    While one forward pass runs, queries from other requests queue up; the next caller
    to find the model free takes the whole queue as one batch. On a CPU one pass over 16
    short queries costs far less than 16 passes, so under load throughput rises instead of
    every request waiting for all the others in turn. A lone request is not delayed.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_texts: int = 32) -> None:
        self._encode = encode
        self._max_texts = max_texts
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False

    def run(self, texts: list[str]) -> np.ndarray:
        mine = _Pending(texts)
        with self._cond:
            self._queue.append(mine)
        while True:
            with self._cond:
                while not mine.done and self._busy:
                    self._cond.wait()
                if mine.done:
                    break
                self._busy = True
                batch, size = [], 0
                while self._queue and (not batch or size + len(self._queue[0].texts) <= self._max_texts):
                    size += len(self._queue[0].texts)
                    batch.append(self._queue.pop(0))
            try:
                self._run_batch(batch)
            finally:
                with self._cond:
                    for p in batch:
                        p.done = True
                    self._busy = False
                    self._cond.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.result

    def _run_batch(self, batch: list[_Pending]) -> None:
        try:
            vectors = self._encode([t for p in batch for t in p.texts])
        except Exception:  # noqa: BLE001 - isolate the request that caused it, below
            if len(batch) == 1:
                batch[0].error = sys.exc_info()[1]
                return
            # One caller's text must not fail everyone who happened to share its batch:
            # each member runs alone, so only the culprit sees the error.
            for p in batch:
                self._run_batch([p])
            return
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt etc.: every waiting caller re-raises it
            for p in batch:
                p.error = exc
            return
        row = 0
        for p in batch:
            p.result, row = vectors[row : row + len(p.texts)], row + len(p.texts)


@dataclass
class _Pending:
    texts: list[str]
    result: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


def _count_copies(texts: list[str], progress: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """Progress over unique texts, reported in units of all ``texts`` (copies count once done)."""
    if progress is None:
        return None
    scale = len(texts) / max(1, len(set(texts)))
    done = [0.0, 0]

    def report(n: int) -> None:
        done[0] += n * scale
        step = int(done[0]) - done[1]
        if step:
            done[1] += step
            progress(step)

    return report


def _model_id(model_path: Path) -> str:
    marker = model_path / ".citeqa-verified.json"
    if marker.is_file():
        return json.loads(marker.read_text()).get("model_id", model_path.name)
    return model_path.name
