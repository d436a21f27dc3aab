"""SIGKILL the server at random points of N document writes; after each restart the store and
the index must agree and no acknowledged write may be lost.

    python -m evals.bench crash                                   # var/index, 20 rounds, seed 0
    python -m evals.bench crash --index-dir var/index --rounds 20 --seed 1 --json crash.json
    python -m evals.bench crash --rounds 5 --max-delay 2.5

The prebuilt index (--index-dir) is copied to a temporary folder. Each round starts a
`citeqa serve` process on the copy, begins one write in a thread and SIGKILLs the server
after a delay drawn from random.Random(--seed) in [0, D]; D (--max-delay) defaults to the
duration of one upload, measured on the first round's server before its write. The write
of round n (counted from 1) is a new document of --passages passages (varied text), every
--replace-every'th round a new text for an earlier acknowledged id (a replacement), and
every --delete-every'th round a DELETE of an earlier acknowledged id. Whether the client got
a 2xx before the kill is recorded.

The next round's server (and one more after the last round) then checks, before anything
else touches the index:
  - agreement: the ids the server lists are the corpus ids plus those of <index>/uploads/*.json,
    and /readyz counts the same documents and passages (evals.bench.writes.check_agreement;
    the indexed text must also be the text of the stored upload);
  - every document whose last acknowledged write was an upload is listed, with that write's
    text (or the text of a later write that got no reply: it may or may not have happened);
    every id whose last acknowledged write was a DELETE is absent, unless a later
    unacknowledged upload of it took effect;
  - <index>/versions/ holds only published versions (no .tmp-* or other leftovers);
    dot-files left in uploads/ are reported, not counted;
  - POST /v1/ask answers 200.
A write that got a reply other than 2xx, an ask that is not 200 or a server that does not
start is an error. Servers run with CITEQA_EMBEDDING_CACHE=off (writes must embed, so the
kill can land inside the model's work, and a killed process must not write the user's
shared embedding cache) and no rate limits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from evals.bench.machine import machine_info, machine_line
from evals.bench.serve import REPO, ServerNotReady, auth_headers, running_server
from evals.bench.writes import (DEFAULT_CORPUS, DEFAULT_INDEX, Agreement, _range, check_agreement, copy_index,
                                corpus_doc_ids, fmt, now_iso, passage_chars, server_env, stored_uploads,
                                temp_leftovers, varied_text)
from evals.metrics import percentile

ASK = "微软Azure走的是哪种路线？"
ABSENT = ("absent", None)


@dataclass
class Write:
    round: int  # -1: the warm-up upload
    kind: str  # "upload", "replace" or "delete"
    doc_id: str
    marker: str | None  # a string only this write's text holds (None for a delete)
    status: int | str | None = None  # the HTTP status, or the exception's name
    ms: float | None = None  # until the reply (or the exception)

    @property
    def acked(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """A reply that is not 2xx: the server says it did not happen."""
        return isinstance(self.status, int) and not self.acked

    @property
    def state(self) -> tuple[str, str | None]:
        return ABSENT if self.kind == "delete" else ("present", self.marker)


@dataclass
class Check:
    """What a restarted server showed."""

    ready_s: float | None = None
    agreement: Agreement | None = None
    lost: list[str] = field(default_factory=list)  # an acknowledged upload that is missing or has older text
    resurrected: list[str] = field(default_factory=list)  # an acknowledged delete that is listed again
    unknown: list[str] = field(default_factory=list)  # listed, but its content could not be matched to a write
    leftovers: dict[str, list[str]] = field(default_factory=dict)
    observed: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # doc id -> ("present", marker) or ABSENT
    ask_status: int | str | None = None

    @property
    def ok(self) -> bool:
        return (self.agreement is not None and self.agreement.ok and not self.agreement.content_problems
                and not self.lost and not self.resurrected and not self.leftovers.get("versions")
                and self.ask_status == 200)


@dataclass
class Round:
    round: int
    write: Write
    delay_s: float
    passages: int | None = None
    after: Check | None = None  # the next server's check

    @property
    def acked(self) -> bool:
        return self.write.acked

    @property
    def took_effect(self) -> bool | None:
        """Whether the restarted server shows this round's write (None when that is unknown)."""
        if self.after is None or self.write.doc_id not in self.after.observed:
            return None
        return self.after.observed[self.write.doc_id] == self.write.state


