"""Read an untrusted file in a child process with a memory cap and a deadline.

Parsers of zip, XML and PDF can be made to allocate gigabytes or spin for minutes by a
small file. In the server's own process that starves every other request (the event loop,
the GIL, the model's memory). A child process started from a fork server (a small clean
process, not a fork of the server with its model) reads the file under ``RLIMIT_AS``;
when it overruns the deadline it is killed. The child also splits the text into sentences
and passages and stops at the configured limits, so a document that would be refused for
its size is refused before the server spends anything on it.
"""

from __future__ import annotations

import multiprocessing
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection

from ingest.chunking import chunk_document
from ingest.loaders import DocumentTooLargeError, LoaderError, ReadLimits, load_bytes
from ingest.schema import Document
from ingest.sentences import split_sentences


@dataclass(frozen=True)
class DocumentLimits:
    """What one document may cost: reading (``read``) and the embedding work it causes."""

    read: ReadLimits = ReadLimits()
    max_chunks: int = 5_000
    # Texts the model embeds for the document: its passages plus (with sentence vectors) its
    # sentences. Bytes and passages alone do not bound that: 10,000 one-word lines are one
    # passage per ~40 lines but 10,000 sentences.
    max_embeddings: int = 8_000
    sentence_vectors: bool = True


@dataclass(frozen=True)
class ParseBudget:
    memory_bytes: int = 1_000_000_000
    seconds: float = 60.0


@dataclass
class Parsed:
    document: Document
    chunks: int
    sentences: int


def measure(doc: Document, limits: DocumentLimits, chunk_size: int, chunk_overlap: int) -> Parsed:
    """Passage and sentence counts of ``doc``; ``DocumentTooLargeError`` past ``limits``."""
    if len(doc.text) > limits.read.max_chars:
        raise DocumentTooLargeError(f"the document has {len(doc.text):,} characters, more than the limit of "
                                    f"{limits.read.max_chars:,}")
    sentences = split_sentences(doc.text, max_chars=chunk_size)
    # Repeated sentences are embedded once (index.embedder), so they count once.
    distinct = len({doc.text[s.start:s.end] for s in sentences}) if limits.sentence_vectors else 0
    if distinct > limits.max_embeddings:
        raise DocumentTooLargeError(f"the document has {distinct:,} distinct sentences to embed, more than the limit "
                                    f"of {limits.max_embeddings:,}")
    chunks = len(chunk_document(doc, chunk_size, chunk_overlap, sentences=sentences))
    if chunks > limits.max_chunks:
        raise DocumentTooLargeError(f"the document makes {chunks:,} passages, more than the limit of {limits.max_chunks:,}")
    if chunks + distinct > limits.max_embeddings:
        raise DocumentTooLargeError(f"the document needs {chunks + distinct:,} embeddings ({chunks:,} passages, "
                                    f"{distinct:,} sentences), more than the limit of {limits.max_embeddings:,}")
    return Parsed(doc, chunks, len(sentences))


def parse_isolated(data: bytes, name: str, *, doc_id: str | None, title: str | None, source: str | None,
                   limits: DocumentLimits, chunk_size: int, chunk_overlap: int, budget: ParseBudget) -> Parsed:
    """``load_bytes`` + ``measure`` in a child process; every failure is a ``LoaderError``."""
    context = multiprocessing.get_context("forkserver")
    receiver, sender = context.Pipe(duplex=False)
    args = (sender, data, name, doc_id, title, source, limits, chunk_size, chunk_overlap, budget.memory_bytes)
    child = context.Process(target=_child, args=args, name="citeqa-parse", daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(budget.seconds):
            raise DocumentTooLargeError(f"{name} took longer than {budget.seconds:g} s to read; split it into smaller files")
        try:
            ok, payload = receiver.recv()
        except EOFError:  # the child died without a word: killed, or a crash inside a C parser
            raise LoaderError(f"{name} could not be read: the reader stopped on it (exit code {child.exitcode})") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if not ok:
        raise payload
    return payload


def _child(conn: Connection, data: bytes, name: str, doc_id: str | None, title: str | None, source: str | None,
           limits: DocumentLimits, chunk_size: int, chunk_overlap: int, memory_bytes: int) -> None:
    try:
        # The cap is on top of what the fork server already maps, so the reader gets memory_bytes.
        used = _address_space()
        resource.setrlimit(resource.RLIMIT_AS, (used + memory_bytes, used + memory_bytes))
        doc = load_bytes(data, name, doc_id=doc_id, title=title, source=source, limits=limits.read)
        del data
        result: tuple[bool, object] = (True, measure(doc, limits, chunk_size, chunk_overlap))
    except LoaderError as exc:
        result = (False, type(exc)(str(exc)))
    except MemoryError:
        result = (False, DocumentTooLargeError(f"{name} needs more than {memory_bytes // 1_000_000:,} MB of memory to read"))
    except Exception as exc:  # noqa: BLE001 - never let a reader's bug become the server's 500
        result = (False, LoaderError(f"{name} could not be read ({type(exc).__name__})"))
    try:
        conn.send(result)
    except MemoryError:
        conn.send((False, DocumentTooLargeError(f"{name} needs more than {memory_bytes // 1_000_000:,} MB of memory to read")))
    finally:
        conn.close()


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


# The fork server imports the readers once; each parse then forks from it in milliseconds.
multiprocessing.get_context("forkserver").set_forkserver_preload(["ingest.sandbox", "pypdf", "docx", "bs4"])
