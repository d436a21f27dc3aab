"""Read .txt/.md/.html/.pdf/.docx content into normalised Documents.

Readers take bytes, not paths: an upload is parsed without ever touching the disk, and no
error message can carry a server path. Every reader failure becomes a ``LoaderError`` with a
message for the user; a file that would cost more than ``ReadLimits`` allows becomes a
``DocumentTooLargeError`` before the expensive part starts.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from ingest.decoding import UndecodableError, decode_text
from ingest.normalize import normalize_text
from ingest.schema import MAX_DOC_ID_BYTES, Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


class LoaderError(ValueError):
    """The file cannot become a document; the message says why, for the user."""


class NotTextError(LoaderError):
    """A text-type file whose bytes are not text in any encoding citeqa reads (binary, NUL bytes)."""


class DocumentTooLargeError(LoaderError):
    """Reading the file would exceed a configured limit (size, expansion, time or memory)."""


@dataclass(frozen=True)
class ReadLimits:
    # A .docx is a zip: its XML can expand 1,000-fold. Checked from the zip's directory
    # before anything is decompressed (zipfile never yields more than a member's stated size).
    max_unzipped_bytes: int = 50_000_000
    max_zip_members: int = 2_000
    # Characters of text after reading (≈ 1,000 pages); checked before sentence splitting.
    max_chars: int = 2_000_000


def load_file(path: Path, *, doc_id: str | None = None, title: str | None = None, source: str | None = None,
              metadata: dict[str, str] | None = None, limits: ReadLimits | None = None) -> Document:
    return load_bytes(path.read_bytes(), path.name, doc_id=doc_id, title=title, source=source or str(path),
                      metadata=metadata, limits=limits)


def load_bytes(data: bytes, name: str, *, doc_id: str | None = None, title: str | None = None,
               source: str | None = None, metadata: dict[str, str] | None = None,
               limits: ReadLimits | None = None) -> Document:
    """``name`` is the file name the bytes came with: its suffix picks the reader, its stem is the fallback id and title."""
    limits = limits or ReadLimits()
    suffix = PurePath(name).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise LoaderError(f"unsupported file type {suffix or '(none)'} for {name}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        raw_title, raw_text = reader(data, limits)
    except LoaderError as exc:
        raise type(exc)(f"{name}: {exc}") from None
    if len(raw_text) > limits.max_chars:
        raise DocumentTooLargeError(f"{name} has {len(raw_text):,} characters of text, more than the limit of {limits.max_chars:,}")
    text = normalize_text(raw_text)
    if not text:
        raise LoaderError(f"{name} contains no text")
    stem = PurePath(name).stem
    # Formats that carry a title in their metadata: when it is absent the file name is the
    # author's title; a plain text file's first short line usually is.
    first_line = None if suffix in (".docx", ".pdf") else _first_line(text)
    return Document(
        doc_id=doc_id or slugify(stem),
        title=title or raw_title or first_line or stem,
        source=source or name,
        text=text,
        metadata=metadata or {},
    )


def document_from_text(text: str, *, title: str, source: str = "", doc_id: str | None = None,
                       metadata: dict[str, str] | None = None) -> Document:
    normalized = normalize_text(text)
    if not normalized:
        raise LoaderError("the document text is empty")
    return Document(doc_id=doc_id or slugify(title), title=title, source=source, text=normalized, metadata=metadata or {})


def slugify(name: str) -> str:
    """A stable, URL-safe id; CJK characters are kept, everything else becomes '-'."""
    slug = re.sub(r"[^\w\u4e00-\u9fff]+", "-", name.strip().lower()).strip("-_")
    if not slug:
        raise LoaderError(f"cannot derive a document id from {name!r}: give a doc_id, or a name with letters or digits")
    slug = slug[:120]
    while len(slug.encode("utf-8")) > MAX_DOC_ID_BYTES:
        slug = slug[:-1]
    return slug.rstrip("-_.") or slug


def _decode(data: bytes) -> str:
    try:
        text = decode_text(data)
    except UndecodableError as exc:
        raise NotTextError(str(exc)) from None
    if "\x00" in text:
        raise NotTextError(f"contains NUL characters (at character {text.index(chr(0)):,}): a binary file, not text")
    return text


def _read_text(data: bytes, limits: ReadLimits) -> tuple[str | None, str]:
    return None, _decode(data)


def _read_markdown(data: bytes, limits: ReadLimits) -> tuple[str | None, str]:
    text = _decode(data)
    heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return (heading.group(1).strip() if heading else None), text


def _read_html(data: bytes, limits: ReadLimits) -> tuple[str | None, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    return title or None, soup.get_text("\n")


def _read_pdf(data: bytes, limits: ReadLimits) -> tuple[str | None, str]:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages: list[str] = []
        size = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            size += len(pages[-1])
            if size > limits.max_chars:  # stop extracting: the rest would be refused anyway
                raise DocumentTooLargeError(f"has more than {limits.max_chars:,} characters of text")
        title = reader.metadata.title if reader.metadata else None
    except LimitReachedError as exc:  # a compression bomb, stopped by pypdf's own limits
        raise DocumentTooLargeError(f"expands beyond the PDF reader's limits ({exc})") from None
    except LoaderError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure on untrusted bytes is the file's fault
        raise LoaderError(f"is not a readable PDF ({type(exc).__name__}: {_short(exc)})") from None
    if not any(p.strip() for p in pages):
        raise LoaderError("has no text layer (a scanned PDF?); OCR it first")
    return (title if isinstance(title, str) else None) or None, "\n\n".join(pages)


def _read_docx(data: bytes, limits: ReadLimits) -> tuple[str | None, str]:
    import docx

    members = _checked_zip(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        # python-docx invents default properties (title "Word Document") when core.xml is absent.
        title = document.core_properties.title if "docProps/core.xml" in members else None
        text = "\n".join(p.text for p in document.paragraphs)
    except Exception as exc:  # noqa: BLE001 - broken XML, missing parts, entity tricks: the file's fault
        raise LoaderError(f"is not a readable .docx file ({type(exc).__name__}: {_short(exc)})") from None
    return title or None, text


def _checked_zip(data: bytes, limits: ReadLimits) -> set[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise LoaderError(f"is not a readable .docx file (broken zip: {_short(exc)})") from None
    if len(infos) > limits.max_zip_members:
        raise DocumentTooLargeError(f"holds {len(infos):,} zip members, more than the limit of {limits.max_zip_members:,}")
    expanded = sum(info.file_size for info in infos)
    if expanded > limits.max_unzipped_bytes:
        raise DocumentTooLargeError(f"expands to {expanded:,} bytes, more than the limit of {limits.max_unzipped_bytes:,}")
    return {info.filename for info in infos}


def _short(exc: Exception, limit: int = 160) -> str:
    message = " ".join(str(exc).split())
    return message[:limit] + ("…" if len(message) > limit else "")


def _first_line(text: str) -> str | None:
    # A short first line reads as a title; a long one is a paragraph, so the file name serves better.
    line = text.split("\n", 1)[0].strip()
    return line if 0 < len(line) <= 80 else None


_READERS: dict[str, Callable[[bytes, ReadLimits], tuple[str | None, str]]] = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
