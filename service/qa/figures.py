"""Figures read the same way in Chinese and English: 23亿美元 = US$2.3 billion, 40亿 = 4 billion.

Conflicting sums (two documents disagreeing) and a written sentence's figures (checked
against its source) can only be told apart from equal ones once both are on one scale, and
the two languages write scale differently (亿 is 10^8, billion 10^9; 万 is 10^4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCALE = {"万": 1e4, "亿": 1e8, "万亿": 1e12, "千": 1e3, "百万": 1e6, "thousand": 1e3, "million": 1e6, "mn": 1e6,
          "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_USD = r"美元|美金|US\$|\$|USD|dollars?"
_CNY = r"人民币|元|CNY|RMB|yuan|¥|￥"
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_PERCENT = r"%|％|percent\b|per\s+cent\b|个百分点|百分点"
_FIGURE_RE = re.compile(
    rf"(?P<pre>{_USD}|{_CNY})?\s*(?P<num>(?<![\d.])\d+(?:,\d{{3}})*(?:\.\d+)?)\s*"
    rf"(?P<scale>万亿|百万|万|亿|千|thousand\b|million\b|billion\b|trillion\b|mn\b|bn\b)?\s*"
    rf"(?P<pct>{_PERCENT})?\s*(?P<post>{_USD}|{_CNY})?",
    re.IGNORECASE,
)
# A small count in Chinese numerals ("七大", "两款"): written sentences often give it in digits.
_CN_COUNT = re.compile(r"(?<![一二两三四五六七八九十百千万亿])([一二两三四五六七八九十])(?=[个家款大项种位次类条名])")


@dataclass(frozen=True)
class Figure:
    value: float  # on one scale: 23亿 and 2.3 billion are both 2.3e9
    kind: str  # "money", "percent", "year" or "number"
    currency: str | None
    text: str
    start: int = 0  # where it stands in the text it was read from
    end: int = 0

    def equals(self, other: "Figure") -> bool:
        """The same quantity: scale-normalised values within rounding, and no clash of kind or
        currency (a bare "2.3 billion" may stand for "23亿美元"; "23%" never for "23")."""
        if (self.kind == "percent") != (other.kind == "percent"):
            return False
        if self.currency and other.currency and self.currency != other.currency:
            return False
        if self.kind == "year" or other.kind == "year":
            return self.value == other.value
        return abs(self.value - other.value) <= 0.005 * max(abs(self.value), abs(other.value)) + 1e-9


def figures(text: str) -> list[Figure]:
    """Every figure in ``text``: sums, percentages, years and plain numbers (in digits, or a
    small count in Chinese numerals), each on one scale."""
    out: list[Figure] = []
    for m in _FIGURE_RE.finditer(text):
        raw = m.group("num").replace(",", "")
        value = float(raw)
        scale = (m.group("scale") or "").lower()
        value *= _SCALE.get(scale, _SCALE.get(m.group("scale") or "", 1.0))
        currency_text = m.group("pre") or m.group("post")
        currency = None
        if currency_text:
            currency = "USD" if re.fullmatch(_USD, currency_text, re.IGNORECASE) else "CNY"
        if m.group("pct"):
            kind = "percent"
        elif currency:
            kind = "money"
        elif not scale and len(raw) == 4 and raw[:2] in ("19", "20"):
            kind = "year"
        else:
            kind = "number"
        out.append(Figure(value, kind, currency, m.group(0).strip(), m.start("num"), m.end()))
    out += [Figure(float(_CN_DIGITS[m.group(1)]), "number", None, m.group(1), m.start(1), m.end(1))
            for m in _CN_COUNT.finditer(text)]
    return out


def amounts(text: str) -> list[Figure]:
    """Sums of money in ``text``; a number without a currency is not one."""
    return [f for f in figures(text) if f.kind == "money"]