@dataclass
class CrashResult:
    started_at: str
    finished_at: str | None
    machine: dict
    index_dir: str
    seed: int
    rounds_requested: int
    max_delay_s: float | None = None
    warmup_upload_s: float | None = None
    baseline: Check | None = None  # the first server, before any write
    rounds: list[Round] = field(default_factory=list)
    server_ready_s: list[float] = field(default_factory=list)
    error: str | None = None  # a server did not start; the run stopped there

    @property
    def errors(self) -> int:
        """Writes refused with a non-2xx reply, asks after a restart that were not 200, a failed run."""
        checks = [c for c in [self.baseline, *(r.after for r in self.rounds)] if c is not None]
        return (sum(r.write.refused for r in self.rounds) + sum(c.ask_status != 200 for c in checks)
                + (1 if self.error else 0))

    @property
    def agreement_failures(self) -> list[int]:
        return [r.round for r in self.rounds if r.after is None or r.after.agreement is None or not r.after.agreement.ok
                or r.after.agreement.content_problems]

    @property
    def lost(self) -> list[str]:
        return sorted({d for r in self.rounds if r.after for d in r.after.lost})

    @property
    def resurrected(self) -> list[str]:
        return sorted({d for r in self.rounds if r.after for d in r.after.resurrected})

    @property
    def leftover_rounds(self) -> list[int]:
        return [r.round for r in self.rounds if r.after and r.after.leftovers.get("versions")]

    @property
    def ok(self) -> bool:
        return (self.errors == 0 and len(self.rounds) == self.rounds_requested and not self.agreement_failures
                and not self.lost and not self.resurrected and not self.leftover_rounds
                and all(r.after is not None and r.after.ok for r in self.rounds))

    def to_dict(self) -> dict:
        data = asdict(self)
        for row, x in zip(data["rounds"], self.rounds):
            row["write"]["acked"] = x.acked
            row["took_effect"] = x.took_effect
        return data | {"errors": self.errors, "agreement_failures": self.agreement_failures, "lost": self.lost,
                               "resurrected": self.resurrected, "leftover_rounds": self.leftover_rounds, "ok": self.ok}


class Ledger:
    """Every write sent, in order, per doc id; what the store may hold after a crash."""

    def __init__(self) -> None:
        self.writes: dict[str, list[Write]] = {}

    def add(self, write: Write) -> None:
        self.writes.setdefault(write.doc_id, []).append(write)

    def acceptable(self, doc_id: str) -> tuple[tuple[str, str | None], set[tuple[str, str | None]]]:
        """(the state of the last acknowledged write, every state the store may be in).

        After the last acknowledged write, writes that got no reply may or may not have
        happened; writes refused with a non-2xx reply did not."""
        writes = self.writes[doc_id]
        acked = [i for i, w in enumerate(writes) if w.acked]
        base = writes[acked[-1]].state if acked else ABSENT
        later = writes[acked[-1] + 1:] if acked else writes
        return base, {base} | {w.state for w in later if not w.acked and not w.refused}

    def certainly_present(self) -> list[str]:
        """Ids present whichever of the writes that got no reply happened (targets of a DELETE)."""
        return sorted(d for d in self.writes if all(state[0] == "present" for state in self.acceptable(d)[1]))

    def judge(self, listed: set[str], uploads: dict[str, dict], check: Check) -> None:
        for doc_id, writes in self.writes.items():
            base, allowed = self.acceptable(doc_id)
            if doc_id in listed:
                text = (uploads.get(doc_id) or {}).get("text", "")
                markers = [w.marker for w in writes if w.marker and w.marker in text]
                if not markers:
                    check.unknown.append(doc_id)  # no upload file (a disagreement), or text of no write of ours
                    continue
                observed = ("present", markers[-1])
            else:
                observed = ABSENT
            check.observed[doc_id] = observed
            if observed in allowed:
                continue
            if base == ABSENT and any(w.acked and w.kind == "delete" for w in writes):
                check.resurrected.append(doc_id)
            else:
                check.lost.append(doc_id)


