"""Documents added through the API, kept as files beside the index.

The index can be rebuilt from the corpus folder plus this store (a model change,
`citeqa ingest --rebuild` after corruption), so an uploaded document is never lost.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from ingest.schema import Document


class UploadStore:
    def __init__(self, index_dir: Path) -> None:
        self.folder = index_dir / "uploads"

    def _path(self, doc_id: str) -> Path:
        # doc ids are slugs, but never trust them as path components.
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in doc_id).lstrip(".")
        return self.folder / f"{safe}.json"

    def save(self, doc: Document) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(doc.doc_id)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(doc.model_dump_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def get(self, doc_id: str) -> Document | None:
        path = self._path(doc_id)
        return Document.model_validate_json(path.read_text(encoding="utf-8")) if path.is_file() else None

    def delete(self, doc_id: str) -> None:
        self._path(doc_id).unlink(missing_ok=True)

    def load_all(self) -> list[Document]:
        if not self.folder.is_dir():
            return []
        return [Document.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(self.folder.glob("*.json"))]
