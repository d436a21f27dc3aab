"""Grid search of answer and refusal settings on the tuning split (never the held-out one).

    python -m evals.tune --set evals/sets/dev.jsonl

Query vectors are computed once per distinct question, so a grid costs little more than
one evaluation. Prints one row per setting, best first by the mean of answer
correctness over answerable questions, refusal accuracy and 1 - false-refusal rate.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from evals.questions import load_set
from evals.runner import run_questions, summarize
from evals.targets import LocalTarget
from index.embedder import Embedder
from index.store import load_index
from service.config import Settings
from service.qa.pipeline import QAPipeline


class CachedEmbedder:
    """An Embedder whose query vectors are memoised (only for grid searches)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._cache: dict[str, np.ndarray] = {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for text, vector in zip(missing, self._embedder.embed_queries(missing)):
                self._cache[text] = vector
        return np.stack([self._cache[t] for t in texts])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, action="append", required=True, help="a tuning set (repeatable)")
    parser.add_argument("--min-cosine", type=float, nargs="+", default=[0.35, 0.40, 0.45])
    parser.add_argument("--max-sentences", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--margin", type=float, nargs="+", default=[0.03, 0.05, 0.08])
    parser.add_argument("--lexical-weight", type=float, nargs="+", default=[0.2])
    parser.add_argument("--sentence-weight", type=float, nargs="+", default=[0.5])
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    if any("heldout" in p.name or p.name == "related.jsonl" for p in args.set):
        print("refusing to tune on a held-out or reporting split", file=sys.stderr)
        return 2

    settings = Settings()
    index = load_index(settings.index_dir)
    embedder = CachedEmbedder(settings.embedder())
    questions = [q for path in args.set for q in load_set(path)]
    base = settings.pipeline_params()
    rows = []
    grid = itertools.product(args.min_cosine, args.max_sentences, args.margin, args.lexical_weight, args.sentence_weight)
    for min_cos, max_sent, margin, lex_w, sent_w in grid:
        params = replace(base, min_sentence_cosine=min_cos,
                         answer=replace(base.answer, max_sentences=max_sent, sentence_margin=margin),
                         retrieval=replace(base.retrieval, lexical_weight=lex_w, sentence_weight=sent_w))
        results = run_questions(questions, LocalTarget(QAPipeline(embedder, params), index), progress=False)
        s = summarize(results)
        score = (s["answer_correct_answerable"] + s["refusal_accuracy"] + 1 - s["false_refusal_rate"]) / 3
        rows.append((score, min_cos, max_sent, margin, lex_w, sent_w, s))
    rows.sort(key=lambda r: -r[0])
    print("| score | min cos | max sent | margin | lex w | sent w | R@5 | MRR@10 | correct (ans.) | cite prec. | refusal acc. | false ref. |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for score, min_cos, max_sent, margin, lex_w, sent_w, s in rows[: args.top]:
        print(f"| {score:.3f} | {min_cos} | {max_sent} | {margin} | {lex_w} | {sent_w} | {s['recall@5']:.3f} | {s['mrr@10']:.3f} | "
              f"{s['answer_correct_answerable']:.3f} | {s['citation_precision']:.3f} | {s['refusal_accuracy']:.3f} | {s['false_refusal_rate']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
