"""Documents added through the API, kept as files beside the index.

The index can be rebuilt from the corpus folder plus this store (a model change,
`citeqa ingest --rebuild` after corruption), so an uploaded document is never lost.

The published index version is the truth; the store follows it. A write publishes the
index version first and then updates the store, so a crash between the two leaves the
store behind, never ahead, and ``reconcile`` (run under the writer lock at start-up and
before every ingest) brings it level from the index, which holds every document's text.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from index.store import DocumentRecord
from ingest.schema import Document, is_valid_doc_id

log = logging.getLogger(__name__)
API_ORIGIN = "api"  # metadata origin of documents added through the API or `citeqa documents add`


class UploadStore:
    def __init__(self, index_dir: Path) -> None:
        self.folder = index_dir / "uploads"

    def _path(self, doc_id: str) -> Path:
        # Ids follow the one rule (ingest.schema), which is also a safe file name: one id, one file.
        if not is_valid_doc_id(doc_id):
            raise ValueError(f"invalid document id {doc_id!r}")
        return self.folder / f"{doc_id}.json"

    def save(self, doc: Document) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(doc.doc_id)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write(doc.model_dump_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, doc_id: str) -> Document | None:
        path = self._path(doc_id)
        return Document.model_validate_json(path.read_text(encoding="utf-8")) if path.is_file() else None

    def delete(self, doc_id: str) -> None:
        self._path(doc_id).unlink(missing_ok=True)

    def load_all(self) -> list[Document]:
        if not self.folder.is_dir():
            return []
        return [Document.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(self.folder.glob("[!.]*.json"))]

    def reconcile(self, documents: dict[str, DocumentRecord]) -> list[str]:
        """Make the store hold exactly the index's API documents; the ids changed, for the log.

        Call it under the writer lock with the published index's documents.
        """
        changed: list[str] = []
        if self.folder.is_dir():
            for leftover in self.folder.glob(".*.tmp"):  # a save cut off by a crash
                leftover.unlink(missing_ok=True)
        wanted = {doc_id: as_document(record) for doc_id, record in documents.items()
                  if record.metadata.get("origin") == API_ORIGIN and is_valid_doc_id(doc_id)}
        stored: dict[str, Document] = {}
        for path in sorted(self.folder.glob("[!.]*.json")) if self.folder.is_dir() else []:
            doc = Document.model_validate_json(path.read_text(encoding="utf-8"))
            if doc.doc_id in wanted and path == self._path(doc.doc_id):
                stored[doc.doc_id] = doc
            else:  # its write never published, or its delete did (or a file under an old naming rule)
                path.unlink()
                changed.append(doc.doc_id)
        for doc_id, doc in wanted.items():
            if stored.get(doc_id) != doc:
                self.save(doc)  # published, but the store update was cut off
                changed.append(doc_id)
        if changed:
            log.warning("upload store brought level with the index: %s", ", ".join(sorted(changed)))
        return changed


def as_document(record: DocumentRecord) -> Document:
    return Document(doc_id=record.doc_id, title=record.title, source=record.source, text=record.text,
                    metadata=record.metadata)
