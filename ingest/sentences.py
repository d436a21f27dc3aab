"""Sentence boundaries for mixed Chinese/English text, as character spans."""

from __future__ import annotations

import re

from ingest.schema import Span

# A sentence ends at CJK terminators (。！？；…), at ASCII ! ? ; (the corpus uses
# half-width punctuation inside Chinese), or at "." that is not inside a number or
# an abbreviation-like token; closing quotes and brackets stay with their sentence.
_END = re.compile(
    r"""(?:
        [。！？；!?;]+ | …+ | \.{3,} |
        (?<![0-9A-Z])\.(?=\s|$|[\u4e00-\u9fff])
    )[”’"'」』）)\]】]*""",
    re.VERBOSE,
)
_LINE_BREAK = re.compile(r"\n+")


def split_sentences(text: str, max_chars: int = 400) -> list[Span]:
    """Spans of non-blank sentences; a line break always ends a sentence.

    Sentences longer than ``max_chars`` are cut at the last comma-like mark (or hard)
    so that no chunk has to hold an unbounded run of text.
    """
    spans: list[Span] = []
    line_start = 0
    for line_match in [*_LINE_BREAK.finditer(text), None]:
        line_end = line_match.start() if line_match else len(text)
        _split_line(text, line_start, line_end, spans, max_chars)
        if line_match:
            line_start = line_match.end()
    return spans


def _split_line(text: str, start: int, end: int, out: list[Span], max_chars: int) -> None:
    cursor = start
    for m in _END.finditer(text, start, end):
        _emit(text, cursor, m.end(), out, max_chars)
        cursor = m.end()
    _emit(text, cursor, end, out, max_chars)


def _emit(text: str, start: int, end: int, out: list[Span], max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind(c) for c in ",，、:：" + " ")
        piece_end = start + (cut + 1 if cut > max_chars // 3 else max_chars)
        _emit(text, start, piece_end, out, max_chars)
        start = piece_end
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append(Span(start=start, end=end))
