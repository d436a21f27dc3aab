"""Load a folder of documents, with metadata from its optional manifest.json."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES, LoaderError, load_file
from ingest.schema import Document

MANIFEST = "manifest.json"
_RESERVED = {"path", "doc_id", "title", "source"}


def load_corpus(folder: Path) -> list[Document]:
    """Every supported file in ``folder`` (recursively); manifest entries set ids and metadata."""
    if not folder.is_dir():
        raise LoaderError(f"corpus folder {folder} does not exist")
    entries = _manifest_entries(folder)
    docs: list[Document] = []
    seen: dict[str, Path] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES):
        rel = path.relative_to(folder).as_posix()
        entry = entries.get(rel, {})
        doc = load_file(
            path,
            doc_id=entry.get("doc_id"),
            title=entry.get("title"),
            source=entry.get("source") or f"{folder.name}/{rel}",
            metadata={k: str(v) for k, v in entry.items() if k not in _RESERVED} | {"path": f"{folder.name}/{rel}"},
        )
        if doc.doc_id in seen:
            raise LoaderError(f"{rel} and {seen[doc.doc_id]} both map to doc_id {doc.doc_id!r}; set distinct ids in {MANIFEST}")
        seen[doc.doc_id] = path
        docs.append(doc)
    return docs


def _manifest_entries(folder: Path) -> dict[str, dict[str, str]]:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return {entry["path"]: entry for entry in data["documents"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise LoaderError(f"{manifest} is not a valid manifest: {exc}") from exc
