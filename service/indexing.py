"""Build or update the index folder from documents, one writer at a time."""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from index.builder import BuildReport, build_index
from index.embedder import Embedder
from index.model_fetch import MARKER, WEIGHTS_FILE, sha256_file
from index.store import IndexCorruptError, IndexData, IndexNotFoundError, load_index, save_index
from ingest.corpus import load_corpus
from ingest.loaders import LoaderError
from ingest.schema import Document
from service.config import Settings
from service.uploads import UploadStore

log = logging.getLogger(__name__)

CORPUS_ORIGIN = "corpus"  # metadata origin of documents mirrored from the corpus folder
API_ORIGIN = "api"  # added through the API or `citeqa documents add`


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """An exclusive lock so two ingests never interleave their versions."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def model_sha256(model_path: Path) -> str | None:
    marker = model_path / MARKER
    if marker.is_file():
        return json.loads(marker.read_text()).get("sha256")
    weights = model_path / WEIGHTS_FILE
    return sha256_file(weights) if weights.is_file() else None


def previous_index(settings: Settings, rebuild: bool) -> IndexData | None:
    if rebuild:
        return None
    try:
        return load_index(settings.index_dir)
    except IndexNotFoundError:
        return None
    except IndexCorruptError as exc:
        log.warning("ignoring the unreadable index (%s); rebuilding from the documents", exc)
        return None


def ingest_documents(settings: Settings, embedder: Embedder, docs: list[Document], *, remove: Collection[str] = (),
                     mirror: bool = False, rebuild: bool = False, synonyms_text: str | None = None,
                     show_progress: bool = False) -> tuple[IndexData, BuildReport]:
    """Upsert ``docs``, drop ``remove`` (with ``mirror``: every document not in ``docs``),
    and publish a new version if anything changed."""
    with writer_lock(settings.index_dir):
        return _ingest_locked(settings, embedder, docs, remove=remove, mirror=mirror, rebuild=rebuild,
                              synonyms_text=synonyms_text, show_progress=show_progress)


def _ingest_locked(settings: Settings, embedder: Embedder, docs: list[Document], *, remove: Collection[str] = (),
                   mirror: bool = False, rebuild: bool = False, synonyms_text: str | None = None,
                   show_progress: bool = False) -> tuple[IndexData, BuildReport]:
    previous = previous_index(settings, rebuild)
    dropped = set(remove)
    if mirror and previous is not None:
        dropped |= set(previous.documents) - {d.doc_id for d in docs}
    data, report = build_index(
        docs, embedder,
        chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
        model_sha256=model_sha256(settings.model_path), previous=previous,
        remove=dropped, synonyms_text=synonyms_text, show_progress=show_progress,
        backend=settings.dense_backend(), sentence_vectors=settings.sentence_vectors,
    )
    if report.changed or previous is None:
        save_index(settings.index_dir, data)
    return (data if report.changed or previous is None else previous), report


def ingest_corpus(settings: Settings, embedder: Embedder, *, rebuild: bool = False,
                  show_progress: bool = False) -> tuple[IndexData, BuildReport]:
    """Make the index hold exactly the corpus folder plus the documents added through the API."""
    docs = [d.model_copy(update={"metadata": d.metadata | {"origin": CORPUS_ORIGIN}}) for d in load_corpus(settings.corpus_dir)]
    uploaded = UploadStore(settings.index_dir).load_all()
    clash = {d.doc_id for d in docs} & {d.doc_id for d in uploaded}
    if clash:
        raise LoaderError(f"documents added through the API have the same ids as corpus files: {sorted(clash)}")
    synonyms = settings.synonyms_path
    synonyms_text = synonyms.read_text(encoding="utf-8") if synonyms.is_file() else ""
    return ingest_documents(settings, embedder, docs + uploaded, mirror=True, rebuild=rebuild,
                            synonyms_text=synonyms_text, show_progress=show_progress)


def add_document(settings: Settings, embedder: Embedder, doc: Document) -> tuple[IndexData, BuildReport]:
    """Store and index a document added through the API or `citeqa documents add`."""
    doc = doc.model_copy(update={"metadata": doc.metadata | {"origin": API_ORIGIN}})
    store = UploadStore(settings.index_dir)
    # The upload and the index change under one lock: a replica deleting the same id
    # cannot interleave and leave an indexed document without its stored upload.
    with writer_lock(settings.index_dir):
        before = store.get(doc.doc_id)
        store.save(doc)
        try:
            return _ingest_locked(settings, embedder, [doc])
        except BaseException:
            # The index kept its previous version; the store must not claim otherwise.
            if before is None:
                store.delete(doc.doc_id)
            else:
                store.save(before)
            raise


def remove_document(settings: Settings, embedder: Embedder, doc_id: str) -> tuple[IndexData, BuildReport]:
    with writer_lock(settings.index_dir):
        data, report = _ingest_locked(settings, embedder, [], remove=[doc_id])
        UploadStore(settings.index_dir).delete(doc_id)
    return data, report
