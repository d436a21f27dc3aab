"""The generative verifier against hand-labelled sentences, under the embedding configured now.

    python -m evals.verifier_labels --set evals/sets/heldout.jsonl --set evals/sets/related.jsonl

``evals/labels/verifier-labels.jsonl`` holds sentences the bundled LLM wrote, each labelled
supported or unsupported by a reviewer who saw only the question and the passages the model was
shown. No LLM runs here: each sentence is checked again by the verifier the pipeline builds
for its question today, so a change of embedding (the closeness check compares sentence
vectors) or of retrieval can be judged without writing anything again. Passages that are no
longer the ones the model was shown are counted, because a verdict on them is about other text.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from evals.questions import Question, load_set
from service.qa.verify import VerifyParams

DEFAULT_LABELS = Path(__file__).parent / "labels" / "verifier-labels.jsonl"


@dataclass(frozen=True)
class Label:
    id: str
    sentence: str
    supported: bool
    sources: dict[str, str]  # as the model was shown them, by number


@dataclass(frozen=True)
class Scores:
    min_cosine: float
    labelled: int
    same_sources: int  # items whose offered passages are still those the model was shown
    shown: int
    shown_supported: int
    supported: int
    unsupported_caught: int
    unsupported: int

    @property
    def precision(self) -> float | None:
        return self.shown_supported / self.shown if self.shown else None

    @property
    def recall(self) -> float | None:
        return self.shown_supported / self.supported if self.supported else None

    @property
    def caught(self) -> float | None:
        return self.unsupported_caught / self.unsupported if self.unsupported else None


def load_labels(path: Path) -> list[Label]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Label(r["id"], r["sentence"], r["label"] == "supported", r["sources"]) for r in rows]


@dataclass(frozen=True)
class Judged:
    label: Label
    same_sources: bool
    shown: dict[float, bool]  # by closeness threshold


def judge(pipeline, index, labels: list[Label], questions: dict[str, Question], thresholds: list[float]) -> list[Judged]:
    """Every sentence judged by the verifier of its own question, at each threshold."""
    out = []
    for label in labels:
        q = questions[label.id]
        sources, verifier = pipeline.verifier(index, q.question, [(t.role, t.content) for t in q.history])
        shown = {}
        for threshold in thresholds:
            verifier.params = VerifyParams(min_cosine=threshold)
            verdict = verifier.check(label.sentence)
            shown[threshold] = verdict is not None and verdict.ok
        out.append(Judged(label, {str(s.n): s.text for s in sources} == label.sources, shown))
    return out


def tally(judged: list[Judged], threshold: float) -> Scores:
    pairs = [(j.shown[threshold], j.label.supported) for j in judged]
    return Scores(threshold, len(judged), sum(j.same_sources for j in judged), sum(s for s, _ in pairs),
                  sum(s and g for s, g in pairs), sum(g for _, g in pairs), sum(not s and not g for s, g in pairs),
                  sum(not g for _, g in pairs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", dest="sets", type=Path, action="append", required=True,
                        help="question sets holding the labelled questions (with their history)")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--sweep", type=float, nargs="*", default=[],
                        help="more closeness thresholds to score beside the configured one")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here too")
    args = parser.parse_args(argv)

    from index.store import load_index
    from service.config import Settings
    from service.qa.pipeline import QAPipeline

    settings = Settings()
    index = load_index(settings.index_dir)
    pipeline = QAPipeline(settings.embedder(serving=True), settings.pipeline_params())
    questions = {q.id: q for path in args.sets for q in load_set(path)}
    labels = load_labels(args.labels)
    missing = sorted({label.id for label in labels} - questions.keys())
    if missing:
        parser.error(f"labelled questions not in the sets given: {', '.join(missing)}")
    thresholds = sorted({settings.verify_min_cosine, *args.sweep})
    judged = judge(pipeline, index, labels, questions, thresholds)
    same = [j for j in judged if j.same_sources]
    print(f"embedding: {pipeline.embedder.model_id}; {len(same)}/{len(judged)} items offered the passages the model "
          "was shown (the verdicts on the others are about other text)")
    print("| min cosine | precision | recall | unsupported caught | same passages only: precision / recall / caught |")
    print("|---|---|---|---|---|")
    rows = []
    for threshold in thresholds:
        r, s = tally(judged, threshold), tally(same, threshold)
        rows.append({"all": _payload(r), "same_sources": _payload(s)})
        mark = " (configured)" if threshold == settings.verify_min_cosine else ""
        print(f"| {threshold:.2f}{mark} | {_ratio(r.shown_supported, r.shown)} | {_ratio(r.shown_supported, r.supported)}"
              f" | {_ratio(r.unsupported_caught, r.unsupported)} | {_ratio(s.shown_supported, s.shown)} / "
              f"{_ratio(s.shown_supported, s.supported)} / {_ratio(s.unsupported_caught, s.unsupported)} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        items = [{"id": j.label.id, "supported": j.label.supported, "same_sources": j.same_sources,
                  "shown": {f"{t:.2f}": v for t, v in j.shown.items()}} for j in judged]
        args.out.write_text(json.dumps({"embedding": pipeline.embedder.model_id, "rows": rows, "items": items}, indent=2))
    return 0


def _payload(scores: Scores) -> dict:
    return dict(asdict(scores), precision=scores.precision, recall=scores.recall, caught=scores.caught)


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
