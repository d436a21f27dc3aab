"""The one settings object: every knob, read from CITEQA_* environment variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_cache_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.dense import DenseBackend
from index.embedder import Embedder
from index.model_fetch import default_model_path
from ingest.loaders import ReadLimits
from ingest.sandbox import DocumentLimits, ParseBudget
from service.qa.generative import GenerationParams
from service.qa.pipeline import PipelineParams
from service.qa.quoting import AnswerParams
from service.qa.refusal import RefusalModel
from service.qa.retrieval import RetrievalParams
from service.qa.verify import VerifyParams
from service.qa.writer import Writer, WriterParams


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITEQA_", extra="ignore")

    # Where `citeqa models fetch` stores models.
    model_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("citeqa")) / "models")
    # Any local sentence-transformers folder; empty means the fetched default model.
    embedding_model: Path | None = None
    index_dir: Path = Path("var/index")
    corpus_dir: Path = Path("corpus")
    # Equivalent names (one comma-separated group per line); default <corpus_dir>/synonyms.csv.
    synonyms_file: Path | None = None

    # Measured on evals/sets/dev.jsonl (see evals/REPORT.md): 256/64 characters.
    chunk_size: int = Field(default=256, ge=32, le=4000)
    chunk_overlap: int = Field(default=64, ge=0, le=2000)
    embed_batch_size: int = Field(default=16, ge=1, le=512)
    # Document vectors by (model, prompt, text), so unchanged text is never embedded twice;
    # empty means <model_dir>/embedding-cache.sqlite, "off" disables it.
    embedding_cache: str = ""
    torch_threads: int | None = Field(default=None, ge=1, le=256)
    # The default, ONNX Runtime with int8 weights, was the fastest configuration whose R@5 and
    # MRR@10 stayed within a point of fp32 on dev, heldout and related (evals/REPORT.md, "Speed").
    # quantize=none: fp32 (under onnx the very vectors torch gives); backend=torch: no export needed.
    embedding_quantize: Literal["none", "int8"] = "int8"
    # onnx: the exported graph (made by `citeqa models fetch`) under ONNX Runtime.
    embedding_backend: Literal["torch", "onnx"] = "onnx"
    # Matryoshka truncation (EmbeddingGemma: 768, 512, 256 or 128); empty keeps the model's size.
    embedding_dims: int | None = Field(default=None, ge=32, le=4096)
    query_cache_size: int = Field(default=1024, ge=0)
    # False embeds passages only (half the ingest work on a large corpus); sentence scores
    # are then computed for the top passages of each query.
    sentence_vectors: bool = True

    # Where passage vectors live: in-process FAISS, or a Milvus collection (milvus-lite file
    # or a cluster at http://host:19530); see README "Vector store".
    vector_backend: Literal["faiss", "milvus"] = "faiss"
    # auto: exact (flat) below faiss_ivf_threshold vectors, IVF above (see evals/bench/CAPACITY.md).
    faiss_index: Literal["auto", "flat", "ivf"] = "auto"
    faiss_ivf_threshold: int = Field(default=200_000, ge=1)
    faiss_ivf_nprobe: int = Field(default=32, ge=1)
    # OpenMP threads for FAISS searches in a serving process. One: a query is one vector, a
    # server's parallelism comes from concurrent requests, and an OpenMP team stalls at its
    # barrier whenever one of its threads is descheduled (measured at 48k vectors with the
    # other core busy: 41 ms per search with two threads, 8 ms with one).
    faiss_threads: int = Field(default=1, ge=1, le=256)
    # Empty: a milvus-lite database inside the index folder.
    milvus_uri: str = ""
    milvus_token: SecretStr | None = None
    milvus_collection: str = "citeqa_passages"

    retrieval_candidates: int = Field(default=50, ge=1, le=1000)
    lexical_weight: float = Field(default=0.2, ge=0)
    sentence_weight: float = Field(default=1.0, ge=0)
    min_sentence_cosine: float = Field(default=0.40, ge=-1, le=1)
    # A learned refusal model (service/qa/refusal.py, written by `python -m evals.learn --out`)
    # that weighs the evidence once the binding rules pass. Empty: min_sentence_cosine decides,
    # which on the bundled corpus did as well out of fold (evals/REPORT.md, "Learned refusal").
    refusal_model: Path | None = None
    max_answer_sentences: int = Field(default=4, ge=1, le=10)

    # Answers: "extractive" (quoted sentences), "generative" (written by an LLM, each sentence
    # verified against what it cites, falling back to extractive), or "auto" (generative when
    # an LLM is configured). A request's "mode" overrides it.
    answer_mode: Literal["extractive", "generative", "auto"] = "extractive"
    # Any OpenAI-compatible server: ".../v1" of vLLM, Ollama, llama.cpp, OpenAI, DeepSeek, DashScope.
    # `citeqa serve --llm local` sets it to the bundled model's server.
    llm_base_url: str = ""
    llm_model: str = "local"
    llm_api_key: SecretStr | None = None
    # Per request to the LLM, and the most one answer may take before it falls back.
    llm_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    llm_max_tokens: int = Field(default=200, ge=16, le=4096)
    # Force "sentence [n]" shapes with a llama.cpp grammar (only llama.cpp servers accept it).
    llm_grammar: bool = False
    llm_sources: int = Field(default=3, ge=1, le=10)  # passages shown to the LLM
    llm_source_chars: int = Field(default=220, ge=50, le=4000)  # characters shown per passage
    # Streams send an SSE comment after this many seconds without an event (the widget and
    # proxies give up on a silent connection; an LLM's first sentence can take longer).
    sse_keepalive_seconds: float = Field(default=10.0, ge=0, le=300)
    # A written sentence must be at least this close to a cited sentence (evals/REPORT.md).
    verify_min_cosine: float = Field(default=0.72, ge=-1, le=1)
    # The bundled model (`citeqa models fetch --llm`), run by `citeqa serve --llm local`.
    local_llm_port: int = Field(default=0, ge=0, le=65535)  # 0: any free port
    local_llm_threads: int | None = Field(default=None, ge=1, le=256)
    # Quote further sentences scoring within this of the best one.
    answer_sentence_margin: float = Field(default=0.08, ge=0, le=1)

    # Origins whose pages may call the API from a browser (the widget on another site);
    # a JSON list or comma-separated: CITEQA_CORS_ORIGINS=https://a.example,https://b.example
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Writes (POST/DELETE /v1/documents) need "Authorization: Bearer <admin key>"; without a key
    # they are refused unless dev_allow_writes is set (local development only).
    admin_key: SecretStr | None = None
    dev_allow_writes: bool = False
    # When set, reads need "Authorization: Bearer <one of these>" (comma-separated or JSON list).
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    max_upload_bytes: int = Field(default=20_000_000, ge=1024)
    max_chunks_per_document: int = Field(default=5000, ge=1)
    # Texts embedded for one uploaded document (passages + distinct sentences): bounds the
    # model time one upload can take (`citeqa ingest` of a folder has no such bound).
    max_embeddings_per_document: int = Field(default=8000, ge=1)
    # Text of one document after reading, and what a .docx may expand to before it is parsed.
    max_document_chars: int = Field(default=2_000_000, ge=1)
    max_unzipped_bytes: int = Field(default=50_000_000, ge=1024)
    # Uploaded files are read in a child process with this much memory and time.
    parse_memory_mb: int = Field(default=1000, ge=64)
    parse_timeout_seconds: float = Field(default=60.0, gt=0)
    # A serving process embeds uploaded documents in passes of at most this many characters,
    # so a question waits for at most one short pass (writes must not starve reads).
    serve_embed_batch_chars: int = Field(default=600, ge=1)
    # Requests per minute per client address; 0 turns a limit off.
    rate_limit_reads: int = Field(default=600, ge=0)
    rate_limit_writes: int = Field(default=60, ge=0)
    # Requests with a missing or wrong key per minute per client, before 429s (guessing keys).
    rate_limit_auth_failures: int = Field(default=20, ge=0)
    # How often a server checks the index folder for a version published by another process.
    index_poll_seconds: float = Field(default=2.0, ge=0)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # uvicorn worker processes; each holds a model (~1.2 GB) and the index (see evals/bench/CAPACITY.md).
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Connection hygiene (uvicorn): a request's headers must arrive within header_timeout and
    # its body with no pause longer than body_timeout; bounded header count and size; at most
    # max_connections open at once (more get 503).
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=15.0, gt=0)
    max_headers: int = Field(default=100, ge=10)
    max_header_bytes: int = Field(default=32_768, ge=1024)
    max_connections: int = Field(default=1000, ge=1)
    keep_alive_seconds: int = Field(default=5, ge=1)
    log_level: str = "info"
    # text: one readable line per event; json: one JSON object per line (time, level, request_id,
    # and for requests method, route, status, ms, answerable) for a log pipeline.
    log_format: Literal["text", "json"] = "text"

    @field_validator("cors_origins", "api_keys", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [v.strip().rstrip("/") for v in value.split(",") if v.strip()]
        return value

    @property
    def public_url(self) -> str:
        """Where a browser on this machine reaches `citeqa serve` (all-interfaces hosts are reached as localhost)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    @property
    def model_path(self) -> Path:
        return self.embedding_model or default_model_path(self.model_dir)

    @property
    def embedding_cache_path(self) -> Path | None:
        if self.embedding_cache.lower() in ("off", "none", "0", "false"):
            return None
        return Path(self.embedding_cache) if self.embedding_cache else self.model_dir / "embedding-cache.sqlite"

    @property
    def synonyms_path(self) -> Path:
        return self.synonyms_file or self.corpus_dir / "synonyms.csv"

    def embedder(self, *, serving: bool = False) -> Embedder:
        """The embedding model these settings describe (loaded lazily, on first use).

        ``serving``: for a server process, where document batches share the model with queries.
        """
        return Embedder(self.model_path, batch_size=self.embed_batch_size, threads=self.torch_threads,
                        cache_path=self.embedding_cache_path, quantize=self.embedding_quantize,
                        dims=self.embedding_dims, query_cache_size=self.query_cache_size,
                        max_batch_chars=self.serve_embed_batch_chars if serving else None,
                        backend=self.embedding_backend)

    def document_limits(self) -> DocumentLimits:
        return DocumentLimits(
            read=ReadLimits(max_unzipped_bytes=self.max_unzipped_bytes, max_chars=self.max_document_chars),
            max_chunks=self.max_chunks_per_document, max_embeddings=self.max_embeddings_per_document,
            sentence_vectors=self.sentence_vectors)

    def parse_budget(self) -> ParseBudget:
        return ParseBudget(memory_bytes=self.parse_memory_mb * 1_000_000, seconds=self.parse_timeout_seconds)

    def dense_backend(self) -> DenseBackend:
        return DenseBackend(
            kind=self.vector_backend, faiss_index=self.faiss_index, ivf_threshold=self.faiss_ivf_threshold,
            ivf_nprobe=self.faiss_ivf_nprobe,
            milvus_uri=self.milvus_uri or str((self.index_dir / "milvus.db").resolve()),
            milvus_token=self.milvus_token.get_secret_value() if self.milvus_token else "",
            milvus_collection=self.milvus_collection,
        )

    def pipeline_params(self) -> PipelineParams:
        return PipelineParams(
            retrieval=RetrievalParams(
                candidates=self.retrieval_candidates,
                lexical_weight=self.lexical_weight,
                sentence_weight=self.sentence_weight,
            ),
            answer=AnswerParams(max_sentences=self.max_answer_sentences, sentence_margin=self.answer_sentence_margin),
            min_sentence_cosine=self.min_sentence_cosine,
            refusal=RefusalModel.load(self.refusal_model) if self.refusal_model else None,
            generation=GenerationParams(
                writer=WriterParams(max_tokens=self.llm_max_tokens, timeout_seconds=self.llm_timeout_seconds,
                                    grammar=self.llm_grammar),
                verify=VerifyParams(min_cosine=self.verify_min_cosine),
                max_sources=self.llm_sources, source_chars=self.llm_source_chars,
            ),
            answer_mode=self.answer_mode,
        )

    def writer(self) -> Writer | None:
        """The LLM writer these settings describe; None when no LLM is configured."""
        if not self.llm_base_url:
            return None
        from service.llm.client import LLMEndpoint, openai_compatible

        endpoint = LLMEndpoint(base_url=self.llm_base_url, model=self.llm_model,
                               api_key=self.llm_api_key.get_secret_value() if self.llm_api_key else "none",
                               timeout_seconds=self.llm_timeout_seconds)
        return Writer(openai_compatible(endpoint), self.pipeline_params().generation.writer)
