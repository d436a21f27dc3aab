"""Read .txt/.md/.html/.pdf/.docx files into normalised Documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ingest.normalize import normalize_text
from ingest.schema import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


class LoaderError(ValueError):
    """The file cannot become a document; the message says why, for the user."""


def load_file(path: Path, *, doc_id: str | None = None, title: str | None = None, source: str | None = None,
              metadata: dict[str, str] | None = None) -> Document:
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise LoaderError(f"unsupported file type {suffix or '(none)'} for {path.name}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    raw_title, raw_text = reader(path)
    text = normalize_text(raw_text)
    if not text:
        raise LoaderError(f"{path.name} contains no text")
    return Document(
        doc_id=doc_id or slugify(path.stem),
        title=title or raw_title or _first_line(text) or path.stem,
        source=source or str(path),
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
        raise LoaderError(f"cannot derive a document id from {name!r}")
    return slug[:120]


def decode_bytes(data: bytes) -> str:
    # Chinese documents still arrive as GB18030/GBK; UTF-8 is tried first since it is strict.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoaderError("the file is not valid UTF-8 or GB18030 text")


def _read_text(path: Path) -> tuple[str | None, str]:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise LoaderError(f"{path.name} looks binary, not text")
    return None, decode_bytes(data)


def _read_markdown(path: Path) -> tuple[str | None, str]:
    _, text = _read_text(path)
    heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return (heading.group(1).strip() if heading else None), text


def _read_html(path: Path) -> tuple[str | None, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_bytes(path.read_bytes()), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    return title or None, soup.get_text("\n")


def _read_pdf(path: Path) -> tuple[str | None, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError) as exc:
        raise LoaderError(f"{path.name} is not a readable PDF: {exc}") from exc
    if not any(p.strip() for p in pages):
        raise LoaderError(f"{path.name} has no text layer (a scanned PDF?); OCR it first")
    return title or None, "\n\n".join(pages)


def _read_docx(path: Path) -> tuple[str | None, str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise LoaderError(f"{path.name} is not a readable .docx file: {exc}") from exc
    title = document.core_properties.title or None
    return title, "\n".join(p.text for p in document.paragraphs)


def _first_line(text: str) -> str | None:
    # A short first line reads as a title; a long one is a paragraph, so the file name serves better.
    line = text.split("\n", 1)[0].strip()
    return line if 0 < len(line) <= 80 else None


_READERS: dict[str, Callable[[Path], tuple[str | None, str]]] = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