def check_server(server, index_dir: Path, corpus_ids: set[str], ledger: Ledger, headers: dict[str, str] | None) -> Check:
    check = Check(ready_s=round(server.ready_s, 2), leftovers=temp_leftovers(index_dir))
    check.agreement = check_agreement(server.url, index_dir, corpus_ids, headers)
    listing = httpx.get(server.url + "/v1/documents", headers=headers, timeout=30)
    listed = {d["doc_id"] for d in listing.json()["documents"]} if listing.status_code == 200 else set()
    uploads, _ = stored_uploads(index_dir)
    ledger.judge(listed, uploads, check)
    try:
        check.ask_status = httpx.post(server.url + "/v1/ask", json={"question": ASK}, headers=headers,
                                      timeout=120).status_code
    except httpx.HTTPError as exc:
        check.ask_status = type(exc).__name__
    return check


def send(url: str, admin_key: str, write: Write, body: dict | None, timeout: float = 600) -> None:
    """One write; fills in ``write.status`` and ``write.ms``."""
    auth = {"Authorization": f"Bearer {admin_key}"}
    t0 = time.perf_counter()
    try:
        if write.kind == "delete":
            write.status = httpx.delete(f"{url}/v1/documents/{write.doc_id}", headers=auth, timeout=timeout).status_code
        else:
            write.status = httpx.post(f"{url}/v1/documents", json=body, headers=auth, timeout=timeout).status_code
    except httpx.HTTPError as exc:
        write.status = type(exc).__name__
    write.ms = round((time.perf_counter() - t0) * 1000, 1)


def plan_write(n: int, rng: random.Random, ledger: Ledger, replace_every: int, delete_every: int) -> tuple[str, str]:
    """(kind, doc_id) of round ``n`` (counted from 1)."""
    present = [d for d in ledger.certainly_present() if d.startswith("crash-")]
    if delete_every and n % delete_every == 0 and present:
        return "delete", rng.choice(present)
    if replace_every and n % replace_every == 0 and present:
        return "replace", rng.choice(present)
    return "upload", f"crash-{n:03d}"


def make_body(rng: random.Random, index_dir: Path, write: Write, passages: tuple[int, int]) -> tuple[dict, int]:
    want = rng.randint(*passages)
    text = varied_text(rng, passage_chars(index_dir, want), write.marker)
    return {"title": f"崩溃测试 {write.doc_id}", "text": text, "doc_id": write.doc_id, "source": "evals.bench.crash"}, want


