"""Generative mode on question sets, beside extractive mode: answers, verifier and speed.

    python -m evals.generative --set evals/sets/heldout.jsonl --set evals/sets/related.jsonl \\
        --llm-url http://127.0.0.1:8081/v1 --out var/reports/gen

Each question is answered both ways by the same pipeline. For generative answers every
sentence the LLM wrote is kept with the verifier's verdict, so the verifier can be judged
against hand labels (``--label-sample N`` writes a sample to label) and its threshold swept
offline (``--record`` turns the closeness check off and records each sentence's cosine).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from evals.metrics import answer_correct, in_question_language, mean, percentile
from evals.questions import Question, load_set
from service.config import Settings
from service.qa.generative import Generation
from service.qa.pipeline import QAPipeline


@dataclass
class Outcome:
    answered: bool
    correct: bool
    answer: str
    mode: str
    fallback: str | None
    total_ms: float


@dataclass
class GenResult:
    id: str
    set: str
    lang: str
    question: str
    expected_answerable: bool
    keywords: list[list[str]]
    extractive: Outcome
    generative: Outcome
    sentences: list[dict] = field(default_factory=list)  # text, ok, check, reason, cosine, cited, recited, support
    sources: dict[int, str] = field(default_factory=dict)  # what the LLM was shown, by [n]
    first_token_s: float | None = None
    first_verified_ms: float | None = None
    prompt_chars: int = 0
    server: dict | None = None


def outcome(q: Question, reply) -> Outcome:
    correct = (reply.answerable and answer_correct(reply.answer, q.answer_keywords)) if q.answerable else not reply.answerable
    return Outcome(reply.answerable, bool(correct), reply.answer, reply.mode, reply.fallback, reply.timings_ms["total"])


def run(pipeline: QAPipeline, index, questions: list[tuple[str, Question]], progress: bool = True) -> list[GenResult]:
    out = []
    for i, (set_name, q) in enumerate(questions, 1):
        history = [(t.role, t.content) for t in q.history]
        extractive = pipeline.ask(index, q.question, history, 5, "extractive")
        generation = Generation()
        reply, _ = pipeline.ask_with_assessment(index, q.question, history, 5, "generative", generation)
        result = GenResult(q.id, set_name, q.lang, q.question, q.answerable, q.answer_keywords, outcome(q, extractive),
                           outcome(q, reply), first_token_s=generation.stats.first_token_s,
                           first_verified_ms=reply.timings_ms.get("first_sentence"), prompt_chars=generation.stats.prompt_chars,
                           server=generation.stats.server, sources=dict(generation.sources))
        for v in generation.verdicts:
            result.sentences.append({"text": v.text, "ok": v.ok, "check": v.check, "reason": v.reason,
                                     "cosine": round(v.cosine, 4), "cited": v.cited, "recited": v.recited,
                                     "support": [s.text for s in v.support]})
        out.append(result)
        if progress:
            print(f"[{i}/{len(questions)}] {q.id} gen={result.generative.mode}/{result.generative.fallback} "
                  f"correct={result.generative.correct} ext={result.extractive.correct} "
                  f"{result.generative.total_ms / 1000:.1f}s", file=sys.stderr, flush=True)
    return out


def summary(results: list[GenResult], which: str) -> dict[str, float | int | None]:
    outcomes = [getattr(r, which) for r in results]
    answerable = [(r, o) for r, o in zip(results, outcomes) if r.expected_answerable]
    unanswerable = [(r, o) for r, o in zip(results, outcomes) if not r.expected_answerable]
    shown = [(r, o) for r, o in zip(results, outcomes) if o.answered]
    row: dict[str, float | int | None] = {
        "questions": len(results),
        "correct": mean([1.0 if o.correct else 0.0 for o in outcomes]),
        "refusal_accuracy": mean([0.0 if o.answered else 1.0 for _, o in unanswerable]),
        "false_refusals": mean([0.0 if o.answered else 1.0 for _, o in answerable]),
        "wrong_shown": mean([1.0 if o.answered and (not r.expected_answerable or not o.correct) else 0.0
                             for r, o in zip(results, outcomes)]),
        "in_language": mean([1.0 if in_question_language(o.answer, r.lang) else 0.0 for r, o in shown]),
        "done_p50_ms": percentile([o.total_ms for o in outcomes], 50),
        "done_p95_ms": percentile([o.total_ms for o in outcomes], 95),
    }
    if which == "generative":
        written = [s for r in results for s in r.sentences]
        generated = [r for r in results if r.generative.mode == "generative"]
        asked_llm = [r for r in results if r.first_token_s is not None or r.sentences or
                     (r.generative.fallback not in (None, "not_answerable", "llm_not_configured"))]
        firsts = [r.first_verified_ms for r in results if r.first_verified_ms is not None]
        servers = [r.server for r in results if r.server]
        row |= {
            "sent_to_llm": len(asked_llm),
            "answered_generatively": len(generated),
            "sentences": len(written),
            "verified": sum(s["ok"] for s in written),
            "dropped": sum(not s["ok"] for s in written),
            **{f"dropped_{c}": sum(1 for s in written if not s["ok"] and s["check"] == c)
               for c in ("language", "entity", "figure", "binding", "meaning")},
            "recited": sum(1 for s in written if s["ok"] and s["recited"]),
            "first_verified_p50_ms": percentile(firsts, 50) if firsts else None,
            "first_verified_p95_ms": percentile(firsts, 95) if firsts else None,
            "first_token_p50_ms": percentile([r.first_token_s * 1000 for r in asked_llm if r.first_token_s], 50)
            if any(r.first_token_s for r in asked_llm) else None,
            "prompt_chars_mean": mean([r.prompt_chars for r in asked_llm if r.prompt_chars]),
            "prompt_tokens_mean": mean([s.get("prompt_n", 0) for s in servers]) if servers else None,
            "prompt_tokens_per_s": mean([s.get("prompt_per_second", 0) for s in servers]) if servers else None,
            "output_tokens_per_s": mean([s.get("predicted_per_second", 0) for s in servers]) if servers else None,
        }
        for reason in sorted({r.generative.fallback for r in results if r.generative.fallback}):
            row[f"fallback_{reason}"] = sum(1 for r in results if r.generative.fallback == reason)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", dest="sets", type=Path, action="append", required=True)
    parser.add_argument("--llm-url", help="default CITEQA_LLM_BASE_URL")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.jsonl and summary.json")
    parser.add_argument("--record", action="store_true", help="turn the closeness check off (record cosines for a sweep)")
    parser.add_argument("--cold", action="store_true", help="ask the llama.cpp server not to reuse its prompt cache")
    parser.add_argument("--grammar", action="store_true", help="force 'sentence [n]' with a llama.cpp grammar")
    parser.add_argument("--limit", type=int, help="only the first N questions of each set")
    parser.add_argument("--label-sample", type=int, default=0, help="write N random generated sentences to label")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.llm_url:
        settings = settings.model_copy(update={"llm_base_url": args.llm_url})
    if args.record:
        settings = settings.model_copy(update={"verify_min_cosine": -1.0})
    settings = settings.model_copy(update={"llm_grammar": args.grammar or settings.llm_grammar})
    from index.store import load_index

    index = load_index(settings.index_dir)
    params = settings.pipeline_params()
    writer = settings.writer()
    if writer is None:
        parser.error("no LLM: give --llm-url or CITEQA_LLM_BASE_URL")
    if args.cold:
        writer.params = replace(writer.params, prompt_cache=False)
    pipeline = QAPipeline(settings.embedder(serving=True), params, writer)
    pipeline.ask(index, "warm up?", mode="extractive")
    questions = [(path.stem, q) for path in args.sets for q in load_set(path)[: args.limit]]
    started = time.perf_counter()
    results = run(pipeline, index, questions)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    report = {"sets": [str(p) for p in args.sets], "seconds": round(time.perf_counter() - started, 1),
              "record": args.record, "cold": args.cold, "grammar": settings.llm_grammar,
              "min_cosine": settings.verify_min_cosine,
              "extractive": summary(results, "extractive"), "generative": summary(results, "generative")}
    (args.out / "summary.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if args.label_sample:
        written = [dict(s, question=r.question, id=r.id, sources=r.sources) for r in results for s in r.sentences]
        sample = random.Random(0).sample(written, min(args.label_sample, len(written)))
        with (args.out / "label-sample.jsonl").open("w", encoding="utf-8") as fh:
            for s in sample:
                fh.write(json.dumps(s, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
