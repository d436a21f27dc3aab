"""Unicode and whitespace normalisation applied once, before offsets are taken."""

from __future__ import annotations

import re
import unicodedata

# Full-width ASCII letters and digits become half-width so that "ＡＩ" matches "AI";
# CJK punctuation is left alone because it carries sentence boundaries and quotes.
_FULLWIDTH_ALNUM = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for cp in range(r[0], r[1] + 1)}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Control characters carry no text (NUL, escape sequences, C1 codes from mis-decoded files)
# and break JSON consumers and terminals downstream; tab and line breaks are whitespace.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)], None)
_INLINE_SPACE = re.compile(r"[ \t\f\v\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_FULLWIDTH_ALNUM).translate(_ZERO_WIDTH).translate(_CONTROLS)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _INLINE_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()
