"""The persisted index: versioned folders, atomic publish, checksummed load.

Layout of an index folder::

    CURRENT              name of the live version (replaced atomically)
    versions/v000003/    manifest.json, documents.jsonl, chunks.jsonl, dense.faiss, sentences.npy

A new version is written under a temporary name, fsynced, renamed into place and only
then named in CURRENT, so a crash at any point leaves the previous version serving.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from index.dense import DenseIndex, backend_files, load_dense
from index.lexical import LexicalIndex
from ingest.schema import Chunk, Span

FORMAT_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
KEEP_VERSIONS = 2
_FILES = ("documents.jsonl", "chunks.jsonl", "sentences.npy", "synonyms.txt")  # plus the dense index's files


class IndexNotFoundError(RuntimeError):
    pass


class IndexCorruptError(RuntimeError):
    pass


class DocumentRecord(BaseModel):
    doc_id: str
    title: str
    source: str
    metadata: dict[str, str]
    text: str
    sha256: str  # fingerprint of text, title and the settings that shaped its chunks
    ingested_at: str
    sentences: list[Span]
    sentence_row: int  # first row of this document's sentences in sentences.npy
    chunks: int
    sentence_vectors: bool = True  # False: ingested without them; scored when a query needs them


class ChunkRecord(BaseModel):
    chunk: Chunk
    vid: int  # FAISS id
    tokens: list[str]


class IndexManifest(BaseModel):
    format: int = FORMAT_VERSION
    version: str = ""
    created_at: str
    model_id: str
    model_sha256: str | None
    dims: int
    chunk_size: int
    chunk_overlap: int
    documents: dict[str, str]  # doc_id -> fingerprint
    counts: dict[str, int]
    files: dict[str, str] = {}  # file name -> sha256
    vector_backend: str = "faiss"


@dataclass
class IndexData:
    manifest: IndexManifest
    documents: dict[str, DocumentRecord]
    chunks: list[ChunkRecord]
    dense: DenseIndex
    sentence_vectors: np.ndarray
    synonyms_text: str = ""  # the corpus's synonyms.txt, kept with the index it shaped
    lexical: LexicalIndex = field(init=False)
    by_vid: dict[int, int] = field(init=False)
    squashed_text: str = field(init=False)  # all documents, lowercased, no whitespace

    def __post_init__(self) -> None:
        self.lexical = LexicalIndex([c.tokens for c in self.chunks])
        self.by_vid = {c.vid: i for i, c in enumerate(self.chunks)}
        self.squashed_text = "\n".join("".join(d.text.split()).lower() for d in self.documents.values())

    def sentence_vector_rows(self, chunk: Chunk) -> list[int]:
        """Rows of the passage's sentences in ``sentence_vectors``; empty when its document has none stored."""
        doc = self.documents[chunk.doc_id]
        if not doc.sentence_vectors:
            return []
        first = _sentence_position(doc, chunk.sentences[0])
        return list(range(doc.sentence_row + first, doc.sentence_row + first + len(chunk.sentences)))


