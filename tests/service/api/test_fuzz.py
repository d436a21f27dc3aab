"""Deterministic fuzzing of the HTTP API with hostile text and files, against one real server process.

The rule: no response is a 5xx (503 neither, once ready; 507 is only for a full disk, which cannot
happen here), every error is JSON shaped {"error": {"code": str, "message": str}}, an accepted upload
is listed afterwards, and the server is alive (/healthz 200) at the end.

Every case draws from its own ``random.Random(seed * 10_000 + case)``, so a failure reproduces from the
seed and case number printed with it. CITEQA_FUZZ_SEED=<int> runs other seeds (both phases).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import serve_process

pytestmark = pytest.mark.slow

ADMIN = "fuzz-admin"
QUESTION_SEED = int(os.environ.get("CITEQA_FUZZ_SEED", "20240611"))
UPLOAD_SEED = QUESTION_SEED + 1
from service.schemas import MAX_QUESTION_CHARS as MAX_QUESTION  # noqa: E402 - the documented limits
from service.schemas import MAX_TURN_CHARS as MAX_HISTORY_TURN  # noqa: E402
N_QUESTION_CASES = 70  # plus the raw-byte bodies below: ~90 requests
ACCEPTED_UPLOADS_BUDGET = 15  # each accepted upload is embedded by the CPU model

# Code point ranges the random strings draw from.
RANGES: dict[str, list[tuple[int, int]]] = {
    "ascii": [(0x20, 0x7E)],
    "cjk": [(0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7A3)],
    "astral": [(0x1F300, 0x1FAFF), (0x20000, 0x2A6DF), (0x1D400, 0x1D7FF)],
    "combining": [(0x0300, 0x036F), (0x20D0, 0x20FF), (0x1AB0, 0x1AFF)],
    "control": [(0x00, 0x1F), (0x7F, 0x9F)],  # C0 (NUL included), DEL, C1
    "surrogate": [(0xD800, 0xDFFF)],  # lone surrogates: only sendable as JSON \uXXXX escapes
    "special": [(c, c) for c in (0x00, 0xA0, 0xAD, 0x200B, 0x200D, 0x202E, 0x2028, 0x2029, 0x3000, 0xFEFF,
                                 0xFFFD, 0xFFFE, 0xFFFF, 0x10FFFF, 0xE000)],
}
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2003\u2028\u2029\u202f\u205f\u3000"
SEEDS_TEXT = ["星河云推出了什么模型？", "微软Azure走的是哪种路线？", "How many Trainium 2 chips can AWS train on?",
              "阿里云的通义千问是什么？"]


def random_text(rng: random.Random, length: int, kinds: list[str]) -> str:
    out = []
    for _ in range(length):
        lo, hi = rng.choice(RANGES[rng.choice(kinds)])
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def show(text: str, limit: int = 48) -> str:
    """A printable, ASCII-only description of a string (surrogates and controls escaped)."""
    head = ascii(text[:limit])
    return f"len={len(text)} {head}{'...' if len(text) > limit else ''}"


# ---------------------------------------------------------------------------------------------
# Cases and checks


@dataclass
class Case:
    seed: int
    n: int
    desc: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    expect: str | None = None  # "2xx" or "4xx" where the documented contract decides it
    stream: bool = False

    def label(self) -> str:
        return f"seed={self.seed} case={self.n} {self.method} {self.path}: {self.desc}"


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    by_endpoint: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    seconds: list[tuple[float, str]] = field(default_factory=list)
    status_log: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)  # requests that broke once and were sent again

    def slowest(self, n: int = 3) -> str:
        return "; ".join(f"{s:.1f}s {label[:90]}" for s, label in sorted(self.seconds, reverse=True)[:n])

    def time_by_status(self) -> str:
        spent: Counter = Counter()
        for (seconds, _), status in zip(self.seconds, self.status_log):
            spent[status] += seconds
        return ", ".join(f"{k}: {v:.0f}s" for k, v in sorted(spent.items(), key=str))

    def fail(self, status: object, case: Case, problem: str) -> None:
        self.failures.append(f"[{status}] {case.label()} -> {problem}")


def error_shape_problem(response: httpx.Response) -> str | None:
    if "application/json" not in response.headers.get("content-type", ""):
        return f"error is not JSON (content-type {response.headers.get('content-type')!r}): {response.text[:200]!r}"
    try:
        body = response.json()
    except ValueError:
        return f"error body does not parse as JSON: {response.text[:200]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str) or not isinstance(error.get("message"), str):
        return f"error is not {{'error': {{'code': str, 'message': str}}}}: {response.text[:200]!r}"
    return None


def send(client: httpx.Client, case: Case, tally: Tally) -> httpx.Response | None:
    """Send one case, record its status and every way it breaks the rule."""
    tally.sent += 1
    tally.by_endpoint[f"{case.method} {re.sub(r'/v1/documents/.+', '/v1/documents/{id}', case.path)}"] += 1
    t0 = time.monotonic()
    for attempt in (1, 2):
        try:
            if case.stream:
                with client.stream(case.method, case.path, content=case.body, headers=case.headers) as response:
                    text = b"".join(response.iter_bytes()).decode("utf-8", "replace")
                    response._content = text.encode()  # noqa: SLF001 - keep the body for the checks below
            else:
                response = client.request(case.method, case.path, content=case.body, headers=case.headers)
            break
        except httpx.TransportError as exc:
            # A server that closes its keep-alive connection after an error (uvicorn does after a
            # 500) breaks the next request on that connection: retry once, on a fresh one, so the
            # failure is blamed on the input that causes it.
            if attempt == 1:
                tally.retried.append(f"{case.label()[:100]} ({type(exc).__name__})")
                continue
            tally.statuses["no response"] += 1
            tally.seconds.append((time.monotonic() - t0, case.label()))
            tally.status_log.append(f"{case.method} no response")
            tally.fail("no response", case, f"{type(exc).__name__}: {exc} (twice)")
            return None
    tally.seconds.append((time.monotonic() - t0, case.label()))
    tally.status_log.append(f"{case.method} {response.status_code}")
    status = response.status_code
    tally.statuses[status] += 1
    if status >= 500:
        detail = response.text[:160].replace("\n", " ")
        tally.fail(status, case, f"server error: {detail}")
    elif status >= 400:
        problem = error_shape_problem(response)
        if problem:
            tally.fail(status, case, problem)
    elif case.stream:
        done = "[DONE]" in response.text if case.path == "/v1/chat/completions" else "event: done" in response.text
        if not done:
            tally.fail(status, case, f"the event stream ended without its final event: {response.text[-160:]!r}")
    else:
        try:
            response.json()
        except ValueError:
            tally.fail(status, case, f"2xx body is not JSON: {response.text[:160]!r}")
    if case.expect == "4xx" and status < 400:
        tally.fail(status, case, "expected a 4xx (the input breaks a documented limit)")
    if case.expect == "2xx" and (status < 200 or 300 <= status < 500):  # a 5xx is reported above
        tally.fail(status, case, f"expected a 2xx (valid input): {response.text[:160]!r}")
    return response


# ---------------------------------------------------------------------------------------------
# Question cases: /v1/ask, /v1/search, /v1/chat/completions

ENDPOINTS = ("/v1/ask", "/v1/search", "/v1/chat/completions")
JSON = {"Content-Type": "application/json"}


def _json_bytes(obj: object) -> bytes:
    # ensure_ascii: lone surrogates become \ud800 escapes, the only way to send them.
    return json.dumps(obj, ensure_ascii=True).encode("ascii")


def _question(rng: random.Random) -> tuple[str, str, str | None]:
    """(question, description, expectation)"""
    kinds = list(RANGES)
    shape = rng.choice(["mixed", "mixed", "mixed", "one-kind", "one-kind", "real+hostile", "real+hostile",
                        "empty", "whitespace", "long"])
    if shape == "mixed":
        chosen = rng.sample(kinds, rng.randint(2, len(kinds)))
        q = random_text(rng, rng.randint(1, 80), chosen)
        return q, f"mixed[{'+'.join(chosen)}]", None
    if shape == "one-kind":
        kind = rng.choice(kinds)
        q = random_text(rng, rng.randint(1, 40), [kind])
        return q, f"only {kind}", None
    if shape == "real+hostile":
        base = list(rng.choice(SEEDS_TEXT))
        kind = rng.choice(["control", "surrogate", "combining", "special", "astral"])
        for _ in range(rng.randint(1, 6)):
            base.insert(rng.randint(0, len(base)), random_text(rng, 1, [kind]))
        return "".join(base), f"real question with {kind} inserted", None
    if shape == "empty":
        return "", "empty", "4xx"
    if shape == "whitespace":
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 30))), "whitespace only", "4xx"
    # long: just over (or exactly at) the documented limit
    variant = rng.choice(["over", "over", "over", "at", "at+padding"])  # at the limit is slow to embed
    if variant == "over":
        kind = rng.choice(["ascii", "cjk", "astral", "surrogate", "combining"])
        alphabet = [kind] if kind == "ascii" else ["ascii", kind]
        q = "a" + random_text(rng, MAX_QUESTION - 1, alphabet) + "z"  # MAX+1 chars, not whitespace at either end
        return q, f"{MAX_QUESTION + 1} chars ({kind})", "4xx"
    # Words from a small vocabulary: the length is what is tested, and few tokens keep it quick to embed.
    words = ["cloud", "model", "chip", "region", "price", "galaxy", "training", "what", "which", "does"]
    q = " ".join(rng.choice(words) for _ in range(MAX_QUESTION // 4))[: MAX_QUESTION - 1] + "?"
    if variant == "at+padding":
        return "  \n" + q + " \u3000\t", f"{MAX_QUESTION} chars + whitespace padding", "2xx"
    return q, f"exactly {MAX_QUESTION} chars", "2xx"


def _turns(rng: random.Random, roles: tuple[str, ...], hostile: bool = True) -> tuple[list[dict], str]:
    """Random earlier turns; none where the case expects a 2xx (a hostile turn may rightly be refused)."""
    turns = []
    for _ in range(rng.choice([0, 0, 1, 2, 3]) if hostile else 0):
        kinds = rng.sample(list(RANGES), rng.randint(1, 4))
        turns.append({"role": rng.choice(roles), "content": random_text(rng, rng.randint(0, 60), kinds)})
    return turns, ("; history " + ", ".join(f"{t['role']}:{show(t['content'], 16)}" for t in turns)) if turns else ""


def question_case(seed: int, n: int) -> Case:
    rng = random.Random(seed * 10_000 + n)
    question, desc, expect = _question(rng)
    endpoint = ENDPOINTS[n % 3] if rng.random() < 0.7 else rng.choice(ENDPOINTS)
    stream = endpoint != "/v1/search" and rng.random() < 0.12
    desc = f"question {desc} {show(question)}"
    if endpoint == "/v1/search":
        body: dict = {"query": question}
    elif endpoint == "/v1/ask":
        history, hdesc = _turns(rng, ("user", "assistant", "system"), hostile=expect != "2xx")
        if expect is None and rng.random() < 0.05:
            history.append({"role": "user", "content": "h" * (MAX_HISTORY_TURN + 1)})
            hdesc += f"; a history turn of {MAX_HISTORY_TURN + 1} chars"
            expect = "4xx"
        body = {"question": question, "history": history}
        desc += hdesc
    else:
        earlier, hdesc = _turns(rng, ("user", "assistant", "system", "developer"), hostile=expect != "2xx")
        last: dict = {"role": "user", "content": question}
        if rng.random() < 0.25:
            last["content"] = [{"type": "text", "text": question}]
            desc += " (as a content part)"
        body = {"model": "citeqa", "messages": earlier + [last]}
        desc += hdesc
    if stream:
        body["stream"] = True
        desc += " [stream]"
    return Case(seed, n, desc, "POST", endpoint, _json_bytes(body), dict(JSON), expect, stream)


# Bodies that are not valid UTF-8 (or not JSON at all), sent to each endpoint.
RAW_BODIES: list[tuple[str, bytes]] = [
    ("0xFF 0xFE in a string", b'{"question": "\xff\xfe\xfd", "query": "\xff\xfe\xfd", '
                              b'"messages": [{"role": "user", "content": "\xff\xfe"}]}'),
    ("truncated 3-byte sequence", b'{"question": "\xe4\xb8", "query": "\xe4\xb8", "messages": [{"role": "user", "content": "\xe4\xb8"}]}'),
    ("overlong encoding of /", b'{"question": "\xc0\xaf", "query": "\xc0\xaf", "messages": [{"role": "user", "content": "\xc0\xaf"}]}'),
    ("UTF-8-encoded surrogate (CESU)", b'{"question": "a\xed\xa0\x80b", "query": "a\xed\xa0\x80b", '
                                       b'"messages": [{"role": "user", "content": "a\xed\xa0\x80b"}]}'),
    ("code point above U+10FFFF", b'{"question": "\xf4\x90\x80\x80", "query": "\xf4\x90\x80\x80", '
                                  b'"messages": [{"role": "user", "content": "\xf4\x90\x80\x80"}]}'),
    ("raw NUL inside a JSON string", b'{"question": "a\x00b", "query": "a\x00b", "messages": [{"role": "user", "content": "a\x00b"}]}'),
    ("lone continuation bytes as the whole body", b"\x80\x81\x82\xbf"),
]


def raw_cases(seed: int, start: int) -> list[Case]:
    rng = random.Random(seed * 10_000 + start)
    cases = []
    n = start
    for desc, body in RAW_BODIES:
        endpoint = ENDPOINTS[n % 3]
        cases.append(Case(seed, n, f"raw body: {desc}", "POST", endpoint, body, dict(JSON)))
        n += 1
    for _ in range(6):  # random garbage bytes
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
        cases.append(Case(seed, n, f"raw body: {len(body)} random bytes {body[:24]!r}", "POST", ENDPOINTS[n % 3], body, dict(JSON)))
        n += 1
    # Valid JSON in other Unicode encodings (json.loads detects them); any 2xx/4xx is fine.
    for encoding in ("utf-8-sig", "utf-16", "utf-32-le"):
        endpoint = ENDPOINTS[n % 3]
        body = {"question": "星河云推出了什么模型？", "query": "星河云", "messages": [{"role": "user", "content": "星河云推出了什么模型？"}]}
        cases.append(Case(seed, n, f"raw body: valid JSON encoded as {encoding}", "POST", endpoint,
                          json.dumps(body, ensure_ascii=False).encode(encoding), dict(JSON)))
        n += 1
    return cases


# ---------------------------------------------------------------------------------------------
# Upload cases: POST /v1/documents (multipart)

SUFFIXES = (".txt", ".md", ".html", ".pdf", ".docx")
SHORT_TEXT = "星河云推出了银河大模型，芯片叫做星核一号。Galaxy Cloud launched the Milky Way model."


def tiny_docx(text: str = SHORT_TEXT) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "fuzz docx"
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def tiny_pdf(text: str = "Galaxy Cloud launched the Milky Way model; its chip is Star Core One.") -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.setTitle("fuzz pdf")
    pdf.drawString(72, 720, text)
    pdf.save()
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _docx_members(docx_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _garbage_xml(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["random bytes", "unclosed", "wrong root", "entities", "empty", "not xml", "deep nesting",
                       "bad namespace"])
    if kind == "random bytes":
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    elif kind == "unclosed":
        data = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
    elif kind == "wrong root":
        data = b'<?xml version="1.0"?><foo><bar/></foo>'
    elif kind == "entities":
        data = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><d>&c;</d>')
    elif kind == "empty":
        data = b""
    elif kind == "not xml":
        data = random_text(rng, 60, ["ascii", "cjk"]).encode("utf-8")
    elif kind == "deep nesting":
        data = b"<a>" * 3000 + b"</a>" * 3000
    else:
        data = b'<?xml version="1.0"?><w:document xmlns:w="urn:not-word"><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>'
    return kind, data


NAME_KINDS = ("unicode", "cjk", "emoji", "punctuation", "nul", "long ascii", "long cjk", "combining", "rtl", "quote", "path")


def _random_name(rng: random.Random, suffix: str, kind: str) -> str:
    if kind == "unicode":
        stem = random_text(rng, rng.randint(1, 20), ["ascii", "cjk", "combining", "special"])
    elif kind == "cjk":
        stem = random_text(rng, rng.randint(1, 20), ["cjk"])
    elif kind == "emoji":
        stem = random_text(rng, rng.randint(1, 8), ["astral"])
    elif kind == "punctuation":
        stem = "".join(rng.choice("!@#$%^&*()+=[]{}~`',;-_") for _ in range(rng.randint(1, 8)))
    elif kind == "nul":
        stem = f"fuzz{rng.randint(0, 999)}\x00hidden"
    elif kind == "long ascii":
        stem = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.choice([256, 300, 1000])))
    elif kind == "long cjk":
        stem = random_text(rng, rng.choice([100, 200, 300]), ["cjk"])
    elif kind == "combining":
        stem = "z" + random_text(rng, rng.randint(5, 30), ["combining"])
    elif kind == "rtl":
        stem = "\u202eabc\u202d" + random_text(rng, 5, ["cjk"])
    elif kind == "quote":
        stem = 'a"b;c=d\\e'
    else:
        stem = rng.choice(["../../etc/passwd", "a/b", "C:\\x\\y", "..", "./x"])
    return stem + suffix


def multipart(fields: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    """Build the multipart body by hand, so file names can hold any bytes (NUL included)."""
    boundary = "citeqa-fuzz-b0undary-7d1f3a9c5e"
    out = io.BytesIO()
    for name, filename, data in fields:
        out.write(f"--{boundary}\r\n".encode())
        disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
        if filename is not None:
            # Browsers percent-encode these three; everything else (NUL too) goes as UTF-8 bytes.
            escaped = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
            disposition += b'; filename="' + escaped.encode("utf-8", "surrogatepass") + b'"'
        out.write(disposition + b"\r\n")
        if filename is not None:
            out.write(b"Content-Type: application/octet-stream\r\n")
        out.write(b"\r\n" + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload_case(seed: int, n: int, desc: str, filename: str | None, data: bytes,
                extra: list[tuple[str, str | None, bytes]] = (), expect: str | None = None) -> Case:
    body, ctype = multipart([("file", filename, data), *extra])
    headers = {"Content-Type": ctype, "Authorization": f"Bearer {ADMIN}"}
    name = "(none)" if filename is None else show(filename, 40)
    return Case(seed, n, f"upload {desc}; name {name}; {len(data)} bytes", "POST", "/v1/documents", body, headers, expect)


def upload_cases(seed: int) -> list[Case]:
    docx_bytes, pdf_bytes = tiny_docx(), tiny_pdf()
    cases: list[Case] = []

    def rng_for(n: int) -> random.Random:
        return random.Random(seed * 10_000 + n)

    def add(desc: str, filename: str | None, data: bytes, **kw) -> None:
        cases.append(upload_case(seed, len(cases), desc, filename, data, **kw))

    # Controls: valid files must be accepted (else the fuzzing proves nothing).
    add("valid .docx", f"fuzz-valid-{seed}.docx", docx_bytes, expect="2xx")
    add("valid .pdf", f"fuzz-valid-{seed}.pdf", pdf_bytes, expect="2xx")

    # Random bytes under every suffix, with and without the magic bytes the server checks first.
    for suffix in SUFFIXES:
        for magic in (False, True):
            n = len(cases)
            rng = rng_for(n)
            data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
            if magic:
                data = {".pdf": b"%PDF-1.7\n", ".docx": b"PK\x03\x04"}.get(suffix, b"") + data
            add(f"random bytes{' after the magic' if magic and suffix in ('.pdf', '.docx') else ''} as {suffix}",
                f"fuzz-rand-{n}{suffix}", data)
    for suffix in SUFFIXES:
        add(f"empty {suffix}", f"fuzz-empty{suffix}", b"")

    # Truncated and corrupted real files.
    for source, suffix, cuts in ((docx_bytes, ".docx", 3), (pdf_bytes, ".pdf", 4)):
        for _ in range(cuts):
            n = len(cases)
            cut = rng_for(n).randint(6, len(source) - 1)
            add(f"real {suffix} cut at {cut}/{len(source)}", f"fuzz-cut-{n}{suffix}", source[:cut])
        for _ in range(4):
            n = len(cases)
            rng = rng_for(n)
            data = bytearray(source)
            spots = sorted(rng.sample(range(8, len(data)), rng.randint(1, 12)))
            for i in spots:
                data[i] = rng.randrange(256)
            add(f"real {suffix} with bytes changed at {spots[:6]}{'...' if len(spots) > 6 else ''}", f"fuzz-flip-{n}{suffix}",
                bytes(data))

    # Zips that are not .docx, and nested zips.
    rng = rng_for(len(cases))
    add("zip of random members as .docx", "fuzz-zip-random.docx",
        _zip({f"m{i}.bin": bytes(rng.randrange(256) for _ in range(50)) for i in range(3)}))
    add("zip of a text file as .docx", "fuzz-zip-text.docx", _zip({"readme.txt": b"hello"}))
    add("empty zip as .docx", "fuzz-zip-empty.docx", _zip({}))
    add("zip holding a real .docx (nested) as .docx", "fuzz-nested-outer.docx", _zip({"inner.docx": docx_bytes}))
    members = _docx_members(docx_bytes)
    add(".docx whose word/document.xml is a zip", "fuzz-nested-doc.docx",
        _zip({**members, "word/document.xml": _zip({"word/document.xml": members["word/document.xml"]})}))
    add(".docx whose word/document.xml is the whole .docx", "fuzz-nested-self.docx",
        _zip({**members, "word/document.xml": docx_bytes}))
    add(".docx without word/document.xml", "fuzz-missing-doc.docx",
        _zip({k: v for k, v in members.items() if k != "word/document.xml"}))
    add(".docx without [Content_Types].xml", "fuzz-missing-ct.docx",
        _zip({k: v for k, v in members.items() if k != "[Content_Types].xml"}))

    # .docx with garbage XML members.
    targets = ["word/document.xml", "[Content_Types].xml", "_rels/.rels", "word/_rels/document.xml.rels",
               "docProps/core.xml", "word/styles.xml"]
    for i in range(9):
        n = len(cases)
        rng = rng_for(n)
        member = targets[i % len(targets)] if i < len(targets) else rng.choice(targets)
        kind, garbage = _garbage_xml(rng)
        add(f".docx with {member} replaced by garbage ({kind})", f"fuzz-xml-{n}.docx", _zip({**members, member: garbage}))

    # Short texts in other encodings (the server reads UTF-8 and GB18030).
    texts = {"zh": "星河云推出了银河大模型。芯片叫做星核一号。", "zh-hant": "星河雲推出了銀河大模型。晶片叫做星核一號。",
             "ja": "星河クラウドは銀河モデルを発表した。", "latin": "Café crème: naïve façade, 50 £ per month.",
             "en": "Galaxy Cloud launched the Milky Way model."}
    encodings = [("utf-8", "zh"), ("utf-16", "zh"), ("utf-16-le", "zh"), ("gb18030", "zh"), ("big5", "zh-hant"),
                 ("shift_jis", "ja"), ("cp1252", "latin"), ("utf-32", "zh"), ("utf-32-le", "en")]
    for i, (encoding, lang) in enumerate(encodings):
        suffix = (".txt", ".md", ".html")[i % 3]
        text = texts[lang] if suffix != ".html" else f"<html><head><title>t{i}</title></head><body><p>{texts[lang]}</p></body></html>"
        add(f"{lang} text encoded as {encoding} in {suffix}", f"fuzz-enc-{i}{suffix}", text.encode(encoding),
            expect="2xx" if encoding == "utf-8" else None)

    # Random file names on one small valid text (the name is what is tested; the same text
    # every time, so its vectors come from the embedding cache after the first).
    for kind in NAME_KINDS:
        rng = rng_for(len(cases))
        add(f"random file name of kind {kind!r}", _random_name(rng, rng.choice(SUFFIXES[:3]), kind), SHORT_TEXT.encode())
    for filename, kind in (("!!!.txt", "punctuation only"), ("---.md", "dashes only"), ("😀😀.txt", "emoji only"),
                           (".txt", "suffix only"), ("", "empty"), ("noext", "no suffix"), ("a.txt\x00.pdf", "NUL hiding .txt")):
        add(f"file name {kind}", filename, SHORT_TEXT.encode())
    add("no filename (a plain form field)", None, SHORT_TEXT.encode())
    # Odd form fields beside a valid file.
    add("title field of controls and combining marks", f"fuzz-title-{seed}.txt", SHORT_TEXT.encode(),
        extra=[("title", None, "\x01\x02\u0301\u0301\x85title\x7f".encode())])
    add("title field of invalid UTF-8", f"fuzz-title2-{seed}.txt", SHORT_TEXT.encode(), extra=[("title", None, b"\xff\xfe\xed\xa0\x80")])
    add("doc_id field of emoji", f"fuzz-docid-{seed}.txt", SHORT_TEXT.encode(), extra=[("doc_id", None, "😀😀".encode())])
    return cases


# ---------------------------------------------------------------------------------------------
# The server


def start_server(index_dir, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 - closed by the caller
    try:
        proc, url = serve_process(index_dir, {"CITEQA_ADMIN_KEY": ADMIN, "CITEQA_RATE_LIMIT_READS": "0",
                                              "CITEQA_RATE_LIMIT_WRITES": "0"}, log=log)
    except AssertionError:
        log.close()
        raise AssertionError(f"the server did not become ready:\n{log_path.read_text(errors='replace')[-3000:]}") from None
    return proc, url, log


def exceptions_in_log(text: str) -> Counter:
    """The last line of every traceback the server logged: what to fix."""
    found: Counter = Counter()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
                j += 1
            if j < len(lines):
                found[lines[j][:200]] += 1
    return found


def test_fuzz_questions_and_uploads_never_break_the_server(corpus_settings, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    log_path = tmp_path / "server.log"
    started = time.monotonic()
    proc, url, log = start_server(index_dir, log_path)
    startup = time.monotonic() - started
    questions, uploads = Tally(), Tally()
    accepted: list[str] = []
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            before = {d["doc_id"] for d in client.get("/v1/documents").json()["documents"]}

            # Phase 1: questions.
            q_cases = [question_case(QUESTION_SEED, n) for n in range(N_QUESTION_CASES)]
            q_cases += raw_cases(QUESTION_SEED, N_QUESTION_CASES)
            for case in q_cases:
                send(client, case, questions)
                if proc.poll() is not None:
                    questions.fail("died", case, f"the server process exited with {proc.returncode}")
                    break
            q_time = time.monotonic() - started - startup

            # Phase 2: uploads; an accepted one must be listed, then it is deleted.
            for case in upload_cases(UPLOAD_SEED) if proc.poll() is None else []:
                response = send(client, case, uploads)
                if proc.poll() is not None:
                    uploads.fail("died", case, f"the server process exited with {proc.returncode}")
                    break
                if response is None or not 200 <= response.status_code < 300:
                    continue
                doc_id = response.json().get("document", {}).get("doc_id")
                accepted.append(f"{case.n}:{doc_id!a}")
                listed = {d["doc_id"] for d in client.get("/v1/documents").json()["documents"]}
                if doc_id not in listed:
                    uploads.fail(response.status_code, case, f"accepted as {doc_id!a} but not listed in GET /v1/documents")
                    continue
                if doc_id in before:
                    uploads.fail(response.status_code, case, f"replaced the corpus document {doc_id!a}")
                    continue
                delete = Case(case.seed, case.n, f"delete of {doc_id!a}", "DELETE", f"/v1/documents/{quote(doc_id, safe='')}",
                              headers={"Authorization": f"Bearer {ADMIN}"})
                send(client, delete, uploads)
            if len(accepted) > ACCEPTED_UPLOADS_BUDGET + 5:
                print(f"note: {len(accepted)} uploads were accepted; the fuzz cases should keep this near {ACCEPTED_UPLOADS_BUDGET}")

            # The end: alive, healthy, ready, and no fuzz document left behind.
            end = Tally()
            final = Case(0, 0, "final health check", "GET", "/healthz")
            alive = proc.poll() is None
            health = send(client, final, end) if alive else None
            ready = send(client, Case(0, 0, "final readiness check", "GET", "/readyz"), end) if alive else None
            left = set()
            if alive and ready is not None and ready.status_code == 200:
                left = {d["doc_id"] for d in client.get("/v1/documents").json()["documents"]} - before
    finally:
        proc.kill()
        proc.wait()
        log.close()

    elapsed = time.monotonic() - started
    server_log = log_path.read_text(errors="replace")
    print(f"\nfuzz: seeds questions={QUESTION_SEED} uploads={UPLOAD_SEED}; {elapsed:.0f}s "
          f"(server start {startup:.0f}s, questions {q_time:.0f}s, uploads {elapsed - startup - q_time:.0f}s)")
    for name, tally in (("questions", questions), ("uploads", uploads)):
        print(f"  {name}: {tally.sent} requests; by status {dict(sorted(tally.statuses.items(), key=str))}; "
              f"by endpoint {dict(tally.by_endpoint)}\n    time by status: {tally.time_by_status()}\n"
              f"    slowest: {tally.slowest()}")
        if tally.retried:
            print(f"    {len(tally.retried)} requests lost their connection once (the server closed it after the "
                  f"previous error?) and were retried: " + "; ".join(tally.retried[:5]) + ("; ..." if len(tally.retried) > 5 else ""))
    print(f"  accepted uploads ({len(accepted)}): {', '.join(accepted)}")
    tracebacks = exceptions_in_log(server_log)
    if tracebacks:
        print("  exceptions in the server log:\n" + "\n".join(f"    {n}x {line}" for line, n in tracebacks.most_common()))

    failures = questions.failures + uploads.failures + end.failures
    if not alive:
        failures.append(f"the server process died (exit {proc.returncode}); log tail:\n{server_log[-2000:]}")
    elif health is None or health.status_code != 200:
        failures.append(f"/healthz did not answer 200 at the end: {health.status_code if health is not None else 'no response'}")
    if left:
        failures.append(f"fuzz documents left in the index after their deletes: {sorted(ascii(d) for d in left)}")
    for line in failures:
        print("  FAIL " + line)
    assert not failures, (f"{len(failures)} fuzz failures (seeds {QUESTION_SEED}/{UPLOAD_SEED}):\n" + "\n".join(failures)
                          + ("\nexceptions in the server log:\n" + "\n".join(f"  {n}x {l}" for l, n in tracebacks.most_common())
                             if tracebacks else ""))
