"""Build or update the index folder from documents, one writer at a time."""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.builder import BuildReport, build_index
from index.embedder import Embedder
from index.progress import ProgressMode
from index.model_fetch import MARKER, WEIGHTS_FILE, sha256_file
from index.store import (DocumentRecord, IndexCorruptError, IndexData, IndexNotFoundError, current_version_dir,
                         load_index, remove_unpublished, save_index)
from ingest.corpus import load_corpus
from ingest.loaders import LoaderError
from ingest.schema import Document
from service.config import Settings
from service.uploads import API_ORIGIN, UploadStore

log = logging.getLogger(__name__)

CORPUS_ORIGIN = "corpus"  # metadata origin of documents mirrored from the corpus folder


@contextmanager
def writer_lock(index_dir: Path, *, wait: bool = True) -> Iterator[None]:
    """An exclusive lock so two ingests never interleave their versions.

    ``wait=False`` raises ``BlockingIOError`` at once when another writer holds it.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
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
    return readable_index(settings)


def readable_index(settings: Settings) -> IndexData | None:
    try:
        return load_index(settings.index_dir)
    except IndexNotFoundError:
        return None
    except IndexCorruptError as exc:
        log.warning("ignoring the unreadable index (%s); rebuilding from the documents", exc)
        return None


def base_index(settings: Settings, served: IndexData | None) -> IndexData | None:
    """What a write builds on: ``served`` when it is the version ``CURRENT`` names, else the
    index read from disk. Only for a caller holding the writer lock, so ``CURRENT`` cannot move.

    A server already holds the live version, loaded and checked; reading it again cost a write
    on a 48k-passage index 6 of its 15 s (parsing every record, checksumming every file).
    """
    live = current_version_dir(settings.index_dir)
    if served is not None and live is not None and live.name == served.manifest.version:
        return served
    return readable_index(settings)


class DocumentConflictError(LoaderError):
    """The id belongs to a document the API does not manage (a corpus file)."""


def ingest_documents(settings: Settings, embedder: Embedder, docs: list[Document], *, remove: Collection[str] = (),
                     mirror: bool = False, rebuild: bool = False, synonyms_text: str | None = None,
                     progress: ProgressMode = "off") -> tuple[IndexData, BuildReport]:
    """Upsert ``docs``, drop ``remove`` (with ``mirror``: every document not in ``docs``),
    and publish a new version if anything changed."""
    with writer_lock(settings.index_dir):
        return _ingest_locked(settings, embedder, docs, previous_index(settings, rebuild), remove=remove,
                              mirror=mirror, synonyms_text=synonyms_text, progress=progress)


def _ingest_locked(settings: Settings, embedder: Embedder, docs: list[Document], previous: IndexData | None, *,
                   remove: Collection[str] = (), mirror: bool = False, synonyms_text: str | None = None,
                   progress: ProgressMode = "off", cancelled: Callable[[], bool] | None = None,
                   ) -> tuple[IndexData, BuildReport]:
    dropped = set(remove)
    if mirror and previous is not None:
        dropped |= set(previous.documents) - {d.doc_id for d in docs}
    data, report = build_index(
        docs, embedder,
        chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
        model_sha256=model_sha256(settings.model_path), previous=previous,
        remove=dropped, synonyms_text=synonyms_text, progress=progress,
        backend=settings.dense_backend(), sentence_vectors=settings.sentence_vectors, cancelled=cancelled,
    )
    if report.changed or previous is None:
        save_index(settings.index_dir, data)
    return (data if report.changed or previous is None else previous), report


def reconcile_uploads(settings: Settings, index: IndexData | None = None) -> list[str]:
    """Bring the upload store level with the published index (after a crash between the two),
    and remove the temp folder of a write that was killed before it published.

    Skipped, not waited for, when another writer is at work (a long `citeqa ingest` must not keep a
    server from starting; that ingest reconciles itself) or the index folder is read-only.
    """
    try:
        with writer_lock(settings.index_dir, wait=False):
            removed = remove_unpublished(settings.index_dir)
            if removed:
                log.info("removed the temp folders of unfinished writes: %s", ", ".join(removed))
            # ``index`` (already loaded by the caller) serves unless another writer has moved on since.
            index = base_index(settings, index)
            return UploadStore(settings.index_dir).reconcile(index.documents) if index is not None else []
    except OSError as exc:  # BlockingIOError (busy) or a read-only folder
        log.info("upload store not reconciled now (%s)", exc.strerror or exc)
        return []


def ingest_corpus(settings: Settings, embedder: Embedder, *, rebuild: bool = False,
                  progress: ProgressMode = "off") -> tuple[IndexData, BuildReport]:
    """Make the index hold exactly the corpus folder plus the documents added through the API."""
    docs = [d.model_copy(update={"metadata": d.metadata | {"origin": CORPUS_ORIGIN}}) for d in load_corpus(settings.corpus_dir)]
    synonyms = settings.synonyms_path
    synonyms_text = synonyms.read_text(encoding="utf-8") if synonyms.is_file() else ""
    store = UploadStore(settings.index_dir)
    with writer_lock(settings.index_dir):
        current = readable_index(settings)
        if current is not None:
            store.reconcile(current.documents)
        uploaded = store.load_all()
        clash = {d.doc_id for d in docs} & {d.doc_id for d in uploaded}
        if clash:
            raise LoaderError(f"documents added through the API have the same ids as corpus files: {sorted(clash)}; "
                              "rename the corpus files or remove those documents (citeqa documents remove)")
        return _ingest_locked(settings, embedder, docs + uploaded, None if rebuild else current, mirror=True,
                              synonyms_text=synonyms_text, progress=progress)


@dataclass
class WriteResult:
    index: IndexData
    report: BuildReport
    replaced: DocumentRecord | None = None  # the version a changed document replaced


def add_document(settings: Settings, embedder: Embedder, doc: Document, *,
                 cancelled: Callable[[], bool] | None = None, served: IndexData | None = None) -> WriteResult:
    """Store and index a document added through the API or `citeqa documents add`.

    The index version is published first and the upload store updated after: a crash in
    between leaves the store behind, and ``reconcile_uploads`` repairs it from the index.
    ``served``: the index a server holds, built on when it is still the live version.
    """
    doc = doc.model_copy(update={"metadata": doc.metadata | {"origin": API_ORIGIN}})
    with writer_lock(settings.index_dir):
        previous = base_index(settings, served)
        old = previous.documents.get(doc.doc_id) if previous is not None else None
        if old is not None and old.metadata.get("origin") != API_ORIGIN:
            raise DocumentConflictError(f"{doc.doc_id!r} is a document of the corpus folder; choose another doc_id "
                                        "(corpus documents change only in the folder, through `citeqa ingest`)")
        data, report = _ingest_locked(settings, embedder, [doc], previous, cancelled=cancelled)
        UploadStore(settings.index_dir).save(doc)
    return WriteResult(data, report, old if report.updated else None)


def remove_document(settings: Settings, embedder: Embedder, doc_id: str, *,
                    served: IndexData | None = None) -> WriteResult:
    with writer_lock(settings.index_dir):
        previous = base_index(settings, served)
        old = previous.documents.get(doc_id) if previous is not None else None
        if old is not None and old.metadata.get("origin") != API_ORIGIN:
            raise DocumentConflictError(f"{doc_id!r} is a document of the corpus folder; remove the file from the "
                                        "folder and run `citeqa ingest`")
        data, report = _ingest_locked(settings, embedder, [], previous, remove=[doc_id])
        UploadStore(settings.index_dir).delete(doc_id)
    return WriteResult(data, report, old)