def run_crash(index_dir: Path, *, corpus_dir: Path = DEFAULT_CORPUS, rounds: int = 20, seed: int = 0,
              max_delay: float | None = None, passages: tuple[int, int] = (3, 8), replace_every: int = 4,
              delete_every: int = 5, ready_timeout: float = 300, extra_env: dict[str, str] | None = None,
              workdir: Path | None = None, log=None) -> CrashResult:
    """``rounds`` writes, each cut by a SIGKILL after a random delay; ``index_dir`` is copied, never written."""
    log = log or (lambda msg: None)
    index_dir, corpus_dir = Path(index_dir).resolve(), Path(corpus_dir).resolve()
    rng = random.Random(seed)
    result = CrashResult(now_iso(), None, machine_info(), str(index_dir), seed, rounds, max_delay)
    ledger = Ledger()
    with tempfile.TemporaryDirectory(prefix="citeqa-bench-crash-", dir=workdir) as tmp:
        work = Path(tmp)
        index = copy_index(index_dir, work / "index")
        corpus = corpus_doc_ids(corpus_dir)
        admin = secrets.token_hex(16)
        env = server_env(index, corpus_dir, admin, extra_env)
        headers = auth_headers(env)
        try:
            for i in range(rounds + 1):  # the last server only checks
                with running_server(f"r{i}", env, work, ready_timeout) as server:
                    result.server_ready_s.append(round(server.ready_s, 2))
                    check = check_server(server, index, corpus, ledger, headers)
                    if i == 0:
                        result.baseline = check
                        log(f"baseline: ready in {server.ready_s:.1f} s, {check.agreement.summary()}")
                    else:
                        result.rounds[-1].after = check
                        log(_round_line(result.rounds[-1]))
                    if i == rounds:
                        break
                    if i == 0:
                        warm = Write(-1, "upload", "crash-000", f"k000x{rng.randrange(16**6):06x}")
                        body, _ = make_body(rng, index, warm, passages)
                        send(server.url, admin, warm, body)
                        ledger.add(warm)
                        result.warmup_upload_s = round(warm.ms / 1000, 3)
                        if not warm.acked:
                            raise RuntimeError(f"the warm-up upload failed: {warm.status}")
                        if result.max_delay_s is None:
                            result.max_delay_s = result.warmup_upload_s
                        log(f"warm-up upload: {warm.ms:.0f} ms; kills fall in [0, {result.max_delay_s:.2f}] s")
                    n = i + 1
                    kind, doc_id = plan_write(n, rng, ledger, replace_every, delete_every)
                    write = Write(n, kind, doc_id, None if kind == "delete" else f"k{n:03d}x{rng.randrange(16**6):06x}")
                    body, want = make_body(rng, index, write, passages) if kind != "delete" else (None, None)
                    delay = rng.uniform(0, result.max_delay_s)
                    thread = threading.Thread(target=send, args=(server.url, admin, write, body), daemon=True)
                    t0 = time.perf_counter()
                    thread.start()
                    time.sleep(max(0.0, t0 + delay - time.perf_counter()))
                    server.proc.kill()
                    server.proc.wait()
                    thread.join(60)
                    ledger.add(write)
                    result.rounds.append(Round(n, write, round(delay, 3), want))
        except (ServerNotReady, RuntimeError, httpx.HTTPError, OSError) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
            log(f"FAILED: {result.error}")
    result.finished_at = now_iso()
    return result


# --- output -------------------------------------------------------------------------------

def _round_line(r: Round) -> str:
    c = r.after
    text = (f"round {r.round}: {r.write.kind} {r.write.doc_id}, kill after {r.delay_s:.2f} s, "
            f"{'acknowledged' if r.acked else 'no reply' if not r.write.refused else 'refused'} ({r.write.status})")
    if c is None:
        return text
    return (text + f"; restart {fmt(c.ready_s)} s, agreement {'ok' if c.agreement and c.agreement.ok else 'NO'}"
            + (f", lost {c.lost}" if c.lost else "") + (f", resurrected {c.resurrected}" if c.resurrected else "")
            + (f", leftovers {c.leftovers['versions']}" if c.leftovers.get("versions") else "")
            + (f", ask {c.ask_status}" if c.ask_status != 200 else ""))


