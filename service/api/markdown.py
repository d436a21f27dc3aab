"""Make quoted document text inert for chat front ends that render Markdown and HTML.

`/v1/chat/completions` content goes to third-party clients that render it. Document text is
untrusted: a quoted sentence with `[click](javascript:…)`, `![x](https://tracker/…)` or
`<img onerror=…>` must show as text there. Backslash escapes do that in every Markdown
dialect and read almost unchanged where the client shows plain text. citeqa's own `[n]`
citation markers stay as they are; a `(` right after any `]` is escaped, so no marker or
quoted bracket can become a link.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"(\[\d{1,3}\])")
_ACTIVE = re.compile(r"([\\\[\]<>`])")


def inert(text: str, previous: str = "") -> str:
    """``previous`` is the text already sent before ``text`` (streaming), for a ``](`` split across pieces."""
    parts = _MARKER.split(text)
    out = "".join(part if i % 2 else _ACTIVE.sub(r"\\\1", part) for i, part in enumerate(parts))
    out = out.replace("](", "]\\(")
    if out.startswith("(") and previous.endswith("]"):
        out = "\\" + out
    return out
