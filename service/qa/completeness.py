"""Whether a written answer says all that the quoted answer says it must.

The verifier checks that each written sentence is true; this checks that together they
are whole, using what the extractive path already found: the value it quoted when the
question asks for one (a written answer that never states the figure answers nothing),
both sides of a comparison, both figures of a conflict, and every named item of a list.
A written answer that misses one falls back to the quoted answer, which has them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.qa.binding import Vocabulary
from service.qa.figures import Figure, figures
from service.qa.quoting import Quote, asks_for_list


def _has(found: list[Figure], wanted: list[Figure]) -> bool:
    return any(f.equals(w) for f in found for w in wanted)


def missing_parts(question: str, written: str, quotes: Sequence[Quote], sides: Sequence[str], answer_type: str | None,
                  vocabulary: Vocabulary) -> list[str]:
    """What the written answer leaves out, in words for the reply's reason; [] when it is whole."""
    missing: list[str] = []
    stated = figures(written)
    named = {k for keys in vocabulary.entity_keys(written) for k in keys}
    for side in sides:
        if not any(keys & named for keys in vocabulary.entity_keys(side)):
            missing.append(f"the side {side!r}")
    if answer_type in ("money", "number", "date"):
        quoted = [f for q in quotes for f in figures(q.text) if (f.kind == "year") == (answer_type == "date")]
        if quoted and not _has(stated, quoted):
            missing.append("the figure the documents give")
    for quote in quotes:
        if quote.disputed and not _has(stated, [f for f in figures(quote.text) if f.kind == "money"] or stated):
            missing.append(f"the other figure ({quote.text[:30]}…)")
    if asks_for_list(question):
        asked = {k for keys in vocabulary.entity_keys(question) for k in keys}
        items = [keys for q in quotes for keys in vocabulary.entity_keys(q.text) if not keys & asked]
        for keys in items:
            # Qwen-VL and Qwen-Audio are both 通义: an item is told apart by the keys only it has.
            own = {k for k in keys if sum(k in other for other in items) == 1} or keys
            if not own & named:
                missing.append(f"the list item {sorted(own)[0]!r}")
    return list(dict.fromkeys(missing))