def table(r: CrashResult) -> str:
    lines = [machine_line(r.machine),
             f"index: {r.index_dir} (copied); seed {r.seed}; {len(r.rounds)}/{r.rounds_requested} rounds; "
             f"kills in [0, {fmt(r.max_delay_s, 2)}] s (one warm-up upload took {fmt(r.warmup_upload_s, 2)} s); "
             f"started {r.started_at}, finished {r.finished_at}",
             f"server restarts: {len(r.server_ready_s)}, spawn to ready median {fmt(percentile(r.server_ready_s, 50))} s, "
             f"max {fmt(max(r.server_ready_s) if r.server_ready_s else None)} s"]
    if r.baseline is not None and r.baseline.agreement is not None:
        lines.append(f"before any write: {r.baseline.agreement.summary()}")
    lines += ["", "| round | write | doc_id | kill after s | reply | acknowledged | took effect | agreement | lost | resurrected | "
                  "versions/ leftovers | uploads/ dot-files | ask |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in r.rounds:
        c = x.after
        if c is None:
            cells = ["-"] * 6
        else:
            agree = "ok" if c.agreement and c.agreement.ok and not c.agreement.content_problems else "NO"
            cells = [agree, ", ".join(c.lost) or "-", ", ".join(c.resurrected) or "-",
                     ", ".join(c.leftovers.get("versions", [])) or "-", str(len(c.leftovers.get("uploads", []))),
                     str(c.ask_status)]
        lines.append(f"| {x.round} | {x.write.kind} | {x.write.doc_id} | {x.delay_s:.2f} | {x.write.status} | "
                     f"{'yes' if x.acked else 'no'} | {_yes_no(x.took_effect)} | " + " | ".join(cells) + " |")
    acked = sum(x.acked for x in r.rounds)
    applied = sum(bool(x.took_effect) for x in r.rounds if not x.acked)
    lines += ["", f"totals: {len(r.rounds)} rounds, {acked} acknowledged, {len(r.rounds) - acked} cut off "
                  f"({applied} of those took effect); "
                  f"agreement failed after rounds {r.agreement_failures or 'none'}; lost {r.lost or 'none'}; "
                  f"resurrected {r.resurrected or 'none'}; versions/ leftovers after rounds {r.leftover_rounds or 'none'}; "
                  f"errors {r.errors}"]
    seen: set[str] = set()
    for x in r.rounds:
        c = x.after
        if c and c.agreement and (not c.agreement.ok or c.agreement.content_problems):
            text = c.agreement.summary()
            if text not in seen:
                seen.add(text)
                lines.append(f"after round {x.round}: {text}")
        if c and c.unknown:
            lines.append(f"after round {x.round}: listed with text of no known write: {c.unknown}")
    if r.error:
        lines.append(f"FAILED: {r.error}")
    lines.append("result: " + ("ok" if r.ok else "FAILED"))
    return "\n".join(lines)


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "no"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench crash", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=Path(os.environ.get("CITEQA_INDEX_DIR", DEFAULT_INDEX)),
                        help="the prebuilt index to copy (default CITEQA_INDEX_DIR or var/index)")
    parser.add_argument("--corpus-dir", type=Path, default=Path(os.environ.get("CITEQA_CORPUS_DIR", REPO / DEFAULT_CORPUS)),
                        help="the corpus folder the index was built from (default CITEQA_CORPUS_DIR or corpus)")
    parser.add_argument("--rounds", type=int, default=20, metavar="N", help="writes cut by a SIGKILL")
    parser.add_argument("--seed", type=int, default=0, help="random.Random seed for delays, texts and targets")
    parser.add_argument("--max-delay", type=float, metavar="D", help="kills fall in [0, D] s (default: one upload's duration)")
    parser.add_argument("--passages", type=_range, default=(3, 8), metavar="LO-HI", help="passages per uploaded document")
    parser.add_argument("--replace-every", type=int, default=4, metavar="K", help="every K-th round replaces an earlier document")
    parser.add_argument("--delete-every", type=int, default=5, metavar="K", help="every K-th round deletes an earlier document")
    parser.add_argument("--ready-timeout", type=float, default=300, metavar="S")
    parser.add_argument("--json", type=Path, help="also write everything here")
    args = parser.parse_args(argv)
    if args.rounds < 1 or (args.max_delay is not None and args.max_delay < 0):
        parser.error("--rounds must be >= 1 and --max-delay >= 0")
    index_dir = args.index_dir if args.index_dir.is_absolute() else REPO / args.index_dir
    if not (index_dir / "CURRENT").is_file():
        parser.error(f"no index at {index_dir}: build one with CITEQA_INDEX_DIR={index_dir} python -m service.cli ingest")
    say = lambda msg: print(f"[crash] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    try:
        result = run_crash(index_dir, corpus_dir=args.corpus_dir, rounds=args.rounds, seed=args.seed,
                           max_delay=args.max_delay, passages=args.passages, replace_every=args.replace_every,
                           delete_every=args.delete_every, ready_timeout=args.ready_timeout, log=say)
    except KeyboardInterrupt:  # the servers are already stopped
        print("interrupted", file=sys.stderr)
        return 130
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
