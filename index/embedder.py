"""Sentence-transformers embedding with the model's own query/document prompts."""

from __future__ import annotations

import json
import os
import threading
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


class Embedder:
    """Wraps one loaded SentenceTransformer; vectors are L2-normalised float32."""

    def __init__(self, model_path: Path, *, batch_size: int = 16, threads: int | None = None, dims: int | None = None,
                 cache_path: Path | None = None) -> None:
        if not (model_path / "modules.json").is_file():
            raise ModelNotFoundError(
                f"no sentence-transformers model at {model_path}; run `citeqa models fetch` "
                "(or set CITEQA_EMBEDDING_MODEL to a local sentence-transformers folder)"
            )
        self.path = model_path
        self.batch_size = batch_size
        self.threads = threads
        self.truncate_dim = dims
        self.model_id = _model_id(model_path)
        self.cache_path = cache_path
        self._cache = None
        self._model = None
        self._load_lock = threading.Lock()

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
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        if self.threads:
            torch.set_num_threads(self.threads)
        model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True, truncate_dim=self.truncate_dim)
        prompts = model.prompts or {}
        self.query_prompt = prompts.get("query", "")
        doc_prompt = prompts.get("document", "")
        # EmbeddingGemma's document prompt carries a title slot ("title: none | text: ").
        self._doc_prompt_template = doc_prompt.replace("title: none", "title: {title}") if "title: none" in doc_prompt else doc_prompt
        self._dims = int((getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)())
        return model

    @property
    def dims(self) -> int:
        self.model  # noqa: B018 - loading sets the dimension
        return self._dims

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.model  # noqa: B018
        return self._encode(texts, self.query_prompt)

    def embed_documents(self, texts: list[str], title: str | None = None, *, show_progress: bool = False) -> np.ndarray:
        self.model  # noqa: B018 - the prompt template comes with the model
        prompt = self._doc_prompt_template.replace("{title}", title or "none")
        cache = self._document_cache()
        if cache is None or not texts:
            return self._encode(texts, prompt, show_progress=show_progress)
        cached = cache.get_many(prompt, texts, self.dims)
        missing = [i for i, v in enumerate(cached) if v is None]
        if missing:
            fresh = self._encode([texts[i] for i in missing], prompt, show_progress=show_progress)
            cache.put_many(prompt, [texts[i] for i in missing], fresh)
            for i, vector in zip(missing, fresh):
                cached[i] = vector
        return np.ascontiguousarray(np.stack(cached), dtype=np.float32)

    def _document_cache(self):
        if self.cache_path is None:
            return None
        if self._cache is None:
            from index.embedding_cache import EmbeddingCache

            weights = self.path / "model.safetensors"
            stamp = f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}" if weights.is_file() else "?"
            self._cache = EmbeddingCache(self.cache_path, f"{self.model_id}|{self.path}|{stamp}|{self.truncate_dim}")
        return self._cache

    def _encode(self, texts: list[str], prompt: str, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _model_id(model_path: Path) -> str:
    marker = model_path / ".citeqa-verified.json"
    if marker.is_file():
        return json.loads(marker.read_text()).get("model_id", model_path.name)
    return model_path.name