def _sentence_position(doc: DocumentRecord, span: Span) -> int:
    # Sentences are sorted by start; bisect keeps this O(log n) on long documents.
    lo, hi = 0, len(doc.sentences)
    while lo < hi:
        mid = (lo + hi) // 2
        if doc.sentences[mid].start < span.start:
            lo = mid + 1
        else:
            hi = mid
    return lo


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def current_version_dir(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    return index_dir / VERSIONS / name if name else None


def load_index(index_dir: Path) -> IndexData:
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexNotFoundError(f"no index at {index_dir}; build one with `citeqa ingest`")
    if not version_dir.is_dir():
        raise IndexCorruptError(f"{index_dir / CURRENT} names {version_dir.name}, which is missing; run `citeqa ingest --rebuild`")
    return _load_version(version_dir)


def _load_version(version_dir: Path) -> IndexData:
    manifest_path = version_dir / "manifest.json"
    try:
        manifest = IndexManifest.model_validate_json(manifest_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{manifest_path} is unreadable ({exc}); run `citeqa ingest --rebuild`") from exc
    for name in (*_FILES, *backend_files(version_dir)):
        path = version_dir / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; run `citeqa ingest --rebuild`")
        if _sha256(path) != manifest.files.get(name):
            raise IndexCorruptError(f"{path} does not match its checksum in manifest.json (corrupted); run `citeqa ingest --rebuild`")
    try:
        documents = {d.doc_id: d for d in map(DocumentRecord.model_validate_json, _lines(version_dir / "documents.jsonl"))}
        chunks = [ChunkRecord.model_validate_json(line) for line in _lines(version_dir / "chunks.jsonl")]
        dense = load_dense(version_dir, len(chunks))
        sentence_vectors = np.load(version_dir / "sentences.npy", allow_pickle=False)
        synonyms_text = (version_dir / "synonyms.txt").read_text(encoding="utf-8")
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise IndexCorruptError(f"index version {version_dir} cannot be read ({exc}); run `citeqa ingest --rebuild`") from exc
    if dense.ntotal != len(chunks) or dense.dims != manifest.dims:
        raise IndexCorruptError(f"{version_dir}: dense index holds {dense.ntotal} vectors of {dense.dims} dims, expected {len(chunks)} of {manifest.dims}")
    return IndexData(manifest, documents, chunks, dense, sentence_vectors, synonyms_text)


def save_index(index_dir: Path, data: IndexData) -> Path:
    """Write ``data`` as a new version and publish it atomically; returns its folder."""
    versions = index_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    tmp = versions / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        _write_jsonl(tmp / "documents.jsonl", (d.model_dump_json() for d in data.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (c.model_dump_json() for c in data.chunks))
        dense_files = data.dense.save(tmp)
        with (tmp / "sentences.npy").open("wb") as fh:
            np.save(fh, data.sentence_vectors, allow_pickle=False)
        (tmp / "synonyms.txt").write_text(data.synonyms_text, encoding="utf-8")
        name = _next_version_name(versions)
        data.manifest.version = name
        data.manifest.files = {f: _sha256(tmp / f) for f in (*_FILES, *dense_files)}
        (tmp / "manifest.json").write_text(data.manifest.model_dump_json(indent=2))
        for f in (*_FILES, *dense_files, "manifest.json"):
            _fsync(tmp / f)
        final = versions / name
        os.rename(tmp, final)
        _fsync_dir(versions)
    except BaseException as exc:
        # numpy and FAISS do not always report ENOSPC as such; a disk with next to nothing
        # free at the moment of failure is the cause, and callers should be told so.
        full = isinstance(exc, (OSError, RuntimeError)) and shutil.disk_usage(versions).free < (1 << 20)
        shutil.rmtree(tmp, ignore_errors=True)
        if full:
            raise OSError(errno.ENOSPC, f"no space left on the disk of {index_dir}") from exc
        raise
    _atomic_write(index_dir / CURRENT, name + "\n")
    data.dense.published()
    _prune(versions, keep=name)
    return final


def _next_version_name(versions: Path) -> str:
    numbers = [int(p.name[1:]) for p in versions.iterdir() if p.name.startswith("v") and p.name[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1:06d}"


def _prune(versions: Path, keep: str) -> None:
    # Old versions stay for processes that are still loading them; temp folders of
    # crashed writes are removed.
    names = sorted(p.name for p in versions.iterdir() if p.name.startswith("v") and p.name[1:].isdigit())
    for name in names[:-KEEP_VERSIONS]:
        if name != keep:
            shutil.rmtree(versions / name, ignore_errors=True)
    remove_unpublished(versions.parent)


def remove_unpublished(index_dir: Path) -> list[str]:
    """Delete the temp folders of writes that never published; returns their names.

    Only for a caller holding the writer lock: without it, a folder may be a write in progress.
    """
    versions = index_dir / VERSIONS
    stale = sorted(versions.glob(".tmp-*")) if versions.is_dir() else []
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return [p.name for p in stale]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(text)
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_jsonl(path: Path, lines) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")


def _lines(path: Path):
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield line


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync(path)
