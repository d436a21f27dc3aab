"""Turn documents into a new IndexData, re-embedding only what changed."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

from index.dense import DenseBackend, new_dense
from index.embedder import Embedder
from index.progress import Progress, ProgressMode
from index.store import ChunkRecord, DocumentRecord, IndexData, IndexManifest, now_iso
from index.tokenize import tokenize
from ingest.chunking import chunk_document
from ingest.schema import Document
from ingest.sentences import split_sentences

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    embedded_sentences: int = 0
    embed_seconds: float = 0.0
    synonyms_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.synonyms_changed)


class BuildCancelled(RuntimeError):
    pass


class IndexSettingsChangedError(RuntimeError):
    """A write that names only some documents (an upload, a delete) on an index built with other
    settings. Rebuilding from the documents at hand would publish an index without the others."""


def fingerprint(doc: Document, chunk_size: int, chunk_overlap: int) -> str:
    payload = f"{chunk_size}:{chunk_overlap}\x00{doc.title}\x00{doc.text}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def build_index(
    docs: list[Document],
    embedder: Embedder,
    *,
    chunk_size: int,
    chunk_overlap: int,
    model_sha256: str | None,
    previous: IndexData | None = None,
    backend: DenseBackend | None = None,
    remove: Collection[str] = (),
    synonyms_text: str | None = None,
    progress: ProgressMode = "off",
    sentence_vectors: bool = True,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[IndexData, BuildReport]:
    """Upsert ``docs`` into ``previous`` and drop the ids in ``remove``; the rest is kept.

    Unchanged documents keep their vectors; nothing is embedded twice.
    ``synonyms_text`` replaces the stored synonyms; None keeps the previous ones.
    ``sentence_vectors=False`` embeds passages only (about half the work on a large
    corpus); sentence scores of such documents are computed when a query needs them.
    ``backend`` says where vectors go (FAISS by default, see ``index.dense``). A ``previous``
    built with another model or other passage settings is rebuilt from ``docs`` when they and
    ``remove`` name every document it holds, and is refused (``IndexSettingsChangedError``) when not.
    ``cancelled`` is asked between embedding batches; when it says yes the build stops with
    ``BuildCancelled`` and nothing is changed (a client that gave up on its upload).
    """
    report = BuildReport()
    backend_kind = backend.kind if backend else "faiss"
    if previous is not None and not _compatible(previous.manifest, embedder.model_id, chunk_size, chunk_overlap, backend_kind):
        named = {d.doc_id for d in docs} | set(remove)
        others = [i for i in previous.documents if i not in named]
        if others:
            old = previous.manifest
            raise IndexSettingsChangedError(
                f"the index was built with {_settings(old.model_id, old.chunk_size, old.chunk_overlap, old.vector_backend)} "
                f"but the settings give {_settings(embedder.model_id, chunk_size, chunk_overlap, backend_kind)}; "
                f"this write would leave out its other {len(others):,} documents. Run `citeqa ingest --rebuild` "
                "(it indexes the corpus folder and the documents added through the API again) or change the settings back")
        log.info("index settings or model changed: rebuilding every document")
        previous = None

    # Known without loading the model when a previous index exists.
    dims = previous.manifest.dims if previous is not None else embedder.dims
    incoming = {d.doc_id: d for d in docs}
    if len(incoming) != len(docs):
        raise ValueError("duplicate doc_id in the documents to ingest")
    prints = {d.doc_id: fingerprint(d, chunk_size, chunk_overlap) for d in docs}
    old_docs = previous.documents if previous else {}

    keep_ids = [i for i in old_docs if i not in incoming and i not in remove]
    for doc_id in old_docs:
        if doc_id in incoming:
            (report.unchanged if old_docs[doc_id].sha256 == prints[doc_id] else report.updated).append(doc_id)
        elif doc_id in remove:
            report.removed.append(doc_id)
    report.added = [i for i in incoming if i not in old_docs]
    reuse = set(report.unchanged) | set(keep_ids)
    fresh = [incoming[i] for i in incoming if i not in reuse]

    # Embed new material first: a failure here leaves `previous` untouched.
    new_parts = [_prepare(doc, chunk_size, chunk_overlap) for doc in fresh]
    total = sum(len(p.chunks) + (len(p.sentences) if sentence_vectors else 0) for p in new_parts)
    embed_started = time.perf_counter()
    bar = Progress(total, "embedding", "texts", progress)
    n_passages = sum(len(p.chunks) for p in new_parts)
    bar.note(f"{len(new_parts)} documents: {n_passages} passages, {total - n_passages} sentences")
    with bar:
        def tick(n: int) -> None:
            bar.update(n)
            if cancelled is not None and cancelled():
                raise BuildCancelled("the build was cancelled")

        def phase(kind: str) -> Callable[[int], None]:
            return lambda done: bar.note(f"{kind} of {done}/{len(new_parts)} documents")

        chunk_vectors = _embed_chunks(embedder, new_parts, dims, tick, phase("passages"))
        all_new_sentences = _embed_sentences(embedder, new_parts if sentence_vectors else [], dims, tick,
                                             phase("sentences"))
    report.embed_seconds = time.perf_counter() - embed_started
    report.embedded_chunks = n_passages
    report.embedded_sentences = len(all_new_sentences)

    if previous is not None and not fresh and not report.removed:
        # Nothing to embed or drop: the previous index stands, and the model is never loaded.
        synonyms = previous.synonyms_text if synonyms_text is None else synonyms_text
        report.synonyms_changed = synonyms != previous.synonyms_text
        if not report.synonyms_changed:
            return previous, report

    if previous is not None:
        dense = previous.dense.fork()
        gone = [c.vid for c in previous.chunks if c.chunk.doc_id not in reuse]
        if gone:
            dense.remove(np.asarray(gone, dtype=np.int64))
        # Ids are never reused, so a store shared between versions (Milvus) never holds
        # two vectors under one id.
        next_vid = previous.manifest.counts.get("next_vid", max((c.vid for c in previous.chunks), default=-1) + 1)
    else:
        dense = new_dense(backend, dims)
        next_vid = 0

    documents: dict[str, DocumentRecord] = {}
    new_vids: list[np.ndarray] = []
    new_vectors: list[np.ndarray] = []
    chunks: list[ChunkRecord] = []
    sentence_blocks: list[np.ndarray] = []
    row = 0
    # Grouped once: scanning every previous chunk per kept document is quadratic on a large index.
    previous_chunks: dict[str, list[ChunkRecord]] = {}
    for record in previous.chunks if previous else ():
        previous_chunks.setdefault(record.chunk.doc_id, []).append(record)
    parts_by_id = {p.doc.doc_id: p for p in new_parts}
    order = [i for i in (*old_docs, *incoming) if i in reuse or i in incoming]
    for doc_id in dict.fromkeys(order):
        if doc_id in reuse:
            old = old_docs[doc_id]
            block = (previous.sentence_vectors[old.sentence_row : old.sentence_row + len(old.sentences)]
                     if old.sentence_vectors else previous.sentence_vectors[:0])
            documents[doc_id] = old.model_copy(update={"sentence_row": row})
            chunks.extend(previous_chunks.get(doc_id, ()))
        else:
            part = parts_by_id[doc_id]
            block = (all_new_sentences[part.sentence_offset : part.sentence_offset + len(part.sentences)]
                     if sentence_vectors else all_new_sentences[:0])
            vids = np.arange(next_vid, next_vid + len(part.chunks), dtype=np.int64)
            next_vid += len(part.chunks)
            new_vids.append(vids)
            new_vectors.append(chunk_vectors[part.chunk_offset : part.chunk_offset + len(part.chunks)])
            documents[doc_id] = DocumentRecord(
                doc_id=doc_id, title=part.doc.title, source=part.doc.source, metadata=part.doc.metadata,
                text=part.doc.text, sha256=prints[doc_id], ingested_at=now_iso(), sentences=part.sentences,
                sentence_row=row, chunks=len(part.chunks), sentence_vectors=sentence_vectors,
            )
            chunks.extend(
                ChunkRecord(chunk=c, vid=int(v), tokens=tokenize(c.text)) for c, v in zip(part.chunks, vids)
            )
        sentence_blocks.append(block)
        row += len(block)

    if new_vids:
        # One add for all new passages: an IVF index trains once on all of them.
        dense.add(np.concatenate(new_vectors), np.concatenate(new_vids))

    manifest = IndexManifest(
        created_at=now_iso(),
        model_id=embedder.model_id,
        model_sha256=model_sha256,
        dims=dims,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        documents={i: d.sha256 for i, d in documents.items()},
        counts={"documents": len(documents), "chunks": len(chunks), "sentences": row, "next_vid": next_vid},
        vector_backend=dense.backend,
    )
    all_sentences = np.concatenate(sentence_blocks) if sentence_blocks else np.zeros((0, dims), np.float32)
    if synonyms_text is None:
        synonyms_text = previous.synonyms_text if previous else ""
    elif previous is None or synonyms_text != previous.synonyms_text:
        report.synonyms_changed = True
    return IndexData(manifest, documents, chunks, dense, all_sentences, synonyms_text), report


@dataclass
class _Prepared:
    doc: Document
    sentences: list
    chunks: list
    chunk_offset: int = 0
    sentence_offset: int = 0


def _prepare(doc: Document, chunk_size: int, chunk_overlap: int) -> _Prepared:
    sentences = split_sentences(doc.text, max_chars=chunk_size)
    return _Prepared(doc, sentences, chunk_document(doc, chunk_size, chunk_overlap, sentences=sentences))


def _embed_chunks(embedder: Embedder, parts: list[_Prepared], dims: int, progress: Callable[[int], None],
                  documents_done: Callable[[int], None]) -> np.ndarray:
    blocks = []
    offset = 0
    for done, part in enumerate(parts, 1):
        part.chunk_offset = offset
        offset += len(part.chunks)
        blocks.append(embedder.embed_documents([c.text for c in part.chunks], title=part.doc.title, progress=progress))
        documents_done(done)
    return np.concatenate(blocks) if blocks else np.zeros((0, dims), np.float32)


def _embed_sentences(embedder: Embedder, parts: list[_Prepared], dims: int, progress: Callable[[int], None],
                     documents_done: Callable[[int], None]) -> np.ndarray:
    blocks = []
    offset = 0
    for done, part in enumerate(parts, 1):
        part.sentence_offset = offset
        offset += len(part.sentences)
        texts = [part.doc.text[s.start : s.end] for s in part.sentences]
        blocks.append(embedder.embed_documents(texts, title=part.doc.title, progress=progress))
        documents_done(done)
    return np.concatenate(blocks) if blocks else np.zeros((0, dims), np.float32)


def _compatible(manifest: IndexManifest, model_id: str, chunk_size: int, chunk_overlap: int, backend: str) -> bool:
    return (
        manifest.vector_backend == backend
        and manifest.model_id == model_id
        and manifest.chunk_size == chunk_size
        and manifest.chunk_overlap == chunk_overlap
    )


def _settings(model_id: str, chunk_size: int, chunk_overlap: int, backend: str) -> str:
    return f"{model_id!r} ({backend}, passages of {chunk_size} characters overlapping by {chunk_overlap})"
