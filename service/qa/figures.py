"""Amounts of money read the same way in Chinese and English: 23亿美元 = US$2.3 billion.

Conflicting figures can only be told apart from equal ones once both are on one scale, and
the two languages write scale differently (亿 is 10^8, billion 10^9; 万 is 10^4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCALE = {"万": 1e4, "亿": 1e8, "万亿": 1e12, "千": 1e3, "百万": 1e6, "thousand": 1e3, "million": 1e6, "mn": 1e6,
          "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_USD = r"美元|美金|US\$|\$|USD|dollars?"
_CNY = r"人民币|元|CNY|RMB|yuan|¥|￥"
_AMOUNT = re.compile(
    rf"(?P<pre>{_USD}|{_CNY})?\s*(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?P<scale>万亿|百万|万|亿|千|thousand|million|billion|trillion|mn|bn)?\s*"
    rf"(?P<post>{_USD}|{_CNY})?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Amount:
    value: float  # in units of the currency
    currency: str  # "USD" or "CNY"
    start: int
    end: int

    def close_to(self, other: "Amount", tolerance: float = 0.005) -> bool:
        return self.currency == other.currency and abs(self.value - other.value) <= tolerance * max(self.value, other.value)


def amounts(text: str) -> list[Amount]:
    """Sums of money in ``text``; a number without a currency is not one."""
    out = []
    for m in _AMOUNT.finditer(text):
        currency_text = m.group("pre") or m.group("post")
        if not currency_text:
            continue
        currency = "USD" if re.fullmatch(_USD, currency_text, re.IGNORECASE) else "CNY"
        value = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").lower()
        value *= _SCALE.get(scale, _SCALE.get(m.group("scale") or "", 1.0))
        out.append(Amount(value, currency, m.start("num"), m.end()))
    return out
