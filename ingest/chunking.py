"""Pack whole sentences into overlapping chunks with exact character offsets."""

from __future__ import annotations

from ingest.schema import Chunk, Document, Span
from ingest.sentences import split_sentences


def chunk_document(doc: Document, chunk_size: int, chunk_overlap: int, *, sentences: list[Span] | None = None) -> list[Chunk]:
    """Chunks of at most ``chunk_size`` characters (a single longer sentence stands alone).

    Consecutive chunks share trailing sentences of at most ``chunk_overlap`` characters,
    so a fact split across a boundary is still whole in one chunk.
    """
    if chunk_size <= 0 or chunk_overlap < 0 or chunk_overlap >= chunk_size:
        raise ValueError("need chunk_size > 0 and 0 <= chunk_overlap < chunk_size")
    spans = sentences if sentences is not None else split_sentences(doc.text, max_chars=chunk_size)
    groups: list[list[Span]] = []
    current: list[Span] = []
    for span in spans:
        if current and span.end - current[0].start > chunk_size:
            groups.append(current)
            current = _overlap_tail(current, chunk_overlap, span, chunk_size)
        current.append(span)
    if current:
        groups.append(current)
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{i}",
            doc_id=doc.doc_id,
            ordinal=i,
            start=group[0].start,
            end=group[-1].end,
            text=doc.text[group[0].start : group[-1].end],
            sentences=list(group),
        )
        for i, group in enumerate(groups)
    ]


def _overlap_tail(group: list[Span], overlap: int, incoming: Span, chunk_size: int) -> list[Span]:
    tail: list[Span] = []
    for span in reversed(group):
        if group[-1].end - span.start > overlap or incoming.end - span.start > chunk_size:
            break
        tail.insert(0, span)
    # A tail equal to the whole group would repeat the previous chunk.
    return tail if len(tail) < len(group) else tail[1:]
