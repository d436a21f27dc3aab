"""Learn the refusal model's weights from questions generated from the corpus.

    python -m evals.learn --out service/qa/refusal_model.json

Every generated question (``evals/generate.py``: each fact and its near misses) is asked
through the real pipeline with the rules only; the evidence of those the rules let through
is what the model learns to weigh (``service/qa/refusal.py``). Folds hold out whole
documents, so the cross-validated numbers printed are for documents the weights never saw;
the threshold is chosen on those out-of-fold probabilities, then the weights are refitted on
every document. Tuning sets (never held-out ones) can be added with ``--set``.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from tqdm import tqdm

from evals.generate import document_of, generate
from evals.questions import Question, load_set
from index.store import load_index
from service.config import Settings
from service.qa.answerability import Synonyms
from service.qa.binding import Vocabulary, load_scopes
from service.qa.pipeline import QAPipeline
from service.qa.refusal import Evidence, RefusalModel


@dataclass
class Row:
    question: Question
    group: str
    evidence: Evidence | None
    rules_pass: bool
    cosine_answers: bool  # the decision by the single similarity threshold


def collect(questions: list[Question], groups: list[str], progress: bool = True) -> list[Row]:
    settings = Settings()
    data = load_index(settings.index_dir)
    params = replace(settings.pipeline_params(), refusal=None)
    pipeline = QAPipeline(settings.embedder(), params)
    rows = []
    for question, group in tqdm(list(zip(questions, groups)), desc="asking", disable=not progress, unit="q"):
        history = [(t.role, t.content) for t in question.history]
        _, assessment = pipeline.ask_with_assessment(data, question.question, history)
        rows.append(Row(question, group, assessment.evidence, assessment.rules_pass, assessment.answerable))
    return rows


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias on the features' own scales (standardised for fitting only)."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    model = LogisticRegression(class_weight="balanced", C=1.0).fit((x - mean) / std, y)
    weights = model.coef_[0] / std
    return weights, float(model.intercept_[0] - (weights * mean).sum())


def probabilities(x: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ weights + bias)))


def balanced(decisions: list[bool], labels: list[bool]) -> tuple[float, float]:
    """(refusal accuracy on unanswerable, false-refusal rate on answerable)."""
    una = [d for d, a in zip(decisions, labels) if not a]
    ans = [d for d, a in zip(decisions, labels) if a]
    return (1 - sum(una) / len(una) if una else float("nan"), 1 - sum(ans) / len(ans) if ans else float("nan"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="where to write the model (JSON); omitted: only report")
    parser.add_argument("--set", type=Path, action="append", default=[], help="a tuning set to learn from as well")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if any("heldout" in p.name or p.name == "related.jsonl" for p in args.set):
        print("refusing to learn from a held-out or reporting split", file=sys.stderr)
        return 2

    data = load_index(Settings().index_dir)
    generated = generate(data, Vocabulary(Synonyms.from_text(data.synonyms_text), load_scopes()), args.seed)
    questions, groups = list(generated), [document_of(q.id) for q in generated]
    for path in args.set:
        extra = load_set(path)
        questions += extra
        groups += [f"{path.stem}:{i % 5}" for i in range(len(extra))]  # tuning questions, in five folds of their own
    rows = collect(questions, groups, progress=not args.no_progress)

    usable = [r for r in rows if r.rules_pass and r.evidence is not None]
    x = np.array([r.evidence.vector() for r in usable])
    y = np.array([r.question.answerable for r in usable])
    group_ids = [r.group for r in usable]
    folds = min(len(set(group_ids)), 10)
    oof = np.zeros(len(usable))
    for train, test in GroupKFold(n_splits=folds).split(x, y, group_ids):
        weights, bias = fit(x[train], y[train])
        oof[test] = probabilities(x[test], weights, bias)

    # The threshold that best balances answering facts and refusing near misses over every
    # question (the rules' refusals included), out of fold.
    labels = [r.question.answerable for r in rows]
    def decisions(probability: dict[int, float], t: float) -> list[bool]:
        return [probability.get(id(r), 0.0) >= t for r in rows]
    def score(probability: dict[int, float], t: float) -> float:
        refusal, false_refusal = balanced(decisions(probability, t), labels)
        return (refusal + 1 - false_refusal) / 2
    candidates = np.round(np.arange(0.2, 0.81, 0.02), 2)
    out_of_fold = {id(r): float(p) for r, p in zip(usable, oof)}
    threshold = float(max(candidates, key=lambda t: (score(out_of_fold, t), -abs(t - 0.5))))

    print(f"{len(rows)} questions, {len(usable)} past the rules; {folds} folds by document\n")
    print("| questions | decision | answered (answerable) | refused (unanswerable) |")
    print("|---|---|---|---|")
    decided = {key: p >= threshold for key, p in out_of_fold.items()}
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_kind[r.question.type].append(r)
    for name, subset in [("all", rows), *sorted(by_kind.items())]:
        labels = [r.question.answerable for r in subset]
        for label, chosen in (("similarity ≥ min cosine", [r.cosine_answers for r in subset]),
                              ("rules + learned (out of fold)", [decided.get(id(r), False) for r in subset])):
            refusal, false_refusal = balanced(chosen, labels)
            answered = "" if false_refusal != false_refusal else f"{1 - false_refusal:.3f}"
            refused = "" if refusal != refusal else f"{refusal:.3f}"
            print(f"| {name} ({len(subset)}) | {label} | {answered} | {refused} |")

    weights, bias = fit(x, y)
    model = RefusalModel(dict(zip(Evidence.names(), (round(float(w), 4) for w in weights))), round(bias, 4), threshold,
                         trained_on=f"{len(usable)} questions generated from {len(set(groups))} documents"
                                    + (f" and {', '.join(p.name for p in args.set)}" if args.set else ""))
    print(f"\nweights {model.weights}, bias {model.bias}, threshold {model.threshold}")
    if args.out:
        model.save(args.out)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
