"""Bytes of a text file to str: byte-order marks, strict UTF-8, then the likeliest legacy encoding.

Legacy encodings (GB18030, Big5, Shift_JIS, EUC-KR, cp1252) decode almost any byte string
without error, so "the first one that decodes" silently turns a cp1252 "Crème brûlée" into
GB18030 mojibake. Each candidate's text is scored instead: characters of a common repertoire
(ASCII, Latin-1 letters, the 3,755 level-1 GB2312 hanzi, Big5's frequent hanzi, kana, Hangul)
score high; rare hanzi, control characters, private-use code points and an East Asian
character wedged inside a Latin word score low. The best candidate wins if its score says it
is text at all; otherwise the file is refused rather than stored as garbage. Short files
carry little evidence, which is why the scoring is by repertoire and not by statistics
(charset-normalizer picks cp1250 for "Crème" and Big5 for a three-character GBK file).
"""

from __future__ import annotations

import codecs
import unicodedata

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_LEGACY = ("gb18030", "big5", "shift_jis", "euc_kr", "cp1252")
# Below this mean score the bytes are not text in any candidate encoding.
MIN_SCORE = 0.6


class UndecodableError(ValueError):
    pass


def decode_text(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UndecodableError(f"the file starts with a {encoding.upper()} byte-order mark but is not valid "
                                       f"{encoding.upper()} (byte {exc.start})") from exc
    # UTF-16 without a byte-order mark: ASCII-heavy text has a NUL in every other byte (which
    # is also valid UTF-8, so this comes first).
    utf16 = ["utf-16-le", "utf-16-be"] if data.count(0) * 4 >= len(data) else []
    if not utf16:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    candidates = [*utf16, *_LEGACY]
    best, best_score = None, float("-inf")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = plausibility(text)
        if score > best_score:
            best, best_score = text, score
    if best is None or best_score < MIN_SCORE:
        raise UndecodableError("the text encoding could not be recognised (tried UTF-8, UTF-16, GB18030, Big5, "
                               "Shift_JIS, EUC-KR, Windows-1252); save the file as UTF-8")
    return best


def plausibility(text: str) -> float:
    """Mean per-character score in [-5, 1]: how much ``text`` looks like real writing."""
    if not text:
        return 0.0
    total = 0.0
    prev_latin = False
    for i, ch in enumerate(text):
        score = _char_score(ch)
        east_asian = score != 1.0 and _is_east_asian(ch)
        if east_asian and prev_latin and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalpha():
            score = -1.0  # "Cr鑝e": a hanzi inside a Latin word is a decoding accident
        total += score
        prev_latin = ch.isascii() and ch.isalpha() or (prev_latin and east_asian)
    return total / len(text)


def _char_score(ch: str) -> float:
    o = ord(ch)
    if o < 0x80:
        return 1.0 if ch.isprintable() or ch in "\n\r\t" else -5.0
    if 0xC0 <= o <= 0xFF:
        return 1.0 if ch.isalpha() else 0.6  # Latin-1 letters; ×, ÷
    if 0x4E00 <= o <= 0x9FFF:
        return 1.0 if _common_hanzi(ch) else 0.2
    if 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7A3:
        return 0.9  # kana, Hangul syllables
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Co", "Cn"):
        return -5.0
    if category.startswith("P") or category == "Zs" or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:
        return 0.8  # punctuation, CJK and full-width forms
    return 0.1


def _is_east_asian(ch: str) -> bool:
    o = ord(ch)
    return 0x3040 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7A3 or 0xF900 <= o <= 0xFAFF


def _common_hanzi(ch: str) -> bool:
    try:
        gb = ch.encode("gb2312")
        if 0xB0 <= gb[0] <= 0xD7:  # GB2312 level 1: the 3,755 most frequent simplified hanzi
            return True
    except UnicodeEncodeError:
        pass
    try:
        big5 = int.from_bytes(ch.encode("big5"), "big")
        return 0xA440 <= big5 <= 0xC67E  # Big5's 5,401 frequent hanzi
    except UnicodeEncodeError:
        return False
